/* window4bar: cut grid records (after drumclass) into 4-bar windows with a
 * 1-bar hop and turn each into a 64x27 groove pattern, as magenta's
 * GrooveConverter does; --compat tfds cuts like the TFDS groove/4bar-midionly
 * build instead. Reads grid records, writes pattern records; a summary of the
 * windows made and dropped goes to stderr. Rules: window4bar(1). */
#include <fenv.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grid.h"
#include "grid_tfds.h"
#include "rec.h"
#include "rec_input.h"
#include "rec_pattern.h"
#include "util.h"

#define WBARS 4
#define MAXSPLITS 16

enum { MADE, NOT44, TEMPO, QUIET, EMITTED, NSTAT };
static const char *const statname[NSTAT] = {
	"windows", "not-4/4", "tempo-chg", "no-onset>=48", "patterns",
};

static struct { char name[32]; size_t n[NSTAT]; } splits[MAXSPLITS];
static size_t nsplits;
static int tfds, quiet;
static int64_t hop = 1;
static int64_t maxper, emitted; /* --max: patterns per input record (0: all) */

typedef struct {
	int vel[PAT_T][PAT_C];        /* -1: empty */
	double off[PAT_T][PAT_C];
	int64_t key[PAT_T][PAT_C][3]; /* tie order: smaller wins */
	int late;                     /* an onset at step >= 48 */
} Cells;

static void
usage(int status)
{
	fprintf(stderr, "usage: %s [--compat tfds] [--hop BARS] [--max N] [--quiet] [--strict]\n"
	    "       [file ...]\n", argv0);
	exit(status);
}

static size_t *
stat_row(Rec *rec)
{
	char name[32] = "-";
	size_t i;

	if (rec_has(rec, "split")) {
		rec_str(rec, "split", name, sizeof(name));
		if (!rec_ok(rec)) {
			snprintf(name, sizeof(name), "?");
			rec->err[0] = '\0';
		}
	}
	for (i = 0; i < nsplits; i++)
		if (strcmp(splits[i].name, name) == 0)
			return splits[i].n;
	if (nsplits == MAXSPLITS)
		i = MAXSPLITS - 1;  /* the last row takes the rest */
	else
		snprintf(splits[nsplits++].name, sizeof(splits[0].name), "%s", name);
	return splits[i].n;
}

static void
cells_clear(Cells *c)
{
	memset(c->vel, 0xff, sizeof(c->vel));
	c->late = 0;
}

static int
keyless(const int64_t a[3], const int64_t b[3])
{
	for (int i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i];
	return 0;
}

/* Keep the loudest note per step and class (GrooveConverter); on a tie the
 * note with the smaller key, i.e. the first in magenta's note order. Steps
 * past the window count for the converter's yield rule only. */
static void
cells_put(Cells *c, int64_t step, int cls, int vel, double off, const int64_t key[3])
{
	int *v;

	if (step >= 48)
		c->late = 1;
	if (step < 0 || step >= PAT_T)
		return;
	v = &c->vel[step][cls];
	if (*v >= 0 && (vel < *v || (vel == *v && !keyless(key, c->key[step][cls]))))
		return;
	*v = vel;
	c->off[step][cls] = off;
	memcpy(c->key[step][cls], key, sizeof(c->key[step][cls]));
}

static void
emit(RecWriter *w, Rec *rec, const Cells *c, double qpm, int64_t bar, size_t *st)
{
	static const char *const skip[] = {
		"n", "step", "offset", "on_s", "off_s", "pitch", "velocity", "channel", "class",
		"qpm", "spq", "spb", "total_steps", "end_s", "tpq", "ntempo", "tempo_s",
		"tempo_qpm", "nts", "ts_s", "steps", "classes", "groove", "bar", "window", NULL,
	};
	float g[PAT_T * PAT_O] = { 0 };
	char id[600];

	if (!c->late) {
		st[QUIET]++;
		return;
	}
	if (maxper && emitted >= maxper)
		return;
	emitted++;
	for (int t = 0; t < PAT_T; t++)
		for (int k = 0; k < PAT_C; k++) {
			if (c->vel[t][k] < 0)
				continue;
			g[t * PAT_O + k] = 1;
			g[t * PAT_O + PAT_C + k] = (float)(c->vel[t][k] / 127.0);
			g[t * PAT_O + 2 * PAT_C + k] = (float)c->off[t][k];
		}
	snprintf(id, sizeof(id), "%s#bar%lld", rec->id, (long long)bar);
	recw_begin(w, "pattern", 1, id);
	recw_int(w, "steps", PAT_T);
	recw_int(w, "classes", PAT_C);
	recw_f64(w, "qpm", qpm);
	recw_f32s(w, "groove", g, PAT_T * PAT_O);
	recw_int(w, "bar", bar);
	recw_str(w, "window", tfds ? "tfds" : "grid");
	recw_copy_except(w, rec, skip);
	recw_end(w, stdout);
	st[EMITTED]++;
}

