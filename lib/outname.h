/* outname.h: file names for the records a tool writes one file each
 * (midi-write -o, pattern-svg): from the record's id, or PREFIX-NNN in
 * record order (--name), so the .mid and .svg of one record pair up. */
#ifndef OUTNAME_H
#define OUTNAME_H
#include <stddef.h>

/* Base name without extension into out (cap >= 240): with prefix,
 * "PREFIX-NNN" for the 1-based index; else the id with bytes other than
 * A-Z a-z 0-9 - _ and a non-leading . turned into _, cut at 200 bytes
 * with a 64-bit FNV-1a hash of the whole id appended when longer; an
 * empty id gives "record". */
void outname(char *out, size_t cap, const char *id, const char *prefix, size_t index);

#endif
