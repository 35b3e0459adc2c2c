/* drum_map.c: built-in drum maps (REFERENCE.md section 2) and the map-file
 * parser (format: drumvae-drummap(5)). Reads map text, writes a DrumMap. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drum_map.h"

const char *const drum_class_names[DRUM_CLASSES] = {
	"kick", "snare", "hh-closed", "hh-open", "tom-low", "tom-mid", "tom-high",
	"crash", "ride",
};

/* Each row: its pitches, the first one is the pitch written; 0 ends a row. */
static const uint8_t roland[DRUM_CLASSES][16] = {
	{ 36 },
	{ 38, 37, 40 },
	{ 42, 22, 44 },
	{ 46, 26 },
	{ 43, 58 },
	{ 47, 45 },
	{ 50, 48 },
	{ 49, 52, 55, 57 },
	{ 51, 53, 59 },
};

static const uint8_t gm[DRUM_CLASSES][16] = {
	{ 36, 35 },
	{ 38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85 },
	{ 42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22 },
	{ 46, 67, 72, 74, 79, 81, 26 },
	{ 45, 29, 41, 43, 61, 64, 84 },
	{ 48, 47, 60, 63, 77, 86, 87 },
	{ 50, 30, 62, 76, 83 },
	{ 49, 52, 55, 57, 58 },
	{ 51, 53, 59, 82 },
};

static void
fill(DrumMap *m, const uint8_t rows[DRUM_CLASSES][16], const char *name)
{
	memset(m->cls, DRUM_UNMAPPED, sizeof(m->cls));
	for (int c = 0; c < DRUM_CLASSES; c++) {
		m->out[c] = rows[c][0];
		for (int j = 0; j < 16 && rows[c][j]; j++)
			m->cls[rows[c][j]] = (int8_t)c;
	}
	snprintf(m->name, sizeof(m->name), "%s", name);
}

int
drum_map_builtin(DrumMap *m, const char *name)
{
	if (strcmp(name, "roland") == 0)
		fill(m, roland, "roland");
	else if (strcmp(name, "gm") == 0)
		fill(m, gm, "gm");
	else
		return 0;
	return 1;
}

int
drum_class_index(const char *name)
{
	if (name[0] >= '0' && name[0] <= '8' && name[1] == '\0')
		return name[0] - '0';
	for (int c = 0; c < DRUM_CLASSES; c++)
		if (strcmp(name, drum_class_names[c]) == 0)
			return c;
	return -1;
}

static int
fail(char *err, size_t errsz, const char *name, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errsz, "%s:%d: ", name, line);

	if (n < 0 || (size_t)n >= errsz)
		return 0;
	va_start(ap, fmt);
	vsnprintf(err + n, errsz - n, fmt, ap);
	va_end(ap);
	return 0;
}

/* Next whitespace-separated word of *s (modified in place), or NULL. */
static char *
word(char **s)
{
	char *p = *s, *w;

	while (*p && isspace((unsigned char)*p))
		p++;
	if (!*p)
		return NULL;
	w = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	if (*p)
		*p++ = '\0';
	*s = p;
	return w;
}

int
drum_map_parse(DrumMap *m, const char *text, const char *name, char *err, size_t errsz)
{
	int seen[128];      /* line that listed a pitch in this file, 0 none */
	int given[DRUM_CLASSES] = { 0 };
	char *buf = strdup(text), *line, *next;
	int lineno = 0, classes = 0, ok = 1;

	if (!buf)
		return fail(err, errsz, name, 0, "out of memory");
	fill(m, gm, name);  /* out pitches default to GM's first pitch */
	memset(m->cls, DRUM_UNMAPPED, sizeof(m->cls));
	memset(seen, 0, sizeof(seen));
	for (line = buf; ok && line; line = next) {
		char *hash, *colon, *w, *rest;
		int c;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if ((hash = strchr(line, '#')))
			*hash = '\0';
		colon = strchr(line, ':');
		if (!colon) {
			rest = line;
			if (!(w = word(&rest)))
				continue;
			if (strcmp(w, "base") != 0) {
				ok = fail(err, errsz, name, lineno,
				    "expected \"CLASS: PITCH ...\" or \"base roland|gm\", got \"%s\"", w);
				break;
			}
			if (classes) {
				ok = fail(err, errsz, name, lineno, "\"base\" must come before the class lines");
				break;
			}
			w = word(&rest);
			if (!w || word(&rest) || !drum_map_builtin(m, w)) {
				ok = fail(err, errsz, name, lineno, "\"base\" takes one name: roland or gm");
				break;
			}
			snprintf(m->name, sizeof(m->name), "%s", name);
			continue;
		}
		*colon = '\0';
		rest = line;
		w = word(&rest);
		if (!w || word(&rest)) {
			ok = fail(err, errsz, name, lineno, "expected one class name before ':'");
			break;
		}
		if (strcmp(w, "ignore") == 0)
			c = DRUM_IGNORED;
		else if ((c = drum_class_index(w)) < 0) {
			ok = fail(err, errsz, name, lineno,
			    "unknown class \"%s\" (kick snare hh-closed hh-open tom-low tom-mid "
			    "tom-high crash ride ignore, or 0-8)", w);
			break;
		}
		classes++;
		rest = colon + 1;
		while ((w = word(&rest))) {
			char *end;
			long p;

			errno = 0;
			p = strtol(w, &end, 10);
			if (*end || errno || p < 0 || p > 127 || !isdigit((unsigned char)w[0])) {
				ok = fail(err, errsz, name, lineno, "\"%s\" is not a MIDI pitch 0-127", w);
				break;
			}
			if (seen[p]) {
				ok = fail(err, errsz, name, lineno, "pitch %ld is already listed on line %d",
				    p, seen[p]);
				break;
			}
			seen[p] = lineno;
			m->cls[p] = (int8_t)c;
			if (c >= 0 && !given[c]) {
				given[c] = 1;
				m->out[c] = (uint8_t)p;
			}
		}
	}
	free(buf);
	return ok;
}

int
drum_map_get(DrumMap *m, const char *spec, char *err, size_t errsz)
{
	enum { MAXMAP = 1 << 20 };
	FILE *f;
	char *text;
	size_t len;
	int ok;

	if (drum_map_builtin(m, spec))
		return 1;
	if (!(f = fopen(spec, "r"))) {
		snprintf(err, errsz, "%s: %s (want roland, gm or a map file)", spec, strerror(errno));
		return 0;
	}
	text = malloc(MAXMAP + 1);
	if (!text) {
		fclose(f);
		snprintf(err, errsz, "%s: out of memory", spec);
		return 0;
	}
	len = fread(text, 1, MAXMAP + 1, f);
	if (ferror(f) || len > MAXMAP || memchr(text, '\0', len)) {
		snprintf(err, errsz, "%s: %s", spec, ferror(f) ? "read error" :
		    len > MAXMAP ? "larger than 1 MiB, not a drum map" : "holds a NUL byte, not a drum map");
		fclose(f);
		free(text);
		return 0;
	}
	fclose(f);
	text[len] = '\0';
	ok = drum_map_parse(m, text, spec, err, errsz);
	free(text);
	return ok;
}
