/* grid.c: quantization arithmetic, tempo maps and the grid record reader
 * (see grid.h). The single-tempo paths evaluate exactly magenta's float
 * expressions, so steps and offsets match it bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grid.h"
#include "util.h"

double
grid_sps(double qpm)
{
	return GRID_SPQ * qpm / 60.0;
}

int64_t
grid_step(double t, double sps)
{
	return (int64_t)floor(t * sps + 0.5);
}

double
grid_offset(double t, int64_t step, double qpm)
{
	double step_len = 60.0 / qpm / GRID_SPQ;
	double diff = step_len * (double)step - t;

	return diff / step_len * 2;
}

int
tempo_init(TempoMap *m, size_t ntempo, const double *s, const double *qpm,
    char *msg, size_t msgsz)
{
	m->n = 1;
	m->s[0] = 0;
	m->qpm[0] = 120;
	m->steps[0] = 0;
	if (ntempo > GRID_MAX_TEMPI - 1) {
		snprintf(msg, msgsz, "%zu tempo events, more than %d", ntempo, GRID_MAX_TEMPI - 1);
		return 0;
	}
	for (size_t i = 0; i < ntempo; i++) {
		size_t k = m->n - 1;

		if (!isfinite(s[i]) || s[i] < 0 || (i && s[i] < s[i - 1])) {
			snprintf(msg, msgsz, "tempo %zu: time %g is not finite, >= 0 and in order", i, s[i]);
			return 0;
		}
		if (!(qpm[i] >= 1 && qpm[i] < 1000)) {
			snprintf(msg, msgsz, "tempo %zu: %g qpm is not a tempo", i, qpm[i]);
			return 0;
		}
		if (s[i] == m->s[k]) {
			m->qpm[k] = qpm[i];  /* a later event at the same time wins */
			if (k > 0 && m->qpm[k] == m->qpm[k - 1])
				m->n--;
			continue;
		}
		if (qpm[i] == m->qpm[k])
			continue;        /* a repeat is no change */
		m->s[m->n] = s[i];
		m->qpm[m->n] = qpm[i];
		m->steps[m->n] = m->steps[k] + (s[i] - m->s[k]) * grid_sps(m->qpm[k]);
		m->n++;
	}
	return 1;
}

