/* midi-read: Standard MIDI Files to notes records.
 * Reads the MIDI files named (stdin for none or "-"), and optionally the GMD
 * info.csv; writes one notes record per good file on stdout. A bad file gets
 * a message on stderr and no record; the exit status is then 1. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "midi_info.h"
#include "midi_read.h"
#include "rec.h"
#include "util.h"

static const char *infofields[] = { "split", "style", "beat_type", "time_signature", "drummer" };

static void
usage(int status)
{
	fprintf(stderr, "usage: %s [--info CSV] [--root DIR] [--strict] [file ...]\n", argv0);
	exit(status);
}

/* The id: path without a leading "DIR/" when --root DIR is given. */
static const char *
relpath(const char *path, const char *root)
{
	size_t n;

	if (!root)
		return path;
	n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (!strncmp(path, root, n) && path[n] == '/' && path[n + 1])
		return path + n + 1;
	return path;
}

/* 0: record written; -1: bad file, message printed. */
static int
readone(RecWriter *w, const char *path, const char *root, const MidiInfo *info)
{
	MidiNotes m;
	char err[512], *end;
	const char *id = relpath(path, root), *s;
	long row = -1, bpm = 0;
	size_t i;

	if (info) {
		if ((row = midi_info_find(info, id)) < 0) {
			warn("%s: no row in the --info table has this midi_filename", path);
			return -1;
		}
		s = midi_info_get(info, row, "bpm");
		bpm = s ? strtol(s, &end, 10) : 0;
		if (!s || !*s || *end || bpm <= 0) {
			warn("%s: --info table: bpm \"%s\" is not a positive integer", path, s ? s : "");
			return -1;
		}
	}
	if (midi_read_file(&m, path, err, sizeof(err)) < 0) {
		warn("%s: %s", path, err);
		return -1;
	}
	recw_begin(w, "notes", 1, id);
	recw_str(w, "source", path);
	recw_int(w, "tpq", m.tpq);
	recw_f64(w, "end_s", m.end_s);
	recw_int(w, "ntempo", (int64_t)m.ntempo);
	recw_f64s(w, "tempo_s", m.tempo_s, m.ntempo);
	recw_f64s(w, "tempo_qpm", m.tempo_qpm, m.ntempo);
	recw_int(w, "nts", (int64_t)m.nts);
	recw_f64s(w, "ts_s", m.ts_s, m.nts);
	recw_u8s(w, "ts_num", m.ts_num, m.nts);
	recw_u8s(w, "ts_den", m.ts_den, m.nts);
	recw_int(w, "n", (int64_t)m.n);
	recw_f64s(w, "on_s", m.on_s, m.n);
	recw_f64s(w, "off_s", m.off_s, m.n);
	recw_u8s(w, "pitch", m.pitch, m.n);
	recw_u8s(w, "velocity", m.velocity, m.n);
	recw_u8s(w, "channel", m.channel, m.n);
	if (info) {
		recw_int(w, "bpm", bpm);
		for (i = 0; i < LEN(infofields); i++)
			if ((s = midi_info_get(info, row, infofields[i])))
				recw_str(w, infofields[i], s);
	}
	recw_end(w, stdout);
	midi_notes_free(&m);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "info", required_argument, NULL, 'i' },
		{ "root", required_argument, NULL, 'r' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char *stdinonly[] = { "-", NULL };
	const char *infopath = NULL, *root = NULL;
	MidiInfo *info = NULL;
	RecWriter w;
	char **files;
	int c, strict = 0, bad = 0;

	argv0 = "midi-read";
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': infopath = optarg; break;
		case 'r': root = optarg; break;
		case 's': strict = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	files = optind < argc ? argv + optind : stdinonly;
	if (infopath)
		info = midi_info_load(infopath);
	recw_init(&w);
	for (; *files; files++) {
		if (readone(&w, *files, root, info) < 0) {
			bad = 1;
			if (strict)
				break;
		}
	}
	recw_free(&w);
	midi_info_free(info);
	efflush_stdout();
	return bad;
}
