/* cmd_eval.c — `bdrl eval`: a trained run's greedy return and how close its
 * return distributions are to the truth. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/agent.h"
#include "train/evaldist.h"
#include "train/evaluate.h"
#include "train/run.h"
#include "train/checkpoint.h"
#include "train/train.h"
#include "truth/truth.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "core/io.h"
#include "core/json.h"

static const args_opt opts[] = {
    {"json", 0, 0, "", "print the JSON instead of a table"},
    {"episodes", 0, 1, "N", "greedy episodes (default 100)"},
    {"seed", 0, 1, "N", "base seed of the greedy episodes (default: the trainer's evaluation seed)"},
    {"epsilon", 0, 1, "E", "the episodes act ε-greedily with this ε in [0, 1] (default: the run's eval.epsilon, "
                           "0 = greedy; Dopamine evaluates MinAtar with 0.001)"},
    {"walkers", 0, 1, "N", "BD: Bellman Diffusion samples per (state, action) (default eval.sample_walkers)"},
    {"no-samples", 0, 0, "", "BD: skip the sample metric (mean_w1_samples null)"},
    {"rollouts", 0, 1, "N", "Monte Carlo truth: rollouts per (state, action) (default 1 at CartPole's probes, "
                            "1000 at --state states)"},
    {"truth", 0, 1, "exact|replay", "exact truth (FrozenLake, CliffWalking, tabular plugins): the transition table (default exact)"},
    {"state", 0, 1, "S", "Monte Carlo truth at this state instead (repeatable): an env whose state can be set, e.g. "
                         "a plugin without a transition table"},
};
static const args_spec spec = {
    "bdrl eval RUN [--json] [--episodes N] [--seed N] [--epsilon E] [--walkers N] [--no-samples] [--rollouts N]\n"
    "          [--truth exact|replay] [--state S]...",
    "Evaluates the trained agent of RUN:\n"
    "  - greedy return: mean and 95% bootstrap interval over N greedy episodes (the\n"
    "    trainer's evaluation episodes first: --episodes eval.episodes repeats the\n"
    "    trainer's last evaluation; --epsilon E: ε-greedy episodes, as eval.epsilon),\n"
    "    and the success rate (FrozenLake, CliffWalking:\n"
    "    entered the goal; CartPole: reached the time limit);\n"
    "  - per state and action, W1 and Cramér distance (return units) between the\n"
    "    agent's return distribution and the truth, and both means. States: every\n"
    "    non-terminal state of an environment with a transition table (FrozenLake,\n"
    "    CliffWalking, a tabular plugin), or the 20 CartPole probe states. Truth: the\n"
    "    exact law (transition table) of the run's own policy — the optimal one for\n"
    "    agent.mode evaluate, the agent's greedy policy for control — or Monte Carlo\n"
    "    returns of the greedy policy (CartPole, gamma^K < 1e-4, time limit ignored);\n"
    "    with --state S (repeatable), Monte Carlo returns of the greedy policy from those\n"
    "    states (any env whose state can be set: a plugin with bdrl_env_set_state). An env\n"
    "    with none of these (a plugin without a transition table or --state) gets the\n"
    "    greedy return alone;\n"
    "  - agents that sample returns (BD), unless --no-samples: at every scored (state,\n"
    "    action), --walkers (default eval.sample_walkers) Bellman Diffusion samples drawn\n"
    "    with the agent's default sampler (MALA-BDD with global moves), and their W1 to\n"
    "    the truth (w1_samples) and to the agent's own law (w1_samples_model, the\n"
    "    sampler's share of the error); the slow part of eval. Null for the others.\n"
    "  - --truth replay (transition tables): the truth is the exact law under the empirical\n"
    "    transition table of the run's replay buffer (checkpoint.bin), the fixed point\n"
    "    a perfect learner of those transitions reaches: the distances then measure\n"
    "    the learner alone, and mean_w1_truth_exact the data's own error (the W1 of\n"
    "    that fixed point to the exact law). Written to distributions_replay.json.\n"
    "Writes RUN/distributions.json and prints a table, or the JSON with --json. Keys:\n"
    "greedy_return_mean, greedy_return_ci, eval_epsilon, success_rate, mean_w1,\n"
    "mean_cramer, mean_w1_samples (null for C51), per_state [{state, action, w1, cramer,\n"
    "mean_model, mean_truth, ...}] (CartPole: state is the probe's index, obs the probe).",
    opts, (int)(sizeof opts / sizeof *opts), 0,
};


typedef struct {
    rng *r;
    long frozen, nonfinite, walkers;
    long proposed, accepted;
} sample_ctx;

static int bd_sample(void *ctx, agent *a, const float *obs, int action, int n, double *out, bdrl_err *e)
{
    sample_ctx *c = ctx;
    sde_config sc;
    sde_result res;
    agent_sampler_defaults(a, &sc);
    if (agent_sample(a, obs, action, &sc, n, out, &res, c->r, e))
        return -1;
    c->frozen += res.n_frozen;
    c->nonfinite += res.n_nonfinite;
    c->walkers += n;
    c->proposed += res.local_proposed;
    c->accepted += res.local_accepted;
    return 0;
}

static void write_json(FILE *f, const char *run, const exp_config *cfg, const agent *ag, const eval_result *g,
                       const evaldist_result *d, const sample_ctx *sc)
{
    json_writer w;
    json_init(&w, f);
    json_object_begin(&w);
    json_kv_str(&w, "run", run);
    json_kv_str(&w, "agent", ag->ops->name);
    json_kv_str(&w, "env", env_kind_describe(cfg->env.kind)->name);
    json_kv_num(&w, "gamma", cfg->agent.gamma);
    json_kv_int(&w, "episodes", g->episodes);
    json_kv_num(&w, "eval_epsilon", cfg->eval.epsilon);
    json_kv_num(&w, "greedy_return_mean", g->return_mean);
    json_kv_num(&w, "greedy_return_std", g->return_std);
    double ci[2] = {g->ci_lo, g->ci_hi};
    json_kv_nums(&w, "greedy_return_ci", ci, 2);
    json_kv_num(&w, "success_rate", g->success_rate);
    json_kv_num(&w, "length_mean", g->length_mean);
    if (sc->walkers) {
        json_kv_int(&w, "sample_walkers_total", sc->walkers);
        json_kv_int(&w, "sample_frozen_walkers", sc->frozen);
        json_kv_int(&w, "sample_nonfinite_walkers", sc->nonfinite);
        json_kv_num(&w, "sample_local_accept", sc->proposed ? (double)sc->accepted / sc->proposed : NAN);
    }
    if (d->truth)
        evaldist_json(&w, d);
    else
        json_kv_str(&w, "truth", "none");
    json_object_end(&w);
    fputc('\n', f);
}

static void print_table(const char *run, const exp_config *cfg, const agent *ag, const eval_result *g,
                        const evaldist_result *d, const sample_ctx *sc, int can_sample, int no_samples, int walkers)
{
    int cart = d->monte_carlo;
    printf("run %s: %s on %s, gamma %g\n", run, ag->ops->name, env_kind_describe(cfg->env.kind)->name,
           cfg->agent.gamma);
    if (cfg->eval.epsilon > 0)
        printf("ε-greedy return (ε = %g) ", cfg->eval.epsilon);
    else
        printf("greedy return ");
    printf("%.4g (95%% interval %.4g to %.4g) over %d episodes; success rate %.3f\n", g->return_mean, g->ci_lo,
           g->ci_hi, g->episodes, g->success_rate);
    if (!d->truth) {
        printf("distributions: no truth to compare with (no transition table, no probe states); give --state S "
               "for Monte Carlo laws at chosen states\n");
        return;
    }
    printf("distributions against the truth (policy: %s%s):\n", d->truth_policy,
           cart ? (d->given ? ", Monte Carlo from the given states" : ", Monte Carlo from the environment's probe states")
                : isfinite(d->mean_w1_truth_exact) ? ", exact under the replay's empirical transitions" : ", exact");
    if (isfinite(d->mean_w1_truth_exact))
        printf("  that truth's own mean W1 to the exact law (the data's error): %.4g\n", d->mean_w1_truth_exact);
    printf("  mean W1 %.4g, mean Cramer %.4g\n", d->mean_w1, d->mean_cramer);
    if (isfinite(d->mean_w1_samples))
        printf("  Bellman Diffusion samples (%d per (state, action), the agent's default sampler): mean W1 %.4g "
               "to the truth, %.4g to the agent's own law\n",
               walkers, d->mean_w1_samples, d->mean_w1_samples_model);
    else if (can_sample && no_samples)
        printf("  Bellman Diffusion samples: not drawn (--no-samples)\n");
    if (d->agent_policy)
        printf("  risk %s: the truth is the exact iterated risk-greedy policy (%s); the agent's greedy policy "
               "differs from it in %d of the %d states it visits, %d of all %d states\n",
               d->risk, d->risk_converged ? "converged" : "a cycle: its last policy", d->n_differ_visited,
               d->n_visited, d->n_differ, d->n_nonterminal);
    if (d->n_undefined)
        printf("  %d (state, action) pairs have a field <= 0 on the whole grid (left out of the means)\n",
               d->n_undefined);
    if (sc->walkers)
        printf("  sampler: %ld of %ld walkers frozen, local acceptance %.3f\n", sc->frozen, sc->walkers,
               sc->proposed ? (double)sc->accepted / sc->proposed : NAN);
    int samples = isfinite(d->mean_w1_samples);
    printf("\n%5s %6s %10s %10s %11s %11s%s\n", cart && !d->given ? "probe" : "state", "action", "w1", "cramer",
           "mean_model", "mean_truth", samples ? "  w1_samples" : "");
    for (int i = 0; i < d->n; i++) {
        const evaldist_entry *e = &d->entries[i];
        printf("%5d %6d %10.4g %10.4g %11.5g %11.5g", e->state, e->action, e->w1, e->cramer, e->mean_model,
               e->mean_truth);
        if (samples)
            printf("  %10.4g", e->w1_samples);
        printf("\n");
    }
}

/* The empirical transition table of RUN's replay buffer. */
static int replay_table(const char *run, const exp_config *cfg, const env *en, const agent *ag, env_table *out,
                        bdrl_err *e)
{
    char path[4096];
    replay *rb;
    if (io_join(path, sizeof path, run, RUN_FILE_CHECKPOINT, e) || ckpt_read_replay(path, cfg, ag, &rb, e))
        return -1;
    const env_table *t = env_transition_table(en);
    int S = t->n_states, A = t->n_actions;
    const size_t M = (size_t)t->max_outcomes;
    int64_t *counts = err_calloc((size_t)S * A * M, sizeof(int64_t), e);
    int rc = -1;
    if (!counts)
        goto out;
    if (rb->obs_dim != 1) {
        err_set(e, "%s: the replay's observations have %d components, not one state index", path, rb->obs_dim);
        goto out;
    }
    for (int64_t i = 0; i < rb->size; i++) {
        float o, o2; /* a tabular observation: one float, the state index */
        replay_obs(rb, i, &o);
        replay_next_obs(rb, i, &o2);
        int s = (int)o, s2 = (int)o2, a = rb->action[i];
        int k = truth_tab_match_outcome(t, s, a, s2, rb->reward[i], rb->terminated[i]);
        if (k < 0) {
            err_set(e, "%s: replay entry %lld (state %d, action %d -> state %d, reward %g%s) is not a transition "
                       "of this environment", path, (long long)i, s, a, s2, (double)rb->reward[i],
                    rb->terminated[i] ? ", terminated" : "");
            goto out;
        }
        counts[((size_t)s * A + a) * M + (size_t)k]++;
    }
    rc = truth_tab_empirical(t, counts, out, NULL, e);
out:
    free(counts);
    replay_free(rb);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse_one(&spec, argc, argv, &a, "bdrl eval", "one RUN directory");
    if (rc >= 0)
        return rc;
    const char *run = a.pos[0];
    long long episodes = 100, seed = -1, walkers = -1, rollouts = 1;
    const char *t;
    if ((t = args_get(&spec, &a, "episodes")) && args_int("--episodes", t, 1, 10000000, &episodes))
        return 2;
    if ((t = args_get(&spec, &a, "seed")) && args_int("--seed", t, 0, 9007199254740991LL, &seed))
        return 2;
    if ((t = args_get(&spec, &a, "walkers")) && args_int("--walkers", t, 1, 10000000, &walkers))
        return 2;
    if ((t = args_get(&spec, &a, "rollouts")) && args_int("--rollouts", t, 1, 1000000, &rollouts))
        return 2;
    double epsilon = -1; /* -1: the run's eval.epsilon */
    if ((t = args_get(&spec, &a, "epsilon")) && args_real("--epsilon", t, 0, 1, &epsilon))
        return 2;
    int no_samples = args_get(&spec, &a, "no-samples") != NULL;
    int replay_truth = 0;
    if ((t = args_get(&spec, &a, "truth"))) {
        if (!strcmp(t, "replay"))
            replay_truth = 1;
        else if (strcmp(t, "exact")) {
            fprintf(stderr, "bdrl eval: --truth must be exact or replay, got '%s'\n", t);
            return 2;
        }
    }

    exp_config cfg;
    env *en;
    agent *ag;
    bdrl_err e;
    if (run_load(run, &cfg, &en, &ag, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return 2;
    }
    rc = 1;
    env_table emp = {0};
    if (replay_truth && (!env_transition_table(en) || replay_table(run, &cfg, en, ag, &emp, &e))) {
        if (!env_transition_table(en))
            fprintf(stderr, "bdrl eval: --truth replay needs an environment with a transition table (%s has "
                            "none)\n", env_name(en));
        else
            fprintf(stderr, "bdrl: --truth replay: %s\n", e.msg);
        agent_free(ag);
        env_free(en);
        return 2;
    }
    sample_ctx sc = {0};
    evaldist_result d = {0};
    double *given = NULL;
    /* --state S...: checked before the greedy episodes, which take a while */
    int n_given = 0;
    const char *const *given_text = args_get_all(&spec, &a, "state", &n_given);
    if (n_given) {
        if (replay_truth) {
            fprintf(stderr, "bdrl eval: --state and --truth replay exclude each other (replay is a transition table's)\n");
            rc = 2;
            goto done;
        }
        given = calloc((size_t)n_given * ENV_STATE_MAX, sizeof *given);
        if (!given) {
            fprintf(stderr, "bdrl: out of memory\n");
            goto done;
        }
        int sd = env_state_dim(en);
        for (int i = 0; i < n_given; i++) {
            float obs[ENV_OBS_MAX];
            double st[ENV_STATE_MAX];
            if (sd < 1 || evaldist_parse_state(en, given_text[i], obs, st, &e)) {
                if (sd < 1)
                    fprintf(stderr, "bdrl eval: --state: the state of %s cannot be set (a plugin needs "
                                    "bdrl_env_get_state and bdrl_env_set_state)\n", env_name(en));
                else
                    fprintf(stderr, "bdrl eval: --state %s: %s\n", given_text[i], e.msg);
                rc = 2;
                goto done;
            }
            memcpy(given + (size_t)i * sd, st, sizeof(double) * (size_t)sd);
        }
    }
    if (epsilon >= 0)
        cfg.eval.epsilon = epsilon;
    eval_result g;
    uint64_t eseed = seed >= 0 ? (uint64_t)seed : train_eval_seed(&cfg);
    if (eval_greedy(&cfg, ag, (int)episodes, eseed, &g, &e)) {
        fprintf(stderr, "bdrl: greedy evaluation: %s\n", e.msg);
        goto done;
    }
    evaldist_options o;
    evaldist_options_default(&o);
    o.mc_rollouts = (int)rollouts;
    if (given) {
        o.given = given;
        o.n_given = n_given;
        if (!args_get(&spec, &a, "rollouts"))
            o.mc_rollouts = 1000; /* the env may be stochastic: a law, not one return */
    }
    /* no truth at all (a plugin without a table, probes or --state): the
     * greedy return alone */
    int no_truth = !given && !env_transition_table(en) && env_kind_describe(cfg.env.kind)->n_probes < 1;
    o.sample_walkers = walkers > 0 ? (int)walkers : cfg.eval.sample_walkers;
    if (agent_can_sample(ag) && !no_samples) {
        sc.r = rng_create((uint64_t)cfg.seed, RNG_STREAM_SAMPLER);
        o.sample = bd_sample;
        o.sample_ctx = &sc;
    }
    if (replay_truth) {
        o.table = &emp;
        o.truth_name = "replay";
    }
    if (!no_truth && evaldist_run(ag, &cfg, &o, &d, &e)) {
        fprintf(stderr, "bdrl: distributions: %s\n", e.msg);
        goto done;
    }
    char path[4096];
    io_atomic f;
    if (io_join(path, sizeof path, run, replay_truth ? "distributions_replay.json" : "distributions.json", &e) || io_atomic_open(&f, path, &e)) {
        fprintf(stderr, "bdrl: warning: %s (results not saved)\n", e.msg);
    } else {
        write_json(f.f, run, &cfg, ag, &g, &d, &sc);
        if (io_atomic_commit(&f, &e))
            fprintf(stderr, "bdrl: warning: %s (results not saved)\n", e.msg);
    }
    if (args_get(&spec, &a, "json"))
        write_json(stdout, run, &cfg, ag, &g, &d, &sc);
    else
        print_table(run, &cfg, ag, &g, &d, &sc, agent_can_sample(ag), no_samples, o.sample_walkers);
    rc = 0;
done:
    free(given);
    truth_tab_table_free(&emp);
    evaldist_result_free(&d);
    if (sc.r)
        rng_free(sc.r);
    agent_free(ag);
    env_free(en);
    return rc;
}
