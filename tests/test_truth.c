/* Tests of the ground truth (truth/truth.h) and of `bdrl truth`: value
 * iteration against an independent implementation written here from the map
 * letters, exact return laws against hand-computed ones and against policy
 * evaluation, CartPole Monte Carlo returns and the probe states. */
#include "test_util.h"

#include "train/train.h"
#include "truth/truth.h"
#include "core/rng.h"
#include "envs/env.h"

static env *make_fl(const char *const *rows, int nrow, int slippery, double rg, double rh, double rf)
{
    env_config c;
    env_config_defaults(&c, "frozenlake");
    if (rows) {
        snprintf(c.map_name, sizeof c.map_name, "custom");
        c.nrow = nrow;
        c.ncol = (int)strlen(rows[0]);
        for (int i = 0; i < nrow; i++)
            snprintf(c.rows[i], sizeof c.rows[i], "%s", rows[i]);
    }
    c.slippery = slippery;
    c.reward_goal = rg;
    c.reward_hole = rh;
    c.reward_frozen = rf;
    bdrl_err e;
    env *en = env_create(&c, &e);
    if (!en)
        fail_msg("env_create: %s", e.msg);
    return en;
}

/* ---- an independent FrozenLake model, built from the map letters ---- */

static const char *MAP4[] = {"SFFF", "FHFH", "FFFH", "HFFG"};

/* Next cell of moving in direction d (0 left, 1 down, 2 right, 3 up). */
static int move(int s, int d, int nrow, int ncol)
{
    int r = s / ncol, c = s % ncol;
    if (d == 0 && c > 0) c--;
    if (d == 1 && r < nrow - 1) r++;
    if (d == 2 && c < ncol - 1) c++;
    if (d == 3 && r > 0) r--;
    return r * ncol + c;
}

/* Q(s, a) with the slippery dynamics (each of a-1, a, a+1 with 1/3), reward 1
 * for entering G, holes and the goal absorbing with value 0. */
static double ref_q(const char *desc, int nrow, int ncol, double gamma, const double *v, int s, int a)
{
    double q = 0;
    for (int k = -1; k <= 1; k++) {
        int n = move(s, (a + k + 4) % 4, nrow, ncol);
        double r = desc[n] == 'G' ? 1.0 : 0.0;
        int end = desc[n] == 'G' || desc[n] == 'H';
        q += (r + (end ? 0 : gamma * v[n])) / 3.0;
    }
    return q;
}

/* Value iteration (policy == NULL) or policy evaluation, plain Jacobi sweeps. */
static void ref_values(const char *desc, int nrow, int ncol, double gamma, const int *policy, double *v)
{
    int S = nrow * ncol;
    double nv[64];
    for (int s = 0; s < S; s++)
        v[s] = 0;
    for (int it = 0; it < 20000; it++) {
        for (int s = 0; s < S; s++) {
            if (desc[s] == 'H' || desc[s] == 'G') {
                nv[s] = 0;
                continue;
            }
            double best = -1e300;
            for (int a = 0; a < 4; a++)
                if (!policy || policy[s] == a)
                    best = fmax(best, ref_q(desc, nrow, ncol, gamma, v, s, a));
            nv[s] = best;
        }
        memcpy(v, nv, sizeof(double) * (size_t)S);
    }
}

static void test_value_iteration_4x4(void **state)
{
    (void)state;
    env *en = make_fl(NULL, 0, 1, 1, 0, 0);
    const env_table *t = env_transition_table(en);
    double v[16], q[64];
    int pi[16];
    bdrl_err e;
    assert_int_equal(truth_tab_value_iteration(t, 0.99, v, q, pi, &e), 0);
    /* The well-known start value at gamma 0.99 (to 4 decimals: 0.5420). */
    assert_close(v[0], 0.5420, 5e-5);
    assert_close(v[0], 0.54202593, 1e-8);
    /* Known optimal policy (ties to the lowest action: state 6, where left and
     * right are mirror images, takes left). */
    const int want[16] = {0, 3, 3, 3, 0, 0, 0, 0, 3, 1, 0, 0, 0, 2, 1, 0};
    for (int s = 0; s < 16; s++)
        assert_int_equal(pi[s], want[s]);
    assert_close(q[6 * 4 + 0], q[6 * 4 + 2], 1e-12);

    char desc[17];
    for (int r = 0; r < 4; r++)
        memcpy(desc + 4 * r, MAP4[r], 4);
    double rv[16];
    ref_values(desc, 4, 4, 0.99, NULL, rv);
    for (int s = 0; s < 16; s++) {
        assert_close(v[s], rv[s], 1e-10);
        for (int a = 0; a < 4; a++) {
            double rq = (desc[s] == 'H' || desc[s] == 'G') ? 0 : ref_q(desc, 4, 4, 0.99, rv, s, a);
            assert_close(q[s * 4 + a], rq, 1e-10);
        }
    }
    /* Hand check of one backup: Q*(14, right) = 1/3 (1) + 1/3 γ V(10) + 1/3 γ V(14)
     * (right -> G, down -> stays at 14, up -> 10). */
    assert_close(q[14 * 4 + 2], (1 + 0.99 * v[10] + 0.99 * v[14]) / 3, 1e-12);
    /* gamma = 1: V*(0) is the best probability of reaching the goal, 14/17. */
    ref_values(desc, 4, 4, 1.0, NULL, rv);
    assert_int_equal(truth_tab_value_iteration(t, 1.0, v, NULL, NULL, &e), 0);
    assert_close(v[0], rv[0], 1e-8);
    assert_close(v[0], 14.0 / 17, 1e-8);
    env_free(en);
}

