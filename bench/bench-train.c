/* bench-train.c: training-step speed of a preset: examples/s of
 * vae_forward_backward + vae_adam_step on synthetic patterns, the share of
 * time spent in matrix products, and the same products timed alone by
 * sgemm (same shapes, same thread count) as the yardstick. Reads nothing;
 * writes one table row per run on stdout (-H: the header). Times are the
 * best of the runs, since the machine may be shared. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#undef I

#include "rng.h"
#include "util.h"
#include "vae.h"

typedef struct {
	int M, N, K, ta, tb;
	long calls;
	double sec;
} Shape;

static Shape shapes[512];
static int nshapes;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void
trace(int M, int N, int K, int ta, int tb, double sec)
{
	for (int i = 0; i < nshapes; i++) {
		Shape *s = &shapes[i];
		if (s->M == M && s->N == N && s->K == K && s->ta == ta && s->tb == tb) {
			s->calls++, s->sec += sec;
			return;
		}
	}
	ENSURE(nshapes < (int)LEN(shapes));
	shapes[nshapes++] = (Shape){ M, N, K, ta, tb, 1, sec };
}

/* Seconds per call of one shape alone (hot caches, like the repeated
 * weights): the best of several rounds, since the machine is shared; by
 * OpenBLAS sgemm (blas) or by nn_gemm, i.e. our kernel where it is used
 * (packed products are timed with their packing excluded, as in a step). */
static double
alone(const Shape *s, int blas)
{
	size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
	float *A = ecalloc(na, sizeof *A), *B = ecalloc(nb, sizeof *B), *C = ecalloc(nc, sizeof *C);
	double best = 1e30;

	for (size_t i = 0; i < na; i++)
		A[i] = (float)(i % 7) * 0.1f;
	for (size_t i = 0; i < nb; i++)
		B[i] = (float)(i % 5) * 0.1f;
	int tb = s->tb == 1, lda = s->ta ? s->M : s->K, ldb = tb ? s->K : s->N;
	NnPacked p = { 0 };

	if (!blas && s->tb == 2)
		nn_pack(&p, B, ldb, 0, s->K, s->N);
	for (int round = 0; round < 5; round++) {
		double t0 = now(), t;
		long reps = 0;
		do {
			if (blas)
				cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
				    tb ? CblasTrans : CblasNoTrans, s->M, s->N, s->K, 1.0f,
				    A, lda, B, ldb, 1.0f, C, s->N);
			else if (s->tb == 2)
				nn_gemm_packed(C, s->N, A, lda, &p, s->M, 1.0f);
			else
				nn_gemm(C, s->N, A, lda, s->ta, B, ldb, tb, s->M, s->N, s->K, 1.0f);
			reps++;
			t = now() - t0;
		} while (t < 0.004 || reps < 2);
		if (t / reps < best)
			best = t / reps;
	}
	nn_packed_free(&p);
	free(A), free(B), free(C);
	return best;
}

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-H] [-p preset] [-b batch] [-n steps] [-t threads] [-v]\n", argv0);
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *preset = "groovae";
	int B = 64, steps = 5, threads = 1, verbose = 0, c;
	VaeConfig cfg;
	Vae m;
	VaeLoss l;
	uint64_t rng = 1;
	float *x, lr;
	double t0, t, gsec = 0, gflops = 0, ideal = 0, idealb = 0;

	argv0 = "bench-train";
	while ((c = getopt(argc, argv, "Hhp:b:n:t:v")) != -1) {
		switch (c) {
		case 'H':
			printf("%-8s %5s %3s %7s %8s %6s %6s %7s %7s %8s %6s %6s\n", "preset", "B", "thr",
			    "ex/s", "step_ms", "gemm%", "GF/s", "blasGF", "bestGF", "ideal_ms",
			    "effB%", "eff%");
			return 0;
		case 'p': preset = optarg; break;
		case 'b': B = atoi(optarg); break;
		case 'n': steps = atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'v': verbose = 1; break;
		case 'h':
		default: usage();
		}
	}
	if (optind != argc || B < 1 || steps < 1 || threads < 1 || vae_config_preset(&cfg, preset))
		usage();
	openblas_set_num_threads(threads);
	vae_layout(&m, &cfg);
	vae_alloc(&m, NULL, 1);
	vae_init_params(&m, &rng);
	x = ecalloc((size_t)B * VAE_T * VAE_O, sizeof *x);
	for (size_t i = 0; i < (size_t)B * VAE_T; i++)
		for (int k = 0; k < VAE_C; k++)
			if (rng_uniform(&rng) < 0.13f) {
				x[i * VAE_O + k] = 1;
				x[i * VAE_O + VAE_C + k] = rng_uniform(&rng);
				x[i * VAE_O + 2 * VAE_C + k] = rng_uniform(&rng) - 0.5f;
			}
	vae_forward_backward(&m, x, B, &rng, &l);   /* warm up: allocation */
	vae_adam_step(&m, &lr);
	/* the fastest of the steps: the machine is shared */
	nn_profile = 1;
	nn_trace = trace;
	t = 1e30;
	for (int i = 0; i < steps; i++) {
		memset(&nn_stats, 0, sizeof nn_stats);
		t0 = now();
		vae_forward_backward(&m, x, B, &rng, &l);
		vae_adam_step(&m, &lr);
		t0 = now() - t0;
		if (t0 < t)
			t = t0, gsec = nn_stats.sec, gflops = nn_stats.flops;
	}
	nn_profile = 0;
	for (int i = 0; i < nshapes; i++) {
		Shape *s = &shapes[i];
		double f = 2.0 * s->M * s->N * s->K;
		double ab = alone(s, 1), ak = alone(s, 0), a = ab < ak ? ab : ak;
		ideal += a * s->calls / steps;
		idealb += ab * s->calls / steps;
		if (verbose)
			fprintf(stderr, "%5d x %5d x %5d ta %d tb %d: %4ld calls/step, in-step %6.1f GF/s, "
			    "alone: sgemm %6.1f, nn_gemm %6.1f GF/s; %6.1f ms/step\n", s->M, s->N, s->K,
			    s->ta, s->tb, s->calls / steps, f * s->calls / s->sec / 1e9, f / ab / 1e9,
			    f / ak / 1e9, 1e3 * s->sec / steps);
	}
	/* effB: the step's products timed alone by OpenBLAS sgemm / the step;
	 * eff: the same with the faster of sgemm and our kernel per shape */
	printf("%-8s %5d %3d %7.1f %8.1f %6.1f %6.1f %7.1f %7.1f %8.1f %6.1f %6.1f\n", preset, B,
	    threads, B / t, 1e3 * t, 100 * gsec / t, gflops / gsec / 1e9, gflops / idealb / 1e9,
	    gflops / ideal / 1e9, 1e3 * ideal, 100 * idealb / t, 100 * ideal / t);
	free(x);
	vae_free(&m);
	return 0;
}
