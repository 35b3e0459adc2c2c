/* midi-write: pattern, grid and notes records to Standard MIDI Files.
 * Reads records (stdin or files); writes one type-0 .mid per record into
 * -o DIR, or all records back to back into one file (-f FILE.mid, - for
 * stdout). Spec: midi-write(1). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "midi_write.h"
#include "rec.h"
#include "rec_input.h"
#include "rec_pattern.h"
#include "outname.h"
#include "util.h"

#define PPQ 480
#define TPS (PPQ / 4) /* ticks per 16th-note step */
#define DRUMS 9       /* MIDI channel 10 */

typedef struct {
	int64_t on, off; /* absolute ticks */
	uint32_t seq;
	uint8_t ch, pitch, vel;
} Note;

static const uint8_t maps[2][PAT_C] = {
	{ 36, 38, 42, 46, 43, 47, 50, 49, 51 }, /* roland: first pitch of each row */
	{ 36, 38, 42, 46, 45, 48, 50, 49, 51 }, /* gm */
};
static const uint8_t *map = maps[0];
static double bpm;  /* --bpm, 0: the record's tempo */
static const char *dir, *file, *prefix; /* -o, -f, --name */
static size_t nwritten;
static MidiSeq seq;
static Note *nv;
static size_t nn, ncap;
static int64_t at, end; /* start of the current record, end of all so far */
static int64_t lim;     /* notes starting before lim end by it; -1: no limit */
static double curqpm;
static int curnum, curden;
static void *names; /* tsearch tree of file names used in this run */

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-o DIR [--name PREFIX] | -f FILE.mid] [--bpm BPM] [--map roland|gm]\n"
	    "       [--strict] [file ...]\n", argv0);
}

/* Ticks of a note on step t with offset o, tps ticks a step: the onset
 * (t - o/2) steps, but kept less than half a step from t, so that any
 * quantizer puts it back on t (o = 1 or -1 would land on the boundary). */
static double
onset(double t, double o, double tps)
{
	double d = nearbyint(-o / 2 * tps), m = ceil(tps / 2) - 1;

	return nearbyint(t * tps) + (d < -m ? -m : d > m ? m : d);
}

/* The key that holds a record's times, for messages. */
static const char *
timekey(const Rec *rec)
{
	return !strcmp(rec->kind, "pattern") ? "groove" : !strcmp(rec->kind, "grid") ? "step" : "on_s";
}

static int
note(Rec *rec, double on, double len, int ch, int pitch, double vel)
{
	on = at + nearbyint(on);
	if (on < 0)
		on = 0;
	if (on + len > MIDI_MAX_TICK) {
		rec_seterr(rec, timekey(rec), "a note at tick %.0f is past the SMF limit of 2^28 ticks", on);
		return 0;
	}
	if (nn == ncap)
		nv = ereallocarray(nv, ncap = ncap ? 2 * ncap : 1024, sizeof(*nv));
	vel = nearbyint(vel);
	nv[nn] = (Note){ (int64_t)on, (int64_t)(on + (len < 1 ? 1 : nearbyint(len))), (uint32_t)nn,
	    (uint8_t)ch, (uint8_t)pitch, (uint8_t)(vel < 1 ? 1 : vel > 127 ? 127 : vel) };
	if (lim >= 0 && nv[nn].on < lim && nv[nn].off > lim)
		nv[nn].off = lim;
	nn++;
	return 1;
}

static void
head(Rec *rec, double qpm, int num, int den)
{
	midi_text(&seq, (uint32_t)at, file ? 6 : 3, rec->id); /* marker or track name */
	if (midi_tempo_exact(qpm) != curqpm)
		curqpm = midi_tempo(&seq, (uint32_t)at, qpm);
	if (num != curnum || den != curden)
		midi_timesig(&seq, (uint32_t)at, curnum = num, curden = den);
}

static int
finish(Rec *rec, double len)
{
	if (at + len > MIDI_MAX_TICK) {
		rec_seterr(rec, timekey(rec), "the file would be longer than the SMF limit of 2^28 ticks");
		return 0;
	}
	at += (int64_t)nearbyint(len);
	if (at > end)
		end = at;
	return 1;
}

static int
pattern(Rec *rec)
{
	static Pattern p;

	if (!pattern_from_rec(rec, &p))
		return 0;
	head(rec, bpm ? bpm : p.qpm, 4, 4);
	lim = at + PAT_T * TPS;
	for (int t = 0; t < PAT_T; t++)
		for (int c = 0; c < PAT_C; c++) {
			const float *g = p.g + t * PAT_O;

			if (g[c] > 0.5f && !note(rec, onset(t, g[2 * PAT_C + c], TPS), TPS, DRUMS,
			    map[c], g[PAT_C + c] * 127.0))
				return 0;
		}
	return finish(rec, PAT_T * TPS);
}

