/* latent-mix: new points in latent space from encoded ones.
 * --slerp N: reads exactly two latent records A and B, writes N latents on
 * the great circle from mu_A to mu_B (MusicVAE interpolation).
 * --similar S: writes K latents z = S*z_in + (1-S)*eps per input latent. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rec_latent.h"
#include "rng.h"
#include "util.h"

#define MAX_OUT 100000 /* --slerp N and --count K */

static void
usage(int status)
{
	fprintf(stderr, "usage: %s --slerp N | --similar S [--count K] [--seed X] [file ...]\n",
	    argv0);
	exit(status);
}

static double
numarg(const char *s, const char *opt, double lo, double hi)
{
	double x;

	if (!parse_num(s, lo, hi, &x)) {
		warn("%s: \"%s\" is not a number in [%g, %g]", opt, s, lo, hi);
		usage(2);
	}
	return x;
}

static int
intarg(const char *s, const char *opt, int lo, int hi)
{
	double x = numarg(s, opt, lo, hi);

	if (x != (int)x) {
		warn("%s: \"%s\" is not an integer", opt, s);
		usage(2);
	}
	return (int)x;
}

/* Great-circle interpolation (Shoemake 1985), as magenta's _slerp, in
 * double: out = sin((1-t)w)/sin(w) a + sin(tw)/sin(w) b, w the angle between
 * a and b. Falls back to the straight line when sin(w) ~ 0 (parallel,
 * antiparallel or zero vectors). t = 0 and t = 1 give a and b exactly. */
static void
slerp(float *out, const float *a, const float *b, int n, double t)
{
	double dot = 0, na = 0, nb = 0, w, so, ca, cb;

	for (int i = 0; i < n; i++) {
		dot += (double)a[i] * b[i];
		na += (double)a[i] * a[i];
		nb += (double)b[i] * b[i];
	}
	ca = 1 - t;
	cb = t;
	if (na > 0 && nb > 0) {
		double c = dot / sqrt(na * nb);
		w = acos(c < -1 ? -1 : c > 1 ? 1 : c);
		so = sin(w);
		if (so > 1e-6) {
			ca = sin((1 - t) * w) / so;
			cb = sin(t * w) / so;
		}
	}
	for (int i = 0; i < n; i++)
		out[i] = (float)(ca * a[i] + cb * b[i]);
}

/* Next latent of the input files (files[0..nf), stdin when nf == 0):
 * 1 read, 0 end of all input; bad input exits 1. */
static int
next_latent(char **files, int nf, Rec *rec, Latent *l)
{
	static RecReader *r;
	static FILE *f;
	static int fi = -1;
	int st;

	for (;;) {
		if (!r) {
			if (++fi >= (nf ? nf : 1))
				return 0;
			if (!nf || !strcmp(files[fi], "-")) {
				f = stdin;
				r = rec_reader_new(f, "stdin");
			} else {
				f = efopen(files[fi], "rb");
				r = rec_reader_new(f, files[fi]);
			}
		}
		if ((st = rec_read(r, rec)) < 0)
			exit(1);
		if (st > 0) {
			if (!latent_from_rec(rec, l)) {
				rec_report(rec);
				exit(1);
			}
			return 1;
		}
		rec_reader_free(r);
		if (f != stdin)
			fclose(f);
		r = NULL;
	}
}

static void
do_slerp(char **files, int nf, int n)
{
	Latent a, b, c, out;
	RecWriter w;
	Rec rec;
	int k;

	latent_init(&a);
	latent_init(&b);
	latent_init(&c);
	latent_init(&out);
	if (!next_latent(files, nf, &rec, &a) || !next_latent(files, nf, &rec, &b))
		eprintf("--slerp needs exactly two latent records, got %s",
		    a.zdim ? "one" : "none");
	if (next_latent(files, nf, &rec, &c))
		eprintf("%s: record %zu (%s): --slerp needs exactly two latent records, got more",
		    rec.src, rec.index, rec.id);
	if (a.zdim != b.zdim)
		eprintf("zdim differs: %d in \"%s\", %d in \"%s\"", a.zdim, a.id, b.zdim, b.id);
	latent_alloc(&out, a.zdim);
	memset(out.sigma, 0, out.zdim * sizeof(float));
	recw_init(&w);
	for (k = 0; k < n; k++) {
		double t = (double)k / (n - 1);

		slerp(out.mu, a.mu, b.mu, a.zdim, t);
		memcpy(out.z, out.mu, out.zdim * sizeof(float));
		out.qpm = (1 - t) * a.qpm + t * b.qpm;
		if ((size_t)snprintf(out.id, sizeof(out.id), "%s~%s@t=%.4g", a.id, b.id, t) >=
		    sizeof(out.id))
			snprintf(out.id, sizeof(out.id), "interp@t=%.4g", t);
		latent_begin(&w, &out);
		recw_str(&w, "from", a.id);
		recw_str(&w, "to", b.id);
		recw_f64(&w, "t", t);
		recw_end(&w, stdout);
	}
	recw_free(&w);
	latent_free(&a);
	latent_free(&b);
	latent_free(&c);
	latent_free(&out);
}

static void
do_similar(char **files, int nf, double s, int count, uint64_t seed)
{
	static const char *const skip[] = { "zdim", "qpm", "mu", "sigma", "z", NULL };
	Latent in, out;
	RecWriter w;
	Rec rec;

	latent_init(&in);
	latent_init(&out);
	recw_init(&w);
	while (next_latent(files, nf, &rec, &in)) {
		latent_alloc(&out, in.zdim);
		out.qpm = in.qpm;
		memset(out.sigma, 0, out.zdim * sizeof(float));
		for (int k = 0; k < count; k++) {
			for (int i = 0; i < in.zdim; i++)
				out.z[i] = (float)(s * in.z[i] + (1 - s) * rng_normal(&seed));
			memcpy(out.mu, out.z, out.zdim * sizeof(float));
			if ((size_t)snprintf(out.id, sizeof(out.id), "%s~similar-%02d", in.id, k + 1) >=
			    sizeof(out.id))
				snprintf(out.id, sizeof(out.id), "similar-%02d", k + 1);
			latent_begin(&w, &out);
			recw_f64(&w, "similarity", s);
			recw_copy_except(&w, &rec, skip);
			recw_end(&w, stdout);
		}
	}
	recw_free(&w);
	latent_free(&in);
	latent_free(&out);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "slerp", required_argument, NULL, 'n' },
		{ "similar", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'k' },
		{ "seed", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, n = 0, count = 1, only = 0;
	double s = -1;
	uint64_t seed = 1;

	argv0 = "latent-mix";
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': n = intarg(optarg, "--slerp", 2, MAX_OUT); break;
		case 's': s = numarg(optarg, "--similar", 0, 1); break;
		case 'k': count = intarg(optarg, "--count", 1, MAX_OUT); only = 1; break;
		case 'S':
			only = 1;
			if (*optarg == '-' || !parse_u64(optarg, 0, &seed)) {
				warn("--seed: \"%s\" is not an unsigned integer", optarg);
				usage(2);
			}
			break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if ((n > 0) == (s >= 0)) {
		warn("give exactly one of --slerp and --similar");
		usage(2);
	}
	if (n > 0 && only) {
		warn("--count and --seed go with --similar");
		usage(2);
	}
	if (n > 0)
		do_slerp(argv + optind, argc - optind, n);
	else
		do_similar(argv + optind, argc - optind, s, count, seed);
	efflush_stdout();
	return 0;
}
