/* tests/ckpt.c: unit test of the checkpoint file (lib/ckpt.c): XXH64 and
 * float16 against known values, the config text round trip, save/load bit
 * for bit (params, Adam state, header, the loss), float16 export, and every
 * kind of damage (truncation, byte flips, wrong version, unknown config key,
 * foreign tensor table) rejected with a message. Prints TAP on stdout. */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt.h"
#include "rng.h"
#include "util.h"

#include "tap.h"

static unsigned char *
slurp(const char *path, size_t *n)
{
	FILE *f = efopen(path, "rb");
	unsigned char *b;
	long len;

	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	b = emalloc(len);
	ENSURE(fread(b, 1, len, f) == (size_t)len);
	fclose(f);
	*n = len;
	return b;
}

static void
spit(const char *path, const void *b, size_t n)
{
	FILE *f = efopen(path, "wb");

	ENSURE(fwrite(b, 1, n, f) == n);
	fclose(f);
}

static uint64_t rd64(const unsigned char *p) { uint64_t x; memcpy(&x, p, 8); return x; }
static uint32_t rd32(const unsigned char *p) { uint32_t x; memcpy(&x, p, 4); return x; }

/* Recompute both trailer checksums after an edit (a "valid" foreign file). */
static void
rehash(unsigned char *b, size_t n)
{
	uint32_t flags = rd32(b + 12), off = rd32(b + 20);
	size_t aend = off + rd64(b + 24) * (flags & CKPT_HALF ? 2 : 4);
	uint64_t h1 = ckpt_xxh64(b, aend, 0), h2 = ckpt_xxh64(b + aend, n - 16 - aend, 0);

	memcpy(b + n - 16, &h1, 8);
	memcpy(b + n - 8, &h2, 8);
}

/* Parse a heap copy of exactly n bytes (so ASan sees any overread). */
static int
parse_copy(const unsigned char *b, size_t n, int how, char *err, size_t cap)
{
	unsigned char *c = emalloc(n);
	Ckpt ck;
	int r;

	memcpy(c, b, n);
	r = ckpt_parse(&ck, c, n, how, "t.ckpt", err, cap);
	if (r == 0)
		ckpt_close(&ck);
	free(c);
	return r;
}

static void
test_hash(void)
{
	unsigned char v[1000];

	for (int i = 0; i < 1000; i++)
		v[i] = (unsigned char)(i * 7 + 3);
	ok(ckpt_xxh64("", 0, 0) == 0xef46db3751d8e999ull, "xxh64 of \"\"");
	ok(ckpt_xxh64("abc", 3, 0) == 0x44bc2cf5ad770999ull, "xxh64 of \"abc\"");
	ok(ckpt_xxh64(v, 31, 0) == 0xa2aa5f33cc4a6119ull, "xxh64 of 31 bytes (no stripes)");
	ok(ckpt_xxh64(v, 37, 0) == 0xe32ef63802f5a3fdull, "xxh64 of 37 bytes (one stripe + tail)");
	ok(ckpt_xxh64(v, 1000, 0) == 0x5f235fa033f1a3fbull, "xxh64 of 1000 bytes (xxhsum -H1)");
}

