/* quantize: put every note of a `notes` record (midi-read) on the 16th-note
 * grid of its file's tempo, as magenta's quantize_note_sequence does.
 * Reads notes records, writes grid records (metadata copied through).
 * Format: drumvae-records(5); arithmetic: lib/grid.c. */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "grid.h"
#include "rec.h"
#include "rec_input.h"
#include "util.h"

#define MAXTS 4096

static int compat;   /* --compat magenta */
static int channel;  /* --channel N: 1..16, 0 = all */
static size_t nskipped;

static void
usage(int status)
{
	fprintf(stderr, "usage: %s [--compat magenta] [--channel N] [--strict] [file ...]\n", argv0);
	exit(status);
}

/* A record that holds no grid: a warning, not an error. */
static void __attribute__((format(printf, 2, 3)))
skip(Rec *rec, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	warn("%s: record %zu (%s): skipped: %s", rec->src, rec->index, rec->id, why);
	nskipped++;
}

/* The time signature of the whole record, or 0 (and a message) when it has
 * none that a grid can hold. */
static int
read_ts(Rec *rec, int64_t *num, int64_t *den)
{
	int64_t nts = rec_int(rec, "nts");
	uint8_t tn[MAXTS], td[MAXTS];
	double ts[MAXTS];
	*num = *den = 4;
	if (!rec_ok(rec) || nts < 0 || nts > MAXTS) {
		if (rec_ok(rec))
			rec_seterr(rec, "nts", "%lld time signatures, want 0 to %d", (long long)nts, MAXTS);
		return -1;
	}
	if (!rec_bin_ok(rec, "ts_s", nts, 8) || !rec_bin_ok(rec, "ts_num", nts, 1) ||
	    !rec_bin_ok(rec, "ts_den", nts, 1))
		return -1;
	rec_f64(rec, "ts_s", ts, nts);
	rec_u8(rec, "ts_num", tn, nts);
	rec_u8(rec, "ts_den", td, nts);
	for (int64_t i = 0; i < nts; i++)
		if (tn[i] == 0 || td[i] == 0 || (td[i] & (td[i] - 1))) {
			rec_seterr(rec, "ts_den", "time signature %lld is %u/%u", (long long)i, tn[i], td[i]);
			return -1;
		}
	if (nts == 0)
		return 1;
	if (ts[0] > 0 && !(tn[0] == 4 && td[0] == 4)) {
		skip(rec, "time signature %u/%u starts at %g s, after the implicit 4/4",
		    tn[0], td[0], ts[0]);
		return 0;
	}
	for (int64_t i = 1; i < nts; i++)
		if (tn[i] != tn[0] || td[i] != td[0]) {
			skip(rec, "time signature changes from %u/%u to %u/%u at %g s",
			    tn[0], td[0], tn[i], td[i], ts[i]);
			return 0;
		}
	*num = tn[0];
	*den = td[0];
	return 1;
}

