/* tests/rec.c: unit test of the record codec (lib/rec.c, lib/rec_pattern.c).
 * Byte-exact writer output, every getter, truncation at every byte offset,
 * hostile headers and a mutation loop. Prints TAP on stdout; the codec's own
 * messages are captured and checked, not shown. */
#define _GNU_SOURCE /* fopencookie: an endless input that never allocates */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rec.h"
#include "rec_pattern.h"
#include "rng.h"
#include "util.h"

#include "tap.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* Bytes from a spec: hex pairs, and "quoted" ASCII; spaces ignored. */
static size_t
spec(unsigned char *out, const char *s)
{
	size_t n = 0;

	while (*s) {
		if (*s == ' ') {
			s++;
		} else if (*s == '"') {
			for (s++; *s && *s != '"'; s++)
				out[n++] = (unsigned char)*s;
			ENSURE(*s == '"');
			s++;
		} else {
			unsigned v;
			ENSURE(sscanf(s, "%2x", &v) == 1);
			out[n++] = (unsigned char)v;
			s += 2;
		}
	}
	return n;
}

/* stderr capture: the codec prints its messages with warn(). */
static char errtext[8192];
static FILE *capf;
static int savedfd = -1;

static void
cap_begin(void)
{
	fflush(stderr);
	capf = tmpfile();
	ENSURE(capf);
	savedfd = dup(2);
	dup2(fileno(capf), 2);
}

static const char *
cap_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(savedfd, 2);
	close(savedfd);
	rewind(capf);
	n = fread(errtext, 1, sizeof(errtext) - 1, capf);
	errtext[n] = '\0';
	fclose(capf);
	return errtext;
}

/* The writer's output for one record, as a malloc'd buffer. */
typedef struct {
	char *p;
	size_t n;
} Buf;

static FILE *
memout(Buf *b)
{
	FILE *f = open_memstream(&b->p, &b->n);

	ENSURE(f);
	return f;
}

static FILE *
memin(const void *p, size_t n)
{
	FILE *f = n ? fmemopen((void *)p, n, "r") : fopen("/dev/null", "r");

	ENSURE(f);
	return f;
}

/* Read every record of p[0..n): returns the final status (0 or -1), the
 * number of records read and the ids (space separated) in ids; stderr in
 * errtext. */
static int
readall(const void *p, size_t n, int *nrec, char *ids, size_t cap)
{
	FILE *f = memin(p, n);
	RecReader *r = rec_reader_new(f, "mem");
	Rec rec;
	int st, guard = 0;

	*nrec = 0;
	if (ids)
		ids[0] = '\0';
	cap_begin();
	while ((st = rec_read(r, &rec)) > 0 && guard++ < 1000000) {
		if (ids && strlen(ids) + strlen(rec.id) + 2 < cap) {
			strcat(ids, rec.id);
			strcat(ids, " ");
		}
		(*nrec)++;
	}
	cap_end();
	rec_reader_free(r);
	fclose(f);
	return st;
}

static int
hexdiff(const unsigned char *got, size_t ng, const unsigned char *want, size_t nw)
{
	size_t i;

	for (i = 0; i < ng && i < nw && got[i] == want[i]; i++)
		;
	if (i == ng && i == nw)
		return 1;
	diag("first difference at byte %zu of %zu (want %zu bytes)", i, ng, nw);
	if (i < ng && i < nw)
		diag("got 0x%02x, want 0x%02x", got[i], want[i]);
	return 0;
}

static const char S33[] = "abcdefghijklmnopqrstuvwxyz0123456";

static void
write_sample(FILE *out)
{
	RecWriter w;
	static const uint8_t u[] = { 36, 38, 42 };
	static const float f[] = { 1.0f, -0.5f };
	static const int32_t i[] = { -1, 2 };
	static const double d[] = { 1.0 };

	recw_init(&w);
	recw_begin(&w, "grid", 1, "d1/s1#bar2");
	recw_int(&w, "n", 300);
	recw_int(&w, "neg", -5);
	recw_int(&w, "big", 1LL << 40);
	recw_int(&w, "m", -200);
	recw_f64(&w, "qpm", 1.5);
	recw_str(&w, "s", S33);
	recw_u8s(&w, "pitch", u, 3);
	recw_f32s(&w, "offset", f, 2);
	recw_i32s(&w, "step", i, 2);
	recw_f64s(&w, "on_s", d, 1);
	recw_key(&w, "nil");
	msgpack_pack_nil(&w.pk);
	recw_end(&w, out);
	recw_free(&w);
}

