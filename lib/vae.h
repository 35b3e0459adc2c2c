/* vae.h: MusicVAE for 4-bar grooves: bidirectional LSTM encoder, flat or
 * hierarchical (conductor + bottom) LSTM decoder, groove loss, KL with free
 * bits, Adam. One parameter table drives allocation, the checkpoint layout
 * and the tests; params, grads and Adam moments share that layout.
 * Dimension letters: B batch, T steps (64), O frame (27), Z latent,
 * He encoder units, Hc conductor units, Hd decoder units.
 * Maths: ../REFERENCE.md section 6 (magenta music_vae). Checked by
 * tests/vae-grad.c (finite differences in double), tests/torch-ref.t
 * (PyTorch autograd, bench/vae_ref.py) and tests/vae-overfit.c.
 * Speed: products run on an AVX-512 kernel (lib/nn_packed.c) when the CPU
 * has one, else OpenBLAS; DRUMVAE_NO_KERNEL=1 forces OpenBLAS. Here
 * OPENBLAS_CORETYPE=Haswell makes OpenBLAS slower, not faster. Single
 * threaded; `make bench-train` measures (pipelines/bench.mk).
 * Deviations from magenta, by design: a step with a gradient norm >= 1e4
 * is skipped (magenta zeroes the gradients and still steps); scheduled
 * sampling passes no gradient through the sampled frames. */
#ifndef VAE_H
#define VAE_H
#include <stddef.h>
#include <stdint.h>

#include "nn.h"

#define VAE_T 64
#define VAE_O 27
#define VAE_C 9                 /* drum classes: O = [C hits | C vel | C off] */
#define VAE_MAX_TENSORS 64
#define VAE_MAX_LAYERS 4

/* Loss per step (y hit, v velocity, o offset targets; p = sigmoid(hit
 * logit), v^ = sigmoid(.), o^ = tanh(.); eps = 1e-7 inside the logs as in
 * tf.losses.log_loss, which magenta uses):
 *   VAE_LOSS_MAGENTA:  sum_k [-y ln(p + eps) - (1 - y) ln(1 - p + eps)
 *                             + (v - v^)^2 + (o - o^)^2]
 *   VAE_LOSS_BALANCED: sum_k [-y ln(p + eps) - (1 - y) ln(1 - p + eps)
 *                             + W y ((v - v^)^2 + (o - o^)^2)]
 * with W = VAE_BALANCED_W = 8: velocity and offset count only where the
 * target has a hit (~13% of GMD cells: 74.9 hits per 576), scaled by about
 * 576 / 74.9 so their total weight matches the unmasked sum, instead of
 * being mostly the easy "predict 0 on an empty cell" task. The balanced
 * decoder also writes v = o = 0 where it samples no hit. r_loss is the
 * sum over the 64 steps. */
#define VAE_BALANCED_W 8.0f
enum { VAE_LOSS_MAGENTA = 0, VAE_LOSS_BALANCED = 1 };

typedef struct {
	char preset[16];
	int hier;                 /* 1: conductor + bottom decoder; 0: flat */
	int enc_h, enc_layers;    /* bidirectional: enc_h units each way */
	int dec_h, dec_layers;    /* decoder (flat) or bottom decoder (hier) */
	int cond_h, cond_layers;  /* conductor; unused when !hier */
	int z;
	int bars, steps_per_bar;  /* bars * steps_per_bar == VAE_T */
	float free_bits, beta;
	float keep;               /* input dropout keep probability (train only) */
	float lr, lr_min, lr_decay, clip;
	int loss;                 /* VAE_LOSS_* */
	float sched_k;            /* scheduled sampling k; 0: teacher forcing.
	                           * In training each decoder input frame after
	                           * the first is, with probability
	                           * p = 1 - k / (k + exp(step / k)) (magenta's
	                           * inverse_sigmoid schedule, the sampling
	                           * probability), the model's own sample of the
	                           * previous step (hits ~ Bernoulli, no gradient
	                           * through it) instead of the target. */
} VaeConfig;

