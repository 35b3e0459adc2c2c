/* rng.h: the only randomness in drumvae. One uint64_t state, passed by
 * pointer, advanced by splitmix64 (Steele, Lea, Flood 2014). */
#ifndef RNG_H
#define RNG_H
#include <math.h>
#include <stdint.h>

static inline uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* uniform in [0, 1) with 24 random bits */
static inline float
rng_uniform(uint64_t *s)
{
	return (float)(rng_next(s) >> 40) * (1.0f / 16777216.0f);
}

/* standard normal, Box-Muller (one value per call) */
static inline float
rng_normal(uint64_t *s)
{
	double u1 = ((rng_next(s) >> 11) + 1.0) * (1.0 / 9007199254740993.0); /* (0, 1] */
	double u2 = (rng_next(s) >> 11) * (1.0 / 9007199254740992.0);

	return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* uniform integer in [0, n) */
static inline uint64_t
rng_below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

#endif