static const char SAMPLE[] =
	"df 0000000e"
	" a4\"kind\" a4\"grid\""
	" a1\"v\" 01"
	" a2\"id\" aa\"d1/s1#bar2\""
	" a1\"n\" cd012c"
	" a3\"neg\" fb"
	" a3\"big\" cf0000010000000000"
	" a1\"m\" d1ff38"
	" a3\"qpm\" cb3ff8000000000000"
	" a1\"s\" d921\"abcdefghijklmnopqrstuvwxyz0123456\""
	" a5\"pitch\" c403 24262a"
	" a6\"offset\" c408 0000803f 000000bf"
	" a4\"step\" c408 ffffffff 02000000"
	" a4\"on_s\" c408 000000000000f03f"
	" a3\"nil\" c0";

static void
test_writer_bytes(void)
{
	unsigned char want[512];
	size_t nw = spec(want, SAMPLE);
	Buf b;
	FILE *f = memout(&b);

	write_sample(f);
	fclose(f);
	ok(hexdiff((unsigned char *)b.p, b.n, want, nw),
	    "writer: sample grid record is byte-exact (%zu bytes)", nw);
	free(b.p);
}

/* Header of a single-key record whose value is written by fn. */
static void
test_writer_sizes(void)
{
	static const struct {
		size_t n;
		const char *hdr;
	} bins[] = {
		{ 0, "c400" }, { 255, "c4ff" }, { 256, "c50100" },
		{ 65535, "c5ffff" }, { 65536, "c600010000" }, { 70000, "c600011170" },
	};
	static uint8_t zeros[70000];
	char *str = ecalloc(70001, 1);
	unsigned char want[16];

	for (size_t k = 0; k < LEN(bins); k++) {
		RecWriter w;
		Buf b;
		FILE *f = memout(&b);
		size_t nw = spec(want, bins[k].hdr), at;

		recw_init(&w);
		recw_begin(&w, "x", 1, "");
		recw_u8s(&w, "b", zeros, bins[k].n);
		recw_end(&w, f);
		recw_free(&w);
		fclose(f);
		at = b.n - bins[k].n - nw;
		ok(b.n > nw + bins[k].n && hexdiff((unsigned char *)b.p + at, nw, want, nw),
		    "writer: bin of %zu bytes has header %s", bins[k].n, bins[k].hdr);
		free(b.p);
	}
	static const struct {
		size_t n;
		const char *hdr;
	} strs[] = {
		{ 0, "a0" }, { 31, "bf" }, { 32, "d920" }, { 255, "d9ff" },
		{ 256, "da0100" }, { 65536, "db00010000" },
	};
	for (size_t k = 0; k < LEN(strs); k++) {
		RecWriter w;
		Buf b;
		FILE *f = memout(&b);
		size_t nw = spec(want, strs[k].hdr), at;

		memset(str, 'a', strs[k].n);
		str[strs[k].n] = '\0';
		recw_init(&w);
		recw_begin(&w, "x", 1, "");
		recw_str(&w, "s", str);
		recw_end(&w, f);
		recw_free(&w);
		fclose(f);
		at = b.n - strs[k].n - nw;
		ok(b.n > nw + strs[k].n && hexdiff((unsigned char *)b.p + at, nw, want, nw),
		    "writer: str of %zu bytes has header %s", strs[k].n, strs[k].hdr);
		free(b.p);
	}
	free(str);

	/* empty payload from a NULL pointer, as a writer of n = 0 notes does */
	{
		RecWriter w;
		Buf b;
		FILE *f = memout(&b);
		size_t nw = spec(want, "a1\"e\" c400");

		recw_init(&w);
		recw_begin(&w, "x", 1, "");
		recw_f32s(&w, "e", NULL, 0);
		recw_end(&w, f);
		recw_free(&w);
		fclose(f);
		ok(b.n >= nw && hexdiff((unsigned char *)b.p + b.n - nw, nw, want, nw),
		    "writer: f32s(NULL, 0) writes an empty bin");
		free(b.p);
	}
}

