/* vae-overfit.c: TAP test of the float training loop: preset parameter
 * counts (groovae must be magenta's 4,085,019), BLAS against the naive
 * loops on a whole training step, then the tiny preset memorising 8
 * patterns to 100% hit accuracy within a fixed step budget, and decoding
 * them back from their latents. Patterns: the first 8 of data/train.rec
 * when it exists, else 8 synthetic grooves built here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "rec_pattern.h"
#include "rng.h"
#include "util.h"
#include "vae.h"

#include "tap.h"

#define NPAT 8
#define BUDGET 3000   /* optimizer steps allowed */
#define EXTRA 1500    /* steps after memorising, before decoding */

static void
param_counts(void)
{
	static const struct { const char *name; size_t want; } p[] = {
		{ "groovae", 4085019 },
		{ "hier", 0 },
		{ "tiny", 0 },
	};
	for (size_t i = 0; i < LEN(p); i++) {
		VaeConfig c;
		Vae m;
		int r = vae_config_preset(&c, p[i].name);
		const char *e = r ? "unknown preset" : vae_config_check(&c);
		if (e) {
			ok(0, "preset %s: %s", p[i].name, e);
			continue;
		}
		vae_layout(&m, &c);
		if (p[i].want)
			ok(m.nparams == p[i].want, "preset %s has %zu parameters in %zu tensors (magenta: %zu)",
			    p[i].name, m.nparams, m.ntensors, p[i].want);
		else
			ok(m.nparams > 0, "preset %s has %zu parameters in %zu tensors",
			    p[i].name, m.nparams, m.ntensors);
	}
	VaeConfig c;
	ok(vae_config_preset(&c, "nope") == -1, "unknown preset rejected");
	vae_config_preset(&c, "hier");
	c.bars = 3;
	ok(vae_config_check(&c) != NULL, "bars 3 x 16 steps rejected: %s", vae_config_check(&c));
}

/* 8 grooves: kick/snare/hats in different figures plus random extra hits;
 * accented downbeats, small offsets */
static void
synthetic(float *x, uint64_t *rng)
{
	memset(x, 0, (size_t)NPAT * VAE_T * VAE_O * sizeof *x);
	for (int p = 0; p < NPAT; p++)
		for (int t = 0; t < VAE_T; t++) {
			float *f = x + ((size_t)p * VAE_T + t) * VAE_O;
			int s = t % 16, on[VAE_C] = { 0 };
			on[0] = s == 0 || s == (p % 2 ? 10 : 8) || (p >= 4 && s == 6);
			on[1] = s == 4 || s == 12;
			on[2] = p % 3 == 0 ? s % 2 == 0 : p % 3 == 1 ? s % 4 == 0 : s % 4 == 2;
			on[3] = p == 5 && s == 14;
			on[4 + p % 5] = rng_uniform(rng) < 0.08f;
			for (int k = 0; k < VAE_C; k++)
				if (on[k]) {
					f[k] = 1;
					f[VAE_C + k] = 0.4f + 0.4f * (s % 4 == 0) + 0.05f * (p % 3);
					f[2 * VAE_C + k] = 0.05f * (k % 3) - 0.05f;
				}
		}
}

static int
real(float *x)
{
	FILE *f = fopen("data/train.rec", "rb");
	RecReader *r;
	Rec rec;
	static Pattern pat;
	int n = 0;

	if (!f)
		return 0;
	r = rec_reader_new(f, "data/train.rec");
	while (n < NPAT && rec_read(r, &rec) > 0)
		if (pattern_from_rec(&rec, &pat))
			memcpy(x + (size_t)n++ * VAE_T * VAE_O, pat.g, sizeof pat.g);
	rec_reader_free(r);
	fclose(f);
	return n == NPAT;
}

/* One training step in float with BLAS and with the naive loops. */
static void
blas_vs_naive(const float *x)
{
	VaeConfig c;
	Vae m;
	uint64_t rng = 5, r1 = 99, r2 = 99;
	VaeLoss l1, l2;
	Real *g1;
	double worst = 0, gmax = 0;
	size_t at = 0;

	vae_config_preset(&c, "tiny");
	c.keep = 0.5f;
	vae_layout(&m, &c);
	vae_alloc(&m, NULL, 1);
	vae_init_params(&m, &rng);
	for (size_t i = 0; i < m.nparams; i++)
		m.params[i] += 0.1f * (rng_uniform(&rng) - 0.5f);
	vae_forward_backward(&m, x, NPAT, &r1, &l1);
	g1 = emalloc(m.nparams * sizeof *g1);
	memcpy(g1, m.grads, m.nparams * sizeof *g1);
	nn_naive = 1;
	vae_forward_backward(&m, x, NPAT, &r2, &l2);
	nn_naive = 0;
	for (size_t i = 0; i < m.nparams; i++) {
		gmax = fmax(gmax, fabs(g1[i]));
		if (fabs(g1[i] - m.grads[i]) > worst)
			worst = fabs(g1[i] - m.grads[i]), at = i;
	}
	ok(fabs(l1.loss - l2.loss) < 1e-5 * fabs(l1.loss) && worst < 1e-4 * gmax,
	    "float step: BLAS loss %.6f vs naive %.6f; max grad diff %.3g at param %zu (max |g| %.3g)",
	    l1.loss, l2.loss, worst, at, gmax);
	free(g1);
	vae_free(&m);
}

/* Adam as TF: clip by global norm, bias-corrected rate, eps outside the
 * root; no step for a huge or non-finite norm. */
