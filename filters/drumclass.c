/* drumclass: give every note of a grid record its drum class (0-8) through a
 * drum map: roland (default), gm, or a map file (drumvae-drummap(5)).
 * Reads grid records, writes grid records with `class` and `map` added;
 * notes of unmapped pitches are dropped and counted on stderr. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "drum_map.h"
#include "grid.h"
#include "rec.h"
#include "rec_input.h"
#include "util.h"

static DrumMap map;
static int strict;
static size_t unmapped[128], ignored;

static void
usage(int status)
{
	fprintf(stderr, "usage: %s [--map roland|gm|FILE] [--strict] [file ...]\n", argv0);
	exit(status);
}

/* 1 ok (record written), 0 bad record. */
static int
classify(Rec *rec, void *ctx)
{
	RecWriter *w = ctx;
	static const char *const own[] = {
		"n", "step", "offset", "on_s", "off_s", "pitch", "velocity", "channel", "class",
		"map", NULL,
	};
	Grid g;
	uint8_t *cls;
	size_t k = 0;

	if (!grid_from_rec(rec, &g, 0))
		return 0;
	cls = emalloc(g.n + 1);
	for (size_t i = 0; i < g.n; i++) {
		int c = map.cls[g.pitch[i]];

		if (c == DRUM_IGNORED) {
			ignored++;
			continue;
		}
		if (c == DRUM_UNMAPPED) {
			if (strict) {
				rec_seterr(rec, "pitch", "note %zu: pitch %u is not in drum map %s "
				    "(--strict)", i, g.pitch[i], map.name);
				free(cls);
				grid_free(&g);
				return 0;
			}
			unmapped[g.pitch[i]]++;
			continue;
		}
		g.step[k] = g.step[i];
		g.offset[k] = g.offset[i];
		g.on_s[k] = g.on_s[i];
		g.off_s[k] = g.off_s[i];
		g.pitch[k] = g.pitch[i];
		g.velocity[k] = g.velocity[i];
		cls[k++] = (uint8_t)c;
	}
	recw_begin(w, "grid", 1, rec->id);
	recw_copy_except(w, rec, own);
	recw_int(w, "n", (int64_t)k);
	recw_i32s(w, "step", g.step, k);
	recw_f32s(w, "offset", g.offset, k);
	recw_f64s(w, "on_s", g.on_s, k);
	recw_f64s(w, "off_s", g.off_s, k);
	recw_u8s(w, "pitch", g.pitch, k);
	recw_u8s(w, "velocity", g.velocity, k);
	recw_u8s(w, "class", cls, k);
	recw_str(w, "map", map.name);
	recw_end(w, stdout);
	free(cls);
	grid_free(&g);
	return 1;
}

static void
report(void)
{
	size_t total = 0;
	char list[1024] = "";
	int len = 0;

	for (int p = 0; p < 128; p++) {
		if (!unmapped[p])
			continue;
		total += unmapped[p];
		if (len < (int)sizeof(list) - 32)
			len += snprintf(list + len, sizeof(list) - len, "%s%d (%zu)", len ? ", " : "",
			    p, unmapped[p]);
	}
	if (total)
		warn("%zu note%s dropped, pitch%s not in drum map %s: %s", total, total == 1 ? "" : "s",
		    total == 1 ? "" : "es", map.name, list);
	if (ignored)
		warn("%zu note%s of ignored pitches dropped (map %s)", ignored, ignored == 1 ? "" : "s",
		    map.name);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "map", required_argument, NULL, 'm' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec = "roland";
	char err[512];
	RecWriter w;
	int c, status;

	argv0 = "drumclass";
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': spec = optarg; break;
		case 's': strict = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!drum_map_get(&map, spec, err, sizeof(err)))
		die(2, "%s", err);
	recw_init(&w);
	status = rec_each(argc - optind, argv + optind, strict, classify, &w);
	recw_free(&w);
	report();
	efflush_stdout();
	return status;
}
