/* cmd_sample.c — `bdrl sample`: returns drawn from a trained Bellman
 * Diffusion agent by Bellman Diffusion Dynamics. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/agent.h"
#include "train/evaldist.h"
#include "train/run.h"
#include "cli/args.h"
#include "cli/cli.h"

static const args_opt opts[] = {
    {"state", 0, 1, "S", "FrozenLake: a state index; CartPole: X,XDOT,THETA,THETADOT"},
    {"action", 0, 1, "A", "the action"},
    {"n", 'n', 1, "N", "number of returns (walkers)"},
    {"sampler", 0, 1, "em|mala", "Euler-Maruyama BDD or Metropolis-adjusted BDD (default mala)"},
    {"steps", 0, 1, "K", "local steps per walker (default 1000)"},
    {"eta", 0, 1, "X", "step size in normalized return units (default 0.02 * agent.eps_kernel)"},
    {"global-every", 0, 1, "K", "a global independence move every K steps; 0 = none (default 10)"},
    {"seed", 0, 1, "N", "sampler seed (default: the run's seed)"},
};
static const args_spec spec = {
    "bdrl sample RUN --state S --action A -n N [--sampler em|mala] [--steps K] [--eta X]\n"
    "                   [--global-every K] [--seed N]",
    "Draws N returns of Z(s, a) from the Bellman Diffusion agent of RUN by integrating\n"
    "Bellman Diffusion Dynamics dx = g(x) dt + sqrt(s(x)) dW on its learned fields, and\n"
    "prints them one per line (return units). Walkers start uniform over the agent's\n"
    "grid range. Default: Metropolis-adjusted BDD (mala) with a global independence\n"
    "move every 10 steps (walkers cannot cross low-density gaps otherwise: docs/design.md\n"
    "§1.3); '--sampler em --global-every 0' is the paper's plain sampler.\n"
    "A diagnostics line goes to stderr: frozen and non-finite walkers, acceptance\n"
    "rates, mean. A C51 run has no fields to sample: use 'bdrl dist' (exit 2).",
    opts, (int)(sizeof opts / sizeof *opts), 0,
};

int cmd_sample(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse_one(&spec, argc, argv, &a, "bdrl sample", "one RUN directory");
    if (rc >= 0)
        return rc;
    const char *state_text = args_get(&spec, &a, "state"), *act_text = args_get(&spec, &a, "action");
    const char *n_text = args_get(&spec, &a, "n"), *t;
    if (!state_text || !act_text || !n_text) {
        fprintf(stderr, "bdrl sample: --state, --action and -n are required\n");
        return 2;
    }
    long long n, steps = -1, every = -1, seed = -1;
    if (args_int("-n", n_text, 1, 100000000, &n))
        return 2;
    if ((t = args_get(&spec, &a, "steps")) && args_int("--steps", t, 0, 100000000, &steps))
        return 2;
    if ((t = args_get(&spec, &a, "global-every")) && args_int("--global-every", t, 0, 100000000, &every))
        return 2;
    if ((t = args_get(&spec, &a, "seed")) && args_int("--seed", t, 0, 9007199254740991LL, &seed))
        return 2;
    double eta = -1;
    if ((t = args_get(&spec, &a, "eta"))) {
        char *end;
        eta = strtod(t, &end);
        if (!*t || *end || !(eta > 0) || !isfinite(eta)) {
            fprintf(stderr, "bdrl: --eta expects a positive number, got '%s'\n", t);
            return 2;
        }
    }
    sde_method method = SDE_MALA;
    const char *smp = args_get(&spec, &a, "sampler");
    if (smp) {
        if (!strcmp(smp, "em"))
            method = SDE_EM;
        else if (strcmp(smp, "mala")) {
            fprintf(stderr, "bdrl: --sampler must be em or mala, got '%s'\n", smp);
            return 2;
        }
    }

    exp_config cfg;
    env *en;
    agent *ag;
    bdrl_err e;
    if (run_load(a.pos[0], &cfg, &en, &ag, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return 2;
    }
    rc = 2;
    double *x = NULL;
    rng *r = NULL;
    if (!agent_can_sample(ag)) {
        fprintf(stderr, "bdrl sample: %s is a %s run; sampling needs Bellman Diffusion fields (see 'bdrl "
                        "dist' for its atoms)\n", a.pos[0], ag->ops->name);
        goto done;
    }
    float obs[ENV_OBS_MAX];
    if (evaldist_parse_state(en, state_text, obs, NULL, &e)) {
        fprintf(stderr, "bdrl: --state: %s\n", e.msg);
        goto done;
    }
    long long act;
    if (args_int("--action", act_text, 0, ag->n_actions - 1, &act))
        goto done;
    sde_config sc;
    agent_sampler_defaults(ag, &sc);
    sc.method = method;
    if (steps >= 0)
        sc.n_steps = (int)steps;
    if (every >= 0)
        sc.global_every = (int)every;
    if (eta > 0)
        sc.eta = eta;
    rc = 1;
    x = malloc(sizeof(double) * (size_t)n);
    r = rng_create(seed >= 0 ? (uint64_t)seed : (uint64_t)cfg.seed, RNG_STREAM_SAMPLER);
    if (!x || !r) {
        fprintf(stderr, "bdrl: out of memory\n");
        goto done;
    }
    sde_result res;
    if (agent_sample(ag, obs, (int)act, &sc, (int)n, x, &res, r, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        goto done;
    }
    double m = 0;
    for (long long i = 0; i < n; i++) {
        printf("%.17g\n", x[i]);
        m += x[i];
    }
    fprintf(stderr,
            "# sampler %s, %d steps, eta %g (u units), global move every %d: frozen walkers %d/%lld, "
            "non-finite %d, local acceptance %.3f, global acceptance %.3f, mean %.6g\n",
            method == SDE_MALA ? "mala" : "em", sc.n_steps, sc.eta, sc.global_every, res.n_frozen, n,
            res.n_nonfinite, res.local_accept, res.global_accept, m / (double)n);
    rc = 0;
done:
    free(x);
    if (r)
        rng_free(r);
    agent_free(ag);
    env_free(en);
    return rc;
}
