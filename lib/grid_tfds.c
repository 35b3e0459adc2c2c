/* grid_tfds.c: the TFDS window cut (see grid_tfds.h). Every expression follows
 * the float operations of pretty_midi 0.2 (_load_tempo_changes,
 * _update_tick_to_time, adjust_times, time_to_tick, write) and numpy.interp,
 * so the onsets magenta quantizes come out equal to the last bit. */
#include <math.h>

#include "grid_tfds.h"

/* grid_last_le for ticks (int64: no rounding through double). */
static size_t
last_le_tick(const int64_t *a, size_t n, int64_t x)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (a[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void
tfds_file_init(TfdsFile *f, const TempoMap *m, int64_t tpq)
{
	f->n = m->n;
	f->tpq = tpq;
	for (size_t j = 0; j < m->n; j++) {
		double us = nearbyint(6e7 / m->qpm[j]);  /* a MIDI tempo: whole microseconds */

		f->scale[j] = 60.0 / ((6e7 / us) * (double)tpq);
		f->s[j] = m->s[j];
		if (j == 0) {
			f->tick[0] = 0;
			f->T[0] = 0;
		} else {
			f->tick[j] = f->tick[j - 1] +
			    (int64_t)nearbyint((m->s[j] - m->s[j - 1]) / f->scale[j - 1]);
			f->T[j] = f->T[j - 1] + f->scale[j - 1] * (double)(f->tick[j] - f->tick[j - 1]);
		}
	}
}

double
tfds_time(const TfdsFile *f, int64_t k)
{
	size_t j = last_le_tick(f->tick, f->n, k);

	return f->T[j] + f->scale[j] * (double)(k - f->tick[j]);
}

int64_t
tfds_tick_of(const TfdsFile *f, double t)
{
	size_t j = grid_last_le(f->s, f->n, t);

	return f->tick[j] + (int64_t)nearbyint((t - f->s[j]) / f->scale[j]);
}

/* pretty_midi time_to_tick: the nearest tick, the later one on a tie. */
static int64_t
nearest(const TfdsFile *f, double x)
{
	size_t j;
	int64_t k;

	if (x <= 0)
		return 0;
	j = grid_last_le(f->T, f->n, x);
	k = f->tick[j] + (int64_t)ceil((x - f->T[j]) / f->scale[j]);
	while (k > 0 && tfds_time(f, k - 1) >= x)
		k--;
	while (tfds_time(f, k) < x)
		k++;
	if (k > 0 && fabs(x - tfds_time(f, k - 1)) < fabs(x - tfds_time(f, k)))
		return k - 1;
	return k;
}

int
tfds_window(TfdsWindow *w, const TfdsFile *f, double bar, int64_t i, int bars)
{
	int64_t ka, kb, us;
	double a2, b2, qpm, x, tpq = (double)f->tpq;
	size_t j;

	w->a = (double)i * bar;
	w->b = (double)(i + bars) * bar;
	w->L = bars * bar;
	w->slope = (w->L - 0.0) / (w->b - w->a);
	/* adjust_times: the cut snapped to the tick grid scales the tempo */
	ka = nearest(f, w->a);
	kb = nearest(f, w->b);
	a2 = tfds_time(f, ka);
	b2 = tfds_time(f, kb);
	j = last_le_tick(f->tick, f->n, ka);
	if (j + 1 < f->n && f->tick[j + 1] < kb)
		return 0;
	qpm = 60.0 / (f->scale[j] * tpq) * ((b2 - a2) / (w->L - 0.0));
	w->s1 = 60.0 / (qpm * tpq);
	/* write: set_tempo holds int(6e7 / bpm) microseconds */
	x = 6e7 / (60. / (w->s1 * tpq));
	if (!(x >= 1 && x < 0x1000000))
		return -1;
	us = (int64_t)x;
	w->sr = 60.0 / ((6e7 / (double)us) * tpq);
	w->qpm = 60.0 / (w->sr * tpq);
	return 1;
}

/* time_to_tick in the written window, whose tick array is [0, s1]: past its
 * end pretty_midi rounds half to even. */
static int64_t
win_tick(double x, double s1)
{
	if (x <= 0)
		return 0;
	if (x <= s1)
		return fabs(x - 0) < fabs(x - s1) ? 0 : 1;
	return (int64_t)nearbyint(1 + (x - s1) / s1);
}

double
tfds_note(const TfdsWindow *w, double on, double off, int64_t *ks, int64_t *ke)
{
	/* numpy.interp, then pretty_midi clips negative times to 0 */
	double s = on == w->a ? 0.0 : on == w->b ? w->L : w->slope * (on - w->a) + 0.0;
	double e = off == w->a ? 0.0 : off == w->b ? w->L : w->slope * (off - w->a) + 0.0;

	s = s > 0 ? s : 0.0;
	e = e > 0 ? e : 0.0;
	if (e <= s)
		return -1;
	*ks = win_tick(s, w->s1);
	*ke = win_tick(e, w->s1);
	return w->sr * (double)*ks;
}
