/* nn_packed.c: the AVX-512 matrix product behind nn_gemm, and products
 * with a weight packed once for many calls (the LSTM recurrent kernel,
 * used once per step). BLIS-style: op(B) is packed into 32-column panels,
 * op(A) into 8-row tiles, and an 8 x 32 FMA microkernel multiplies them
 * (this OpenBLAS build reaches about half the FMA rate on these shapes).
 * Returns 0 (caller falls back to BLAS) without AVX-512, in the double
 * build, or when DRUMVAE_NO_KERNEL is set. */
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "util.h"

#if !NN_IS_DOUBLE && defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_KERNEL 1
#endif

#define NR 32     /* panel width: two 16-float vectors */
#define MR 8      /* rows per tile (8 divides the usual batch sizes) */
#define KC 512    /* depth of one packed block */
#define MC 240    /* rows of A packed at a time (multiple of MR) */

int
nn_kernel_ok(void)
{
#ifdef HAVE_KERNEL
	static int have = -1;

	if (have < 0) {
		const char *e = getenv("DRUMVAE_NO_KERNEL");
		__builtin_cpu_init();
		have = __builtin_cpu_supports("avx512f") && !(e && *e);
	}
	return have;
#else
	return 0;
#endif
}

static Real *
grow(Real **buf, size_t *cap, size_t n)
{
	if (*cap < n) {
		free(*buf);
		*buf = NULL;
		if (posix_memalign((void **)buf, 64, n * sizeof(Real)))
			die(1, "out of memory (%zu bytes)", n * sizeof(Real));
		*cap = n;
	}
	return *buf;
}

/* op(B)[k0 .. k0+kc) x [0, N) into panels dst[(j/NR)][k][j%NR], zero padded.
 * op(B)[k][n] = tb ? B[n*ldb + k] : B[k*ldb + n]. */
static void
pack_b(Real *dst, const Real *B, int ldb, int tb, int k0, int kc, int N)
{
	for (int j0 = 0; j0 < N; j0 += NR) {
		Real *d = dst + (size_t)(j0 / NR) * kc * NR;
		int nc = N - j0 < NR ? N - j0 : NR;
		if (tb) {
			/* read rows of B contiguously, write the panel strided */
			for (int j = 0; j < NR; j++) {
				const Real *s = B + (size_t)(j0 + j) * ldb + k0;
				for (int k = 0; k < kc; k++)
					d[(size_t)k * NR + j] = j < nc ? s[k] : 0;
			}
			continue;
		}
		for (int k = 0; k < kc; k++, d += NR) {
			memcpy(d, B + (size_t)(k0 + k) * ldb + j0, nc * sizeof(Real));
			for (int j = nc; j < NR; j++)
				d[j] = 0;
		}
	}
}

#ifdef HAVE_KERNEL
/* op(A)[i0 .. i0+mc) x [k0 .. k0+kc) into tiles dst[(i/MR)][k][i%MR]. */
static void
pack_a(Real *dst, const Real *A, int lda, int ta, int i0, int mc, int k0, int kc)
{
	for (int t0 = 0; t0 < mc; t0 += MR) {
		Real *d = dst + (size_t)(t0 / MR) * kc * MR;
		int mr = mc - t0 < MR ? mc - t0 : MR;
		if (ta) {
			for (int k = 0; k < kc; k++, d += MR) {
				memcpy(d, A + (size_t)(k0 + k) * lda + i0 + t0, mr * sizeof(Real));
				for (int r = mr; r < MR; r++)
					d[r] = 0;
			}
		} else {
			const Real *s[MR];
			for (int r = 0; r < MR; r++)
				s[r] = r < mr ? A + (size_t)(i0 + t0 + r) * lda + k0 : NULL;
			if (mr == MR) {
				for (int k = 0; k < kc; k++, d += MR)
					for (int r = 0; r < MR; r++)
						d[r] = s[r][k];
			} else {
				for (int k = 0; k < kc; k++, d += MR)
					for (int r = 0; r < MR; r++)
						d[r] = r < mr ? s[r][k] : 0;
			}
		}
	}
}

