/* rec.h: records, the MessagePack maps that flow between drumvae tools.
 * Reader: a streaming reader that frames each record itself (so a hostile
 * length can never make it allocate more than the bytes it was given) and
 * then decodes it with msgpack-c. Writer: one map built in memory and
 * written with one fwrite, so no partial record ever reaches stdout.
 * Spec: man/man5/drumvae-records.5. */
#ifndef REC_H
#define REC_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <msgpack.h>

#define REC_MAX_BYTES (64u << 20) /* largest record a reader accepts */
#define REC_MAX_DEPTH 32
#define REC_MAX_ITEMS (1u << 20) /* objects in one record: msgpack-c spends 24 bytes each */

typedef struct RecReader RecReader;

typedef struct {
	const msgpack_object_map *map;
	const char *src;   /* stream name for messages: a path or "stdin" */
	size_t index;      /* 0-based record number in the stream */
	char kind[32];
	char id[512];
	int64_t v;
	char err[512];     /* sticky: first error; "" while all is well */
} Rec;

/* name is used in messages; f is not closed by rec_reader_free. */
RecReader *rec_reader_new(FILE *f, const char *name);
void rec_reader_free(RecReader *r);
/* 1: *rec holds the next record (valid until the next call);
 * 0: clean end of input (between records);
 * -1: bad input (truncated, not a map, no kind/v/id, too big); the message
 *     naming the stream and record index is already on stderr. */
int rec_read(RecReader *r, Rec *rec);

/* Getters. On a missing key or wrong type they set rec->err (first error
 * wins) and return 0/NULL; check rec_ok() once per record. */
int rec_ok(const Rec *rec);
int rec_has(const Rec *rec, const char *key);
const msgpack_object *rec_obj(Rec *rec, const char *key); /* any type */
int64_t rec_int(Rec *rec, const char *key);
double rec_num(Rec *rec, const char *key);                /* int or float */
/* Copies a string into buf (NUL-terminated); error when it does not fit. */
const char *rec_str(Rec *rec, const char *key, char *buf, size_t cap);
/* Bulk little-endian payloads: the bin must hold exactly n elements of
 * size bytes. rec_bin_ok only checks (sets the error), the others copy. */
int rec_bin_ok(Rec *rec, const char *key, size_t n, size_t size);
int rec_f32(Rec *rec, const char *key, float *out, size_t n);
int rec_f64(Rec *rec, const char *key, double *out, size_t n);
int rec_i32(Rec *rec, const char *key, int32_t *out, size_t n);
int rec_u8(Rec *rec, const char *key, uint8_t *out, size_t n);
/* Set the sticky error by hand (e.g. a value out of range). */
void rec_seterr(Rec *rec, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print "argv0: SRC: record N (ID): ERR" on stderr. */
void rec_report(const Rec *rec);

typedef struct {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t nkeys;
	int open;
} RecWriter;

void recw_init(RecWriter *w);
void recw_free(RecWriter *w);
/* Starts a map with kind, v and id; further keys are counted by the writer. */
void recw_begin(RecWriter *w, const char *kind, int v, const char *id);
void recw_str(RecWriter *w, const char *key, const char *val);
void recw_int(RecWriter *w, const char *key, int64_t val);
void recw_f64(RecWriter *w, const char *key, double val);
void recw_f32s(RecWriter *w, const char *key, const float *a, size_t n);
void recw_f64s(RecWriter *w, const char *key, const double *a, size_t n);
void recw_i32s(RecWriter *w, const char *key, const int32_t *a, size_t n);
void recw_u8s(RecWriter *w, const char *key, const uint8_t *a, size_t n);
/* Copy one key of rec unchanged (nothing if rec lacks it). */
void recw_copy(RecWriter *w, const Rec *rec, const char *key);
/* Copy every key of rec except kind, v, id and those in skip (NULL-ended). */
void recw_copy_except(RecWriter *w, const Rec *rec, const char *const *skip);
/* For values of other shapes: recw_key writes and counts the key; then pack
 * exactly one value with msgpack_pack_*(&w->pk, ...). */
void recw_key(RecWriter *w, const char *key);
/* Finish the map and write it with one fwrite; dies on a write error. */
void recw_end(RecWriter *w, FILE *out);

#endif
