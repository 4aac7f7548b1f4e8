/* truth.c — exact return laws, value iteration and policy evaluation on any
 * environment's transition table (FrozenLake, CliffWalking, tabular plugins), and Monte
 * Carlo returns from a chosen state (CartPole's probe states). */
#include "truth/truth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VI_TOL 1e-14          /* sweeps stop when no value moves by more (relative to max(1, |V|)) */
#define VI_MAX_SWEEPS 1000000L
#define MERGE_TOL 1e-12       /* relative: returns this close are one atom */
#define MAX_ENTRIES (1 << 22) /* (state, return so far) pairs alive at one step */

int truth_tab_is_terminal(const env_table *t, int s)
{
    return s >= 0 && s < t->n_states && t->terminal[s];
}

static int check_gamma(double gamma, bdrl_err *e)
{
    if (!(gamma >= 0 && gamma <= 1))
        return err_set(e, "discount factor %g is outside [0, 1]", gamma);
    return 0;
}

/* Q(s, a) = sum_outcomes p (r + γ (1 - terminated) v(s')). */
static double backup(const env_table *t, double gamma, const double *v, int s, int a)
{
    double q = 0;
    int n = t->n_outcomes[s * t->n_actions + a];
    for (int k = 0; k < n; k++) {
        const env_outcome *o = &t->outcomes[(size_t)(s * t->n_actions + a) * (size_t)t->max_outcomes + (size_t)k];
        q += o->prob * (o->reward + (o->terminated ? 0.0 : gamma * v[o->next_state]));
    }
    return q;
}

/* Lowest action whose value is within TRUTH_TIE_TOL of the best: mathematically
 * tied actions (FrozenLake's symmetric cells) come out a few ulps apart. */
static int argmax_ties_low(const double *q, int n)
{
    double best = q[0];
    for (int a = 1; a < n; a++)
        if (q[a] > best)
            best = q[a];
    double tol = TRUTH_TIE_TOL * fmax(1.0, fabs(best));
    for (int a = 0; a < n; a++)
        if (q[a] >= best - tol)
            return a;
    return 0;
}

/* Iterates v <- T v (optimal if policy == NULL, else T^π) until no value moves
 * by more than VI_TOL. */
static int iterate_values(const env_table *t, double gamma, const int *policy, double *v, bdrl_err *e)
{
    int S = t->n_states, A = t->n_actions;
    double *nv = err_malloc(sizeof(double) * (size_t)S, e);
    if (!nv)
        return -1;
    for (int s = 0; s < S; s++)
        v[s] = 0;
    for (long it = 0; it < VI_MAX_SWEEPS; it++) {
        double delta = 0, scale = 1;
        for (int s = 0; s < S; s++) {
            if (truth_tab_is_terminal(t, s)) {
                nv[s] = 0;
                continue;
            }
            double best;
            if (policy)
                best = backup(t, gamma, v, s, policy[s]);
            else {
                best = -INFINITY;
                for (int a = 0; a < A; a++) {
                    double q = backup(t, gamma, v, s, a);
                    if (q > best)
                        best = q;
                }
            }
            nv[s] = best;
            delta = fmax(delta, fabs(best - v[s]));
            scale = fmax(scale, fabs(best));
        }
        memcpy(v, nv, sizeof(double) * (size_t)S);
        if (!isfinite(delta)) {
            free(nv);
            return err_set(e, "value iteration diverged");
        }
        if (delta <= VI_TOL * scale) {
            free(nv);
            return 0;
        }
    }
    free(nv);
    return err_set(e, "value iteration did not converge in %ld sweeps (γ = %g: does any policy end "
                      "the episodes?)", VI_MAX_SWEEPS, gamma);
}

static void fill_q(const env_table *t, double gamma, const double *v, double *q)
{
    for (int s = 0; s < t->n_states; s++)
        for (int a = 0; a < t->n_actions; a++)
            q[s * t->n_actions + a] = truth_tab_is_terminal(t, s) ? 0.0 : backup(t, gamma, v, s, a);
}

