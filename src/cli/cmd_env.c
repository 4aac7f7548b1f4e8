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
     "state set after reset: CartPole X,XDOT,THETA,THETADOT; FrozenLake, CliffWalking an index; Acrobot "
     "THETA1,THETA2,DTHETA1,DTHETA2; MountainCar POSITION,VELOCITY"},
    {"actions", 0, 1, "A,A,...", "actions to take, comma-separated (MinAtar: full-set indices 0-5)"},
    {"seed", 0, 1, "N", "seed of the reset (default: the config's seed; MinAtar: at most 2^32 - 1, as numpy)"},
    {"sticky", 0, 1, "P", "MinAtar: sticky-action probability (env.sticky_action_prob, default 0.1)"},
    {"no-ramping", 0, 0, NULL, "MinAtar: no difficulty ramping (env.difficulty_ramping=false)"},
};
static const args_spec list_spec = {"bdrl env list", "Lists the environments.", NULL, 0, 0};
static const args_spec info_spec = {
    "bdrl env info NAME [--set KEY=VALUE]...",
    "Describes an environment: observation and action spaces, time limit, map.", NULL, 0, 1};
static const args_spec rollout_spec = {
    "bdrl env rollout NAME [--state STATE] --actions A,A,... [--seed N] [--sticky P] [--no-ramping]\n"
    "                       [--set KEY=VALUE]...",
    "Resets NAME, sets the state if given, steps through the actions until they run\n"
    "out or the episode ends, and prints the internal state after each step as one\n"
    "CSV row (numbers as %.17g; the time limit truncates as in Gymnasium).\n"
    "--seed S seeds the reset as Gymnasium's reset(seed=S); CliffWalking draws from\n"
    "numpy's generator, so its trajectories are Gymnasium's draw for draw (the\n"
    "others draw from bdrl's own streams: the same laws, other numbers).\n"
    "CartPole: step,x,x_dot,theta,theta_dot,reward,terminated,truncated\n"
    "FrozenLake, CliffWalking: step,state,reward,terminated,truncated\n"
    "Acrobot: step,theta1,theta2,dtheta1,dtheta2,reward,terminated,truncated\n"
    "MountainCar: step,position,velocity,reward,terminated,truncated\n"
    "MinAtar games: step,action,reward,terminated,obs — row 0 is 0,-1,0,0 and the\n"
    "reset's observation; actions are full-set indices (0 noop, 1 left, 2 up,\n"
    "3 right, 4 down, 5 fire) whatever env.minimal_actions; the reward is an\n"
    "integer and obs the 10x10xC cells as 0/1 characters in C order. MinAtar has\n"
    "no time limit, so none applies unless --set env.max_episode_steps=N is given.",
    rollout_opts, 5, 1};
static const args_spec table_spec = {
    "bdrl env table NAME [--set KEY=VALUE]...",
    "Prints the transition table of a tabular environment (FrozenLake, CliffWalking,\n"
    "a tabular plugin) as CSV: state,action,prob,next_state,reward,terminated (the\n"
    "environment's outcome order; FrozenLake's and CliffWalking's are Gymnasium's P,\n"
    "coinciding outcomes kept apart as there).",
    NULL, 0, 1};
