/* rec-dump: records of any kind to JSON, one object per line, for jq.
 * Reads records (stdin or files); writes JSON text on stdout. Known bulk
 * keys (groove, on_s, pitch, ...) become arrays of numbers, other bins hex
 * or base64 strings. Spec: rec-dump(1), drumvae-records(5). */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "rec_input.h"
#include "util.h"

enum { BIN_HEX, BIN_B64, F32, F64, I32, U8 };

static const struct {
	const char *key;
	int type;
} typed[] = {
	{ "groove", F32 }, { "mu", F32 }, { "sigma", F32 }, { "z", F32 }, { "offset", F32 },
	{ "on_s", F64 }, { "off_s", F64 }, { "tempo_s", F64 }, { "tempo_qpm", F64 },
	{ "ts_s", F64 }, { "step", I32 }, { "pitch", U8 }, { "velocity", U8 },
	{ "channel", U8 }, { "class", U8 }, { "ts_num", U8 }, { "ts_den", U8 },
};

static int raw, binfmt = BIN_HEX;
static char **keep;
static size_t nkeep;

/* The line being built: written with one fwrite when the record is done. */
static char *ob;
static size_t on, ocap;

static void
put(const char *s, size_t n)
{
	if (on + n > ocap) {
		ocap = (on + n) * 2;
		ob = erealloc(ob, ocap);
	}
	memcpy(ob + on, s, n);
	on += n;
}

static void
putstr(const char *s)
{
	put(s, strlen(s));
}

static void
integer(long long v)
{
	char b[24], *p = b + sizeof(b);
	unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	put(p, (size_t)(b + sizeof(b) - p));
}

static void
num(double x, int f32)
{
	char b[40];

	if (isnan(x))
		putstr("\"nan\"");
	else if (isinf(x))
		putstr(x > 0 ? "\"inf\"" : "\"-inf\"");
	else if (x == 0 && signbit(x))
		putstr("-0.0"); /* "-0" reads back as the integer 0 in some parsers */
	else if (fabs(x) < 1e15 && x == (double)(long long)x) /* fast path: 0, 1, counts */
		integer((long long)x);
	else {
		snprintf(b, sizeof(b), f32 ? "%.9g" : "%.17g", x);
		putstr(b);
	}
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t
utf8len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	else if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return len;
}

static void
str(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	char b[8];

	put("\"", 1);
	for (size_t i = 0; i < n;) {
		size_t k = utf8len(s + i, n - i);

		if (k == 0) {
			putstr("\\ufffd");
			i++;
			continue;
		}
		if (k > 1) {
			put(p + i, k);
		} else if (s[i] == '"' || s[i] == '\\') {
			put("\\", 1);
			put(p + i, 1);
		} else if (s[i] == '\n') {
			putstr("\\n");
		} else if (s[i] == '\t') {
			putstr("\\t");
		} else if (s[i] == '\r') {
			putstr("\\r");
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(b, sizeof(b), "\\u%04x", s[i]);
			putstr(b);
		} else {
			put(p + i, 1);
		}
		i += k;
	}
	put("\"", 1);
}

static void
bytes(const unsigned char *p, size_t n, int fmt)
{
	static const char hex[] = "0123456789abcdef";
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];

	put("\"", 1);
	if (fmt == BIN_HEX) {
		for (size_t i = 0; i < n; i++) {
			q[0] = hex[p[i] >> 4];
			q[1] = hex[p[i] & 15];
			put(q, 2);
		}
	} else {
		for (size_t i = 0; i < n; i += 3) {
			uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) |
			    (i + 2 < n ? p[i + 2] : 0);
			q[0] = b64[v >> 18];
			q[1] = b64[v >> 12 & 63];
			q[2] = i + 1 < n ? b64[v >> 6 & 63] : '=';
			q[3] = i + 2 < n ? b64[v & 63] : '=';
			put(q, 4);
		}
	}
	put("\"", 1);
}

/* A typed bin as an array; 0 when its length does not fit the type. */
static int
array(const unsigned char *p, size_t n, int type)
{
	size_t size = type == F64 ? 8 : type == U8 ? 1 : 4;

	if (n % size)
		return 0;
	put("[", 1);
	for (size_t i = 0; i < n / size; i++) {
		float f;
		double d;
		int32_t k;

		if (i)
			put(",", 1);
		switch (type) {
		case F32: memcpy(&f, p + 4 * i, 4); num(f, 1); break;
		case F64: memcpy(&d, p + 8 * i, 8); num(d, 0); break;
		case I32: memcpy(&k, p + 4 * i, 4); integer(k); break;
		default: integer(p[i]); break;
		}
	}
	put("]", 1);
	return 1;
}

static void key(const msgpack_object *k);

