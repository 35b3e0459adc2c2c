/* rec_latent.h: the `latent` record (v1): a point in the VAE's latent space,
 * as encode and latent-mix write it and decode and latent-mix read it:
 * zdim (int), qpm (f64), mu, sigma, z (bin f32[zdim] each), plus metadata
 * copied from the pattern it came from. */
#ifndef REC_LATENT_H
#define REC_LATENT_H
#include "rec.h"

#define LAT_MAX_Z 4096 /* largest zdim a reader accepts */

typedef struct {
	char id[512];
	int zdim;
	double qpm;
	float *mu;     /* (Z) posterior mean */
	float *sigma;  /* (Z) posterior standard deviation, >= 0 */
	float *z;      /* (Z) the point to decode */
	int cap;       /* floats allocated in each of mu, sigma, z */
} Latent;

/* Keys a latent record owns (NULL-ended), plus the pattern-only keys steps,
 * classes and groove: skip these when copying metadata between a latent
 * and a pattern record (e.g. decode: recw_copy_except(w, rec, latent_keys)). */
extern const char *const latent_keys[];

/* A zeroed Latent owns nothing; latent_free releases the arrays. */
void latent_init(Latent *l);
void latent_free(Latent *l);
/* Make room for zdim floats in mu, sigma and z (1 <= zdim <= LAT_MAX_Z);
 * sets l->zdim. Contents are unspecified after growth. */
void latent_alloc(Latent *l, int zdim);
/* 1 ok; 0 on a wrong kind/version or a missing/bad key (rec->err is set,
 * call rec_report). Checks zdim range, lengths, finite values, sigma >= 0,
 * 0 < qpm < 1000. Reuses l's arrays. */
int latent_from_rec(Rec *rec, Latent *l);
/* Writes kind/v/id, zdim, qpm, mu, sigma, z; the other keys of src (a
 * pattern or a latent record; may be NULL) are copied through except
 * latent_keys. */
void latent_write(RecWriter *w, const Latent *l, const Rec *src, FILE *out);
/* The first part of latent_write: kind, v, id, zdim, qpm, mu, sigma, z;
 * the caller adds keys and ends the record (recw_end). */
void latent_begin(RecWriter *w, const Latent *l);

#endif
