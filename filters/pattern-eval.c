/* pattern-eval: numbers for a model's patterns.
 * --ref ORIG: reads original and reconstructed patterns in lockstep, writes
 * one metrics record "reconstruction" (hit P/R/F1, velocity and timing error).
 * --stats TRAIN: reads training and sampled patterns, writes metrics records
 * "stats-train", "stats-samples" and "distribution". A table goes to stderr. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rec_pattern.h"
#include "util.h"

#define VBINS 16 /* velocity histogram: bins of 8 MIDI values over 0..127 */
#define MAJOR 0.05 /* a class holding this share of training hits is flagged */

typedef struct {
	char **files;
	int nf, fi;
	FILE *f;
	RecReader *r;
	Rec rec;
	Pattern p;
} Stream;

typedef struct {
	long n, hits[PAT_C], vhist[PAT_C][VBINS];
	double vsum[PAT_C];  /* velocity (MIDI units) over hits */
	double vall, tsum;   /* the same over all classes; |offset| in ms */
} Dist;

static const char *const cname[PAT_C] = {
	"kick", "snare", "closed_hh", "open_hh", "low_tom", "mid_tom", "high_tom", "crash", "ride",
};

static void
usage(int status)
{
	fprintf(stderr, "usage: %s --ref ORIG [--train TRAIN] [--text] [file ...]\n"
	    "       %s --stats TRAIN [--text] [file ...]\n", argv0, argv0);
	exit(status);
}

static void
stream_init(Stream *s, char **files, int nf)
{
	static char *dash[] = { "-" };

	memset(s, 0, sizeof(*s));
	s->files = nf ? files : dash;
	s->nf = nf ? nf : 1;
}

/* 1: s->p and s->rec hold the next pattern; 0: end of all files; exits 1 on
 * bad input. */
static int
stream_next(Stream *s)
{
	int st;

	for (;;) {
		if (!s->r) {
			const char *path;

			if (s->fi >= s->nf)
				return 0;
			path = s->files[s->fi++];
			s->f = strcmp(path, "-") ? efopen(path, "rb") : stdin;
			s->r = rec_reader_new(s->f, s->f == stdin ? "stdin" : path);
		}
		if ((st = rec_read(s->r, &s->rec)) < 0)
			exit(1);
		if (st > 0) {
			if (!pattern_from_rec(&s->rec, &s->p)) {
				rec_report(&s->rec);
				exit(1);
			}
			return 1;
		}
		rec_reader_free(s->r);
		if (s->f != stdin)
			fclose(s->f);
		s->r = NULL;
	}
}

static double
step_ms(double qpm)
{
	return 60000.0 / qpm / 4;
}

static int
hit(const Pattern *p, int t, int c)
{
	return p->g[t * PAT_O + c] > 0.5f;
}

static double vel(const Pattern *p, int t, int c) { return 127.0 * p->g[t * PAT_O + PAT_C + c]; }
static double off(const Pattern *p, int t, int c) { return p->g[t * PAT_O + 2 * PAT_C + c]; }

/* Writes num/den under key, or nothing when den is 0 (undefined). */
static void
putq(RecWriter *w, const char *key, double num, double den)
{
	if (den != 0)
		recw_f64(w, key, num / den);
}

static void
prq(FILE *f, double num, double den)
{
	if (den != 0)
		fprintf(f, " %9.4f", num / den);
	else
		fprintf(f, " %9s", "-");
}

static void
dist_add(Dist *d, const Pattern *p)
{
	d->n++;
	for (int t = 0; t < PAT_T; t++)
		for (int c = 0; c < PAT_C; c++) {
			double v = vel(p, t, c);
			long b;

			if (!hit(p, t, c))
				continue;
			b = lround(v < 0 ? 0 : v > 127 ? 127 : v) / 8;
			d->hits[c]++;
			d->vhist[c][b]++;
			d->vsum[c] += v;
			d->vall += v;
			d->tsum += fabs(off(p, t, c)) / 2 * step_ms(p->qpm);
		}
}

static long
dist_hits(const Dist *d)
{
	long n = 0;

	for (int c = 0; c < PAT_C; c++)
		n += d->hits[c];
	return n;
}

/* Total-variation distance between the velocity histograms of class c (or
 * of all classes when c < 0): 0.5 * sum |p_i - q_i|; -1 when one is empty. */
