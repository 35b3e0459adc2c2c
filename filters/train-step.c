/* train-step: make a fresh model, or train one for one epoch.
 * Reads a checkpoint (-m) and pattern records (all held in memory, shuffled
 * by --seed and the epoch number); writes metrics records on stdout and the
 * new checkpoint (-o) atomically, never after a non-finite loss. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt.h"
#include "rec_input.h"
#include "rec_latent.h"
#include "rec_pattern.h"
#include "rng.h"
#include "util.h"

#define TO (VAE_T * VAE_O)

typedef struct {
	float *x;                 /* (n, T, O) */
	size_t n, cap;
} Set;

typedef struct {
	double loss, r_loss, hits, vel, off, kl_bits, hit_acc, gnorm, lr;
	size_t steps, ex, skipped;
	double t0;
} Sum;

static void
usage(int status)
{
	fprintf(stderr,
	    "usage: %s --init PRESET -o OUT.ckpt [--seed S] [--enc H] [--dec H] [--cond H]\n"
	    "           [--z Z] [--free-bits F] [--beta B] [--keep P] [--loss magenta | balanced]\n"
	    "           [--lr R]\n"
	    "       %s -m IN.ckpt -o OUT.ckpt [--batch B] [--seed S] [--validate FILE]\n"
	    "           [--every N] [--free-bits F] [--beta B] [--keep P]\n"
	    "           [--loss magenta | balanced] [--lr R] [file ...]\n"
	    "       %s -m IN.ckpt -o OUT.ckpt --export | --export-half\n",
	    argv0, argv0, argv0);
	exit(status);
}

static double
numarg(const char *s, const char *opt, double lo, double hi)
{
	double x;

	if (!parse_num(s, lo, hi, &x)) {
		warn("--%s: \"%s\" is not a number in [%g, %g]", opt, s, lo, hi);
		usage(2);
	}
	return x;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Appends one pattern record to the Set ctx; 1 ok, 0 bad record. */
static int
load(Rec *rec, void *ctx)
{
	Set *s = ctx;
	static Pattern p;

	if (!pattern_from_rec(rec, &p))
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->x = ereallocarray(s->x, s->cap, TO * sizeof(float));
	}
	memcpy(s->x + s->n++ * TO, p.g, sizeof(p.g));
	return 1;
}

static void
add(Sum *s, const VaeLoss *L, double gn, double lr, int B)
{
	s->loss += L->loss;
	s->r_loss += L->r_loss;
	s->hits += L->hits;
	s->vel += L->vel;
	s->off += L->off;
	s->kl_bits += L->kl_bits;
	s->hit_acc += L->hit_acc;
	s->gnorm += gn;
	s->lr = lr;
	s->skipped += !(gn < 1e4);
	s->steps++;
	s->ex += B;
}

/* One metrics record of the means in s (weights: steps or examples). */
static void
emit(RecWriter *w, const char *id, const Sum *s, const Vae *m, int64_t epoch, int train)
{
	double k = train ? s->steps : s->ex, dt = now() - s->t0;

	recw_begin(w, "metrics", 1, id);
	recw_int(w, "step", m->step);
	recw_int(w, "epoch", epoch);
	recw_f64(w, "loss", s->loss / k);
	recw_f64(w, "r_loss", s->r_loss / k);
	recw_f64(w, "hits", s->hits / k);
	recw_f64(w, "vel", s->vel / k);
	recw_f64(w, "off", s->off / k);
	recw_f64(w, "kl_bits", s->kl_bits / k);
	recw_f64(w, "hit_acc", s->hit_acc / k);
	recw_f64(w, "beta", m->cfg.beta);
	if (train) {
		recw_f64(w, "lr", s->lr);
		recw_f64(w, "gnorm", s->gnorm / k);
		recw_int(w, "skipped", s->skipped);
	}
	recw_f64(w, "ex_per_s", dt > 0 ? s->ex / dt : 0);
	recw_end(w, stdout);
}