static void
test_getters(void)
{
	Buf b;
	FILE *f = memout(&b), *in;
	RecReader *r;
	Rec rec;
	char s[64], small[8];
	uint8_t u[3];
	float fl[2];
	int32_t i32[2];
	double d[1];
	int st;

	write_sample(f);
	fclose(f);
	in = memin(b.p, b.n);
	r = rec_reader_new(in, "sample");
	cap_begin();
	st = rec_read(r, &rec);
	cap_end();
	if (!ok(st == 1, "getters: sample record reads back (status %d)", st)) {
		diag("stderr: %s", errtext);
		return;
	}
	ok(!strcmp(rec.kind, "grid") && rec.v == 1 && !strcmp(rec.id, "d1/s1#bar2") &&
	    rec.index == 0 && !strcmp(rec.src, "sample"),
	    "getters: kind/v/id/index/src = %s/%lld/%s/%zu/%s", rec.kind,
	    (long long)rec.v, rec.id, rec.index, rec.src);
	ok(rec_int(&rec, "n") == 300 && rec_int(&rec, "neg") == -5 &&
	    rec_int(&rec, "big") == 1LL << 40 && rec_int(&rec, "m") == -200 && rec_ok(&rec),
	    "getters: rec_int 300 -5 2^40 -200");
	ok(rec_num(&rec, "qpm") == 1.5 && rec_num(&rec, "n") == 300 &&
	    rec_num(&rec, "m") == -200 && rec_ok(&rec), "getters: rec_num of float and ints");
	ok(rec_str(&rec, "s", s, sizeof(s)) == s && !strcmp(s, S33) && rec_ok(&rec),
	    "getters: rec_str");
	ok(rec_u8(&rec, "pitch", u, 3) && u[0] == 36 && u[1] == 38 && u[2] == 42,
	    "getters: rec_u8");
	ok(rec_f32(&rec, "offset", fl, 2) && fl[0] == 1.0f && fl[1] == -0.5f,
	    "getters: rec_f32");
	ok(rec_i32(&rec, "step", i32, 2) && i32[0] == -1 && i32[1] == 2, "getters: rec_i32");
	ok(rec_f64(&rec, "on_s", d, 1) && d[0] == 1.0, "getters: rec_f64");
	ok(rec_has(&rec, "nil") && !rec_has(&rec, "nope") && rec_obj(&rec, "nil") &&
	    rec_obj(&rec, "nil")->type == MSGPACK_OBJECT_NIL && rec_ok(&rec),
	    "getters: rec_has, rec_obj");
	ok(rec_ok(&rec) && rec.err[0] == '\0', "getters: no error after good reads");

	/* errors, one at a time (the first error is sticky) */
	static const struct {
		int what;
		const char *key, *msg;
	} bad[] = {
		{ 0, "nope", "\"nope\": missing" },
		{ 0, "qpm", "\"qpm\": not an integer" },
		{ 0, "s", "\"s\": not an integer" },
		{ 1, "s", "\"s\": not a number" },
		{ 2, "n", "\"n\": not a string" },
		{ 3, "s", "\"s\": string longer than 7 bytes" },
		{ 4, "pitch", "\"pitch\": wrong length: 3 bytes, want 2 x 1" },
		{ 5, "pitch", "\"pitch\": wrong length: 3 bytes, want 2 x 4" },
		{ 6, "offset", "\"offset\": wrong length: 8 bytes, want 3 x 4" },
		{ 7, "step", "\"step\": wrong length: 8 bytes, want 2 x 8" },
		{ 5, "qpm", "\"qpm\": not a bin payload" },
		{ 8, "nope", "\"nope\": missing" },
	};
	for (size_t k = 0; k < LEN(bad); k++) {
		Rec c = rec;
		uint8_t ub[2];
		float fb[3];
		double db[2];

		switch (bad[k].what) {
		case 0: rec_int(&c, bad[k].key); break;
		case 1: rec_num(&c, bad[k].key); break;
		case 2: rec_str(&c, bad[k].key, s, sizeof(s)); break;
		case 3: rec_str(&c, bad[k].key, small, sizeof(small)); break;
		case 4: rec_u8(&c, bad[k].key, ub, 2); break;
		case 5: rec_f32(&c, bad[k].key, fb, 2); break;
		case 6: rec_f32(&c, bad[k].key, fb, 3); break;
		case 7: rec_f64(&c, bad[k].key, db, 2); break;
		case 8: rec_obj(&c, bad[k].key); break;
		}
		if (!ok(!rec_ok(&c) && !strcmp(c.err, bad[k].msg), "getters: error \"%s\"", bad[k].msg))
			diag("got \"%s\"", c.err);
	}
	{
		Rec c = rec;

		rec_int(&c, "nope");
		rec_int(&c, "s");
		rec_seterr(&c, "x", "later %d", 1);
		ok(!strcmp(c.err, "\"nope\": missing"), "getters: the first error is sticky");
		argv0 = "rectest";
		cap_begin();
		rec_report(&c);
		cap_end();
		ok(!strcmp(errtext, "rectest: sample: record 0 (d1/s1#bar2): \"nope\": missing\n"),
		    "getters: rec_report format");
		diag("rec_report: %s", errtext);
		c = rec;
		rec_seterr(&c, "groove", "value %g at step %d", 2.5, 7);
		ok(!strcmp(c.err, "\"groove\": value 2.5 at step 7"), "getters: rec_seterr");
	}

	/* copy: recw_copy_except and recw_copy keep values bit for bit */
	{
		RecWriter w;
		Buf c;
		FILE *o = memout(&c);
		static const char *const skip[] = { "m", "nil", NULL };
		unsigned char want[512];
		size_t nw;

		recw_init(&w);
		recw_begin(&w, "grid", 1, "d1/s1#bar2");
		recw_copy_except(&w, &rec, skip);
		recw_copy(&w, &rec, "m");
		recw_copy(&w, &rec, "absent");
		recw_key(&w, "nil");
		msgpack_pack_nil(&w.pk);
		recw_end(&w, o);
		recw_free(&w);
		fclose(o);
		/* same keys, "m" moved after "on_s" */
		nw = spec(want, "df 0000000e"
		    " a4\"kind\" a4\"grid\" a1\"v\" 01 a2\"id\" aa\"d1/s1#bar2\""
		    " a1\"n\" cd012c a3\"neg\" fb a3\"big\" cf0000010000000000"
		    " a3\"qpm\" cb3ff8000000000000"
		    " a1\"s\" d921\"abcdefghijklmnopqrstuvwxyz0123456\""
		    " a5\"pitch\" c403 24262a a6\"offset\" c408 0000803f 000000bf"
		    " a4\"step\" c408 ffffffff 02000000 a4\"on_s\" c408 000000000000f03f"
		    " a1\"m\" d1ff38 a3\"nil\" c0");
		ok(hexdiff((unsigned char *)c.p, c.n, want, nw),
		    "writer: recw_copy_except + recw_copy reproduce the keys byte for byte");
		free(c.p);
	}
	rec_reader_free(r);
	fclose(in);
	free(b.p);
}

