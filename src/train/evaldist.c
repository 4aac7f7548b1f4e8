/* evaldist.c — per-(state, action) distances between an agent's return
 * distributions and the exact truth (environments with a transition table)
 * or the Monte Carlo one (environments with probe states: CartPole). */
#include "train/evaldist.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "truth/risk_policy.h"
#include "truth/truth.h"

void evaldist_options_default(evaldist_options *o)
{
    memset(o, 0, sizeof *o);
    o->sample_walkers = 1000;
    o->mc_rollouts = 1;
    o->mc_horizon = 0;
}

int evaldist_parse_state(const env *en, const char *text, float *obs, double *state, bdrl_err *e)
{
    if (env_is_tabular(en)) {
        char *end;
        errno = 0;
        long v = strtol(text, &end, 10);
        int S = env_n_states(en);
        if (!*text || *end || errno)
            return err_set(e, "expected a %s state index, got '%s'", env_name(en), text);
        if (v < 0 || v >= S)
            return err_set(e, "state %ld is not in [0, %d)", v, S);
        obs[0] = (float)v;
        if (state)
            state[0] = (double)v;
        return 0;
    }
    const env_kind_info *in = env_kind_describe(env_get_kind(en));
    int sd = env_state_dim(en);
    double st[ENV_STATE_MAX];
    const char *p = text;
    for (int i = 0; i < sd; i++) {
        char *end;
        errno = 0;
        st[i] = strtod(p, &end);
        if (end == p || errno || !isfinite(st[i]) || (i < sd - 1 ? *end != ',' : *end != '\0'))
            return err_set(e, "expected %d comma-separated numbers %s for %s, got '%s'", sd,
                           in->state_help, in->gym_id, text);
        p = end + 1;
    }
    if (env_observe_state(en, st, obs, e))
        return -1;
    if (state)
        for (int i = 0; i < sd; i++)
            state[i] = st[i];
    return 0;
}

/* The law of an agent_dist (its arrays are read at once). */
static stat_dist *dist_from(const agent_dist *d, bdrl_err *e)
{
    if (d->n < 1)
        return err_set(e, "the agent returned an empty distribution"), NULL;
    if (!d->is_density)
        return stat_dist_atoms(d->x, d->w, (size_t)d->n, e);
    if (d->n < 2 || !(d->x[d->n - 1] > d->x[0]))
        return err_set(e, "the agent's grid has fewer than two distinct points"), NULL;
    /* The density values may be in u units: stat_dist_grid normalizes. */
    return stat_dist_grid(d->w, (size_t)d->n, d->x[0], d->x[d->n - 1], NULL, e);
}

stat_dist *evaldist_model_dist(agent *a, const float *obs, int action, double *mass, bdrl_err *e)
{
    agent_dist d;
    if (agent_distribution(a, obs, action, &d, e))
        return NULL;
    if (mass)
        *mass = d.mass;
    return dist_from(&d, e);
}

int evaldist_greedy_action(void *agent_ptr, const float *obs, int *action, bdrl_err *e)
{
    return agent_greedy(agent_ptr, obs, action, e);
}

int evaldist_fl_policy(agent *a, const exp_config *cfg, const env_table *t, int *policy,
                       const char **name, bdrl_err *e)
{
    if (cfg->agent.mode == AGENT_EVALUATE) {
        /* agent.policy has one choice today: optimal. */
        *name = "optimal";
        return truth_tab_value_iteration(t, cfg->agent.gamma, NULL, NULL, policy, e);
    }
    *name = "greedy";
    if (!a)
        return err_set(e, "control mode: the truth follows the agent's greedy policy, but there is no agent");
    int S = t->n_states, A = t->n_actions;
    float *obs = err_malloc(sizeof(float) * (size_t)S, e);
    double *q = err_malloc(sizeof(double) * (size_t)S * (size_t)A, e);
    int rc = -1;
    if (!obs || !q)
        goto done;
    for (int s = 0; s < S; s++)
        obs[s] = (float)s;
    if (agent_action_values(a, S, obs, q, e))
        goto done;
    /* The rule of agent_greedy, on one batch of every state. */
    for (int s = 0; s < S; s++) {
        int best = 0;
        for (int k = 0; k < A; k++) {
            if (isnan(q[s * A + k])) {
                err_set(e, "%s: Q value of state %d, action %d is NaN", a->ops->name, s, k);
                goto done;
            }
            if (q[s * A + k] > q[s * A + best])
                best = k;
        }
        policy[s] = best;
    }
    rc = 0;
done:
    free(obs);
    free(q);
    return rc;
}