static void test_policy_eval(void **state)
{
    (void)state;
    env *en = make_fl(NULL, 0, 1, 1, 0, 0);
    const env_table *t = env_transition_table(en);
    char desc[17];
    for (int r = 0; r < 4; r++)
        memcpy(desc + 4 * r, MAP4[r], 4);
    bdrl_err e;
    const int pols[3][16] = {
        {0, 3, 3, 3, 0, 0, 0, 0, 3, 1, 0, 0, 0, 2, 1, 0},
        {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0, 3},
    };
    for (int p = 0; p < 3; p++) {
        double v[16], q[64], rv[16];
        assert_int_equal(truth_tab_policy_eval(t, 0.95, pols[p], v, q, &e), 0);
        ref_values(desc, 4, 4, 0.95, pols[p], rv);
        for (int s = 0; s < 16; s++) {
            assert_close(v[s], rv[s], 1e-10);
            assert_close(q[s * 4 + pols[p][s]], v[s], 1e-12);
        }
    }
    int bad[16] = {0};
    bad[3] = 4;
    assert_int_equal(truth_tab_policy_eval(t, 0.95, bad, NULL, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "state 3"));
    env_free(en);
}

/* Sum, ordering, and mean = Q^π(s, a) for every (s, a) of a map. */
static void check_laws(env *en, double gamma, const int *pi)
{
    const env_table *t = env_transition_table(en);
    int S = t->n_states;
    double *q = malloc(sizeof(double) * (size_t)S * 4);
    bdrl_err e;
    assert_int_equal(truth_tab_policy_eval(t, gamma, pi, NULL, q, &e), 0);
    for (int s = 0; s < S; s++)
        for (int a = 0; a < 4; a++) {
            truth_atoms d;
            if (truth_tab_distribution(t, gamma, pi, s, a, &d, &e))
                fail_msg("%s", e.msg);
            double sum = 0, m = 0;
            for (int i = 0; i < d.n; i++) {
                assert_true(d.prob[i] > 0);
                if (i)
                    assert_true(d.value[i] > d.value[i - 1]);
                sum += d.prob[i];
                m += d.prob[i] * d.value[i];
            }
            assert_true(d.residual >= 0 && d.residual < TRUTH_TAB_MASS_TOL);
            assert_close(sum + d.residual, 1.0, 1e-12);
            assert_close(m, q[s * 4 + a], 1e-6);
            assert_close(truth_atoms_mean(&d), q[s * 4 + a], 1e-6);
            truth_atoms_free(&d);
        }
    free(q);
}

