/* mlp.h — fully connected networks with an input-JVP and double backprop,
 * optionally behind a convolutional front for image inputs.
 *
 * The field-matching losses (docs/design.md §1.2) need, besides y = f(x), the
 * derivative of the output along an input direction, ẏ = J(x)·ẋ, and the
 * parameter gradient of a loss that contains ẏ. This module does all three,
 * batched through GEMMs:
 *
 *   mlp_forward      x (B, n_in)                 -> y (B, n_out)
 *   mlp_forward_jvp  x (B, n_in), ẋ (B, n_in)     -> y (B, n_out), ẏ (B, n_out)
 *   mlp_backward     dL/dy, dL/dẏ (B, n_out)      -> += dL/dθ, and dL/dx, dL/dẋ
 *
 * Every hidden layer is h = σ(a Wᵀ + b); the output layer uses `out_act`
 * (linear by default). Conditioning inputs are simply columns of x whose
 * direction ẋ is zero. Networks compose: the dL/dx of a head is the dL/dy of
 * the torso that produced part of its input.
 *
 * Memory: mlp_create allocates everything (parameters, gradients, the caches
 * of one forward pass for up to max_batch rows, backward scratch); forward and
 * backward never allocate. The mlp owns all of it; mlp_free releases it.
 * Pointers returned by the forward functions point into the mlp and stay
 * valid until the next forward call. Not thread-safe: one mlp per thread.
 *
 * Layouts are row-major. W of layer l is (sizes[l+1], sizes[l]) (out, in),
 * like torch.nn.Linear. All parameters live in one contiguous array
 * `params` (n_params) as W0, b0, W1, b1, ...; `grads` mirrors it, so an
 * optimizer, a target-network copy or a checkpoint sees one flat vector.
 * A noisy layer's σ follow its μ: W_l, b_l, σW_l, σb_l. The last layer of
 * a dueling network has mlp_layer_rows(L − 1) = (A + 1)·N rows.
 *
 * Convolutional front (optional, spec.conv): image inputs x (B, h·w·c) in
 * HWC order go first through spec.conv.n convolution layers (conv.h: k × k,
 * stride 1, valid padding, each followed by the hidden activation), whose
 * last output, flattened in HWC order, is the input of the dense layers
 * (sizes[0] = mlp_conv_out(&spec.conv)). For MinAtar's torso:
 *     x (B, 10·10·C) -> conv C->16, 3x3 -> relu -> (B, 8·8·16 = 1024)
 *                    -> dense 1024 -> 128 -> relu -> ...
 * Its kernels and biases come first in params: K0 (ch0, k·k·c), kb0 (ch0),
 * K1, kb1, ..., then W0, b0, ... Only mlp_forward and mlp_backward (dy and
 * dx) support it: an input-JVP through a conv front is not implemented, so
 * mlp_forward_jvp and mlp_forward_grouped abort on such a network (the field
 * losses that need them run on networks of return inputs, never on images).
 *
 * Dueling output (optional, spec.dueling = A, Wang et al. 2016): the output
 * (B, A·N) is A groups of N (an action's atoms, quantiles, coefficients;
 * N = sizes[L]/A). The last layer then has (A + 1)·N rows off the last
 * hidden layer, the advantage stream Adv (A·N rows, group-major like the
 * output) followed by the value stream V (N rows), and
 *     y[a, j] = V[j] + (Adv[a, j] − mean_a Adv[a, j])      per row, j < N.
 * The combine is linear, so tangents go through it too; the output
 * activation must be linear (a softmax or softplus is the caller's, on y).
 *
 * Noisy layers (optional, spec.noisy; Fortunato et al. 2018, factorised
 * Gaussian): every dense layer (not the conv front) holds μ_W, μ_b and
 * σ_W, σ_b, and with the noise on computes
 *     z = a (μ_W + σ_W ⊙ ε_W)ᵀ + μ_b + σ_b ⊙ ε_b,
 *     ε_W = f(ε_out) f(ε_in)ᵀ, ε_b = f(ε_out), f(x) = sgn(x) sqrt|x|,
 * ε_in (in), ε_out (rows) ~ N(0, 1) drawn by mlp_noise_sample. With the
 * noise off (the state after mlp_create) every forward uses μ alone: the
 * network is then exactly the mean network. Init: μ ~ U(±1/sqrt(p)),
 * σ = spec.noisy_sigma0/sqrt(p), p the fan-in.
 */
