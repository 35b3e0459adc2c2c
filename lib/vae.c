/* vae.c: MusicVAE for grooves (vae.h): presets, the parameter table,
 * initialisation, forward/backward of encoder, posterior, conductor and
 * decoder, the groove loss with KL and free bits, Adam, encode and decode.
 * Activations are time-major (T, B, .); maths in REFERENCE.md section 6. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lstm.h"
#include "rng.h"
#include "util.h"
#include "vae.h"

#define T VAE_T
#define O VAE_O
#define C VAE_C
#define ML VAE_MAX_LAYERS

typedef struct {
	int I, Od;          /* input, output sizes */
	const Real *W, *b;       /* (I, O), (O) */
	Real *dW, *db;
} Dense;

/* Views of the parameter table plus activations for up to cap examples. */
typedef struct {
	int cap, train;
	Real *buf;
	unsigned char *mbuf;
	/* parameters */
	Lstm ef[ML], eb[ML], cd[ML], dd[ML];
	Dense mu, sg, ci, di, out;
	/* sizes */
	int U, S, E;                     /* bottom segments, steps each, embedding size */
	/* activations */
	LstmActs aef[ML], aeb[ML], ac[ML], ad[ML];
	unsigned char *mef[ML], *meb[ML], *mc[ML], *md[ML]; /* (T, B, I) dropout masks */
	Real *xin;                       /* (T, B, O) input, time-major */
	Real *enc, *denc;                /* (B, 2He) */
	Real *mu_, *sp, *sigma, *eps, *z; /* (B, Z) */
	Real *dmu, *dsp, *dz;            /* (B, Z) */
	Real *cinit, *dcinit;            /* (B, 2 Lc Hc) */
	Real *dinit, *ddinit;            /* (U, B, 2 Ld Hd) */
	Real *eproj;                     /* (U, B, 4Hd) embedding part of dec layer 0 */
	Real *logits, *dlogits;          /* (T, B, O) */
	Real *smp;                       /* (T, B, O) frames sampled from logits */
	Real *dx1, *dx2;                 /* (T, B, maxI) scratch */
	int zsampled;
	NnPacked pk[4][ML][3];           /* kernels packed (enc fw, enc bw, cond,
	                                  * dec): W_h, W_h^T, W_x (see pack_one) */
} Ws;

/* ---- configuration ---- */

int
vae_config_preset(VaeConfig *c, const char *name)
{
	memset(c, 0, sizeof *c);
	c->enc_h = 512, c->enc_layers = 1;
	c->dec_h = 256, c->dec_layers = 2;
	c->cond_h = 256, c->cond_layers = 2;
	c->z = 256;
	c->bars = 4, c->steps_per_bar = 16;
	c->free_bits = 48, c->beta = 0.2f;
	c->keep = 0.3f;
	c->lr = 1e-3f, c->lr_min = 1e-5f, c->lr_decay = 0.9999f, c->clip = 1.0f;
	c->loss = VAE_LOSS_MAGENTA;
	c->sched_k = 0;
	if (strcmp(name, "groovae") == 0) {
		c->hier = 0;
		c->cond_h = 0, c->cond_layers = 0;
	} else if (strcmp(name, "hier") == 0) {
		c->hier = 1;
	} else if (strcmp(name, "tiny") == 0) {
		c->hier = 1;
		c->enc_h = 16, c->dec_h = 16, c->cond_h = 16, c->z = 8;
	} else {
		return -1;
	}
	snprintf(c->preset, sizeof c->preset, "%s", name);
	return 0;
}

const char *
vae_config_check(const VaeConfig *c)
{
	if (c->enc_h < 1 || c->enc_h > 4096 || c->dec_h < 1 || c->dec_h > 4096)
		return "unit counts must be 1..4096";
	if (c->enc_layers < 1 || c->enc_layers > ML || c->dec_layers < 1 || c->dec_layers > ML)
		return "layer counts must be 1..4";
	if (c->hier && (c->cond_h < 1 || c->cond_h > 4096 || c->cond_layers < 1 ||
	    c->cond_layers > ML))
		return "conductor needs 1..4096 units and 1..4 layers";
	if (c->z < 1 || c->z > 4096)
		return "z must be 1..4096";
	if (c->bars < 1 || c->steps_per_bar < 1 || c->bars * c->steps_per_bar != VAE_T)
		return "bars * steps_per_bar must be 64";
	if (!(c->keep > 0 && c->keep <= 1))
		return "keep must be in (0, 1]";
	if (!(c->free_bits >= 0) || !(c->beta >= 0))
		return "free_bits and beta must be >= 0";
	if (!(c->lr > 0) || !(c->lr_min >= 0) || !(c->lr_decay > 0 && c->lr_decay <= 1) ||
	    !(c->clip > 0))
		return "need lr > 0, lr_min >= 0, 0 < lr_decay <= 1, clip > 0";
	if (c->loss != VAE_LOSS_MAGENTA && c->loss != VAE_LOSS_BALANCED)
		return "unknown loss";
	if (!(c->sched_k >= 0) || (c->sched_k > 0 && c->sched_k < 1))
		return "sched_k must be 0 or >= 1";
	return NULL;
}

double
vae_sched_prob(const VaeConfig *c, int64_t step)
{
	double k = c->sched_k;

	if (k <= 0)
		return 0;
	return 1 - k / (k + exp((double)step / k));
}

/* ---- parameter table ---- */

static void
add(Vae *m, const char *name, int rows, int cols)
{
	VaeTensor *t;

	ENSURE(m->ntensors < VAE_MAX_TENSORS);
	t = &m->t[m->ntensors++];
	snprintf(t->name, sizeof t->name, "%s", name);
	t->rows = rows, t->cols = cols;
	t->off = m->nparams;
	m->nparams += (size_t)rows * cols;
}

static void
add_lstm(Vae *m, const char *pre, int I, int H)
{
	char s[48];

	snprintf(s, sizeof s, "%s/kernel", pre);
	add(m, s, I + H, 4 * H);
	snprintf(s, sizeof s, "%s/bias", pre);
	add(m, s, 4 * H, 1);
}

static void
add_dense(Vae *m, const char *pre, int I, int Od)
{
	char s[48];

	snprintf(s, sizeof s, "%s/kernel", pre);
	add(m, s, I, Od);
	snprintf(s, sizeof s, "%s/bias", pre);
	add(m, s, Od, 1);
}

