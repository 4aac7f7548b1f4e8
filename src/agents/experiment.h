/* experiment.h — the configuration of one training run (`bdrl train`,
 * `bdrl env`, sweeps): the typed struct and its schema (keys, defaults,
 * ranges, help). The schema is the single source of the configuration
 * reference (`bdrl config --schema`). Later agent sections add keys here.
 */
#ifndef BDRL_EXPERIMENT_H
#define BDRL_EXPERIMENT_H

#include <stdint.h>

#include "core/cfg.h"
#include "envs/env.h"
#include "stats/risk.h"

typedef enum { AGENT_CONTROL = 0, AGENT_EVALUATE = 1 } agent_mode;
typedef enum { TARGET_FIELDS = 0, TARGET_SAMPLES = 1 } bd_target_mode;
typedef enum { BD_GRAD_TARGET_GRADIENT = 0, BD_GRAD_TARGET_SCALAR = 1 } bd_grad_target;
typedef enum { BD_SCALAR_LINEAR = 0, BD_SCALAR_RELU = 1, BD_SCALAR_SOFTPLUS = 2 } bd_scalar_output;
typedef enum { BD_FIELD_BASIS = 0, BD_FIELD_GRID = 1 } bd_field_form;
typedef enum { BD_READOUT_ATOMS = 0, BD_READOUT_DENSITY = 1 } bd_readout;
typedef enum { TRAIN_NONFINITE_STOP = 0, TRAIN_NONFINITE_SKIP = 1 } train_nonfinite;

#define EXP_MAX_HIDDEN 8
#define EXP_MAX_CONV 4 /* agent.conv layers (MLP_MAX_CONV) */
/* The largest train.total_steps and train.buffer_size the schema accepts
 * (a checkpoint's header is checked against them too). */
#define EXP_MAX_TOTAL_STEPS 1000000000000LL
#define EXP_MAX_BUFFER_SIZE 1000000000LL

/* A list of layer widths, e.g. [120, 84]. */
typedef struct {
    int n;
    int w[EXP_MAX_HIDDEN];
} exp_widths;