static void test_laws_sum_to_one_and_mean_is_q(void **state)
{
    (void)state;
    env *en = make_fl(NULL, 0, 1, 1, 0, 0);
    const env_table *t = env_transition_table(en);
    int pi[16];
    bdrl_err e;
    assert_int_equal(truth_tab_value_iteration(t, 0.99, NULL, NULL, pi, &e), 0);
    check_laws(en, 0.99, pi);
    /* Default rewards: every atom is 0 or a power of gamma. */
    truth_atoms d;
    assert_int_equal(truth_tab_distribution(t, 0.99, pi, 0, 0, &d, &e), 0);
    assert_true(d.value[0] == 0);
    for (int i = 1; i < d.n; i++) {
        double k = log(d.value[i]) / log(0.99);
        assert_close(k, round(k), 1e-6);
    }
    /* 0 comes from the holes: P(Z = 0) = 1 - P(reach G) (γ = 1 value). */
    double v1[16];
    assert_int_equal(truth_tab_policy_eval(t, 1.0, pi, v1, NULL, &e), 0);
    assert_close(d.prob[0], 1 - v1[0], 1e-8);
    truth_atoms_free(&d);
    const int down[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    check_laws(en, 0.9, down);
    env_free(en);
    /* 8x8 with a general reward schedule. */
    env_config c;
    env_config_defaults(&c, "frozenlake");
    snprintf(c.map_name, sizeof c.map_name, "8x8");
    c.reward_goal = 2;
    c.reward_hole = -1;
    c.reward_frozen = -0.01;
    en = env_create(&c, &e);
    assert_non_null(en);
    int pi8[64];
    assert_int_equal(truth_tab_value_iteration(env_transition_table(en), 0.97, NULL, NULL, pi8, &e), 0);
    check_laws(en, 0.97, pi8);
    env_free(en);
}

static void test_deterministic_map_single_atom(void **state)
{
    (void)state;
    env *en = make_fl(NULL, 0, 0, 1, 0, 0);
    const env_table *t = env_transition_table(en);
    int pi[16];
    double v[16];
    bdrl_err e;
    assert_int_equal(truth_tab_value_iteration(t, 0.9, v, NULL, pi, &e), 0);
    /* Shortest path from S: 6 steps, so V*(0) = γ^5 and the law is one atom. */
    assert_close(v[0], pow(0.9, 5), 1e-12);
    truth_atoms d;
    for (int a = 1; a <= 2; a++) { /* down and right both start a shortest path */
        assert_int_equal(truth_tab_distribution(t, 0.9, pi, 0, a, &d, &e), 0);
        assert_int_equal(d.n, 1);
        assert_close(d.value[0], pow(0.9, 5), 1e-12);
        assert_close(d.prob[0], 1.0, 0);
        assert_int_equal(d.steps, 6);
        truth_atoms_free(&d);
    }
    /* Left from S bumps into the wall: one wasted step. */
    assert_int_equal(truth_tab_distribution(t, 0.9, pi, 0, 0, &d, &e), 0);
    assert_int_equal(d.n, 1);
    assert_close(d.value[0], pow(0.9, 6), 1e-12);
    truth_atoms_free(&d);
    /* Into a hole: return 0 at once. State 4 (below S), right -> 5 (H). */
    assert_int_equal(truth_tab_distribution(t, 0.9, pi, 4, 2, &d, &e), 0);
    assert_int_equal(d.n, 1);
    assert_true(d.value[0] == 0 && d.prob[0] == 1);
    truth_atoms_free(&d);
    /* Terminal states: return 0 whatever the action. */
    for (int s = 0; s < 16; s++)
        assert_int_equal(truth_tab_is_terminal(t, s), s == 5 || s == 7 || s == 11 || s == 12 || s == 15);
    for (int a = 0; a < 4; a++) {
        assert_int_equal(truth_tab_distribution(t, 0.9, pi, 15, a, &d, &e), 0);
        assert_int_equal(d.n, 1);
        assert_true(d.value[0] == 0 && d.prob[0] == 1);
        truth_atoms_free(&d);
    }
    /* A policy that never ends an episode (left at S forever) with γ < 1:
     * the return is exactly 0, found by the tail rule. */
    int left[16] = {0};
    assert_int_equal(truth_tab_distribution(t, 0.9, left, 0, 0, &d, &e), 0);
    assert_int_equal(d.n, 1);
    assert_true(d.value[0] == 0);
    assert_close(d.prob[0], 1, 1e-15);
    truth_atoms_free(&d);
    /* ... and with γ = 1 it is an error, not a hang. */
    assert_int_equal(truth_tab_distribution(t, 1.0, left, 0, 0, &d, &e), -1);
    assert_non_null(strstr(e.msg, "does not end episodes"));
    /* Bad arguments. */
    assert_int_equal(truth_tab_distribution(t, 0.9, pi, 16, 0, &d, &e), -1);
    assert_int_equal(truth_tab_distribution(t, 0.9, pi, 0, 4, &d, &e), -1);
    assert_int_equal(truth_tab_distribution(t, 1.5, pi, 0, 0, &d, &e), -1);
    env_free(en);
}

/* 1x3 "SFG", slippery: every move other than the intended one stays in the
 * row, so with "right" each step reaches the next cell with probability 1/3.
 * From F: the goal at step k with (2/3)^(k-1)/3 -> atom γ^(k-1).
 * From S: T = T1 + T2 (two geometric(1/3) times): P(T = k) = (k-1)/9 (2/3)^(k-2). */
static void test_custom_sfg_by_hand(void **state)
{
    (void)state;
    const char *rows[] = {"SFG"};
    env *en = make_fl(rows, 1, 1, 1, 0, 0);
    const env_table *t = env_transition_table(en);
    const int right[3] = {2, 2, 2};
    double g = 0.9;
    bdrl_err e;
    truth_atoms d;
    assert_int_equal(truth_tab_distribution(t, g, right, 1, 2, &d, &e), 0);
    for (int k = 1; k <= 20; k++) {
        /* atoms ascend: γ^(k-1) is at index n - k */
        assert_close(d.value[d.n - k], pow(g, k - 1), 1e-12);
        assert_close(d.prob[d.n - k], pow(2.0 / 3, k - 1) / 3, 1e-12);
    }
    assert_close(truth_atoms_mean(&d), (1.0 / 3) / (1 - 2 * g / 3), 1e-9);
    truth_atoms_free(&d);

    assert_int_equal(truth_tab_distribution(t, g, right, 0, 2, &d, &e), 0);
    for (int k = 2; k <= 20; k++) {
        assert_close(d.value[d.n - (k - 1)], pow(g, k - 1), 1e-12);
        assert_close(d.prob[d.n - (k - 1)], (k - 1) / 9.0 * pow(2.0 / 3, k - 2), 1e-12);
    }
    double phi = (g / 3) / (1 - 2 * g / 3); /* E γ^T1 */
    assert_close(truth_atoms_mean(&d), phi * phi / g, 1e-9);
    truth_atoms_free(&d);

    /* Left from S: up, left and down all stay at S, then "right": the law of
     * Z(S, right) one step later, i.e. every atom times γ. */
    truth_atoms d0;
    assert_int_equal(truth_tab_distribution(t, g, right, 0, 0, &d, &e), 0);
    assert_int_equal(truth_tab_distribution(t, g, right, 0, 2, &d0, &e), 0);
    for (int i = 0; i < 30; i++) {
        assert_close(d.value[d.n - 1 - i], g * d0.value[d0.n - 1 - i], 1e-12);
        assert_close(d.prob[d.n - 1 - i], d0.prob[d0.n - 1 - i], 1e-12);
    }
    truth_atoms_free(&d);
    truth_atoms_free(&d0);
    env_free(en);
}

/* Adds n observations of (s, a) -> (s2, r, terminated) to counts, as `bdrl
 * eval --truth replay` does with each replay entry. */
static void observe(const env_table *t, int64_t *counts, int s, int a, int s2, double r, int term, int n)
{
    int k = truth_tab_match_outcome(t, s, a, s2, r, term);
    assert_true(k >= 0);
    counts[((size_t)s * t->n_actions + a) * t->max_outcomes + k] += n;
}

/* truth_tab_empirical on 1x3 "SFG", slippery: (F, right) truly reaches G
 * with 1/3 and stays with 2/3 (two identical outcomes, counted as one);
 * observed 30 times G and 10 times F, the empirical table says 3/4, so
 * Z(F, right) under "right" has atoms γ^(k-1) with 3/4 (1/4)^(k-1). (S, ·)
 * without data keeps the true outcomes; an impossible transition (S -> G in
 * one step), or into G with another reward or without the end, matches no
 * outcome. */
static void test_empirical_table_by_hand(void **state)
{
    (void)state;
    const char *rows[] = {"SFG"};
    env *en = make_fl(rows, 1, 1, 1, 0, 0);
    const env_table *t = env_transition_table(en);
    assert_int_equal(t->max_outcomes, 3);
    int64_t counts[3 * 4 * 3] = {0};
    observe(t, counts, 1, 2, 1, 0, 0, 10);
    observe(t, counts, 1, 2, 2, 1, 1, 30);
    for (int a = 0; a < 4; a++)
        if (a != 2 && a != 0)
            observe(t, counts, 1, a, 1, 0, 0, 7); /* (F, a != right) never reaches G: stays or goes to S */
    observe(t, counts, 1, 0, 1, 0, 0, 7);
    observe(t, counts, 1, 0, 0, 0, 0, 5);
    env_table emp;
    int64_t fewest = -1;
    bdrl_err e;
    assert_int_equal(truth_tab_empirical(t, counts, &emp, &fewest, &e), 0);
    assert_int_equal(fewest, 0); /* S has no data */
    assert_int_equal(emp.n_outcomes[1 * 4 + 2], 2);
    assert_close(emp.outcomes[(1 * 4 + 2) * 3 + 0].prob, 0.25, 1e-15);
    assert_close(emp.outcomes[(1 * 4 + 2) * 3 + 1].prob, 0.75, 1e-15);
    assert_int_equal(emp.outcomes[(1 * 4 + 2) * 3 + 1].terminated, 1);
    assert_close(emp.outcomes[(1 * 4 + 2) * 3 + 1].reward, 1.0, 0);
    /* (F, left) in the table's order: up (stays in F), left (S); down (F again) merged */
    assert_int_equal(emp.n_outcomes[1 * 4 + 0], 2);
    assert_int_equal(emp.outcomes[(1 * 4 + 0) * 3 + 1].next_state, 0);
    assert_close(emp.outcomes[(1 * 4 + 0) * 3 + 1].prob, 5.0 / 12, 1e-15);
    assert_int_equal(emp.n_outcomes[0 * 4 + 2], t->n_outcomes[0 * 4 + 2]);
    const int right[3] = {2, 2, 2};
    double g = 0.9;
    truth_atoms d;
    assert_int_equal(truth_tab_distribution(&emp, g, right, 1, 2, &d, &e), 0);
    assert_true(d.n >= 12); /* propagation stops when the walking mass (1/4)^k < 1e-9 */
    for (int k = 1; k <= 12; k++) {
        assert_close(d.value[d.n - k], pow(g, k - 1), 1e-12);
        assert_close(d.prob[d.n - k], 0.75 * pow(0.25, k - 1), 1e-12);
    }
    assert_close(truth_atoms_mean(&d), 0.75 / (1 - 0.25 * g), 1e-9);
    truth_atoms_free(&d);
    truth_tab_table_free(&emp);
    assert_null(emp.outcomes);

    assert_int_equal(truth_tab_match_outcome(t, 0, 2, 2, 1, 1), -1); /* S -> G in one step */
    assert_int_equal(truth_tab_match_outcome(t, 1, 2, 2, 0, 1), -1); /* into G with another reward */
    assert_int_equal(truth_tab_match_outcome(t, 1, 2, 2, 1, 0), -1); /* into G without the end */
    env_free(en);
}

/* A gamble that ends in one terminal state with +3 or -1: two outcomes with
 * one next state stay two outcomes of the empirical table, with their own
 * rewards, so 30 wins and 10 losses give +3 with 3/4 and -1 with 1/4 (keyed
 * by next state alone, both would collapse into one reward). The table is
 * built by hand (FrozenLake's rows cannot say it); a count for an outcome
 * the table lacks is refused. */
static void test_empirical_shared_next_state(void **state)
{
    (void)state;
    int n_out[2 * 1] = {2, 1};
    env_outcome out[2 * 1 * 2] = {{0.5, 1, 3.0, 1}, {0.5, 1, -1.0, 1}, {1.0, 1, 0.0, 1}, {1.0, 1, 0.0, 1}};
    unsigned char term[2] = {0, 1};
    env_table t = {.n_states = 2, .n_actions = 1, .max_outcomes = 2, .n_outcomes = n_out, .outcomes = out,
                   .terminal = term, .nrow = 1, .ncol = 2, .desc = "SH"};
    int64_t counts[2 * 1 * 2] = {0};
    observe(&t, counts, 0, 0, 1, 3.0, 1, 30);
    observe(&t, counts, 0, 0, 1, -1.0, 1, 10);
    env_table emp;
    bdrl_err e;
    assert_int_equal(truth_tab_empirical(&t, counts, &emp, NULL, &e), 0);
    const int pol[2] = {0, 0};
    truth_atoms d;
    assert_int_equal(truth_tab_distribution(&emp, 0.9, pol, 0, 0, &d, &e), 0);
    assert_int_equal(d.n, 2);
    assert_close(d.value[0], -1, 0);
    assert_close(d.prob[0], 0.25, 1e-15);
    assert_close(d.value[1], 3, 0);
    assert_close(d.prob[1], 0.75, 1e-15);
    truth_atoms_free(&d);
    truth_tab_table_free(&emp);

    counts[(1 * 1 + 0) * 2 + 1] = 1; /* the end has one outcome, not two */
    assert_int_equal(truth_tab_empirical(&t, counts, &emp, NULL, &e), -1);
    assert_contains(e.msg, "(1, 0)");
}

/* 1x3 "HSG" with rewards goal 1, hole -1, frozen -0.1 (entering S counts as
 * frozen): Z(S, left) under "right": the hole at step 1 with 1/3 (return -1);
 * otherwise stay (-0.1) and then reach G at step k >= 2 with
 * (2/3)^(k-1)/3, return -0.1 sum_{t<k-1} γ^t + γ^(k-1). */
static void test_general_rewards_by_hand(void **state)
{
    (void)state;
    const char *rows[] = {"HSG"};
    env *en = make_fl(rows, 1, 1, 1, -1, -0.1);
    const env_table *t = env_transition_table(en);
    const int right[3] = {2, 2, 2};
    double g = 0.8;
    bdrl_err e;
    truth_atoms d;
    assert_int_equal(truth_tab_distribution(t, g, right, 1, 0, &d, &e), 0);
    assert_close(d.value[0], -1, 1e-15);
    assert_close(d.prob[0], 1.0 / 3, 1e-15);
    for (int k = 2; k <= 25; k++) {
        double r = -0.1 * (1 - pow(g, k - 1)) / (1 - g) + pow(g, k - 1);
        double p = pow(2.0 / 3, k - 1) / 3;
        int found = 0;
        for (int i = 0; i < d.n; i++)
            if (fabs(d.value[i] - r) < 1e-12) {
                assert_close(d.prob[i], p, 1e-12);
                found = 1;
            }
        if (!found)
            fail_msg("no atom at %.17g (k = %d)", r, k);
    }
    double q[12];
    assert_int_equal(truth_tab_policy_eval(t, g, right, NULL, q, &e), 0);
    assert_close(truth_atoms_mean(&d), q[1 * 4 + 0], 1e-9);
    truth_atoms_free(&d);
    env_free(en);
}

/* The trainer bootstraps evaluate-mode runs from its own copy of value
 * iteration (truth_env_optimal_policy); bdrl eval scores them against the truth's
 * optimal policy. The two must pick the same actions. */
static void test_trainer_optimal_policy_agrees(void **state)
{
    (void)state;
    const char *maps[] = {"4x4", "8x8", "random"};
    const double gammas[] = {0.9, 0.99, 1.0};
    for (int m = 0; m < 3; m++)
        for (int sl = 0; sl < 2; sl++)
            for (int g = 0; g < 3; g++) {
                env_config c;
                env_config_defaults(&c, "frozenlake");
                snprintf(c.map_name, sizeof c.map_name, "%s", maps[m]);
                if (m == 2) {
                    c.nrow = c.ncol = 6;
                    c.map_seed = 7;
                }
                c.slippery = sl;
                bdrl_err e;
                env *en = env_create(&c, &e);
                assert_non_null(en);
                const env_table *t = env_transition_table(en);
                int a[64], b[64];
                assert_int_equal(truth_tab_value_iteration(t, gammas[g], NULL, NULL, a, &e), 0);
                assert_int_equal(truth_env_optimal_policy(en, gammas[g], b), 0);
                for (int s = 0; s < t->n_states; s++)
                    if (a[s] != b[s])
                        fail_msg("map %s slippery %d gamma %g: state %d: truth %d, trainer %d", maps[m], sl,
                                 gammas[g], s, a[s], b[s]);
                env_free(en);
            }
}

/* ---- CartPole ---- */

static int const_policy(void *ctx, const float *obs, int *action, bdrl_err *e)
{
    (void)obs;
    (void)e;
    *action = *(const int *)ctx;
    return 0;
}

/* A simple stabilizing controller (push toward where the pole is falling,
 * with a little cart feedback). */
static int pd_policy(void *ctx, const float *obs, int *action, bdrl_err *e)
{
    (void)ctx;
    (void)e;
    *action = (obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.1 * obs[1]) > 0;
    return 0;
}

static void test_cartpole_horizon_and_short_returns(void **state)
{
    (void)state;
    int K;
    bdrl_err e;
    assert_int_equal(truth_mc_horizon(0.99, &K, &e), 0);
    assert_int_equal(K, 917); /* 0.99^916 >= 1e-4 > 0.99^917 */
    assert_true(pow(0.99, K) < 1e-4 && pow(0.99, K - 1) >= 1e-4);
    assert_int_equal(truth_mc_horizon(1.0, &K, &e), -1);

    env_config c;
    env_config_defaults(&c, "cartpole");
    /* Falling fast to the right and pushed left: over within a few steps. */
    const double st[4] = {0, 0, 0.19, 1.5};
    int zero = 0;
    double ret[5];
    int len[5];
    assert_int_equal(truth_mc_returns(&c, st, 0, 0.99, 0, const_policy, &zero, 5, ret, len, &e), 0);
    assert_true(len[0] >= 1 && len[0] <= 3);
    double want = 0;
    for (int t = 0; t < len[0]; t++)
        want += pow(0.99, t);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(len[i], len[0]);
        assert_close(ret[i], want, 1e-12);
    }
    /* Beyond the threshold already: one step, return 1. */
    const double gone[4] = {0, 0, 0.3, 0};
    assert_int_equal(truth_mc_returns(&c, gone, 1, 0.99, 0, const_policy, &zero, 1, ret, len, &e), 0);
    assert_int_equal(len[0], 1);
    assert_close(ret[0], 1, 0);
    /* Sutton-Barto rewards: 0 per step, -1 at the end. */
    c.sutton_barto_reward = 1;
    assert_int_equal(truth_mc_returns(&c, st, 0, 0.99, 0, const_policy, &zero, 1, ret, len, &e), 0);
    assert_close(ret[0], -pow(0.99, len[0] - 1), 1e-12);
    c.sutton_barto_reward = 0;
    /* A balancing controller runs past the 500-step limit: the limit is
     * ignored and the rollout lasts the whole horizon. */
    const double up[4] = {0, 0, 0.01, 0};
    assert_int_equal(truth_mc_returns(&c, up, 1, 0.99, 0, pd_policy, NULL, 1, ret, len, &e), 0);
    assert_int_equal(len[0], 917);
    assert_close(ret[0], (1 - pow(0.99, 917)) / (1 - 0.99), 1e-9);
    assert_int_equal(truth_mc_returns(&c, up, 1, 0.99, 1200, pd_policy, NULL, 1, ret, len, &e), 0);
    assert_int_equal(len[0], 1200);
    /* Bad input. */
    assert_int_equal(truth_mc_returns(&c, up, 2, 0.99, 0, pd_policy, NULL, 1, ret, len, &e), -1);
    const double nan_state[4] = {0, NAN, 0, 0};
    assert_int_equal(truth_mc_returns(&c, nan_state, 0, 0.99, 0, pd_policy, NULL, 1, ret, len, &e), -1);
}