/* Two small records, the second with every MessagePack type in it; *first
 * gets the length of the first. */
static const char *const ALLTYPES[] = {
	"a1\"a\" c0", "a1\"b\" c2", "a1\"c\" c3", "a1\"d\" 7f", "a1\"e\" e0",
	"a1\"f\" cc ff", "a1\"g\" cd ffff", "a1\"h\" ce ffffffff",
	"a1\"i\" cf ffffffffffffffff", "a1\"j\" d0 80", "a1\"k\" d1 8000",
	"a1\"l\" d2 80000000", "a1\"m\" d3 8000000000000000",
	"a1\"n\" ca 3f800000", "a1\"o\" cb 3ff0000000000000",
	"a1\"p\" d9 03 \"abc\"", "a1\"q\" da 0003 \"abc\"", "a1\"r\" db 00000003 \"abc\"",
	"a1\"s\" c4 02 0102", "a1\"t\" c5 0002 0102", "a1\"u\" c6 00000002 0102",
	"a1\"w\" 92 01 a1\"x\"", "a1\"x\" dc 0002 01 02", "a1\"y\" dd 00000001 90",
	"a1\"z\" 81 01 80", "a2\"za\" de 0001 01 02", "a2\"zb\" df 00000001 01 02",
	"a2\"zc\" d4 01 02", "a2\"zd\" d5 01 0203", "a2\"ze\" d6 01 02030405",
	"a2\"zf\" d7 01 0203040506070809", "a2\"zg\" d8 01 02030405060708090a0b0c0d0e0f1011",
	"a2\"zh\" c7 02 05 0102", "a2\"zi\" c8 0002 05 0102",
	"a2\"zj\" c9 00000002 05 0102", "a2\"zk\" c7 00 05",
};

static size_t
two_records(unsigned char *out, size_t *first)
{
	size_t n = spec(out, "83 a4\"kind\" a5\"notes\" a1\"v\" 01 a2\"id\" a3\"one\"");

	*first = n;
	n += spec(out + n, "de 0003 a4\"kind\" a5\"notes\" a1\"v\" 01 a2\"id\" a3\"two\"");
	for (size_t k = 0; k < LEN(ALLTYPES); k++)
		n += spec(out + n, ALLTYPES[k]);
	out[*first + 2] = (unsigned char)(3 + LEN(ALLTYPES)); /* map16 count */
	return n;
}

static void
test_truncation(void)
{
	unsigned char s[1024];
	size_t first, n = two_records(s, &first);
	char ids[256];
	int nrec, st, bad = 0;
	size_t k;

	st = readall(s, n, &nrec, ids, sizeof(ids));
	ok(st == 0 && nrec == 2 && !strcmp(ids, "one two "),
	    "frame: every MessagePack type inside a record frames correctly (%d records: %s)",
	    nrec, ids);
	if (errtext[0])
		diag("stderr: %s", errtext);
	for (k = 0; k <= n; k++) {
		int wantn = k < first ? 0 : k < n ? 1 : 2, wantst = k == 0 || k == first || k == n ? 0 : -1;
		char want[64];

		st = readall(s, k, &nrec, NULL, 0);
		snprintf(want, sizeof(want), "mem: record %d: truncated", wantn);
		if (st != wantst || nrec != wantn || (wantst < 0 && !strstr(errtext, want))) {
			if (!bad++)
				diag("cut at %zu of %zu: status %d, %d records, want %d, %d; stderr: %s",
				    k, n, st, nrec, wantst, wantn, errtext);
		}
	}
	ok(!bad, "truncation: all %zu cuts of a two-record stream give 0/1/2 records, then a clean end or a \"truncated\" error naming the record (%d bad)",
	    n + 1, bad);
}

