/* grid_tfds.h: the window cut of the TFDS groove/4bar-midionly build, modelled
 * to the bit: pretty_midi's tick grid of the source file, its adjust_times and
 * write of one window (a scaled tempo in whole microseconds, every note moved
 * to that tempo's nearest tick), and the file magenta reads back. Used by
 * window4bar --compat tfds; rules: window4bar(1), REFERENCE.md section 5. */
#ifndef GRID_TFDS_H
#define GRID_TFDS_H
#include <stdint.h>

#include "grid.h"

/* The source file's tick grid: tick k of tempo segment j is at
 * T[j] + scale[j] * (k - tick[j]) seconds, scale = 60 / ((6e7 / us) * tpq). */
typedef struct {
	size_t n;
	int64_t tpq;
	int64_t tick[GRID_MAX_TEMPI];
	double T[GRID_MAX_TEMPI];     /* pretty_midi's clock */
	double s[GRID_MAX_TEMPI];     /* midi-read's clock (the notes record) */
	double scale[GRID_MAX_TEMPI];
} TfdsFile;

/* One window [a, b] of the source, written as a MIDI file of length L. */
typedef struct {
	double a, b, L;
	double slope;  /* numpy.interp's (L - 0) / (b - a) */
	double s1;     /* seconds per tick while pretty_midi writes the window */
	double sr;     /* seconds per tick of the written file, read back */
	double qpm;    /* the written file's tempo, as magenta reads it */
} TfdsWindow;

void tfds_file_init(TfdsFile *f, const TempoMap *m, int64_t tpq);
int64_t tfds_tick_of(const TfdsFile *f, double t); /* tick of a midi-read time */
double tfds_time(const TfdsFile *f, int64_t k);    /* pretty_midi's time of tick k */
/* Window of `bars` bars from bar i. 1 ok; 0 when a tempo change lies inside
 * (magenta drops the window); -1 when its tempo cannot be written as MIDI. */
int tfds_window(TfdsWindow *w, const TfdsFile *f, double bar, int64_t i, int bars);
/* A note that starts at `on` and ends at `off` (pretty_midi times, inside the
 * window): its ticks in the written file (*ke sorts magenta's note order),
 * and its onset in seconds as magenta reads it; -1 when pretty_midi drops
 * the note (it ends at or before its start). */
double tfds_note(const TfdsWindow *w, double on, double off, int64_t *ks, int64_t *ke);

#endif