static void
adam(void)
{
	VaeConfig c;
	Vae m;
	double worst = 0;
	float lr, n;

	vae_config_preset(&c, "tiny");
	c.clip = 1, c.lr = 0.01f, c.lr_min = 0.001f, c.lr_decay = 0.5f;
	vae_layout(&m, &c);
	vae_alloc(&m, NULL, 1);
	for (size_t i = 0; i < m.nparams; i++)
		m.params[i] = 0.5f, m.grads[i] = (i % 2 ? 1.0f : -2.0f) * 2e-2f;  /* norm > clip */
	m.step = 1;
	n = vae_adam_step(&m, &lr);
	double gn = 2e-2 * sqrt((m.nparams / 2) * 4.0 + (m.nparams - m.nparams / 2));
	double wantlr = (0.01 - 0.001) * 0.5 + 0.001, sc = gn > 1 ? 1 / gn : 1;
	double lrt = wantlr * sqrt(1 - 0.999 * 0.999) / (1 - 0.9 * 0.9);
	for (size_t i = 0; i < m.nparams; i++) {
		double g = m.grads[i] * sc, mm = 0.1 * g, vv = 0.001 * g * g;
		double want = 0.5 - lrt * mm / (sqrt(vv) + 1e-8);
		worst = fmax(worst, fabs(m.params[i] - want));
	}
	ok(fabs(n - gn) < 1e-4 * gn && fabs(lr - wantlr) < 1e-7 && worst < 1e-6 && m.step == 2,
	    "adam: norm %.5f (want %.5f), lr %.6f (want %.6f), max param error %.3g, step %lld",
	    n, gn, lr, wantlr, worst, (long long)m.step);
	m.grads[3] = 2e4f;
	float before = m.params[0];
	n = vae_adam_step(&m, &lr);
	ok(n >= 1e4f && m.params[0] == before && m.step == 2, "adam: norm %.0f >= 1e4 takes no step", n);
	m.grads[3] = NAN;
	n = vae_adam_step(&m, &lr);
	ok(isnan(n) && m.params[0] == before && m.step == 2, "adam: NaN gradient takes no step");
	vae_free(&m);
}

int
main(void)
{
	static float x[NPAT * VAE_T * VAE_O], out[NPAT * VAE_T * VAE_O];
	float mu[NPAT * 64], sigma[NPAT * 64], lr;
	uint64_t rng = 1;
	VaeConfig c;
	Vae m;
	VaeLoss l = { 0 }, ev = { 0 };
	int step, isreal;
	const char *how;

	argv0 = "vae-overfit";
	param_counts();
	adam();
	isreal = real(x);
	if (!isreal)
		synthetic(x, &rng);
	how = isreal ? "8 patterns of data/train.rec" : "8 synthetic patterns";
	blas_vs_naive(x);

	vae_config_preset(&c, "tiny");
	c.keep = 1;
	c.lr = 1e-2f, c.lr_min = 1e-3f, c.lr_decay = 0.999f;
	ENSURE(c.z <= 64);
	vae_layout(&m, &c);
	vae_alloc(&m, NULL, 1);
	vae_init_params(&m, &rng);
	for (step = 0; step < BUDGET; step++) {
		vae_forward_backward(&m, x, NPAT, &rng, &l);
		vae_adam_step(&m, &lr);
		if (step % 50 == 49) {
			vae_eval(&m, x, NPAT, 0, &rng, &ev);
			if (ev.hit_acc == 1.0)
				break;
		}
	}
	ok(ev.hit_acc == 1.0, "tiny memorises %s: hit accuracy %.4f after %d of %d steps "
	    "(train loss %.3f, hits %.3f, vel %.3f, off %.3f, KL %.2f bits, lr %.2g)",
	    how, ev.hit_acc, step + 1, BUDGET, l.loss, l.hits, l.vel, l.off, l.kl_bits, lr);
	ok(m.step == step + 1 || m.step < step + 1, "optimizer took %lld steps", (long long)m.step);

	/* train on so velocities and offsets settle, then encode to mu and
	 * decode with temperature 0: the hits come back */
	for (int i = 0; i < EXTRA; i++) {
		vae_forward_backward(&m, x, NPAT, &rng, &l);
		vae_adam_step(&m, &lr);
	}
	vae_encode(&m, x, NPAT, mu, sigma);
	vae_decode(&m, mu, NPAT, 0, &rng, out);
	int same = 0, cells = NPAT * VAE_T * VAE_C, empty = 0;
	double verr = 0;
	int nv = 0;
	for (int i = 0; i < NPAT * VAE_T; i++)
		for (int k = 0; k < VAE_C; k++) {
			const float *a = x + (size_t)i * VAE_O, *b = out + (size_t)i * VAE_O;
			same += (a[k] > 0.5f) == (b[k] > 0.5f);
			empty += a[k] <= 0.5f;
			if (a[k] > 0.5f)
				verr += fabs(a[VAE_C + k] - b[VAE_C + k]), nv++;
		}
	/* autoregressive: fed-back velocity/offset errors may flip a few hits;
	 * an all-silent output would score `empty` */
	ok(same >= 0.97 * cells && same - empty > 0.8 * (cells - empty),
	    "encode+decode (temperature 0) reproduces %d of %d hit cells (silence would: %d); "
	    "mean |velocity error| on hits %.3f", same, cells, empty, nv ? verr / nv : 0);
	vae_free(&m);
	return done();
}
