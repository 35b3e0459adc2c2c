/* rec_pattern.c: read and write `pattern` records (see rec_pattern.h). */
#include <math.h>
#include <string.h>

#include "rec_pattern.h"
#include "util.h"

int
pattern_from_rec(Rec *rec, Pattern *p)
{
	int64_t steps, classes;

	if (strcmp(rec->kind, "pattern") != 0) {
		rec_seterr(rec, "kind", "is \"%s\", want \"pattern\"", rec->kind);
		return 0;
	}
	if (rec->v != 1) {
		rec_seterr(rec, "v", "pattern version %lld is not supported (this build reads 1)",
		    (long long)rec->v);
		return 0;
	}
	steps = rec_int(rec, "steps");
	classes = rec_int(rec, "classes");
	p->qpm = rec_num(rec, "qpm");
	if (!rec_ok(rec))
		return 0;
	if (steps != PAT_T || classes != PAT_C) {
		rec_seterr(rec, "steps", "shape %lld x %lld, want %d x %d",
		    (long long)steps, (long long)classes, PAT_T, PAT_C);
		return 0;
	}
	if (!(p->qpm > 0 && p->qpm < 1000)) {
		rec_seterr(rec, "qpm", "%g is not a tempo", p->qpm);
		return 0;
	}
	if (!rec_f32(rec, "groove", p->g, PAT_T * PAT_O))
		return 0;
	for (size_t i = 0; i < PAT_T * PAT_O; i++)
		if (!isfinite(p->g[i])) {
			rec_seterr(rec, "groove", "non-finite value at step %zu, column %zu",
			    i / PAT_O, i % PAT_O);
			return 0;
		}
	snprintf(p->id, sizeof(p->id), "%s", rec->id);
	return 1;
}

void
pattern_write(RecWriter *w, const Pattern *p, const Rec *src, FILE *out)
{
	static const char *const own[] = { "steps", "classes", "qpm", "groove", NULL };

	recw_begin(w, "pattern", 1, p->id);
	recw_int(w, "steps", PAT_T);
	recw_int(w, "classes", PAT_C);
	recw_f64(w, "qpm", p->qpm);
	recw_f32s(w, "groove", p->g, PAT_T * PAT_O);
	if (src)
		recw_copy_except(w, src, own);
	recw_end(w, out);
}
