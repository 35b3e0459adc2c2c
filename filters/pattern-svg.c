/* pattern-svg: a picture of each pattern, for eyes and browsers.
 * Reads pattern records; writes DIR/ID.svg per record (id with '/' and '#'
 * made '_'): a 9 x 64 drum grid, hit cells shaded by velocity, a tick in each
 * hit cell at its microtiming offset. Writes nothing on stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rec_input.h"
#include "rec_pattern.h"
#include "outname.h"
#include "util.h"

/* geometry, in SVG user units (pixels at --scale 1) */
enum { CW = 12, CH = 16, LW = 78, M = 8, X0 = M + LW, Y0 = 42,
	W = X0 + PAT_T * CW + M, H = Y0 + PAT_C * CH + 22 };

static const char *prefix; /* --name */
static size_t nwritten;

static const char *const cname[PAT_C] = {
	"kick", "snare", "closed HH", "open HH", "low tom", "mid tom", "high tom", "crash", "ride",
};

static void
usage(int status)
{
	fprintf(stderr, "usage: %s [-o DIR] [--name PREFIX] [--scale N] [--strict] [file ...]\n", argv0);
	exit(status);
}

/* Length of the valid UTF-8 sequence at s that XML 1.0 allows, or 0. */
static int
xmlchar(const unsigned char *s)
{
	int n, i;
	unsigned lo = 0x80, hi = 0xbf;

	if (*s < 0x80)
		return *s >= 0x20 || *s == '\t' || *s == '\n' || *s == '\r';
	if (*s >= 0xc2 && *s <= 0xdf)
		n = 2;
	else if (*s >= 0xe0 && *s <= 0xef)
		n = 3;
	else if (*s >= 0xf0 && *s <= 0xf4)
		n = 4;
	else
		return 0;
	if (*s == 0xe0)
		lo = 0xa0;
	else if (*s == 0xed)
		hi = 0x9f;
	else if (*s == 0xf0)
		lo = 0x90;
	else if (*s == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	if (*s == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf))
		return 0; /* U+FFFE, U+FFFF */
	return n;
}

/* Text content or attribute value: escaped; bytes XML cannot hold become '?'. */
static void
xmlputs(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	while (*s) {
		switch (*s) {
		case '&': fputs("&amp;", f); s++; continue;
		case '<': fputs("&lt;", f); s++; continue;
		case '>': fputs("&gt;", f); s++; continue;
		case '"': fputs("&quot;", f); s++; continue;
		}
		if ((n = xmlchar(s)) == 0) {
			fputc('?', f);
			s++;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
}

static void
svg(FILE *f, const Pattern *p, double scale)
{
	int t, c, nhits = 0;

	for (t = 0; t < PAT_T; t++)
		for (c = 0; c < PAT_C; c++)
			nhits += p->g[t * PAT_O + c] > 0.5f;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\""
	    " viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n<title>", W * scale, H * scale, W, H);
	xmlputs(f, p->id);
	fprintf(f, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n"
	    "<text x=\"%d\" y=\"18\" font-size=\"13\">", W, H, M);
	xmlputs(f, p->id);
	fprintf(f, " \xc2\xb7 qpm %.1f \xc2\xb7 %d hits</text>\n", p->qpm, nhits);
	fprintf(f, "<g font-size=\"10\" fill=\"#555\">\n");
	for (t = 0; t < PAT_T; t += 16)
		fprintf(f, "<text x=\"%d\" y=\"%d\">bar %d</text>\n", X0 + t * CW + 2, Y0 - 5, t / 16 + 1);
	fprintf(f, "</g>\n<g font-size=\"11\" text-anchor=\"end\">\n");
	for (c = 0; c < PAT_C; c++) {
		if (c % 2)
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f3f3f3\"/>\n",
			    X0, Y0 + c * CH, PAT_T * CW, CH);
		fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text>\n", X0 - 6, Y0 + c * CH + CH - 4, cname[c]);
	}
	fprintf(f, "</g>\n<g stroke-width=\"1\">\n");
	for (t = 0; t <= PAT_T; t++)
		if (t % 16)
			fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"/>\n",
			    X0 + t * CW, Y0, X0 + t * CW, Y0 + PAT_C * CH, t % 4 ? "#e4e4e4" : "#aaa");
	fprintf(f, "</g>\n<g fill=\"#1d4ed8\">\n");
	for (t = 0; t < PAT_T; t++)
		for (c = 0; c < PAT_C; c++) {
			const float *g = p->g + t * PAT_O;
			double v = g[PAT_C + c], o = g[2 * PAT_C + c];

			if (!(g[c] > 0.5f))
				continue;
			v = v < 0 ? 0 : v > 1 ? 1 : v;
			o = o < -1 ? -1 : o > 1 ? 1 : o;
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill-opacity=\"%.3f\">"
			    "<title>%s, step %d: velocity %.0f, offset %+.2f</title></rect>\n",
			    X0 + t * CW + 1, Y0 + c * CH + 1, CW - 2, CH - 2, 0.15 + 0.85 * v,
			    cname[c], t + 1, g[PAT_C + c] * 127.0, g[2 * PAT_C + c]);
			fprintf(f, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#f97316\""
			    " stroke-width=\"2\"/>\n", X0 + (t + 0.5 - o / 2) * CW, Y0 + c * CH + 2,
			    X0 + (t + 0.5 - o / 2) * CW, Y0 + c * CH + CH - 2);
		}
	fprintf(f, "</g>\n<g stroke=\"#222\" stroke-width=\"1.5\" fill=\"none\">\n"
	    "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", X0, Y0, PAT_T * CW, PAT_C * CH);
	for (t = 16; t < PAT_T; t += 16)
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
		    X0 + t * CW, Y0, X0 + t * CW, Y0 + PAT_C * CH);
	fprintf(f, "</g>\n<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#555\">shade: velocity;"
	    " orange tick: timing (left of centre = early, cell edge = half a step)</text>\n</svg>\n",
	    X0, H - 6);
}

