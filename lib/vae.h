/* vae.h: MusicVAE for 4-bar grooves: bidirectional LSTM encoder, flat or
 * hierarchical (conductor + bottom) LSTM decoder, groove loss, KL with free
 * bits, Adam. One parameter table drives allocation, the checkpoint layout
 * and the tests; params, grads and Adam moments share that layout.
 * Dimension letters: B batch, T steps (64), O frame (27), Z latent,
 * He encoder units, Hc conductor units, Hd decoder units.
 * Maths: ../REFERENCE.md section 6 (magenta music_vae). */
#ifndef VAE_H
#define VAE_H
#include <stddef.h>
#include <stdint.h>

#define VAE_T 64
#define VAE_O 27
#define VAE_MAX_TENSORS 64

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
	float sched_k;            /* scheduled sampling k; 0: teacher forcing */
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
	double hit_acc;           /* fraction of hit cells predicted right */
} VaeLoss;

typedef struct Vae {
	VaeConfig cfg;
	size_t ntensors;
	VaeTensor t[VAE_MAX_TENSORS];
	size_t nparams;
	float *params;            /* (nparams) may point into an mmap */
	float *grads, *m, *v;     /* (nparams) each; NULL unless training */
	int64_t step;             /* optimizer steps taken */
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
void vae_alloc(Vae *m, float *params, int train);
void vae_free(Vae *m);
/* Magenta-style initialisation from the RNG. */
void vae_init_params(Vae *m, uint64_t *rng);

/* One training batch: forward (teacher forcing, dropout, z sampled),
 * loss, backward; grads are overwritten. x: (B, T, O). */
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

#endif
