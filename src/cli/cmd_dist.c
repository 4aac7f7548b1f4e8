/* cmd_dist.c — `bdrl dist`: a trained agent's return distribution at one
 * state, as the agent reports it (agent_distribution: atoms or a density). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "train/evaldist.h"
#include "train/run.h"
#include "cli/args.h"
#include "cli/cli.h"

static const args_opt opts[] = {
    {"state", 0, 1, "S", "a state index (FrozenLake, CliffWalking, tabular plugins), or the state's components (CartPole: "
                         "X,XDOT,THETA,THETADOT; bdrl env info NAME lists them)"},
    {"action", 0, 1, "A", "only this action (default: every action)"},
};
static const args_spec spec = {
    "bdrl dist RUN --state S [--action A]",
    "Prints the return distribution the trained agent of RUN holds at one state, for\n"
    "each action, in return units, as atoms or as a density:\n"
    "  atoms: CSV action,return,prob — C51: its c51.atoms atoms on [v_min, v_max];\n"
    "    QR-DQN: its qrdqn.quantiles quantiles, probability 1/N each; IQN: its quantile\n"
    "    function at iqn.law_points midpoints, equally weighted; DQN: one atom at Q\n"
    "    (probability 1); BD with bd.readout atoms: the basis bumps' centres weighted\n"
    "    by their coefficients;\n"
    "  density: CSV action,return,density — BD with bd.readout density, or its grid\n"
    "    fields: max(s, 0) on the agent's grid, normalized to integrate to 1 (each grid\n"
    "    point stands for a cell of the grid spacing, the reading that gives the\n"
    "    agent's Q value as the mean).\n"
    "For each action the mean (the Q value) and, for a density, its grid mass of\n"
    "max(s, 0) before normalization go to stderr. Compare with\n"
    "'bdrl truth CONFIG --policy RUN'.",
    opts, (int)(sizeof opts / sizeof *opts), 0,
};

int cmd_dist(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse_one(&spec, argc, argv, &a, "bdrl dist", "one RUN directory");
    if (rc >= 0)
        return rc;
    const char *state_text = args_get(&spec, &a, "state");
    if (!state_text) {
        fprintf(stderr, "bdrl dist: --state is required\n");
        return 2;
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
    float obs[ENV_OBS_MAX];
    if (evaldist_parse_state(en, state_text, obs, NULL, &e)) {
        fprintf(stderr, "bdrl: --state: %s\n", e.msg);
        goto done;
    }
    int A = ag->n_actions, a0 = 0, a1 = A - 1;
    const char *act_text = args_get(&spec, &a, "action");
    if (act_text) {
        long long v;
        if (args_int("--action", act_text, 0, A - 1, &v))
            goto done;
        a0 = a1 = (int)v;
    }
    rc = 1;
    for (int act = a0; act <= a1; act++) {
        agent_dist d;
        if (agent_distribution(ag, obs, act, &d, &e)) {
            fprintf(stderr, "bdrl: %s\n", e.msg);
            goto done;
        }
        if (act == a0)
            printf(d.is_density ? "action,return,density\n" : "action,return,prob\n");
        double m = 0, z = 0;
        if (!d.is_density) {
            for (int i = 0; i < d.n; i++) {
                printf("%d,%.17g,%.17g\n", act, d.x[i], d.w[i]);
                m += d.x[i] * d.w[i];
                z += d.w[i];
            }
            fprintf(stderr, "# action %d: mean %.6g\n", act, z > 0 ? m / z : NAN);
            continue;
        }
        double h = d.n > 1 ? (d.x[d.n - 1] - d.x[0]) / (d.n - 1) : 0;
        for (int i = 0; i < d.n; i++) {
            double w = d.w[i] > 0 ? d.w[i] : 0;
            m += d.x[i] * w;
            z += w;
        }
        if (!(z > 0) || !(h > 0) || !isfinite(z)) {
            fprintf(stderr, "bdrl: action %d: the scalar field is not positive anywhere on the grid (no "
                            "distribution to show)\n", act);
            goto done;
        }
        for (int i = 0; i < d.n; i++)
            printf("%d,%.17g,%.17g\n", act, d.x[i], (d.w[i] > 0 ? d.w[i] : 0) / (z * h));
        fprintf(stderr, "# action %d: mean %.6g, grid mass before normalization %.6g\n", act, m / z,
                d.mass);
    }
    rc = 0;
done:
    agent_free(ag);
    env_free(en);
    return rc;
}
