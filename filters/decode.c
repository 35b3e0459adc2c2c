/* decode: points in the VAE's latent space to drum patterns.
 * Reads latent records (their z) and a checkpoint (-m, mapped read-only),
 * or with --sample N draws z from the prior; writes pattern records, hits
 * sampled at --temperature, with the latent's metadata. --teacher FILE
 * decodes teacher-forced on FILE's patterns instead (evaluation). */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt.h"
#include "rec_input.h"
#include "rec_latent.h"
#include "rec_pattern.h"
#include "rng.h"
#include "util.h"

#define NB 64                     /* latents per decoder batch */
#define MAX_SAMPLE 10000000

static Vae m, m2;                 /* m2: same weights, own workspace */
static int twocpu;                /* run the two halves of a batch at once */
static RecHeld held[NB]; /* the records of the batch */
static float *z;                  /* (NB, Z) */
static float out[NB * VAE_T * VAE_O]; /* (NB, T, O) */
static double qpm[NB];
static char ids[NB][512];
static int nb;
static double bpm, temp = 0.5;
static uint64_t zrng, drng;       /* prior draws; hit sampling */
static RecReader *teacher;        /* --teacher: targets, in the latents' order */
static float *xt;                 /* (NB, T, O) their grooves */

static void
usage(int status)
{
	fprintf(stderr, "usage: %s -m CKPT [--sample N] [--temperature T] [--seed S] "
	    "[--bpm Q] [--teacher PATTERNS] [--strict]\n"
	    "       [file ...]\n", argv0);
	exit(status);
}

static double
numarg(const char *s, const char *opt, double lo, double hi)
{
	double v;

	if (!parse_num(s, lo, hi, &v)) {
		warn("--%s: \"%s\" is not a number in [%g, %g]", opt, s, lo, hi);
		usage(2);
	}
	return v;
}

/* Half a batch, decoded by one thread with its own generator. */
typedef struct {
	Vae *m;
	const float *z;                   /* (n, Z) */
	const float *x;                   /* (n, T, O) --teacher targets, or NULL */
	int n;
	uint64_t rng;
	float *out;                       /* (n, T, O) */
} Half;

static void *
decode_half(void *arg)
{
	Half *h = arg;

	if (h->x)
		vae_decode_teacher(h->m, h->z, h->x, h->n, h->out);
	else
		vae_decode(h->m, h->z, h->n, temp, &h->rng, h->out);
	return NULL;
}

/* Decode a batch: one of 32 or more is cut in two halves with generators
 * of their own, decoded at once on two CPUs (one after the other on one
 * CPU, with the same result): decode --sample 64 takes 35 ms instead of 52
 * here. Teacher forcing cuts the same way, so its step 0 is bit for bit
 * that of free decoding. */
static void
decode_batch(void)
{
	Half a = { &m, z, xt, nb / 2, drng, out }, b;
	pthread_t t;
	int threaded;

	if (nb < 32) {
		a.n = nb;
		decode_half(&a);
		drng = a.rng;
		return;
	}
	b = (Half){ &m2, z + (size_t)a.n * m.cfg.z, xt ? xt + (size_t)a.n * VAE_T * VAE_O : NULL,
	    nb - a.n, drng ^ 0x9e3779b97f4a7c15ull, out + (size_t)a.n * VAE_T * VAE_O };
	threaded = twocpu && pthread_create(&t, NULL, decode_half, &b) == 0;
	decode_half(&a);
	if (threaded)
		pthread_join(t, NULL);
	else
		decode_half(&b);
	drng = rng_next(&a.rng) ^ b.rng;
}

/* Decode the batch; src: the held latent records, or none (--sample). */
static void
flush(int src)
{
	static RecWriter w;
	static Pattern p;
	static int winit;

	if (!nb)
		return;
	if (!winit++)
		recw_init(&w);
	decode_batch();
	for (int b = 0; b < nb; b++) {
		memcpy(p.g, out + b * VAE_T * VAE_O, sizeof(p.g));
		snprintf(p.id, sizeof(p.id), "%s", ids[b]);
		p.qpm = bpm ? bpm : qpm[b];
		if (!src) {
			pattern_write(&w, &p, NULL, stdout);
			continue;
		}
		recw_begin(&w, "pattern", 1, p.id);
		recw_int(&w, "steps", PAT_T);
		recw_int(&w, "classes", PAT_C);
		recw_f64(&w, "qpm", p.qpm);
		recw_f32s(&w, "groove", p.g, PAT_T * PAT_O);
		recw_copy_except(&w, rec_unhold(&held[b]), latent_keys);
		recw_end(&w, stdout);
	}
	nb = 0;
}