/* A FILE that yields prefix then endless zero bytes (never allocates). */
typedef struct {
	const unsigned char *pre;
	size_t npre, pos;
	size_t total; /* bytes served, to prove the reader stopped */
} Zeros;

static ssize_t
zread(void *c, char *buf, size_t n)
{
	Zeros *z = c;
	size_t k = 0;

	while (k < n && z->pos < z->npre)
		buf[k++] = (char)z->pre[z->pos++];
	memset(buf + k, 0, n - k);
	z->total += n;
	return (ssize_t)n;
}

/* Runs fn in a child; returns its exit status and its peak RSS in MiB. */
static int
inchild(int (*fn)(void *), void *arg, long *rss_mib)
{
	pid_t pid;
	int status;
	struct rusage ru;

	fflush(stdout);
	pid = fork();
	ENSURE(pid >= 0);
	if (pid == 0) {
		alarm(60);
		_exit(fn(arg));
	}
	ENSURE(wait4(pid, &status, 0, &ru) == pid);
	*rss_mib = ru.ru_maxrss / 1024;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int
endless(void *arg)
{
	const char *hex = arg;
	unsigned char pre[64];
	Zeros z = { pre, spec(pre, hex), 0, 0 };
	cookie_io_functions_t io = { .read = zread };
	FILE *f = fopencookie(&z, "r", io);
	RecReader *r = rec_reader_new(f, "zeros");
	Rec rec;
	int st;

	cap_begin();
	st = rec_read(r, &rec);
	cap_end();
	if (st != -1 || !strstr(errtext, "64 MiB"))
		return 3;
	if (z.total > (size_t)200 << 20)
		return 4;
	return 0;
}

static int
bignils(void *arg)
{
	size_t items = (size_t)16 << 20, n = 0;
	unsigned char *b = emalloc(items + 64);
	int nrec, st;

	n = spec(b, "84 a4\"kind\" a1\"x\" a1\"v\" 01 a2\"id\" a0 a4\"junk\" dd 01000000");
	memset(b + n, 0xc0, items);
	st = readall(b, n + items, &nrec, NULL, 0);
	return st == 0 && nrec == 1 ? 0 : st == -1 ? 1 : 2;
}

static void
test_hostile(void)
{
	static const struct {
		const char *name, *hex, *msg;
	} cases[] = {
		{ "array32 claiming 2^32-1 items in 5 bytes", "dd ffffffff", NULL },
		{ "map32 claiming 2^32-1 pairs in 5 bytes", "df ffffffff", NULL },
		{ "str32 of 4 GiB", "81 a4\"kind\" db ffffffff 61", NULL },
		{ "bin32 of 4 GiB", "81 a4\"kind\" c6 ffffffff 61", NULL },
		{ "ext32 of 4 GiB", "81 a4\"kind\" c9 ffffffff 01 61", NULL },
		{ "reserved byte 0xc1", "c1", NULL },
		{ "reserved byte 0xc1 inside a map", "81 a1\"x\" c1", NULL },
		{ "missing kind", "82 a1\"v\" 01 a2\"id\" a1\"x\"", "\"kind\": missing" },
		{ "missing v", "82 a4\"kind\" a1\"x\" a2\"id\" a1\"x\"", "\"v\": missing" },
		{ "missing id", "82 a4\"kind\" a1\"x\" a1\"v\" 01", "\"id\": missing" },
		{ "kind not a string", "83 a4\"kind\" 01 a1\"v\" 01 a2\"id\" a1\"x\"", "\"kind\": not a string" },
		{ "v a string", "83 a4\"kind\" a1\"x\" a1\"v\" a1\"1\" a2\"id\" a1\"x\"", "\"v\": not an integer" },
		{ "v a float", "83 a4\"kind\" a1\"x\" a1\"v\" cb3ff0000000000000 a2\"id\" a1\"x\"", "\"v\": not an integer" },
		{ "v above INT64_MAX", "83 a4\"kind\" a1\"x\" a1\"v\" cf8000000000000000 a2\"id\" a1\"x\"", "\"v\": integer out of range" },
		{ "id a bin", "83 a4\"kind\" a1\"x\" a1\"v\" 01 a2\"id\" c4 01 78", "\"id\": not a string" },
		{ "kind with a NUL", "83 a4\"kind\" a2 7800 a1\"v\" 01 a2\"id\" a1\"x\"", "\"kind\": string holds a NUL byte" },
		{ "kind of 32 bytes", "83 a4\"kind\" d9 20 \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" a1\"v\" 01 a2\"id\" a1\"x\"", "\"kind\": string longer than 31 bytes" },
	};
	unsigned char s[4096];
	int nrec, st;

	for (size_t k = 0; k < LEN(cases); k++) {
		size_t n = spec(s, cases[k].hex);

		st = readall(s, n, &nrec, NULL, 0);
		if (!ok(st == -1 && nrec == 0 && strstr(errtext, "mem: record 0") &&
		    (!cases[k].msg || strstr(errtext, cases[k].msg)),
		    "hostile: %s: error%s%s", cases[k].name, cases[k].msg ? " " : "",
		    cases[k].msg ? cases[k].msg : ""))
			diag("status %d, %d records, stderr: %s", st, nrec, errtext);
	}

	/* the same after one good record: the message must name record 1 */
	{
		size_t n = spec(s, "83 a4\"kind\" a1\"x\" a1\"v\" 01 a2\"id\" a1\"x\" 93 01 02 03");

		st = readall(s, n, &nrec, NULL, 0);
		if (!ok(st == -1 && nrec == 1 && strstr(errtext, "mem: record 1: not a map"),
		    "hostile: a non-map after one good record is \"record 1\""))
			diag("stderr: %s", errtext);
		n = spec(s, "93 01 02 03");
		st = readall(s, n, &nrec, NULL, 0);
		if (!ok(st == -1 && strstr(errtext, "mem: record 0: not a map") != NULL,
		    "hostile: an array as first record is an error \"record 0: not a map\""))
			diag("stderr: %s", errtext);
		n = spec(s, "2a");
		st = readall(s, n, &nrec, NULL, 0);
		if (!ok(st == -1 && strstr(errtext, "mem: record 0: not a map") != NULL,
		    "hostile: an integer as first record is an error \"record 0: not a map\""))
			diag("stderr: %s", errtext);
		todo = NULL;
	}

	/* nesting: 1000 deep fails; REC_MAX_DEPTH containers are fine */
	{
		size_t n = spec(s, "81 a1\"x\"");
		int depth;

		for (int k = 0; k < 1000; k++)
			s[n++] = 0x91;
		s[n++] = 0x90;
		st = readall(s, n, &nrec, NULL, 0);
		ok(st == -1 && strstr(errtext, "record 0"), "hostile: nesting depth 1000 is an error");
		for (depth = REC_MAX_DEPTH - 1; depth <= REC_MAX_DEPTH + 1; depth++) {
			n = spec(s, "84 a4\"kind\" a1\"x\" a1\"v\" 01 a2\"id\" a1\"x\" a1\"x\"");
			for (int k = 1; k < depth - 1; k++)
				s[n++] = 0x91;
			s[n++] = 0x91;
			s[n++] = 0x01;
			/* containers: the map + depth-1 arrays */
			st = readall(s, n, &nrec, NULL, 0);
			if (depth <= REC_MAX_DEPTH)
				ok(st == 0 && nrec == 1, "nesting: %d containers deep is accepted", depth);
			else
				ok(st == -1 && strstr(errtext, "record 0"),
				    "nesting: %d containers deep is an error", depth);
		}
	}

	/* an endless input behind a huge claimed length must stop at the cap */
	{
		static const char *const hx[] = {
			"81 a1\"x\" c6 ffffffff",         /* bin32 of 4 GiB */
			"81 a1\"x\" c6 04000001",         /* bin32 of 64 MiB + 1 */
			"81 a1\"x\" db ffffffff",         /* str32 */
		};
		for (size_t k = 0; k < LEN(hx); k++) {
			long rss;
			int rc;

			rc = inchild(endless, (void *)hx[k], &rss);
			ok(rc == 0, "hostile: endless input after \"%s\": \"64 MiB\" error, stops reading (exit %d, peak %ld MiB)",
			    hx[k], rc, rss);
		}
		todo = NULL;
	}

	/* many tiny objects: the decoded tree must stay near the record size */
	{
		long rss;
		int rc;

		rc = inchild(bignils, NULL, &rss);
		if (SANITIZED)
			ok(rc <= 2, "hostile: 16 Mi nils in one record: no crash (exit %d; RSS not checked under ASan)", rc);
		else
			ok(rc <= 2 && rss < 160, "hostile: 16 Mi nils in one 16 MiB record: peak RSS %ld MiB < 160 MiB (exit %d)", rss, rc);
		todo = NULL;
	}
}

/* Records larger than the reader's first buffer and many records across its
 * boundaries. */
static void
test_big_stream(void)
{
	Buf b;
	FILE *f = memout(&b);
	RecWriter w;
	uint8_t *big = ecalloc(300000, 1);
	Pattern p;
	char id[64];
	int nrec, st, k;

	recw_init(&w);
	for (k = 0; k < 300000; k++)
		big[k] = (uint8_t)(k * 7);
	recw_begin(&w, "x", 1, "a");
	recw_end(&w, f);
	recw_begin(&w, "x", 1, "b");
	recw_u8s(&w, "big", big, 300000);
	recw_end(&w, f);
	for (k = 0; k < 100; k++) {
		memset(&p, 0, sizeof(p));
		snprintf(p.id, sizeof(p.id), "p%d", k);
		p.qpm = 100 + k;
		for (int i = 0; i < PAT_T * PAT_O; i++)
			p.g[i] = (float)((i * 31 + k) % 97) / 97.0f;
		pattern_write(&w, &p, NULL, f);
	}
	fclose(f);

	{
		FILE *in = memin(b.p, b.n);
		RecReader *r = rec_reader_new(in, "big");
		Rec rec;
		int bad = 0;
		uint8_t *got = emalloc(300000);

		cap_begin();
		st = rec_read(r, &rec);
		bad += st != 1 || strcmp(rec.id, "a");
		st = rec_read(r, &rec);
		bad += st != 1 || strcmp(rec.id, "b") || !rec_u8(&rec, "big", got, 300000) ||
		    memcmp(got, big, 300000);
		for (k = 0; k < 100; k++) {
			Pattern q;

			st = rec_read(r, &rec);
			snprintf(id, sizeof(id), "p%d", k);
			if (st != 1 || !pattern_from_rec(&rec, &q) || strcmp(q.id, id) ||
			    q.qpm != 100 + k) {
				bad++;
				continue;
			}
			for (int i = 0; i < PAT_T * PAT_O; i++)
				bad += q.g[i] != (float)((i * 31 + k) % 97) / 97.0f;
		}
		st = rec_read(r, &rec);
		cap_end();
		ok(!bad && st == 0, "stream: a 300 kB record and 100 patterns across buffer boundaries read back exactly (%d bad)", bad);
		if (errtext[0])
			diag("stderr: %s", errtext);
		free(got);
		rec_reader_free(r);
		fclose(in);
	}
	st = readall(b.p, b.n, &nrec, NULL, 0);
	ok(st == 0 && nrec == 102, "stream: 102 records counted");
	recw_free(&w);
	free(big);
	free(b.p);
}

static void
test_pattern(void)
{
	static Pattern p, q;
	RecWriter w;
	Buf b, c;
	FILE *f = memout(&b), *in;
	RecReader *r;
	Rec rec;
	int st;

	memset(&p, 0, sizeof(p));
	strcpy(p.id, "drummer1/session1/1_funk_80_beat_4-4.mid#bar12");
	p.qpm = 80;
	for (int i = 0; i < PAT_T * PAT_O; i++)
		p.g[i] = (float)i / 1000.0f - 0.5f;
	recw_init(&w);
	recw_begin(&w, "grid", 1, "src");
	recw_str(&w, "split", "train");
	recw_int(&w, "bar", 12);
	recw_f64(&w, "qpm", 1);
	recw_end(&w, f);
	fclose(f);
	in = memin(b.p, b.n);
	r = rec_reader_new(in, "src");
	ENSURE(rec_read(r, &rec) == 1);
	f = memout(&c);
	pattern_write(&w, &p, &rec, f);
	fclose(f);
	rec_reader_free(r);
	fclose(in);

	in = memin(c.p, c.n);
	r = rec_reader_new(in, "pat");
	cap_begin();
	st = rec_read(r, &rec);
	cap_end();
	memset(&q, 0, sizeof(q));
	ok(st == 1 && pattern_from_rec(&rec, &q) && !strcmp(q.id, p.id) && q.qpm == 80 &&
	    !memcmp(q.g, p.g, sizeof(p.g)), "pattern: write + read round trip is exact");
	{
		char s[16];

		ok(rec_int(&rec, "bar") == 12 && rec_str(&rec, "split", s, sizeof(s)) &&
		    !strcmp(s, "train") && rec_num(&rec, "qpm") == 80 && rec_ok(&rec) &&
		    rec.map->size == 9, "pattern: source keys copied, own keys not duplicated (%u keys)",
		    rec.map->size);
	}
	rec_reader_free(r);
	fclose(in);
	free(c.p);
	free(b.p);

	/* bad patterns */
	static const struct {
		const char *what, *msg;
	} bad[] = {
		{ "kind", "\"kind\": is \"grid\", want \"pattern\"" },
		{ "v", "\"v\": pattern version 2 is not supported (this build reads 1)" },
		{ "steps", "\"steps\": shape 32 x 9, want 64 x 9" },
		{ "qpm", "\"qpm\": 0 is not a tempo" },
		{ "groove", "\"groove\": wrong length: 6916 bytes, want 1728 x 4" },
		{ "nan", "\"groove\": non-finite value at step 3, column 20" },
		{ "noqpm", "\"qpm\": missing" },
	};
	for (size_t k = 0; k < LEN(bad); k++) {
		const char *what = bad[k].what;
		float g[PAT_T * PAT_O + 1];

		memcpy(g, p.g, sizeof(p.g));
		g[PAT_T * PAT_O] = 0;
		if (!strcmp(what, "nan"))
			g[3 * PAT_O + 20] = NAN;
		f = memout(&b);
		recw_begin(&w, !strcmp(what, "kind") ? "grid" : "pattern", !strcmp(what, "v") ? 2 : 1, "b");
		recw_int(&w, "steps", !strcmp(what, "steps") ? 32 : 64);
		recw_int(&w, "classes", 9);
		if (strcmp(what, "noqpm"))
			recw_f64(&w, "qpm", !strcmp(what, "qpm") ? 0 : 120);
		recw_f32s(&w, "groove", g, PAT_T * PAT_O + !strcmp(what, "groove"));
		recw_end(&w, f);
		fclose(f);
		in = memin(b.p, b.n);
		r = rec_reader_new(in, "bad");
		ENSURE(rec_read(r, &rec) == 1);
		st = pattern_from_rec(&rec, &q);
		if (!ok(!st && !strcmp(rec.err, bad[k].msg), "pattern: bad %s: %s", what, bad[k].msg))
			diag("got \"%s\"", rec.err);
		rec_reader_free(r);
		fclose(in);
		free(b.p);
	}
	recw_free(&w);
}

/* Random mutations of a valid stream: the reader must always end (0 or -1)
 * and never crash; ASan/UBSan builds check memory safety. */
static void
test_mutations(void)
{
	unsigned char s[1024], m[1100];
	size_t first, n = two_records(s, &first);
	uint64_t seed = 42;
	int bad = 0, iters = 20000, outcome[3] = { 0 };
	FILE *null = fopen("/dev/null", "w");

	fflush(stderr);
	savedfd = dup(2);
	dup2(fileno(null), 2);
	for (int it = 0; it < iters; it++) {
		size_t len = n;
		int nm = 1 + (int)rng_below(&seed, 4);

		memcpy(m, s, n);
		for (int k = 0; k < nm; k++) {
			size_t at = rng_below(&seed, len);
			switch (rng_below(&seed, 4)) {
			case 0: m[at] = (unsigned char)rng_next(&seed); break;
			case 1: m[at] ^= (unsigned char)(1u << rng_below(&seed, 8)); break;
			case 2: len = at; break;
			case 3: m[at] = (unsigned char[]){ 0xc1, 0xdd, 0xdf, 0xdb, 0xc6, 0xff, 0x00, 0x90 }[rng_below(&seed, 8)]; break;
			}
			if (len == 0)
				break;
		}
		FILE *f = memin(m, len);
		RecReader *r = rec_reader_new(f, "mut");
		Rec rec;
		int st, nrec = 0;

		while ((st = rec_read(r, &rec)) > 0 && nrec < 10) {
			char buf[600];
			float fl[4];

			nrec++;
			rec_int(&rec, "v");
			rec_num(&rec, "o");
			rec_str(&rec, "p", buf, sizeof(buf));
			rec_f32(&rec, "u", fl, 0);
			rec_u8(&rec, "s", (uint8_t *)buf, 2);
		}
		bad += nrec >= 10 || st > 0;
		outcome[st + 1]++;
		rec_reader_free(r);
		fclose(f);
	}
	fflush(stderr);
	dup2(savedfd, 2);
	close(savedfd);
	fclose(null);
	ok(!bad, "mutations: %d mutated streams all end cleanly (%d errors, %d clean ends)",
	    iters, outcome[0], outcome[1]);
}

static int
writefull(void *arg)
{
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		return 9;
	setvbuf(f, NULL, _IONBF, 0);
	cap_begin();
	write_sample(f);
	cap_end();
	return 0; /* recw_end should have exited 1 */
}

static void
test_write_error(void)
{
	long rss;
	int rc = inchild(writefull, NULL, &rss);

	ok(rc == 1, "writer: a write error exits 1 (exit %d)", rc);
}

int
main(void)
{
	argv0 = "rectest";
	test_writer_bytes();
	test_writer_sizes();
	test_getters();
	test_truncation();
	test_hostile();
	test_big_stream();
	test_pattern();
	test_mutations();
	test_write_error();
	return done();
}