#ifndef BDRL_MLP_H
#define BDRL_MLP_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"
#include "core/rng.h"
#include "fields/conv.h"
#include "fields/real.h"

#define MLP_MAX_LAYERS 16
#define MLP_MAX_CONV 4

typedef enum {
    MLP_LINEAR = 0, /* σ(z) = z */
    MLP_TANH,
    MLP_SILU,       /* z·sigmoid(z) */
    MLP_SOFTPLUS,   /* log(1 + e^z) */
    MLP_RELU,       /* max(z, 0); σ' = 0 at 0 and σ'' = 0, so ẏ is piecewise linear */
    MLP_ACT_COUNT
} mlp_act;

/* The convolutional front; all 0 (n = 0) for a plain MLP. */
typedef struct {
    int n;                      /* conv layers, 0..MLP_MAX_CONV */
    int h, w, c;                /* the input image (HWC): n_in = h·w·c */
    int kernel;                 /* k: every layer's kernels are k × k (stride 1, valid padding) */
    int channels[MLP_MAX_CONV]; /* output channels of each layer */
} mlp_conv;

typedef struct {
    int n_layers;                  /* number of dense weight layers L, 1..MLP_MAX_LAYERS */
    int sizes[MLP_MAX_LAYERS + 1]; /* sizes[0] = n_in (or the conv front's output), ..., sizes[L] = n_out */
    mlp_act act;                   /* hidden layers (and conv layers) */
    mlp_act out_act;               /* output layer (MLP_LINEAR unless set) */
    mlp_conv conv;                 /* optional front; zeroed = none */
    int dueling;                   /* 0, or A >= 1: the output is A groups, value and advantage streams */
    int noisy;                     /* 1: every dense layer is a factorised Gaussian noisy layer */
    double noisy_sigma0;           /* σ0 of their initial σ = σ0/sqrt(fan_in); the init's, not a shape */
} mlp_spec;

typedef enum {
    /* LeCun-uniform U(±sqrt(3/fan_in)) for tanh/softplus/linear layers,
     * He-uniform U(±sqrt(6/fan_in)) for ReLU/SiLU layers; biases 0. */
    MLP_INIT_AUTO = 0,
    /* torch.nn.Linear's default: W and b ~ U(±1/sqrt(fan_in)). For baselines
     * that must match a PyTorch implementation (C51 as in CleanRL). */
    MLP_INIT_TORCH,
} mlp_init;

