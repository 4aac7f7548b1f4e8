/* main.c — the bdrl command: dispatches to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/provenance.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"config", cmd_config, "print the configuration schema or a resolved config"},
    {"env", cmd_env, "list, inspect and roll out environments"},
    {"fit", cmd_fit, "generative mode: fit fields to data and sample them with BDD"},
    {"train", cmd_train, "train any registered agent into a run directory (or resume one)"},
    {"eval", cmd_eval, "a trained run's greedy return and distance of its distributions to the truth"},
    {"dist", cmd_dist, "a trained agent's return distribution at one state"},
    {"sample", cmd_sample, "returns drawn from a BD agent by Bellman Diffusion Dynamics"},
    {"plot", cmd_plot, "figures: return distributions, fields, learning curves, sweeps, policies, risk"},
    {"compare", cmd_compare, "several configs over several seeds, in parallel, summarized side by side"},
    {"sweep", cmd_sweep, "a hyper-parameter sweep (grid and random search) over seeds, resumable"},
    {"truth", cmd_truth, "the true return distribution of a policy at a state"},
    {"render", cmd_render, "a trained agent's greedy episodes as a GIF, beside its return laws"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: bdrl COMMAND [ARGS...]\n\n"
               "bdrl — distributional reinforcement learning with Bellman Diffusion.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nRun 'bdrl COMMAND --help' for a command's options, 'bdrl --version' for the version.\n");
}

int main(int argc, char **argv)
{
    cli_init(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("bdrl %s\n", provenance_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "bdrl: unknown command '%s' (run 'bdrl --help')\n", argv[1]);
    return 2;
}
