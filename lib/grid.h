/* grid.h: the 16th-note grid: magenta's quantization arithmetic, tempo maps,
 * and the `grid` record (quantize writes it; drumclass and window4bar read
 * it). Spec: drumvae-records(5); maths: REFERENCE.md sections 3-4. */
#ifndef GRID_H
#define GRID_H
#include <stddef.h>
#include <stdint.h>

#include "rec.h"

#define GRID_SPQ 4          /* steps per quarter note */
#define GRID_MAX_TEMPI 4096 /* tempo events a record may carry */
#define GRID_MAX_STEP (1 << 24) /* 58 hours at 120 qpm */

/* Steps per second, in magenta's order of operations: spq * qpm / 60. */
double grid_sps(double qpm);
/* magenta quantize_to_step: floor(t * sps + 0.5). */
int64_t grid_step(double t, double sps);
/* GrooVAE offset 2 * (grid_time - t) / step_seconds, where grid_time =
 * step_seconds * step, as magenta's GrooveConverter computes it (in double). */
double grid_offset(double t, int64_t step, double qpm);
/* Index of the last of a[0..n) that is <= x (a[0] <= x assumed): 0..n-1. */
size_t grid_last_le(const double *a, size_t n, double x);

/* A tempo map with repeated values removed (as pretty_midi does), starting
 * at t = 0 (120 qpm there when the first tempo event comes later). The grid
 * position of time t is steps(t): piecewise linear, steps(0) = 0. */
typedef struct {
	size_t n;
	double s[GRID_MAX_TEMPI];     /* (n) start time of each segment, s[0] = 0 */
	double qpm[GRID_MAX_TEMPI];   /* (n) */
	double steps[GRID_MAX_TEMPI]; /* (n) grid position at s[i] (fractional) */
} TempoMap;

/* 1 ok; 0 when times are not finite and non-decreasing or a tempo is not in
 * [1, 1000) qpm (msg says which). ntempo 0 means 120 qpm throughout. */
int tempo_init(TempoMap *m, size_t ntempo, const double *s, const double *qpm,
    char *msg, size_t msgsz);
size_t tempo_segment(const TempoMap *m, double t);      /* segment holding t */
int64_t tempo_step(const TempoMap *m, double t);        /* quantized step of t */
double tempo_offset(const TempoMap *m, double t, int64_t step); /* GrooVAE offset */
double tempo_step_time(const TempoMap *m, int64_t step); /* seconds of a grid step */
/* Number of tempo changes at times in (t0, t1). */
size_t tempo_changes_in(const TempoMap *m, double t0, double t1);

/* A grid record in memory. Per-note arrays have n elements. */
typedef struct {
	double qpm, end_s;
	int64_t spq, spb, ts_num, ts_den, total_steps;
	size_t n;
	int32_t *step;       /* (n) */
	float *offset;       /* (n) GrooVAE offset, positive = early */
	double *on_s, *off_s; /* (n) seconds */
	uint8_t *pitch;      /* (n) */
	uint8_t *velocity;   /* (n) */
	uint8_t *cls;        /* (n) drum class, NULL before drumclass */
	int64_t tpq;         /* ticks per quarter of the source file, 0 unknown */
	TempoMap *tempo;     /* from the notes' tempo map (qpm alone if absent) */
} Grid;

/* Per-note keys of a grid record (and of a notes record), NULL-ended: the
 * keys a tool that rewrites the notes must not copy through. */
extern const char *const grid_note_keys[];

/* Read a grid record. need_class: fail when "class" is missing. 1 ok; 0 on
 * a bad record (rec->err set). Allocation is bounded by the record size. */
int grid_from_rec(Rec *rec, Grid *g, int need_class);
void grid_free(Grid *g);

#endif