typedef struct mlp {
    mlp_spec spec;
    int max_batch;
    size_t n_params;
    real *params;   /* (n_params): W0 (s1, s0), b0 (s1), W1 (s2, s1), b1 (s2), ... */
    real *grads;    /* (n_params), same layout; backward accumulates here */
    real **W, **b;  /* [L] pointers into params */
    real **dW, **db;/* [L] pointers into grads */
    /* Forward caches. act[l] is (2*max_batch, sizes[l]): rows [0, B) hold
     * the layer's output h_l (act[0] = x), rows [B, 2B) its tangent ḣ_l in
     * JVP mode. d1[l] = σ'(z_l) (B, sizes[l]) and e[l] = σ''(z_l)·ż_l
     * (B, sizes[l]) for l = 1..L. */
    real **act, **d1, **e;
    real *g0, *g1;  /* backward scratch, (2*max_batch, max width) each */
    /* (max_batch, n_out) each, free for the caller: a loss can build dL/dy and
     * dL/dẏ here and pass them to mlp_backward without allocating. */
    real *dy, *dydot;
    int B;          /* rows of the last forward (0: none yet) */
    int jvp;        /* 1 if the last forward carried tangents */
    int per, ng;    /* last forward grouped (mlp_forward_grouped): rows per group, group columns; per 0: plain */
    /* The conv front, layers i < spec.conv.n (unused entries NULL):
     * geometry cg[i]; kernels K[i] (channels[i], k·k·c_i) and biases kb[i]
     * point into params, dK[i], dkb[i] into grads. Forward caches: col[i]
     * (max_batch·P_i, k·k·c_i) the im2col of the layer's input; ch[i]
     * (max_batch, P_i·channels[i]) its output (the last layer's is act[0]);
     * cd1[i] σ' of it. cdcol: backward scratch as large as the largest col. */
    conv_geom cg[MLP_MAX_CONV];
    real *K[MLP_MAX_CONV], *kb[MLP_MAX_CONV], *dK[MLP_MAX_CONV], *dkb[MLP_MAX_CONV];
    real *col[MLP_MAX_CONV], *ch[MLP_MAX_CONV], *cd1[MLP_MAX_CONV], *cdcol;
    /* Dueling (spec.dueling): zraw (2*max_batch, (A + 1)·N) the last
     * layer's [Adv, V] rows before the combine; dmean (N) scratch. */
    real *zraw, *dmean;
    /* Noisy (spec.noisy), per dense layer l (NULL otherwise): σ in params
     * (sW (rows, in), sb (rows)) and grads (dsW, dsb); f(ε_in) fin (in)
     * and f(ε_out) fout (rows) of the last draw; Weff (rows, in), beff
     * (rows) = μ + σ ⊙ ε, what a forward with the noise on uses. dscr
     * (max rows·in + rows): one layer's dL/dW_eff and dL/db_eff, which
     * the backward splits into dμ and dσ. */
    real **sW, **sb, **dsW, **dsb, **fin, **fout, **Weff, **beff, *dscr;
    int noise;      /* 1: forwards use the last draw (mlp_noise_sample), 0: μ */
    int fwd_noise;  /* whether the last forward used it (its backward does) */
    long draws;     /* mlp_noise_sample calls so far */
    long weff_draw; /* the draw Weff, beff were last built for; -1: none, or the parameters changed since */
} mlp;

/* Fills a spec from a 0-terminated list of int sizes, e.g.
 * mlp_spec_make(&s, MLP_TANH, 3, 5, 4, 2, 0) for 3 -> 5 -> 4 -> 2, with a
 * linear output (set s.out_act to change it). Returns -1 on a negative size,
 * fewer than 2 or more than MLP_MAX_LAYERS + 1 sizes; mlp_create checks the
 * rest and says what is wrong. */
int mlp_spec_make(mlp_spec *s, mlp_act act, ...);

/* A spec of the conv front *conv followed by dense layers of widths
 * dense[0..n_dense) after its flattened output (sizes[0] =
 * mlp_conv_out(conv)), hidden activation act, linear output. Returns -1
 * when conv has no layers or leaves no output, or n_dense is out of
 * 1..MLP_MAX_LAYERS; mlp_create checks the rest. */
int mlp_spec_make_conv(mlp_spec *s, mlp_act act, const mlp_conv *conv, int n_dense, const int *dense);

/* "linear", "tanh", "silu", "softplus", "relu". */
const char *mlp_act_name(mlp_act a);
int mlp_act_parse(const char *name, mlp_act *out, bdrl_err *e);

/* Allocates a network for batches of up to max_batch rows. With a non-NULL
 * rng the parameters are initialized with MLP_INIT_AUTO, else they are 0.
 * Gradients start at 0. */
mlp *mlp_create(const mlp_spec *spec, int max_batch, rng *init, bdrl_err *e);
void mlp_free(mlp *m);

void mlp_init_params(mlp *m, mlp_init kind, rng *r);
void mlp_zero_grad(mlp *m);

/* Width of the conv front's flattened output, oh·ow·channels of its last
 * layer (the first dense layer's input), or 0 if c has no layers or leaves
 * no output position (an image smaller than its kernels need). */
int mlp_conv_out(const mlp_conv *c);
/* Geometry of conv layer i of c (0 <= i < c->n). */
conv_geom mlp_conv_layer(const mlp_conv *c, int i);

