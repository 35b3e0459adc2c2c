/* ckpt.h: the model checkpoint file (man/man5/drumvae-ckpt.5): a 64-byte
 * header, the config and tensor table as text, float32 (or float16)
 * parameters aligned for mmap, optional Adam moments, two XXH64 checksums.
 * Reads with mmap (read-only, validated before any data is touched);
 * writes a temporary file, fsyncs it and renames it over the target. */
#ifndef CKPT_H
#define CKPT_H
#include <stddef.h>
#include <stdint.h>

#include "vae.h"

#define CKPT_VERSION 1
#define CKPT_HDR 64             /* fixed header bytes */
#define CKPT_ALIGN 4096         /* parameters start on a page boundary */
#define CKPT_MAX_META (1u << 20) /* largest config + tensor table text */

/* header flags */
#define CKPT_ADAM 1u            /* Adam moments m and v follow the params */
#define CKPT_HALF 2u            /* params stored as IEEE float16 */

/* ckpt_open how */
#define CKPT_VERIFY_ADAM 1      /* also verify the Adam section's checksum */

typedef struct {
	VaeConfig cfg;
	int64_t step, epoch;
	uint64_t rng;
	uint32_t flags;            /* CKPT_ADAM | CKPT_HALF */
	size_t nparams;
	const float *params;       /* (nparams) in the map, or converted (half) */
	const float *m, *v;        /* (nparams) each, in the map; NULL without Adam */
	void *map;                 /* private: the mapping and its size */
	size_t size;
	float *own;                /* private: converted float16 params */
} Ckpt;

/* Map path and validate everything: header ranges, file size, checksum of
 * header + config + params (and of the Adam section with CKPT_VERIFY_ADAM),
 * config keys, and the tensor table against vae_layout() of the config.
 * 0 on success; -1 with a message (starting with the path) in err. */
int ckpt_open(Ckpt *c, const char *path, int how, char *err, size_t errcap);
/* The same checks on a checkpoint held in memory (buf must outlive c). */
int ckpt_parse(Ckpt *c, const void *buf, size_t size, int how, const char *name,
    char *err, size_t errcap);
void ckpt_close(Ckpt *c);

/* Set up m from c: layout, then params. !train: m->params points into the
 * (read-only) map, nothing is copied. train: params, grads and Adam moments
 * are allocated and copied (moments zero when c has none); m->step is set. */
void ckpt_model(Vae *m, const Ckpt *c, int train);

/* Write m to path atomically: an unnamed (O_TMPFILE) or path.tmp.PID file in
 * the same folder, fsync, rename. flags: CKPT_ADAM writes m->m and m->v
 * (zeros when NULL); CKPT_HALF writes float16 params (not with CKPT_ADAM).
 * 0 on success; -1 with a message in err (no file left behind). */
int ckpt_save(const char *path, const Vae *m, int64_t epoch, uint64_t rng,
    uint32_t flags, char *err, size_t errcap);

/* The config as "key value" lines (what the file holds); 0 or -1 when it
 * does not fit in cap. ckpt_config_parse is the inverse: 0, or -1 with a
 * message (unknown key, missing key, bad value). */
int ckpt_config_text(char *buf, size_t cap, const VaeConfig *cfg);
int ckpt_config_parse(VaeConfig *cfg, const char *text, size_t len, char *err, size_t errcap);
/* Bytes of VaeConfig that the config text carries (a test compares it with
 * sizeof(VaeConfig) so a new field cannot be forgotten). */
size_t ckpt_config_bytes(void);

/* XXH64 (Collet), the checksum of the file format. */
uint64_t ckpt_xxh64(const void *p, size_t n, uint64_t seed);
/* IEEE binary16 conversions (round to nearest even; overflow gives inf). */
uint16_t ckpt_f16(float f);
float ckpt_f32(uint16_t h);

#endif