void
vae_layout(Vae *m, const VaeConfig *c)
{
	char s[48];
	int E = c->hier ? c->cond_h : c->z;

	ENSURE(vae_config_check(c) == NULL);
	memset(m, 0, sizeof *m);
	m->cfg = *c;
	for (int l = 0; l < c->enc_layers; l++) {
		int I = l ? 2 * c->enc_h : O;
		snprintf(s, sizeof s, "enc/fw/%d", l);
		add_lstm(m, s, I, c->enc_h);
		snprintf(s, sizeof s, "enc/bw/%d", l);
		add_lstm(m, s, I, c->enc_h);
	}
	add_dense(m, "enc/mu", 2 * c->enc_h, c->z);
	add_dense(m, "enc/sigma", 2 * c->enc_h, c->z);
	if (c->hier) {
		add_dense(m, "cond/init", c->z, 2 * c->cond_layers * c->cond_h);
		for (int l = 0; l < c->cond_layers; l++) {
			snprintf(s, sizeof s, "cond/%d", l);
			add_lstm(m, s, l ? c->cond_h : 1, c->cond_h);
		}
	}
	add_dense(m, "dec/init", E, 2 * c->dec_layers * c->dec_h);
	for (int l = 0; l < c->dec_layers; l++) {
		snprintf(s, sizeof s, "dec/%d", l);
		add_lstm(m, s, l ? c->dec_h : O + E, c->dec_h);
	}
	add_dense(m, "dec/out", c->dec_h, O);
}

