/* vae-grad.c: TAP finite-difference check of the whole MusicVAE training
 * loss (encoder, posterior, KL with free bits, conductor, decoder, groove
 * loss) in double precision: lib/nn.c, lstm.c and vae.c are compiled here
 * with NN_DOUBLE. Flat and hierarchical decoders, stacked layers, dropout,
 * both losses and scheduled sampling; every tensor is checked. */
#define NN_DOUBLE 1
#include "../lib/nn.c"
#include "../lib/nn_packed.c"
#include "../lib/lstm.c"
#include "../lib/vae.c"
#undef T
#undef O
#undef C

#include <stdio.h>
#include <stdlib.h>

#include "tap.h"

/* B synthetic patterns: sparse hits, velocity and offset only on hits */
static void
patterns(float *x, int B, uint64_t *rng)
{
	for (int i = 0; i < B * VAE_T; i++)
		for (int k = 0; k < VAE_C; k++) {
			float *f = x + (size_t)i * VAE_O;
			int hit = rng_uniform(rng) < 0.25f;
			f[k] = hit;
			f[VAE_C + k] = hit ? 0.2f + 0.7f * rng_uniform(rng) : 0;
			f[2 * VAE_C + k] = hit ? rng_uniform(rng) - 0.5f : 0;
		}
}

static double
loss_at(Vae *m, const float *x, int B, uint64_t seed, VaeLoss *l)
{
	uint64_t r = seed;
	VaeLoss tmp;

	vae_forward_backward(m, x, B, &r, l ? l : &tmp);
	return l ? l->loss : tmp.loss;
}

/* Scheduled sampling feeds the decoder its own samples without a gradient
 * through them. The matching function for finite differences is the loss
 * with those input frames frozen: frames (T, B, O) holds at t-1 the input
 * of step t that the first run used; same RNG stream, so same masks/eps. */
static Real *frozen;

static double
frozen_loss(Vae *m, const float *x, int B, uint64_t seed)
{
	uint64_t r = seed;
	Ws *w = ws_get(m, B, PK_ENC | PK_DEC | PK_STEPS);
	VaeLoss l;

	load_input(w, x, B);
	enc_forward(m, w, B, 1, &r);
	post_forward(m, w, B, 1, &r);
	if (m->cfg.hier)
		cond_forward(m, w, B, 1, &r);
	dinit_forward(m, w, B);
	dec_forward_steps(m, w, B, 1, 0.0, 1.0f, frozen, &r);
	loss_forward(m, w, B, 0, &l);
	return l.loss;
}

static double
eval_loss(Vae *m, const float *x, int B, uint64_t seed)
{
	return frozen ? frozen_loss(m, x, B, seed) : loss_at(m, x, B, seed, NULL);
}

static void
check_config(const char *name, const VaeConfig *cfg, int64_t step)
{
	enum { B = 3, PER = 14 };
	Vae m;
	float *x = emalloc((size_t)B * VAE_T * VAE_O * sizeof *x);
	uint64_t rng = 777, seed = 4242;
	Real *g;
	VaeLoss l;
	const double h = 1e-3;

	vae_layout(&m, cfg);
	vae_alloc(&m, NULL, 1);
	vae_init_params(&m, &rng);  /* exercised, then replaced by larger values */
	for (size_t i = 0; i < m.nparams; i++)
		m.params[i] = 0.3 * (2.0 * rng_uniform(&rng) - 1.0);
	m.step = step;
	patterns(x, B, &rng);
	loss_at(&m, x, B, seed, &l);
	ok(isfinite(l.loss) && l.loss >= l.r_loss && fabs(l.r_loss - (l.hits + l.vel + l.off)) < 1e-9 * l.r_loss,
	    "%s: loss %.6f >= r_loss %.6f = hits %.4f + vel %.4f + off %.4f; KL %.3f bits",
	    name, l.loss, l.r_loss, l.hits, l.vel, l.off, l.kl_bits);
	g = emalloc(m.nparams * sizeof *g);
	memcpy(g, m.grads, m.nparams * sizeof *g);
	frozen = NULL;
	if (vae_sched_prob(cfg, step) > 0) {
		Ws *w = m.ws;
		size_t row = VAE_O + w->E;
		ENSURE(cfg->keep == 1);
		frozen = ecalloc((size_t)VAE_T * B * VAE_O, sizeof *frozen);
		for (size_t r = B; r < (size_t)VAE_T * B; r++)
			memcpy(frozen + (r - B) * VAE_O, w->ad[0].x + r * row, VAE_O * sizeof(Real));
	}
	for (size_t ti = 0; ti < m.ntensors; ti++) {
		VaeTensor *t = &m.t[ti];
		size_t n = (size_t)t->rows * t->cols;
		double worst = 0, wa = 0, wn = 0, gmax = 0;
		size_t at = 0;
		int cnt = n < PER ? (int)n : PER;
		for (int j = 0; j < cnt; j++) {
			size_t i = t->off + (j == 0 ? 0 : j == 1 ? n - 1 : rng_below(&rng, n));
			/* five-point stencil: error O(h^4) */
			Real save = m.params[i];
			double f[4], d[4] = { h, -h, 2 * h, -2 * h };
			for (int k = 0; k < 4; k++) {
				m.params[i] = save + d[k];
				f[k] = eval_loss(&m, x, B, seed);
			}
			m.params[i] = save;
			double num = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * h);
			double err = fabs(num - g[i]) / fmax(fabs(num) + fabs(g[i]), 1e-4);
			gmax = fmax(gmax, fabs(g[i]));
			if (err > worst)
				worst = err, at = i - t->off, wa = g[i], wn = num;
		}
		ok(worst < 1e-4, "%s: %-18s %3d of %6zu, max rel err %.2g at [%zu] (analytic %.9g, numeric %.9g; max |g| %.3g)",
		    name, t->name, cnt, n, worst, at, wa, wn, gmax);
	}
	free(g);
	free(frozen);
	frozen = NULL;
	free(x);
	vae_free(&m);
}

