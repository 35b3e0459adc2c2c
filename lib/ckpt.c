/* ckpt.c: read and write model checkpoints (see ckpt.h and
 * man/man5/drumvae-ckpt.5). Reading maps the file and checks every header
 * field, the exact size and the checksums before it trusts a byte, so a
 * truncated or corrupted file is a message, never a crash or a huge
 * allocation. Writing goes to a temporary file that is renamed at the end. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_TMPFILE (Linux); without it a named temporary is used */
#endif
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt.h"
#include "util.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "drumvae checkpoints hold little-endian floats; this port needs byte swapping"
#endif

static const char magic[8] = "DRUMVAE";

/* XXH64, Yann Collet's 64-bit hash (xxhsum -H1 gives the same value). */

#define XP1 0x9E3779B185EBCA87ull
#define XP2 0xC2B2AE3D27D4EB4Full
#define XP3 0x165667B19E3779F9ull
#define XP4 0x85EBCA77C2B2AE63ull
#define XP5 0x27D4EB2F165667C5ull

typedef struct {
	uint64_t v[4], total;
	unsigned char mem[32];
	size_t nmem;
} Xxh;

static uint64_t rotl(uint64_t x, int r) { return x << r | x >> (64 - r); }
static uint64_t rd64(const unsigned char *p) { uint64_t x; memcpy(&x, p, 8); return x; }
static uint32_t rd32(const unsigned char *p) { uint32_t x; memcpy(&x, p, 4); return x; }
static uint64_t xround(uint64_t acc, uint64_t in) { return rotl(acc + in * XP2, 31) * XP1; }
static uint64_t xmerge(uint64_t h, uint64_t v) { return (h ^ xround(0, v)) * XP1 + XP4; }

static void
xxh_init(Xxh *s, uint64_t seed)
{
	s->v[0] = seed + XP1 + XP2;
	s->v[1] = seed + XP2;
	s->v[2] = seed;
	s->v[3] = seed - XP1;
	s->total = 0;
	s->nmem = 0;
}

static void
xxh_update(Xxh *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t v0, v1, v2, v3;
	size_t fill;

	s->total += n;
	if (s->nmem + n < 32) {
		memcpy(s->mem + s->nmem, p, n);
		s->nmem += n;
		return;
	}
	if (s->nmem) {
		fill = 32 - s->nmem;
		memcpy(s->mem + s->nmem, p, fill);
		for (int i = 0; i < 4; i++)
			s->v[i] = xround(s->v[i], rd64(s->mem + 8 * i));
		p += fill;
		n -= fill;
		s->nmem = 0;
	}
	v0 = s->v[0], v1 = s->v[1], v2 = s->v[2], v3 = s->v[3];
	for (; n >= 32; p += 32, n -= 32) {
		v0 = xround(v0, rd64(p));
		v1 = xround(v1, rd64(p + 8));
		v2 = xround(v2, rd64(p + 16));
		v3 = xround(v3, rd64(p + 24));
	}
	s->v[0] = v0, s->v[1] = v1, s->v[2] = v2, s->v[3] = v3;
	memcpy(s->mem, p, n);
	s->nmem = n;
}

