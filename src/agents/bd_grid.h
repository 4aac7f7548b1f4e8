/* bd_grid.h — the Bellman Diffusion agent on a grid (bd.field grid; docs/design.md
 * §1.4): the paper's recipe, kept as the reference the README's verdicts
 * and bench/bench_agents compare the shipped basis agent (bd.h) with. It
 * shares only bd_common.h with that agent; agent_bd_create (bd.c) creates
 * it for bd.field grid.
 *
 * Per state and action it learns the density of the normalized return
 * u = (x − c)/h (c, h: centre and half-width of [v_min, v_max]) with a scalar
 * field s_ψ(u; s) ∈ R^|A| and its u-derivative with a gradient field
 * g_φ(u; s) ∈ R^|A|. Each field is its own network, trained on its own loss:
 *
 *   torso  (the shared-shape state torso, torso.h) : encoded obs -> emb (E)
 *   head   MLP([emb, fourier(u)]) -> |A| outputs, times an output scale
 *          (s: bd.out_scale or 0.25/sqrt(2π ε); g: that over sqrt(ε), the
 *          size of a kernel's derivative relative to its height)
 *
 * The torso runs once per state and only the light head sees (state, u)
 * rows, so the G-point grid behind Q values costs a fraction of a full pass
 * per point. Forward-only evaluations (grids, target fields, the sampler) go
 * through a path that projects the embedding once per state; training goes
 * through mlp_forward/mlp_backward and sends the head's dL/d(emb) into the
 * torso.
 *
 * An update (target mode `fields`, the linear Bellman operator):
 *   - target torsos on s and s'; the target scalar head on the grid
 *     u_1..u_G over [−1−m, 1+m] at s (query law) and at s' (argmax a' unless
 *     the batch gives next_action, and the grid mass of s⁻₊(·; s', a'));
 *     agent.double takes a' from the ONLINE scalar field's grid Q at s'
 *     instead (the target field is still what the transition bootstraps
 *     from);
 *   - Q query points per transition: round(Q·bd.query_uniform) uniform over
 *     the grid range, the rest by inverse CDF of the target's normalized
 *     s⁻₊(·; s, a) on the grid (cells around the grid points), drawn from the
 *     agent's own query stream — never from anything about s', so their law
 *     is the same for every outcome of the transition;
 *   - jitter (bd.jitter > 0): v = u − ξ, ξ ~ N(0, ε_j), else v = u;
 *   - targets at v: terminal N(v; u_r, ε) and −(v − u_r)/ε · N(v; u_r, ε),
 *     u_r = (r − c)/h; otherwise with w = (v − b)/γ, b = (r − (1 − γ)c)/h
 *     (γ: the transition's discount, γ^m after an m-step reward; agent.gamma
 *     without one),
 *       p_T = γ^{-1} max(s⁻(w; s', a'), 0) / max(mass, bd.mass_floor),
 *       ∂p_T = γ^{-2} g⁻(w; s', a') / max(mass, bd.mass_floor)
 *     (∂p_T is 0 where s⁻(w) <= 0: the derivative of the clamped field),
 *     both 0 where w is outside [−1−m, 1+m];
 *   - loss_s = mean over B·Q rows of (s_ψ(u)[a] − p_T)², loss_g the same for
 *     g_φ against ∂p_T times bd.lambda_grad, each row weighted by its
 *     transition's importance weight when the batch has them; one Adam step
 *     per network (torso and head clipped jointly at train.clip). A
 *     transition's sample_loss is its rows' mean of the scalar terms.
 * bd.grad_target scalar replaces g⁻(w) in ∂p_T by the central difference
 * (s⁻(w + δ/2) − s⁻(w − δ/2))/δ of the scalar target field (δ = BD_FD_STEP;
 * p_T then reads s⁻(w) as the mean of the same two values, so the target
 * head runs twice per query point, not three times):
 * bootstrapping g from g⁻ alone leaves components of g that are not the
 * derivative of s undamped (their gain per backup is about γ^{-2} times the
 * continuation probability, which the mass normalization of s does not
 * touch), so g regresses onto the derivative of the s iteration instead.
 * Target mode `samples` replaces p_T, ∂p_T of a non-terminal transition by
 * the average over Q draws u'_m ~ s⁻₊(·; s', a') (grid inverse CDF, the
 * target stream) of N(v; γu'_m + b, ε) and its v-derivative, times
 * mass/max(mass, floor). The query points are still drawn as above, so each
 * kernel pairs a query point with a target sample that is independent of it
 * (never two samples of one transition's own target).
 *
 * agent.ema = d > 0: after every update each field's torso and head are
 * averaged into a copy, avg <- d avg + (1 − d) online, and the agent's
 * reported law (distribution, the sampler) reads the copy; acting (Q) and
 * targets use the online and target networks as without it.
 *
 * Q(s, a) = c + h Σ_k u_k s₊(u_k) / Σ_k s₊(u_k) (0 mass: Q = c). agent_stats:
 * loss = loss_s, loss_grad = loss_g (λ included), q_mean = mean Q of the
 * TARGET scalar field at the batch's (s, a) (it is computed anyway for the
 * query law; the online value would cost another grid pass), grad_norm = the
 * scalar network's joint torso+head norm before clipping.
 *
 * Memory: everything is allocated at create for train.batch_size
 * transitions (bd.queries rows each, bd.grid grid points); update, q_values
 * and distribution never allocate. Larger q_values batches are processed in
 * chunks; an update batch larger than train.batch_size is an error. The agent
 * owns its networks, target copies, optimizers, two random streams (query
 * points; jitter and target samples, both derived from `init` at create and
 * saved in checkpoints) and all scratch. The scratch buffers are one table
 * of sizes from the configuration alone (bd_grid.c's scratch_table,
 * scratch.h): it drives their allocation, their release and the memory
 * estimate's scratch part (bd_grid_scratch_bytes), and leaves out the
 * buffers the configured bd.target_mode and bd.grad_target never read.
 */
