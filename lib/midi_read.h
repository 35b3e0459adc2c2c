/* midi_read.h: a Standard MIDI File in memory to notes in seconds.
 * midi_validate() checks the file first; libsmf then parses the canonical
 * copy it writes; ticks become seconds exactly as pretty_midi computes them.
 * Semantics (note pairing, end time, tempo map): midi-read(1). */
#ifndef MIDI_READ_H
#define MIDI_READ_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
	int format, ntracks, tpq;
	double end_s;        /* pretty_midi get_end_time(), see midi-read(1) */
	size_t ntempo;       /* >= 1: 120 qpm at 0 s when the file sets none */
	double *tempo_s;     /* [ntempo] */
	double *tempo_qpm;   /* [ntempo] */
	size_t nts;
	double *ts_s;        /* [nts] */
	uint8_t *ts_num;     /* [nts] */
	uint8_t *ts_den;     /* [nts] */
	size_t n;            /* notes, sorted by (on_s, pitch) */
	double *on_s;        /* [n] */
	double *off_s;       /* [n] */
	uint8_t *pitch;      /* [n] */
	uint8_t *velocity;   /* [n] */
	uint8_t *channel;    /* [n] 0..15 */
} MidiNotes;

/* 0: *m filled (free with midi_notes_free); -1: bad file, err says why. */
int midi_read_mem(MidiNotes *m, const uint8_t *buf, size_t len, char *err, size_t errsz);
/* Reads a whole file (path "-" is stdin) and calls midi_read_mem. */
int midi_read_file(MidiNotes *m, const char *path, char *err, size_t errsz);
void midi_notes_free(MidiNotes *m);

#endif