static uint64_t
xxh_digest(const Xxh *s)
{
	const unsigned char *p = s->mem, *end = s->mem + s->nmem;
	uint64_t h;

	if (s->total >= 32) {
		h = rotl(s->v[0], 1) + rotl(s->v[1], 7) + rotl(s->v[2], 12) + rotl(s->v[3], 18);
		for (int i = 0; i < 4; i++)
			h = xmerge(h, s->v[i]);
	} else {
		h = s->v[2] + XP5;
	}
	h += s->total;
	for (; p + 8 <= end; p += 8)
		h = rotl(h ^ xround(0, rd64(p)), 27) * XP1 + XP4;
	if (p + 4 <= end) {
		h = rotl(h ^ (uint64_t)rd32(p) * XP1, 23) * XP2 + XP3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl(h ^ *p * XP5, 11) * XP1;
	h ^= h >> 33;
	h *= XP2;
	h ^= h >> 29;
	h *= XP3;
	return h ^ h >> 32;
}

uint64_t
ckpt_xxh64(const void *p, size_t n, uint64_t seed)
{
	Xxh s;

	xxh_init(&s, seed);
	xxh_update(&s, p, n);
	return xxh_digest(&s);
}

/* IEEE 754 binary16 */

uint16_t
ckpt_f16(float f)
{
	uint32_t x, ax, sign, r, rem, m, half;
	int e, sh;

	memcpy(&x, &f, 4);
	sign = x >> 16 & 0x8000;
	ax = x & 0x7fffffff;
	if (ax > 0x7f800000)
		return sign | 0x7e00;             /* NaN */
	if (ax >= 0x477ff000)
		return sign | 0x7c00;             /* >= 65520 rounds to inf */
	if (ax >= 0x38800000) {                   /* normal: rebias 127 -> 15 */
		r = (ax >> 13) - (112u << 10);
		rem = ax & 0x1fff;
		if (rem > 0x1000 || (rem == 0x1000 && (r & 1)))
			r++;
		return sign | r;
	}
	e = ax >> 23;                             /* subnormal: units of 2^-24 */
	if (e < 102)
		return sign;
	m = (ax & 0x7fffff) | 0x800000;
	sh = 126 - e;
	r = m >> sh;
	rem = m & ((1u << sh) - 1);
	half = 1u << (sh - 1);
	if (rem > half || (rem == half && (r & 1)))
		r++;
	return sign | r;
}

float
ckpt_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = h >> 10 & 0x1f, m = h & 0x3ff, x;
	float f;

	if (e == 0) {
		f = (float)m * (1.0f / 16777216.0f);
		return sign ? -f : f;
	}
	if (e == 31)
		x = sign | 0x7f800000 | m << 13;
	else
		x = sign | (e + 112) << 23 | m << 13;
	memcpy(&f, &x, 4);
	return f;
}

/* The config as text: every VaeConfig field by name. */

enum { F_STR, F_INT, F_FLT };

static const struct {
	const char *key;
	int type;
	size_t off, size;
} fields[] = {
#define S(k) { #k, F_STR, offsetof(VaeConfig, k), sizeof(((VaeConfig *)0)->k) }
#define I(k) { #k, F_INT, offsetof(VaeConfig, k), sizeof(int) }
#define F(k) { #k, F_FLT, offsetof(VaeConfig, k), sizeof(float) }
	S(preset), I(hier), I(enc_h), I(enc_layers), I(dec_h), I(dec_layers),
	I(cond_h), I(cond_layers), I(z), I(bars), I(steps_per_bar),
	F(free_bits), F(beta), F(keep), F(lr), F(lr_min), F(lr_decay), F(clip),
	I(loss), F(sched_k),
#undef S
#undef I
#undef F
};

size_t
ckpt_config_bytes(void)
{
	size_t n = 0;

	for (size_t i = 0; i < LEN(fields); i++)
		n += fields[i].size;
	return n;
}

static int
errf(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return -1;
}

int
ckpt_config_text(char *buf, size_t cap, const VaeConfig *cfg)
{
	const char *base = (const char *)cfg;
	size_t n = 0;
	int k = 0;

	for (size_t i = 0; i < LEN(fields); i++, n += k) {
		const void *p = base + fields[i].off;
		int iv;
		float fv;

		switch (fields[i].type) {
		case F_STR:
			k = snprintf(buf + n, cap - n, "%s %.*s\n", fields[i].key,
			    (int)fields[i].size, (const char *)p);
			break;
		case F_INT:
			memcpy(&iv, p, sizeof(iv));
			k = snprintf(buf + n, cap - n, "%s %d\n", fields[i].key, iv);
			break;
		default:
			memcpy(&fv, p, sizeof(fv));
			k = snprintf(buf + n, cap - n, "%s %.9g\n", fields[i].key, fv);
			break;
		}
		if (k < 0 || (size_t)k >= cap - n)
			return -1;
	}
	return 0;
}