int evaldist_visited(const env_table *t, const int *policy, unsigned char *visited)
{
    int S = t->n_states, start = 0, n = 0, head = 0, tail = 0;
    if (t->desc)
        for (int s = 0; s < S && t->desc[s]; s++)
            if (t->desc[s] == 'S') {
                start = s;
                break;
            }
    memset(visited, 0, (size_t)S);
    int *queue = malloc(sizeof(int) * (size_t)S);
    if (!queue)
        return -1;
    if (!truth_tab_is_terminal(t, start)) {
        visited[start] = 1;
        queue[tail++] = start;
    }
    while (head < tail) {
        int s = queue[head++];
        n++;
        for (int k = 0; k < t->n_outcomes[s * t->n_actions + policy[s]]; k++) {
            const env_outcome *o = env_table_outcome(t, s, policy[s], k);
            if (o->prob > 0 && !o->terminated && !visited[o->next_state] &&
                !truth_tab_is_terminal(t, o->next_state)) {
                visited[o->next_state] = 1;
                queue[tail++] = o->next_state;
            }
        }
    }
    free(queue);
    return n;
}

/* Control under a risk measure: the truth's policy is the exact iterated
 * risk-greedy one (into r->policy), the agent's greedy policy goes to
 * r->agent_policy, and their differences are counted. */
static int risk_policies(agent *a, const exp_config *cfg, const env_table *t, evaldist_result *r, bdrl_err *e)
{
    int S = t->n_states;
    risk_greedy g;
    risk_spec_format(&a->risk, r->risk, sizeof r->risk);
    if (truth_tab_risk_greedy(t, cfg->agent.gamma, &a->risk, 0, &g, e))
        return -1;
    memcpy(r->policy, g.policy, sizeof(int) * (size_t)S);
    r->risk_converged = g.converged;
    risk_greedy_free(&g);
    r->truth_policy = "risk-greedy";
    const char *name;
    unsigned char *vis = err_malloc((size_t)S, e);
    if (!vis || !(r->agent_policy = err_malloc(sizeof(int) * (size_t)S, e)) ||
        evaldist_fl_policy(a, cfg, t, r->agent_policy, &name, e)) {
        free(vis);
        return -1;
    }
    r->n_visited = evaldist_visited(t, r->policy, vis);
    for (int s = 0; s < S; s++) {
        if (truth_tab_is_terminal(t, s))
            continue;
        r->n_nonterminal++;
        int d = r->agent_policy[s] != r->policy[s];
        r->n_differ += d;
        r->n_differ_visited += d && vis[s];
    }
    free(vis);
    return r->n_visited < 0 ? err_set(e, "out of memory") : 0;
}

/* Fills one entry from the model at (obs, action) and the truth law. */
static int score(agent *a, const float *obs, int action, const stat_dist *truth,
                 const evaldist_options *o, double *buf, evaldist_entry *en, int *is_density,
                 bdrl_err *e)
{
    agent_dist d;
    if (agent_distribution(a, obs, action, &d, e))
        return -1;
    *is_density = d.is_density;
    bdrl_err ge;
    stat_dist *model = dist_from(&d, &ge);
    en->mass = d.mass;
    en->mean_truth = stat_dist_mean(truth);
    en->w1 = en->cramer = en->mean_model = NAN;
    en->w1_samples = en->w1_samples_model = NAN;
    if (model) {
        stat_cmp c;
        stat_dist_compare(model, truth, &c);
        en->w1 = c.w1;
        en->cramer = c.cramer;
        en->mean_model = stat_dist_mean(model);
    } else if (!d.is_density) {
        *e = ge;
        return -1;
    }
    /* else: a dead field (no positive value on the grid) has no law; report
     * it, do not abort the evaluation. */
    int rc = 0;
    if (o->sample && o->sample_walkers > 0) {
        stat_dist *sd = NULL;
        if (o->sample(o->sample_ctx, a, obs, action, o->sample_walkers, buf, e) ||
            !(sd = stat_dist_sample(buf, (size_t)o->sample_walkers, e)))
            rc = -1;
        else {
            en->w1_samples = stat_w1(sd, truth);
            if (model)
                en->w1_samples_model = stat_w1(sd, model);
        }
        stat_dist_free(sd);
    }
    stat_dist_free(model);
    return rc;
}

