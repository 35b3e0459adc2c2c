/* nn-grad.c: TAP unit test of the numeric building blocks in double
 * precision: nn_gemm (BLAS) against the naive loops for every transpose,
 * and central finite differences for dense, tanh, dropout and LSTM backward
 * (segments with their own initial states included). */
#define NN_DOUBLE 1
#include "../lib/nn.c"
#include "../lib/nn_packed.c"
#include "../lib/lstm.c"

#include <stdlib.h>
#include <stdio.h>

#include "tap.h"

static void
fill(Real *p, size_t n, double scale, uint64_t *rng)
{
	for (size_t i = 0; i < n; i++)
		p[i] = scale * (2.0 * rng_uniform(rng) - 1.0);
}

/* Compare analytic gradient g against central differences of f over the
 * values p[0..n). Reports the worst relative error. */
typedef double (*LossFn)(void *ctx);

static double
check(const char *what, LossFn f, void *ctx, Real *p, const Real *g, size_t n)
{
	const double h = 1e-5;
	double worst = 0;
	size_t at = 0;
	double wa = 0, wn = 0;

	for (size_t i = 0; i < n; i++) {
		Real save = p[i];
		p[i] = save + h;
		double lp = f(ctx);
		p[i] = save - h;
		double lm = f(ctx);
		p[i] = save;
		double num = (lp - lm) / (2 * h);
		double err = fabs(num - g[i]) / fmax(fabs(num) + fabs(g[i]), 1e-6);
		if (err > worst)
			worst = err, at = i, wa = g[i], wn = num;
	}
	ok(worst < 1e-6, "%s: %zu values, max rel err %.3g at [%zu] (analytic %.9g, numeric %.9g)",
	    what, n, worst, at, wa, wn);
	return worst;
}

/* ---- gemm ---- */

static void
test_gemm(uint64_t *rng)
{
	int M = 7, N = 5, K = 9;
	Real A[16 * 16], Bm[16 * 16], C1[16 * 16], C2[16 * 16];

	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++)
			for (int beta = 0; beta < 2; beta++) {
				int lda = (ta ? M : K) + 2, ldb = (tb ? K : N) + 1, ldc = N + 3;
				double worst = 0;
				fill(A, LEN(A), 1, rng);
				fill(Bm, LEN(Bm), 1, rng);
				fill(C1, LEN(C1), 1, rng);
				memcpy(C2, C1, sizeof C1);
				nn_gemm(C1, ldc, A, lda, ta, Bm, ldb, tb, M, N, K, beta);
				nn_gemm_ref(C2, ldc, A, lda, ta, Bm, ldb, tb, M, N, K, beta);
				for (int i = 0; i < M * ldc; i++)
					worst = fmax(worst, fabs(C1[i] - C2[i]));
				ok(worst < 1e-12, "gemm ta=%d tb=%d beta=%d matches naive loops (max diff %.3g)",
				    ta, tb, beta, worst);
			}
}

/* ---- dense + tanh ---- */

typedef struct {
	int N, I, Od;
	Real *x, *W, *b, *y, *r;   /* r: random weights of the scalar loss */
} DenseCtx;

static double
dense_loss(void *p)
{
	DenseCtx *c = p;
	double s = 0;

	nn_dense_forward(c->y, c->x, c->W, c->b, c->N, c->I, c->Od);
	nn_tanh_forward(c->y, (size_t)c->N * c->Od);
	for (int i = 0; i < c->N * c->Od; i++)
		s += c->r[i] * c->y[i];
	return s;
}

