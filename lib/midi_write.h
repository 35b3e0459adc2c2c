/* midi_write.h: a small Standard MIDI File writer (no libsmf). Events are
 * collected in memory, sorted, and the whole file is built in one buffer,
 * which midi_save writes to a temporary file and renames into place, so a
 * reader never sees a half-written file. */
#ifndef MIDI_WRITE_H
#define MIDI_WRITE_H
#include <stddef.h>
#include <stdint.h>

#define MIDI_MAX_TICK 0x0fffffffu /* largest time the writer accepts */

typedef struct {
	uint32_t tick;  /* absolute time */
	uint32_t seq;   /* insertion order: ties keep it */
	uint8_t status; /* 0x80..0xef channel message, 0xff meta */
	uint8_t a, b;   /* data bytes; for a meta event a = its type */
	uint32_t off, len; /* meta payload: MidiSeq.data[off..off+len) */
} MidiEv;

typedef struct {
	MidiEv *ev;
	size_t n, cap;
	unsigned char *data; /* meta payloads */
	size_t ndata, capdata;
} MidiSeq;

void midi_init(MidiSeq *s);
void midi_free(MidiSeq *s);
/* A note from on to off (ticks, off > on), channel 0..15, pitch 0..127,
 * velocity 1..127 (note-off velocity 0). */
void midi_note(MidiSeq *s, uint32_t on, uint32_t off, int ch, int pitch, int vel);
/* Set Tempo meta: 60e6/qpm microseconds per quarter, rounded and clamped to
 * the 24-bit field. Returns the tempo the file really holds. */
double midi_tempo(MidiSeq *s, uint32_t tick, double qpm);
/* The tempo midi_tempo would write for qpm. */
double midi_tempo_exact(double qpm);
/* Time Signature meta (den a power of two, 1..64; 24 clocks per click). */
void midi_timesig(MidiSeq *s, uint32_t tick, int num, int den);
/* Text-like meta event (3 track name, 6 marker) holding text. */
void midi_text(MidiSeq *s, uint32_t tick, int type, const char *text);
/* A type-0 file, ppq ticks per quarter: the events in time order (at one
 * tick: meta events, then note-offs, then note-ons, each in insertion
 * order) and an End of Track at max(end, last event). Returns a malloc'd
 * buffer of *n bytes. */
unsigned char *midi_smf(MidiSeq *s, int ppq, uint32_t end, size_t *n);
/* Write buf to path through a temporary file in the same directory and a
 * rename (a path that exists and is not a regular file, such as /dev/null
 * or a fifo, is opened and written instead). 0 ok; -1 with errno set, and
 * no file left behind. */
int midi_save(const char *path, const void *buf, size_t n);

#endif