static void
progress(int64_t epoch, size_t k, size_t nsteps, const Sum *ep, const VaeLoss *L)
{
	static double last;
	double t = now(), rate = ep->ex / (t - ep->t0), eta;

	if (t - last < 0.2 && k < nsteps)
		return;
	last = t;
	eta = rate > 0 ? (double)(nsteps - k) * (ep->ex / ep->steps) / rate : 0;
	fprintf(stderr, "\r%s: epoch %lld step %zu/%zu loss %.4g %.0f ex/s ETA %d:%02d\033[K",
	    argv0, (long long)epoch, k, nsteps, L->loss, rate, (int)eta / 60, (int)eta % 60);
}

/* Means of vae_eval over s in batches of B (z = mu). */
static void
validate(RecWriter *w, Vae *m, const Set *s, int B, int64_t epoch)
{
	Sum v = { .t0 = now() };
	uint64_t rng = 1;
	VaeLoss L;

	for (size_t i = 0; i < s->n; i += B) {
		int b = s->n - i < (size_t)B ? (int)(s->n - i) : B;

		vae_eval(m, s->x + i * TO, b, 0, &rng, &L);
		v.loss += L.loss * b;
		v.r_loss += L.r_loss * b;
		v.hits += L.hits * b;
		v.vel += L.vel * b;
		v.off += L.off * b;
		v.kl_bits += L.kl_bits * b;
		v.hit_acc += L.hit_acc * b;
		v.ex += b;
	}
	if (!isfinite(v.loss))
		warn("validation loss is not finite");
	emit(w, "validation", &v, m, epoch, 0);
}

/* One epoch over data, shuffled by *rng, in batches of B (the last partial
 * batch dropped); a non-finite loss exits before anything is saved. */