/* Indices of the notes in (step, record order). */
static int64_t *sortkey;

static int
bykey(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	if (sortkey[i] != sortkey[j])
		return sortkey[i] < sortkey[j] ? -1 : 1;
	return (i > j) - (i < j);
}

/* Default: windows of the quantized grid; a note belongs to the window of its
 * step, so an early downbeat stays in its bar. */
static void
grid_windows(Rec *rec, const Grid *g, RecWriter *w, size_t *st)
{
	int64_t *steps = emalloc(g->n * 8 + 8), maxstep = -1, nbars;
	size_t *idx = emalloc(g->n * sizeof(size_t) + 1), lo = 0, late = 0;
	Cells c;

	for (size_t i = 0; i < g->n; i++) {
		steps[i] = g->step[i];
		idx[i] = i;
		if (steps[i] > maxstep)
			maxstep = steps[i];
	}
	sortkey = steps;
	qsort(idx, g->n, sizeof(*idx), bykey);
	nbars = maxstep >= 0 ? maxstep / g->spb + 1 : 0;
	for (int64_t b = 0; b + WBARS <= nbars; b += hop) {
		int64_t s0 = b * g->spb, s1 = s0 + PAT_T;
		double t0, t1;

		st[MADE]++;
		if (g->spb != 16) {
			st[NOT44]++;
			continue;
		}
		t0 = tempo_step_time(g->tempo, s0);
		t1 = tempo_step_time(g->tempo, s1);
		if (tempo_changes_in(g->tempo, t0, t1)) {
			st[TEMPO]++;
			continue;
		}
		while (lo < g->n && steps[idx[lo]] < s0)
			lo++;
		while (late < g->n && steps[idx[late]] < s0 + 48)
			late++;
		if (late == g->n || steps[idx[late]] >= s1) {
			st[QUIET]++;  /* no onset in the last bar */
			continue;
		}
		cells_clear(&c);
		for (size_t k = lo; k < g->n && steps[idx[k]] < s1; k++) {
			size_t i = idx[k];
			int64_t key[3] = { (int64_t)i, 0, 0 };

			cells_put(&c, steps[i] - s0, g->cls[i], g->velocity[i], g->offset[i], key);
		}
		emit(w, rec, &c, g->tempo->qpm[tempo_segment(g->tempo, t0)], b, st);
	}
	free(steps);
	free(idx);
}

/* --compat tfds: the TFDS build cuts [i, i+4) bars of the CSV tempo in seconds,
 * keeps the notes that start and end inside, re-writes them as MIDI with
 * pretty_midi, and magenta quantizes that file at its own tempo. */
