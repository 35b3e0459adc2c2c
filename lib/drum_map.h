/* drum_map.h: drum maps from MIDI pitch to the 9 drum classes (kick, snare,
 * closed hi-hat, open hi-hat, low/mid/high tom, crash, ride): the built-in
 * Roland (GMD training) and General MIDI maps, and map files in the format of
 * drumvae-drummap(5). */
#ifndef DRUM_MAP_H
#define DRUM_MAP_H
#include <stddef.h>
#include <stdint.h>

#define DRUM_CLASSES 9
#define DRUM_UNMAPPED (-1)
#define DRUM_IGNORED (-2)

typedef struct {
	char name[256];              /* "roland", "gm" or the map file's path */
	int8_t cls[128];             /* class per pitch, or DRUM_UNMAPPED/IGNORED */
	uint8_t out[DRUM_CLASSES];   /* pitch written for each class */
} DrumMap;

extern const char *const drum_class_names[DRUM_CLASSES];

/* Fill m with the built-in map "roland" or "gm"; 0 for another name. */
int drum_map_builtin(DrumMap *m, const char *name);
/* Parse a map from text (name is used in messages). 1 ok; 0 with a message
 * "NAME:LINE: what is wrong" in err. */
int drum_map_parse(DrumMap *m, const char *text, const char *name, char *err, size_t errsz);
/* "roland", "gm", or a path to a map file. 1 ok; 0 with a message in err. */
int drum_map_get(DrumMap *m, const char *spec, char *err, size_t errsz);
/* Class index for a name ("kick", "ride", ...) or a digit 0-8; -1 if none. */
int drum_class_index(const char *name);

#endif