/* The exact law of Z(s, a) under policy and table t, as a stat_dist. */
static stat_dist *fl_law(const env_table *t, double gamma, const int *policy, int s, int a, bdrl_err *e)
{
    truth_atoms ta;
    if (truth_tab_distribution(t, gamma, policy, s, a, &ta, e))
        return NULL;
    stat_dist *d = stat_dist_atoms(ta.value, ta.prob, (size_t)ta.n, e);
    truth_atoms_free(&ta);
    return d;
}

static int run_table(agent *a, const exp_config *cfg, const evaldist_options *o, double *buf,
                          evaldist_result *r, bdrl_err *e)
{
    env *en = env_create(&cfg->env, e);
    if (!en)
        return -1;
    const env_table *t = env_transition_table(en), *tt = o->table ? o->table : t;
    int S = t->n_states, A = t->n_actions, rc = -1;
    if (o->table && (o->table->n_states != S || o->table->n_actions != A)) {
        err_set(e, "the truth's table has %d states and %d actions, the environment %d and %d", o->table->n_states,
                o->table->n_actions, S, A);
        goto done;
    }
    r->truth = o->table ? (o->truth_name ? o->truth_name : "given table") : "exact";
    if (a->n_actions != A) {
        err_set(e, "the agent has %d actions, %s %d", a->n_actions, env_name(en), A);
        goto done;
    }
    r->n_states = S;
    r->policy = err_malloc(sizeof(int) * (size_t)S, e);
    r->entries = err_calloc((size_t)S * (size_t)A, sizeof *r->entries, e);
    if (!r->policy || !r->entries)
        goto done;
    if (cfg->agent.mode == AGENT_CONTROL && a->risk.measure != RISK_MEAN) {
        if (risk_policies(a, cfg, t, r, e))
            goto done;
    } else if (evaldist_fl_policy(a, cfg, t, r->policy, &r->truth_policy, e))
        goto done;
    for (int s = 0; s < S; s++) {
        if (truth_tab_is_terminal(t, s))
            continue;
        float obs = (float)s;
        for (int act = 0; act < A; act++) {
            stat_dist *truth = fl_law(tt, cfg->agent.gamma, r->policy, s, act, e);
            if (!truth)
                goto done;
            evaldist_entry *ent = &r->entries[r->n];
            ent->state = s;
            ent->action = act;
            ent->w1_truth_exact = NAN;
            if (o->table) {
                stat_dist *exact = fl_law(t, cfg->agent.gamma, r->policy, s, act, e);
                if (!exact) {
                    stat_dist_free(truth);
                    goto done;
                }
                ent->w1_truth_exact = stat_w1(truth, exact);
                stat_dist_free(exact);
            }
            int fail = score(a, &obs, act, truth, o, buf, ent, &r->is_density, e);
            stat_dist_free(truth);
            if (fail) {
                err_prefix(e, "state %d, action %d", s, act);
                goto done;
            }
            r->n++;
        }
    }
    rc = 0;
done:
    env_free(en);
    return rc;
}