static void
test_dense(uint64_t *rng)
{
	DenseCtx c = { .N = 4, .I = 6, .Od = 5 };
	Real x[24], W[30], b[5], y[20], r[20], dx[24], dW[30], db[5], dy[20];

	c.x = x, c.W = W, c.b = b, c.y = y, c.r = r;
	fill(x, 24, 1, rng), fill(W, 30, 0.5, rng), fill(b, 5, 0.5, rng), fill(r, 20, 1, rng);
	memset(dx, 0, sizeof dx), memset(dW, 0, sizeof dW), memset(db, 0, sizeof db);
	dense_loss(&c);
	memcpy(dy, r, sizeof r);
	nn_tanh_backward(dy, y, 20);
	nn_dense_backward(dx, dW, db, dy, x, W, 4, 6, 5);
	check("dense+tanh dW", dense_loss, &c, W, dW, 30);
	check("dense+tanh db", dense_loss, &c, b, db, 5);
	check("dense+tanh dx", dense_loss, &c, x, dx, 24);
}

/* ---- dropout ---- */

static void
test_dropout(uint64_t *rng)
{
	enum { N = 4000 };
	static Real x[N], d[N];
	static unsigned char mask[N];
	size_t kept = 0;
	int good = 1;

	for (int i = 0; i < N; i++)
		x[i] = 1, d[i] = 1;
	nn_dropout(x, mask, N, 0.3f, rng);
	nn_dropout_backward(d, mask, N, 0.3f);
	for (int i = 0; i < N; i++) {
		kept += mask[i];
		if (fabs(x[i] - (mask[i] ? 1 / 0.3 : 0)) > 1e-6 || d[i] != x[i])
			good = 0;
	}
	ok(good, "dropout scales kept values by 1/keep, backward uses the same mask");
	ok(kept > 0.25 * N && kept < 0.35 * N, "dropout keeps %zu of %d (keep 0.3)", kept, N);
}

/* ---- LSTM ---- */

typedef struct {
	Lstm L;
	LstmActs a;
	int T, S, B;
	Real *x0;    /* (T, B, I) the input, copied into a.x before each run */
	Real *h0, *c0; /* (U, B, H) */
	Real *r, *rc; /* (T, B, H) loss weights on h and on c of the last step */
} LstmCtx;

static double
lstm_loss(void *p)
{
	LstmCtx *c = p;
	int H = c->L.H, U = c->T / c->S;
	size_t TBH = (size_t)c->T * c->B * H, UBH = (size_t)U * c->B * H;
	double s = 0;

	memcpy(c->a.x, c->x0, (size_t)c->T * c->B * c->L.I * sizeof(Real));
	memcpy(c->a.h0, c->h0, UBH * sizeof(Real));
	memcpy(c->a.c0, c->c0, UBH * sizeof(Real));
	lstm_forward_input(&c->L, &c->a, 0, c->T, c->B, c->L.I);
	lstm_forward(&c->L, &c->a, c->T, c->S, c->B);
	for (size_t i = 0; i < TBH; i++)
		s += c->r[i] * c->a.h[i];
	return s;
}

