/* lstm.h: one LSTM layer (TF LSTMBlockCell semantics) over T time-major
 * steps, batch B, in segments of S steps whose initial state is given per
 * segment (S == T: one sequence). Gate order i, j, f, o; forget bias +1:
 *   [i j f o] = [x h] W + b     (W: (I+H, 4H), rows 0..I-1 input, I.. recurrent)
 *   c' = s(i) tanh(j) + s(f + 1) c,   h' = s(o) tanh(c').
 * Forward fills the activations; backward accumulates dW, db. */
#ifndef LSTM_H
#define LSTM_H
#include "nn.h"

typedef struct {
	int I, H;          /* input size, units */
	const Real *W;     /* (I+H, 4H) */
	const Real *b;     /* (4H) */
	Real *dW, *db;     /* same shapes; NULL unless training */
	const NnPacked *pwh, *pwht; /* W[I:] and its transpose packed, or NULL */
	const NnPacked *pwx;        /* W[:I] packed (step-by-step use), or NULL */
} Lstm;

/* Activations of one layer for T steps (U = T / S segments). */
typedef struct {
	Real *x;           /* (T, B, I) input as seen by the cell (after dropout) */
	Real *g;           /* (T, B, 4H) gates s(i) tanh(j) s(f+1) s(o); their
	                    * pre-activation gradients after lstm_backward */
	Real *c, *h, *tc;  /* (T, B, H) cell, output, tanh(cell) after each step */
	Real *c0, *h0;     /* (U, B, H) state before each segment */
	Real *dh;          /* (T, B, H) gradient on h; backward adds the
	                    * recurrent part into it (the caller zeroes it) */
	Real *dc0, *dh0;   /* (U, B, H) gradient on the initial states (written) */
	Real *dc;          /* (B, H) scratch */
	int zero0;         /* 1: every initial state is zero and constant (skips
	                    * the h0 product forward and dh0/dc0 backward) */
} LstmActs;

/* Floats needed by lstm_acts_bind for the given sizes. */
size_t lstm_acts_size(int T, int S, int B, int I, int H, int train);
/* Point the arrays of a into buf (lstm_acts_size floats); returns the end. */
Real *lstm_acts_bind(LstmActs *a, Real *buf, int T, int S, int B, int I, int H, int train);

/* g[t] = x[t][:, :nx] W[0:nx] + b for steps t0 <= t < t1: one
 * ((t1-t0)*B, nx) product. nx < I leaves the rest of the input to the caller. */
void lstm_forward_input(const Lstm *L, LstmActs *a, int t0, int t1, int B, int nx);
/* Step t: g[t] += h_prev W[I:], then the cell. h_prev is h0[t/S] at a
 * segment start, else h[t-1]. */
void lstm_forward_step(const Lstm *L, LstmActs *a, int t, int S, int B);
/* All steps in order. */
void lstm_forward(const Lstm *L, LstmActs *a, int T, int S, int B);
/* Backward through all steps from a->dh: g becomes dgates, dW/db are
 * accumulated, dh0/dc0 written; dx (T, B, I) is written when not NULL. */
void lstm_backward(const Lstm *L, LstmActs *a, Real *dx, int T, int S, int B);

#endif