static int run_probes(agent *a, const exp_config *cfg, const evaldist_options *o, double *buf,
                      evaldist_result *r, bdrl_err *e)
{
    const env_kind_info *in = env_kind_describe(cfg->env.kind);
    env *en = env_create(&cfg->env, e);
    if (!en)
        return -1;
    int A = env_n_actions(en), sd = env_state_dim(en), n_roll = o->mc_rollouts > 0 ? o->mc_rollouts : 1;
    env_free(en);
    if (a->n_actions != A)
        return err_set(e, "the agent has %d actions, %s %d", a->n_actions, in->name, A);
    int K = o->mc_horizon;
    if (K <= 0 && truth_mc_horizon(cfg->agent.gamma, &K, e))
        return -1;
    r->state_dim = sd;
    r->mc_horizon = K;
    r->mc_rollouts = n_roll;
    r->truth_policy = "greedy";
    r->truth = "monte carlo";
    int n_states = o->given ? o->n_given : in->n_probes;
    r->entries = err_calloc((size_t)n_states * (size_t)A, sizeof *r->entries, e);
    double *ret = err_malloc(sizeof(double) * (size_t)n_roll, e);
    int rc = -1;
    if (!r->entries || !ret)
        goto done;
    if (o->given) {
        r->given = err_malloc(sizeof(double) * (size_t)n_states * (size_t)sd, e);
        if (!r->given)
            goto done;
        memcpy(r->given, o->given, sizeof(double) * (size_t)n_states * (size_t)sd);
    }
    for (int i = 0; i < n_states; i++) {
        const double *st = o->given ? o->given + (size_t)i * (size_t)sd : in->probe(i);
        float obs[ENV_OBS_MAX];
        bdrl_err oe;
        env *oen = env_create(&cfg->env, &oe);
        int bad_obs = !oen || env_observe_state(oen, st, obs, &oe);
        env_free(oen);
        if (bad_obs) {
            *e = oe;
            err_prefix(e, "%s %d", o->given ? "state" : "probe", i);
            goto done;
        }
        for (int act = 0; act < A; act++) {
            if (truth_mc_returns(&cfg->env, st, act, cfg->agent.gamma, K, evaldist_greedy_action, a,
                                  n_roll, ret, NULL, e))
                goto fail;
            stat_dist *truth = stat_dist_sample(ret, (size_t)n_roll, e);
            if (!truth)
                goto fail;
            evaldist_entry *ent = &r->entries[r->n];
            ent->state = i;
            ent->w1_truth_exact = NAN;
            ent->action = act;
            int bad = score(a, obs, act, truth, o, buf, ent, &r->is_density, e);
            stat_dist_free(truth);
            if (bad)
                goto fail;
            r->n++;
            continue;
        fail:
            err_prefix(e, "%s %d, action %d", o->given ? "state" : "probe", i, act);
            goto done;
        }
    }
    rc = 0;
done:
    free(ret);
    return rc;
}

int evaldist_run(agent *a, const exp_config *cfg, const evaldist_options *o, evaldist_result *out,
                 bdrl_err *e)
{
    memset(out, 0, sizeof *out);
    out->kind = cfg->env.kind;
    out->mean_w1 = out->mean_cramer = out->mean_w1_samples = out->mean_w1_samples_model = NAN;
    out->mean_w1_truth_exact = NAN;
    /* Exact laws from a transition table, else Monte Carlo from the env's
     * probe states, else nothing to compare with. */
    env *en0 = env_create(&cfg->env, e);
    if (!en0)
        return -1;
    int tabular = env_transition_table(en0) != NULL && !o->given, settable = env_state_dim(en0) > 0;
    env_free(en0);
    const env_kind_info *kin = env_kind_describe(cfg->env.kind);
    if (o->given && !settable)
        return err_set(e, "Monte Carlo laws from given states need an environment whose state can be set; %s has "
                          "none (a plugin provides it with bdrl_env_get_state and bdrl_env_set_state)", kin->name);
    if (!tabular && !o->given && kin->n_probes < 1)
        return err_set(e, "no reference return distributions for %s: it has neither a transition table "
                          "(exact laws) nor probe states (Monte Carlo)", kin->name);
    out->monte_carlo = !tabular;
    if (o->sample && o->sample_walkers < 1)
        return err_set(e, "sample_walkers must be at least 1, got %d", o->sample_walkers);
    double *buf = NULL;
    if (o->sample) {
        buf = err_malloc(sizeof(double) * (size_t)o->sample_walkers, e);
        if (!buf)
            return -1;
    }
    int rc = tabular ? run_table(a, cfg, o, buf, out, e) : run_probes(a, cfg, o, buf, out, e);
    free(buf);
    if (rc) {
        evaldist_result_free(out);
        return -1;
    }
    double s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0;
    int n1 = 0, n3 = 0, n4 = 0, n5 = 0;
    for (int i = 0; i < out->n; i++) {
        const evaldist_entry *en = &out->entries[i];
        if (isfinite(en->w1)) {
            s1 += en->w1;
            s2 += en->cramer;
            n1++;
        } else
            out->n_undefined++;
        if (isfinite(en->w1_samples)) {
            s3 += en->w1_samples;
            n3++;
        }
        if (isfinite(en->w1_samples_model)) {
            s4 += en->w1_samples_model;
            n4++;
        }
        if (isfinite(en->w1_truth_exact)) {
            s5 += en->w1_truth_exact;
            n5++;
        }
    }
    if (n5)
        out->mean_w1_truth_exact = s5 / n5;
    if (n1) {
        out->mean_w1 = s1 / n1;
        out->mean_cramer = s2 / n1;
    }
    if (n3)
        out->mean_w1_samples = s3 / n3;
    if (n4)
        out->mean_w1_samples_model = s4 / n4;
    return 0;
}