/* C[0..mr) x [0..nc) = tile (kc x MR) x panel (kc x NR) + beta C */
__attribute__((target("avx512f")))
static void
tile(float *C, int ldc, const float *a, const float *b, int kc, int mr, int nc, float beta)
{
	__m512 c0[MR], c1[MR];
	__mmask16 m0 = nc >= 16 ? 0xffff : (__mmask16)((1u << nc) - 1);
	__mmask16 m1 = nc >= 32 ? 0xffff : nc <= 16 ? 0 : (__mmask16)((1u << (nc - 16)) - 1);

#pragma GCC unroll 8
	for (int r = 0; r < MR; r++)
		c0[r] = c1[r] = _mm512_setzero_ps();
	for (int k = 0; k < kc; k++, a += MR, b += NR) {
		__m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 8
		for (int r = 0; r < MR; r++) {
			__m512 av = _mm512_set1_ps(a[r]);
			c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
			c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
		}
	}
	for (int r = 0; r < mr; r++) {
		float *c = C + (size_t)r * ldc;
		if (beta != 0) {
			__m512 bv = _mm512_set1_ps(beta);
			c0[r] = _mm512_fmadd_ps(bv, _mm512_maskz_loadu_ps(m0, c), c0[r]);
			c1[r] = _mm512_fmadd_ps(bv, _mm512_maskz_loadu_ps(m1, c + 16), c1[r]);
		}
		_mm512_mask_storeu_ps(c, m0, c0[r]);
		_mm512_mask_storeu_ps(c + 16, m1, c1[r]);
	}
}

/* C (M, N) = op(A) x packed panels + beta C, for one K block already in bp */
static void
block(Real *C, int ldc, const Real *A, int lda, int ta, const Real *bp, int k0, int kc,
    int M, int N, Real beta)
{
	static _Thread_local Real *abuf;
	static _Thread_local size_t acap;
	Real *ap = grow(&abuf, &acap, (size_t)(MC + MR) * kc);

	for (int i0 = 0; i0 < M; i0 += MC) {
		int mc = M - i0 < MC ? M - i0 : MC;
		pack_a(ap, A, lda, ta, i0, mc, k0, kc);
		for (int j0 = 0; j0 < N; j0 += NR)
			for (int t0 = 0; t0 < mc; t0 += MR)
				tile(C + (size_t)(i0 + t0) * ldc + j0, ldc, ap + (size_t)(t0 / MR) * kc * MR,
				    bp + (size_t)(j0 / NR) * kc * NR, kc,
				    mc - t0 < MR ? mc - t0 : MR, N - j0 < NR ? N - j0 : NR, beta);
	}
}
#endif

int
nn_gemm_kernel(Real *C, int ldc, const Real *A, int lda, int ta,
    const Real *B, int ldb, int tb, int M, int N, int K, Real beta)
{
#ifdef HAVE_KERNEL
	static _Thread_local Real *bbuf;
	static _Thread_local size_t bcap;

	/* small products stay with BLAS: packing would not pay */
	if (!nn_kernel_ok() || M < 48 || K < 128)
		return 0;
	for (int k0 = 0; k0 < K; k0 += KC) {
		int kc = K - k0 < KC ? K - k0 : KC;
		Real *bp = grow(&bbuf, &bcap, ((size_t)N + NR) * kc);
		pack_b(bp, B, ldb, tb, k0, kc, N);
		block(C, ldc, A, lda, ta, bp, k0, kc, M, N, k0 ? 1 : beta);
	}
	return 1;
#else
	return 0;
#endif
}

void
nn_pack(NnPacked *p, const Real *W, int ldw, int trans, int K, int N)
{
	size_t np = ((size_t)N + NR - 1) / NR;

	p->W = W, p->ldw = ldw, p->trans = trans, p->K = K, p->N = N;
	if (!nn_kernel_ok())
		return;
	grow(&p->P, &p->cap, np * NR * K);
	for (int k0 = 0; k0 < K; k0 += KC) {
		int kc = K - k0 < KC ? K - k0 : KC;
		pack_b(p->P + (size_t)k0 * np * NR, W, ldw, trans, k0, kc, N);
	}
}

void
nn_packed_free(NnPacked *p)
{
	free(p->P);
	memset(p, 0, sizeof *p);
}

static void packed(Real *C, int ldc, const Real *A, int lda, const NnPacked *p, int M, Real beta);

void
nn_gemm_packed(Real *C, int ldc, const Real *A, int lda, const NnPacked *p, int M, Real beta)
{
	double t0;

	if (nn_naive || !p->P || !nn_kernel_ok()) {
		nn_gemm(C, ldc, A, lda, 0, p->W, p->ldw, p->trans, M, p->N, p->K, beta);
		return;
	}
	if (!nn_profile) {
		packed(C, ldc, A, lda, p, M, beta);
		return;
	}
	t0 = nn_now();
	packed(C, ldc, A, lda, p, M, beta);
	nn_prof(M, p->N, p->K, 0, 2, nn_now() - t0);
}

static void
packed(Real *C, int ldc, const Real *A, int lda, const NnPacked *p, int M, Real beta)
{
#ifdef HAVE_KERNEL
	size_t np = ((size_t)p->N + NR - 1) / NR;
	for (int k0 = 0; k0 < p->K; k0 += KC) {
		int kc = p->K - k0 < KC ? p->K - k0 : KC;
		block(C, ldc, A, lda, 0, p->P + (size_t)k0 * np * NR, k0, kc, M, p->N, k0 ? 1 : beta);
	}
#endif
}