/* The probes are within CartPole's thresholds, distinct, and 8-19 come from
 * the generator their documentation describes. */
static void test_cartpole_probes(void **state)
{
    (void)state;
    for (int i = 0; i < env_kind_describe(ENV_CARTPOLE)->n_probes; i++) {
        const double *p = env_kind_describe(ENV_CARTPOLE)->probe(i);
        assert_non_null(p);
        assert_non_null(env_kind_describe(ENV_CARTPOLE)->probe_name(i));
        assert_true(fabs(p[0]) < 2.4 && fabs(p[2]) < 12 * 2 * M_PI / 360);
        for (int k = 0; k < 4; k++)
            assert_true((double)(float)p[k] == p[k]);
        for (int j = 0; j < i; j++)
            assert_true(memcmp(p, env_kind_describe(ENV_CARTPOLE)->probe(j), sizeof(double) * 4));
    }
    assert_null(env_kind_describe(ENV_CARTPOLE)->probe(env_kind_describe(ENV_CARTPOLE)->n_probes));
    assert_null(env_kind_describe(ENV_CARTPOLE)->probe(-1));
    env_config c;
    env_config_defaults(&c, "cartpole");
    bdrl_err e;
    env *en = env_create(&c, &e);
    int got = 8;
    for (uint64_t seed = 2024; got < env_kind_describe(ENV_CARTPOLE)->n_probes; seed++) {
        assert_true(seed < 2100);
        env_reset(en, &seed);
        rng *r = rng_create(seed, 0);
        for (int t = 1; t <= 8 && got < env_kind_describe(ENV_CARTPOLE)->n_probes; t++) {
            env_step st = env_do_step(en, (int)rng_below(r, 2));
            if (st.terminated || st.truncated)
                break;
            if (t == 4 || t == 8) {
                double s[4];
                env_get_state(en, s);
                const double *p = env_kind_describe(ENV_CARTPOLE)->probe(got++);
                for (int k = 0; k < 4; k++)
                    assert_true((double)(float)s[k] == p[k]);
            }
        }
        rng_free(r);
    }
    env_free(en);
}

