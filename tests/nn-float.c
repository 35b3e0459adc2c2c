/* nn-float.c: TAP test of the float fast paths: the 8-wide exp, sigmoid
 * and tanh of nn_simd.h against libm in double over [-100, 100], and one
 * LSTM step (SIMD lanes and scalar tail) against a double computation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lstm.h"
#include "nn_simd.h"
#include "rng.h"
#include "util.h"

#include "tap.h"

enum { EXP, SIG, TANH };

static double
ref(int f, double x)
{
	return f == EXP ? exp(x) : f == SIG ? 1 / (1 + exp(-x)) : tanh(x);
}

/* worst error relative to max(|ref|, tiny) over a grid; exp only where it
 * is a normal float */
static void
act(int f, const char *name, double lo, double hi, double tol, double floor)
{
	double worst = 0, at = 0, got = 0;
	float buf[8];

	for (double x0 = lo; x0 < hi; x0 += 8 * 1e-3) {
		for (int i = 0; i < 8; i++)
			buf[i] = (float)(x0 + i * 1e-3);
		v8 v = v8_ld(buf);
		if (f == EXP)
			v8_exp(&v);
		else if (f == SIG)
			v8_sigmoid(&v);
		else
			v8_tanh(&v);
		float out[8];
		v8_st(out, v);
		for (int i = 0; i < 8; i++) {
			double r = ref(f, buf[i]);
			double e = fabs(out[i] - r) / fmax(fabs(r), floor);
			if (e > worst)
				worst = e, at = buf[i], got = out[i];
		}
	}
	ok(worst < tol, "%s on [%g, %g]: max rel err %.3g at %.6g (got %.9g, want %.9g)",
	    name, lo, hi, worst, at, got, ref(f, at));
}

static void
cell(int H)
{
	enum { B = 3 };
	int I = 4;
	size_t G = 4 * (size_t)H, nW = (size_t)(I + H) * G;
	float *W = emalloc(nW * sizeof *W), *b = emalloc(G * sizeof *b);
	float *buf = ecalloc(lstm_acts_size(1, 1, B, I, H, 0), sizeof *buf);
	Lstm L = { .I = I, .H = H, .W = W, .b = b };
	LstmActs a;
	uint64_t rng = 3;
	double worst = 0;

	for (size_t i = 0; i < nW; i++)
		W[i] = 2 * (rng_uniform(&rng) - 0.5f);
	for (size_t i = 0; i < G; i++)
		b[i] = 2 * (rng_uniform(&rng) - 0.5f);
	lstm_acts_bind(&a, buf, 1, 1, B, I, H, 0);
	for (int i = 0; i < B * I; i++)
		a.x[i] = 3 * (rng_uniform(&rng) - 0.5f);
	for (int i = 0; i < B * H; i++)
		a.h0[i] = rng_uniform(&rng) - 0.5f, a.c0[i] = 4 * (rng_uniform(&rng) - 0.5f);
	lstm_forward_input(&L, &a, 0, 1, B, I);
	lstm_forward(&L, &a, 1, 1, B);
	for (int r = 0; r < B; r++)
		for (int k = 0; k < H; k++) {
			double gt[4];
			for (int q = 0; q < 4; q++) {
				double s = b[q * H + k];
				for (int i = 0; i < I; i++)
					s += (double)a.x[r * I + i] * W[(size_t)i * G + q * H + k];
				for (int i = 0; i < H; i++)
					s += (double)a.h0[r * H + i] * W[(size_t)(I + i) * G + q * H + k];
				gt[q] = s;
			}
			double c = 1 / (1 + exp(-gt[0])) * tanh(gt[1]) +
			    1 / (1 + exp(-(gt[2] + 1))) * a.c0[r * H + k];
			double h = 1 / (1 + exp(-gt[3])) * tanh(c);
			worst = fmax(worst, fmax(fabs(a.c[r * H + k] - c), fabs(a.h[r * H + k] - h)));
		}
	ok(worst < 2e-6, "float lstm step H=%d (gate order i j f o, forget +1) matches double: max diff %.3g",
	    H, worst);
	free(W), free(b), free(buf);
}

/* nn_gemm (the AVX-512 kernel when available, else BLAS) and the packed
 * product against the naive loops, odd sizes and every transpose */
static void
gemm(int M, int N, int K)
{
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
			float *A = emalloc((size_t)(ta ? K : M) * lda * sizeof *A);
			float *B = emalloc((size_t)(tb ? N : K) * ldb * sizeof *B);
			float *C1 = emalloc((size_t)M * ldc * sizeof *C1), *C2 = emalloc((size_t)M * ldc * sizeof *C2);
			float *C3 = emalloc((size_t)M * ldc * sizeof *C3);
			uint64_t rng = 9;
			double worst = 0, worst3 = 0, scale = 0;
			NnPacked p = { 0 };
			for (size_t i = 0; i < (size_t)(ta ? K : M) * lda; i++)
				A[i] = rng_uniform(&rng) - 0.5f;
			for (size_t i = 0; i < (size_t)(tb ? N : K) * ldb; i++)
				B[i] = rng_uniform(&rng) - 0.5f;
			for (size_t i = 0; i < (size_t)M * ldc; i++)
				C1[i] = C2[i] = C3[i] = rng_uniform(&rng);
			nn_gemm(C1, ldc, A, lda, ta, B, ldb, tb, M, N, K, 0.5f);
			nn_gemm_ref(C2, ldc, A, lda, ta, B, ldb, tb, M, N, K, 0.5f);
			if (!ta) {
				nn_pack(&p, B, ldb, tb, K, N);
				nn_gemm_packed(C3, ldc, A, lda, &p, M, 0.5f);
				nn_packed_free(&p);
			}
			for (int i = 0; i < M; i++)
				for (int j = 0; j < ldc; j++) {
					size_t q = (size_t)i * ldc + j;
					scale = fmax(scale, fabs(C2[q]));
					worst = fmax(worst, fabs(C1[q] - C2[q]));
					if (!ta)
						worst3 = fmax(worst3, fabs(C3[q] - C2[q]));
				}
			ok(worst < 1e-5 * scale && worst3 < 1e-5 * scale,
			    "gemm %dx%dx%d ta=%d tb=%d (kernel %s): max diff %.3g, packed %.3g (scale %.3g)",
			    M, N, K, ta, tb, nn_kernel_ok() ? "AVX-512" : "off, BLAS", worst, worst3, scale);
			free(A), free(B), free(C1), free(C2), free(C3);
		}
}

int
main(void)
{
	argv0 = "nn-float";
	act(EXP, "exp", -87, 87.9, 4e-7, 1e-30);
	act(SIG, "sigmoid", -100, 100, 4e-7, 1e-30);
	act(TANH, "tanh", -100, 100, 4e-7, 1e-30);
	act(TANH, "tanh near 0", -0.7, 0.7, 4e-7, 1e-30);
	cell(16);
	cell(13);
	gemm(100, 70, 300);
	gemm(64, 2048 + 5, 600);
	gemm(50, 33, 1100);
	return done();
}
