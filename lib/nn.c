/* nn.c: the matrix-product wrapper (OpenBLAS sgemm/dgemm, or naive loops),
 * dense layers, tanh and inverted dropout for the numeric core (nn.h).
 * Reads and writes caller buffers only. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#undef I    /* <complex.h>, pulled in by cblas.h, defines I */

#include "nn.h"
#include "rng.h"
#include "util.h"

#if !NN_IS_DOUBLE
#include "nn_simd.h"
#define SIMD 1
#endif
#if !NN_IS_DOUBLE && defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2 1
#endif

int nn_naive;
int nn_profile;
NnStats nn_stats;
void (*nn_trace)(int M, int N, int K, int ta, int tb, double sec);

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void gemm(Real *C, int ldc, const Real *A, int lda, int ta,
    const Real *B, int ldb, int tb, int M, int N, int K, Real beta);

void
nn_prof(int M, int N, int K, int ta, int tb, double sec)
{
	nn_stats.sec += sec;
	nn_stats.flops += 2.0 * M * N * K;
	nn_stats.calls++;
	if (nn_trace)
		nn_trace(M, N, K, ta, tb, sec);
}

double
nn_now(void)
{
	return now();
}

void
nn_gemm_ref(Real *C, int ldc, const Real *A, int lda, int ta,
    const Real *B, int ldb, int tb, int M, int N, int K, Real beta)
{
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			double s = 0;
			for (int k = 0; k < K; k++) {
				double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
				double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
				s += a * b;
			}
			Real *c = &C[(size_t)i * ldc + j];
			*c = (Real)(s + (beta != 0 ? beta * *c : 0));
		}
}

void
nn_gemm(Real *C, int ldc, const Real *A, int lda, int ta,
    const Real *B, int ldb, int tb, int M, int N, int K, Real beta)
{
	double t0;

	if (!nn_profile) {
		gemm(C, ldc, A, lda, ta, B, ldb, tb, M, N, K, beta);
		return;
	}
	t0 = now();
	gemm(C, ldc, A, lda, ta, B, ldb, tb, M, N, K, beta);
	nn_prof(M, N, K, ta, tb, now() - t0);
}

static void
gemm(Real *C, int ldc, const Real *A, int lda, int ta,
    const Real *B, int ldb, int tb, int M, int N, int K, Real beta)
{
	if (M <= 0 || N <= 0)
		return;
	if (K <= 0) {
		for (int i = 0; i < M; i++)
			for (int j = 0; j < N; j++)
				C[(size_t)i * ldc + j] = beta != 0 ? beta * C[(size_t)i * ldc + j] : 0;
		return;
	}
	if (nn_naive) {
		nn_gemm_ref(C, ldc, A, lda, ta, B, ldb, tb, M, N, K, beta);
		return;
	}
	if (nn_gemm_kernel(C, ldc, A, lda, ta, B, ldb, tb, M, N, K, beta))
		return;
#if NN_IS_DOUBLE
	cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
	    M, N, K, 1.0, A, lda, B, ldb, beta, C, ldc);
#else
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
	    M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
#endif
}

void
nn_colsum_add(Real *db, const Real *dy, int N, int O)
{
	for (int n = 0; n < N; n++) {
		const Real *r = dy + (size_t)n * O;
		int o = 0;
#ifdef SIMD
		for (; o + 8 <= O; o += 8)
			v8_st(db + o, v8_ld(db + o) + v8_ld(r + o));
#endif
		for (; o < O; o++)
			db[o] += r[o];
	}
}

double
nn_sumsq(const Real *x, size_t n)
{
	double s = 0;
	size_t i = 0;

#ifdef SIMD
	/* float partial sums over blocks of 1024, summed in double */
	while (i + 1024 <= n) {
		v8 acc = v8_set(0);
		float part[8];
		for (size_t e = i + 1024; i < e; i += 8) {
			v8 v = v8_ld(x + i);
			acc += v * v;
		}
		v8_st(part, acc);
		for (int k = 0; k < 8; k++)
			s += part[k];
	}
#endif
	for (; i < n; i++)
		s += (double)x[i] * x[i];
	return s;
}