void evaldist_result_free(evaldist_result *r)
{
    free(r->entries);
    free(r->policy);
    free(r->agent_policy);
    r->agent_policy = NULL;
    free(r->given);
    r->given = NULL;
    r->entries = NULL;
    r->policy = NULL;
    r->n = 0;
}

void evaldist_json(json_writer *w, const evaldist_result *r)
{
    json_kv_num(w, "mean_w1", r->mean_w1);
    json_kv_num(w, "mean_cramer", r->mean_cramer);
    json_kv_num(w, "mean_w1_samples", r->mean_w1_samples);
    json_kv_num(w, "mean_w1_samples_model", r->mean_w1_samples_model);
    json_kv_int(w, "n_undefined", r->n_undefined);
    json_kv_str(w, "truth", r->truth ? r->truth : "");
    json_kv_num(w, "mean_w1_truth_exact", r->mean_w1_truth_exact);
    json_kv_str(w, "truth_policy", r->truth_policy ? r->truth_policy : "");
    if (r->monte_carlo) {
        json_kv_int(w, "mc_horizon", r->mc_horizon);
        json_kv_int(w, "mc_rollouts", r->mc_rollouts);
    } else if (r->policy) {
        json_key(w, "policy");
        json_array_begin(w);
        for (int s = 0; s < r->n_states; s++)
            json_int(w, r->policy[s]);
        json_array_end(w);
        if (r->agent_policy) {
            json_kv_str(w, "risk", r->risk);
            json_kv_int(w, "risk_converged", r->risk_converged);
            json_key(w, "agent_policy");
            json_array_begin(w);
            for (int s = 0; s < r->n_states; s++)
                json_int(w, r->agent_policy[s]);
            json_array_end(w);
            json_key(w, "policy_differ");
            json_object_begin(w);
            json_kv_int(w, "states", r->n_nonterminal);
            json_kv_int(w, "differ", r->n_differ);
            json_kv_int(w, "visited", r->n_visited);
            json_kv_int(w, "differ_visited", r->n_differ_visited);
            json_object_end(w);
        }
    }
    json_key(w, "per_state");
    json_array_begin(w);
    for (int i = 0; i < r->n; i++) {
        const evaldist_entry *en = &r->entries[i];
        json_object_begin(w);
        json_kv_int(w, "state", en->state);
        json_kv_int(w, "action", en->action);
        json_kv_num(w, "w1", en->w1);
        json_kv_num(w, "cramer", en->cramer);
        json_kv_num(w, "mean_model", en->mean_model);
        json_kv_num(w, "mean_truth", en->mean_truth);
        json_kv_num(w, "w1_samples", en->w1_samples);
        json_kv_num(w, "w1_samples_model", en->w1_samples_model);
        json_kv_num(w, "mass", en->mass);
        json_kv_num(w, "w1_truth_exact", en->w1_truth_exact);
        if (r->monte_carlo)
            json_kv_nums(w, r->given ? "env_state" : "obs",
                         r->given ? r->given + (size_t)en->state * (size_t)r->state_dim
                                  : env_kind_describe(r->kind)->probe(en->state), r->state_dim);
        json_object_end(w);
    }
    json_array_end(w);
}
