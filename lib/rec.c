/* rec.c: record reader and writer (see rec.h). The reader frames one
 * MessagePack object at a time by walking its headers over the bytes it has,
 * reading more until the object is complete; only then does msgpack-c decode
 * it, so allocation is bounded by the record's size. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "rec.h"
#include "util.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "drumvae records are little-endian; this port needs byte swapping"
#endif

struct RecReader {
	FILE *f;
	char *name;
	unsigned char *buf;
	size_t len, cap, off; /* bytes buf[off..len) are unread */
	size_t index;
	int eof;
	msgpack_unpacked up;
};

RecReader *
rec_reader_new(FILE *f, const char *name)
{
	RecReader *r = ecalloc(1, sizeof(*r));

	r->f = f;
	r->name = estrdup(name);
	r->cap = 1 << 16;
	r->buf = emalloc(r->cap);
	msgpack_unpacked_init(&r->up);
	return r;
}

void
rec_reader_free(RecReader *r)
{
	if (!r)
		return;
	msgpack_unpacked_destroy(&r->up);
	free(r->buf);
	free(r->name);
	free(r);
}

static uint64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

/* Length of the complete MessagePack object at p[0..n): >0 its length,
 * 0 incomplete, -1 invalid (reserved byte 0xc1 or nesting too deep),
 * -2 claims more than REC_MAX_BYTES, -3 more than REC_MAX_ITEMS items. */
static long long
span(const unsigned char *p, size_t n)
{
	uint64_t left[REC_MAX_DEPTH + 1]; /* items still owed at each level */
	uint64_t total = 0; /* items of all containers: msgpack-c allocates 24 bytes each */
	int depth = 0;
	size_t i = 0;

	left[0] = 1;
	while (depth >= 0) {
		uint64_t items = 0, skip = 0;
		int hdr = 1;
		unsigned c;

		if (left[depth] == 0) {
			depth--;
			continue;
		}
		left[depth]--;
		if (i >= n)
			return 0;
		c = p[i];
		if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
			;
		else if (c >= 0x80 && c <= 0x8f)
			items = 2 * (uint64_t)(c & 0x0f);
		else if (c >= 0x90 && c <= 0x9f)
			items = c & 0x0f;
		else if (c >= 0xa0 && c <= 0xbf)
			skip = c & 0x1f;
		else {
			static const signed char ext[] = {
				/* c4..c9: bin8 bin16 bin32 ext8 ext16 ext32 */
				1, 2, 4, 1, 2, 4,
			};
			int w;

			switch (c) {
			case 0xc1: return -1;
			case 0xca: skip = 4; break;
			case 0xcb: skip = 8; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xce: case 0xd2: skip = 4; break;
			case 0xcf: case 0xd3: skip = 8; break;
			case 0xd4: skip = 2; break;
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xd9: case 0xda: case 0xdb:
				w = 1 << (c - 0xd9);
				if (i + 1 + w > n)
					return 0;
				hdr += w;
				skip = be(p + i + 1, w);
				break;
			case 0xdc: case 0xdd:
				w = c == 0xdc ? 2 : 4;
				if (i + 1 + w > n)
					return 0;
				hdr += w;
				items = be(p + i + 1, w);
				break;
			case 0xde: case 0xdf:
				w = c == 0xde ? 2 : 4;
				if (i + 1 + w > n)
					return 0;
				hdr += w;
				items = 2 * be(p + i + 1, w);
				break;
			default: /* 0xc4..0xc9 */
				w = ext[c - 0xc4];
				if (i + 1 + w > n)
					return 0;
				hdr += w;
				skip = be(p + i + 1, w) + (c >= 0xc7); /* ext: type byte */
				break;
			}
		}
		if (i + hdr + skip > REC_MAX_BYTES)
			return -2;
		if (i + hdr + skip > n)
			return 0;
		i += hdr + skip;
		if (items) {
			if (depth == REC_MAX_DEPTH)
				return -1;
			total += items;
			if (total > REC_MAX_ITEMS)
				return -3;
			left[++depth] = items;
		}
	}
	return (long long)i;
}

static void
recerr(RecReader *r, const char *msg)
{
	warn("%s: record %zu: %s", r->name, r->index, msg);
}

static const msgpack_object *
find(const msgpack_object_map *m, const char *key)
{
	size_t kl = strlen(key);

	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
		    memcmp(k->via.str.ptr, key, kl) == 0)
			return &m->ptr[i].val;
	}
	return NULL;
}