int truth_tab_value_iteration(const env_table *t, double gamma, double *v, double *q, int *policy,
                             bdrl_err *e)
{
    if (check_gamma(gamma, e))
        return -1;
    int S = t->n_states, A = t->n_actions;
    double *vv = err_malloc(sizeof(double) * (size_t)S, e);
    double *qq = err_malloc(sizeof(double) * (size_t)S * (size_t)A, e);
    int rc = -1;
    if (!vv || !qq || iterate_values(t, gamma, NULL, vv, e))
        goto done;
    fill_q(t, gamma, vv, qq);
    if (v)
        memcpy(v, vv, sizeof(double) * (size_t)S);
    if (q)
        memcpy(q, qq, sizeof(double) * (size_t)S * (size_t)A);
    if (policy)
        for (int s = 0; s < S; s++)
            policy[s] = truth_tab_is_terminal(t, s) ? 0 : argmax_ties_low(qq + s * A, A);
    rc = 0;
done:
    free(vv);
    free(qq);
    return rc;
}

static int check_policy(const env_table *t, const int *policy, bdrl_err *e)
{
    for (int s = 0; s < t->n_states; s++)
        if (policy[s] < 0 || policy[s] >= t->n_actions)
            return err_set(e, "policy: action %d in state %d is not in [0, %d)", policy[s], s,
                           t->n_actions);
    return 0;
}

int truth_tab_policy_eval(const env_table *t, double gamma, const int *policy, double *v, double *q,
                         bdrl_err *e)
{
    if (check_gamma(gamma, e) || check_policy(t, policy, e))
        return -1;
    double *vv = err_malloc(sizeof(double) * (size_t)t->n_states, e);
    if (!vv || iterate_values(t, gamma, policy, vv, e)) {
        free(vv);
        return -1;
    }
    if (q)
        fill_q(t, gamma, vv, q);
    if (v)
        memcpy(v, vv, sizeof(double) * (size_t)t->n_states);
    free(vv);
    return 0;
}

/* The extreme returns of (s, a): over its outcomes, r + γ (1 - terminated) v(s'). */
static void extreme_backup(const env_table *t, double gamma, const double *vmin, const double *vmax, int s, int a,
                           double *qmin, double *qmax)
{
    size_t sa = (size_t)s * t->n_actions + a;
    *qmin = INFINITY;
    *qmax = -INFINITY;
    for (int k = 0; k < t->n_outcomes[sa]; k++) {
        const env_outcome *o = &t->outcomes[sa * (size_t)t->max_outcomes + (size_t)k];
        if (o->prob <= 0)
            continue; /* a path of probability 0 is not attained */
        double go = o->terminated ? 0.0 : gamma;
        *qmin = fmin(*qmin, o->reward + go * vmin[o->next_state]);
        *qmax = fmax(*qmax, o->reward + go * vmax[o->next_state]);
    }
}

int truth_tab_return_range(const env_table *t, double gamma, double *lo, double *hi, bdrl_err *e)
{
    if (check_gamma(gamma, e))
        return -1;
    int S = t->n_states, A = t->n_actions;
    double *v = err_calloc(4 * (size_t)S, sizeof(double), e);
    if (!v)
        return -1;
    double *vmin = v, *vmax = v + S, *nmin = v + 2 * S, *nmax = v + 3 * S;
    int rc = -1;
    for (long it = 0; it < VI_MAX_SWEEPS && rc; it++) {
        double delta = 0, scale = 1;
        for (int s = 0; s < S; s++) {
            nmin[s] = nmax[s] = 0;
            if (truth_tab_is_terminal(t, s))
                continue;
            nmin[s] = INFINITY;
            nmax[s] = -INFINITY;
            for (int a = 0; a < A; a++) {
                double qmin, qmax;
                extreme_backup(t, gamma, vmin, vmax, s, a, &qmin, &qmax);
                nmin[s] = fmin(nmin[s], qmin);
                nmax[s] = fmax(nmax[s], qmax);
            }
            delta = fmax(delta, fmax(fabs(nmin[s] - vmin[s]), fabs(nmax[s] - vmax[s])));
            scale = fmax(scale, fmax(fabs(nmin[s]), fabs(nmax[s])));
        }
        memcpy(vmin, nmin, sizeof(double) * (size_t)S);
        memcpy(vmax, nmax, sizeof(double) * (size_t)S);
        if (!isfinite(delta) || scale > 1e300)
            break;
        if (delta <= VI_TOL * scale)
            rc = 0;
    }
    if (rc) {
        free(v);
        return err_set(e, "the returns are unbounded (γ = %g and a cycle of states that collects rewards)", gamma);
    }
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int s = 0; s < S; s++)
        for (int a = 0; a < A && !truth_tab_is_terminal(t, s); a++) {
            double qmin, qmax;
            extreme_backup(t, gamma, vmin, vmax, s, a, &qmin, &qmax);
            *lo = fmin(*lo, qmin);
            *hi = fmax(*hi, qmax);
        }
    free(v);
    if (*lo > *hi) /* every state terminal: nothing is learned, the return is 0 */
        *lo = *hi = 0;
    return 0;
}