/* Write the picture to DIR/NAME.svg through a temporary file and rename. */
static void
write_svg(const char *dir, const Pattern *p, double scale)
{
	char name[300], path[4096], tmp[4096];
	mode_t um = umask(0);
	FILE *f;
	int fd;

	umask(um);
	outname(name, sizeof(name), p->id, prefix, ++nwritten);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.svg", dir, name) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.svg.XXXXXX", dir, name) >= sizeof(tmp))
		eprintf("%s: path too long", dir);
	if ((fd = mkstemp(tmp)) < 0)
		eprintf("%s:", tmp);
	if (fchmod(fd, 0666 & ~um) < 0 || !(f = fdopen(fd, "w")))
		eprintf("%s:", tmp);
	svg(f, p, scale);
	if (fflush(f) == EOF || ferror(f) || fclose(f) == EOF) {
		unlink(tmp);
		eprintf("%s: write error:", tmp);
	}
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		eprintf("%s:", path);
	}
}

typedef struct {
	const char *dir;
	double scale;
} Out;

/* Draw one pattern record into a file; 1 ok, 0 bad record. */
static int
draw(Rec *rec, void *ctx)
{
	const Out *o = ctx;
	static Pattern p;

	if (!pattern_from_rec(rec, &p))
		return 0;
	write_svg(o->dir, &p, o->scale);
	return 1;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "scale", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "strict", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = ".";
	double scale = 1;
	int c, strict = 0;
	char *end;
	struct stat st;

	argv0 = "pattern-svg";
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': dir = optarg; break;
		case 'n': prefix = optarg; break;
		case 's':
			errno = 0;
			scale = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(scale > 0 && scale <= 20)) {
				warn("--scale: \"%s\" is not a number in (0, 20]", optarg);
				usage(2);
			}
			break;
		case 'S': strict = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!*dir)
		usage(2);
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT || mkdir(dir, 0777) < 0)
			eprintf("%s:", dir);
	} else if (!S_ISDIR(st.st_mode)) {
		eprintf("%s: not a directory", dir);
	}
	return rec_each(argc - optind, argv + optind, strict, draw, &(Out){ dir, scale });
}
