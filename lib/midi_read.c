/* midi_read.c: a MIDI file to MidiNotes (midi_read.h). Reads a file or a
 * buffer; midi_validate() rejects malformed input and writes the canonical
 * copy; libsmf parses that copy; notes are paired per track and channel, and
 * ticks become seconds through pretty_midi's tempo map arithmetic. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smf.h>

#include "midi_read.h"
#include "midi_validate.h"
#include "util.h"

/* One tempo segment, as pretty_midi's _tick_scales plus the time at its start. */
typedef struct {
	uint32_t tick;
	double scale;   /* seconds per tick */
	double base;    /* seconds at tick */
} Seg;

typedef struct {
	uint32_t on, off;
	uint8_t pitch, vel, chan;
	uint8_t zero;   /* kept where pretty_midi drops it: not in end_s */
	int32_t next;   /* next open note of the same key, or -1 */
} Note;

typedef struct {
	double on;
	uint8_t pitch;
	uint32_t i;
} Key;

typedef struct {
	char *err;
	size_t errsz;
	int set;
} LogCtx;

/* Seconds at tick: base + scale * (tick - start), two roundings, as numpy
 * computes last_end_time + tick_scale * arange(...). */
static double
tick_s(const Seg *seg, size_t nseg, uint32_t tick)
{
	size_t lo = 0, hi = nseg, mid;
	double d;

	while (hi - lo > 1) {   /* last segment with seg.tick <= tick */
		mid = lo + (hi - lo) / 2;
		if (seg[mid].tick <= tick)
			lo = mid;
		else
			hi = mid;
	}
	d = seg[lo].scale * (double)(tick - seg[lo].tick);
	return seg[lo].base + d;
}

/* pretty_midi _load_tempo_changes + _update_tick_to_time: 120 qpm unless a
 * tempo at tick 0 replaces it; later tempos that repeat the scale are
 * dropped. Returns the number of segments written to seg. */
static size_t
tempo_map(Seg *seg, const MidiScan *s)
{
	size_t n = 1, i;
	double bpm, scale, d;
	unsigned us;

	seg[0].tick = 0;
	seg[0].scale = 60.0 / (120.0 * s->tpq);
	for (i = 0; i < s->nmeta; i++) {
		if (s->meta[i].type != 0x51)
			continue;
		us = (unsigned)s->meta[i].data[0] << 16 | s->meta[i].data[1] << 8 | s->meta[i].data[2];
		bpm = 6e7 / us;
		scale = 60.0 / (bpm * s->tpq);
		if (s->meta[i].tick == 0) {
			n = 1;
			seg[0].scale = scale;
		} else if (scale != seg[n - 1].scale) {
			seg[n].tick = s->meta[i].tick;
			seg[n].scale = scale;
			n++;
		}
	}
	seg[0].base = 0;
	for (i = 1; i < n; i++) {
		d = seg[i - 1].scale * (double)(seg[i].tick - seg[i - 1].tick);
		seg[i].base = seg[i - 1].base + d;
	}
	return n;
}

static void
logger(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
	LogCtx *c = data;

	if (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO | G_LOG_LEVEL_MESSAGE))
		return;
	if (!c->set)
		snprintf(c->err, c->errsz, "libsmf: %s", msg);
	c->set = 1;
}

/* smf_delete() removes events one by one, renumbering the rest each time
 * (quadratic); detach and free every event first, then delete the shell. */
static void
smf_free(smf_t *smf)
{
	smf_track_t *tr;
	smf_event_t *e;
	guint i;
	int t;

	for (t = 1; t <= smf->number_of_tracks; t++) {
		if (!(tr = smf_get_track_by_number(smf, t)))
			continue;
		for (i = 0; i < tr->events_array->len; i++) {
			e = g_ptr_array_index(tr->events_array, i);
			e->track = NULL;
			smf_event_delete(e);
		}
		g_ptr_array_set_size(tr->events_array, 0);
		tr->number_of_events = 0;
	}
	smf_delete(smf);
}

static int
errf(char *err, size_t errsz, const char *msg)
{
	snprintf(err, errsz, "%s", msg);
	return -1;
}

