/* vae-dump.c: one training step of a preset on a synthetic batch (or of a
 * checkpoint's weights, -m, on the first patterns of a record file, -d), dumped
 * for the PyTorch reference (bench/vae_ref.py): DIR/data.f32 (raw
 * little-endian float32) and DIR/tensors.json (config, losses and the table
 * of params, grads, input, eps and dropout masks with shapes and offsets).
 * Includes the core's sources to reach the dropout masks and eps. */
#include "../lib/vae.c"
#undef T
#undef O
#undef C

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "ckpt.h"
#include "rec_pattern.h"

static FILE *data, *js;
static size_t at;
static int first = 1;

static void
put(const char *name, const char *kind, const Real *p, int d0, int d1, int d2)
{
	size_t n = (size_t)d0 * d1 * (d2 ? d2 : 1);

	if (fwrite(p, sizeof *p, n, data) != n)
		eprintf("write data.f32:");
	fprintf(js, "%s\n  {\"name\": \"%s\", \"kind\": \"%s\", \"shape\": [%d, %d", first ? "" : ",",
	    name, kind, d0, d1);
	if (d2)
		fprintf(js, ", %d", d2);
	fprintf(js, "], \"offset\": %zu}", at);
	at += n;
	first = 0;
}

static void
putmask(const char *name, const unsigned char *m, int d0, int d1, int d2)
{
	size_t n = (size_t)d0 * d1 * d2;
	Real *f = emalloc(n * sizeof *f);

	for (size_t i = 0; i < n; i++)
		f[i] = m[i];
	put(name, "mask", f, d0, d1, d2);
	free(f);
}

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-f] [-p preset | -m CKPT] [-d PATTERNS] [-b batch] [-s seed] [-k keep]\n"
	    "       [-L magenta|balanced] [-E enc_layers] [-D dec_layers] [-C cond_layers]\n"
	    "       [-F free_bits] -o DIR\n", argv0);
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *dir = NULL, *preset = "tiny", *ckpath = NULL, *datapath = NULL;
	int B = 4, flat = 0, c, E = 0, D = 0, Cl = 0;
	double keep = -1, fb = -1;
	uint64_t seed = 1, rng;
	int loss = -1;
	VaeConfig cfg;
	Vae m;
	VaeLoss l;
	char path[4096];
	float *x;

	argv0 = "vae-dump";
	while ((c = getopt(argc, argv, "fp:m:d:b:s:k:L:E:D:C:F:o:h")) != -1) {
		switch (c) {
		case 'f': flat = 1; break;
		case 'p': preset = optarg; break;
		case 'm': ckpath = optarg; break;
		case 'd': datapath = optarg; break;
		case 'b': B = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'k': keep = atof(optarg); break;
		case 'L': loss = strcmp(optarg, "balanced") == 0; break;
		case 'E': E = atoi(optarg); break;
		case 'D': D = atoi(optarg); break;
		case 'C': Cl = atoi(optarg); break;
		case 'F': fb = atof(optarg); break;
		case 'o': dir = optarg; break;
		default: usage();
		}
	}
	if (!dir || optind != argc || B < 1 || vae_config_preset(&cfg, preset))
		usage();
	if (ckpath) {
		Ckpt ck;
		char err[600];

		if (ckpt_open(&ck, ckpath, 0, err, sizeof err) < 0)
			eprintf("%s", err);
		ckpt_model(&m, &ck, 1);
		ckpt_close(&ck);
		cfg = m.cfg;
	}
	if (flat)
		cfg.hier = 0;
	if (keep > 0)
		cfg.keep = (float)keep;
	if (loss >= 0)
		cfg.loss = loss;
	if (E)
		cfg.enc_layers = E;
	if (D)
		cfg.dec_layers = D;
	if (Cl)
		cfg.cond_layers = Cl;
	if (fb >= 0)
		cfg.free_bits = (float)fb;
	if (vae_config_check(&cfg))
		eprintf("%s", vae_config_check(&cfg));
	rng = seed;
	if (ckpath) {
		if (flat || E || D || Cl)
			eprintf("-m: the sizes come from the checkpoint (no -f, -E, -D, -C)");
		m.cfg = cfg;
	} else {
		vae_layout(&m, &cfg);
		vae_alloc(&m, NULL, 1);
		vae_init_params(&m, &rng);
		for (size_t i = 0; i < m.nparams; i++)   /* nonzero biases, larger mu/sigma */
			m.params[i] += 0.1f * (rng_uniform(&rng) - 0.5f);
	}
	x = ecalloc((size_t)B * VAE_T * VAE_O, sizeof *x);
	if (datapath) {
		FILE *f = efopen(datapath, "rb");
		RecReader *r = rec_reader_new(f, datapath);
		static Pattern p;
		Rec rec;
		int b = 0, st;

		while (b < B && (st = rec_read(r, &rec)) > 0) {
			if (!pattern_from_rec(&rec, &p)) {
				rec_report(&rec);
				exit(1);
			}
			memcpy(x + (size_t)b++ * VAE_T * VAE_O, p.g, sizeof p.g);
		}
		if (b < B)
			eprintf("%s: %d patterns, fewer than -b %d", datapath, b, B);
		rec_reader_free(r);
		fclose(f);
	} else {
		for (size_t i = 0; i < (size_t)B * VAE_T; i++)
			for (int k = 0; k < VAE_C; k++)
				if (rng_uniform(&rng) < 0.15f) {
					x[i * VAE_O + k] = 1;
					x[i * VAE_O + VAE_C + k] = 0.1f + 0.9f * rng_uniform(&rng);
					x[i * VAE_O + 2 * VAE_C + k] = rng_uniform(&rng) - 0.5f;
				}
	}
	vae_forward_backward(&m, x, B, &rng, &l);

	snprintf(path, sizeof path, "%s/data.f32", dir);
	data = efopen(path, "wb");
	snprintf(path, sizeof path, "%s/tensors.json", dir);
	js = efopen(path, "w");
	fprintf(js, "{\"config\": {\"preset\": \"%s\", \"hier\": %d, \"enc_h\": %d, \"enc_layers\": %d, "
	    "\"dec_h\": %d, \"dec_layers\": %d, \"cond_h\": %d, \"cond_layers\": %d, \"z\": %d, "
	    "\"bars\": %d, \"free_bits\": %.9g, \"beta\": %.9g, \"keep\": %.9g, \"loss\": %d, \"B\": %d},\n",
	    cfg.preset, cfg.hier, cfg.enc_h, cfg.enc_layers, cfg.dec_h, cfg.dec_layers, cfg.cond_h,
	    cfg.cond_layers, cfg.z, cfg.bars, cfg.free_bits, cfg.beta, cfg.keep, cfg.loss, B);
	fprintf(js, "\"loss\": {\"loss\": %.9g, \"r_loss\": %.9g, \"hits\": %.9g, \"vel\": %.9g, "
	    "\"off\": %.9g, \"kl_bits\": %.9g},\n\"tensors\": [", l.loss, l.r_loss, l.hits, l.vel,
	    l.off, l.kl_bits);
	{
		Real *xr = emalloc((size_t)B * VAE_T * VAE_O * sizeof *xr);
		for (size_t i = 0; i < (size_t)B * VAE_T * VAE_O; i++)
			xr[i] = x[i];
		put("x", "input", xr, B, VAE_T, VAE_O);
		free(xr);
	}
	for (size_t i = 0; i < m.ntensors; i++) {
		VaeTensor *t = &m.t[i];
		char s[64];
		snprintf(s, sizeof s, "param/%s", t->name);
		put(s, "param", m.params + t->off, t->rows, t->cols, 0);
		snprintf(s, sizeof s, "grad/%s", t->name);
		put(s, "grad", m.grads + t->off, t->rows, t->cols, 0);
	}
	{
		Ws *w = m.ws;
		char s[64];
		put("eps", "input", w->eps, B, cfg.z, 0);
		put("mu", "output", w->mu_, B, cfg.z, 0);
		put("sigma", "output", w->sigma, B, cfg.z, 0);
		put("logits", "output", w->logits, VAE_T, B, VAE_O);
		for (int li = 0; li < cfg.enc_layers; li++) {
			snprintf(s, sizeof s, "mask/enc/fw/%d", li);
			putmask(s, w->mef[li], VAE_T, B, w->ef[li].I);
			snprintf(s, sizeof s, "mask/enc/bw/%d", li);
			putmask(s, w->meb[li], VAE_T, B, w->eb[li].I);
		}
		if (cfg.hier)
			for (int li = 1; li < cfg.cond_layers; li++) {
				snprintf(s, sizeof s, "mask/cond/%d", li);
				putmask(s, w->mc[li], cfg.bars, B, w->cd[li].I);
			}
		for (int li = 0; li < cfg.dec_layers; li++) {
			snprintf(s, sizeof s, "mask/dec/%d", li);
			putmask(s, w->md[li], VAE_T, B, w->dd[li].I);
		}
	}
	fprintf(js, "\n]}\n");
	if (fclose(data) || fclose(js))
		eprintf("%s:", dir);
	free(x);
	vae_free(&m);
	return 0;
}