static void
test_half(void)
{
	int bad = 0, badr = 0;
	uint64_t s = 7;

	for (uint32_t h = 0; h < 65536; h++) {
		float f = ckpt_f32(h);

		if (((h >> 10) & 31) == 31 && (h & 1023))
			continue; /* NaN */
		if (ckpt_f16(f) != h && !bad++)
			printf("# half 0x%04x -> %g -> 0x%04x\n", h, f, ckpt_f16(f));
	}
	ok(!bad, "float16 -> float32 -> float16 is exact for all %d non-NaN halves (%d bad)",
	    65536 - 2046, bad);
	/* nearest, ties to even: no other half is closer than the one chosen */
	for (int i = 0; i < 200000; i++) {
		uint32_t bits = (uint32_t)rng_next(&s) & 0x7fffffff;
		float f;
		uint16_t h;
		double d, dn, dp;

		bits = (bits % 0x0b000000u) + 0x33000000u; /* |f| in ~[3e-8, 2e5] */
		memcpy(&f, &bits, 4);
		h = ckpt_f16(f);
		if (f >= 65520) {
			badr += h != 0x7c00;
			continue;
		}
		d = fabs((double)ckpt_f32(h) - f);
		dn = h > 0 ? fabs((double)ckpt_f32(h - 1) - f) : INFINITY;
		dp = h < 0x7bff ? fabs((double)ckpt_f32(h + 1) - f) : INFINITY;
		if (d > dn || d > dp || (d == dn && (h & 1)) || (d == dp && (h & 1))) {
			if (!badr++)
				printf("# %.9g -> 0x%04x (%.9g)\n", f, h, ckpt_f32(h));
		}
	}
	ok(!badr, "float32 -> float16 rounds to nearest even (200000 random values, %d bad)", badr);
	ok(ckpt_f16(1.0f) == 0x3c00 && ckpt_f16(-2.0f) == 0xc000 && ckpt_f16(65504.0f) == 0x7bff &&
	    ckpt_f16(65519.0f) == 0x7bff && ckpt_f16(65520.0f) == 0x7c00 &&
	    ckpt_f16(ldexpf(1, -24)) == 1 && ckpt_f16(ldexpf(1, -25)) == 0 &&
	    ckpt_f16(ldexpf(1.5f, -25)) == 1 && ckpt_f16(ldexpf(1, -14)) == 0x0400 &&
	    ckpt_f16(INFINITY) == 0x7c00 && isnan(ckpt_f32(ckpt_f16(NAN))),
	    "float16 fixed points (1, -2, 65504, 65519, 65520, 2^-24, 2^-25, 1.5*2^-25, 2^-14, inf, nan)");
}

static void
test_config(void)
{
	static const char *presets[] = { "tiny", "groovae", "hier" };
	char text[4096], err[400];
	VaeConfig a, b;

	ok(ckpt_config_bytes() == sizeof(VaeConfig),
	    "the config text carries every VaeConfig field (%zu of %zu bytes)",
	    ckpt_config_bytes(), sizeof(VaeConfig));
	for (size_t i = 0; i < LEN(presets); i++) {
		memset(&a, 0, sizeof(a));
		if (vae_config_preset(&a, presets[i]) < 0) {
			ok(0, "preset %s exists", presets[i]);
			continue;
		}
		a.free_bits = 48.123456789f;
		a.lr_decay = 0.99990004f;
		memset(&b, 0xa5, sizeof(b));
		ok(ckpt_config_text(text, sizeof(text), &a) == 0 &&
		    ckpt_config_parse(&b, text, strlen(text), err, sizeof(err)) == 0 &&
		    !memcmp(&a, &b, sizeof(a)), "config %s: text round trip is exact", presets[i]);
	}
	ckpt_config_text(text, sizeof(text), &a);
	strcat(text, "colour blue\n");
	ok(ckpt_config_parse(&b, text, strlen(text), err, sizeof(err)) < 0 &&
	    strstr(err, "\"colour\" is unknown"), "unknown config key: %s", err);
	ckpt_config_text(text, sizeof(text), &a);
	strcat(text, "beta 0.5\n");
	ok(ckpt_config_parse(&b, text, strlen(text), err, sizeof(err)) < 0 &&
	    strstr(err, "twice"), "duplicate config key: %s", err);
	ckpt_config_text(text, sizeof(text), &a);
	*strstr(text, "keep ") = 'X';
	ok(ckpt_config_parse(&b, text, strlen(text), err, sizeof(err)) < 0 &&
	    strstr(err, "Xeep"), "misspelt config key: %s", err);
	ckpt_config_text(text, sizeof(text), &a);
	memcpy(strstr(text, "enc_h ") + 6, "x", 1);
	ok(ckpt_config_parse(&b, text, strlen(text), err, sizeof(err)) < 0 &&
	    strstr(err, "bad value"), "bad config value: %s", err);
	ok(ckpt_config_parse(&b, "hier 1\n", 7, err, sizeof(err)) < 0 &&
	    strstr(err, "missing"), "missing config key: %s", err);
}

