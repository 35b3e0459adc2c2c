/* fuzz-rec.c: libFuzzer target for the record reader (lib/rec.c,
 * lib/rec_pattern.c). Reads the input as a record stream through
 * rec_reader_new(fmemopen(...)), calls every getter on each record, and
 * checks that a record copied with recw_copy_except reads back. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "rec_pattern.h"
#include "util.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz-rec: %s:%d: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reader's messages for bad input flood the log: run with
 * -close_fd_mask=2 (libFuzzer keeps its own reports). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	argv0 = "fuzz-rec";
	return 0;
}

static void
getters(Rec *rec)
{
	static const char *const keys[] = { "kind", "v", "id", "n", "qpm", "groove", "step", "" };
	static float f[PAT_T * PAT_O];
	double d[8];
	int32_t i32[8];
	uint8_t u8[8];
	char s[64];
	static Pattern p;

	for (size_t k = 0; k < LEN(keys); k++) {
		Rec c = *rec;

		rec_has(&c, keys[k]);
		rec_obj(&c, keys[k]);
		rec_int(&c, keys[k]);
		c = *rec;
		rec_num(&c, keys[k]);
		c = *rec;
		rec_str(&c, keys[k], s, sizeof(s));
		c = *rec;
		rec_f32(&c, keys[k], f, LEN(f));
		c = *rec;
		rec_f64(&c, keys[k], d, LEN(d));
		c = *rec;
		rec_i32(&c, keys[k], i32, LEN(i32));
		c = *rec;
		rec_u8(&c, keys[k], u8, LEN(u8));
	}
	{
		Rec c = *rec;
		pattern_from_rec(&c, &p);
	}
}

/* Write a copy of rec and read it back: it must be a record again. */
static void
copy(Rec *rec)
{
	RecWriter w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	RecReader *r;
	Rec back;

	CHECK(f);
	recw_init(&w);
	recw_begin(&w, rec->kind, (int)rec->v, rec->id);
	recw_copy_except(&w, rec, NULL);
	recw_end(&w, f);
	recw_free(&w);
	fclose(f);
	f = fmemopen(buf, len, "r");
	CHECK(f);
	r = rec_reader_new(f, "copy");
	CHECK(rec_read(r, &back) == 1);
	CHECK(!strcmp(back.kind, rec->kind) && !strcmp(back.id, rec->id));
	CHECK(rec_read(r, &back) == 0);
	rec_reader_free(r);
	fclose(f);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = size ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");
	RecReader *r;
	Rec rec;
	int st, n = 0;

	if (!f)
		return 0;
	r = rec_reader_new(f, "fuzz");
	while ((st = rec_read(r, &rec)) > 0) {
		CHECK(rec_ok(&rec) && rec.index == (size_t)n);
		getters(&rec);
		if (rec.v >= INT32_MIN && rec.v <= INT32_MAX)
			copy(&rec);
		CHECK(++n <= (int)size); /* every record takes at least one byte */
	}
	CHECK(st == 0 || st == -1);
	rec_reader_free(r);
	fclose(f);
	return 0;
}