/* One "key value" line (no newline) into cfg; seen marks the fields set. */
static int
config_line(VaeConfig *cfg, unsigned char *seen, const char *line, size_t len,
    char *err, size_t cap)
{
	const char *sp = memchr(line, ' ', len);
	char val[64], *end;
	size_t klen, vlen, i;
	char *base = (char *)cfg;
	long iv;
	float fv;

	if (!sp)
		return errf(err, cap, "config line \"%.40s\" has no value", line);
	klen = sp - line;
	vlen = len - klen - 1;
	for (i = 0; i < LEN(fields); i++)
		if (strlen(fields[i].key) == klen && !memcmp(fields[i].key, line, klen))
			break;
	if (i == LEN(fields))
		return errf(err, cap, "config key \"%.*s\" is unknown to this build "
		    "(written by a newer drumvae?)", (int)(klen < 40 ? klen : 40), line);
	if (seen[i])
		return errf(err, cap, "config key \"%s\" appears twice", fields[i].key);
	seen[i] = 1;
	if (vlen >= sizeof(val))
		return errf(err, cap, "config key \"%s\": value too long", fields[i].key);
	memcpy(val, sp + 1, vlen);
	val[vlen] = '\0';
	switch (fields[i].type) {
	case F_STR:
		if (vlen >= fields[i].size)
			return errf(err, cap, "config key \"%s\": \"%s\" is too long",
			    fields[i].key, val);
		memset(base + fields[i].off, 0, fields[i].size);
		memcpy(base + fields[i].off, val, vlen);
		return 0;
	case F_INT:
		errno = 0;
		iv = strtol(val, &end, 10);
		if (!vlen || *end || errno || iv < 0 || iv > (1L << 20))
			return errf(err, cap, "config key \"%s\": bad value \"%s\"",
			    fields[i].key, val);
		memcpy(base + fields[i].off, &(int){ (int)iv }, sizeof(int));
		return 0;
	default:
		fv = strtof(val, &end);
		if (!vlen || *end || !isfinite(fv))
			return errf(err, cap, "config key \"%s\": bad value \"%s\"",
			    fields[i].key, val);
		memcpy(base + fields[i].off, &fv, sizeof(float));
		return 0;
	}
}

static int
config_done(const unsigned char *seen, char *err, size_t cap)
{
	for (size_t i = 0; i < LEN(fields); i++)
		if (!seen[i])
			return errf(err, cap, "config key \"%s\" is missing", fields[i].key);
	return 0;
}

int
ckpt_config_parse(VaeConfig *cfg, const char *text, size_t len, char *err, size_t cap)
{
	unsigned char seen[LEN(fields)] = { 0 };
	const char *p = text, *end = text + len, *nl;

	memset(cfg, 0, sizeof(*cfg));
	for (; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', end - p)))
			nl = end;
		if (config_line(cfg, seen, p, nl - p, err, cap) < 0)
			return -1;
	}
	return config_done(seen, err, cap);
}

/* Header: little-endian fields at fixed offsets (drumvae-ckpt.5). */

enum {
	H_VERSION = 8, H_FLAGS = 12, H_METALEN = 16, H_DATAOFF = 20,
	H_NPARAMS = 24, H_STEP = 32, H_EPOCH = 40, H_RNG = 48, H_SIZE = 56
};

static size_t al64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Bytes of the params section as stored, and of the whole file. */
static size_t
file_size(size_t data_off, size_t nparams, uint32_t flags)
{
	size_t n = data_off + al64(nparams * (flags & CKPT_HALF ? 2 : 4));

	if (flags & CKPT_ADAM)
		n += 2 * al64(nparams * 4);
	return n + 16;
}

