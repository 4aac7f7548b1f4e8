/* cmd_env.c — `bdrl env`: list, describe, roll out, and tabulate environments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/experiment.h"
#include "cli/args.h"
#include "cli/cli.h"

#define MAX_ACTIONS 100000

static const args_opt rollout_opts[] = {
    {"state", 0, 1, "STATE",
     "state set after reset: CartPole X,XDOT,THETA,THETADOT; FrozenLake an index; Acrobot "
     "THETA1,THETA2,DTHETA1,DTHETA2; MountainCar POSITION,VELOCITY"},
    {"actions", 0, 1, "A,A,...", "actions to take, comma-separated"},
    {"seed", 0, 1, "N", "seed of the reset (default: the config's seed)"},
};
static const args_spec list_spec = {"bdrl env list", "Lists the environments.", NULL, 0, 0};
static const args_spec info_spec = {
    "bdrl env info NAME [--set KEY=VALUE]...",
    "Describes an environment: observation and action spaces, time limit, map.", NULL, 0, 1};
static const args_spec rollout_spec = {
    "bdrl env rollout NAME [--state STATE] --actions A,A,... [--seed N] [--set KEY=VALUE]...",
    "Resets NAME, sets the state if given, steps through the actions until they run\n"
    "out or the episode ends, and prints the internal state after each step as one\n"
    "CSV row (numbers as %.17g; the time limit truncates as in Gymnasium).\n"
    "CartPole: step,x,x_dot,theta,theta_dot,reward,terminated,truncated\n"
    "FrozenLake: step,state,reward,terminated,truncated\n"
    "Acrobot: step,theta1,theta2,dtheta1,dtheta2,reward,terminated,truncated\n"
    "MountainCar: step,position,velocity,reward,terminated,truncated",
    rollout_opts, 3, 1};
static const args_spec table_spec = {
    "bdrl env table frozenlake [--set KEY=VALUE]...",
    "Prints FrozenLake's transition table as CSV:\n"
    "state,action,prob,next_state,reward,terminated (Gymnasium's outcome order).",
    NULL, 0, 1};
static const args_spec env_spec = {
    "bdrl env (list | info | rollout | table) ...",
    "Environments with Gymnasium's CartPole-v1, FrozenLake-v1, Acrobot-v1 and\n"
    "MountainCar-v0 semantics.\n\n"
    "  list      list the environments\n"
    "  info      spaces, limits and map of one environment\n"
    "  rollout   step through given actions and print the trajectory as CSV\n"
    "  table     print FrozenLake's transition table as CSV\n\n"
    "Run 'bdrl env SUBCOMMAND --help' for details.",
    NULL, 0, 0};

/* Resolves the experiment schema with env.name forced to NAME. */
static env *make_env(const char *name, char **sets, int n_sets, exp_config *cfg)
{
    if (env_kind_by_name(name) < 0) {
        fprintf(stderr, "bdrl env: unknown environment '%s' (", name);
        for (int k = 0; k < ENV_N_KINDS; k++)
            fprintf(stderr, "%s%s", k ? ", " : "", env_kind_describe((env_kind)k)->name);
        fprintf(stderr, ")\n");
        return NULL;
    }
    char name_set[64];
    snprintf(name_set, sizeof name_set, "env.name=%s", name);
    char *all[ARGS_MAX_SETS + 1];
    all[0] = name_set;
    for (int i = 0; i < n_sets; i++)
        all[i + 1] = sets[i];
    bd_err e;
    if (exp_load(cfg, NULL, all, n_sets + 1, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return NULL;
    }
    env *en = env_create(&cfg->env, &e);
    if (!en)
        fprintf(stderr, "bdrl: %s\n", e.msg);
    return en;
}

static int env_list(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse(&list_spec, argc, argv, &a);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (a.n_pos) {
        fprintf(stderr, "bdrl env list: takes no arguments\n");
        return 2;
    }
    for (int k = 0; k < ENV_N_KINDS; k++) {
        const env_kind_info *in = env_kind_describe((env_kind)k);
        printf("%-12s", in->name);
        /* continuation lines of the summary under its first */
        for (const char *p = in->summary; *p; p++) {
            putchar(*p);
            if (*p == '\n')
                printf("%12s", "");
        }
        putchar('\n');
    }
    return 0;
}

static int env_info(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse_one(&info_spec, argc, argv, &a, "bdrl env info", "one environment NAME");
    if (rc >= 0)
        return rc;
    exp_config cfg;
    env *en = make_env(a.pos[0], a.sets, a.n_sets, &cfg);
    if (!en)
        return 2;
    printf("name: %s\n", env_name(en));
    printf("observation_dim: %d\n", env_obs_dim(en));
    printf("n_actions: %d\n", env_n_actions(en));
    printf("max_episode_steps: %d\n", env_max_steps(en));
    if (env_get_kind(en) == ENV_CARTPOLE) {
        printf("actions: 0 push left, 1 push right\n");
        printf("observation: x, x_dot, theta, theta_dot (float32 copies of the float64 state)\n");
        printf("integrator: %s\n", cfg.env.semi_implicit ? "semi_implicit" : "euler");
        printf("termination: |x| > 2.4 or |theta| > 12 degrees\n");
        printf("reward: %s\n", cfg.env.sutton_barto_reward ? "0 per step, -1 on termination"
                                                           : "1 per step, including the terminating one");
    } else if (env_get_kind(en) == ENV_ACROBOT) {
        printf("actions: 0 torque -1, 1 torque 0, 2 torque +1 (on the joint between the links)\n");
        printf("observation: cos theta1, sin theta1, cos theta2, sin theta2, dtheta1, dtheta2 (float32)\n");
        printf("state: theta1, theta2 wrapped to [-pi, pi]; dtheta1 in [-4 pi, 4 pi], dtheta2 in [-9 pi, 9 pi]\n");
        printf("integrator: rk4, dt 0.2 (the book's dynamics)\n");
        printf("termination: -cos(theta1) - cos(theta2 + theta1) > 1\n");
        printf("reward: -1 per step, 0 on the terminating one\n");
    } else if (env_get_kind(en) == ENV_MOUNTAINCAR) {
        printf("actions: 0 accelerate left, 1 none, 2 accelerate right\n");
        printf("observation: position, velocity (float32 copies of the float64 state)\n");
        printf("state: position in [-1.2, 0.6] (velocity zeroed at the left wall), velocity in [-0.07, 0.07]\n");
        printf("termination: position >= 0.5 and velocity >= 0\n");
        printf("reward: -1 per step, including the terminating one\n");
    } else {
        const fl_table *t = env_frozenlake_table(en);
        printf("actions: 0 left, 1 down, 2 right, 3 up\n");
        printf("n_states: %d\n", t->n_states);
        printf("slippery: %s (intended direction with probability %.17g)\n",
               cfg.env.slippery ? "true" : "false", cfg.env.slippery ? cfg.env.success_rate : 1.0);
        printf("rewards: goal %g, hole %g, frozen %g\n", cfg.env.reward_goal, cfg.env.reward_hole,
               cfg.env.reward_frozen);
        printf("map:\n");
        for (int r = 0; r < t->nrow; r++)
            printf("  %.*s\n", t->ncol, t->desc + r * t->ncol);
    }
    env_free(en);
    return 0;
}

static int env_rollout(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse_one(&rollout_spec, argc, argv, &a, "bdrl env rollout", "one environment NAME");
    if (rc >= 0)
        return rc;
    const char *acts = args_get(&rollout_spec, &a, "actions");
    if (!acts) {
        fprintf(stderr, "bdrl env rollout: --actions is required\n");
        return 2;
    }
    exp_config cfg;
    env *en = make_env(a.pos[0], a.sets, a.n_sets, &cfg);
    if (!en)
        return 2;
    int *actions = malloc(sizeof(int) * MAX_ACTIONS);
    rc = 2;
    if (!actions) {
        fprintf(stderr, "bdrl: out of memory\n");
        goto done;
    }
    int n_act = args_int_list("--actions", acts, 0, env_n_actions(en) - 1, actions, MAX_ACTIONS);
    if (n_act < 0)
        goto done;
    uint64_t seed = (uint64_t)cfg.seed;
    const char *seed_text = args_get(&rollout_spec, &a, "seed");
    long long sv;
    if (seed_text) {
        if (args_int("--seed", seed_text, 0, 9007199254740991LL, &sv))
            goto done;
        seed = (uint64_t)sv;
    }
    env_reset(en, &seed);
    const char *state_text = args_get(&rollout_spec, &a, "state");
    int sd = env_state_dim(en);
    const env_kind_info *info = env_kind_describe(env_get_kind(en));
    if (state_text) {
        double st[8];
        int n = args_real_list("--state", state_text, st, 8);
        if (n < 0)
            goto done;
        if (n != sd) {
            fprintf(stderr, "bdrl env rollout: --state needs %d number%s for %s (%s), got %d\n", sd,
                    sd > 1 ? "s" : "", env_name(en), info->state_help, n);
            goto done;
        }
        bd_err e;
        if (env_set_state(en, st, &e)) {
            fprintf(stderr, "bdrl: --state: %s\n", e.msg);
            goto done;
        }
    }
    /* FrozenLake's integer state index prints the same under %.17g. */
    printf("step,%s,reward,terminated,truncated\n", info->state_names);
    for (int i = 0; i < n_act; i++) {
        env_step s = env_do_step(en, actions[i]);
        double st[ENV_STATE_MAX];
        env_get_state(en, st);
        printf("%d", i + 1);
        for (int k = 0; k < sd; k++)
            printf(",%.17g", st[k]);
        printf(",%.17g,%d,%d\n", s.reward, s.terminated, s.truncated);
        if (s.terminated || s.truncated)
            break;
    }
    rc = 0;
done:
    free(actions);
    env_free(en);
    return rc;
}

static int env_table(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse(&table_spec, argc, argv, &a);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (a.n_pos != 1 || strcmp(a.pos[0], "frozenlake")) {
        fprintf(stderr, "bdrl env table: only 'frozenlake' has a transition table\n");
        return 2;
    }
    exp_config cfg;
    env *en = make_env(a.pos[0], a.sets, a.n_sets, &cfg);
    if (!en)
        return 2;
    const fl_table *t = env_frozenlake_table(en);
    printf("state,action,prob,next_state,reward,terminated\n");
    for (int s = 0; s < t->n_states; s++)
        for (int act = 0; act < t->n_actions; act++)
            for (int k = 0; k < t->n_outcomes[s * t->n_actions + act]; k++) {
                const fl_outcome *o = fl_table_outcome(t, s, act, k);
                printf("%d,%d,%.17g,%d,%.17g,%d\n", s, act, o->prob, o->next_state, o->reward,
                       o->terminated);
            }
    env_free(en);
    return 0;
}

int cmd_env(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "bdrl env: expected a subcommand: list, info, rollout or table (see 'bdrl env --help')\n");
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        args_print_help(&env_spec, stdout);
        return 0;
    }
    if (!strcmp(sub, "list"))
        return env_list(argc - 1, argv + 1);
    if (!strcmp(sub, "info"))
        return env_info(argc - 1, argv + 1);
    if (!strcmp(sub, "rollout"))
        return env_rollout(argc - 1, argv + 1);
    if (!strcmp(sub, "table"))
        return env_table(argc - 1, argv + 1);
    fprintf(stderr, "bdrl env: unknown subcommand '%s' (list, info, rollout, table)\n", sub);
    return 2;
}