/* Element count of the bin at key, or -1 with rec->err set. */
static int64_t
count(Rec *rec, const char *key, size_t size)
{
	const msgpack_object *o = rec_obj(rec, key);

	if (o && o->type == MSGPACK_OBJECT_BIN && o->via.bin.size % size == 0)
		return o->via.bin.size / size;
	if (o)
		rec_seterr(rec, key, "not a bin of %zu-byte values", size);
	return -1;
}

static void
want(Rec *rec, const char *key, int64_t n, size_t size)
{
	int64_t have;

	if (rec_ok(rec) && (have = count(rec, key, size)) >= 0 && have != n)
		rec_seterr(rec, key, "holds %lld values, want %lld", (long long)have, (long long)n);
}

/* The n-value bin at key ('b' u8, 'i' i32, 'f' f32, 'd' f64), zeroed
 * when the record is already bad. */
static void *
bin(Rec *rec, const char *key, int64_t n, int type)
{
	size_t size = type == 'b' ? 1 : type == 'd' ? 8 : 4;
	void *p = ecalloc(n > 0 ? (size_t)n : 1, size);

	if (rec_ok(rec) && n > 0) {
		switch (type) {
		case 'b': rec_u8(rec, key, p, n); break;
		case 'i': rec_i32(rec, key, p, n); break;
		case 'f': rec_f32(rec, key, p, n); break;
		default: rec_f64(rec, key, p, n); break;
		}
	}
	return p;
}

static int
badts(int64_t num, int64_t den)
{
	return num < 1 || num > 255 || den < 1 || den > 64 || (den & (den - 1));
}

static int
grid(Rec *rec)
{
	double qpm = rec_num(rec, "qpm");
	int64_t spq = rec_int(rec, "spq"), total = rec_int(rec, "total_steps");
	int64_t n = rec_int(rec, "n"), num = 4, den = 4;
	const char *pk = rec_has(rec, "pitch") ? "pitch" : "class";
	int ok;

	if (rec_has(rec, "ts_num") || rec_has(rec, "ts_den")) {
		num = rec_int(rec, "ts_num");
		den = rec_int(rec, "ts_den");
	}
	want(rec, "step", n, 4);
	if (rec_ok(rec) && !(qpm > 0 && qpm < 1000))
		rec_seterr(rec, "qpm", "%g is not a tempo", qpm);
	if (rec_ok(rec) && (spq < 1 || spq > PPQ))
		rec_seterr(rec, "spq", "%lld is not in 1..%d", (long long)spq, PPQ);
	if (rec_ok(rec) && (total < 0 || total > MIDI_MAX_TICK))
		rec_seterr(rec, "total_steps", "%lld is out of range", (long long)total);
	if (rec_ok(rec) && badts(num, den))
		rec_seterr(rec, "ts_den", "time signature %lld/%lld has no MIDI form",
		    (long long)num, (long long)den);
	if (!rec_ok(rec))
		return 0;
	int32_t *step = bin(rec, "step", n, 'i');
	float *off = bin(rec, "offset", n, 'f');
	uint8_t *vel = bin(rec, "velocity", n, 'b'), *pc = bin(rec, pk, n, 'b');
	double tps = (double)PPQ / spq;

	head(rec, bpm ? bpm : qpm, (int)num, (int)den);
	lim = at + (int64_t)nearbyint(total * tps);
	for (int64_t i = 0; i < n && rec_ok(rec); i++) {
		int pitch = *pk == 'c' ? (pc[i] < PAT_C ? map[pc[i]] : -1) : pc[i] < 128 ? pc[i] : -1;

		if (pitch < 0)
			rec_seterr(rec, pk, "%u at note %lld is out of range", pc[i], (long long)i);
		else if (vel[i] > 127)
			rec_seterr(rec, "velocity", "%u at note %lld is out of range", vel[i], (long long)i);
		else if (!(fabsf(off[i]) <= 1e6f))
			rec_seterr(rec, "offset", "%g at note %lld is out of range", off[i], (long long)i);
		else
			note(rec, onset(step[i], off[i], tps), tps, DRUMS, pitch, vel[i]);
	}
	ok = rec_ok(rec) && finish(rec, total * tps);
	free(step);
	free(off);
	free(vel);
	free(pc);
	return ok;
}

/* Tempo map of a notes record: segment k starts at s[k] seconds, tick T[k]. */
static const double *segs, *segq, *segT;
static int64_t nseg;