/* A tiny model with params and Adam moments all different from zero. */
static void
model(Vae *m, uint64_t seed)
{
	VaeConfig c;

	ENSURE(vae_config_preset(&c, "tiny") == 0);
	memset(m, 0, sizeof(*m));
	vae_layout(m, &c);
	m->cfg = c;
	vae_alloc(m, NULL, 1);
	vae_init_params(m, &seed);
	for (size_t i = 0; i < m->nparams; i++) {
		m->m[i] = rng_normal(&seed);
		m->v[i] = rng_uniform(&seed);
	}
	m->step = 1234567;
}

static void
test_roundtrip(const char *dir)
{
	char path[512], err[600];
	float *x, *in, *z, *o1, *o2;
	size_t n = 8 * VAE_T * VAE_O, bad;
	uint64_t s = 3, r1, r2;
	VaeLoss L1, L2, L3;
	Vae a, b, c;
	Ckpt ck;

	model(&a, 11);
	snprintf(path, sizeof(path), "%s/a.ckpt", dir);
	ok(ckpt_save(path, &a, 42, 0x1234567890abcdefull, CKPT_ADAM, err, sizeof(err)) == 0,
	    "save %s %s", path, err);
	if (!ok(ckpt_open(&ck, path, CKPT_VERIFY_ADAM, err, sizeof(err)) == 0, "open: %s", err))
		return;
	ok(ck.epoch == 42 && ck.step == 1234567 && ck.rng == 0x1234567890abcdefull &&
	    ck.flags == CKPT_ADAM && ck.nparams == a.nparams,
	    "header: epoch %lld step %lld rng %llx flags %u nparams %zu",
	    (long long)ck.epoch, (long long)ck.step, (unsigned long long)ck.rng, ck.flags,
	    ck.nparams);
	ok(!memcmp(&ck.cfg, &a.cfg, sizeof(a.cfg)), "config is identical");
	ok(((uintptr_t)ck.params % CKPT_ALIGN) == 0, "params are page-aligned in the map");
	ok(!memcmp(ck.params, a.params, a.nparams * 4) && !memcmp(ck.m, a.m, a.nparams * 4) &&
	    !memcmp(ck.v, a.v, a.nparams * 4), "params, m and v are identical bit for bit");

	/* the loss, through a read-only model on the map and a training copy */
	x = emalloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		x[i] = i % VAE_O < 9 ? rng_uniform(&s) < 0.2f : rng_uniform(&s);
	ckpt_model(&b, &ck, 0);
	ckpt_model(&c, &ck, 1);
	r1 = r2 = 5;
	vae_eval(&a, x, 8, 1, &r1, &L1);
	vae_eval(&b, x, 8, 1, &r2, &L2);
	ok(!memcmp(&L1, &L2, sizeof(L1)), "vae_eval loss after save/load (mmap): %.17g vs %.17g",
	    L1.loss, L2.loss);
	r1 = r2 = 5;
	vae_forward_backward(&a, x, 8, &r1, &L1);
	vae_forward_backward(&c, x, 8, &r2, &L3);
	ok(!memcmp(&L1, &L3, sizeof(L1)) && !memcmp(a.grads, c.grads, a.nparams * 4),
	    "training loss and gradients after save/load: %.17g vs %.17g", L1.loss, L3.loss);
	ok(c.step == a.step && !memcmp(c.m, a.m, a.nparams * 4), "training copy has step and Adam state");
	vae_free(&b);
	vae_free(&c);

	/* float16 export: params within half precision, decode works */
	snprintf(path, sizeof(path), "%s/h.ckpt", dir);
	ok(ckpt_save(path, &a, 42, 9, CKPT_HALF, err, sizeof(err)) == 0, "save float16 %s", err);
	ckpt_close(&ck);
	if (ok(ckpt_open(&ck, path, CKPT_VERIFY_ADAM, err, sizeof(err)) == 0, "open float16: %s", err)) {
		bad = 0;
		for (size_t i = 0; i < a.nparams; i++)
			bad += ck.params[i] != ckpt_f32(ckpt_f16(a.params[i]));
		ok(!bad && !ck.m && ck.flags == CKPT_HALF, "float16 params are the rounded float32 "
		    "(%zu differ), no Adam state", bad);
		ckpt_model(&b, &ck, 0);
		z = ecalloc(2 * b.cfg.z, sizeof(float));
		in = ecalloc(2 * VAE_T * VAE_O, sizeof(float));
		o1 = emalloc(2 * VAE_T * VAE_O * sizeof(float));
		o2 = emalloc(2 * VAE_T * VAE_O * sizeof(float));
		r1 = r2 = 1;
		vae_decode(&b, z, 2, 0, &r1, o1);
		vae_decode(&b, z, 2, 0, &r2, o2);
		ok(!memcmp(o1, o2, 2 * VAE_T * VAE_O * sizeof(float)) && isfinite(o1[5]),
		    "float16 model decodes deterministically");
		free(z), free(in), free(o1), free(o2);
		vae_free(&b);
		ckpt_close(&ck);
	}

	/* refusing: non-finite params, float16 overflow; the old file stays */
	snprintf(path, sizeof(path), "%s/a.ckpt", dir);
	a.params[a.t[1].off + 3] = NAN;
	ok(ckpt_save(path, &a, 1, 1, CKPT_ADAM, err, sizeof(err)) < 0 && strstr(err, a.t[1].name) &&
	    strstr(err, "not finite"), "NaN parameter refused: %s", err);
	ok(ckpt_open(&ck, path, CKPT_VERIFY_ADAM, err, sizeof(err)) == 0 && ck.epoch == 42,
	    "the previous file is intact after a refused save");
	ckpt_close(&ck);
	a.params[a.t[1].off + 3] = 1e5f;
	ok(ckpt_save(path, &a, 1, 1, CKPT_HALF, err, sizeof(err)) < 0 && strstr(err, "float16"),
	    "float16 overflow refused: %s", err);
	vae_free(&a);
	free(x);
}