static inline int mlp_n_in(const mlp *m)
{
    const mlp_conv *c = &m->spec.conv;
    return c->n ? c->h * c->w * c->c : m->spec.sizes[0];
}
static inline int mlp_n_out(const mlp *m) { return m->spec.sizes[m->spec.n_layers]; }

/* Rows of dense layer l's W: sizes[l + 1], and for the last layer of a
 * dueling network (A + 1)·N (the advantage and value streams). */
static inline int mlp_spec_layer_rows(const mlp_spec *s, int l)
{
    int out = s->sizes[l + 1];
    return l == s->n_layers - 1 && s->dueling > 0 ? out + out / s->dueling : out;
}
static inline int mlp_layer_rows(const mlp *m, int l) { return mlp_spec_layer_rows(&m->spec, l); }

/* Noisy layers: new noise ε_in, ε_out ~ N(0, 1) for every dense layer,
 * drawn from r in layer order (ε_in before ε_out), and the noise switched
 * on. Nothing is drawn for a network without noisy layers. */
void mlp_noise_sample(mlp *m, rng *r);
/* Switches the noise on (the last draw; zero before any) or off (μ). */
void mlp_noise_set(mlp *m, int on);

/* y = f(x). x (B, n_in), 1 <= B <= max_batch. Returns y (B, n_out), inside
 * the mlp. Caches what mlp_backward needs (without tangents).
 * Calling forward or backward outside their contracts (B out of range,
 * tangents without a JVP forward) is a programming error that would
 * overrun buffers: it aborts instead. */
const real *mlp_forward(mlp *m, int B, const real *x);

/* mlp_forward on new inputs with the weights of the last forward: for a
 * caller that knows the parameters did not change since (a second batch
 * through the same network within one update, e.g. double Q's online
 * forward on s' and then on s). A noisy network then skips rebuilding its
 * effective weights (W_eff = μ + σ ⊙ ε, as much work as a forward of a few
 * rows) if they were built for the current draw of the noise; otherwise,
 * and for every other network, it is mlp_forward. The results are
 * mlp_forward's bit for bit. Parameter changes through this module and
 * adam_step_mlp(s) are noticed (weff_draw); a caller that writes params
 * itself must use mlp_forward. */
const real *mlp_forward_again(mlp *m, int B, const real *x);

/* y = f(x) and ẏ = J(x)·ẋ, ẋ (B, n_in). Returns y (B, n_out); ẏ (B, n_out)
 * follows it in memory and is also mlp_ydot(m). */
const real *mlp_forward_jvp(mlp *m, int B, const real *x, const real *xdot);

/* The same y as mlp_forward on rows [xg[r / per], xr[r]] (r = 0..B-1),
 * for inputs whose leading ng columns are shared by groups of per
 * consecutive rows (a state embedding under many return points):
 *   xg (B / per, ng), xr (B, n_in − ng); per divides B, 0 < ng < n_in.
 * The first layer's group part xg W0[:, :ng]ᵀ is computed once per group,
 * so a row costs only its own n_in − ng columns there. No tangents. After
 * it, mlp_backward's dx is dL/dxg (B / per, ng), summed over each group's
 * rows (dL/dxr is not computed) and dydot, dxdot must be NULL. */
const real *mlp_forward_grouped(mlp *m, int B, int per, const real *xg, int ng, const real *xr);

/* Output and tangent of the last forward: y (B, n_out), ẏ (B, n_out). */
static inline const real *mlp_y(const mlp *m) { return m->act[m->spec.n_layers]; }
static inline const real *mlp_ydot(const mlp *m)
{
    return m->act[m->spec.n_layers] + (size_t)m->B * (size_t)mlp_n_out(m);
}

/* Backpropagates a loss L(y, ẏ) through the last forward pass (for a
 * grouped forward, see mlp_forward_grouped for dx).
 *   dy    (B, n_out) dL/dy, or NULL for 0
 *   dydot (B, n_out) dL/dẏ, or NULL for 0; non-NULL needs a JVP forward
 *   dx    (B, n_in)  written with dL/dx (total: through y and through ẏ), or NULL
 *   dxdot (B, n_in)  written with dL/dẋ, or NULL; needs a JVP forward
 * Parameter gradients are ADDED to m->grads (call mlp_zero_grad first). */
