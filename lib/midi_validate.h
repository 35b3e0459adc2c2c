/* midi_validate.h: a strict Standard MIDI File validator. It walks every
 * chunk and event of a file held in memory, rejects anything malformed or
 * over the caps below, and writes a canonical copy (note events with
 * explicit status bytes and one End-of-Track per track, nothing else) that
 * is the only thing libsmf is ever given. Caps: midi-read(1). */
#ifndef MIDI_VALIDATE_H
#define MIDI_VALIDATE_H
#include <stddef.h>
#include <stdint.h>

#define MIDI_MAX_BYTES  (16u << 20)   /* file size */
#define MIDI_MAX_TRACKS 256
#define MIDI_MAX_EVENTS 500000        /* events of any kind, all tracks */
#define MIDI_MAX_TEMPO  10000         /* tempo + time-signature events */
#define MIDI_MAX_TICK   0x0FFFFFFFu   /* largest absolute tick: a 4-byte VLQ */

typedef struct {
	uint32_t tick;
	uint8_t type;     /* 0x51 tempo or 0x58 time signature */
	uint8_t data[4];  /* tempo: 3 bytes of us per quarter; ts: nn dd cc bb */
} MidiMeta;

typedef struct {
	int format;           /* 0 or 1 */
	int ntracks;          /* 1..MIDI_MAX_TRACKS */
	int tpq;              /* ticks per quarter note, 1..32767 */
	uint32_t end_tick;    /* latest CC, pitch bend, text, lyric; signature of track 1 */
	size_t nevents;       /* events of any kind, all tracks */
	size_t *nnote;        /* [ntracks]: note-on and note-off events in each track */
	uint32_t *eot;        /* [ntracks]: tick of each End-of-Track */
	MidiMeta *meta;       /* [nmeta]: tempo and time signatures of the first track */
	size_t nmeta;
	uint8_t *canon;       /* [canon_len]: the canonical SMF handed to libsmf */
	size_t canon_len;
} MidiScan;

/* 0: valid, *s filled (free with midi_scan_free).
 * -1: invalid; err holds the reason with its byte offset, *s is empty. */
int midi_validate(MidiScan *s, const uint8_t *buf, size_t len, char *err, size_t errsz);
void midi_scan_free(MidiScan *s);

#endif