static int
tfds_windows(Rec *rec, const Grid *g, RecWriter *w, size_t *st)
{
	static int warned;
	static TfdsFile tf;
	double bpm = g->qpm, bar, *on, *off;
	int64_t num = g->ts_num, total_bars, *kon, *koff;
	char ts[32];
	size_t lo = 0;
	Cells c;

	if (rec_has(rec, "bpm"))
		bpm = rec_num(rec, "bpm");
	if (rec_has(rec, "time_signature")) {
		rec_str(rec, "time_signature", ts, sizeof(ts));
		num = strtol(ts, NULL, 10);
	}
	if (!rec_ok(rec))
		return 0;
	if (!(bpm > 0 && bpm < 1000) || num <= 0 || num > 255) {
		rec_seterr(rec, "bpm", "%g bpm with %lld beats per bar is not a bar", bpm, (long long)num);
		return 0;
	}
	if (g->tpq <= 0 || g->tpq > 32767) {
		rec_seterr(rec, "tpq", "%lld: --compat tfds needs the ticks per quarter of the "
		    "MIDI file (midi-read writes it)", (long long)g->tpq);
		return 0;
	}
	if (!rec_has(rec, "bpm") && !warned++)
		warn("%s: record %zu (%s): no \"bpm\" key (midi-read --info): using the file tempo",
		    rec->src, rec->index, rec->id);
	tfds_file_init(&tf, g->tempo, g->tpq);
	on = emalloc(g->n * 8 + 8);
	off = emalloc(g->n * 8 + 8);
	kon = emalloc(g->n * 8 + 8);
	koff = emalloc(g->n * 8 + 8);
	for (size_t i = 0; i < g->n; i++) {
		kon[i] = tfds_tick_of(&tf, g->on_s[i]);
		koff[i] = tfds_tick_of(&tf, g->off_s[i]);
		on[i] = tfds_time(&tf, kon[i]);
		off[i] = tfds_time(&tf, koff[i]);
	}
	bar = 60.0 / bpm * (double)num;
	total_bars = (int64_t)nearbyint(g->end_s / bar);  /* Python round: half to even */
	for (int64_t i = 0; i + WBARS <= total_bars; i += hop) {
		TfdsWindow tw;
		double sps;
		int ok;

		st[MADE]++;
		if (g->spb != 16) {
			st[NOT44]++;
			continue;
		}
		if ((ok = tfds_window(&tw, &tf, bar, i, WBARS)) <= 0) {
			if (ok == 0) {
				st[TEMPO]++;
				continue;
			}
			rec_seterr(rec, "qpm", "the window at bar %lld has no MIDI tempo", (long long)i);
			break;
		}
		sps = grid_sps(tw.qpm);
		cells_clear(&c);
		while (lo < g->n && on[lo] < tw.a)
			lo++;
		for (size_t k = lo; k < g->n && on[k] <= tw.b; k++) {
			int64_t key[3], step;
			double t;

			/* notes inside only; pretty_midi drops zero-length ones */
			if (koff[k] <= kon[k] || off[k] > tw.b ||
			    (t = tfds_note(&tw, on[k], off[k], &key[2], &key[0])) < 0)
				continue;
			key[1] = g->pitch[k];  /* magenta's order: end tick, pitch, start */
			step = grid_step(t, sps);
			cells_put(&c, step, g->cls[k], g->velocity[k], grid_offset(t, step, tw.qpm), key);
		}
		emit(w, rec, &c, tw.qpm, i, st);
	}
	free(on);
	free(off);
	free(kon);
	free(koff);
	return rec_ok(rec);
}

static int
windows(Rec *rec, void *ctx)
{
	RecWriter *w = ctx;
	Grid g;
	size_t *st;
	int ok = 1;

	if (!grid_from_rec(rec, &g, 1))
		return 0;
	st = stat_row(rec);
	emitted = 0;
	for (size_t i = 1; i < g.n; i++)
		if (g.on_s[i] < g.on_s[i - 1]) {
			rec_seterr(rec, "on_s", "notes %zu and %zu are not in time order", i - 1, i);
			grid_free(&g);
			return 0;
		}
	if (tfds)
		ok = tfds_windows(rec, &g, w, st);
	else
		grid_windows(rec, &g, w, st);
	grid_free(&g);
	return ok;
}

static void
summary(void)
{
	size_t tot[NSTAT] = { 0 };

	fprintf(stderr, "%s: %-12s", argv0, tfds ? "tfds split" : "split");
	for (int k = 0; k < NSTAT; k++)
		fprintf(stderr, " %12s", statname[k]);
	fputc('\n', stderr);
	for (size_t i = 0; i <= nsplits; i++) {
		const size_t *n = i < nsplits ? splits[i].n : tot;

		if (i == nsplits && nsplits < 2)
			break;
		fprintf(stderr, "%s: %-12s", argv0, i < nsplits ? splits[i].name : "total");
		for (int k = 0; k < NSTAT; k++) {
			fprintf(stderr, " %12zu", n[k]);
			tot[k] += i < nsplits ? n[k] : 0;
		}
		fputc('\n', stderr);
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "compat", required_argument, NULL, 'c' },
		{ "hop", required_argument, NULL, 'H' },
		{ "max", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	RecWriter w;
	int c, strict = 0, status;
	long v;

	argv0 = "window4bar";
	while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (strcmp(optarg, "tfds") != 0)
				usage(2);
			tfds = 1;
			break;
		case 'H':
			if (!parse_long(optarg, 1, 64, &v))
				usage(2);
			hop = v;
			break;
		case 'm':
			if (!parse_long(optarg, 1, LONG_MAX, &v))
				usage(2);
			maxper = v;
			break;
		case 'q': quiet = 1; break;
		case 's': strict = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	fesetround(FE_TONEAREST);
	recw_init(&w);
	status = rec_each(argc - optind, argv + optind, strict, windows, &w);
	recw_free(&w);
	if (!quiet)
		summary();
	efflush_stdout();
	return status;
}
