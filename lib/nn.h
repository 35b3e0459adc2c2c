/* nn.h: the numeric core's scalar type, its one matrix-product wrapper
 * (OpenBLAS, or a naive reference loop for tests), and small elementwise
 * helpers. Row-major everywhere. Real is float; the gradient tests compile
 * the core with NN_DOUBLE defined, making Real double (tests/vae-grad.c). */
#ifndef NN_H
#define NN_H
#include <stddef.h>
#include <stdint.h>

#ifdef NN_DOUBLE
typedef double Real;
#define NN_IS_DOUBLE 1
#else
typedef float Real;
#define NN_IS_DOUBLE 0
#endif

/* C (M, N) = op(A) (M, K) * op(B) (K, N) + beta * C, row-major, where
 * op(A) = A (M, K) with leading dimension lda, or A^T when ta (A stored
 * (K, M)); same for B with tb. All products in the core go through here. */
void nn_gemm(Real *C, int ldc, const Real *A, int lda, int ta,
    const Real *B, int ldb, int tb, int M, int N, int K, Real beta);
/* The same product by three plain loops (double accumulation). */
void nn_gemm_ref(Real *C, int ldc, const Real *A, int lda, int ta,
    const Real *B, int ldb, int tb, int M, int N, int K, Real beta);
/* Nonzero: nn_gemm calls nn_gemm_ref (tests). */
extern int nn_naive;
/* Nonzero: nn_gemm adds its calls, flops (2MNK) and wall time to nn_stats
 * (benchmarks). */
extern int nn_profile;
typedef struct {
	uint64_t calls;
	double flops, sec;
} NnStats;
extern NnStats nn_stats;
/* When profiling and not NULL: called after every product with its shape
 * (tb = 2: a product with a packed weight). */
extern void (*nn_trace)(int M, int N, int K, int ta, int tb, double sec);
void nn_prof(int M, int N, int K, int ta, int tb, double sec);
double nn_now(void);

/* nn_packed.c: 1 when the AVX-512 kernel runs the products (else BLAS);
 * nn_gemm_kernel returns 0 without doing anything when it cannot. */
int nn_kernel_ok(void);
int nn_gemm_kernel(Real *C, int ldc, const Real *A, int lda, int ta,
    const Real *B, int ldb, int tb, int M, int N, int K, Real beta);
/* A weight W (K, N) (or W^T when trans: stored (N, K)) packed for
 * repeated products; P stays NULL when the kernel is not used. */
typedef struct {
	const Real *W;
	int ldw, trans, K, N;
	Real *P;          /* panels of 32 columns: (ceil(N/32), K, 32) */
	size_t cap;
} NnPacked;
/* (Re)pack W into p (reusing its buffer); call again after W changes. */
void nn_pack(NnPacked *p, const Real *W, int ldw, int trans, int K, int N);
void nn_packed_free(NnPacked *p);
/* C (M, N) = A (M, K) op(W) + beta C, from the packed W. */
void nn_gemm_packed(Real *C, int ldc, const Real *A, int lda, const NnPacked *p, int M, Real beta);

/* y (N, O) = x (N, I) W (I, O) + b (O); b may be NULL. */
void nn_dense_forward(Real *y, const Real *x, const Real *W, const Real *b,
    int N, int In, int On);
/* dW += x^T dy, db += colsum(dy), dx += dy W^T (dx, db may be NULL). */
void nn_dense_backward(Real *dx, Real *dW, Real *db, const Real *dy,
    const Real *x, const Real *W, int N, int In, int On);
/* db (O) += column sums of dy (N, O). */
void nn_colsum_add(Real *db, const Real *dy, int N, int O);
/* sum of x[i]^2 in double */
double nn_sumsq(const Real *x, size_t n);
/* Adam update, TF form: g' = gscale g; m = b1 m + (1-b1) g';
 * v = b2 v + (1-b2) g'^2; p -= lr m / (sqrt(v) + eps). */
void nn_adam(Real *p, Real *m, Real *v, const Real *g, size_t n, Real gscale, Real lr,
    Real b1, Real b2, Real eps);

/* Elementwise: y = tanh(x) in place over n values; dx = dy * (1 - y^2). */
void nn_tanh_forward(Real *x, size_t n);
void nn_tanh_backward(Real *dx, const Real *y, size_t n);

/* Inverted dropout in place: keep each value with probability keep and
 * scale it by 1/keep, else 0; mask (n) records 1 for kept values. keep >= 1
 * leaves x alone and sets mask to 1. */
void nn_dropout(Real *x, unsigned char *mask, size_t n, float keep, uint64_t *rng);
/* dx = dx_dropped * mask / keep, in place. */
void nn_dropout_backward(Real *dx, const unsigned char *mask, size_t n, float keep);

/* Scalar functions in the precision of Real. */
#include <math.h>
static inline Real nn_exp(Real x) { return NN_IS_DOUBLE ? (Real)exp(x) : expf((float)x); }
static inline Real nn_log(Real x) { return NN_IS_DOUBLE ? (Real)log(x) : logf((float)x); }
static inline Real nn_log1p(Real x) { return NN_IS_DOUBLE ? (Real)log1p(x) : log1pf((float)x); }
static inline Real nn_tanh(Real x) { return NN_IS_DOUBLE ? (Real)tanh(x) : tanhf((float)x); }
static inline Real nn_sqrt(Real x) { return NN_IS_DOUBLE ? (Real)sqrt(x) : sqrtf((float)x); }
static inline Real nn_sigmoid(Real x) { return 1 / (1 + nn_exp(-x)); }
/* softplus(x) = ln(1 + e^x), stable for large |x| */
static inline Real nn_softplus(Real x)
{
	return x > 0 ? x + nn_log1p(nn_exp(-x)) : nn_log1p(nn_exp(x));
}

/* One BLAS thread unless OPENBLAS_NUM_THREADS says otherwise: this model's
 * products are small, and a spinning thread pool collapses throughput on a
 * busy 2-core machine (decode: 0.45 s wall instead of 0.05 s, measured). */
void nn_blas_threads_default(void);

#endif
