/* rec_input.h: the input loop of a filter and records kept past it.
 * rec_each reads every record of the files named (none or "-": stdin) and
 * hands each to a function; RecHeld keeps a copy of a record alive after
 * the reader has moved on, for tools that work in batches. */
#ifndef REC_INPUT_H
#define REC_INPUT_H
#include "rec.h"

/* Returns 1 when rec was handled, 0 when it is bad data (its error set). */
typedef int RecFn(Rec *rec, void *ctx);

/* Calls fn(rec, ctx) on every record of files[0..nfiles) in order (stdin
 * when nfiles is 0). Reports a bad record (rec_report), a file that cannot
 * be opened (warn) and bad input (rec_read) and goes on; with strict the
 * first of these stops all reading. Returns the exit status: 0, or 1 after
 * any bad data. */
int rec_each(int nfiles, char *const *files, int strict, RecFn *fn, void *ctx);

typedef struct {
	msgpack_sbuffer sb;  /* the record, packed again */
	msgpack_unpacked up; /* its unpacked copy, owned by rec */
	Rec rec;
} RecHeld;

void rec_held_init(RecHeld *h);
/* Copies rec into h, replacing what h held. */
void rec_hold(RecHeld *h, const Rec *rec);
/* The held record, valid until the next rec_hold or rec_unhold of h. */
const Rec *rec_unhold(RecHeld *h);
#endif
