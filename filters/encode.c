/* encode: patterns to points in the VAE's latent space.
 * Reads pattern records and a checkpoint (-m, mapped read-only); writes one
 * latent record per pattern: mu, sigma and z (z = mu unless --sample), with
 * the pattern's metadata. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "rec_input.h"
#include "rec_latent.h"
#include "rec_pattern.h"
#include "rng.h"
#include "util.h"

#define NB 64                     /* patterns per encoder batch */

static Vae m;
static RecHeld held[NB]; /* the records of the batch */
static float x[NB * VAE_T * VAE_O]; /* (NB, T, O) */
static double qpm[NB];
static int nb, sample, humanize;
static uint64_t rng;

static void
usage(int status)
{
	fprintf(stderr, "usage: %s -m CKPT [--sample] [--humanize] [--seed S] [--strict] "
	    "[file ...]\n", argv0);
	exit(status);
}

static void
flush(void)
{
	static float mu[NB * LAT_MAX_Z], sigma[NB * LAT_MAX_Z];
	static Latent l;
	static RecWriter w;
	int Z = m.cfg.z;

	if (!nb)
		return;
	if (!l.cap) {
		latent_alloc(&l, Z);
		recw_init(&w);
	}
	vae_encode(&m, x, nb, mu, sigma);
	for (int b = 0; b < nb; b++) {
		const Rec *rec = rec_unhold(&held[b]);

		snprintf(l.id, sizeof(l.id), "%s", rec->id);
		l.qpm = qpm[b];
		memcpy(l.mu, mu + b * Z, Z * sizeof(float));
		memcpy(l.sigma, sigma + b * Z, Z * sizeof(float));
		for (int i = 0; i < Z; i++)
			l.z[i] = sample ? l.mu[i] + l.sigma[i] * rng_normal(&rng) : l.mu[i];
		latent_write(&w, &l, rec, stdout);
	}
	nb = 0;
}

/* Queue one pattern, encoding when the batch is full; 1 ok, 0 bad record. */
static int
add(Rec *rec, void *ctx)
{
	static Pattern p;

	if (!pattern_from_rec(rec, &p))
		return 0;
	if (humanize)
		for (int t = 0; t < VAE_T; t++)
			memset(p.g + t * VAE_O + PAT_C, 0, 2 * PAT_C * sizeof(float));
	memcpy(x + nb * VAE_T * VAE_O, p.g, sizeof(p.g));
	qpm[nb] = p.qpm;
	rec_hold(&held[nb++], rec);
	if (nb == NB)
		flush();
	return 1;
}

int
main(int argc, char *argv[])
{
	enum { O_SAMPLE = 1, O_HUMANIZE, O_SEED, O_STRICT };
	static const struct option lo[] = {
		{ "sample", 0, 0, O_SAMPLE }, { "humanize", 0, 0, O_HUMANIZE },
		{ "seed", 1, 0, O_SEED }, { "strict", 0, 0, O_STRICT }, { 0, 0, 0, 0 }
	};
	const char *path = NULL;
	char err[600];
	int c, bad, strict = 0;
	Ckpt ck;

	argv0 = "encode";
	nn_blas_threads_default();
	rng = 1;
	while ((c = getopt_long(argc, argv, "hm:", lo, NULL)) != -1) {
		switch (c) {
		case 'm': path = optarg; break;
		case O_SAMPLE: sample = 1; break;
		case O_HUMANIZE: humanize = 1; break;
		case O_STRICT: strict = 1; break;
		case O_SEED:
			if (!parse_u64(optarg, 10, &rng)) {
				warn("--seed: \"%s\" is not a number", optarg);
				usage(2);
			}
			break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!path)
		usage(2);
	if (ckpt_open(&ck, path, 0, err, sizeof(err)) < 0)
		eprintf("%s", err);
	if (ck.cfg.z > LAT_MAX_Z)
		eprintf("%s: latent size %d is larger than a latent record holds (%d)",
		    path, ck.cfg.z, LAT_MAX_Z);
	ckpt_model(&m, &ck, 0);
	for (int i = 0; i < NB; i++)
		rec_held_init(&held[i]);
	bad = rec_each(argc - optind, argv + optind, strict, add, NULL);
	flush();
	efflush_stdout();
	return bad;
}
