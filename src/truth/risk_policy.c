/* risk_policy.c — the iterated per-state risk-greedy policy (risk_policy.h). */
#include "truth/risk_policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "truth/truth.h"

void risk_greedy_free(risk_greedy *g)
{
    free(g->mean_policy);
    free(g->policy);
    free(g->greedy);
    free(g->value);
    free(g->cycle);
    memset(g, 0, sizeof *g);
}

int risk_greedy_flips(const risk_greedy *g, int s)
{
    for (int c = 1; c < g->cycle_length; c++)
        if (g->cycle[(size_t)c * g->n_states + s] != g->cycle[s])
            return 1;
    return 0;
}

/* ρ(Z^π(s, a)) for every non-terminal (s, a) into value; the largest
 * dropped mass into *residual. */
static int evaluate(const env_table *t, double gamma, const risk_spec *r, const int *pi, double *value,
                    double *residual, bdrl_err *e)
{
    int S = t->n_states, A = t->n_actions;
    for (int s = 0; s < S; s++)
        for (int a = 0; a < A; a++) {
            value[s * A + a] = NAN;
            if (truth_tab_is_terminal(t, s))
                continue;
            truth_atoms d;
            if (truth_tab_distribution(t, gamma, pi, s, a, &d, e))
                return -1;
            *residual = fmax(*residual, d.residual);
            int bad = risk_atoms(r, d.value, d.prob, (size_t)d.n, &value[s * A + a], e);
            truth_atoms_free(&d);
            if (bad)
                return err_prefix(e, "state %d, action %d", s, a);
        }
    return 0;
}

/* The lowest action within TRUTH_TIE_TOL of the best (truth.c's rule). */
static int argmax_low(const double *v, int n)
{
    double best = v[0];
    for (int a = 1; a < n; a++)
        best = fmax(best, v[a]);
    double tol = TRUTH_TIE_TOL * fmax(1.0, fabs(best));
    for (int a = 0; a < n; a++)
        if (v[a] >= best - tol)
            return a;
    return 0;
}

int truth_tab_risk_greedy(const env_table *t, double gamma, const risk_spec *r, int max_iter, risk_greedy *out,
                          bdrl_err *e)
{
    memset(out, 0, sizeof *out);
    if (risk_spec_check(r, e))
        return -1;
    if (max_iter <= 0)
        max_iter = RISK_GREEDY_MAX_ITER;
    const int S = t->n_states, A = t->n_actions;
    const size_t SS = (size_t)S;
    out->n_states = S;
    out->n_actions = A;
    /* every policy so far: π_0 ... π_k, then the candidate π_{k+1} */
    int *hist = err_malloc(sizeof(int) * SS * (size_t)(max_iter + 2), e);
    out->mean_policy = err_malloc(sizeof(int) * SS, e);
    out->policy = err_malloc(sizeof(int) * SS, e);
    out->greedy = err_malloc(sizeof(int) * SS, e);
    out->value = err_malloc(sizeof(double) * SS * (size_t)A, e);
    if (!hist || !out->mean_policy || !out->policy || !out->greedy || !out->value)
        goto fail;
    if (truth_tab_value_iteration(t, gamma, NULL, NULL, hist, e))
        goto fail;
    memcpy(out->mean_policy, hist, sizeof(int) * SS);
    for (int k = 0; k < max_iter; k++) {
        const int *pi = hist + (size_t)k * SS;
        int *next = hist + (size_t)(k + 1) * SS;
        if (evaluate(t, gamma, r, pi, out->value, &out->residual, e))
            goto fail;
        for (int s = 0; s < S; s++)
            next[s] = truth_tab_is_terminal(t, s) ? 0 : argmax_low(out->value + (size_t)s * A, A);
        int j = -1;
        for (int i = k; i >= 0 && j < 0; i--)
            if (!memcmp(hist + (size_t)i * SS, next, sizeof(int) * SS))
                j = i;
        if (j < 0)
            continue;
        out->iterations = k + 1;
        out->converged = j == k;
        out->cycle_start = j;
        out->cycle_length = k + 1 - j;
        memcpy(out->policy, pi, sizeof(int) * SS);
        memcpy(out->greedy, next, sizeof(int) * SS);
        out->cycle = err_malloc(sizeof(int) * SS * (size_t)out->cycle_length, e);
        if (!out->cycle)
            goto fail;
        memcpy(out->cycle, hist + (size_t)j * SS, sizeof(int) * SS * (size_t)out->cycle_length);
        free(hist);
        return 0;
    }
    err_set(e, "risk-greedy policy: no policy repeated within %d improvements", max_iter);
fail:
    free(hist);
    risk_greedy_free(out);
    return -1;
}
