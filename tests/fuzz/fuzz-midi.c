/* fuzz-midi.c: libFuzzer target for the MIDI reader (lib/midi_read.c,
 * lib/midi_validate.c, libsmf behind them). Reads the input as a MIDI file;
 * checks that the reader fails exactly when the validator rejects (libsmf
 * never disagrees with it) and that an accepted file gives sane notes. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "midi_read.h"
#include "midi_validate.h"
#include "util.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz-midi: %s:%d: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	argv0 = "fuzz-midi";
	return 0;
}

static void
sane(const MidiNotes *m)
{
	size_t i;

	CHECK(m->tpq > 0 && m->ntempo >= 1 && m->tempo_s[0] == 0);
	CHECK(isfinite(m->end_s) && m->end_s >= 0);
	for (i = 0; i < m->ntempo; i++) {
		CHECK(isfinite(m->tempo_qpm[i]) && m->tempo_qpm[i] > 0);
		CHECK(isfinite(m->tempo_s[i]) && (i == 0 || m->tempo_s[i] >= m->tempo_s[i - 1]));
		CHECK(m->tempo_s[i] <= m->end_s);
	}
	for (i = 0; i < m->nts; i++) {
		CHECK(m->ts_num[i] > 0 && m->ts_den[i] > 0 && !(m->ts_den[i] & (m->ts_den[i] - 1)));
		CHECK(isfinite(m->ts_s[i]) && (i == 0 || m->ts_s[i] >= m->ts_s[i - 1]));
	}
	for (i = 0; i < m->n; i++) {
		CHECK(isfinite(m->on_s[i]) && m->on_s[i] >= 0 && m->off_s[i] >= m->on_s[i]);
		CHECK(m->pitch[i] < 128 && m->velocity[i] > 0 && m->velocity[i] < 128 && m->channel[i] < 16);
		CHECK(i == 0 || m->on_s[i] > m->on_s[i - 1]
		    || (m->on_s[i] == m->on_s[i - 1] && m->pitch[i] >= m->pitch[i - 1]));
		CHECK(m->off_s[i] <= m->end_s || m->off_s[i] == m->on_s[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	MidiScan s;
	MidiNotes m;
	char err[512];
	int v, r;

	v = midi_validate(&s, data, size, err, sizeof(err));
	if (v == 0)
		midi_scan_free(&s);
	else
		CHECK(err[0]);
	r = midi_read_mem(&m, data, size, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "fuzz-midi: %s\n", err);
	CHECK(r == v);
	if (r == 0) {
		sane(&m);
		midi_notes_free(&m);
	}
	return 0;
}