static void
test_damage(const char *dir)
{
	char path[512], err[600];
	unsigned char *b, *c;
	size_t n, off, ncut = 0, nflip = 0, badcut = 0, badflip = 0, dataoff;
	char *p;
	Ckpt ck;

	snprintf(path, sizeof(path), "%s/d.ckpt", dir);
	{
		Vae a;

		model(&a, 5);
		ENSURE(ckpt_save(path, &a, 3, 4, CKPT_ADAM, err, sizeof(err)) == 0);
		vae_free(&a);
	}
	b = slurp(path, &n);
	c = emalloc(n);
	dataoff = rd32(b + 20);
	ok(parse_copy(b, n, CKPT_VERIFY_ADAM, err, sizeof(err)) == 0, "intact copy parses: %s", err);

	for (size_t len = 0; len < n; len += len < dataoff + 256 ? 1 : len > n - 64 ? 1 : 4093) {
		ncut++;
		err[0] = 0;
		if (parse_copy(b, len, 0, err, sizeof(err)) == 0 || !*err) {
			if (!badcut++)
				printf("# truncated at %zu accepted\n", len);
		} else if (len >= 64 && !strstr(err, "truncated") && !badcut++) {
			printf("# truncated at %zu: %s\n", len, err);
		}
	}
	ok(!badcut, "truncation at %zu lengths: each says \"truncated\" (%zu bad)", ncut, badcut);

	for (off = 0; off < n; off += off < dataoff + 256 ? 1 : off > n - 64 ? 1 : 997) {
		memcpy(c, b, n);
		c[off] ^= 1u << (off % 8);
		nflip++;
		err[0] = 0;
		if (parse_copy(c, n, CKPT_VERIFY_ADAM, err, sizeof(err)) == 0 || !*err)
			if (!badflip++)
				printf("# flipped byte %zu accepted\n", off);
	}
	ok(!badflip, "a flipped bit at %zu offsets is always rejected (%zu accepted)", nflip, badflip);
	memcpy(c, b, n);
	c[n - 40] ^= 0x10;   /* inside v: only the Adam checksum sees it */
	ok(parse_copy(c, n, 0, err, sizeof(err)) == 0 &&
	    parse_copy(c, n, CKPT_VERIFY_ADAM, err, sizeof(err)) < 0 && strstr(err, "Adam"),
	    "damage in the Adam state: ignored for inference, rejected for training: %s", err);

	memcpy(c, b, n);
	c[8] = 2;
	rehash(c, n);
	ok(parse_copy(c, n, 0, err, sizeof(err)) < 0 && strstr(err, "version 2"),
	    "wrong version: %s", err);
	memcpy(c, b, n);
	memcpy(c, "DRUMVAF", 7);
	ok(parse_copy(c, n, 0, err, sizeof(err)) < 0 && strstr(err, "not a drumvae checkpoint"),
	    "bad magic: %s", err);
	memcpy(c, b, n);
	p = memmem(c + 64, rd32(c + 16), "\nkeep ", 6);
	memcpy(p + 1, "kept", 4);
	rehash(c, n);
	ok(parse_copy(c, n, 0, err, sizeof(err)) < 0 && strstr(err, "\"kept\" is unknown"),
	    "unknown config key: %s", err);
	memcpy(c, b, n);
	p = memmem(c + 64, rd32(c + 16), "\ntensor ", 8);
	p[9] ^= 1;
	rehash(c, n);
	ok(parse_copy(c, n, 0, err, sizeof(err)) < 0 &&
	    strstr(err, "tensor table does not match this build's model"),
	    "foreign tensor name: %s", err);
	memcpy(c, b, n);
	p = memmem(c + 64, rd32(c + 16), "\nz ", 3);
	p[3] = p[3] == '9' ? '8' : p[3] + 1;
	rehash(c, n);
	ok(parse_copy(c, n, 0, err, sizeof(err)) < 0 &&
	    strstr(err, "does not match this build's model"), "config of another size: %s", err);
	memcpy(c, b, n);
	memcpy(c + 24, &(uint64_t){ 1ull << 62 }, 8);
	ok(parse_copy(c, n, 0, err, sizeof(err)) < 0 && strstr(err, "corrupted header"),
	    "huge parameter count, no allocation: %s", err);
	ok(ckpt_open(&ck, "/nonexistent/x.ckpt", 0, err, sizeof(err)) < 0 &&
	    strstr(err, "No such file"), "missing file: %s", err);
	spit(path, b, 10);
	ok(ckpt_open(&ck, path, 0, err, sizeof(err)) < 0 && strstr(err, "truncated"),
	    "10-byte file: %s", err);
	free(b);
	free(c);
}