#ifndef BDRL_BD_GRID_H
#define BDRL_BD_GRID_H

#include <stdint.h>

#include "agents/agent.h"
#include "agents/bd_common.h"
#include "agents/sizing.h"
#include "fields/mlp.h"

/* Called by agent_bd_create (bd.c) for bd.field grid. */
agent *agent_bd_grid_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e);

/* The memory estimate of agent_class (registry.h) for bd.field grid. */
const char *bd_grid_memory(const exp_config *cfg, const env *en, sizing_estimate *out, double *params);

/* Sampling (agent_sample, agent_sampler_defaults in agent.h): the default
 * sampler is docs/design.md §1.4's "Sampling learned fields": Metropolis-adjusted
 * BDD, η = 0.02 ε (u units), 1000 steps, a global independence move every
 * 10 steps, walkers starting uniform over the grid range (the sampler, not
 * the grid, has to find the mode weights). Samples come from the online
 * fields in u units inside the sampler, returned in return units; the
 * sampler's box is replaced by the grid range [−1−m, 1+m] (the fields are
 * taken to be 0 outside it, as in src/gen/fit.c) and grid_points
 * (grid_icdf start) defaults to bd.grid when below 2. describe (agent.h):
 * networks, parameter counts, grid and target mode. */

/* ---- settings and the pure pieces of the targets (tested on their own) ---- */

/* The grid agent's own settings beside the shared geometry (bd_common.h). */
typedef struct {
    double eps, jitter;    /* agent.eps_kernel, bd.jitter */
    int clamp_target;      /* bd.clamp_target */
    int grad_from_scalar;  /* bd.grad_target scalar: ∂p_T from the scalar target net */
    double out_scale_s, out_scale_g;
    int queries, n_uniform; /* per transition; uniform ones come first */
    int target_mode;       /* bd_target_mode */
} bd_grid_settings;

/* The agent's geometry and settings (either may be NULL). */
void bd_grid_get_geometry(const agent *a, bd_geometry *g, bd_grid_settings *s);

/* Step of the central difference behind bd.grad_target scalar (u units):
 * far below the kernel width sqrt(ε) and far above float rounding of s. */
#define BD_FD_STEP 1e-3