#ifdef HAVE_AVX2
__attribute__((target("avx2")))
static size_t
adam_avx2(Real *p, Real *m, Real *v, const Real *g, size_t n, Real gscale, Real lr,
    Real b1, Real b2, Real eps)
{
	__m256 sc = _mm256_set1_ps(gscale), vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2);
	__m256 c1 = _mm256_set1_ps(1 - b1), c2 = _mm256_set1_ps(1 - b2);
	__m256 vlr = _mm256_set1_ps(lr), veps = _mm256_set1_ps(eps);
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256 gv = _mm256_mul_ps(_mm256_loadu_ps(g + i), sc);
		__m256 mv = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(c1, gv));
		__m256 vv = _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(v + i)),
		    _mm256_mul_ps(c2, _mm256_mul_ps(gv, gv)));
		__m256 d = _mm256_div_ps(_mm256_mul_ps(vlr, mv), _mm256_add_ps(_mm256_sqrt_ps(vv), veps));
		_mm256_storeu_ps(m + i, mv);
		_mm256_storeu_ps(v + i, vv);
		_mm256_storeu_ps(p + i, _mm256_sub_ps(_mm256_loadu_ps(p + i), d));
	}
	return i;
}
#endif

void
nn_adam(Real *p, Real *m, Real *v, const Real *g, size_t n, Real gscale, Real lr,
    Real b1, Real b2, Real eps)
{
	size_t i = 0;

#ifdef HAVE_AVX2
	if (__builtin_cpu_supports("avx2"))
		i = adam_avx2(p, m, v, g, n, gscale, lr, b1, b2, eps);
#endif
	for (; i < n; i++) {
		Real gi = g[i] * gscale;
		m[i] = b1 * m[i] + (1 - b1) * gi;
		v[i] = b2 * v[i] + (1 - b2) * gi * gi;
		p[i] -= lr * m[i] / (nn_sqrt(v[i]) + eps);
	}
}

void
nn_dense_forward(Real *y, const Real *x, const Real *W, const Real *b, int N, int I, int O)
{
	if (b)
		for (int n = 0; n < N; n++)
			memcpy(&y[(size_t)n * O], b, O * sizeof *y);
	nn_gemm(y, O, x, I, 0, W, O, 0, N, O, I, b ? 1 : 0);
}

void
nn_dense_backward(Real *dx, Real *dW, Real *db, const Real *dy,
    const Real *x, const Real *W, int N, int I, int O)
{
	nn_gemm(dW, O, x, I, 1, dy, O, 0, I, O, N, 1);
	if (db)
		nn_colsum_add(db, dy, N, O);
	if (dx)
		nn_gemm(dx, I, dy, O, 0, W, O, 1, N, I, O, 1);
}

void
nn_tanh_forward(Real *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = nn_tanh(x[i]);
}

void
nn_tanh_backward(Real *dx, const Real *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dx[i] *= 1 - y[i] * y[i];
}

void
nn_dropout(Real *x, unsigned char *mask, size_t n, float keep, uint64_t *rng)
{
	if (keep >= 1) {
		memset(mask, 1, n);
		return;
	}
	/* two 32-bit uniforms per rng draw */
	uint32_t thr = (uint32_t)((double)keep * 4294967296.0);
	Real scale = (Real)(1.0 / keep);
	size_t i = 0;
	for (; i + 1 < n; i += 2) {
		uint64_t r = rng_next(rng);
		mask[i] = (uint32_t)r < thr;
		mask[i + 1] = (uint32_t)(r >> 32) < thr;
		x[i] = mask[i] ? x[i] * scale : 0;
		x[i + 1] = mask[i + 1] ? x[i + 1] * scale : 0;
	}
	if (i < n) {
		mask[i] = (uint32_t)rng_next(rng) < thr;
		x[i] = mask[i] ? x[i] * scale : 0;
	}
}

void
nn_dropout_backward(Real *dx, const unsigned char *mask, size_t n, float keep)
{
	Real scale;

	if (keep >= 1)
		return;
	scale = (Real)(1.0 / keep);
	for (size_t i = 0; i < n; i++)
		dx[i] = mask[i] ? dx[i] * scale : 0;
}

void
nn_blas_threads_default(void)
{
	if (!getenv("OPENBLAS_NUM_THREADS"))
		openblas_set_num_threads(1);
}