static double
tv(const Dist *a, const Dist *b, int c)
{
	double s = 0, na = 0, nb = 0, ha[VBINS] = { 0 }, hb[VBINS] = { 0 };

	for (int k = c < 0 ? 0 : c; k < (c < 0 ? PAT_C : c + 1); k++)
		for (int i = 0; i < VBINS; i++) {
			ha[i] += a->vhist[k][i];
			hb[i] += b->vhist[k][i];
			na += a->vhist[k][i];
			nb += b->vhist[k][i];
		}
	if (!na || !nb)
		return -1;
	for (int i = 0; i < VBINS; i++)
		s += fabs(ha[i] / na - hb[i] / nb);
	return s / 2;
}

static void
read_dist(Dist *d, Stream *s)
{
	memset(d, 0, sizeof(*d));
	while (stream_next(s))
		dist_add(d, &s->p);
	if (!d->n)
		eprintf("%s: no patterns", s->files[0]);
}

static void
stats_record(RecWriter *w, const char *id, const char *file, const Dist *d)
{
	char key[64];
	long h = dist_hits(d);

	recw_begin(w, "metrics", 1, id);
	recw_str(w, "file", file);
	recw_int(w, "patterns", d->n);
	recw_int(w, "hits", h);
	recw_f64(w, "density", (double)h / d->n);
	for (int c = 0; c < PAT_C; c++) {
		snprintf(key, sizeof(key), "density_%s", cname[c]);
		recw_f64(w, key, (double)d->hits[c] / d->n);
	}
	putq(w, "vel_mean", d->vall, h);
	putq(w, "timing_ms", d->tsum, h);
	recw_end(w, stdout);
}

static void
do_stats(char *train, char **files, int nf, int text)
{
	FILE *tab = text ? stdout : stderr;
	Stream s;
	Dist a, b;
	RecWriter w;
	char key[64];
	long ha, hb;
	double maxrel = -1;

	stream_init(&s, &train, 1);
	read_dist(&a, &s);
	stream_init(&s, files, nf);
	read_dist(&b, &s);
	ha = dist_hits(&a);
	hb = dist_hits(&b);
	for (int c = 0; c < PAT_C; c++)
		if (a.hits[c] && a.hits[c] >= MAJOR * ha) {
			double rel = fabs(((double)b.hits[c] / b.n) / ((double)a.hits[c] / a.n) - 1);
			maxrel = rel > maxrel ? rel : maxrel;
		}
	if (!text) {
		recw_init(&w);
		stats_record(&w, "stats-train", train, &a);
		stats_record(&w, "stats-samples", nf ? files[0] : "-", &b);
		recw_begin(&w, "metrics", 1, "distribution");
		if (ha)
			recw_f64(&w, "density_rel", ((double)hb / b.n) / ((double)ha / a.n) - 1);
		for (int c = 0; c < PAT_C; c++) {
			snprintf(key, sizeof(key), "density_rel_%s", cname[c]);
			if (a.hits[c])
				recw_f64(&w, key, ((double)b.hits[c] / b.n) / ((double)a.hits[c] / a.n) - 1);
		}
		if (maxrel >= 0)
			recw_f64(&w, "density_rel_max", maxrel);
		if (tv(&a, &b, -1) >= 0)
			recw_f64(&w, "vel_tv", tv(&a, &b, -1));
		for (int c = 0; c < PAT_C; c++) {
			snprintf(key, sizeof(key), "vel_tv_%s", cname[c]);
			if (tv(&a, &b, c) >= 0)
				recw_f64(&w, key, tv(&a, &b, c));
		}
		if (ha && hb && a.vall > 0)
			recw_f64(&w, "vel_mean_rel", (b.vall / hb) / (a.vall / ha) - 1);
		if (ha && hb && a.tsum > 0)
			recw_f64(&w, "timing_rel", (b.tsum / hb) / (a.tsum / ha) - 1);
		recw_end(&w, stdout);
		recw_free(&w);
	}

	fprintf(tab, "distribution: %ld training patterns, %ld samples\n", a.n, b.n);
	fprintf(tab, "%-11s %9s %9s %9s %9s\n", "hits/pat", "train", "samples", "rel", "vel TV");
	for (int c = -1; c < PAT_C; c++) {
		long na = c < 0 ? ha : a.hits[c], nb = c < 0 ? hb : b.hits[c];
		double d = tv(&a, &b, c);

		fprintf(tab, "%-9s %c %9.4f %9.4f", c < 0 ? "all" : cname[c],
		    c >= 0 && na && na >= MAJOR * ha ? '*' : ' ', (double)na / a.n, (double)nb / b.n);
		prq(tab, (double)nb / b.n - (double)na / a.n, (double)na / a.n);
		if (d >= 0)
			fprintf(tab, " %9.4f\n", d);
		else
			fprintf(tab, " %9s\n", "-");
	}
	fprintf(tab, "%-11s", "vel mean");
	prq(tab, a.vall, ha);
	prq(tab, b.vall, hb);
	prq(tab, b.vall / hb - a.vall / ha, ha && hb ? a.vall / ha : 0);
	fprintf(tab, "\n%-11s", "|off| ms");
	prq(tab, a.tsum, ha);
	prq(tab, b.tsum, hb);
	prq(tab, b.tsum / hb - a.tsum / ha, ha && hb ? a.tsum / ha : 0);
	fprintf(tab, "\n%-11s %9s %9s   (share of hits)\n", "velocity", "train", "samples");
	for (int i = 0; i < VBINS; i++) {
		long na = 0, nb = 0;

		for (int c = 0; c < PAT_C; c++) {
			na += a.vhist[c][i];
			nb += b.vhist[c][i];
		}
		fprintf(tab, "%3d-%-3d    ", 8 * i, 8 * i + 7);
		prq(tab, na, ha);
		prq(tab, nb, hb);
		fputc('\n', tab);
	}
	fprintf(tab, "* class with >= %g%% of training hits; rel = samples/train - 1;"
	    " TV = total-variation distance of velocity histograms\n", 100 * MAJOR);
}