/* ---- exact return laws ---- */

typedef struct {
    int s;
    double g; /* return collected so far */
    double p;
} walker;

typedef struct {
    walker *w;
    size_t n, cap;
} walkers;

typedef struct {
    double v, p;
} atom;

typedef struct {
    atom *a;
    size_t n, cap;
} atoms;

static int push_walker(walkers *W, int s, double g, double p, bdrl_err *e)
{
    if (W->n == W->cap) {
        size_t cap = W->cap ? 2 * W->cap : 64;
        if (cap > MAX_ENTRIES)
            return err_set(e, "exact return law: more than %d distinct (state, return) pairs at one "
                              "step (a reward schedule with too many distinct sums)", MAX_ENTRIES);
        walker *nw = realloc(W->w, cap * sizeof *nw);
        if (!nw)
            return err_set(e, "out of memory");
        W->w = nw;
        W->cap = cap;
    }
    W->w[W->n++] = (walker){s, g, p};
    return 0;
}

static int push_atom(atoms *A, double v, double p, bdrl_err *e)
{
    if (A->n == A->cap) {
        size_t cap = A->cap ? 2 * A->cap : 64;
        atom *na = realloc(A->a, cap * sizeof *na);
        if (!na)
            return err_set(e, "out of memory");
        A->a = na;
        A->cap = cap;
    }
    A->a[A->n++] = (atom){v, p};
    return 0;
}