/* Compare the file's tensor table (text lines) with vae_layout(cfg). */
static int
check_table(const Vae *L, const char *p, const char *end, char *err, size_t cap)
{
	const char *nl;
	size_t i = 0;

	for (; p < end; p = nl + 1, i++) {
		char name[64], extra;
		int rows, cols, n;
		unsigned long long off;
		char line[160];
		size_t len;

		nl = memchr(p, '\n', end - p);
		len = nl - p;
		if (len >= sizeof(line))
			return errf(err, cap, "tensor table line %zu is too long", i + 1);
		memcpy(line, p, len);
		line[len] = '\0';
		n = sscanf(line, "tensor %63s %d %d %llu %c", name, &rows, &cols, &off, &extra);
		if (n != 4)
			return errf(err, cap, "tensor table line %zu is malformed: \"%.60s\"",
			    i + 1, line);
		if (i >= L->ntensors)
			return errf(err, cap, "checkpoint tensor table does not match this "
			    "build's model: extra tensor %s", name);
		if (strcmp(name, L->t[i].name) || rows != L->t[i].rows ||
		    cols != L->t[i].cols || off != L->t[i].off)
			return errf(err, cap, "checkpoint tensor table does not match this "
			    "build's model: tensor %zu is %s %dx%d at %llu, this build has "
			    "%s %dx%d at %zu", i, name, rows, cols, off, L->t[i].name,
			    L->t[i].rows, L->t[i].cols, L->t[i].off);
	}
	if (i != L->ntensors)
		return errf(err, cap, "checkpoint tensor table does not match this build's "
		    "model: %zu tensors, this build has %zu (first missing: %s)",
		    i, L->ntensors, L->t[i].name);
	return 0;
}

