/* nn_simd.h: 8-wide float vectors (GCC/clang vector extensions, lowered to
 * SSE2, AVX2 or AVX-512 by the compiler) and the activations on them:
 * exp by Cephes-style range reduction (2^n * degree-6 polynomial on
 * |r| <= ln2/2, about 1 ulp), sigmoid, and tanh (odd polynomial for
 * |x| < 0.625, else 1 - 2 / (e^2|x| + 1), as Cephes tanhf). Float only;
 * the double build of the core keeps libm. */
#ifndef NN_SIMD_H
#define NN_SIMD_H
#include <stdint.h>
#include <string.h>

/* static inline only: the by-value vector ABI note does not apply */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v8 __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

/* Vectors never pass by value into functions (that would change the ABI
 * between targets): macros, or pointers for the activations. */
static inline v8 v8_ld(const float *p) { v8 v; memcpy(&v, p, sizeof v); return v; }
#define v8_st(p, v) ((void)memcpy((p), (v8[1]){ (v) }, sizeof(v8)))
static inline v8 v8_set(float x) { return (v8){ x, x, x, x, x, x, x, x }; }
/* m ? a : b, m all-ones or all-zeros per lane */
#define v8_sel(m, a, b) ((v8)(((m) & (v8i)(a)) | (~(m) & (v8i)(b))))

/* *px = exp(*px) */
static inline void
v8_exp(v8 *px)
{
	const v8 hi = v8_set(88.0f), lo = v8_set(-87.0f), magic = v8_set(12582912.0f);
	v8 x = *px, t, n, r, p;
	v8i ni;

	x = v8_sel(x > hi, hi, x);
	x = v8_sel(x < lo, lo, x);
	t = x * v8_set(1.44269504088896341f) + magic;  /* round(x / ln2) in the low bits */
	n = t - magic;
	ni = (v8i)t - (v8i)magic;
	r = x - n * v8_set(0.693359375f);
	r = r - n * v8_set(-2.12194440e-4f);
	p = v8_set(1.9875691500e-4f);
	p = p * r + v8_set(1.3981999507e-3f);
	p = p * r + v8_set(8.3334519073e-3f);
	p = p * r + v8_set(4.1665795894e-2f);
	p = p * r + v8_set(1.6666665459e-1f);
	p = p * r + v8_set(5.0000001201e-1f);
	p = p * r * r + r + v8_set(1.0f);
	*px = p * (v8)((ni + 127) << 23);
}

/* *px = 1 / (1 + exp(-*px)) */
static inline void
v8_sigmoid(v8 *px)
{
	v8 e = -*px;

	v8_exp(&e);
	*px = v8_set(1.0f) / (v8_set(1.0f) + e);
}

/* *px = tanh(*px) */
static inline void
v8_tanh(v8 *px)
{
	const v8i sign = (v8i)v8_set(-0.0f);
	v8 x = *px, ax = (v8)((v8i)x & ~sign), z = x * x, small, big, e;

	small = v8_set(-5.70498872745e-3f);
	small = small * z + v8_set(2.06390887954e-2f);
	small = small * z + v8_set(-5.37397155531e-2f);
	small = small * z + v8_set(1.33314422036e-1f);
	small = small * z + v8_set(-3.33332819422e-1f);
	small = small * z * x + x;
	e = ax + ax;
	v8_exp(&e);
	big = v8_set(1.0f) - v8_set(2.0f) / (e + v8_set(1.0f));
	big = (v8)((v8i)big | ((v8i)x & sign));
	*px = v8_sel(ax < v8_set(0.625f), small, big);
}

#endif
