/* tap.h: the TAP harness of the C unit tests: ok() prints "ok N - ..." or
 * "not ok N - ..." on stdout, diag() a "# ..." comment, done() the plan
 * "1..N" last and the exit status. Set `todo` to a reason while checks
 * whose failures are known bugs run (TAP TODO: shown, not counted). */
#ifndef TAP_H
#define TAP_H
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static int ntest, nfail;
static const char *todo;

static inline int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	ntest++;
	printf("%sok %d - ", cond ? "" : "not ", ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (todo)
		printf(" # TODO %s", todo);
	putchar('\n');
	if (!cond && !todo)
		nfail++;
	fflush(stdout);
	return cond;
}

/* A TAP comment; newlines inside (captured stderr) continue the comment. */
static inline void
diag(const char *fmt, ...)
{
	char buf[2048], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	while (*buf && buf[strlen(buf) - 1] == '\n')
		buf[strlen(buf) - 1] = '\0';
	fputs("# ", stdout);
	for (p = buf; *p; p++) {
		putchar(*p);
		if (*p == '\n')
			fputs("# ", stdout);
	}
	putchar('\n');
}

/* The plan, a summary on stderr when a check failed, and main's status. */
static inline int
done(void)
{
	printf("1..%d\n", ntest);
	if (nfail)
		fprintf(stderr, "%s: %d of %d failed\n", argv0, nfail, ntest);
	return nfail != 0;
}

#endif
