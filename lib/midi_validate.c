/* midi_validate.c: the strict SMF validator declared in midi_validate.h.
 * Reads a whole file from memory; writes a MidiScan: the first track's tempo
 * and time signatures, per-track counts and End-of-Track ticks, and the
 * canonical copy of the note events that libsmf will parse. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "midi_validate.h"
#include "util.h"

typedef struct {
	MidiScan *s;
	const uint8_t *buf;   /* [len]: the file */
	size_t len;
	char *err;
	size_t errsz;
	size_t metacap;
	size_t canoncap;
	size_t ntempo;        /* tempo and time-signature events, all tracks */
} V;

static int
fail(V *v, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(v->err, v->errsz, "byte %zu: ", off);
	if (n < 0 || (size_t)n >= v->errsz)
		return -1;
	va_start(ap, fmt);
	vsnprintf(v->err + n, v->errsz - n, fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned
be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void
put(V *v, const void *src, size_t n)
{
	MidiScan *s = v->s;

	if (s->canon_len + n > v->canoncap) {
		while (s->canon_len + n > v->canoncap)
			v->canoncap = v->canoncap ? 2 * v->canoncap : 4096;
		s->canon = erealloc(s->canon, v->canoncap);
	}
	memcpy(s->canon + s->canon_len, src, n);
	s->canon_len += n;
}

static void
putvlq(V *v, uint32_t x)
{
	uint8_t b[5];
	int n = 0, i;

	do
		b[n++] = x & 0x7f;
	while ((x >>= 7) && n < 5);
	for (i = n - 1; i > 0; i--) {
		uint8_t c = b[i] | 0x80;
		put(v, &c, 1);
	}
	put(v, b, 1);
}

/* 0: *val holds a VLQ of *used bytes; -1: runs past n; -2: over 4 bytes. */
static int
vlq(const uint8_t *p, size_t n, uint32_t *val, size_t *used)
{
	uint32_t x = 0;
	size_t i;

	for (i = 0; i < 4; i++) {
		if (i >= n)
			return -1;
		x = x << 7 | (p[i] & 0x7f);
		if (!(p[i] & 0x80)) {
			*val = x;
			*used = i + 1;
			return 0;
		}
	}
	return -2;
}

static int
getvlq(V *v, int t, size_t base, size_t *pos, size_t end, uint32_t *val, const char *what)
{
	size_t used;
	int r = vlq(v->buf + base + *pos, end - *pos, val, &used);

	if (r == -1)
		return fail(v, base + *pos, "track %d: %s runs past the end of the track", t + 1, what);
	if (r == -2)
		return fail(v, base + *pos, "track %d: %s is a variable-length quantity over 4 bytes", t + 1, what);
	*pos += used;
	return 0;
}

/* The events pretty_midi's get_end_time() counts (besides notes and tempo
 * changes, which midi_read.c adds): control changes and pitch bends, time and
 * key signatures of the first track, text and lyric events of any track. */
static void
endat(MidiScan *s, uint32_t tick)
{
	if (tick > s->end_tick)
		s->end_tick = tick;
}

/* Fixed lengths of the meta events the SMF 1.0 spec defines with one. */
static int
metalen(uint8_t type)
{
	switch (type) {
	case 0x20: case 0x21: return 1;  /* channel prefix, port */
	case 0x2F: return 0;             /* End-of-Track */
	case 0x51: return 3;             /* tempo */
	case 0x54: return 5;             /* SMPTE offset */
	case 0x58: return 4;             /* time signature */
	case 0x59: return 2;             /* key signature */
	default: return -1;
	}
}

static int
meta(V *v, int t, size_t off, uint8_t type, const uint8_t *d, uint32_t tick)
{
	MidiScan *s = v->s;
	MidiMeta *m;

	if (type == 0x51 && !(d[0] | d[1] | d[2]))
		return fail(v, off, "track %d: tempo of 0 microseconds per quarter note", t + 1);
	if (type == 0x58 && d[0] == 0)
		return fail(v, off, "track %d: time signature with numerator 0", t + 1);
	if (type == 0x58 && d[1] > 7)
		return fail(v, off, "track %d: time signature denominator 2^%u is over 128", t + 1, d[1]);
	if (++v->ntempo > MIDI_MAX_TEMPO)
		return fail(v, off, "more than %d tempo and time-signature events", MIDI_MAX_TEMPO);
	if (t != 0)
		return 0;
	if (s->nmeta == v->metacap) {
		v->metacap = v->metacap ? 2 * v->metacap : 16;
		s->meta = ereallocarray(s->meta, v->metacap, sizeof(*s->meta));
	}
	m = &s->meta[s->nmeta++];
	m->tick = tick;
	m->type = type;
	memcpy(m->data, d, type == 0x51 ? 3 : 4);
	return 0;
}

/* One MTrk chunk: its data is buf[base .. base+clen). */
static int
track(V *v, int t, size_t base, size_t clen)
{
	MidiScan *s = v->s;
	const uint8_t *p = v->buf + base;
	size_t pos = 0, hdr, off;
	uint32_t tick = 0, written = 0, delta, n, tlen;
	uint8_t st, running = 0, b[3];
	int eot = 0, nd, i, want;

	hdr = s->canon_len;
	put(v, "MTrk\0\0\0\0", 8);
	while (pos < clen) {
		if (eot)
			return fail(v, base + pos, "track %d: %zu bytes after End-of-Track", t + 1, clen - pos);
		if (++s->nevents > MIDI_MAX_EVENTS)
			return fail(v, base + pos, "more than %d events", MIDI_MAX_EVENTS);
		if (getvlq(v, t, base, &pos, clen, &delta, "delta time") < 0)
			return -1;
		if (delta > MIDI_MAX_TICK - tick)
			return fail(v, base + pos, "track %d: time beyond tick %u", t + 1, MIDI_MAX_TICK);
		tick += delta;
		if (pos >= clen)
			return fail(v, base + pos, "track %d: track ends after a delta time", t + 1);
		off = base + pos;
		st = p[pos];
		if (st < 0x80) {
			if (!running)
				return fail(v, off, "track %d: data byte 0x%02X without a running status"
				    " (none yet, or cancelled by a meta or sysex event)", t + 1, st);
			st = running;
		} else {
			pos++;
		}
		if (st < 0xF0) {
			nd = (st & 0xE0) == 0xC0 ? 1 : 2;
			if (clen - pos < (size_t)nd)
				return fail(v, off, "track %d: channel message cut off by the end of the track", t + 1);
			b[0] = st;
			for (i = 0; i < nd; i++) {
				b[1 + i] = p[pos + i];
				if (b[1 + i] & 0x80)
					return fail(v, base + pos + i, "track %d: status byte 0x%02X inside a"
					    " channel message", t + 1, b[1 + i]);
			}
			pos += nd;
			running = st;
			if ((st & 0xE0) == 0x80) {
				putvlq(v, tick - written);
				put(v, b, 3);
				written = tick;
				s->nnote[t]++;
			}
			if ((st & 0xF0) == 0xB0 || (st & 0xF0) == 0xE0)
				endat(s, tick);
		} else if (st == 0xF0 || st == 0xF7) {
			running = 0;
			if (getvlq(v, t, base, &pos, clen, &n, "sysex length") < 0)
				return -1;
			if (n > clen - pos)
				return fail(v, off, "track %d: sysex of %u bytes runs past the end of the track", t + 1, n);
			pos += n;
		} else if (st == 0xFF) {
			running = 0;
			if (pos >= clen)
				return fail(v, off, "track %d: meta event cut off by the end of the track", t + 1);
			b[0] = p[pos++];
			if (b[0] & 0x80)
				return fail(v, off, "track %d: meta event type 0x%02X", t + 1, b[0]);
			if (getvlq(v, t, base, &pos, clen, &tlen, "meta event length") < 0)
				return -1;
			if (tlen > clen - pos)
				return fail(v, off, "track %d: meta event 0x%02X of %u bytes runs past the end"
				    " of the track", t + 1, b[0], tlen);
			want = metalen(b[0]);
			if (want >= 0 && tlen != (uint32_t)want)
				return fail(v, off, "track %d: meta event 0x%02X has length %u, not %d",
				    t + 1, b[0], tlen, want);
			if (b[0] == 0x2F) {
				eot = 1;
				s->eot[t] = tick;
				putvlq(v, tick - written);
				put(v, "\xff\x2f\x00", 3);
			} else {
				if (b[0] == 0x01 || b[0] == 0x05 || (t == 0 && (b[0] == 0x58 || b[0] == 0x59)))
					endat(s, tick);
				if ((b[0] == 0x51 || b[0] == 0x58) && meta(v, t, off, b[0], p + pos, tick) < 0)
					return -1;
			}
			pos += tlen;
		} else {
			return fail(v, off, "track %d: status byte 0x%02X (system common or real-time)"
			    " is not allowed in a MIDI file", t + 1, st);
		}
	}
	if (!eot)
		return fail(v, base + clen, "track %d: no End-of-Track event", t + 1);
	n = s->canon_len - hdr - 8;
	s->canon[hdr + 4] = n >> 24;
	s->canon[hdr + 5] = n >> 16;
	s->canon[hdr + 6] = n >> 8;
	s->canon[hdr + 7] = n;
	return 0;
}

static void
chunkname(char *out, const uint8_t *id)
{
	int i;

	for (i = 0; i < 4; i++)
		out[i] = id[i] >= 0x20 && id[i] < 0x7f ? (char)id[i] : '?';
	out[4] = '\0';
}

static int
walk(V *v)
{
	MidiScan *s = v->s;
	const uint8_t *buf = v->buf;
	size_t len = v->len, pos;
	uint32_t hlen, clen;
	unsigned div;
	int t = 0;
	char name[5];
	uint8_t h[14];

	if (len == 0)
		return fail(v, 0, "empty file");
	if (len > MIDI_MAX_BYTES)
		return fail(v, 0, "file is over the %u-byte cap", MIDI_MAX_BYTES);
	if (len < 4 || memcmp(buf, "MThd", 4))
		return fail(v, 0, "not a MIDI file (no MThd header)");
	if (len < 14)
		return fail(v, len, "MThd header cut off after %zu bytes", len);
	hlen = be32(buf + 4);
	if (hlen < 6)
		return fail(v, 4, "MThd length %u, not 6", hlen);
	if (hlen > len - 8)
		return fail(v, 4, "MThd length %u runs past the end of the file", hlen);
	s->format = be16(buf + 8);
	s->ntracks = be16(buf + 10);
	div = be16(buf + 12);
	if (s->format > 1)
		return fail(v, 8, "SMF format %d is not supported (only 0 and 1)", s->format);
	if (s->ntracks == 0)
		return fail(v, 10, "header declares no tracks");
	if (s->ntracks > MIDI_MAX_TRACKS)
		return fail(v, 10, "%d tracks, over the cap of %d", s->ntracks, MIDI_MAX_TRACKS);
	if (s->format == 0 && s->ntracks != 1)
		return fail(v, 10, "format 0 file declares %d tracks, not 1", s->ntracks);
	if (div & 0x8000)
		return fail(v, 12, "SMPTE time division is not supported");
	if (div == 0)
		return fail(v, 12, "0 ticks per quarter note");
	s->tpq = div;
	s->nnote = ecalloc(s->ntracks, sizeof(*s->nnote));
	s->eot = ecalloc(s->ntracks, sizeof(*s->eot));
	memcpy(h, "MThd\0\0\0\6", 8);
	memcpy(h + 8, buf + 8, 6);
	put(v, h, 14);
	for (pos = 8 + (size_t)hlen; pos < len; pos += 8 + (size_t)clen) {
		if (len - pos < 8)
			return fail(v, pos, "%zu stray bytes after the last chunk", len - pos);
		clen = be32(buf + pos + 4);
		chunkname(name, buf + pos);
		if (clen > len - pos - 8)
			return fail(v, pos + 4, "chunk '%s' claims %u bytes, only %zu are left",
			    name, clen, len - pos - 8);
		if (memcmp(buf + pos, "MTrk", 4))
			continue;   /* unknown chunks are skipped, as the spec says */
		if (t == s->ntracks)
			return fail(v, pos, "more MTrk chunks than the %d the header declares", s->ntracks);
		if (track(v, t, pos + 8, clen) < 0)
			return -1;
		t++;
	}
	if (t < s->ntracks)
		return fail(v, len, "header declares %d tracks, the file has %d", s->ntracks, t);
	return 0;
}

int
midi_validate(MidiScan *s, const uint8_t *buf, size_t len, char *err, size_t errsz)
{
	V v = { .s = s, .buf = buf, .len = len, .err = err, .errsz = errsz };

	memset(s, 0, sizeof(*s));
	if (errsz)
		err[0] = '\0';
	if (walk(&v) < 0) {
		midi_scan_free(s);
		return -1;
	}
	return 0;
}

void
midi_scan_free(MidiScan *s)
{
	free(s->nnote);
	free(s->eot);
	free(s->meta);
	free(s->canon);
	memset(s, 0, sizeof(*s));
}
