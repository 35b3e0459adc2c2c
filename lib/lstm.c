/* lstm.c: LSTM layer forward/backward over time-major batches (lstm.h).
 * The input projection of all steps is one product; the recurrent part is
 * one (B, H) x (H, 4H) product per step. Backward recomputes nothing: it
 * reads the gate activations, cells and tanh(cells) kept by forward. */
#include <string.h>

#include "lstm.h"
#include "util.h"

/* The cell's elementwise work runs 8 lanes at a time in float; GCC builds
 * AVX-512, AVX2 and baseline versions and picks one at load time. */
#if !NN_IS_DOUBLE
#include "nn_simd.h"
#define SIMD 1
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

/* round up to 16 values (64 bytes) so every array stays aligned */
static size_t
al(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

size_t
lstm_acts_size(int T, int S, int B, int I, int H, int train)
{
	size_t U = T / S, TB = (size_t)T * B;
	size_t n = al(TB * I) + al(TB * 4 * H) + 3 * al(TB * H) + 2 * al(U * B * H);

	if (train)
		n += al(TB * H) + 2 * al(U * B * H) + al((size_t)B * H);
	return n;
}

Real *
lstm_acts_bind(LstmActs *a, Real *p, int T, int S, int B, int I, int H, int train)
{
	size_t U = T / S, TB = (size_t)T * B;

	ENSURE(S > 0 && T % S == 0);
	memset(a, 0, sizeof *a);
	a->x = p, p += al(TB * I);
	a->g = p, p += al(TB * 4 * H);
	a->c = p, p += al(TB * H);
	a->h = p, p += al(TB * H);
	a->tc = p, p += al(TB * H);
	a->c0 = p, p += al(U * B * H);
	a->h0 = p, p += al(U * B * H);
	if (train) {
		a->dh = p, p += al(TB * H);
		a->dc0 = p, p += al(U * B * H);
		a->dh0 = p, p += al(U * B * H);
		a->dc = p, p += al((size_t)B * H);
	}
	return p;
}

void
lstm_forward_input(const Lstm *L, LstmActs *a, int t0, int t1, int B, int nx)
{
	size_t G = 4 * (size_t)L->H, r0 = (size_t)t0 * B, r1 = (size_t)t1 * B;

	for (size_t r = r0; r < r1; r++)
		memcpy(&a->g[r * G], L->b, G * sizeof(Real));
	if (L->pwx && nx == L->I)
		nn_gemm_packed(a->g + r0 * G, G, a->x + r0 * L->I, L->I, L->pwx, r1 - r0, 1);
	else
		nn_gemm(a->g + r0 * G, G, a->x + r0 * L->I, L->I, 0, L->W, G, 0, r1 - r0, G, nx, 1);
}

/* g (B, 4H) pre-activations in, gate activations out; c, h, tc (B, H). */
CLONES static void
cell_forward(Real *g, const Real *cp, Real *c, Real *h, Real *tc, int B, int H)
{
	for (int b = 0; b < B; b++) {
		Real *gb = g + (size_t)b * 4 * H;
		size_t o0 = (size_t)b * H;
		int k = 0;
#ifdef SIMD
		for (; k + 8 <= H; k += 8) {
			v8 ig = v8_ld(gb + k), jg = v8_ld(gb + H + k);
			v8 fg = v8_ld(gb + 2 * H + k) + v8_set(1.0f), og = v8_ld(gb + 3 * H + k);
			v8 cc, tcc;
			v8_sigmoid(&ig), v8_tanh(&jg), v8_sigmoid(&fg), v8_sigmoid(&og);
			cc = ig * jg + fg * v8_ld(cp + o0 + k);
			tcc = cc;
			v8_tanh(&tcc);
			v8_st(gb + k, ig), v8_st(gb + H + k, jg);
			v8_st(gb + 2 * H + k, fg), v8_st(gb + 3 * H + k, og);
			v8_st(c + o0 + k, cc);
			v8_st(tc + o0 + k, tcc);
			v8_st(h + o0 + k, og * tcc);
		}
#endif
		for (; k < H; k++) {
			Real ig = nn_sigmoid(gb[k]);
			Real jg = nn_tanh(gb[H + k]);
			Real fg = nn_sigmoid(gb[2 * H + k] + 1);
			Real og = nn_sigmoid(gb[3 * H + k]);
			Real cc = ig * jg + fg * cp[o0 + k];
			Real tcc = nn_tanh(cc);
			gb[k] = ig, gb[H + k] = jg, gb[2 * H + k] = fg, gb[3 * H + k] = og;
			c[o0 + k] = cc;
			tc[o0 + k] = tcc;
			h[o0 + k] = og * tcc;
		}
	}
}

/* Gate activations in g (B, 4H) become pre-activation gradients, from dh
 * and the carried dc (B, H), which becomes the gradient on c_prev. */
CLONES static void
cell_backward(Real *g, Real *dc, const Real *dh, const Real *tc, const Real *cp, int B, int H)
{
	for (int b = 0; b < B; b++) {
		Real *gb = g + (size_t)b * 4 * H;
		size_t o0 = (size_t)b * H;
		int k = 0;
#ifdef SIMD
		const v8 one = v8_set(1.0f);
		for (; k + 8 <= H; k += 8) {
			v8 ig = v8_ld(gb + k), jg = v8_ld(gb + H + k);
			v8 fg = v8_ld(gb + 2 * H + k), og = v8_ld(gb + 3 * H + k);
			v8 tcc = v8_ld(tc + o0 + k), dhv = v8_ld(dh + o0 + k);
			v8 dcv = v8_ld(dc + o0 + k) + dhv * og * (one - tcc * tcc);
			v8_st(gb + k, dcv * jg * ig * (one - ig));
			v8_st(gb + H + k, dcv * ig * (one - jg * jg));
			v8_st(gb + 2 * H + k, dcv * v8_ld(cp + o0 + k) * fg * (one - fg));
			v8_st(gb + 3 * H + k, dhv * tcc * og * (one - og));
			v8_st(dc + o0 + k, dcv * fg);
		}
#endif
		for (; k < H; k++) {
			Real ig = gb[k], jg = gb[H + k], fg = gb[2 * H + k], og = gb[3 * H + k];
			Real tcc = tc[o0 + k], dhv = dh[o0 + k];
			Real dcv = dc[o0 + k] + dhv * og * (1 - tcc * tcc);
			gb[k] = dcv * jg * ig * (1 - ig);
			gb[H + k] = dcv * ig * (1 - jg * jg);
			gb[2 * H + k] = dcv * cp[o0 + k] * fg * (1 - fg);
			gb[3 * H + k] = dhv * tcc * og * (1 - og);
			dc[o0 + k] = dcv * fg;
		}
	}
}

void
lstm_forward_step(const Lstm *L, LstmActs *a, int t, int S, int B)
{
	int H = L->H;
	size_t G = 4 * (size_t)H, BH = (size_t)B * H;
	Real *g = a->g + (size_t)t * B * G;       /* (B, 4H) */
	Real *c = a->c + t * BH, *h = a->h + t * BH, *tc = a->tc + t * BH; /* (B, H) */
	const Real *hp, *cp;                      /* (B, H) previous state */

	if (t % S == 0) {
		hp = a->h0 + (t / S) * BH;
		cp = a->c0 + (t / S) * BH;
	} else {
		hp = a->h + (t - 1) * BH;
		cp = a->c + (t - 1) * BH;
	}
	if (t % S == 0 && a->zero0)
		;
	else if (L->pwh)
		nn_gemm_packed(g, G, hp, H, L->pwh, B, 1);
	else
		nn_gemm(g, G, hp, H, 0, L->W + (size_t)L->I * G, G, 0, B, G, H, 1);
	cell_forward(g, cp, c, h, tc, B, H);
}

void
lstm_forward(const Lstm *L, LstmActs *a, int T, int S, int B)
{
	for (int t = 0; t < T; t++)
		lstm_forward_step(L, a, t, S, B);
}

/* dh (B, H) = g (B, 4H) Wh^T + beta dh */
static void
whT(const Lstm *L, Real *dh, const Real *g, const Real *Wh, int B, Real beta)
{
	int H = L->H;

	if (L->pwht)
		nn_gemm_packed(dh, H, g, 4 * H, L->pwht, B, beta);
	else
		nn_gemm(dh, H, g, 4 * H, 0, Wh, 4 * H, 1, B, H, 4 * H, beta);
}

void
lstm_backward(const Lstm *L, LstmActs *a, Real *dx, int T, int S, int B)
{
	int H = L->H, I = L->I;
	size_t G = 4 * (size_t)H, BH = (size_t)B * H, TB = (size_t)T * B;
	const Real *Wh = L->W + (size_t)I * G;    /* (H, 4H) */
	Real *dWh = L->dW + (size_t)I * G;        /* (H, 4H) */
	Real *dc = a->dc;                         /* (B, H) carried cell gradient */

	for (int t = T - 1; t >= 0; t--) {
		int u = t / S, first = t % S == 0;
		Real *g = a->g + (size_t)t * B * G;   /* (B, 4H) */
		const Real *dh = a->dh + t * BH, *tc = a->tc + t * BH;
		const Real *cp = first ? a->c0 + u * BH : a->c + (t - 1) * BH;

		if (t % S == S - 1)
			memset(dc, 0, BH * sizeof *dc);
		cell_backward(g, dc, dh, tc, cp, B, H);
		if (first) {
			if (a->zero0)
				continue;
			memcpy(a->dc0 + u * BH, dc, BH * sizeof *dc);
			whT(L, a->dh0 + u * BH, g, Wh, B, 0);
		} else {
			whT(L, a->dh + (t - 1) * BH, g, Wh, B, 1);
		}
	}
	nn_colsum_add(L->db, a->g, TB, G);
	for (int u = 0; u < T / S; u++) {
		size_t t0 = (size_t)u * S;
		if (!a->zero0)
			nn_gemm(dWh, G, a->h0 + u * BH, H, 1, a->g + t0 * B * G, G, 0, H, G, B, 1);
		if (S > 1)
			nn_gemm(dWh, G, a->h + t0 * BH, H, 1, a->g + (t0 + 1) * B * G, G, 0,
			    H, G, (S - 1) * B, 1);
	}
	nn_gemm(L->dW, G, a->x, I, 1, a->g, G, 0, I, G, TB, 1);
	if (dx)
		nn_gemm(dx, I, a->g, G, 0, L->W, G, 1, TB, I, G, 0);
}