int
vae_tensor(const Vae *m, const char *name)
{
	for (size_t i = 0; i < m->ntensors; i++)
		if (strcmp(m->t[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* 64-byte aligned floats; zeroed only when asked (the workspace is always
 * written before it is read, and untouched pages cost nothing). Buffers of
 * 4 MiB and more are 2 MiB aligned and asked for transparent huge pages:
 * a decode touches ~70 MB, and 4 KiB page faults cost a third of its time. */
static Real *
aligned(size_t n, int zero)
{
	const size_t huge = (size_t)2 << 20;
	size_t bytes = ((n * sizeof(Real)) + 63) & ~(size_t)63;
	int big = bytes >= 2 * huge;
	Real *p;

	if (big)
		bytes = (bytes + huge - 1) & ~(huge - 1);
	p = aligned_alloc(big ? huge : 64, bytes ? bytes : 64);
	if (!p)
		die(1, "out of memory (%zu bytes):", bytes);
#ifdef MADV_HUGEPAGE
	if (big)
		madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure is fine */
#endif
	if (zero)
		memset(p, 0, bytes);
	return p;
}

static void
ws_free(Ws *w)
{
	if (!w)
		return;
	for (int i = 0; i < 4; i++)
		for (int l = 0; l < ML; l++) {
			for (int k = 0; k < 3; k++)
				nn_packed_free(&w->pk[i][l][k]);
		}
	free(w->buf);
	free(w->mbuf);
	free(w);
}

void
vae_alloc(Vae *m, Real *params, int train)
{
	m->own_params = !params;
	m->params = params ? params : aligned(m->nparams, 1);
	if (train) {
		m->grads = aligned(m->nparams, 1);
		m->m = aligned(m->nparams, 1);
		m->v = aligned(m->nparams, 1);
	}
	m->ws = NULL;
}

void
vae_free(Vae *m)
{
	ws_free(m->ws);
	m->ws = NULL;
	free(m->grads);
	free(m->m);
	free(m->v);
	m->grads = m->m = m->v = NULL;
	if (m->own_params)
		free(m->params);
	m->params = NULL;
	m->own_params = 0;
}

void
vae_init_params(Vae *m, uint64_t *rng)
{
	for (size_t i = 0; i < m->ntensors; i++) {
		VaeTensor *t = &m->t[i];
		Real *p = m->params + t->off;
		size_t n = (size_t)t->rows * t->cols;
		const char *base = strrchr(t->name, '/') + 1;

		if (strcmp(base, "bias") == 0) {
			memset(p, 0, n * sizeof *p);
		} else if (!strncmp(t->name, "enc/mu/", 7) || !strncmp(t->name, "enc/sigma/", 10) ||
		    strstr(t->name, "/init/")) {
			for (size_t j = 0; j < n; j++)
				p[j] = (Real)(0.001 * rng_normal(rng));
		} else {
			double lim = sqrt(6.0 / (t->rows + t->cols));
			for (size_t j = 0; j < n; j++)
				p[j] = (Real)(lim * (2.0 * rng_uniform(rng) - 1.0));
		}
	}
}

/* ---- workspace ---- */

/* A cursor over one buffer: a NULL base only counts. */
typedef struct {
	Real *base;
	size_t n;
	unsigned char *mbase;
	size_t nm;
} Cur;

static Real *
take(Cur *c, size_t n)
{
	Real *r = c->base ? c->base + c->n : NULL;

	c->n += (n + 15) & ~(size_t)15;
	return r;
}

static unsigned char *
takem(Cur *c, size_t n)
{
	unsigned char *r = c->mbase ? c->mbase + c->nm : NULL;

	c->nm += n;
	return r;
}

static void
take_lstm(Cur *c, LstmActs *a, int Tn, int S, int B, int I, int H, int train)
{
	size_t n = lstm_acts_size(Tn, S, B, I, H, train);

	if (c->base)
		lstm_acts_bind(a, c->base + c->n, Tn, S, B, I, H, train);
	c->n += n;
}

/* The views of layer `pre`'s kernel and bias, and of their gradients (NULL
 * without gradients). */
static void
bind_kb(const Vae *m, const char *pre, const Real **W, const Real **b, Real **dW,
    Real **db)
{
	char s[48];
	int k, j;

	snprintf(s, sizeof s, "%s/kernel", pre);
	k = vae_tensor(m, s);
	snprintf(s, sizeof s, "%s/bias", pre);
	j = vae_tensor(m, s);
	ENSURE(k >= 0 && j >= 0);
	*W = m->params + m->t[k].off;
	*b = m->params + m->t[j].off;
	*dW = m->grads ? m->grads + m->t[k].off : NULL;
	*db = m->grads ? m->grads + m->t[j].off : NULL;
}

static void
bind_lstm(const Vae *m, Lstm *L, const char *pre, int I, int H)
{
	L->I = I, L->H = H;
	bind_kb(m, pre, &L->W, &L->b, &L->dW, &L->db);
	L->pwh = L->pwht = L->pwx = NULL;
}

static void
bind_dense(const Vae *m, Dense *d, const char *pre, int I, int Od)
{
	d->I = I, d->Od = Od;
	bind_kb(m, pre, &d->W, &d->b, &d->dW, &d->db);
}

/* Parameter views are rebound on every call: params may have moved. */
static void
bind_params(Vae *m, Ws *w)
{
	const VaeConfig *c = &m->cfg;
	char s[48];

	for (int l = 0; l < c->enc_layers; l++) {
		int I = l ? 2 * c->enc_h : O;
		snprintf(s, sizeof s, "enc/fw/%d", l);
		bind_lstm(m, &w->ef[l], s, I, c->enc_h);
		snprintf(s, sizeof s, "enc/bw/%d", l);
		bind_lstm(m, &w->eb[l], s, I, c->enc_h);
	}
	bind_dense(m, &w->mu, "enc/mu", 2 * c->enc_h, c->z);
	bind_dense(m, &w->sg, "enc/sigma", 2 * c->enc_h, c->z);
	if (c->hier) {
		bind_dense(m, &w->ci, "cond/init", c->z, 2 * c->cond_layers * c->cond_h);
		for (int l = 0; l < c->cond_layers; l++) {
			snprintf(s, sizeof s, "cond/%d", l);
			bind_lstm(m, &w->cd[l], s, l ? c->cond_h : 1, c->cond_h);
		}
	}
	bind_dense(m, &w->di, "dec/init", w->E, 2 * c->dec_layers * c->dec_h);
	for (int l = 0; l < c->dec_layers; l++) {
		snprintf(s, sizeof s, "dec/%d", l);
		bind_lstm(m, &w->dd[l], s, l ? c->dec_h : O + w->E, c->dec_h);
	}
	bind_dense(m, &w->out, "dec/out", c->dec_h, O);
}

/* Pack every recurrent kernel (and its transpose when training) for the
 * per-step products; done on every entry since params may have changed. */
enum { PK_ENC = 1, PK_DEC = 2, PK_TRAIN = 4, PK_STEPS = 8 };

/* pk[0] W_h, pk[1] W_h^T (training), pk[2] W_x (step-by-step decoding) */
static void
pack_one(Lstm *L, NnPacked *pk, int what)
{
	int H = L->H;
	const Real *Wh = L->W + (size_t)L->I * 4 * H;

	nn_pack(&pk[0], Wh, 4 * H, 0, H, 4 * H);
	L->pwh = pk[0].P ? &pk[0] : NULL;
	if (what & PK_TRAIN) {
		nn_pack(&pk[1], Wh, 4 * H, 1, 4 * H, H);
		L->pwht = pk[1].P ? &pk[1] : NULL;
	}
	if (what & PK_STEPS) {
		nn_pack(&pk[2], L->W, 4 * H, 0, L->I, 4 * H);
		L->pwx = pk[2].P ? &pk[2] : NULL;
	}
}

/* Pack the recurrent kernels of the parts about to run; on every entry,
 * since params may have changed. */
static void
pack_params(Vae *m, Ws *w, int what)
{
	const VaeConfig *c = &m->cfg;

	if (what & PK_ENC)
		for (int l = 0; l < c->enc_layers; l++) {
			pack_one(&w->ef[l], w->pk[0][l], what & PK_TRAIN);
			pack_one(&w->eb[l], w->pk[1][l], what & PK_TRAIN);
		}
	if (!(what & PK_DEC))
		return;
	if (c->hier)
		for (int l = 0; l < c->cond_layers; l++)
			pack_one(&w->cd[l], w->pk[2][l], what & PK_TRAIN);
	for (int l = 0; l < c->dec_layers; l++)
		pack_one(&w->dd[l], w->pk[3][l], what & (PK_TRAIN | PK_STEPS));
}

/* Lay the activations out over the cursor (counting when its base is NULL). */
static void
ws_layout(const Vae *m, Ws *w, Cur *cu, int B, int train)
{
	const VaeConfig *c = &m->cfg;
	size_t TB = (size_t)T * B, Z = c->z, maxI = O + w->E;
	int He = c->enc_h, Hd = c->dec_h, Hc = c->cond_h, Lc = c->hier ? c->cond_layers : 0;

	if ((size_t)2 * He > maxI)
		maxI = 2 * He;
	if ((size_t)Hd > maxI)
		maxI = Hd;
	if ((size_t)Hc > maxI)
		maxI = Hc;
	for (int l = 0; l < c->enc_layers; l++) {
		int I = l ? 2 * He : O;
		take_lstm(cu, &w->aef[l], T, T, B, I, He, train);
		take_lstm(cu, &w->aeb[l], T, T, B, I, He, train);
		w->mef[l] = takem(cu, TB * I);
		w->meb[l] = takem(cu, TB * I);
	}
	for (int l = 0; l < Lc; l++) {
		int I = l ? Hc : 1;
		take_lstm(cu, &w->ac[l], c->bars, c->bars, B, I, Hc, train);
		w->mc[l] = takem(cu, (size_t)c->bars * B * I);
	}
	for (int l = 0; l < c->dec_layers; l++) {
		int I = l ? Hd : O + w->E;
		take_lstm(cu, &w->ad[l], T, w->S, B, I, Hd, train);
		w->md[l] = takem(cu, TB * I);
	}
	w->xin = take(cu, TB * O);
	w->enc = take(cu, (size_t)B * 2 * He);
	w->denc = take(cu, (size_t)B * 2 * He);
	w->mu_ = take(cu, B * Z);
	w->sp = take(cu, B * Z);
	w->sigma = take(cu, B * Z);
	w->eps = take(cu, B * Z);
	w->z = take(cu, B * Z);
	w->dmu = take(cu, B * Z);
	w->dsp = take(cu, B * Z);
	w->dz = take(cu, B * Z);
	w->cinit = take(cu, (size_t)B * 2 * Lc * Hc);
	w->dcinit = take(cu, (size_t)B * 2 * Lc * Hc);
	w->dinit = take(cu, (size_t)w->U * B * 2 * c->dec_layers * Hd);
	w->ddinit = take(cu, (size_t)w->U * B * 2 * c->dec_layers * Hd);
	w->eproj = take(cu, (size_t)w->U * B * 4 * Hd);
	w->logits = take(cu, TB * O);
	w->dlogits = take(cu, TB * O);
	w->smp = take(cu, TB * O);
	w->dx1 = take(cu, TB * maxI);
	w->dx2 = take(cu, TB * maxI);
}

static Ws *
ws_get(Vae *m, int B, int pack)
{
	Ws *w = m->ws;
	int train = m->grads != NULL;
	Cur cu = { 0 };

	ENSURE(B >= 1);
	if (!w || w->cap < B || w->train != train) {
		ws_free(w);
		w = ecalloc(1, sizeof *w);
		w->cap = B, w->train = train;
		w->U = m->cfg.hier ? m->cfg.bars : 1;
		w->S = T / w->U;
		w->E = m->cfg.hier ? m->cfg.cond_h : m->cfg.z;
		ws_layout(m, w, &cu, B, train);
		w->buf = aligned(cu.n, 0);
		w->mbuf = emalloc(cu.nm + 1);
		cu = (Cur){ w->buf, 0, w->mbuf, 0 };
		ws_layout(m, w, &cu, B, train);
		m->ws = w;
	}
	bind_params(m, w);
	pack_params(m, w, pack);
	return w;
}

/* ---- encoder and posterior ---- */

static void
enc_forward(Vae *m, Ws *w, int B, int drop, uint64_t *rng)
{
	const VaeConfig *c = &m->cfg;
	int He = c->enc_h, Le = c->enc_layers;
	size_t BH = (size_t)B * He, TB = (size_t)T * B;

	for (int l = 0; l < Le; l++) {
		LstmActs *f = &w->aef[l], *r = &w->aeb[l];
		int I = w->ef[l].I;

		if (l == 0) {
			memcpy(f->x, w->xin, TB * O * sizeof(Real));
			for (int t = 0; t < T; t++)
				memcpy(r->x + (size_t)t * B * O, w->xin + (size_t)(T - 1 - t) * B * O,
				    (size_t)B * O * sizeof(Real));
		} else {
			/* input at original time t: [fw h(t) | bw h at t], the bw run
			 * being stored in reversed time */
			const LstmActs *pf = &w->aef[l - 1], *pr = &w->aeb[l - 1];
			for (int t = 0; t < T; t++)
				for (int b = 0; b < B; b++) {
					Real *xf = f->x + ((size_t)t * B + b) * I;
					Real *xr = r->x + ((size_t)t * B + b) * I;
					size_t now = t * BH + b * He, rev = (T - 1 - t) * BH + b * He;
					memcpy(xf, pf->h + now, He * sizeof(Real));
					memcpy(xf + He, pr->h + rev, He * sizeof(Real));
					memcpy(xr, pf->h + rev, He * sizeof(Real));
					memcpy(xr + He, pr->h + now, He * sizeof(Real));
				}
		}
		if (drop) {
			nn_dropout(f->x, w->mef[l], TB * I, c->keep, rng);
			nn_dropout(r->x, w->meb[l], TB * I, c->keep, rng);
		}
		memset(f->h0, 0, BH * sizeof(Real));
		memset(f->c0, 0, BH * sizeof(Real));
		memset(r->h0, 0, BH * sizeof(Real));
		memset(r->c0, 0, BH * sizeof(Real));
		f->zero0 = r->zero0 = 1;
		lstm_forward_input(&w->ef[l], f, 0, T, B, I);
		lstm_forward(&w->ef[l], f, T, T, B);
		lstm_forward_input(&w->eb[l], r, 0, T, B, I);
		lstm_forward(&w->eb[l], r, T, T, B);
	}
	for (int b = 0; b < B; b++) {
		memcpy(w->enc + (size_t)b * 2 * He, w->aef[Le - 1].h + (T - 1) * BH + b * He,
		    He * sizeof(Real));
		memcpy(w->enc + (size_t)b * 2 * He + He, w->aeb[Le - 1].h + (T - 1) * BH + b * He,
		    He * sizeof(Real));
	}
}

static void
enc_backward(Vae *m, Ws *w, int B)
{
	const VaeConfig *c = &m->cfg;
	int He = c->enc_h, Le = c->enc_layers;
	size_t BH = (size_t)B * He, TB = (size_t)T * B;

	for (int b = 0; b < B; b++)
		for (int k = 0; k < He; k++) {
			w->aef[Le - 1].dh[(T - 1) * BH + b * He + k] += w->denc[(size_t)b * 2 * He + k];
			w->aeb[Le - 1].dh[(T - 1) * BH + b * He + k] += w->denc[(size_t)b * 2 * He + He + k];
		}
	for (int l = Le - 1; l >= 0; l--) {
		int I = w->ef[l].I;
		Real *dxf = l ? w->dx1 : NULL, *dxr = l ? w->dx2 : NULL; /* (T, B, I) */

		lstm_backward(&w->ef[l], &w->aef[l], dxf, T, T, B);
		lstm_backward(&w->eb[l], &w->aeb[l], dxr, T, T, B);
		if (!l)
			break;
		nn_dropout_backward(dxf, w->mef[l], TB * I, c->keep);
		nn_dropout_backward(dxr, w->meb[l], TB * I, c->keep);
		for (int t = 0; t < T; t++)
			for (int b = 0; b < B; b++) {
				Real *df = w->aef[l - 1].dh + t * BH + b * He;
				Real *dr = w->aeb[l - 1].dh + t * BH + b * He;
				const Real *xf = dxf + ((size_t)t * B + b) * I;
				const Real *xr = dxr + ((size_t)(T - 1 - t) * B + b) * I;
				const Real *xf2 = dxf + ((size_t)(T - 1 - t) * B + b) * I;
				const Real *xr2 = dxr + ((size_t)t * B + b) * I;
				for (int k = 0; k < He; k++) {
					df[k] += xf[k] + xr[k];
					dr[k] += xf2[He + k] + xr2[He + k];
				}
			}
	}
}

static void
post_forward(Vae *m, Ws *w, int B, int sample, uint64_t *rng)
{
	const VaeConfig *c = &m->cfg;
	size_t n = (size_t)B * c->z;

	nn_dense_forward(w->mu_, w->enc, w->mu.W, w->mu.b, B, 2 * c->enc_h, c->z);
	nn_dense_forward(w->sp, w->enc, w->sg.W, w->sg.b, B, 2 * c->enc_h, c->z);
	for (size_t i = 0; i < n; i++) {
		w->sigma[i] = nn_softplus(w->sp[i]);
		w->eps[i] = sample ? (Real)rng_normal(rng) : 0;
		w->z[i] = w->mu_[i] + w->sigma[i] * w->eps[i];
	}
	w->zsampled = sample;
}

/* dmu, dsp hold the KL gradients (dsp as d/dsigma) on entry. */
static void
post_backward(Vae *m, Ws *w, int B)
{
	const VaeConfig *c = &m->cfg;
	size_t n = (size_t)B * c->z;

	for (size_t i = 0; i < n; i++) {
		Real ds = w->dsp[i] + (w->zsampled ? w->dz[i] * w->eps[i] : 0);
		w->dmu[i] += w->dz[i];
		w->dsp[i] = ds * nn_sigmoid(w->sp[i]);
	}
	memset(w->denc, 0, (size_t)B * 2 * c->enc_h * sizeof(Real));
	nn_dense_backward(w->denc, w->mu.dW, w->mu.db, w->dmu, w->enc, w->mu.W, B, 2 * c->enc_h, c->z);
	nn_dense_backward(w->denc, w->sg.dW, w->sg.db, w->dsp, w->enc, w->sg.W, B, 2 * c->enc_h, c->z);
}

/* ---- conductor (hier) ---- */

static void
cond_forward(Vae *m, Ws *w, int B, int drop, uint64_t *rng)
{
	const VaeConfig *c = &m->cfg;
	int Hc = c->cond_h, Lc = c->cond_layers, U = c->bars, N = 2 * Lc * Hc;
	size_t BH = (size_t)B * Hc;

	nn_dense_forward(w->cinit, w->z, w->ci.W, w->ci.b, B, c->z, N);
	nn_tanh_forward(w->cinit, (size_t)B * N);
	for (int l = 0; l < Lc; l++) {
		LstmActs *a = &w->ac[l];
		for (int b = 0; b < B; b++) {
			memcpy(a->c0 + (size_t)b * Hc, w->cinit + (size_t)b * N + 2 * l * Hc, Hc * sizeof(Real));
			memcpy(a->h0 + (size_t)b * Hc, w->cinit + (size_t)b * N + (2 * l + 1) * Hc,
			    Hc * sizeof(Real));
		}
		if (l == 0) {
			memset(a->x, 0, (size_t)U * B * sizeof(Real));  /* zero input, size 1 */
		} else {
			memcpy(a->x, w->ac[l - 1].h, U * BH * sizeof(Real));
			if (drop)
				nn_dropout(a->x, w->mc[l], U * BH, c->keep, rng);
		}
		lstm_forward_input(&w->cd[l], a, 0, U, B, w->cd[l].I);
		lstm_forward(&w->cd[l], a, U, U, B);
	}
}

static void
cond_backward(Vae *m, Ws *w, int B)
{
	const VaeConfig *c = &m->cfg;
	int Hc = c->cond_h, Lc = c->cond_layers, U = c->bars, N = 2 * Lc * Hc;
	size_t BH = (size_t)B * Hc;

	for (int l = Lc - 1; l >= 0; l--) {
		Real *dx = l ? w->dx2 : NULL;    /* (U, B, Hc) */
		lstm_backward(&w->cd[l], &w->ac[l], dx, U, U, B);
		if (!l)
			break;
		nn_dropout_backward(dx, w->mc[l], U * BH, c->keep);
		for (size_t i = 0; i < U * BH; i++)
			w->ac[l - 1].dh[i] += dx[i];
	}
	for (int l = 0; l < Lc; l++)
		for (int b = 0; b < B; b++) {
			memcpy(w->dcinit + (size_t)b * N + 2 * l * Hc, w->ac[l].dc0 + (size_t)b * Hc,
			    Hc * sizeof(Real));
			memcpy(w->dcinit + (size_t)b * N + (2 * l + 1) * Hc, w->ac[l].dh0 + (size_t)b * Hc,
			    Hc * sizeof(Real));
		}
	nn_tanh_backward(w->dcinit, w->cinit, (size_t)B * N);
	nn_dense_backward(w->dz, w->ci.dW, w->ci.db, w->dcinit, w->z, w->ci.W, B, c->z, N);
}

/* ---- decoder ---- */

/* The embedding of each segment: z (flat, one segment) or the conductor's
 * top outputs c_u (hier). (U, B, E) */
static Real *
emb(Vae *m, Ws *w)
{
	return m->cfg.hier ? w->ac[m->cfg.cond_layers - 1].h : w->z;
}

static void
dinit_forward(Vae *m, Ws *w, int B)
{
	const VaeConfig *c = &m->cfg;
	int Hd = c->dec_h, Ld = c->dec_layers, N = 2 * Ld * Hd;
	size_t UB = (size_t)w->U * B;

	nn_dense_forward(w->dinit, emb(m, w), w->di.W, w->di.b, UB, w->E, N);
	nn_tanh_forward(w->dinit, UB * N);
	for (int l = 0; l < Ld; l++)
		for (size_t r = 0; r < UB; r++) {
			memcpy(w->ad[l].c0 + r * Hd, w->dinit + r * N + 2 * l * Hd, Hd * sizeof(Real));
			memcpy(w->ad[l].h0 + r * Hd, w->dinit + r * N + (2 * l + 1) * Hd, Hd * sizeof(Real));
		}
}

/* eproj (U, B, 4Hd) = e_u W0[O:O+E]: the constant part of layer 0's input
 * projection, computed once per segment when there is no dropout. */
static void
eproj_forward(Vae *m, Ws *w, int B)
{
	size_t G = 4 * (size_t)m->cfg.dec_h;

	nn_gemm(w->eproj, G, emb(m, w), w->E, 0, w->dd[0].W + O * G, G, 0,
	    w->U * B, G, w->E, 0);
}

/* Layer 0's input at step t: the frame is already in x[t][:, :O]. With
 * dropout the embedding is copied in and the whole input dropped; without,
 * the embedding enters through eproj. Then g[t] is the input projection. */
static void
dec_input0(Vae *m, Ws *w, int t0, int t1, int B, int drop, uint64_t *rng)
{
	LstmActs *a = &w->ad[0];
	int I = O + w->E;
	size_t G = 4 * (size_t)m->cfg.dec_h;
	const Real *e = emb(m, w);

	if (drop) {
		for (int t = t0; t < t1; t++)
			for (int b = 0; b < B; b++)
				memcpy(a->x + ((size_t)t * B + b) * I + O,
				    e + ((size_t)(t / w->S) * B + b) * w->E, w->E * sizeof(Real));
		nn_dropout(a->x + (size_t)t0 * B * I, w->md[0] + (size_t)t0 * B * I,
		    (size_t)(t1 - t0) * B * I, m->cfg.keep, rng);
		lstm_forward_input(&w->dd[0], a, t0, t1, B, I);
		return;
	}
	lstm_forward_input(&w->dd[0], a, t0, t1, B, O);
	for (int t = t0; t < t1; t++) {
		Real *g = a->g + (size_t)t * B * G;
		const Real *ep = w->eproj + (size_t)(t / w->S) * B * G;
		for (size_t i = 0; i < B * G; i++)
			g[i] += ep[i];
	}
}

/* Layer l >= 1 input at steps t0..t1-1: the layer below's output (dropped). */
static void
dec_input(Vae *m, Ws *w, int l, int t0, int t1, int B, int drop, uint64_t *rng)
{
	LstmActs *a = &w->ad[l];
	size_t n = (size_t)(t1 - t0) * B * m->cfg.dec_h, off = (size_t)t0 * B * m->cfg.dec_h;

	memcpy(a->x + off, w->ad[l - 1].h + off, n * sizeof(Real));
	if (drop)
		nn_dropout(a->x + off, w->md[l] + off, n, m->cfg.keep, rng);
	lstm_forward_input(&w->dd[l], a, t0, t1, B, m->cfg.dec_h);
}

/* Teacher forcing, layer by layer: frames are the targets shifted by one. */
static void
dec_forward_tf(Vae *m, Ws *w, int B, int drop, uint64_t *rng)
{
	const VaeConfig *c = &m->cfg;
	int I = O + w->E, Ld = c->dec_layers;
	size_t TB = (size_t)T * B;

	for (int t = 0; t < T; t++)
		for (int b = 0; b < B; b++) {
			Real *x = w->ad[0].x + ((size_t)t * B + b) * I;
			if (t)
				memcpy(x, w->xin + ((size_t)(t - 1) * B + b) * O, O * sizeof(Real));
			else
				memset(x, 0, O * sizeof(Real));
		}
	if (!drop)
		eproj_forward(m, w, B);
	dec_input0(m, w, 0, T, B, drop, rng);
	lstm_forward(&w->dd[0], &w->ad[0], T, w->S, B);
	for (int l = 1; l < Ld; l++) {
		dec_input(m, w, l, 0, T, B, drop, rng);
		lstm_forward(&w->dd[l], &w->ad[l], T, w->S, B);
	}
	nn_dense_forward(w->logits, w->ad[Ld - 1].h, w->out.W, w->out.b, TB, c->dec_h, O);
}

/* One frame from output logits (O): hits ~ Bernoulli(sigmoid(logit / temp))
 * (temp <= 0: logit > 0), velocity sigmoid, offset tanh. */
static void
sample_frame(Real *dst, const Real *lg, float temp, int balanced, uint64_t *rng)
{
	for (int k = 0; k < C; k++) {
		int hit = temp > 0 ? rng_uniform(rng) < nn_sigmoid(lg[k] / temp) : lg[k] > 0;
		dst[k] = hit;
		dst[C + k] = nn_sigmoid(lg[C + k]);
		dst[2 * C + k] = nn_tanh(lg[2 * C + k]);
		if (balanced && !hit)
			dst[C + k] = dst[2 * C + k] = 0;
	}
}

/* Step by step: the input frame of step t > 0 is the model's sample of step
 * t-1 (always when xin is NULL, else with probability psample) or the
 * target. smp[t] gets the sample of every step. */
static void
dec_forward_steps(Vae *m, Ws *w, int B, int drop, double psample, float temp,
    const Real *xin, uint64_t *rng)
{
	const VaeConfig *c = &m->cfg;
	int I = O + w->E, Ld = c->dec_layers, bal = c->loss == VAE_LOSS_BALANCED;
	Dense *out = &w->out;

	if (!drop)
		eproj_forward(m, w, B);
	for (int t = 0; t < T; t++) {
		for (int b = 0; b < B; b++) {
			Real *x = w->ad[0].x + ((size_t)t * B + b) * I;
			if (t == 0)
				memset(x, 0, O * sizeof(Real));
			else if (!xin || rng_uniform(rng) < psample)
				memcpy(x, w->smp + ((size_t)(t - 1) * B + b) * O, O * sizeof(Real));
			else
				memcpy(x, xin + ((size_t)(t - 1) * B + b) * O, O * sizeof(Real));
		}
		dec_input0(m, w, t, t + 1, B, drop, rng);
		lstm_forward_step(&w->dd[0], &w->ad[0], t, w->S, B);
		for (int l = 1; l < Ld; l++) {
			dec_input(m, w, l, t, t + 1, B, drop, rng);
			lstm_forward_step(&w->dd[l], &w->ad[l], t, w->S, B);
		}
		nn_dense_forward(w->logits + (size_t)t * B * O,
		    w->ad[Ld - 1].h + (size_t)t * B * c->dec_h, out->W, out->b, B, c->dec_h, O);
		for (int b = 0; b < B; b++)
			sample_frame(w->smp + ((size_t)t * B + b) * O,
			    w->logits + ((size_t)t * B + b) * O, temp, bal, rng);
	}
}

static void
dec_backward(Vae *m, Ws *w, int B)
{
	const VaeConfig *c = &m->cfg;
	int Hd = c->dec_h, Ld = c->dec_layers, N = 2 * Ld * Hd, E = w->E;
	size_t TB = (size_t)T * B, UB = (size_t)w->U * B;
	Real *de = c->hier ? w->ac[c->cond_layers - 1].dh : w->dz;  /* (U, B, E) */
	const Real *dx0 = w->dx1;                                   /* (T, B, O+E) */

	nn_dense_backward(w->ad[Ld - 1].dh, w->out.dW, w->out.db, w->dlogits,
	    w->ad[Ld - 1].h, w->out.W, TB, Hd, O);
	for (int l = Ld - 1; l >= 0; l--) {
		int I = w->dd[l].I;
		lstm_backward(&w->dd[l], &w->ad[l], w->dx1, T, w->S, B);
		nn_dropout_backward(w->dx1, w->md[l], TB * I, c->keep);
		if (l)
			for (size_t i = 0; i < TB * Hd; i++)
				w->ad[l - 1].dh[i] += w->dx1[i];
	}
	for (int l = 0; l < Ld; l++)
		for (size_t r = 0; r < UB; r++) {
			memcpy(w->ddinit + r * N + 2 * l * Hd, w->ad[l].dc0 + r * Hd, Hd * sizeof(Real));
			memcpy(w->ddinit + r * N + (2 * l + 1) * Hd, w->ad[l].dh0 + r * Hd,
			    Hd * sizeof(Real));
		}
	nn_tanh_backward(w->ddinit, w->dinit, UB * N);
	nn_dense_backward(de, w->di.dW, w->di.db, w->ddinit, emb(m, w), w->di.W, UB, E, N);
	for (int t = 0; t < T; t++)
		for (int b = 0; b < B; b++) {
			Real *d = de + ((size_t)(t / w->S) * B + b) * E;
			const Real *s = dx0 + ((size_t)t * B + b) * (O + E) + O;
			for (int k = 0; k < E; k++)
				d[k] += s[k];
		}
}

/* ---- loss ---- */

/* Groove loss of logits against xin and KL; with grad, dlogits gets
 * d(loss)/d(logits) and dmu, dsp the KL gradients (dsp w.r.t. sigma). */
static void
loss_forward(Vae *m, Ws *w, int B, int grad, VaeLoss *out)
{
	const VaeConfig *c = &m->cfg;
	const Real eps = (Real)1e-7, inv = (Real)1 / B;
	int bal = c->loss == VAE_LOSS_BALANCED;
	double sh = 0, sv = 0, so = 0, acc = 0, kls = 0, klc = 0;
	double freen = c->free_bits * M_LN2;
	int Z = c->z;

	for (size_t r = 0; r < (size_t)T * B; r++) {
		const Real *y = w->xin + r * O, *lg = w->logits + r * O;
		Real *d = w->dlogits + r * O;
		for (int k = 0; k < C; k++) {
			Real p = nn_sigmoid(lg[k]), yk = y[k];
			Real wk = bal ? VAE_BALANCED_W * yk : 1;
			Real vh = nn_sigmoid(lg[C + k]), ev = vh - y[C + k];
			Real oh = nn_tanh(lg[2 * C + k]), eo = oh - y[2 * C + k];
			sh += -yk * nn_log(p + eps) - (1 - yk) * nn_log(1 - p + eps);
			acc += (p > (Real)0.5) == (yk > (Real)0.5);
			sv += wk * ev * ev;
			so += wk * eo * eo;
			if (!grad)
				continue;
			d[k] = inv * p * (1 - p) * (-yk / (p + eps) + (1 - yk) / (1 - p + eps));
			d[C + k] = inv * wk * 2 * ev * vh * (1 - vh);
			d[2 * C + k] = inv * wk * 2 * eo * (1 - oh * oh);
		}
	}
	for (int b = 0; b < B; b++) {
		const Real *mu = w->mu_ + (size_t)b * Z, *s = w->sigma + (size_t)b * Z;
		double kl = 0;
		for (int j = 0; j < Z; j++)
			kl += 0.5 * ((double)s[j] * s[j] + (double)mu[j] * mu[j] - 1 - 2 * log(s[j]));
		kls += kl;
		klc += kl > freen ? kl - freen : 0;
		if (!grad)
			continue;
		Real coef = kl > freen ? (Real)(c->beta / B) : 0;
		for (int j = 0; j < Z; j++) {
			w->dmu[(size_t)b * Z + j] = coef * mu[j];
			w->dsp[(size_t)b * Z + j] = coef * (s[j] - 1 / s[j]);
		}
	}
	out->hits = sh / B;
	out->vel = sv / B;
	out->off = so / B;
	out->r_loss = (sh + sv + so) / B;
	out->kl_bits = kls / B / M_LN2;
	out->loss = out->r_loss + c->beta * klc / B;
	out->hit_acc = acc / ((double)B * T * C);
}

/* ---- public entry points ---- */

static void
load_input(Ws *w, const float *x, int B)
{
	for (int b = 0; b < B; b++)
		for (int t = 0; t < T; t++)
			for (int k = 0; k < O; k++)
				w->xin[((size_t)t * B + b) * O + k] = x[((size_t)b * T + t) * O + k];
}

static void
zero_dh(Vae *m, Ws *w, int B)
{
	const VaeConfig *c = &m->cfg;
	size_t TB = (size_t)T * B;

	for (int l = 0; l < c->enc_layers; l++) {
		memset(w->aef[l].dh, 0, TB * c->enc_h * sizeof(Real));
		memset(w->aeb[l].dh, 0, TB * c->enc_h * sizeof(Real));
	}
	if (c->hier)
		for (int l = 0; l < c->cond_layers; l++)
			memset(w->ac[l].dh, 0, (size_t)c->bars * B * c->cond_h * sizeof(Real));
	for (int l = 0; l < c->dec_layers; l++)
		memset(w->ad[l].dh, 0, TB * c->dec_h * sizeof(Real));
	memset(w->dz, 0, (size_t)B * c->z * sizeof(Real));
}

void
vae_forward_backward(Vae *m, const float *x, int B, uint64_t *rng, VaeLoss *out)
{
	Ws *w;
	double ps = vae_sched_prob(&m->cfg, m->step);

	ENSURE(m->grads != NULL);
	w = ws_get(m, B, PK_ENC | PK_DEC | PK_TRAIN | (ps > 0 ? PK_STEPS : 0));
	load_input(w, x, B);
	memset(m->grads, 0, m->nparams * sizeof(Real));
	enc_forward(m, w, B, 1, rng);
	post_forward(m, w, B, 1, rng);
	if (m->cfg.hier)
		cond_forward(m, w, B, 1, rng);
	dinit_forward(m, w, B);
	if (ps > 0)
		dec_forward_steps(m, w, B, 1, ps, 1.0f, w->xin, rng);
	else
		dec_forward_tf(m, w, B, 1, rng);
	loss_forward(m, w, B, 1, out);
	zero_dh(m, w, B);
	dec_backward(m, w, B);
	if (m->cfg.hier)
		cond_backward(m, w, B);
	post_backward(m, w, B);
	enc_backward(m, w, B);
}

/* Work on at most CHUNK examples at a time to bound the workspace. */
#define CHUNK 128

void
vae_eval(Vae *m, const float *x, int B, int sample_z, uint64_t *rng, VaeLoss *out)
{
	VaeLoss acc = { 0 };

	for (int b0 = 0; b0 < B; b0 += CHUNK) {
		int n = B - b0 < CHUNK ? B - b0 : CHUNK;
		Ws *w = ws_get(m, n, PK_ENC | PK_DEC);
		VaeLoss l;
		load_input(w, x + (size_t)b0 * T * O, n);
		enc_forward(m, w, n, 0, rng);
		post_forward(m, w, n, sample_z, rng);
		if (m->cfg.hier)
			cond_forward(m, w, n, 0, rng);
		dinit_forward(m, w, n);
		dec_forward_tf(m, w, n, 0, rng);
		loss_forward(m, w, n, 0, &l);
		acc.loss += l.loss * n, acc.r_loss += l.r_loss * n;
		acc.hits += l.hits * n, acc.vel += l.vel * n, acc.off += l.off * n;
		acc.kl_bits += l.kl_bits * n, acc.hit_acc += l.hit_acc * n;
	}
	out->loss = acc.loss / B, out->r_loss = acc.r_loss / B;
	out->hits = acc.hits / B, out->vel = acc.vel / B, out->off = acc.off / B;
	out->kl_bits = acc.kl_bits / B, out->hit_acc = acc.hit_acc / B;
}

void
vae_encode(Vae *m, const float *x, int B, float *mu, float *sigma)
{
	size_t Z = m->cfg.z;

	for (int b0 = 0; b0 < B; b0 += CHUNK) {
		int n = B - b0 < CHUNK ? B - b0 : CHUNK;
		Ws *w = ws_get(m, n, PK_ENC);
		load_input(w, x + (size_t)b0 * T * O, n);
		enc_forward(m, w, n, 0, NULL);
		post_forward(m, w, n, 0, NULL);
		for (size_t i = 0; i < n * Z; i++) {
			mu[b0 * Z + i] = (float)w->mu_[i];
			sigma[b0 * Z + i] = (float)w->sigma[i];
		}
	}
}

void
vae_decode(Vae *m, const float *z, int B, float temperature, uint64_t *rng, float *out)
{
	size_t Z = m->cfg.z;

	for (int b0 = 0; b0 < B; b0 += CHUNK) {
		int n = B - b0 < CHUNK ? B - b0 : CHUNK;
		Ws *w = ws_get(m, n, PK_DEC | PK_STEPS);
		for (size_t i = 0; i < n * Z; i++)
			w->z[i] = z[b0 * Z + i];
		if (m->cfg.hier)
			cond_forward(m, w, n, 0, rng);
		dinit_forward(m, w, n);
		dec_forward_steps(m, w, n, 0, 1, temperature, NULL, rng);
		for (int b = 0; b < n; b++)
			for (int t = 0; t < T; t++)
				for (int k = 0; k < O; k++)
					out[((size_t)(b0 + b) * T + t) * O + k] =
					    (float)w->smp[((size_t)t * n + b) * O + k];
	}
}

/* Teacher-forced reconstruction: the decoder's input frame at step t > 0
 * is the target x's frame t-1 (as in training, without dropout), and each
 * output frame is thresholded (hit where logit > 0). */
void
vae_decode_teacher(Vae *m, const float *z, const float *x, int B, float *out)
{
	size_t Z = m->cfg.z;
	uint64_t rng = 0; /* psample 0 and temperature 0 draw nothing */

	for (int b0 = 0; b0 < B; b0 += CHUNK) {
		int n = B - b0 < CHUNK ? B - b0 : CHUNK;
		Ws *w = ws_get(m, n, PK_DEC | PK_STEPS);
		load_input(w, x + (size_t)b0 * T * O, n);
		for (size_t i = 0; i < n * Z; i++)
			w->z[i] = z[b0 * Z + i];
		if (m->cfg.hier)
			cond_forward(m, w, n, 0, &rng);
		dinit_forward(m, w, n);
		dec_forward_steps(m, w, n, 0, 0, 0, w->xin, &rng);
		for (int b = 0; b < n; b++)
			for (int t = 0; t < T; t++)
				for (int k = 0; k < O; k++)
					out[((size_t)(b0 + b) * T + t) * O + k] =
					    (float)w->smp[((size_t)t * n + b) * O + k];
	}
}

float
vae_adam_step(Vae *m, float *lr_out)
{
	const VaeConfig *c = &m->cfg;
	double lr = (c->lr - c->lr_min) * pow(c->lr_decay, (double)m->step) + c->lr_min;
	double ss = 0, norm, scale, t = (double)m->step + 1;
	Real b1 = 0.9f, b2 = 0.999f, lrt, sc, eps = (Real)1e-8;

	ENSURE(m->grads != NULL);
	if (lr_out)
		*lr_out = (float)lr;
	ss = nn_sumsq(m->grads, m->nparams);
	norm = sqrt(ss);
	if (!isfinite(norm) || norm >= 1e4)
		return (float)norm;
	/* tf.clip_by_global_norm, then TF's AdamOptimizer (eps outside sqrt) */
	scale = norm > c->clip ? c->clip / norm : 1;
	lrt = (Real)(lr * sqrt(1 - pow(0.999, t)) / (1 - pow(0.9, t)));
	sc = (Real)scale;
	nn_adam(m->params, m->m, m->v, m->grads, m->nparams, sc, lrt, b1, b2, eps);
	m->step++;
	return (float)norm;
}