typedef struct {
	char name[48];
	int rows, cols;           /* a bias is rows x 1 */
	size_t off;               /* offset in floats into params/grads/m/v */
} VaeTensor;

typedef struct {
	double loss;              /* r_loss + beta * kl_cost, batch means */
	double r_loss, hits, vel, off; /* reconstruction and its three terms */
	double kl_bits;           /* mean KL in bits */
	double hit_acc;           /* fraction of the T x 9 hit cells where
	                           * (p > 0.5) equals the target, batch mean */
} VaeLoss;

typedef struct Vae {
	VaeConfig cfg;
	size_t ntensors;
	VaeTensor t[VAE_MAX_TENSORS];
	size_t nparams;
	Real *params;             /* (nparams) may point into an mmap */
	Real *grads, *m, *v;      /* (nparams) each; NULL unless training */
	int64_t step;             /* optimizer steps taken */
	int own_params;           /* params allocated by vae_alloc (freed by vae_free) */
	void *ws;                 /* activations and scratch, private */
} Vae;

/* 0 on success, -1 for an unknown name. Presets: groovae, hier, tiny. */
int vae_config_preset(VaeConfig *c, const char *name);
/* Check sizes; returns NULL when fine, else a message. */
const char *vae_config_check(const VaeConfig *c);
/* Fill the tensor table and nparams from cfg; allocates nothing. */
void vae_layout(Vae *m, const VaeConfig *c);
/* Allocate params (unless params is given) and, when train, grads and
 * Adam moments (zeroed). */
void vae_alloc(Vae *m, Real *params, int train);
void vae_free(Vae *m);
/* Magenta-style initialisation from the RNG: LSTM and output kernels
 * glorot-uniform (TF's default), mu/sigma and initial-state dense kernels
 * N(0, 0.001^2) (magenta lstm_utils), biases 0. */
void vae_init_params(Vae *m, uint64_t *rng);
/* Index of the tensor called name, or -1. Names: enc/fw/L/kernel,
 * enc/fw/L/bias, enc/bw/L/..., enc/mu/kernel|bias, enc/sigma/kernel|bias,
 * cond/init/kernel|bias, cond/L/kernel|bias (hier only), dec/init/...,
 * dec/L/..., dec/out/kernel|bias; kernels are (in, out), LSTM kernels
 * (I + H, 4H) with gate blocks i, j, f, o. */
int vae_tensor(const Vae *m, const char *name);
/* Scheduled sampling probability at step (0 when sched_k is 0). */
double vae_sched_prob(const VaeConfig *c, int64_t step);

/* One training batch: forward (teacher forcing, dropout, z sampled),
 * loss, backward; grads are overwritten. x: (B, T, O). Activations for
 * the whole batch: groovae needs about 0.3 GB at B = 64, 1.8 GB at 512. */
void vae_forward_backward(Vae *m, const float *x, int B, uint64_t *rng, VaeLoss *out);
/* Loss without dropout or gradients (validation); z = mu when !sample_z. */
void vae_eval(Vae *m, const float *x, int B, int sample_z, uint64_t *rng, VaeLoss *out);
/* Clip to cfg.clip by global norm and take an Adam step at the decayed
 * learning rate. Returns the pre-clip norm; takes no step (and returns it)
 * when the norm is >= 1e4 or not finite. *lr_out gets the rate used. */
float vae_adam_step(Vae *m, float *lr_out);

/* Posterior of x: mu, sigma (B, Z) each. */
void vae_encode(Vae *m, const float *x, int B, float *mu, float *sigma);
/* Autoregressive decode of z (B, Z) into out (B, T, O): hits ~
 * Bernoulli(sigmoid(logit / temperature)), temperature 0 thresholds at 0.5. */
void vae_decode(Vae *m, const float *z, int B, float temperature, uint64_t *rng, float *out);
/* Teacher-forced reconstruction of x (B, T, O) from z (B, Z): every input
 * frame is x's previous frame; out (B, T, O) holds thresholded frames. */
void vae_decode_teacher(Vae *m, const float *z, const float *x, int B, float *out);

#endif
