/* midi_write.c: build a type-0 Standard MIDI File in memory and save it
 * atomically (see midi_write.h). SMF 1.0: "MThd" header, one "MTrk" chunk of
 * delta-time (variable-length quantity) + event pairs, big-endian lengths. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "midi_write.h"
#include "util.h"

void
midi_init(MidiSeq *s)
{
	memset(s, 0, sizeof(*s));
}

void
midi_free(MidiSeq *s)
{
	free(s->ev);
	free(s->data);
	memset(s, 0, sizeof(*s));
}

static MidiEv *
add(MidiSeq *s, uint32_t tick, int status, int a, int b)
{
	MidiEv *e;

	ENSURE(tick <= MIDI_MAX_TICK);
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->ev = ereallocarray(s->ev, s->cap, sizeof(*s->ev));
	}
	e = &s->ev[s->n];
	memset(e, 0, sizeof(*e));
	e->tick = tick;
	e->seq = (uint32_t)s->n++;
	e->status = (uint8_t)status;
	e->a = (uint8_t)a;
	e->b = (uint8_t)b;
	return e;
}

static void
meta(MidiSeq *s, uint32_t tick, int type, const void *p, size_t len)
{
	MidiEv *e = add(s, tick, 0xff, type, 0);

	ENSURE(len <= 0x0fffffff);
	if (s->ndata + len > s->capdata) {
		s->capdata = 2 * (s->ndata + len) + 64;
		s->data = erealloc(s->data, s->capdata);
	}
	if (len)
		memcpy(s->data + s->ndata, p, len);
	e->off = (uint32_t)s->ndata;
	e->len = (uint32_t)len;
	s->ndata += len;
}

void
midi_note(MidiSeq *s, uint32_t on, uint32_t off, int ch, int pitch, int vel)
{
	ENSURE(off > on && ch >= 0 && ch < 16 && pitch >= 0 && pitch < 128 &&
	    vel >= 1 && vel < 128);
	add(s, on, 0x90 | ch, pitch, vel);
	add(s, off, 0x80 | ch, pitch, 0);
}

static uint32_t
usec(double qpm)
{
	double u;

	ENSURE(qpm > 0);
	u = nearbyint(60e6 / qpm);

	return u < 1 ? 1 : u > 0xffffff ? 0xffffff : (uint32_t)u;
}

double
midi_tempo_exact(double qpm)
{
	return 60e6 / usec(qpm);
}

double
midi_tempo(MidiSeq *s, uint32_t tick, double qpm)
{
	uint32_t u = usec(qpm);
	unsigned char b[3] = { u >> 16, u >> 8 & 0xff, u & 0xff };

	meta(s, tick, 0x51, b, 3);
	return 60e6 / u;
}

void
midi_timesig(MidiSeq *s, uint32_t tick, int num, int den)
{
	unsigned char b[4] = { (unsigned char)num, 0, 24, 8 };

	ENSURE(num >= 1 && num <= 255 && den >= 1 && den <= 64 && !(den & (den - 1)));
	while ((1 << b[1]) < den)
		b[1]++;
	meta(s, tick, 0x58, b, 4);
}

void
midi_text(MidiSeq *s, uint32_t tick, int type, const char *text)
{
	meta(s, tick, type, text, strlen(text));
}

static int
rank(const MidiEv *e)
{
	return e->status == 0xff ? 0 : (e->status & 0xf0) == 0x80 ? 1 : 2;
}

static int
cmp(const void *x, const void *y)
{
	const MidiEv *a = x, *b = y;

	if (a->tick != b->tick)
		return a->tick < b->tick ? -1 : 1;
	if (rank(a) != rank(b))
		return rank(a) - rank(b);
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

typedef struct {
	unsigned char *p;
	size_t n, cap;
} Out;

static void
out(Out *o, const void *p, size_t n)
{
	if (o->n + n > o->cap) {
		o->cap = 2 * (o->n + n) + 256;
		o->p = erealloc(o->p, o->cap);
	}
	memcpy(o->p + o->n, p, n);
	o->n += n;
}

/* variable-length quantity: 7 bits a byte, most significant first */
static void
vlq(Out *o, uint32_t v)
{
	unsigned char b[5];
	int n = 0;

	ENSURE(v <= 0x0fffffff);
	b[4] = v & 0x7f;
	while ((v >>= 7))
		b[3 - n++] = 0x80 | (v & 0x7f);
	out(o, b + 4 - n, n + 1);
}

static void
be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

unsigned char *
midi_smf(MidiSeq *s, int ppq, uint32_t end, size_t *n)
{
	Out o = { 0 };
	uint32_t now = 0;
	unsigned char hdr[22] = "MThd\0\0\0\6\0\0\0\1\0\0MTrk";

	ENSURE(ppq > 0 && ppq < 0x8000 && end <= MIDI_MAX_TICK);
	hdr[12] = ppq >> 8;
	hdr[13] = ppq & 0xff;
	out(&o, hdr, sizeof(hdr));
	qsort(s->ev, s->n, sizeof(*s->ev), cmp);
	for (size_t i = 0; i < s->n; i++) {
		const MidiEv *e = &s->ev[i];
		unsigned char b[3] = { e->status, e->a, e->b };

		vlq(&o, e->tick - now);
		now = e->tick;
		if (e->status == 0xff) {
			out(&o, b, 2);
			vlq(&o, e->len);
			out(&o, s->data + e->off, e->len);
		} else {
			out(&o, b, (e->status & 0xf0) == 0xc0 || (e->status & 0xf0) == 0xd0 ? 2 : 3);
		}
	}
	vlq(&o, end > now ? end - now : 0);
	out(&o, "\xff\x2f\0", 3);
	be32(o.p + 18, (uint32_t)(o.n - sizeof(hdr)));
	*n = o.n;
	return o.p;
}

static int
writeall(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno != EINTR)
			return errno;
		if (k > 0)
			p += k, n -= (size_t)k;
	}
	return 0;
}

int
midi_save(const char *path, const void *buf, size_t n)
{
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
	char *tmp;
	mode_t mask;
	struct stat st;
	int fd, err;

	/* a device or pipe (/dev/stdout, a fifo) is written, never replaced */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if ((fd = open(path, O_WRONLY)) < 0)
			return -1;
		err = writeall(fd, buf, n);
		if (close(fd) < 0 && !err)
			err = errno;
		errno = err;
		return err ? -1 : 0;
	}
	tmp = emalloc(dl + strlen(path) + 16);
	sprintf(tmp, "%.*s.%s.XXXXXX", (int)dl, path, path + dl);
	if ((fd = mkstemp(tmp)) < 0) {
		err = errno;
		free(tmp);
		errno = err;
		return -1;
	}
	mask = umask(0);
	umask(mask);
	err = writeall(fd, buf, n);
	if (!err && fchmod(fd, 0666 & ~mask) < 0)
		err = errno;
	if (close(fd) < 0 && !err)
		err = errno;
	if (!err && rename(tmp, path) < 0)
		err = errno;
	if (err)
		unlink(tmp);
	free(tmp);
	errno = err;
	return err ? -1 : 0;
}
