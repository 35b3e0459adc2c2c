/* midi_info.h: the GMD metadata table (info.csv) that midi-read --info
 * attaches to notes records: a CSV with a header row, RFC 4180 quoting,
 * looked up by its midi_filename column. */
#ifndef MIDI_INFO_H
#define MIDI_INFO_H
#include <stddef.h>

typedef struct MidiInfo MidiInfo;

/* Dies (exit 1) naming the file and line on a read or CSV error, or when
 * the header has no midi_filename column. */
MidiInfo *midi_info_load(const char *path);
void midi_info_free(MidiInfo *mi);
/* Row whose midi_filename equals path or a '/'-separated tail of it; -1 if none. */
long midi_info_find(const MidiInfo *mi, const char *path);
/* Field col of row (NULL if the column does not exist). */
const char *midi_info_get(const MidiInfo *mi, long row, const char *col);

#endif
