/* midi_info.c: the info.csv table of midi_info.h. Reads the whole CSV into
 * one array of fields, rows sorted by midi_filename for binary search. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "midi_info.h"
#include "util.h"

struct MidiInfo {
	char **f;       /* [nrows * ncols] fields, row-major; row 0 is the header */
	size_t nrows, ncols;
	size_t key;     /* column of midi_filename */
	long *order;    /* [nrows - 1]: data rows sorted by midi_filename */
};

static const MidiInfo *sortinfo;

static int
byname(const void *a, const void *b)
{
	const MidiInfo *mi = sortinfo;

	return strcmp(mi->f[*(const long *)a * mi->ncols + mi->key],
	    mi->f[*(const long *)b * mi->ncols + mi->key]);
}

/* Splits one record starting at *p; returns its fields, advances *p. */
static char **
record(const char *path, size_t line, char **p, size_t *nf)
{
	char **f = NULL, *s = *p, *o, c;
	size_t n = 0;

	for (;;) {
		f = ereallocarray(f, n + 1, sizeof(*f));
		f[n++] = o = s;
		if (*s == '"') {
			for (s++;; s++) {
				if (!*s)
					die(1, "%s:%zu: unterminated quoted field", path, line);
				if (*s == '"' && s[1] == '"')
					*o++ = *s++;
				else if (*s == '"')
					break;
				else
					*o++ = *s;
			}
			s++;
			if (*s && *s != ',' && *s != '\n' && *s != '\r')
				die(1, "%s:%zu: text after a quoted field", path, line);
		} else {
			while (*s && *s != ',' && *s != '\n' && *s != '\r')
				*o++ = *s++;
		}
		c = *s;
		*o = '\0';
		if (c != ',')
			break;
		s++;
	}
	if (c == '\r')
		c = *++s;
	if (c == '\n')
		s++;
	*p = s;
	*nf = n;
	return f;
}

MidiInfo *
midi_info_load(const char *path)
{
	MidiInfo *mi = ecalloc(1, sizeof(*mi));
	FILE *fp = efopen(path, "r");
	char *text = NULL, *p, **f;
	size_t len = 0, cap = 0, nf, i, line = 0;

	for (;;) {
		if (len + 1 >= cap)
			text = erealloc(text, cap = cap ? 2 * cap : 65536);
		i = fread(text + len, 1, cap - len - 1, fp);
		if (!i)
			break;
		len += i;
	}
	if (ferror(fp))
		die(1, "%s: read error:", path);
	fclose(fp);
	text[len] = '\0';
	if (strlen(text) != len)
		die(1, "%s: NUL byte in a CSV file", path);
	for (p = text; *p; ) {
		line++;
		f = record(path, line, &p, &nf);
		if (line == 1)
			mi->ncols = nf;
		else if (nf == 1 && !*f[0])
			nf = 0;   /* blank line */
		else if (nf != mi->ncols)
			die(1, "%s:%zu: %zu fields, the header has %zu", path, line, nf, mi->ncols);
		if (nf) {
			mi->f = ereallocarray(mi->f, (mi->nrows + 1) * mi->ncols, sizeof(*mi->f));
			memcpy(mi->f + mi->nrows++ * mi->ncols, f, nf * sizeof(*f));
		}
		free(f);
	}
	if (!mi->nrows)
		die(1, "%s: empty CSV file", path);
	for (mi->key = 0; mi->key < mi->ncols; mi->key++)
		if (!strcmp(mi->f[mi->key], "midi_filename"))
			break;
	if (mi->key == mi->ncols)
		die(1, "%s: no midi_filename column in the header", path);
	mi->order = ecalloc(mi->nrows, sizeof(*mi->order));
	for (i = 1; i < mi->nrows; i++)
		mi->order[i - 1] = i;
	sortinfo = mi;
	qsort(mi->order, mi->nrows - 1, sizeof(*mi->order), byname);
	return mi;
}

void
midi_info_free(MidiInfo *mi)
{
	if (!mi)
		return;
	if (mi->f)
		free(mi->f[0]);   /* the text buffer: field 0 points at its start */
	free(mi->f);
	free(mi->order);
	free(mi);
}

static long
lookup(const MidiInfo *mi, const char *name)
{
	size_t lo = 0, hi = mi->nrows - 1, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(mi->f[mi->order[mid] * mi->ncols + mi->key], name);
		if (!c)
			return mi->order[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

long
midi_info_find(const MidiInfo *mi, const char *path)
{
	const char *s;
	long r;

	if ((r = lookup(mi, path)) >= 0)
		return r;
	for (s = path; (s = strchr(s, '/')); )
		if (*++s && (r = lookup(mi, s)) >= 0)
			return r;
	return -1;
}

const char *
midi_info_get(const MidiInfo *mi, long row, const char *col)
{
	size_t c;

	for (c = 0; c < mi->ncols; c++)
		if (!strcmp(mi->f[c], col))
			return mi->f[row * mi->ncols + c];
	return NULL;
}