int
rec_read(RecReader *r, Rec *rec)
{
	long long n;

	for (;;) {
		n = span(r->buf + r->off, r->len - r->off);
		if (n == -1) {
			recerr(r, "not MessagePack (reserved byte 0xc1 or nesting deeper than 32)");
			return -1;
		}
		if (n == -2) {
			recerr(r, "record larger than the 64 MiB limit");
			return -1;
		}
		if (n == -3) {
			recerr(r, "record holds more than 2^20 MessagePack objects");
			return -1;
		}
		if (n > 0)
			break;
		if (r->len - r->off > REC_MAX_BYTES) {
			recerr(r, "record larger than the 64 MiB limit");
			return -1;
		}
		if (r->eof) {
			if (r->len == r->off)
				return 0;
			recerr(r, "truncated: end of input inside a record");
			return -1;
		}
		if (r->off > 0) {
			memmove(r->buf, r->buf + r->off, r->len - r->off);
			r->len -= r->off;
			r->off = 0;
		}
		if (r->len == r->cap) {
			r->cap *= 2;
			r->buf = erealloc(r->buf, r->cap);
		}
		/* read(2) returns what a pipe holds now, so a record is handled
		 * as soon as it is complete; fread would wait for a full buffer */
		ssize_t got;
		int fd = fileno(r->f);

		if (fd >= 0) {
			do
				got = read(fd, r->buf + r->len, r->cap - r->len);
			while (got < 0 && errno == EINTR);
		} else {
			got = (ssize_t)fread(r->buf + r->len, 1, r->cap - r->len, r->f);
			if (got == 0 && ferror(r->f))
				got = -1;
		}
		if (got < 0) {
			warn("%s: read error:", r->name);
			return -1;
		}
		r->len += (size_t)got;
		if (got == 0)
			r->eof = 1;
	}

	size_t off = 0;
	if (msgpack_unpack_next(&r->up, (const char *)r->buf + r->off, (size_t)n, &off) !=
	    MSGPACK_UNPACK_SUCCESS || off != (size_t)n) {
		recerr(r, "malformed MessagePack");
		return -1;
	}
	r->off += (size_t)n;
	if (r->up.data.type != MSGPACK_OBJECT_MAP) {
		recerr(r, "not a map");
		return -1;
	}

	memset(rec, 0, offsetof(Rec, err) + 1);
	rec->src = r->name;
	rec->index = r->index++;
	rec->map = &r->up.data.via.map;
	rec_str(rec, "kind", rec->kind, sizeof(rec->kind));
	rec->v = rec_int(rec, "v");
	rec_str(rec, "id", rec->id, sizeof(rec->id));
	if (!rec_ok(rec)) {
		rec_report(rec);
		return -1;
	}
	return 1;
}

int
rec_ok(const Rec *rec)
{
	return rec->err[0] == '\0';
}

int
rec_has(const Rec *rec, const char *key)
{
	return find(rec->map, key) != NULL;
}

void
rec_seterr(Rec *rec, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (rec->err[0])
		return;
	n = snprintf(rec->err, sizeof(rec->err), "\"%s\": ", key);
	if (n < 0 || (size_t)n >= sizeof(rec->err))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(rec->err + n, sizeof(rec->err) - n, fmt, ap);
	va_end(ap);
}

void
rec_report(const Rec *rec)
{
	if (rec->id[0])
		warn("%s: record %zu (%s): %s", rec->src, rec->index, rec->id, rec->err);
	else
		warn("%s: record %zu: %s", rec->src, rec->index, rec->err);
}

const msgpack_object *
rec_obj(Rec *rec, const char *key)
{
	const msgpack_object *o = find(rec->map, key);

	if (!o)
		rec_seterr(rec, key, "missing");
	return o;
}

int64_t
rec_int(Rec *rec, const char *key)
{
	const msgpack_object *o = rec_obj(rec, key);

	if (!o)
		return 0;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > INT64_MAX) {
			rec_seterr(rec, key, "integer out of range");
			return 0;
		}
		return (int64_t)o->via.u64;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return o->via.i64;
	rec_seterr(rec, key, "not an integer");
	return 0;
}

double
rec_num(Rec *rec, const char *key)
{
	const msgpack_object *o = rec_obj(rec, key);

	if (!o)
		return 0;
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER: return (double)o->via.u64;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return (double)o->via.i64;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return o->via.f64;
	default:
		rec_seterr(rec, key, "not a number");
		return 0;
	}
}

const char *
rec_str(Rec *rec, const char *key, char *buf, size_t cap)
{
	const msgpack_object *o = rec_obj(rec, key);

	buf[0] = '\0';
	if (!o)
		return NULL;
	if (o->type != MSGPACK_OBJECT_STR) {
		rec_seterr(rec, key, "not a string");
		return NULL;
	}
	if (o->via.str.size >= cap) {
		rec_seterr(rec, key, "string longer than %zu bytes", cap - 1);
		return NULL;
	}
	if (memchr(o->via.str.ptr, '\0', o->via.str.size)) {
		rec_seterr(rec, key, "string holds a NUL byte");
		return NULL;
	}
	memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	return buf;
}

int
rec_bin_ok(Rec *rec, const char *key, size_t n, size_t size)
{
	const msgpack_object *o = rec_obj(rec, key);

	if (!o)
		return 0;
	if (o->type != MSGPACK_OBJECT_BIN) {
		rec_seterr(rec, key, "not a bin payload");
		return 0;
	}
	if (n > UINT32_MAX / size || o->via.bin.size != n * size) {
		rec_seterr(rec, key, "wrong length: %u bytes, want %zu x %zu",
		    o->via.bin.size, n, size);
		return 0;
	}
	return 1;
}