/* Pairs notes track by track as pretty_midi does, per channel and pitch: a
 * note-off (or note-on of velocity 0) at tick t ends every open note that
 * started before t; notes started at t stay open if it ended some. If it
 * ended none, pretty_midi drops the notes started at t; they are kept here
 * as zero-length notes (flagged, so end_s ignores them). Notes still open at
 * the End-of-Track end there. Returns the number of notes, or -1 (err set). */
static long
pair(Note *nt, smf_t *smf, const MidiScan *s, char *err, size_t errsz)
{
	int32_t head[16 * 128], tail[16 * 128];
	smf_track_t *tr;
	smf_event_t *e;
	const uint8_t *b;
	uint32_t tick;
	long n = 0;
	int t, k, i;
	int32_t j;

	if (smf->number_of_tracks != s->ntracks || smf->ppqn != s->tpq)
		return errf(err, errsz, "libsmf disagrees with the validator about the header");
	for (t = 0; t < s->ntracks; t++) {
		tr = smf_get_track_by_number(smf, t + 1);
		if (!tr || tr->number_of_events < 0 || (size_t)tr->number_of_events != s->nnote[t] + 1
		    || tr->events_array->len != (guint)tr->number_of_events)
			return errf(err, errsz, "libsmf disagrees with the validator about the events");
		e = g_ptr_array_index(tr->events_array, tr->number_of_events - 1);
		if (!smf_event_is_eot(e) || e->time_pulses < 0 || (uint32_t)e->time_pulses != s->eot[t])
			return errf(err, errsz, "libsmf disagrees with the validator about the track end");
		for (k = 0; k < 16 * 128; k++)
			head[k] = tail[k] = -1;
		for (i = 0; i + 1 < tr->number_of_events; i++) {
			e = g_ptr_array_index(tr->events_array, i);
			b = e->midi_buffer;
			if (e->midi_buffer_length != 3 || (b[0] & 0xE0) != 0x80 || e->time_pulses < 0)
				continue;
			tick = e->time_pulses;
			k = (b[0] & 0x0F) << 7 | b[1];
			if ((b[0] & 0xF0) == 0x90 && b[2] > 0) {
				nt[n] = (Note){ .on = tick, .pitch = b[1], .vel = b[2],
				    .chan = b[0] & 0x0F, .next = -1 };
				if (tail[k] >= 0)
					nt[tail[k]].next = n;
				else
					head[k] = n;
				tail[k] = n++;
				continue;
			}
			for (j = head[k]; j >= 0 && nt[j].on != tick; j = nt[j].next)
				nt[j].off = tick;
			if (j >= 0 && j != head[k]) {
				head[k] = j;   /* ended some, keep those started at t */
				continue;
			}
			for (; j >= 0; j = nt[j].next) {
				nt[j].off = tick;
				nt[j].zero = 1;
			}
			head[k] = tail[k] = -1;
		}
		for (k = 0; k < 16 * 128; k++)
			for (j = head[k]; j >= 0; j = nt[j].next)
				nt[j].off = s->eot[t];
	}
	return n;
}