/* The reconstruction's id must be the original's or extend it after a
 * non-alphanumeric character ("x#bar1~recon" matches "x#bar1", "x#bar12" does not). */
static int
same_id(const char *orig, const char *recon)
{
	size_t n = strlen(orig);
	char c;

	if (strncmp(orig, recon, n))
		return 0;
	c = recon[n];
	return !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z');
}

static void
do_ref(char *ref, char *train, char **files, int nf, int text)
{
	FILE *tab = text ? stdout : stderr;
	Stream so, sr;
	long n = 0, tp[PAT_C] = { 0 }, fp[PAT_C] = { 0 }, fn[PAT_C] = { 0 }, both, tru, pred;
	double vmean[PAT_C], verr = 0, vbase = 0, terr = 0, tbase = 0, ms;
	RecWriter w;
	char key[64];

	if (train) {
		Dist d;

		stream_init(&so, &train, 1);
		read_dist(&d, &so);
		if (!dist_hits(&d))
			eprintf("%s: no hits for the velocity baseline", train);
		for (int c = 0; c < PAT_C; c++)
			vmean[c] = d.hits[c] ? d.vsum[c] / d.hits[c] : d.vall / dist_hits(&d);
	}
	stream_init(&so, &ref, 1);
	stream_init(&sr, files, nf);
	for (;;) {
		int a = stream_next(&so), b = stream_next(&sr);

		if (a != b) {
			Stream *s = a ? &so : &sr;
			eprintf("%s: record %zu (%s): the other input ended after %ld patterns",
			    s->rec.src, s->rec.index, s->rec.id, n);
		}
		if (!a)
			break;
		if (!same_id(so.p.id, sr.p.id))
			eprintf("%s: record %zu (%s): \"id\": does not match \"%s\" (%s record %zu)",
			    sr.rec.src, sr.rec.index, sr.p.id, so.p.id, so.rec.src, so.rec.index);
		n++;
		ms = step_ms(so.p.qpm) / 2; /* per unit of offset */
		for (int t = 0; t < PAT_T; t++)
			for (int c = 0; c < PAT_C; c++) {
				int h = hit(&so.p, t, c), g = hit(&sr.p, t, c);

				tp[c] += h && g;
				fp[c] += !h && g;
				fn[c] += h && !g;
				if (!(h && g))
					continue;
				verr += fabs(vel(&so.p, t, c) - vel(&sr.p, t, c));
				terr += fabs(off(&so.p, t, c) - off(&sr.p, t, c)) * ms;
				tbase += fabs(off(&so.p, t, c)) * ms;
				if (train)
					vbase += fabs(vel(&so.p, t, c) - vmean[c]);
			}
	}
	if (!n)
		eprintf("%s: no patterns", ref);
	both = tru = pred = 0;
	for (int c = 0; c < PAT_C; c++) {
		both += tp[c];
		tru += tp[c] + fn[c];
		pred += tp[c] + fp[c];
	}
	if (!text) {
		recw_init(&w);
		recw_begin(&w, "metrics", 1, "reconstruction");
		recw_int(&w, "patterns", n);
		recw_int(&w, "cells", n * PAT_T * PAT_C);
		recw_int(&w, "hits_true", tru);
		recw_int(&w, "hits_pred", pred);
		recw_int(&w, "hits_both", both);
		recw_f64(&w, "hit_acc", 1 - (double)(tru + pred - 2 * both) / (n * PAT_T * PAT_C));
		putq(&w, "precision", both, pred);
		putq(&w, "recall", both, tru);
		putq(&w, "f1", 2 * both, tru + pred);
		for (int c = 0; c < PAT_C; c++) {
			snprintf(key, sizeof(key), "f1_%s", cname[c]);
			putq(&w, key, 2 * tp[c], 2 * tp[c] + fp[c] + fn[c]);
		}
		putq(&w, "vel_mae", verr, both);
		putq(&w, "timing_ms", terr, both);
		if (train)
			putq(&w, "base_vel_mae", vbase, both);
		putq(&w, "base_timing_ms", tbase, both);
		recw_end(&w, stdout);
		recw_free(&w);
	}

	fprintf(tab, "reconstruction: %ld patterns, %ld cells, hit accuracy %.4f\n", n,
	    n * PAT_T * PAT_C, 1 - (double)(tru + pred - 2 * both) / (n * PAT_T * PAT_C));
	fprintf(tab, "%-10s %7s %7s %7s %9s %9s %9s\n", "class", "true", "pred", "both",
	    "precision", "recall", "F1");
	for (int c = -1; c < PAT_C; c++) {
		long x = c < 0 ? both : tp[c], p = c < 0 ? pred : tp[c] + fp[c];
		long r = c < 0 ? tru : tp[c] + fn[c];

		fprintf(tab, "%-10s %7ld %7ld %7ld", c < 0 ? "all" : cname[c], r, p, x);
		prq(tab, x, p);
		prq(tab, x, r);
		prq(tab, 2 * x, p + r);
		fputc('\n', tab);
	}
	fprintf(tab, "on the %ld hits found:   model  baseline\n", both);
	fprintf(tab, "velocity MAE (0..127)");
	prq(tab, verr, both);
	prq(tab, vbase, train ? both : 0);
	fprintf(tab, "   (baseline: class mean of --train)\ntiming MAE (ms)      ");
	prq(tab, terr, both);
	prq(tab, tbase, both);
	fprintf(tab, "   (baseline: on the grid)\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "ref", required_argument, NULL, 'r' },
		{ "stats", required_argument, NULL, 's' },
		{ "train", required_argument, NULL, 't' },
		{ "text", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *ref = NULL, *stats = NULL, *train = NULL;
	int c, text = 0, stdins;

	argv0 = "pattern-eval";
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': ref = optarg; break;
		case 's': stats = optarg; break;
		case 't': train = optarg; break;
		case 'x': text = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!ref == !stats) {
		warn("give exactly one of --ref and --stats");
		usage(2);
	}
	if (stats && train) {
		warn("--train goes with --ref (--stats names the training set itself)");
		usage(2);
	}
	stdins = optind == argc;
	for (c = optind; c < argc; c++)
		stdins += !strcmp(argv[c], "-");
	stdins += !strcmp(ref ? ref : stats, "-") + (train && !strcmp(train, "-"));
	if (stdins > 1) {
		warn("standard input can feed only one of the inputs");
		usage(2);
	}
	if (ref)
		do_ref(ref, train, argv + optind, argc - optind, text);
	else
		do_stats(stats, argv + optind, argc - optind, text);
	efflush_stdout();
	return 0;
}