static void
test_atomic(const char *dir)
{
	char path[512], err[600];
	struct dirent *e;
	int nfiles = 0;
	DIR *d;
	Vae a;

	model(&a, 9);
	snprintf(path, sizeof(path), "%s/sub", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sub/m.ckpt", dir);
	ENSURE(ckpt_save(path, &a, 1, 1, CKPT_ADAM, err, sizeof(err)) == 0);
	ENSURE(ckpt_save(path, &a, 2, 1, 0, err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/sub", dir);
	d = opendir(path);
	while ((e = readdir(d)))
		nfiles += e->d_name[0] != '.';
	closedir(d);
	ok(nfiles == 1, "two saves over one path leave exactly one file (%d)", nfiles);
	snprintf(path, sizeof(path), "%s/nodir/m.ckpt", dir);
	ok(ckpt_save(path, &a, 1, 1, 0, err, sizeof(err)) < 0 && strstr(err, "m.ckpt"),
	    "save into a missing folder: %s", err);
	vae_free(&a);
}

int
main(void)
{
	char dir[] = "/tmp/ckpt-test.XXXXXX", cmd[64];

	argv0 = "tests/ckpt";
	if (!mkdtemp(dir))
		eprintf("mkdtemp:");
	test_hash();
	test_half();
	test_config();
	test_roundtrip(dir);
	test_damage(dir);
	test_atomic(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return done();
}