static int
getbin(Rec *rec, const char *key, void *out, size_t n, size_t size)
{
	if (!rec_bin_ok(rec, key, n, size))
		return 0;
	if (n)
		memcpy(out, find(rec->map, key)->via.bin.ptr, n * size);
	return 1;
}

int rec_f32(Rec *rec, const char *key, float *out, size_t n) { return getbin(rec, key, out, n, 4); }
int rec_f64(Rec *rec, const char *key, double *out, size_t n) { return getbin(rec, key, out, n, 8); }
int rec_i32(Rec *rec, const char *key, int32_t *out, size_t n) { return getbin(rec, key, out, n, 4); }
int rec_u8(Rec *rec, const char *key, uint8_t *out, size_t n) { return getbin(rec, key, out, n, 1); }

/* Writer. The map header is a map32 whose count is patched in recw_end. */

void
recw_init(RecWriter *w)
{
	msgpack_sbuffer_init(&w->sb);
	msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
	w->nkeys = 0;
	w->open = 0;
}

void
recw_free(RecWriter *w)
{
	msgpack_sbuffer_destroy(&w->sb);
}

void
recw_key(RecWriter *w, const char *key)
{
	size_t n = strlen(key);

	ENSURE(w->open);
	msgpack_pack_str(&w->pk, n);
	msgpack_pack_str_body(&w->pk, key, n);
	w->nkeys++;
}

void
recw_begin(RecWriter *w, const char *kind, int v, const char *id)
{
	static const char hdr[5] = { (char)0xdf, 0, 0, 0, 0 };

	ENSURE(!w->open);
	msgpack_sbuffer_clear(&w->sb);
	msgpack_sbuffer_write(&w->sb, hdr, sizeof(hdr));
	w->nkeys = 0;
	w->open = 1;
	recw_str(w, "kind", kind);
	recw_int(w, "v", v);
	recw_str(w, "id", id);
}

void
recw_str(RecWriter *w, const char *key, const char *val)
{
	size_t n = strlen(val);

	recw_key(w, key);
	msgpack_pack_str(&w->pk, n);
	msgpack_pack_str_body(&w->pk, val, n);
}

void
recw_int(RecWriter *w, const char *key, int64_t val)
{
	recw_key(w, key);
	msgpack_pack_int64(&w->pk, val);
}

void
recw_f64(RecWriter *w, const char *key, double val)
{
	recw_key(w, key);
	msgpack_pack_double(&w->pk, val);
}

static void
putbin(RecWriter *w, const char *key, const void *a, size_t bytes)
{
	ENSURE(bytes <= UINT32_MAX);
	recw_key(w, key);
	msgpack_pack_bin(&w->pk, bytes);
	msgpack_pack_bin_body(&w->pk, a, bytes);
}

void recw_f32s(RecWriter *w, const char *key, const float *a, size_t n) { putbin(w, key, a, n * 4); }
void recw_f64s(RecWriter *w, const char *key, const double *a, size_t n) { putbin(w, key, a, n * 8); }
void recw_i32s(RecWriter *w, const char *key, const int32_t *a, size_t n) { putbin(w, key, a, n * 4); }
void recw_u8s(RecWriter *w, const char *key, const uint8_t *a, size_t n) { putbin(w, key, a, n); }

void
recw_copy(RecWriter *w, const Rec *rec, const char *key)
{
	const msgpack_object *o = find(rec->map, key);

	if (!o)
		return;
	recw_key(w, key);
	msgpack_pack_object(&w->pk, *o);
}

void
recw_copy_except(RecWriter *w, const Rec *rec, const char *const *skip)
{
	static const char *const base[] = { "kind", "v", "id" };

	for (uint32_t i = 0; i < rec->map->size; i++) {
		const msgpack_object *k = &rec->map->ptr[i].key;
		const char *const *s;
		int drop = 0;
		size_t j;

		if (k->type != MSGPACK_OBJECT_STR)
			continue;
		for (j = 0; j < LEN(base) && !drop; j++)
			drop = strlen(base[j]) == k->via.str.size &&
			    !memcmp(base[j], k->via.str.ptr, k->via.str.size);
		for (s = skip; s && *s && !drop; s++)
			drop = strlen(*s) == k->via.str.size &&
			    !memcmp(*s, k->via.str.ptr, k->via.str.size);
		if (drop)
			continue;
		msgpack_pack_object(&w->pk, *k);
		msgpack_pack_object(&w->pk, rec->map->ptr[i].val);
		w->nkeys++;
	}
}

void
recw_end(RecWriter *w, FILE *out)
{
	unsigned char *p = (unsigned char *)w->sb.data;

	ENSURE(w->open);
	p[1] = w->nkeys >> 24;
	p[2] = w->nkeys >> 16;
	p[3] = w->nkeys >> 8;
	p[4] = w->nkeys;
	if (fwrite(w->sb.data, 1, w->sb.size, out) != w->sb.size)
		eprintf("write error:");
	w->open = 0;
}