size_t
grid_last_le(const double *a, size_t n, double x)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (a[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

size_t
tempo_segment(const TempoMap *m, double t)
{
	return grid_last_le(m->s, m->n, t);
}

int64_t
tempo_step(const TempoMap *m, double t)
{
	size_t j = tempo_segment(m, t);

	return (int64_t)floor(m->steps[j] + (t - m->s[j]) * grid_sps(m->qpm[j]) + 0.5);
}

static size_t
step_segment(const TempoMap *m, int64_t step)
{
	return grid_last_le(m->steps, m->n, (double)step);
}

double
tempo_step_time(const TempoMap *m, int64_t step)
{
	size_t j = step_segment(m, step);
	double step_len = 60.0 / m->qpm[j] / GRID_SPQ;

	return m->s[j] + step_len * ((double)step - m->steps[j]);
}

double
tempo_offset(const TempoMap *m, double t, int64_t step)
{
	size_t j = step_segment(m, step);
	double step_len = 60.0 / m->qpm[j] / GRID_SPQ;
	double diff = m->s[j] + step_len * ((double)step - m->steps[j]) - t;

	return diff / step_len * 2;
}

size_t
tempo_changes_in(const TempoMap *m, double t0, double t1)
{
	size_t a = grid_last_le(m->s, m->n, t0), b = grid_last_le(m->s, m->n, t1);

	if (b > 0 && m->s[b] == t1)
		b--;  /* a change at t1 itself is not inside */
	return b > a ? b - a : 0;
}

const char *const grid_note_keys[] = {
	"n", "step", "offset", "on_s", "off_s", "pitch", "velocity", "channel",
	"class", NULL,
};


void
grid_free(Grid *g)
{
	free(g->step);
	free(g->offset);
	free(g->on_s);
	free(g->off_s);
	free(g->pitch);
	free(g->velocity);
	free(g->cls);
	free(g->tempo);
	memset(g, 0, sizeof(*g));
}

/* Tempo map of the record: its notes' tempo_s/tempo_qpm when present (quantize
 * copies them through), else its qpm from t = 0. */
static int
read_tempo(Rec *rec, Grid *g)
{
	size_t nt = 0;
	double *s = NULL, *q = NULL;
	char msg[160];
	int ok = 1;

	if (rec_has(rec, "tempo_s") && rec_has(rec, "tempo_qpm")) {
		int64_t n = rec_has(rec, "ntempo") ? rec_int(rec, "ntempo") : -1;
		const msgpack_object *o = rec_obj(rec, "tempo_s");

		if (n < 0 && o && o->type == MSGPACK_OBJECT_BIN)
			n = o->via.bin.size / 8;
		if (!rec_ok(rec))
			return 0;
		if (n < 0 || n >= GRID_MAX_TEMPI) {
			rec_seterr(rec, "ntempo", "%lld tempo events, want 0 to %d", (long long)n,
			    GRID_MAX_TEMPI - 1);
			return 0;
		}
		nt = (size_t)n;
		if (!rec_bin_ok(rec, "tempo_s", nt, 8) || !rec_bin_ok(rec, "tempo_qpm", nt, 8))
			return 0;
		s = emalloc(nt * 8);
		q = emalloc(nt * 8);
		rec_f64(rec, "tempo_s", s, nt);
		rec_f64(rec, "tempo_qpm", q, nt);
	} else {
		nt = 1;
		s = emalloc(8);
		q = emalloc(8);
		s[0] = 0;
		q[0] = g->qpm;
	}
	g->tempo = emalloc(sizeof(*g->tempo));
	if (!tempo_init(g->tempo, nt, s, q, msg, sizeof(msg))) {
		rec_seterr(rec, "tempo_qpm", "%s", msg);
		ok = 0;
	}
	free(s);
	free(q);
	return ok;
}

int
grid_from_rec(Rec *rec, Grid *g, int need_class)
{
	static const struct { const char *key; size_t size; } bins[] = {
		{ "step", 4 }, { "offset", 4 }, { "on_s", 8 }, { "off_s", 8 },
		{ "pitch", 1 }, { "velocity", 1 },
	};
	int64_t n;

	memset(g, 0, sizeof(*g));
	if (strcmp(rec->kind, "grid") != 0) {
		rec_seterr(rec, "kind", "is \"%s\", want \"grid\" (made by quantize)", rec->kind);
		return 0;
	}
	if (rec->v != 1) {
		rec_seterr(rec, "v", "grid version %lld is not supported (this build reads 1)",
		    (long long)rec->v);
		return 0;
	}
	g->qpm = rec_num(rec, "qpm");
	g->end_s = rec_num(rec, "end_s");
	g->spq = rec_int(rec, "spq");
	g->spb = rec_int(rec, "spb");
	g->ts_num = rec_int(rec, "ts_num");
	g->ts_den = rec_int(rec, "ts_den");
	g->total_steps = rec_int(rec, "total_steps");
	n = rec_int(rec, "n");
	g->tpq = rec_has(rec, "tpq") ? rec_int(rec, "tpq") : 0;
	if (!rec_ok(rec))
		return 0;
	if (!(g->qpm > 0 && g->qpm < 1000)) {
		rec_seterr(rec, "qpm", "%g is not a tempo", g->qpm);
		return 0;
	}
	if (g->spq != GRID_SPQ) {
		rec_seterr(rec, "spq", "%lld steps per quarter, this build handles %d",
		    (long long)g->spq, GRID_SPQ);
		return 0;
	}
	if (g->spb <= 0 || g->spb > 16 * 255 || g->ts_num <= 0 || g->ts_num > 255 ||
	    g->ts_den <= 0 || g->ts_den > 255) {
		rec_seterr(rec, "spb", "bar of %lld steps in %lld/%lld is out of range",
		    (long long)g->spb, (long long)g->ts_num, (long long)g->ts_den);
		return 0;
	}
	if (!isfinite(g->end_s) || g->end_s < 0 || g->end_s > 1e6) {
		rec_seterr(rec, "end_s", "%g is not a time in seconds", g->end_s);
		return 0;
	}
	if (n < 0 || (uint64_t)n > REC_MAX_BYTES) {
		rec_seterr(rec, "n", "%lld notes is out of range", (long long)n);
		return 0;
	}
	g->n = (size_t)n;
	for (size_t i = 0; i < LEN(bins); i++)
		if (!rec_bin_ok(rec, bins[i].key, g->n, bins[i].size))
			return 0;
	if (need_class && !rec_has(rec, "class")) {
		rec_seterr(rec, "class", "missing: give the notes drum classes with drumclass first");
		return 0;
	}
	if (rec_has(rec, "class") && !rec_bin_ok(rec, "class", g->n, 1))
		return 0;
	/* every payload was checked against n: allocation follows the input size */
	g->step = emalloc(g->n * 4);
	g->offset = emalloc(g->n * 4);
	g->on_s = emalloc(g->n * 8);
	g->off_s = emalloc(g->n * 8);
	g->pitch = emalloc(g->n);
	g->velocity = emalloc(g->n);
	rec_i32(rec, "step", g->step, g->n);
	rec_f32(rec, "offset", g->offset, g->n);
	rec_f64(rec, "on_s", g->on_s, g->n);
	rec_f64(rec, "off_s", g->off_s, g->n);
	rec_u8(rec, "pitch", g->pitch, g->n);
	rec_u8(rec, "velocity", g->velocity, g->n);
	if (rec_has(rec, "class")) {
		g->cls = emalloc(g->n);
		rec_u8(rec, "class", g->cls, g->n);
	}
	if (!rec_ok(rec) || !read_tempo(rec, g))
		goto bad;
	for (size_t i = 0; i < g->n; i++) {
		if (!isfinite(g->on_s[i]) || !isfinite(g->off_s[i]) || g->on_s[i] < 0 ||
		    g->off_s[i] < 0 || g->on_s[i] > 1e6 || g->off_s[i] > 1e6) {
			rec_seterr(rec, "on_s", "note %zu: time %g..%g is not in 0..1e6 s", i,
			    g->on_s[i], g->off_s[i]);
			goto bad;
		}
		if (g->step[i] < 0 || g->step[i] > GRID_MAX_STEP || !isfinite(g->offset[i])) {
			rec_seterr(rec, "step", "note %zu: step %d offset %g out of range (step 0..%d)",
			    i, (int)g->step[i], g->offset[i], GRID_MAX_STEP);
			goto bad;
		}
		if (g->pitch[i] > 127 || g->velocity[i] > 127) {
			rec_seterr(rec, "pitch", "note %zu: pitch %u velocity %u not in 0..127", i,
			    g->pitch[i], g->velocity[i]);
			goto bad;
		}
		if (g->cls && g->cls[i] >= 9) {
			rec_seterr(rec, "class", "note %zu: class %u not in 0..8", i, g->cls[i]);
			goto bad;
		}
	}
	return 1;
bad:
	grid_free(g);
	return 0;
}
