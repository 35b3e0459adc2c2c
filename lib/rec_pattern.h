/* rec_pattern.h: the `pattern` record (v1): a 4-bar groove, 64 steps x 27
 * floats [9 hits | 9 velocities | 9 offsets], as window4bar and decode write
 * it and train-step, encode and midi-write read it. */
#ifndef REC_PATTERN_H
#define REC_PATTERN_H
#include "rec.h"

#define PAT_T 64     /* steps */
#define PAT_C 9      /* drum classes */
#define PAT_O 27     /* floats per step: 3 * PAT_C */

typedef struct {
	char id[512];
	double qpm;          /* tempo the pattern was played at */
	float g[PAT_T * PAT_O]; /* (T, O) row-major */
} Pattern;

/* 1 ok; 0 on a missing/bad key (rec->err is set, call rec_report). */
int pattern_from_rec(Rec *rec, Pattern *p);
/* Writes kind/v/id, steps, classes, qpm and groove; extra keys of src (e.g.
 * source, bar, split) are copied through when src is not NULL. */
void pattern_write(RecWriter *w, const Pattern *p, const Rec *src, FILE *out);

#endif
