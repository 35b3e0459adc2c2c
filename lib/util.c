/* util.c: the error family and checked wrappers declared in util.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *argv0 = "drumvae";

static void
vwarn(const char *fmt, va_list ap)
{
	int saved = errno;
	size_t n = strlen(fmt);

	fprintf(stderr, "%s: ", argv0);
	vfprintf(stderr, fmt, ap);
	if (n && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(saved));
	fputc('\n', stderr);
}

void
die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

void
eprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(1);
}

void
warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void *
emalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		eprintf("malloc %zu bytes:", n);
	return p;
}

void *
ecalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		eprintf("calloc %zu x %zu bytes:", n, size);
	return p;
}

void *
erealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		eprintf("realloc %zu bytes:", n);
	return p;
}

void *
ereallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		eprintf("reallocarray: %zu x %zu bytes overflows", n, size);
	return erealloc(p, n * size);
}

char *
estrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		eprintf("strdup:");
	return p;
}

FILE *
efopen(const char *path, const char *mode)
{
	FILE *f = fopen(path, mode);

	if (!f)
		eprintf("%s:", path);
	return f;
}

void
efflush_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		eprintf("write error on stdout:");
}

int
parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(s, &end);
	if (errno || end == s || *end || !(x >= lo && x <= hi))
		return 0;
	*out = x;
	return 1;
}

int
parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(s, &end, 10);
	if (errno || end == s || *end || x < lo || x > hi)
		return 0;
	*out = x;
	return 1;
}

int
parse_u64(const char *s, int base, uint64_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, base);
	if (errno || end == s || *end)
		return 0;
	*out = x;
	return 1;
}

void
ensure_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s: %s:%d: invariant failed: %s\n", argv0, file, line, what);
	abort();
}