/* Grid values x_k = scale · s[k · stride] (k < G; scale > 0) at
 * u_k = lo + k (hi − lo)/(G − 1), e.g. one action's column of a (G, A)
 * block of head outputs with stride A: returns the mean Σ u_k x₊_k / Σ x₊_k
 * (u units; (lo + hi)/2 if the mass is 0), writes the grid mass du Σ x₊_k
 * to *mass and the running sums Σ_{j<=k} x₊_j to cum (G) (either may be
 * NULL). The grid agent's Q values, query law, a', next-state mass, target
 * samples and reported mass all go through it (bd_grid_targets.c holds
 * these pure pieces; the agent calls them, so what is tested is what runs). */
double bd_grid_mean(int G, double lo, double hi, const real *s, int stride, double scale, double *mass,
                    double *cum);

/* The first k in [0, n) with cum[k] > x (n − 1 if none), cum
 * non-decreasing: the bin a uniform draw x in [0, cum[n−1]) falls into.
 * Behind bd_grid_icdf. */
int bd_grid_cum_index(int n, const double *cum, double x);

/* Inverse CDF of the cell law of s₊ on the grid (cell k = [u_k − du/2,
 * u_k + du/2] with weight s₊_k, as stat_dist_grid reads a grid density):
 * cum (G) are the running sums of s₊ (cum[G−1] > 0), U in [0, 1). */
double bd_grid_icdf(int G, double lo, double hi, const double *cum, double U);

/* Terminal targets at v (n): t = N(v; u_r, ε), dt = −(v − u_r)/ε · t. */
void bd_grid_target_terminal(int n, const double *v, double u_r, double eps, double *t, double *dt);

/* Bootstrapped targets at v (n), given the next-state target fields at
 * w_i = (v_i − b)/γ evaluated by the caller: s_next, g_next (n; unread where
 * w_i is outside [lo, hi]) and the grid mass at (s', a') (of s⁻₊ if clamp,
 * else of the signed s⁻):
 *   clamp = 0:  t = γ^{-1} s_next / max(mass, floor),
 *               dt = γ^{-2} g_next / max(mass, floor);
 *   clamp = 1:  t = γ^{-1} max(s_next, 0) / max(mass, floor),
 *               dt as above where s_next > 0, else 0;
 * both 0 where w_i is outside [lo, hi]. */
void bd_grid_target_bootstrap(int n, const double *v, double b, double gamma, double lo, double hi,
                              const double *s_next, const double *g_next, double mass, double floor,
                              int clamp, double *t, double *dt);

/* Kernel targets (target mode samples) at v (n) from m target samples x2:
 * t_i = weight/m Σ_j N(v_i; x2_j, ε), dt_i its v-derivative. */
void bd_grid_target_kernel(int n, const double *v, int m, const double *x2, double weight, double eps,
                           double *t, double *dt);

/* ---- introspection, for tests and diagnostics ---- */

/* Bytes of the scratch buffers agent_bd_grid_create allocates for cfg on en
 * (the memory estimate's scratch part; the same table drives both). */
double bd_grid_scratch_bytes(const exp_config *cfg, const env *en);

/* The networks: part 0 = torso, 1 = head; target 0 = online, 1 = target,
 * 2 = the moving average the agent reports from (NULL when agent.ema is 0).
 * Writing their parameters is allowed (tests set known functions). */
mlp *bd_grid_net(agent *a, bd_field f, int part, int target);

/* Re-seeds the agent's query and target streams as if created with it. */
void bd_grid_reseed(agent *a, uint64_t seed);

/* Exactly what update would regress onto for batch b, without training:
 * query points u (B·Q), targets t, dt (B·Q) and the next actions (B; −1 for
 * terminal transitions). Consumes the agent's random streams like update.
 * Any output may be NULL. */
int bd_grid_debug_targets(agent *a, const agent_batch *b, double *u, double *t, double *dt,
                          int *next_action, bdrl_err *e);

/* The fields at one observation and n points u (u units): s, g (n, A) after
 * the output scales (not clamped, not zeroed outside the grid); reported
 * (target 0: the moving average if agent.ema > 0, else online) or target (1)
 * networks; s or g may be NULL. `reference` 1 runs
 * the heads through mlp_forward on [emb, fourier(u)] instead of the fast
 * path (tests compare the two). */
int bd_grid_eval_fields(agent *a, const float *obs, int target, int reference, int n, const double *u,
                        double *s, double *g, bdrl_err *e);

#endif