static int
parse(Ckpt *c, const unsigned char *b, size_t size, int how, char *err, size_t cap)
{
	uint32_t version, flags, metalen, dataoff;
	uint64_t nparams, hsize, want, aend, sum;
	const char *meta, *p, *end, *nl;
	unsigned char seen[LEN(fields)] = { 0 };
	Vae L;
	const char *msg;

	if (memcmp(b, magic, size < sizeof(magic) ? size : sizeof(magic)))
		return errf(err, cap, "not a drumvae checkpoint (no DRUMVAE magic)");
	if (size < CKPT_HDR)
		return errf(err, cap, "truncated: %zu bytes, the header alone is %d", size, CKPT_HDR);
	version = rd32(b + H_VERSION);
	if (version != CKPT_VERSION)
		return errf(err, cap, "checkpoint format version %u; this build reads version %d "
		    "(use the drumvae that wrote it, or retrain)", version, CKPT_VERSION);
	flags = rd32(b + H_FLAGS);
	metalen = rd32(b + H_METALEN);
	dataoff = rd32(b + H_DATAOFF);
	nparams = rd64(b + H_NPARAMS);
	hsize = rd64(b + H_SIZE);
	if (flags & ~(CKPT_ADAM | CKPT_HALF) || (flags & CKPT_ADAM && flags & CKPT_HALF))
		return errf(err, cap, "corrupted header: bad flags 0x%x", flags);
	if (metalen == 0 || metalen > CKPT_MAX_META || dataoff % CKPT_ALIGN ||
	    dataoff < CKPT_HDR + metalen || dataoff > CKPT_HDR + metalen + CKPT_ALIGN)
		return errf(err, cap, "corrupted header: config length %u, data offset %u",
		    metalen, dataoff);
	if (nparams == 0 || nparams > (1ull << 36))
		return errf(err, cap, "corrupted header: %llu parameters",
		    (unsigned long long)nparams);
	want = file_size(dataoff, nparams, flags);
	if (hsize != want)
		return errf(err, cap, "corrupted header: size field %llu, the layout needs %llu",
		    (unsigned long long)hsize, (unsigned long long)want);
	if (size < want)
		return errf(err, cap, "truncated: %zu of %llu bytes", size,
		    (unsigned long long)want);
	if (size > want)
		return errf(err, cap, "%zu bytes, expected %llu: trailing garbage", size,
		    (unsigned long long)want);
	aend = dataoff + nparams * (flags & CKPT_HALF ? 2 : 4);
	sum = ckpt_xxh64(b, aend, 0);
	if (sum != rd64(b + size - 16))
		return errf(err, cap, "checksum mismatch in header, config or parameters: "
		    "the file is corrupted");
	if (how & CKPT_VERIFY_ADAM && ckpt_xxh64(b + aend, size - 16 - aend, 0) != rd64(b + size - 8))
		return errf(err, cap, "checksum mismatch in the Adam state: the file is corrupted");

	meta = (const char *)b + CKPT_HDR;
	end = meta + metalen;
	if (memchr(meta, '\0', metalen) || end[-1] != '\n')
		return errf(err, cap, "config text is malformed");
	memset(&c->cfg, 0, sizeof(c->cfg));
	for (p = meta; p < end && strncmp(p, "tensor ", 7); p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (config_line(&c->cfg, seen, p, nl - p, err, cap) < 0)
			return -1;
	}
	if (config_done(seen, err, cap) < 0)
		return -1;
	if ((msg = vae_config_check(&c->cfg)))
		return errf(err, cap, "checkpoint config is invalid: %s", msg);
	memset(&L, 0, sizeof(L));
	vae_layout(&L, &c->cfg);
	if (L.nparams != nparams)
		return errf(err, cap, "checkpoint tensor table does not match this build's "
		    "model: %llu parameters, this build has %zu for this config",
		    (unsigned long long)nparams, L.nparams);
	if (check_table(&L, p, end, err, cap) < 0)
		return -1;

	c->flags = flags;
	c->nparams = nparams;
	memcpy(&c->step, b + H_STEP, 8);
	memcpy(&c->epoch, b + H_EPOCH, 8);
	c->rng = rd64(b + H_RNG);
	if (c->step < 0 || c->epoch < 0)
		return errf(err, cap, "corrupted header: step %lld, epoch %lld",
		    (long long)c->step, (long long)c->epoch);
	if (flags & CKPT_HALF) {
		const unsigned char *h = b + dataoff;
		float *tab = emalloc(65536 * sizeof(float)); /* a lookup is 4x faster */

		for (uint32_t i = 0; i < 65536; i++)
			tab[i] = ckpt_f32(i);
		/* populated in one call: 4x faster than faulting page by page */
		c->own = mmap(NULL, nparams * sizeof(float), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (c->own == MAP_FAILED) {
			c->own = NULL;
			free(tab);
			return errf(err, cap, "%llu parameters: %s",
			    (unsigned long long)nparams, strerror(errno));
		}
		for (size_t i = 0; i < nparams; i++)
			c->own[i] = tab[h[2 * i] | h[2 * i + 1] << 8];
		free(tab);
		c->params = c->own;
	} else {
		c->params = (const float *)(b + dataoff);
	}
	if (flags & CKPT_ADAM) {
		c->m = (const float *)(b + dataoff + al64(nparams * 4));
		c->v = (const float *)(b + dataoff + 2 * al64(nparams * 4));
	}
	return 0;
}

int
ckpt_parse(Ckpt *c, const void *buf, size_t size, int how, const char *name,
    char *err, size_t cap)
{
	char msg[400];

	memset(c, 0, sizeof(*c));
	if (parse(c, buf, size, how, msg, sizeof(msg)) < 0) {
		if (c->own)
			munmap(c->own, c->nparams * sizeof(float));
		memset(c, 0, sizeof(*c));
		return errf(err, cap, "%s: %s", name, msg);
	}
	return 0;
}

int
ckpt_open(Ckpt *c, const char *path, int how, char *err, size_t cap)
{
	struct stat st;
	void *map;
	int fd;

	memset(c, 0, sizeof(*c));
	if ((fd = open(path, O_RDONLY)) < 0)
		return errf(err, cap, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		close(fd);
		return errf(err, cap, "%s: %s", path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return errf(err, cap, "%s: not a regular file", path);
	}
	if (st.st_size < CKPT_HDR) {
		unsigned char b[CKPT_HDR];
		ssize_t n = read(fd, b, sizeof(b));

		close(fd);
		return ckpt_parse(c, b, n > 0 ? (size_t)n : 0, how, path, err, cap);
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return errf(err, cap, "%s: mmap: %s", path, strerror(errno));
	if (ckpt_parse(c, map, st.st_size, how, path, err, cap) < 0) {
		munmap(map, st.st_size);
		return -1;
	}
	c->map = map;
	c->size = st.st_size;
	return 0;
}

void
ckpt_close(Ckpt *c)
{
	if (c->map)
		munmap(c->map, c->size);
	if (c->own)
		munmap(c->own, c->nparams * sizeof(float));
	memset(c, 0, sizeof(*c));
}

void
ckpt_model(Vae *m, const Ckpt *c, int train)
{
	size_t bytes = c->nparams * sizeof(float);

	memset(m, 0, sizeof(*m));
	vae_layout(m, &c->cfg);
	m->cfg = c->cfg;
	ENSURE(m->nparams == c->nparams);
	if (!train) {
		vae_alloc(m, (float *)c->params, 0);
	} else {
		vae_alloc(m, NULL, 1);
		memcpy(m->params, c->params, bytes);
		if (c->m) {
			memcpy(m->m, c->m, bytes);
			memcpy(m->v, c->v, bytes);
		}
	}
	m->step = c->step;
}

/* Writing: a buffered writer that hashes what it writes. */

typedef struct {
	int fd;
	Xxh h;
	size_t n;
	int err;                  /* errno of the first failed write */
	unsigned char buf[1 << 16];
} Out;

static void
out_flush(Out *o)
{
	size_t done = 0;

	while (done < o->n && !o->err) {
		ssize_t k = write(o->fd, o->buf + done, o->n - done);

		if (k < 0 && errno != EINTR)
			o->err = errno;
		else if (k > 0)
			done += k;
	}
	o->n = 0;
}

static void
out_put(Out *o, const void *data, size_t n)
{
	const unsigned char *p = data;

	xxh_update(&o->h, p, n);
	while (n) {
		size_t k = sizeof(o->buf) - o->n;

		if (k > n)
			k = n;
		memcpy(o->buf + o->n, p, k);
		o->n += k;
		p += k;
		n -= k;
		if (o->n == sizeof(o->buf))
			out_flush(o);
	}
}

static void
out_zeros(Out *o, size_t n)
{
	static const unsigned char z[4096];

	for (; n > sizeof(z); n -= sizeof(z))
		out_put(o, z, sizeof(z));
	out_put(o, z, n);
}

static void
put_floats(Out *o, const float *a, size_t n)
{
	static const float z[1024];

	if (a) {
		out_put(o, a, n * sizeof(float));
		return;
	}
	for (; n > LEN(z); n -= LEN(z))
		out_put(o, z, sizeof(z));
	out_put(o, z, n * sizeof(float));
}

static void
put_half(Out *o, const float *a, size_t n)
{
	uint16_t h[1024];

	while (n) {
		size_t k = n < LEN(h) ? n : LEN(h);

		for (size_t i = 0; i < k; i++)
			h[i] = ckpt_f16(a[i]);
		out_put(o, h, k * 2);
		a += k;
		n -= k;
	}
}

static void
put32(unsigned char *p, uint32_t x) { memcpy(p, &x, 4); }
static void
put64(unsigned char *p, uint64_t x) { memcpy(p, &x, 8); }

/* A non-finite or (for float16) out-of-range parameter refuses the save. */
static int
check_params(const Vae *m, uint32_t flags, char *err, size_t cap)
{
	float lim = flags & CKPT_HALF ? 65504.0f : INFINITY;

	for (size_t t = 0; t < m->ntensors; t++) {
		const VaeTensor *T = &m->t[t];
		const float *a = m->params + T->off;
		size_t n = (size_t)T->rows * T->cols;

		for (size_t i = 0; i < n; i++)
			if (!(fabsf(a[i]) <= lim))
				return errf(err, cap, "parameter %s[%zu][%zu] is %g: %s", T->name,
				    i / T->cols, i % T->cols, a[i], isfinite(a[i]) ?
				    "too large for float16" : "not finite, refusing to save");
	}
	return 0;
}

/* Open the file to write: unnamed in the target's folder when the file
 * system allows it (nothing is left behind by a crash), else path.tmp.PID. */
static int
open_tmp(const char *path, char *tmp, size_t tcap, int *named)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	snprintf(tmp, tcap, "%s.tmp.%ld", path, (long)getpid());
	*named = 0;
#ifdef O_TMPFILE
	int fd;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	/* naming it at the end needs /proc/self/fd (linkat) */
	if (access("/proc/self/fd", X_OK) == 0 &&
	    (fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644)) >= 0)
		return fd;
#else
	(void)dir;
	(void)slash;
#endif
	*named = 1;
	unlink(tmp); /* left by a killed process that had our pid */
	return open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
}

static void
sync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path + 1) : 1,
	    slash ? path : ".");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
}