static void
value(const msgpack_object *o)
{
	char b[32];

	switch (o->type) {
	case MSGPACK_OBJECT_NIL: putstr("null"); break;
	case MSGPACK_OBJECT_BOOLEAN: putstr(o->via.boolean ? "true" : "false"); break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		snprintf(b, sizeof(b), "%llu", (unsigned long long)o->via.u64);
		putstr(b);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: integer(o->via.i64); break;
	case MSGPACK_OBJECT_FLOAT32: num(o->via.f64, 1); break;
	case MSGPACK_OBJECT_FLOAT64: num(o->via.f64, 0); break;
	case MSGPACK_OBJECT_STR: str(o->via.str.ptr, o->via.str.size); break;
	case MSGPACK_OBJECT_BIN:
		bytes((const unsigned char *)o->via.bin.ptr, o->via.bin.size, binfmt);
		break;
	case MSGPACK_OBJECT_EXT:
		snprintf(b, sizeof(b), "{\"ext\":%d,\"data\":", o->via.ext.type);
		putstr(b);
		bytes((const unsigned char *)o->via.ext.ptr, o->via.ext.size, binfmt);
		put("}", 1);
		break;
	case MSGPACK_OBJECT_ARRAY:
		put("[", 1);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i)
				put(",", 1);
			value(&o->via.array.ptr[i]);
		}
		put("]", 1);
		break;
	case MSGPACK_OBJECT_MAP:
		put("{", 1);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			if (i)
				put(",", 1);
			key(&o->via.map.ptr[i].key);
			put(":", 1);
			value(&o->via.map.ptr[i].val);
		}
		put("}", 1);
		break;
	}
}

/* JSON keys are strings: a key of another type becomes its JSON text. */
static void
key(const msgpack_object *k)
{
	size_t at = on, n;
	char *t;

	if (k->type == MSGPACK_OBJECT_STR) {
		str(k->via.str.ptr, k->via.str.size);
		return;
	}
	value(k);
	n = on - at;
	t = emalloc(n);
	memcpy(t, ob + at, n);
	on = at;
	str(t, n);
	free(t);
}

static int
kept(const msgpack_object *k)
{
	if (!nkeep)
		return 1;
	if (k->type != MSGPACK_OBJECT_STR)
		return 0;
	for (size_t i = 0; i < nkeep; i++)
		if (strlen(keep[i]) == k->via.str.size &&
		    !memcmp(keep[i], k->via.str.ptr, k->via.str.size))
			return 1;
	return 0;
}

/* One record as one line; 0 when a typed key had a bad length (rec->err
 * says which; the line is still written, with that key as bytes). */
static int
dump(Rec *rec, void *ctx)
{
	const msgpack_object_map *m = rec->map;
	int first = 1;

	on = 0;
	put("{", 1);
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
		int type = -1;

		if (!kept(k))
			continue;
		if (!first)
			put(",", 1);
		first = 0;
		key(k);
		put(":", 1);
		if (v->type == MSGPACK_OBJECT_BIN && k->type == MSGPACK_OBJECT_STR && !raw)
			for (size_t j = 0; j < LEN(typed); j++)
				if (strlen(typed[j].key) == k->via.str.size &&
				    !memcmp(typed[j].key, k->via.str.ptr, k->via.str.size))
					type = typed[j].type;
		if (type >= 0 && array((const unsigned char *)v->via.bin.ptr, v->via.bin.size, type))
			continue;
		if (type >= 0) {
			char name[32];

			snprintf(name, sizeof(name), "%.*s", (int)k->via.str.size, k->via.str.ptr);
			rec_seterr(rec, name, "bin of %u bytes does not fit its element type; dumped as bytes",
			    v->via.bin.size);
		}
		value(v);
	}
	put("}\n", 2);
	fwrite(ob, 1, on, stdout);
	return rec_ok(rec);
}

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-r] [-b] [-k KEY,...] [--strict] [file ...]\n", argv0);
}

int
main(int argc, char *argv[])
{
	static const struct option longs[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ "base64", no_argument, NULL, 'b' },
		{ "keys", required_argument, NULL, 'k' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, strict = 0, status;
	char *list = NULL;

	argv0 = "rec-dump";
	while ((c = getopt_long(argc, argv, "rbk:h", longs, NULL)) != -1) {
		switch (c) {
		case 'r': raw = 1; break;
		case 'b': binfmt = BIN_B64; break;
		case 'k': list = optarg; break;
		case 's': strict = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (list) {
		for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
			keep = ereallocarray(keep, nkeep + 1, sizeof(*keep));
			keep[nkeep++] = t;
		}
		if (!nkeep) {
			usage();
			return 2;
		}
	}
	status = rec_each(argc - optind, argv + optind, strict, dump, NULL);
	free(keep);
	free(ob);
	efflush_stdout();
	return status;
}