static double
ticks(double t)
{
	int64_t lo = 0, hi = nseg - 1;

	while (lo < hi) { /* last segment starting at or before t */
		int64_t mid = (lo + hi + 1) / 2;
		if (segs[mid] <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return segT[lo] + (t - segs[lo]) * segq[lo] * PPQ / 60;
}

static int
notes(Rec *rec)
{
	int64_t n = rec_int(rec, "n"), nt = rec_int(rec, "ntempo"), ns = rec_int(rec, "nts");
	double endt = rec_num(rec, "end_s");
	int ok, first;

	want(rec, "on_s", n, 8);
	want(rec, "tempo_s", nt, 8);
	want(rec, "ts_s", ns, 8);
	if (!rec_ok(rec))
		return 0;
	double *on = bin(rec, "on_s", n, 'd'), *off = bin(rec, "off_s", n, 'd');
	uint8_t *pitch = bin(rec, "pitch", n, 'b'), *vel = bin(rec, "velocity", n, 'b');
	uint8_t *ch = bin(rec, "channel", n, 'b');
	double *ts = bin(rec, "tempo_s", nt, 'd'), *tq = bin(rec, "tempo_qpm", nt, 'd');
	double *ss = bin(rec, "ts_s", ns, 'd');
	uint8_t *sn = bin(rec, "ts_num", ns, 'b'), *sd = bin(rec, "ts_den", ns, 'b');
	double *s = ecalloc(nt + 1, sizeof(*s)), *q = ecalloc(nt + 1, sizeof(*q));
	double *T = ecalloc(nt + 1, sizeof(*T));

	for (int64_t k = 0; k < nt && rec_ok(rec); k++)
		if (!(ts[k] >= (k ? ts[k - 1] : 0) && ts[k] < 1e6 && tq[k] > 0 && tq[k] < 1000))
			rec_seterr(rec, "tempo_s", "tempo %lld (%g qpm at %g s) is out of order or range",
			    (long long)k, tq[k], ts[k]);
	for (int64_t k = 0; k < ns && rec_ok(rec); k++)
		if (!(ss[k] >= (k ? ss[k - 1] : 0) && ss[k] < 1e6) || badts(sn[k], sd[k]))
			rec_seterr(rec, "ts_s", "time signature %lld (%u/%u at %g s) is out of order or range",
			    (long long)k, sn[k], sd[k], ss[k]);
	for (int64_t i = 0; i < n && rec_ok(rec); i++)
		if (!(on[i] >= 0 && off[i] >= on[i] && off[i] < 1e6) || pitch[i] > 127 ||
		    vel[i] > 127 || ch[i] > 15)
			rec_seterr(rec, "on_s", "note %lld (%g..%g s, pitch %u, velocity %u, channel %u) is out of range",
			    (long long)i, on[i], off[i], pitch[i], vel[i], ch[i]);
	if (rec_ok(rec) && !(endt >= 0 && endt < 1e6))
		rec_seterr(rec, "end_s", "%g is out of range", endt);
	if (!rec_ok(rec))
		goto out;

	/* the first tempo holds from time 0; --bpm replaces the map */
	nseg = bpm || nt == 0 ? 1 : nt;
	for (int64_t k = 0; k < nseg; k++) {
		s[k] = k ? ts[k] : 0;
		q[k] = midi_tempo_exact(bpm ? bpm : nt ? tq[k] : 120);
		T[k] = k ? T[k - 1] + (s[k] - s[k - 1]) * q[k - 1] * PPQ / 60 : 0;
	}
	segs = s, segq = q, segT = T;
	first = ns > 0 && ss[0] == 0;
	head(rec, q[0], first ? sn[0] : 4, first ? sd[0] : 4);
	for (int64_t k = 1; k < nseg; k++)
		if (q[k] != curqpm)
			curqpm = midi_tempo(&seq, (uint32_t)(at + nearbyint(T[k])), q[k]);
	for (int64_t k = first; k < ns; k++)
		midi_timesig(&seq, (uint32_t)(at + nearbyint(ticks(ss[k]))), curnum = sn[k],
		    curden = sd[k]);
	lim = -1;
	for (int64_t i = 0; i < n && rec_ok(rec); i++)
		note(rec, ticks(on[i]), ticks(off[i]) - ticks(on[i]), ch[i], pitch[i], vel[i]);
	finish(rec, ticks(endt));
out:
	ok = rec_ok(rec);
	free(on), free(off), free(pitch), free(vel), free(ch);
	free(ts), free(tq), free(ss), free(sn), free(sd);
	free(s), free(q), free(T);
	return ok;
}

static int
bynote(const void *x, const void *y)
{
	const Note *a = x, *b = y;

	if (a->ch != b->ch || a->pitch != b->pitch)
		return a->ch != b->ch ? a->ch - b->ch : a->pitch - b->pitch;
	if (a->on != b->on)
		return a->on < b->on ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void
reset(void)
{
	midi_free(&seq);
	nn = 0;
	at = end = 0;
	curqpm = 0;
	curnum = curden = 0;
}

/* Notes of one key never overlap: a note ends where the next one of its
 * key starts, and of two at one tick the louder (the first on a tie) stays. */
static void
flush(const char *path)
{
	unsigned char *buf;
	size_t n, k = 0;

	qsort(nv, nn, sizeof(*nv), bynote);
	for (size_t i = 0; i < nn; i++) {
		if (k && nv[k - 1].ch == nv[i].ch && nv[k - 1].pitch == nv[i].pitch) {
			if (nv[i].on == nv[k - 1].on) {
				if (nv[i].vel > nv[k - 1].vel)
					nv[k - 1] = nv[i];
				continue;
			}
			if (nv[k - 1].off > nv[i].on)
				nv[k - 1].off = nv[i].on;
		}
		nv[k++] = nv[i];
	}
	for (size_t i = 0; i < k; i++)
		midi_note(&seq, (uint32_t)nv[i].on, (uint32_t)nv[i].off, nv[i].ch, nv[i].pitch, nv[i].vel);
	buf = midi_smf(&seq, PPQ, (uint32_t)end, &n);
	if (!path) {
		if (fwrite(buf, 1, n, stdout) != n)
			eprintf("write error on stdout:");
	} else if (midi_save(path, buf, n) < 0) {
		eprintf("%s:", path);
	}
	free(buf);
	reset();
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* DIR/NAME.mid (outname(3)); a name used before in this run gets -2, -3, ... */
static char *
outpath(const char *id)
{
	char base[256], *path, *dup;
	size_t cap = strlen(dir) + sizeof(base) + 32;

	outname(base, sizeof(base), id, prefix, ++nwritten);
	path = emalloc(cap);
	for (int k = 1;; k++) {
		char **slot;

		if (k == 1)
			snprintf(path, cap, "%s/%s.mid", dir, base);
		else
			snprintf(path, cap, "%s/%s-%d.mid", dir, base, k);
		dup = estrdup(path);
		if (!(slot = tsearch(dup, &names, cmpstr)))
			eprintf("tsearch:");
		if (*slot == dup)
			return path;
		free(dup);
	}
}

/* Convert one record; with -o DIR write its file. 1 ok, 0 bad record. */
static int
convert(Rec *rec, void *ctx)
{
	int good;

	if (!strcmp(rec->kind, "pattern"))
		good = pattern(rec);
	else if (!strcmp(rec->kind, "grid"))
		good = grid(rec);
	else if (!strcmp(rec->kind, "notes"))
		good = notes(rec);
	else
		good = 0, rec_seterr(rec, "kind", "is \"%s\", want pattern, grid or notes", rec->kind);
	if (good && dir) {
		char *out = outpath(rec->id);

		flush(out);
		free(out);
	} else if (dir) {
		reset();
	}
	return good;
}

int
main(int argc, char *argv[])
{
	static const struct option longs[] = {
		{ "bpm", required_argument, NULL, 'b' },
		{ "map", required_argument, NULL, 'm' },
		{ "name", required_argument, NULL, 'n' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, strict = 0, status;
	char *e;

	argv0 = "midi-write";
	while ((c = getopt_long(argc, argv, "o:f:h", longs, NULL)) != -1) {
		switch (c) {
		case 'o': dir = optarg; break;
		case 'f': file = optarg; break;
		case 'n': prefix = optarg; break;
		case 'b':
			bpm = strtod(optarg, &e);
			if (e == optarg || *e || !(bpm > 0 && bpm < 1000)) {
				warn("--bpm %s: want a tempo in (0, 1000)", optarg);
				usage();
				return 2;
			}
			break;
		case 'm':
			if (strcmp(optarg, "roland") && strcmp(optarg, "gm")) {
				warn("--map %s: want roland or gm", optarg);
				usage();
				return 2;
			}
			map = maps[!strcmp(optarg, "gm")];
			break;
		case 's': strict = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (!dir == !file || (dir && !*dir) || (file && !*file)) {
		usage();
		return 2;
	}
	if (file && !strcmp(file, "-") && isatty(1))
		eprintf("will not write MIDI to a terminal: redirect stdout or give -f FILE.mid");
	if (dir && mkdir(dir, 0777) < 0 && errno != EEXIST)
		eprintf("%s:", dir);
	midi_init(&seq);
	status = rec_each(argc - optind, argv + optind, strict, convert, NULL);
	if (file && status)
		warn("%s: not written", strcmp(file, "-") ? file : "stdout");
	else if (file)
		flush(strcmp(file, "-") ? file : NULL);
	midi_free(&seq);
	free(nv);
	efflush_stdout();
	return status;
}