static int
bykey(const void *a, const void *b)
{
	const Key *x = a, *y = b;

	if (x->on != y->on)
		return x->on < y->on ? -1 : 1;
	if (x->pitch != y->pitch)
		return x->pitch < y->pitch ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static void
fill(MidiNotes *m, const MidiScan *s, const Note *nt, size_t n)
{
	Seg *seg = ecalloc(s->nmeta + 1, sizeof(*seg));
	size_t nseg = tempo_map(seg, s), i, j;
	uint32_t end = s->end_tick;
	Key *key = ecalloc(n, sizeof(*key));

	m->format = s->format;
	m->ntracks = s->ntracks;
	m->tpq = s->tpq;
	m->ntempo = nseg;
	m->tempo_s = ecalloc(nseg, sizeof(double));
	m->tempo_qpm = ecalloc(nseg, sizeof(double));
	for (i = 0; i < nseg; i++) {
		m->tempo_s[i] = tick_s(seg, nseg, seg[i].tick);
		m->tempo_qpm[i] = 60.0 / (seg[i].scale * s->tpq);
	}
	for (i = 0; i < s->nmeta; i++)
		m->nts += s->meta[i].type == 0x58;
	m->ts_s = ecalloc(m->nts, sizeof(double));
	m->ts_num = ecalloc(m->nts, 1);
	m->ts_den = ecalloc(m->nts, 1);
	for (i = j = 0; i < s->nmeta; i++) {
		if (s->meta[i].type != 0x58)
			continue;
		m->ts_s[j] = tick_s(seg, nseg, s->meta[i].tick);
		m->ts_num[j] = s->meta[i].data[0];
		m->ts_den[j++] = 1u << s->meta[i].data[1];
	}
	for (i = 0; i < nseg; i++)
		if (seg[i].tick > end)
			end = seg[i].tick;
	for (i = 0; i < n; i++) {
		key[i] = (Key){ tick_s(seg, nseg, nt[i].on), nt[i].pitch, i };
		if (!nt[i].zero && nt[i].off > end)
			end = nt[i].off;
	}
	for (i = 1; i < n && bykey(&key[i - 1], &key[i]) < 0; i++)
		;
	if (i < n)
		qsort(key, n, sizeof(*key), bykey);
	m->n = n;
	m->on_s = ecalloc(n, sizeof(double));
	m->off_s = ecalloc(n, sizeof(double));
	m->pitch = ecalloc(n, 1);
	m->velocity = ecalloc(n, 1);
	m->channel = ecalloc(n, 1);
	for (i = 0; i < n; i++) {
		const Note *x = &nt[key[i].i];

		m->on_s[i] = key[i].on;
		m->off_s[i] = tick_s(seg, nseg, x->off);
		m->pitch[i] = x->pitch;
		m->velocity[i] = x->vel;
		m->channel[i] = x->chan;
	}
	m->end_s = tick_s(seg, nseg, end);
	free(key);
	free(seg);
}

int
midi_read_mem(MidiNotes *m, const uint8_t *buf, size_t len, char *err, size_t errsz)
{
	MidiScan s;
	LogCtx ctx = { err, errsz, 0 };
	smf_t *smf;
	Note *nt;
	guint id;
	size_t i, nnote = 0;
	long n;

	memset(m, 0, sizeof(*m));
	if (midi_validate(&s, buf, len, err, errsz) < 0)
		return -1;
	for (i = 0; i < (size_t)s.ntracks; i++)
		nnote += s.nnote[i];
	g_log_set_always_fatal(0);
	g_log_set_fatal_mask("libsmf", 0);
	id = g_log_set_handler("libsmf", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
	    logger, &ctx);
	ENSURE(s.canon_len <= (size_t)MIDI_MAX_BYTES * 4);
	smf = smf_load_from_memory(s.canon, (int)s.canon_len);
	g_log_remove_handler("libsmf", id);
	if (!smf || ctx.set) {
		if (!ctx.set)
			errf(err, errsz, "libsmf could not load the validated file");
		if (smf)
			smf_free(smf);
		midi_scan_free(&s);
		return -1;
	}
	nt = ecalloc(nnote, sizeof(*nt));
	n = pair(nt, smf, &s, err, errsz);
	smf_free(smf);
	if (n >= 0)
		fill(m, &s, nt, (size_t)n);
	free(nt);
	midi_scan_free(&s);
	return n < 0 ? -1 : 0;
}

int
midi_read_file(MidiNotes *m, const char *path, char *err, size_t errsz)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, got;
	int r;

	memset(m, 0, sizeof(*m));
	if (!f) {
		snprintf(err, errsz, "%s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			buf = erealloc(buf, cap);
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0 || len > MIDI_MAX_BYTES)
			break;
	}
	if (ferror(f)) {
		r = errno;
		snprintf(err, errsz, "read error: %s", strerror(r));
		r = -1;
	} else {
		r = midi_read_mem(m, buf, len, err, errsz);
	}
	if (f != stdin)
		fclose(f);
	free(buf);
	return r;
}

void
midi_notes_free(MidiNotes *m)
{
	free(m->tempo_s);
	free(m->tempo_qpm);
	free(m->ts_s);
	free(m->ts_num);
	free(m->ts_den);
	free(m->on_s);
	free(m->off_s);
	free(m->pitch);
	free(m->velocity);
	free(m->channel);
	memset(m, 0, sizeof(*m));
}