/* The three decoder paths agree without dropout: teacher forcing layer by
 * layer with the embedding projected once (eval), with the embedding in
 * every input row (training, keep 1), and step by step (decode). */
static void
check_paths(const char *name, const VaeConfig *cfg)
{
	enum { B = 2 };
	Vae m;
	float x[B * VAE_T * VAE_O];
	uint64_t rng = 31, r = 5;
	size_t n = (size_t)VAE_T * B * VAE_O;
	Real *l1 = emalloc(n * sizeof *l1), *l2 = emalloc(n * sizeof *l2);
	double d12 = 0, d13 = 0;
	Ws *w;

	vae_layout(&m, cfg);
	vae_alloc(&m, NULL, 1);
	for (size_t i = 0; i < m.nparams; i++)
		m.params[i] = 0.3 * (2.0 * rng_uniform(&rng) - 1.0);
	patterns(x, B, &rng);
	w = ws_get(&m, B, PK_ENC | PK_DEC | PK_STEPS);
	load_input(w, x, B);
	enc_forward(&m, w, B, 0, &r);
	post_forward(&m, w, B, 0, &r);
	if (m.cfg.hier)
		cond_forward(&m, w, B, 0, &r);
	dinit_forward(&m, w, B);
	dec_forward_tf(&m, w, B, 0, &r);
	memcpy(l1, w->logits, n * sizeof *l1);
	m.cfg.keep = 1;
	dec_forward_tf(&m, w, B, 1, &r);
	memcpy(l2, w->logits, n * sizeof *l2);
	for (size_t i = 0; i < n; i++)
		d12 = fmax(d12, fabs(l1[i] - l2[i]));
	dec_forward_steps(&m, w, B, 0, 0.0, 1.0f, w->xin, &r);
	for (size_t i = 0; i < n; i++)
		d13 = fmax(d13, fabs(l1[i] - w->logits[i]));
	ok(d12 < 1e-12 && d13 < 1e-12, "%s: decoder logits agree: eval path vs training path %.3g, "
	    "vs step-by-step %.3g", name, d12, d13);
	free(l1), free(l2);
	vae_free(&m);
}

static VaeConfig
base(int hier)
{
	VaeConfig c;

	vae_config_preset(&c, "tiny");
	c.hier = hier;
	c.enc_h = 6, c.enc_layers = 1;
	c.dec_h = 5, c.dec_layers = 2;
	c.cond_h = 7, c.cond_layers = 2;
	c.z = 4;
	c.keep = 1;
	c.free_bits = 0;
	c.beta = 0.7f;
	return c;
}

int
main(void)
{
	VaeConfig c;

	argv0 = "vae-grad";
	c = base(0);
	check_paths("flat", &c);
	c = base(1);
	check_paths("hier", &c);
	c = base(0);
	check_config("flat", &c, 0);
	c = base(1);
	check_config("hier", &c, 0);
	c = base(1);
	c.enc_layers = 2, c.cond_layers = 1, c.dec_layers = 1, c.keep = 0.6f;
	c.loss = VAE_LOSS_BALANCED;
	check_config("hier 2-layer enc, dropout, balanced", &c, 0);
	c = base(0);
	c.enc_layers = 2, c.dec_layers = 3, c.keep = 0.5f, c.free_bits = 1;
	check_config("flat 2-layer enc, 3-layer dec, dropout, free bits", &c, 0);
	c = base(0);
	c.sched_k = 2;
	check_config("flat scheduled sampling", &c, 2);
	c = base(1);
	c.sched_k = 2, c.bars = 2, c.steps_per_bar = 32, c.loss = VAE_LOSS_BALANCED;
	check_config("hier 2 bars, scheduled sampling, balanced", &c, 2);
	return done();
}