static const args_spec env_spec = {
    "bdrl env (list | info | rollout | table) ...",
    "Environments with Gymnasium's CartPole-v1, FrozenLake-v1, CliffWalking-v1,\n"
    "Acrobot-v1 and MountainCar-v0 semantics, and MinAtar 1.0.15's five games.\n\n"
    "  list      list the environments\n"
    "  info      spaces, limits and map of one environment\n"
    "  rollout   step through given actions and print the trajectory as CSV\n"
    "  table     print a tabular environment's transition table as CSV\n\n"
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
    char *all[ARGS_MAX_SETS + 8];
    all[0] = name_set;
    for (int i = 0; i < n_sets; i++)
        all[i + 1] = sets[i];
    bdrl_err e;
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
    int w = 0; /* the names' column: the longest name and 2 spaces */
    for (int k = 0; k < ENV_N_KINDS; k++) {
        int n = (int)strlen(env_kind_describe((env_kind)k)->name) + 2;
        w = n > w ? n : w;
    }
    for (int k = 0; k < ENV_N_KINDS; k++) {
        const env_kind_info *in = env_kind_describe((env_kind)k);
        printf("%-*s", w, in->name);
        /* continuation lines of the summary under its first */
        for (const char *p = in->summary; *p; p++) {
            putchar(*p);
            if (*p == '\n')
                printf("%*s", w, "");
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
    if (env_max_steps(en) == ENV_NO_TIME_LIMIT)
        printf("max_episode_steps: none\n");
    else
        printf("max_episode_steps: %d\n", env_max_steps(en));
    env_describe(en, &cfg.env, stdout);
    env_free(en);
    return 0;
}

/* Image observations as 0/1 characters in the array's C order (MinAtar's
 * state() flattened). */
static void print_cells(const float *obs, int n)
{
    char line[ENV_OBS_MAX + 1];
    for (int i = 0; i < n; i++)
        line[i] = obs[i] != 0.0f ? '1' : '0';
    line[n] = '\0';
    fputs(line, stdout);
}

/* The MinAtar-style rollout: step,action,reward,terminated,obs; row 0 is
 * the reset. */
static int rollout_image(env *en, const float *obs0, const int *actions, int n_act)
{
    const int d = env_obs_dim(en);
    printf("step,action,reward,terminated,obs\n0,-1,0,0,");
    print_cells(obs0, d);
    putchar('\n');
    for (int i = 0; i < n_act; i++) {
        env_step s = env_do_step(en, actions[i]);
        printf("%d,%d,%lld,%d,", i + 1, actions[i], (long long)s.reward, s.terminated);
        print_cells(s.obs, d);
        putchar('\n');
        if (s.terminated || s.truncated)
            break;
    }
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
    const char *sticky = args_get(&rollout_spec, &a, "sticky");
    int no_ramping = args_get(&rollout_spec, &a, "no-ramping") != NULL;
    const int kind = env_kind_by_name(a.pos[0]);
    const env_kind_info *ki = kind >= 0 ? env_kind_describe(kind) : NULL;
    if (ki && !ki->game_options && (sticky || no_ramping)) {
        fprintf(stderr, "bdrl env rollout: --%s is for the MinAtar games\n", sticky ? "sticky" : "no-ramping");
        return 2;
    }
    /* What the options stand for, as --set KEY=VALUE lines: the reference's
     * own time limit (none) first, so that a --set can still impose one; the
     * full action set last, since the actions given are full-set indices. */
    char *sets[ARGS_MAX_SETS + 4];
    char sticky_set[96];
    int n_sets = 0;
    if (ki && ki->reference_unlimited)
        sets[n_sets++] = "env.max_episode_steps=1000000000";
    for (int i = 0; i < a.n_sets; i++)
        sets[n_sets++] = a.sets[i];
    if (sticky) {
        snprintf(sticky_set, sizeof sticky_set, "env.sticky_action_prob=%s", sticky);
        sets[n_sets++] = sticky_set;
    }
    if (no_ramping)
        sets[n_sets++] = "env.difficulty_ramping=false";
    if (ki && ki->game_options)
        sets[n_sets++] = "env.minimal_actions=false";
    exp_config cfg;
    env *en = make_env(a.pos[0], sets, n_sets, &cfg);
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
    const env_kind_info *info = env_kind_describe(env_get_kind(en));
    if (seed_text) {
        if (args_int("--seed", seed_text, 0, 9007199254740991LL, &sv))
            goto done;
        seed = (uint64_t)sv;
    }
    if (info->seed_bits == 32 && seed > 0xffffffffu) {
        /* numpy's RandomState(seed) refuses it; the env itself would use the low 32 bits */
        fprintf(stderr, "bdrl env rollout: %s takes seeds from 0 to 2^32 - 1 (numpy's RandomState), got %llu\n",
                env_name(en), (unsigned long long)seed);
        goto done;
    }
    const float *obs0 = env_reset(en, &seed);
    const char *state_text = args_get(&rollout_spec, &a, "state");
    int sd = env_state_dim(en);
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
        bdrl_err e;
        if (env_set_state(en, st, &e)) {
            fprintf(stderr, "bdrl: --state: %s\n", e.msg);
            goto done;
        }
    }
    if (info->obs_shape[0] > 0) {
        rc = rollout_image(en, obs0, actions, n_act);
        goto done;
    }
    /* FrozenLake's integer state index prints the same under %.17g. */
    printf("step,%s,reward,terminated,truncated\n", env_state_names(en));
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

static int env_table_cmd(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse(&table_spec, argc, argv, &a);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (a.n_pos != 1) {
        fprintf(stderr, "bdrl env table: expected one environment NAME\n");
        return 2;
    }
    exp_config cfg;
    env *en = make_env(a.pos[0], a.sets, a.n_sets, &cfg);
    if (!en)
        return 2;
    const env_table *t = env_transition_table(en);
    if (!t) {
        fprintf(stderr, "bdrl env table: %s has no transition table\n", a.pos[0]);
        env_free(en);
        return 2;
    }
    printf("state,action,prob,next_state,reward,terminated\n");
    for (int s = 0; s < t->n_states; s++)
        for (int act = 0; act < t->n_actions; act++)
            for (int k = 0; k < t->n_outcomes[s * t->n_actions + act]; k++) {
                const env_outcome *o = env_table_outcome(t, s, act, k);
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
        return env_table_cmd(argc - 1, argv + 1);
    fprintf(stderr, "bdrl env: unknown subcommand '%s' (list, info, rollout, table)\n", sub);
    return 2;
}