static void
test_lstm(int I, int H, int T, int S, int B, uint64_t *rng)
{
	LstmCtx c = { 0 };
	int U = T / S;
	size_t nW = (size_t)(I + H) * 4 * H, TB = (size_t)T * B;
	Real *W = ecalloc(nW, sizeof *W), *b = ecalloc(4 * H, sizeof *b);
	Real *dW = ecalloc(nW, sizeof *W), *db = ecalloc(4 * H, sizeof *b);
	Real *buf = ecalloc(lstm_acts_size(T, S, B, I, H, 1), sizeof *buf);
	Real *dx = ecalloc(TB * I, sizeof *dx);
	char what[80];

	c.T = T, c.S = S, c.B = B;
	c.L = (Lstm){ .I = I, .H = H, .W = W, .b = b, .dW = dW, .db = db };
	lstm_acts_bind(&c.a, buf, T, S, B, I, H, 1);
	c.x0 = ecalloc(TB * I, sizeof(Real));
	c.h0 = ecalloc((size_t)U * B * H, sizeof(Real));
	c.c0 = ecalloc((size_t)U * B * H, sizeof(Real));
	c.r = ecalloc(TB * H, sizeof(Real));
	fill(W, nW, 0.5, rng), fill(b, 4 * H, 0.5, rng), fill(c.x0, TB * I, 1, rng);
	fill(c.h0, (size_t)U * B * H, 0.8, rng), fill(c.c0, (size_t)U * B * H, 1.5, rng);
	fill(c.r, TB * H, 1, rng);

	lstm_loss(&c);
	memcpy(c.a.dh, c.r, TB * H * sizeof(Real));
	lstm_backward(&c.L, &c.a, dx, T, S, B);
	/* dx, dh0, dc0 are outputs; copy before re-running forward */
	Real *gx = emalloc(TB * I * sizeof(Real)), *gh0 = emalloc((size_t)U * B * H * sizeof(Real));
	Real *gc0 = emalloc((size_t)U * B * H * sizeof(Real));
	memcpy(gx, dx, TB * I * sizeof(Real));
	memcpy(gh0, c.a.dh0, (size_t)U * B * H * sizeof(Real));
	memcpy(gc0, c.a.dc0, (size_t)U * B * H * sizeof(Real));

	snprintf(what, sizeof what, "lstm I=%d H=%d T=%d S=%d B=%d", I, H, T, S, B);
	char s[120];
	snprintf(s, sizeof s, "%s dW (input and recurrent rows)", what);
	check(s, lstm_loss, &c, W, dW, nW);
	snprintf(s, sizeof s, "%s db", what);
	check(s, lstm_loss, &c, b, db, 4 * H);
	snprintf(s, sizeof s, "%s dx", what);
	check(s, lstm_loss, &c, c.x0, gx, TB * I);
	snprintf(s, sizeof s, "%s dh0 per segment", what);
	check(s, lstm_loss, &c, c.h0, gh0, (size_t)U * B * H);
	snprintf(s, sizeof s, "%s dc0 per segment", what);
	check(s, lstm_loss, &c, c.c0, gc0, (size_t)U * B * H);

	free(W), free(b), free(dW), free(db), free(buf), free(dx), free(gx), free(gh0), free(gc0);
	free(c.x0), free(c.h0), free(c.c0), free(c.r);
}

/* Gate order and forget bias: one unit, known weights, closed form. */
static void
test_lstm_gates(void)
{
	/* I = 1, H = 1: W rows [x; h], columns i j f o */
	Real W[8] = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8 }, b[4] = { 0.01, 0.02, 0.03, 0.04 };
	Lstm L = { .I = 1, .H = 1, .W = W, .b = b };
	LstmActs a;
	Real *buf = ecalloc(lstm_acts_size(1, 1, 1, 1, 1, 0), sizeof *buf);
	double x = 0.9, h = -0.4, c = 0.7;

	lstm_acts_bind(&a, buf, 1, 1, 1, 1, 1, 0);
	a.x[0] = x, a.h0[0] = h, a.c0[0] = c;
	lstm_forward_input(&L, &a, 0, 1, 1, 1);
	lstm_forward(&L, &a, 1, 1, 1);
	double gi = x * 0.1 + h * 0.5 + 0.01, gj = x * 0.2 + h * 0.6 + 0.02;
	double gf = x * 0.3 + h * 0.7 + 0.03, go = x * 0.4 + h * 0.8 + 0.04;
	double sg = 1 / (1 + exp(-gi)), sf = 1 / (1 + exp(-(gf + 1))), so = 1 / (1 + exp(-go));
	double cn = sg * tanh(gj) + sf * c, hn = so * tanh(cn);
	ok(fabs(a.c[0] - cn) < 1e-12 && fabs(a.h[0] - hn) < 1e-12,
	    "lstm gate order i j f o with forget bias +1: c %.12f want %.12f, h %.12f want %.12f",
	    a.c[0], cn, a.h[0], hn);
	free(buf);
}

int
main(void)
{
	uint64_t rng = 12345;

	argv0 = "nn-grad";
	test_gemm(&rng);
	test_dense(&rng);
	test_dropout(&rng);
	test_lstm_gates();
	test_lstm(3, 4, 5, 5, 2, &rng);
	test_lstm(3, 4, 6, 2, 2, &rng);
	test_lstm(1, 3, 4, 4, 3, &rng);
	return done();
}