void mlp_backward(mlp *m, const real *dy, const real *dydot, real *dx, real *dxdot);

/* Target networks. Both require identical specs (returns -1 otherwise). */
int mlp_copy_params(mlp *dst, const mlp *src, bdrl_err *e);
/* dst ← (1 − tau)·dst + tau·src */
int mlp_polyak(mlp *dst, const mlp *src, double tau, bdrl_err *e);

/* Checkpoints: one network's spec, parameters and, optionally, its Adam
 * state in a small binary format (see mlp.c), written to / read from the
 * current position of f, so several networks can follow each other in one
 * file. A network with noisy layers or a dueling output is written as
 * version 3 (its conv front, possibly none, and the two flags after the
 * dense sizes); else one with a conv front as version 2 (its front's shape
 * after the dense sizes); a plain one as version 1, byte for byte what
 * earlier builds wrote. Loading checks magic, version, precision, shapes
 * (conv front, noisy and dueling included) and activations against m and a
 * checksum over everything; on any failure m and opt are left
 * unchanged and e says what was wrong. opt may be NULL on save (no optimizer
 * state written) and on load (a stored state is skipped); loading with opt
 * from a file without optimizer state fails. */
struct adam;
int mlp_save(const mlp *m, const struct adam *opt, FILE *f, bdrl_err *e);
int mlp_load(mlp *m, struct adam *opt, FILE *f, bdrl_err *e);

/* n networks in sequence, each with its optimizer state where opts[j] is not
 * NULL (opts itself may be NULL: none): an agent's online network, target
 * and average. Loading reads all of them into scratch copies first and
 * copies parameters and optimizer states into nets only once every one was
 * read, so on any failure all of them are left unchanged. */
int mlp_save_all(mlp *const *nets, struct adam *const *opts, int n, FILE *f, bdrl_err *e);
int mlp_load_all(mlp *const *nets, struct adam *const *opts, int n, FILE *f, bdrl_err *e);

/* mlp_load_all in two halves, for a file that holds more after the networks
 * (an agent's random streams) and must be read whole before anything
 * changes: mlp_stage_load reads the n networks into scratch copies held by
 * st (on failure st holds nothing and *bad, if not NULL, is the index of the
 * network that failed); mlp_stage_commit copies them into nets and opts;
 * mlp_stage_free releases st (after a commit, or instead of one). */
#define MLP_STAGE_MAX 16
typedef struct {
    int n;
    mlp *net[MLP_STAGE_MAX];
    struct adam *opt[MLP_STAGE_MAX];
} mlp_stage;
int mlp_stage_load(mlp_stage *st, mlp *const *nets, struct adam *const *opts, int n, FILE *f, int *bad,
                   bdrl_err *e);
void mlp_stage_commit(const mlp_stage *st, mlp *const *nets, struct adam *const *opts);
void mlp_stage_free(mlp_stage *st);

/* Bytes of one network of sizes[0..n_layers] for batches of max_batch rows:
 * parameters, gradients and forward/backward caches, not the optimizer (the
 * memory estimates of agents and fits, before anything is allocated). A
 * plain network: mlp_spec_memory_bytes counts the noisy and dueling parts. */
double mlp_memory_bytes(int n_layers, const int *sizes, int max_batch);
/* The same for a whole spec, conv front included (its parameters, im2col
 * buffers, caches and backward scratch), noisy layers' σ, noise and
 * effective weights, and a dueling output's value rows and buffers; and
 * the spec's parameter count (σ and the value stream included). */
double mlp_spec_memory_bytes(const mlp_spec *s, int max_batch);
double mlp_spec_params(const mlp_spec *s);

/* GEMM FLOPs (2·M·N·K per GEMM) of a forward of B rows, and with backward
 * set also of a backward without the input gradient (dW of every layer,
 * the adjoint of every layer's input but the network's own). */
double mlp_flops(const mlp_spec *s, int B, int backward);

#endif