/* Queue one latent, decoding when the batch is full; 1 ok, 0 bad record. */
static int
add(Rec *rec, void *ctx)
{
	static Latent l;
	int Z = m.cfg.z;

	if (latent_from_rec(rec, &l) && l.zdim != Z)
		rec_seterr(rec, "zdim", "is %d, the model's latent size is %d", l.zdim, Z);
	if (!rec_ok(rec))
		return 0;
	if (teacher) {
		static Pattern p;
		Rec tr;
		int st = rec_read(teacher, &tr);

		/* the streams go in lockstep: any mismatch ends the run */
		if (st < 0)
			exit(1);
		if (st == 0)
			eprintf("--teacher: no pattern left for latent %zu (%s)", rec->index, l.id);
		if (!pattern_from_rec(&tr, &p)) {
			rec_report(&tr);
			exit(1);
		}
		if (strcmp(p.id, l.id) != 0)
			eprintf("--teacher: latent %zu is \"%s\" but the next pattern is \"%s\"",
			    rec->index, l.id, p.id);
		memcpy(xt + (size_t)nb * VAE_T * VAE_O, p.g, sizeof(p.g));
	}
	memcpy(z + (size_t)nb * Z, l.z, Z * sizeof(float));
	qpm[nb] = l.qpm;
	snprintf(ids[nb], sizeof(ids[nb]), "%.507s#dec", l.id);
	rec_hold(&held[nb++], rec);
	if (nb == NB)
		flush(1);
	return 1;
}

int
main(int argc, char *argv[])
{
	enum { O_SAMPLE = 1, O_TEMP, O_SEED, O_BPM, O_STRICT, O_TEACHER };
	static const struct option lo[] = {
		{ "sample", 1, 0, O_SAMPLE }, { "temperature", 1, 0, O_TEMP },
		{ "seed", 1, 0, O_SEED }, { "bpm", 1, 0, O_BPM }, { "strict", 0, 0, O_STRICT },
		{ "teacher", 1, 0, O_TEACHER },
		{ 0, 0, 0, 0 }
	};
	const char *path = NULL, *tpath = NULL;
	char err[600];
	int c, bad, strict = 0, nsample = -1, Z;
	uint64_t seed = 1;
	Ckpt ck;

	argv0 = "decode";
	nn_blas_threads_default();
	while ((c = getopt_long(argc, argv, "hm:", lo, NULL)) != -1) {
		switch (c) {
		case 'm': path = optarg; break;
		case O_SAMPLE:
			nsample = numarg(optarg, "sample", 0, MAX_SAMPLE);
			if (nsample != numarg(optarg, "sample", 0, MAX_SAMPLE)) {
				warn("--sample: \"%s\" is not a whole number", optarg);
				usage(2);
			}
			break;
		case O_TEMP: temp = numarg(optarg, "temperature", 0, 100); break;
		case O_BPM: bpm = numarg(optarg, "bpm", 1, 999); break;
		case O_STRICT: strict = 1; break;
		case O_TEACHER: tpath = optarg; break;
		case O_SEED:
			if (!parse_u64(optarg, 10, &seed)) {
				warn("--seed: \"%s\" is not a number", optarg);
				usage(2);
			}
			break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!path || (nsample >= 0 && (optind < argc || tpath)))
		usage(2);
	if (ckpt_open(&ck, path, 0, err, sizeof(err)) < 0)
		eprintf("%s", err);
	ckpt_model(&m, &ck, 0);
	m2 = m;
	m2.ws = NULL;
	twocpu = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	nn_kernel_ok(); /* initialise the CPU check before any thread starts */
	Z = m.cfg.z;
	z = ereallocarray(NULL, (size_t)NB * Z, sizeof(float));
	zrng = seed;
	drng = seed ^ 0xd1b54a32d192ed03ull;

	if (nsample >= 0) {
		for (int i = 0; i < nsample; i++) {
			for (int j = 0; j < Z; j++)
				z[(size_t)nb * Z + j] = rng_normal(&zrng);
			qpm[nb] = 120;
			snprintf(ids[nb++], sizeof(ids[0]), "sample-%04d", i);
			if (nb == NB)
				flush(0);
		}
		flush(0);
		efflush_stdout();
		return 0;
	}
	if (tpath) {
		FILE *f = efopen(tpath, "rb");

		teacher = rec_reader_new(f, tpath);
		xt = ereallocarray(NULL, (size_t)NB * VAE_T, VAE_O * sizeof(float));
	}
	for (int i = 0; i < NB; i++)
		rec_held_init(&held[i]);
	bad = rec_each(argc - optind, argv + optind, strict, add, NULL);
	flush(1);
	efflush_stdout();
	return bad;
}