typedef struct {
    int64_t seed;
    env_config env;        /* env.*; map rows and kind are filled by the schema */
    int map_size;          /* env.map_size (random maps) */
    int64_t map_seed;      /* env.map_seed; -1 = use `seed` */
    struct {
        int kind;          /* index in the agent registry (registry.h) */
        double gamma;
        int mode;          /* agent_mode: control (argmax) or evaluate a fixed policy */
        int policy;        /* evaluate: 0 = optimal (FrozenLake value iteration) */
        double behaviour_eps; /* evaluate: behaviour ε-greedy around the policy (1 = uniform) */
        exp_widths conv;   /* the shared torso's conv layers before agent.hidden: output channels; n 0 = none */
        int conv_kernel;   /* their k x k kernels */
        exp_widths hidden; /* the shared torso: hidden widths */
        int activation;    /* mlp_act of the torso */
        double lr;
        double adam_eps;
        double v_min, v_max;   /* return range [v_min, v_max] */
        double eps_kernel; /* BD: kernel variance ε in normalized return units */
        double ema;        /* decay of the reported networks' moving average; 0 = off */
        risk_spec risk;    /* what ranks actions in acting and greedy evaluation (agent.h) */
        int risk_target;   /* 1: the Bellman target's a* by risk too */
        /* Components (Rainbow's; each off by default): */
        int n_step;        /* N-step returns: rewards summed with γ^k, bootstrap with γ^N */
        int double_q;      /* agent.double: the target's a* from the online network */
        int dueling;       /* value and advantage streams, advantages centred per action */
        int noisy;         /* factorised Gaussian noisy linear layers instead of ε-greedy */
        double noisy_sigma0; /* their initial σ0 (σ = σ0/sqrt(fan_in)) */
    } agent;
    struct {
        int atoms;
    } c51;
    struct {
        int loss;              /* dqn_loss_kind: huber (κ = 1) or mse */
    } dqn;
    struct {
        int quantiles;         /* N quantile outputs per action, at midpoints τ_i = (2i − 1)/2N */
        double kappa;          /* quantile Huber threshold κ; 0 = plain quantile loss */
    } qrdqn;
    struct {
        int n, n_prime, k;     /* τ samples: online N, target N′, for a* (and acting's midpoints) K */
        int embedding;         /* cosine features of τ */
        double kappa;
        int law_points;        /* the reported law: quantiles at this many midpoints */
    } iqn;
    struct {
        int field;             /* bd_field_form: a fixed basis of u, or a head on [embedding, features(u)] */
        int basis;             /* basis: K Gaussian bumps, centres evenly over u in [-1, 1] */
        double basis_width;    /* basis: bump sd in units of the centres' spacing */
        int readout;           /* bd_readout (basis): the law as coefficient atoms or as the density */
        int grid;              /* G points on [-1-m, 1+m] for Q and the distribution */
        int query_grid;        /* points of the query law's grid at s; 0 = grid */
        double grid_margin;    /* m */
        int fourier_k;
        exp_widths head;       /* the light head on [embedding, features(u)] */
        int queries;           /* query points per transition */
        double query_uniform;  /* share of them uniform over the grid range */
        int target_mode;       /* bd_target_mode */
        double lambda_grad;    /* weight of the gradient-field regression */
        double mass_floor;     /* lower clamp of the next-state field's grid mass */
        int clamp_target;      /* targets from max(s⁻, 0) (else the signed field) */
        int grad_target;       /* bd_grad_target: what ∂p_T bootstraps from */
        int scalar_output;     /* bd_scalar_output: the scalar head's output activation */
        double jitter;         /* variance ε_j of the target argument's jitter; 0 = off */
        double out_scale;      /* output scale; 0 = 0.25/sqrt(2π ε) */
    } bd;
    struct {
        int prioritized;        /* proportional prioritized replay (Schaul et al. 2016) */
        double alpha;           /* priority exponent: P(i) ∝ p_i^α */
        double beta;            /* importance-weight exponent at the start, annealed to 1 */
        int64_t beta_steps;     /* steps over which β reaches 1; 0 = train.total_steps, recorded when a run starts */
        double eps;             /* p_i = loss_i + eps */
    } replay;
    struct {
        int64_t total_steps;
        int batch_size;
        int64_t buffer_size;
        int64_t learning_starts;
        int train_frequency;
        int gradient_steps;     /* updates in a row at each update step (SB3's gradient_steps) */
        int64_t target_update;  /* hard copy every N environment steps (tau = 1) */
        double tau;             /* Polyak factor per target update; 1 = hard copy */
        double eps_start, eps_end;
        double eps_fraction;    /* share of total_steps over which ε decays linearly */
        int64_t eps_decay_steps; /* steps over which ε decays; 0 = eps_fraction x total_steps
                                    (exp_eps_decay_steps), recorded when a run starts */
        double clip;            /* gradient-norm clip; 0 = off */
        int64_t checkpoint_interval;
        int64_t checkpoint_seconds;
        int nonfinite;          /* train_nonfinite: what a non-finite update does */
    } train;
    struct {
        int64_t interval;
        int episodes;
        double epsilon;         /* evaluation's ε-greedy: a random action with this probability a step; 0 = greedy */
        double threshold;       /* -1e300 = the environment's default (exp_threshold) */
        int sample_walkers;     /* BD: BDD samples per (state, action) in bdrl eval */
        int stop_at_threshold;  /* end the run (status solved) at the first evaluation >= threshold */
    } eval;
    struct {
        char dir[1024];
    } output;
} exp_config;

extern const cfg_schema exp_schema;

/* The evaluation threshold of the config's environment (eval.threshold if
 * set, else the environment's default: Gymnasium's reward_threshold on the
 * mean return, CartPole 475, Acrobot -100, MountainCar -110; FrozenLake 0.7,
 * a success rate; NaN for a plugin, which has no default: no steps to
 * threshold). */
double exp_threshold(const exp_config *cfg);

/* The steps over which ε decays: train.eps_decay_steps, or when that is 0,
 * eps_fraction x total_steps rounded to whole steps (at least 1 when
 * eps_fraction > 0: any length in (0, 1] gives the same schedule). A run
 * records it in its config.yaml when it starts (exp_record_eps_decay), so
 * a larger train.total_steps on resume does not change ε mid-run. */
int64_t exp_eps_decay_steps(const exp_config *cfg);
/* Sets train.eps_decay_steps to exp_eps_decay_steps(cfg). */
void exp_record_eps_decay(exp_config *cfg);

/* The steps over which prioritized replay's β reaches 1:
 * replay.beta_steps, or when that is 0, train.total_steps. A run records it
 * in its config.yaml when it starts (exp_record_beta_steps), as it does ε's
 * decay length, so a larger train.total_steps on resume does not change β
 * mid-run. */
int64_t exp_beta_steps(const exp_config *cfg);
/* Sets replay.beta_steps to exp_beta_steps(cfg). */
void exp_record_beta_steps(exp_config *cfg);

/* Defaults, then the YAML file (may be NULL), then the overrides, then the
 * cross-key checks; fills cfg->env completely (random map size and seed). */
int exp_load(exp_config *cfg, const char *path, char *const *sets, int n_sets, bdrl_err *e);

#endif
