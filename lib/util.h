/* util.h: the error family (die/warn/eprintf), checked allocation and I/O,
 * and an always-on invariant check. Every tool sets argv0 first. */
#ifndef UTIL_H
#define UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern const char *argv0;

/* A message ending in ':' gets ": strerror(errno)" appended. */
void die(int status, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void eprintf(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2))); /* die(1, ...) */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *emalloc(size_t n);
void *ecalloc(size_t n, size_t size);
void *erealloc(void *p, size_t n);
void *ereallocarray(void *p, size_t n, size_t size);
char *estrdup(const char *s);
FILE *efopen(const char *path, const char *mode);
/* Flush stdout and fail (exit 1) on a write error: a full disk or closed pipe. */
void efflush_stdout(void);

/* Option values, the whole string or nothing; 1 ok (*out set), 0 bad.
 * parse_num: a number (strtod) in [lo, hi]. parse_u64: an integer that
 * strtoull reads in `base` (10, or 0 for 0x.. and 0.. too) without overflow.
 * parse_long: a decimal integer in [lo, hi], without overflow. */
int parse_num(const char *s, double lo, double hi, double *out);
int parse_u64(const char *s, int base, uint64_t *out);
int parse_long(const char *s, long lo, long hi, long *out);

#define ENSURE(cond) \
	do { if (!(cond)) ensure_fail(__FILE__, __LINE__, #cond); } while (0)
void ensure_fail(const char *file, int line, const char *what) __attribute__((noreturn));

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