/* ---- bdrl truth ---- */

static void test_cli_truth_frozenlake(void **state)
{
    (void)state;
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/fl.yaml", tu_dir);
    tu_write(cfg, "env:\n  name: frozenlake\n");
    tu_result r = tu_run("%s truth %s --state 0", tu_bdrl(), cfg);
    assert_int_equal(r.status, 0);
    assert_true(!strncmp(r.out, "action,return,prob\n0,0,", 23));
    /* Every action appears; the probabilities of each sum to 1 - 1e-9; the
     * mean of action 0 is V*(0). */
    double sum[4] = {0}, mean0 = 0;
    const char *p = strchr(r.out, '\n') + 1;
    while (*p) {
        int a;
        double x, w;
        assert_int_equal(sscanf(p, "%d,%lf,%lf", &a, &x, &w), 3);
        assert_true(a >= 0 && a < 4);
        sum[a] += w;
        if (a == 0)
            mean0 += x * w;
        p = strchr(p, '\n') + 1;
    }
    for (int a = 0; a < 4; a++)
        assert_close(sum[a], 1, 1e-8);
    assert_close(mean0, 0.54202593, 1e-8);
    assert_contains(r.err, "# policy optimal, gamma 0.99");
    assert_contains(r.err, "mean 0.54202593");
    tu_run_free(&r);

    r = tu_run("%s truth %s --state 0 --action 2 --set env.slippery=false --set agent.gamma=0.9", tu_bdrl(),
               cfg);
    assert_int_equal(r.status, 0);
    double x, w;
    int act;
    assert_int_equal(sscanf(r.out, "action,return,prob\n%d,%lf,%lf\n", &act, &x, &w), 3);
    assert_int_equal(act, 2);
    assert_close(x, pow(0.9, 5), 1e-15);
    assert_true(w == 1);
    int rows = 0;
    for (const char *c = r.out; *c; c++)
        rows += *c == '\n';
    assert_int_equal(rows, 2);
    tu_run_free(&r);

    r = tu_run("%s truth %s --state 5", tu_bdrl(), cfg);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "action,return,prob\n0,0,1\n1,0,1\n2,0,1\n3,0,1\n");
    tu_run_free(&r);
}

