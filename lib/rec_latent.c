/* rec_latent.c: read and write `latent` records (see rec_latent.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rec_latent.h"
#include "util.h"

const char *const latent_keys[] = {
	"zdim", "qpm", "mu", "sigma", "z", "steps", "classes", "groove", NULL
};

void
latent_init(Latent *l)
{
	memset(l, 0, sizeof(*l));
}

void
latent_free(Latent *l)
{
	free(l->mu);
	free(l->sigma);
	free(l->z);
	latent_init(l);
}

void
latent_alloc(Latent *l, int zdim)
{
	ENSURE(zdim >= 1 && zdim <= LAT_MAX_Z);
	if (zdim > l->cap) {
		l->mu = ereallocarray(l->mu, zdim, sizeof(float));
		l->sigma = ereallocarray(l->sigma, zdim, sizeof(float));
		l->z = ereallocarray(l->z, zdim, sizeof(float));
		l->cap = zdim;
	}
	l->zdim = zdim;
}

static int
check_finite(Rec *rec, const char *key, const float *a, int n, int nonneg)
{
	for (int i = 0; i < n; i++)
		if (!isfinite(a[i]) || (nonneg && a[i] < 0)) {
			rec_seterr(rec, key, "%s value %g at index %d",
			    isfinite(a[i]) ? "negative" : "non-finite", a[i], i);
			return 0;
		}
	return 1;
}

int
latent_from_rec(Rec *rec, Latent *l)
{
	int64_t zdim;
	double qpm;

	if (strcmp(rec->kind, "latent") != 0) {
		rec_seterr(rec, "kind", "is \"%s\", want \"latent\"", rec->kind);
		return 0;
	}
	if (rec->v != 1) {
		rec_seterr(rec, "v", "latent version %lld is not supported (this build reads 1)",
		    (long long)rec->v);
		return 0;
	}
	zdim = rec_int(rec, "zdim");
	qpm = rec_num(rec, "qpm");
	if (!rec_ok(rec))
		return 0;
	if (zdim < 1 || zdim > LAT_MAX_Z) {
		rec_seterr(rec, "zdim", "%lld is out of range 1..%d", (long long)zdim, LAT_MAX_Z);
		return 0;
	}
	if (!(qpm > 0 && qpm < 1000)) {
		rec_seterr(rec, "qpm", "%g is not a tempo", qpm);
		return 0;
	}
	latent_alloc(l, (int)zdim);
	l->qpm = qpm;
	if (!rec_f32(rec, "mu", l->mu, l->zdim) ||
	    !rec_f32(rec, "sigma", l->sigma, l->zdim) ||
	    !rec_f32(rec, "z", l->z, l->zdim))
		return 0;
	if (!check_finite(rec, "mu", l->mu, l->zdim, 0) ||
	    !check_finite(rec, "sigma", l->sigma, l->zdim, 1) ||
	    !check_finite(rec, "z", l->z, l->zdim, 0))
		return 0;
	snprintf(l->id, sizeof(l->id), "%s", rec->id);
	return 1;
}

void
latent_begin(RecWriter *w, const Latent *l)
{
	ENSURE(l->zdim >= 1 && l->zdim <= LAT_MAX_Z);
	recw_begin(w, "latent", 1, l->id);
	recw_int(w, "zdim", l->zdim);
	recw_f64(w, "qpm", l->qpm);
	recw_f32s(w, "mu", l->mu, l->zdim);
	recw_f32s(w, "sigma", l->sigma, l->zdim);
	recw_f32s(w, "z", l->z, l->zdim);
}

void
latent_write(RecWriter *w, const Latent *l, const Rec *src, FILE *out)
{
	latent_begin(w, l);
	if (src)
		recw_copy_except(w, src, latent_keys);
	recw_end(w, out);
}