static int close_returns(double a, double b)
{
    return fabs(a - b) <= MERGE_TOL * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static int cmp_walker(const void *pa, const void *pb)
{
    const walker *a = pa, *b = pb;
    if (a->s != b->s)
        return a->s < b->s ? -1 : 1;
    return (a->g > b->g) - (a->g < b->g);
}

static int cmp_atom(const void *pa, const void *pb)
{
    const atom *a = pa, *b = pb;
    return (a->v > b->v) - (a->v < b->v);
}

/* Sorts by (state, g) and merges pairs with the same state and close g. With
 * a reward that depends only on the cell entered, every path reaching s at
 * step t has the same g, so at most n_states pairs stay alive. */
static void merge_walkers(walkers *W)
{
    if (W->n < 2)
        return;
    qsort(W->w, W->n, sizeof *W->w, cmp_walker);
    size_t k = 0;
    for (size_t i = 1; i < W->n; i++) {
        walker *last = &W->w[k];
        if (W->w[i].s == last->s && close_returns(W->w[i].g, last->g))
            last->p += W->w[i].p;
        else
            W->w[++k] = W->w[i];
    }
    W->n = k + 1;
}

static double max_abs_reward(const env_table *t)
{
    double m = 0;
    for (int i = 0; i < t->n_states * t->n_actions; i++)
        for (int k = 0; k < t->n_outcomes[i]; k++)
            m = fmax(m, fabs(t->outcomes[(size_t)i * (size_t)t->max_outcomes + (size_t)k].reward));
    return m;
}

int truth_tab_match_outcome(const env_table *t, int s, int a, int next_state, double reward, int terminated)
{
    if (s < 0 || s >= t->n_states || a < 0 || a >= t->n_actions)
        return -1;
    size_t sa = (size_t)s * t->n_actions + a;
    for (int k = 0; k < t->n_outcomes[sa]; k++) {
        const env_outcome *o = &t->outcomes[sa * (size_t)t->max_outcomes + k];
        /* in single precision: the replay buffer stores rewards as floats */
        if (o->next_state == next_state && (float)o->reward == (float)reward && !o->terminated == !terminated)
            return k;
    }
    return -1;
}

int truth_tab_empirical(const env_table *t, const int64_t *counts, env_table *out, int64_t *fewest, bdrl_err *e)
{
    int S = t->n_states, A = t->n_actions;
    const size_t M = (size_t)t->max_outcomes;
    *out = *t;
    out->n_outcomes = err_calloc((size_t)S * A, sizeof(int), e);
    out->outcomes = err_calloc((size_t)S * A * M, sizeof(env_outcome), e);
    out->terminal = err_malloc((size_t)S, e);
    if (!out->n_outcomes || !out->outcomes || !out->terminal) {
        truth_tab_table_free(out);
        return -1;
    }
    int64_t least = INT64_MAX;
    for (int s = 0; s < S; s++)
        for (int a = 0; a < A; a++) {
            size_t sa = (size_t)s * A + a;
            const int64_t *c = counts + sa * M;
            int64_t n = 0;
            for (size_t k = 0; k < M; k++) {
                if (c[k] && (int)k >= t->n_outcomes[sa]) {
                    truth_tab_table_free(out);
                    return err_set(e, "(%d, %d): %lld observations of outcome %zu, which this table does not have",
                                   s, a, (long long)c[k], k);
                }
                n += c[k];
            }
            int terminal = truth_tab_is_terminal(t, s);
            if (!terminal && n < least)
                least = n;
            if (terminal || n == 0) {
                out->n_outcomes[sa] = t->n_outcomes[sa];
                memcpy(out->outcomes + sa * M, t->outcomes + sa * M, M * sizeof(env_outcome));
                continue;
            }
            int kk = 0;
            for (int k = 0; k < t->n_outcomes[sa]; k++) {
                if (!c[k])
                    continue;
                env_outcome *o = &out->outcomes[sa * M + kk++];
                *o = t->outcomes[sa * M + k];
                o->prob = (double)c[k] / (double)n;
            }
            out->n_outcomes[sa] = kk;
        }
    /* the data keep terminal states terminal (their outcomes are t's) */
    memcpy(out->terminal, t->terminal, (size_t)S);
    if (fewest)
        *fewest = least == INT64_MAX ? 0 : least;
    return 0;
}

void truth_tab_table_free(env_table *t)
{
    free(t->n_outcomes);
    free(t->outcomes);
    free(t->terminal);
    t->n_outcomes = NULL;
    t->outcomes = NULL;
    t->terminal = NULL;
}

int truth_tab_distribution(const env_table *t, double gamma, const int *policy, int s, int a,
                          truth_atoms *out, bdrl_err *e)
{
    memset(out, 0, sizeof *out);
    if (check_gamma(gamma, e) || check_policy(t, policy, e))
        return -1;
    if (s < 0 || s >= t->n_states)
        return err_set(e, "state %d is not in [0, %d)", s, t->n_states);
    if (a < 0 || a >= t->n_actions)
        return err_set(e, "action %d is not in [0, %d)", a, t->n_actions);
    double rmax = max_abs_reward(t);
    walkers cur = {0}, next = {0};
    atoms at = {0};
    int rc = -1;
    /* A terminal state's return is 0 whatever its outcomes say (FrozenLake's
     * self-loops give that; CliffWalking's goal and cliff cells have moves
     * in the table that no episode takes). */
    if (truth_tab_is_terminal(t, s) ? push_atom(&at, 0.0, 1.0, e) : push_walker(&cur, s, 0.0, 1.0, e))
        goto done;
    double disc = 1.0; /* γ^t */
    int step = 0;
    for (;; step++) {
        double live = 0;
        for (size_t i = 0; i < cur.n; i++)
            live += cur.w[i].p;
        if (live < TRUTH_TAB_MASS_TOL) {
            out->residual = live;
            break;
        }
        /* Paths that never end: once the rewards still to come are negligible,
         * what they collected so far is their return. */
        if (gamma < 1 && disc * rmax / (1 - gamma) < TRUTH_TAB_TAIL_TOL) {
            for (size_t i = 0; i < cur.n; i++)
                if (push_atom(&at, cur.w[i].g, cur.w[i].p, e))
                    goto done;
            break;
        }
        if (step >= TRUTH_TAB_MAX_STEPS) {
            err_set(e, "exact return law of (%d, %d): after %d steps %.3g of the probability has "
                       "not reached a hole or the goal (γ = %g and a policy that does not end episodes)",
                    s, a, step, live, gamma);
            goto done;
        }
        next.n = 0;
        for (size_t i = 0; i < cur.n; i++) {
            walker w = cur.w[i];
            int act = step == 0 ? a : policy[w.s];
            int no = t->n_outcomes[w.s * t->n_actions + act];
            for (int k = 0; k < no; k++) {
                const env_outcome *o = &t->outcomes[(size_t)(w.s * t->n_actions + act) * (size_t)t->max_outcomes + (size_t)k];
                double p = w.p * o->prob;
                if (p == 0)
                    continue;
                double g = w.g + disc * o->reward;
                if (o->terminated ? push_atom(&at, g, p, e) : push_walker(&next, o->next_state, g, p, e))
                    goto done;
            }
        }
        merge_walkers(&next);
        walkers tmp = cur;
        cur = next;
        next = tmp;
        disc *= gamma;
    }
    out->steps = step;
    /* Merge equal returns into atoms, ascending. */
    qsort(at.a, at.n, sizeof *at.a, cmp_atom);
    size_t k = 0;
    for (size_t i = 0; i < at.n; i++) {
        if (k && close_returns(at.a[i].v, at.a[k - 1].v))
            at.a[k - 1].p += at.a[i].p;
        else
            at.a[k++] = at.a[i];
    }
    out->value = err_malloc(sizeof(double) * (k ? k : 1), e);
    out->prob = err_malloc(sizeof(double) * (k ? k : 1), e);
    if (!out->value || !out->prob) {
        truth_atoms_free(out);
        goto done;
    }
    for (size_t i = 0; i < k; i++) {
        out->value[i] = at.a[i].v;
        out->prob[i] = at.a[i].p;
    }
    out->n = (int)k;
    if (!k) {
        truth_atoms_free(out);
        err_set(e, "exact return law of (%d, %d) is empty", s, a);
        goto done;
    }
    rc = 0;
done:
    free(cur.w);
    free(next.w);
    free(at.a);
    return rc;
}

void truth_atoms_free(truth_atoms *d)
{
    free(d->value);
    free(d->prob);
    d->value = d->prob = NULL;
    d->n = 0;
}

double truth_atoms_mean(const truth_atoms *d)
{
    double m = 0, z = 0;
    for (int i = 0; i < d->n; i++) {
        m += d->value[i] * d->prob[i];
        z += d->prob[i];
    }
    return z > 0 ? m / z : NAN;
}

/* ---- Monte Carlo from a chosen state ---- */

int truth_mc_horizon(double gamma, int *K, bdrl_err *e)
{
    if (!(gamma >= 0 && gamma < 1))
        return err_set(e, "Monte Carlo returns need γ < 1 (got %g): with γ = 1 no finite "
                          "horizon makes the tail negligible", gamma);
    int k = 1;
    double d = gamma;
    while (!(d < TRUTH_MC_TAIL)) {
        d *= gamma;
        k++;
    }
    *K = k;
    return 0;
}

int truth_mc_returns(const env_config *cfg, const double *state, int action, double gamma, int K,
                      truth_policy_fn pol, void *ctx, int n, double *returns, int *lengths,
                      bdrl_err *e)
{
    if (n < 1)
        return err_set(e, "need at least one rollout, got %d", n);
    if (K <= 0 && truth_mc_horizon(gamma, &K, e))
        return -1;
    if (!(gamma >= 0 && gamma <= 1))
        return err_set(e, "discount factor %g is outside [0, 1]", gamma);
    if (K >= 1000000000)
        return err_set(e, "horizon %d is too long", K);
    /* The time limit is ignored: our own env whose limit lies past K. */
    env_config c = *cfg;
    c.max_episode_steps = K + 1;
    env *en = env_create(&c, e);
    if (!en)
        return -1;
    int rc = -1, A = env_n_actions(en);
    if (env_state_dim(en) < 1) {
        err_set(e, "Monte Carlo returns from a state need an environment whose state can be set; %s has none",
                env_name(en));
        goto done;
    }
    if (action < 0 || action >= A) {
        err_set(e, "action %d is not in [0, %d)", action, A);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        uint64_t seed = (uint64_t)i;
        env_reset(en, &seed);
        if (env_set_state(en, state, e))
            goto done;
        double ret = 0, disc = 1;
        int act = action, len = 0;
        for (int t = 0; t < K; t++) {
            env_step st = env_do_step(en, act);
            ret += disc * st.reward;
            disc *= gamma;
            len++;
            if (st.terminated)
                break;
            if (pol(ctx, st.obs, &act, e))
                goto done;
            if (act < 0 || act >= A) {
                err_set(e, "policy returned action %d, outside [0, %d)", act, A);
                goto done;
            }
        }
        returns[i] = ret;
        if (lengths)
            lengths[i] = len;
    }
    rc = 0;
done:
    env_free(en);
    return rc;
}

int truth_env_optimal_policy(const env *en, double gamma, int *policy)
{
    const env_table *t = env_transition_table(en);
    bdrl_err e;
    return t ? truth_tab_value_iteration(t, gamma, NULL, NULL, policy, &e) : -1;
}