int
ckpt_save(const char *path, const Vae *m, int64_t epoch, uint64_t rng,
    uint32_t flags, char *err, size_t cap)
{
	static Out o;
	unsigned char hdr[CKPT_HDR] = { 0 };
	char *meta, tmp[4200], proc[64];
	size_t mcap = CKPT_MAX_META, mlen, dataoff, size, pbytes;
	uint64_t suma;
	int fd, named, k;

	ENSURE(!(flags & ~(CKPT_ADAM | CKPT_HALF)) && flags != (CKPT_ADAM | CKPT_HALF));
	if (strlen(path) > 4000)
		return errf(err, cap, "%.40s...: path too long", path);
	if (check_params(m, flags, err, cap) < 0)
		return -1;
	meta = emalloc(mcap);
	ENSURE(ckpt_config_text(meta, mcap, &m->cfg) == 0);
	mlen = strlen(meta);
	for (size_t t = 0; t < m->ntensors; t++, mlen += k) {
		k = snprintf(meta + mlen, mcap - mlen, "tensor %s %d %d %zu\n",
		    m->t[t].name, m->t[t].rows, m->t[t].cols, m->t[t].off);
		ENSURE(k > 0 && (size_t)k < mcap - mlen);
	}
	dataoff = (CKPT_HDR + mlen + CKPT_ALIGN - 1) / CKPT_ALIGN * CKPT_ALIGN;
	size = file_size(dataoff, m->nparams, flags);
	pbytes = m->nparams * (flags & CKPT_HALF ? 2 : 4);

	memcpy(hdr, magic, sizeof(magic));
	put32(hdr + H_VERSION, CKPT_VERSION);
	put32(hdr + H_FLAGS, flags);
	put32(hdr + H_METALEN, mlen);
	put32(hdr + H_DATAOFF, dataoff);
	put64(hdr + H_NPARAMS, m->nparams);
	put64(hdr + H_STEP, (uint64_t)m->step);
	put64(hdr + H_EPOCH, (uint64_t)epoch);
	put64(hdr + H_RNG, rng);
	put64(hdr + H_SIZE, size);

	if ((fd = open_tmp(path, tmp, sizeof(tmp), &named)) < 0) {
		free(meta);
		return errf(err, cap, "%s: %s", path, strerror(errno));
	}
	o.fd = fd;
	o.n = 0;
	o.err = 0;
	xxh_init(&o.h, 0);
	out_put(&o, hdr, sizeof(hdr));
	out_put(&o, meta, mlen);
	out_zeros(&o, dataoff - CKPT_HDR - mlen);
	if (flags & CKPT_HALF)
		put_half(&o, m->params, m->nparams);
	else
		put_floats(&o, m->params, m->nparams);
	suma = xxh_digest(&o.h);
	xxh_init(&o.h, 0);
	out_zeros(&o, al64(pbytes) - pbytes);
	if (flags & CKPT_ADAM) {
		put_floats(&o, m->m, m->nparams);
		out_zeros(&o, al64(m->nparams * 4) - m->nparams * 4);
		put_floats(&o, m->v, m->nparams);
		out_zeros(&o, al64(m->nparams * 4) - m->nparams * 4);
	}
	put64(hdr, suma);
	put64(hdr + 8, xxh_digest(&o.h));
	out_put(&o, hdr, 16);
	out_flush(&o);
	free(meta);
	errno = o.err;
	if (o.err || fsync(fd) < 0)
		goto fail;
	if (!named) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		unlink(tmp);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) < 0)
			goto fail;
		named = 1;
	}
	if (rename(tmp, path) < 0)
		goto fail;
	close(fd);
	sync_dir(path);
	return 0;
fail:
	errf(err, cap, "%s: %s", path, strerror(errno));
	close(fd);
	if (named)
		unlink(tmp);
	return -1;
}