static void test_cli_truth_errors(void **state)
{
    (void)state;
    char cfg[600], cp[600];
    snprintf(cfg, sizeof cfg, "%s/fl.yaml", tu_dir);
    tu_write(cfg, "env:\n  name: frozenlake\n");
    snprintf(cp, sizeof cp, "%s/cp.yaml", tu_dir);
    tu_write(cp, "env:\n  name: cartpole\n");
    struct {
        const char *args, *msg;
    } bad[] = {
        {"", "expected one CONFIG"},
        {"CFG", "--state is required"},
        {"CFG --state 16", "--state must be in [0, 15]"},
        {"CFG --state x", "--state expects an integer"},
        {"CFG --state 0 --action 4", "--action must be in [0, 3]"},
        {"CFG --state 0 --bogus", "unknown option '--bogus'"},
        {"CFG --state 0 -n 3", "are for Monte Carlo truth"},
        {"CFG --state 0 --set agent.gama=1", "did you mean 'agent.gamma'"},
        {"CFG --state 0 --policy /nonexistent/run", "/nonexistent/run"},
        {"/nonexistent.yaml --state 0", "/nonexistent.yaml"},
        {"CP --state 0,0,0,0", "no 'optimal' policy"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[1200];
        const char *s = bad[i].args;
        if (!strncmp(s, "CFG", 3))
            snprintf(args, sizeof args, "%s%s", cfg, s + 3);
        else if (!strncmp(s, "CP", 2))
            snprintf(args, sizeof args, "%s%s", cp, s + 2);
        else
            snprintf(args, sizeof args, "%s", s);
        tu_result r = tu_run("%s truth %s", tu_bdrl(), args);
        if (r.status != 2)
            fail_msg("'truth %s' exited %d, expected 2 (stderr: %s)", args, r.status, r.err);
        assert_contains(r.err, bad[i].msg);
        int lines = 0;
        for (const char *c = r.err; *c; c++)
            lines += *c == '\n';
        assert_int_equal(lines, 1);
        tu_run_free(&r);
    }
    tu_result r = tu_run("%s truth --help", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "usage: bdrl truth");
    tu_run_free(&r);
}

/* The exact range of returns, by hand: FrozenLake 4x4 slippery with the
 * default rewards lies in [0, 1] (the goal entered at once, or never); with
 * a hole at -1 and -0.1 per frozen step the worst path slips about frozen
 * cells forever (-0.1 / (1 - γ) = -2 at γ 0.95, below a hole's -1) and the
 * best still enters G at once. The hand-made gamble (+3 or -1, one step)
 * gives [-1, 3]; γ = 1 with a frozen step's cost has no lowest return. */
static void test_return_range_by_hand(void **state)
{
    (void)state;
    bdrl_err e;
    double lo, hi;
    env *en = make_fl(MAP4, 4, 1, 1, 0, 0);
    assert_int_equal(truth_tab_return_range(env_transition_table(en), 0.99, &lo, &hi, &e), 0);
    assert_close(lo, 0, 0);
    assert_close(hi, 1, 0);
    env_free(en);
    en = make_fl(MAP4, 4, 1, 1, -1, -0.1);
    assert_int_equal(truth_tab_return_range(env_transition_table(en), 0.95, &lo, &hi, &e), 0);
    assert_close(lo, -0.1 / (1 - 0.95), 1e-12);
    assert_close(hi, 1, 0);
    assert_int_equal(truth_tab_return_range(env_transition_table(en), 1.0, &lo, &hi, &e), -1);
    assert_contains(e.msg, "unbounded");
    env_free(en);
    int n_out[2] = {2, 1};
    env_outcome out[4] = {{0.5, 1, 3.0, 1}, {0.5, 1, -1.0, 1}, {1.0, 1, 0.0, 1}, {1.0, 1, 0.0, 1}};
    unsigned char term[2] = {0, 1};
    env_table t = {.n_states = 2, .n_actions = 1, .max_outcomes = 2, .n_outcomes = n_out, .outcomes = out,
                   .terminal = term, .nrow = 1, .ncol = 2, .desc = "SH"};
    assert_int_equal(truth_tab_return_range(&t, 0.9, &lo, &hi, &e), 0);
    assert_close(lo, -1, 0);
    assert_close(hi, 3, 0);
    out[0].prob = 0; /* a win of probability 0 is never attained */
    out[1].prob = 1;
    assert_int_equal(truth_tab_return_range(&t, 0.9, &lo, &hi, &e), 0);
    assert_close(hi, -1, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_iteration_4x4),
        cmocka_unit_test(test_policy_eval),
        cmocka_unit_test(test_laws_sum_to_one_and_mean_is_q),
        cmocka_unit_test(test_deterministic_map_single_atom),
        cmocka_unit_test(test_custom_sfg_by_hand),
        cmocka_unit_test(test_empirical_table_by_hand),
        cmocka_unit_test(test_empirical_shared_next_state),
        cmocka_unit_test(test_return_range_by_hand),
        cmocka_unit_test(test_general_rewards_by_hand),
        cmocka_unit_test(test_trainer_optimal_policy_agrees),
        cmocka_unit_test(test_cartpole_horizon_and_short_returns),
        cmocka_unit_test(test_cartpole_probes),
        cmocka_unit_test(test_cli_truth_frozenlake),
        cmocka_unit_test(test_cli_truth_errors),
    };
    return cmocka_run_group_tests_name("truth", tests, tu_group_setup, tu_group_teardown);
}