static void
train(RecWriter *w, Vae *m, const Set *data, int B, int every, uint64_t *rng, int64_t epoch)
{
	size_t *perm = ereallocarray(NULL, data->n, sizeof(*perm)), nsteps = data->n / B, i, k;
	float *xb = ereallocarray(NULL, (size_t)B, TO * sizeof(float)), lr, gn;
	int tty = isatty(2);
	Sum ep = { .t0 = now() }, win = ep;
	VaeLoss L;

	for (i = 0; i < data->n; i++)
		perm[i] = i;
	for (i = data->n - 1; i > 0; i--) {
		size_t j = rng_below(rng, i + 1), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (k = 0; k < nsteps; k++) {
		for (int b = 0; b < B; b++)
			memcpy(xb + (size_t)b * TO, data->x + perm[k * B + b] * TO, TO * sizeof(float));
		vae_forward_backward(m, xb, B, rng, &L);
		if (!isfinite(L.loss)) {
			if (tty)
				fputs("\n", stderr);
			efflush_stdout();
			eprintf("step %lld (batch %zu of %zu): loss is %g; no checkpoint written",
			    (long long)m->step + 1, k + 1, nsteps, L.loss);
		}
		gn = vae_adam_step(m, &lr);
		add(&ep, &L, gn, lr, B);
		add(&win, &L, gn, lr, B);
		if ((k + 1) % every == 0 && k + 1 < nsteps) {
			emit(w, "train", &win, m, epoch, 1);
			win = (Sum){ .t0 = now() };
		}
		if (tty)
			progress(epoch, k + 1, nsteps, &ep, &L);
	}
	if (tty)
		fputs("\r\033[K", stderr);
	if (win.steps)
		emit(w, "train", &win, m, epoch, 1);
	emit(w, "train-epoch", &ep, m, epoch, 1);
	if (ep.skipped)
		warn("%zu of %zu steps skipped: gradient norm >= 1e4 or not finite",
		    ep.skipped, nsteps);
	free(perm);
	free(xb);
}

static void
save(const char *out, const Vae *m, int64_t epoch, uint64_t rng, uint32_t flags)
{
	char err[600];

	if (ckpt_save(out, m, epoch, rng, flags, err, sizeof(err)) < 0)
		eprintf("%s", err);
}

static void
init(const char *preset, const char *out, VaeConfig *over, uint64_t seed)
{
	char num[32], sep[48];
	const char *msg;
	size_t i, j, n;
	Vae m;

	if (!(msg = vae_config_check(over))) {
		memset(&m, 0, sizeof(m));
		vae_layout(&m, over);
		m.cfg = *over;
		vae_alloc(&m, NULL, 1);
		vae_init_params(&m, &seed);
		save(out, &m, 0, seed, CKPT_ADAM);
		vae_free(&m);
		n = snprintf(num, sizeof(num), "%zu", m.nparams);
		for (i = j = 0; i < n; i++) {
			if (i && (n - i) % 3 == 0)
				sep[j++] = ',';
			sep[j++] = num[i];
		}
		sep[j] = '\0';
		fprintf(stderr, "%s: %s: %s parameters\n", argv0, preset, sep);
		return;
	}
	warn("--init %s: %s", preset, msg);
	usage(2);
}

int
main(int argc, char *argv[])
{
	enum { O_INIT = 1, O_BATCH, O_SEED, O_VAL, O_EVERY, O_ENC, O_DEC, O_COND, O_Z,
	    O_FB, O_BETA, O_KEEP, O_LOSS, O_LR, O_EXP, O_EXPH };
	static const struct option lo[] = {
		{ "init", 1, 0, O_INIT }, { "batch", 1, 0, O_BATCH }, { "seed", 1, 0, O_SEED },
		{ "validate", 1, 0, O_VAL }, { "every", 1, 0, O_EVERY }, { "enc", 1, 0, O_ENC },
		{ "dec", 1, 0, O_DEC }, { "cond", 1, 0, O_COND }, { "z", 1, 0, O_Z },
		{ "free-bits", 1, 0, O_FB }, { "beta", 1, 0, O_BETA }, { "keep", 1, 0, O_KEEP },
		{ "loss", 1, 0, O_LOSS }, { "lr", 1, 0, O_LR }, { "export", 0, 0, O_EXP },
		{ "export-half", 0, 0, O_EXPH }, { 0, 0, 0, 0 }
	};
	const char *preset = NULL, *in = NULL, *out = NULL;
	char *valpath = NULL;
	int B = 512, every = 10, seeded = 0, sizes = 0, exp = 0, c;
	double hyp[5] = { NAN, NAN, NAN, NAN, NAN }; /* free-bits beta keep loss lr */
	uint64_t seed = 1, rng = 0;
	VaeConfig cfg;
	Ckpt ck;
	Vae m;
	Set data = { 0 }, val = { 0 };
	RecWriter w;
	char err[600];
	int64_t epoch = 0;

	argv0 = "train-step";
	nn_blas_threads_default();
	memset(&cfg, 0, sizeof(cfg));
	while ((c = getopt_long(argc, argv, "hm:o:", lo, NULL)) != -1) {
		switch (c) {
		case 'm': in = optarg; break;
		case 'o': out = optarg; break;
		case O_INIT: preset = optarg; break;
		case O_BATCH: B = numarg(optarg, "batch", 1, 1 << 16); break;
		case O_SEED: seed = numarg(optarg, "seed", 0, 9007199254740992.0); seeded = 1; break;
		case O_VAL: valpath = optarg; break;
		case O_EVERY: every = numarg(optarg, "every", 1, 1e9); break;
		case O_ENC: cfg.enc_h = numarg(optarg, "enc", 1, 1 << 14); sizes = 1; break;
		case O_DEC: cfg.dec_h = numarg(optarg, "dec", 1, 1 << 14); sizes = 1; break;
		case O_COND: cfg.cond_h = numarg(optarg, "cond", 1, 1 << 14); sizes = 1; break;
		case O_Z: cfg.z = numarg(optarg, "z", 1, LAT_MAX_Z); sizes = 1; break;
		case O_FB: hyp[0] = numarg(optarg, "free-bits", 0, 1e6); break;
		case O_BETA: hyp[1] = numarg(optarg, "beta", 0, 1e6); break;
		case O_KEEP: hyp[2] = numarg(optarg, "keep", 1e-3, 1); break;
		case O_LOSS:
			if (strcmp(optarg, "magenta") && strcmp(optarg, "balanced")) {
				warn("--loss: \"%s\" is not magenta or balanced", optarg);
				usage(2);
			}
			hyp[3] = strcmp(optarg, "magenta") ? VAE_LOSS_BALANCED : VAE_LOSS_MAGENTA;
			break;
		case O_LR: hyp[4] = numarg(optarg, "lr", 0, 1); break;
		case O_EXP: exp = 1; break;
		case O_EXPH: exp = 2; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!out || !preset == !in || (preset && (exp || valpath || optind < argc)) ||
	    (in && sizes) || (exp && optind < argc))
		usage(2);

	if (preset) {
		VaeConfig p;

		if (vae_config_preset(&p, preset) < 0) {
			warn("--init: no preset \"%s\" (groovae, hier, tiny)", preset);
			usage(2);
		}
		if (cfg.enc_h) p.enc_h = cfg.enc_h;
		if (cfg.dec_h) p.dec_h = cfg.dec_h;
		if (cfg.cond_h) p.cond_h = cfg.cond_h;
		if (cfg.z) p.z = cfg.z;
		cfg = p;
	}
	if (in) {
		if (ckpt_open(&ck, in, exp ? 0 : CKPT_VERIFY_ADAM, err, sizeof(err)) < 0)
			eprintf("%s", err);
		epoch = ck.epoch;
		rng = ck.rng;
		ckpt_model(&m, &ck, !exp);
		if (!exp && !(ck.flags & CKPT_ADAM))
			warn("%s has no Adam state: starting from zero moments", in);
		if (!exp)
			ckpt_close(&ck);
		cfg = m.cfg;
	}
	if (!isnan(hyp[0])) cfg.free_bits = hyp[0];
	if (!isnan(hyp[1])) cfg.beta = hyp[1];
	if (!isnan(hyp[2])) cfg.keep = hyp[2];
	if (!isnan(hyp[3])) cfg.loss = hyp[3];
	if (!isnan(hyp[4])) cfg.lr = hyp[4];
	if (preset) {
		init(preset, out, &cfg, seed);
		return 0;
	}
	if (exp) {
		save(out, &m, epoch, rng, exp == 2 ? CKPT_HALF : 0);
		vae_free(&m);
		ckpt_close(&ck);
		return 0;
	}
	m.cfg = cfg;

	if (rec_each(argc - optind, argv + optind, 1, load, &data)) {
		vae_free(&m);
		return 1;
	}
	if (valpath) {
		if (rec_each(1, &valpath, 1, load, &val)) {
			vae_free(&m);
			return 1;
		}
		if (!val.n)
			warn("%s: no patterns to validate on", valpath);
	}
	if (data.n < (size_t)B)
		eprintf("%zu patterns, fewer than one batch of %d (see --batch)", data.n, B);

	/* the epoch's randomness: --seed and the epoch number, or the state
	 * the checkpoint carries from the previous run */
	if (seeded) {
		rng = seed ^ 0x5deece66dull * (uint64_t)(epoch + 1);
		rng_next(&rng);
	}
	recw_init(&w);
	train(&w, &m, &data, B, every, &rng, epoch + 1);
	if (val.n)
		validate(&w, &m, &val, B, epoch + 1);
	efflush_stdout();
	save(out, &m, epoch + 1, rng, CKPT_ADAM);
	vae_free(&m);
	recw_free(&w);
	free(data.x);
	free(val.x);
	return 0;
}