/* Quantize one notes record and write it; 1 ok or skipped, 0 bad record. */
static int
quantize(Rec *rec, void *ctx)
{
	RecWriter *w = ctx;
	static const char *const own[] = {
		"n", "step", "offset", "on_s", "off_s", "pitch", "velocity", "channel", "class",
		"qpm", "spq", "spb", "ts_num", "ts_den", "total_steps", NULL,
	};
	int64_t n, num, den, spb, ntempo;
	double end_s, *on = NULL, *off = NULL, *tempo_s = NULL, *tempo_q = NULL;
	uint8_t *pitch = NULL, *vel = NULL, *chan = NULL;
	int32_t *step = NULL;
	float *offset = NULL;
	TempoMap *map = emalloc(sizeof(*map));
	size_t k = 0;
	int st, ok = 0;
	char msg[160];

	if (strcmp(rec->kind, "notes") != 0) {
		rec_seterr(rec, "kind", "is \"%s\", want \"notes\" (made by midi-read)", rec->kind);
		goto out;
	}
	n = rec_int(rec, "n");
	ntempo = rec_int(rec, "ntempo");
	end_s = rec_num(rec, "end_s");
	if (!rec_ok(rec))
		goto out;
	if (n < 0 || (uint64_t)n > REC_MAX_BYTES || ntempo < 0 || ntempo >= GRID_MAX_TEMPI) {
		rec_seterr(rec, "n", "%lld notes, %lld tempi: out of range", (long long)n, (long long)ntempo);
		goto out;
	}
	if (!isfinite(end_s) || end_s < 0 || end_s > 1e6) {
		rec_seterr(rec, "end_s", "%g is not a time in seconds", end_s);
		goto out;
	}
	if (!rec_bin_ok(rec, "on_s", n, 8) || !rec_bin_ok(rec, "off_s", n, 8) ||
	    !rec_bin_ok(rec, "pitch", n, 1) || !rec_bin_ok(rec, "velocity", n, 1) ||
	    (rec_has(rec, "channel") && !rec_bin_ok(rec, "channel", n, 1)) ||
	    !rec_bin_ok(rec, "tempo_s", ntempo, 8) || !rec_bin_ok(rec, "tempo_qpm", ntempo, 8))
		goto out;
	tempo_s = emalloc(ntempo * 8 + 8);
	tempo_q = emalloc(ntempo * 8 + 8);
	rec_f64(rec, "tempo_s", tempo_s, ntempo);
	rec_f64(rec, "tempo_qpm", tempo_q, ntempo);
	if (!tempo_init(map, ntempo, tempo_s, tempo_q, msg, sizeof(msg))) {
		rec_seterr(rec, "tempo_qpm", "%s", msg);
		goto out;
	}
	if ((st = read_ts(rec, &num, &den)) <= 0) {
		ok = st == 0;
		goto out;
	}
	spb = 4 * GRID_SPQ * num / den;
	if ((4 * GRID_SPQ * num) % den) {
		skip(rec, "time signature %lld/%lld has no whole number of 16ths per bar",
		    (long long)num, (long long)den);
		ok = 1;
		goto out;
	}
	on = emalloc(n * 8 + 8);
	off = emalloc(n * 8 + 8);
	pitch = emalloc(n + 1);
	vel = emalloc(n + 1);
	chan = ecalloc(n + 1, 1);
	rec_f64(rec, "on_s", on, n);
	rec_f64(rec, "off_s", off, n);
	rec_u8(rec, "pitch", pitch, n);
	rec_u8(rec, "velocity", vel, n);
	if (rec_has(rec, "channel"))
		rec_u8(rec, "channel", chan, n);
	for (int64_t i = 0; i < n; i++) {
		if (!isfinite(on[i]) || !isfinite(off[i]) || on[i] < 0 || off[i] < 0 ||
		    on[i] > 1e6 || off[i] > 1e6) {
			rec_seterr(rec, "on_s", "note %lld: time %g..%g is not in 0..1e6 s",
			    (long long)i, on[i], off[i]);
			goto out;
		}
		if (pitch[i] > 127 || vel[i] > 127 || chan[i] > 15) {
			rec_seterr(rec, "pitch", "note %lld: pitch %u velocity %u channel %u out of range",
			    (long long)i, pitch[i], vel[i], chan[i]);
			goto out;
		}
	}
	if (compat && map->n > 1) {
		skip(rec, "tempo changes at %g s (magenta: MultipleTempoError)", map->s[1]);
		ok = 1;
		goto out;
	}
	if (compat && spb != 4 * GRID_SPQ) {
		skip(rec, "time signature %lld/%lld is not 4/4 or 2/2", (long long)num, (long long)den);
		ok = 1;
		goto out;
	}

	step = emalloc(n * 4 + 4);
	offset = emalloc(n * 4 + 4);
	for (int64_t i = 0; i < n; i++) {
		if (channel && chan[i] != channel - 1)
			continue;
		int64_t st64 = tempo_step(map, on[i]);

		if (st64 > GRID_MAX_STEP) {
			rec_seterr(rec, "on_s", "note %lld at %g s is past step %d", (long long)i,
			    on[i], GRID_MAX_STEP);
			goto out;
		}
		step[k] = (int32_t)st64;
		offset[k] = (float)tempo_offset(map, on[i], step[k]);
		on[k] = on[i];
		off[k] = off[i];
		pitch[k] = pitch[i];
		vel[k] = vel[i];
		k++;
	}
	if (compat && k == 0) {
		skip(rec, "no notes");
		ok = 1;
	} else {
		recw_begin(w, "grid", 1, rec->id);
		recw_copy_except(w, rec, own);
		recw_f64(w, "qpm", map->qpm[0]);
		recw_int(w, "spq", GRID_SPQ);
		recw_int(w, "spb", spb);
		recw_int(w, "ts_num", num);
		recw_int(w, "ts_den", den);
		recw_int(w, "total_steps", tempo_step(map, end_s));
		recw_int(w, "n", (int64_t)k);
		recw_i32s(w, "step", step, k);
		recw_f32s(w, "offset", offset, k);
		recw_f64s(w, "on_s", on, k);
		recw_f64s(w, "off_s", off, k);
		recw_u8s(w, "pitch", pitch, k);
		recw_u8s(w, "velocity", vel, k);
		recw_end(w, stdout);
		ok = 1;
	}
out:
	free(step);
	free(offset);
	free(map);
	free(tempo_s);
	free(tempo_q);
	free(on);
	free(off);
	free(pitch);
	free(vel);
	free(chan);
	return ok;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "compat", required_argument, NULL, 'c' },
		{ "channel", required_argument, NULL, 'C' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	RecWriter w;
	int c, strict = 0, status;
	long v;

	argv0 = "quantize";
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (strcmp(optarg, "magenta") != 0)
				usage(2);
			compat = 1;
			break;
		case 'C':
			if (!parse_long(optarg, 1, 16, &v))
				usage(2);
			channel = (int)v;
			break;
		case 's': strict = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	recw_init(&w);
	status = rec_each(argc - optind, argv + optind, strict, quantize, &w);
	recw_free(&w);
	if (nskipped)
		warn("%zu record%s skipped (no grid)", nskipped, nskipped == 1 ? "" : "s");
	efflush_stdout();
	return status;
}
