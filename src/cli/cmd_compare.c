/* cmd_compare.c — `bdrl compare`: several configs over several seeds, run in
 * parallel, summarized side by side (research/compare.h). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "research/compare.h"
#include "research/pool.h"

static const args_opt opts[] = {
    {"seeds", 0, 1, "N", "N seeds for every config (default 10)"},
    {"first-seed", 0, 1, "S", "the seeds are S..S+N-1 (default 1; e.g. 101 for seeds held out from tuning)"},
    {"jobs", 'j', 1, "JOBS", "runs at a time (default: the number of cores)"},
    {"out", 0, 1, "DIR", "output directory (default runs/compare/<stem1>_vs_<stem2>...)"},
    {"truth", 0, 0, "", "mean W1 to the truth for every config (default: FrozenLake configs only)"},
    {"no-truth", 0, 0, "", "no distance to the truth (skips `bdrl eval` of each run)"},
    {"quiet", 'q', 0, "", "no progress lines"},
};
static const args_spec spec = {
    "bdrl compare CONFIG... [--seeds N] [--first-seed S] [-j JOBS] [--out DIR] [--set KEY=VALUE]... [--truth|--no-truth]",
    "Trains every CONFIG with seeds S..S+N-1 (default 1..N), each run a `bdrl train` process in its own\n"
    "directory (DIR/runs/<config>_s<seed>, its output in DIR/logs/), JOBS at a time,\n"
    "then writes into DIR:\n"
    "  comparison.md, comparison.csv, comparison.json: per config, steps to threshold\n"
    "    (median, interquartile range, seeds that reached it; an unreached seed counts\n"
    "    as infinitely many steps), final and best evaluation return and the area\n"
    "    under the evaluation curve (mean and 95% bootstrap interval), wall time and\n"
    "    steps/s; for FrozenLake the final success rate and the mean W1 of the\n"
    "    learned return distributions to the exact truth (`bdrl eval`); and the ratio\n"
    "    of median steps to threshold, first config / each other;\n"
    "  curves.png, curves.svg (data curves.dat, script curves.gp): evaluation return\n"
    "    against environment steps, mean and 95% band per config, threshold dashed.\n"
    "--set applies to every config (e.g. --set train.total_steps=20000). Running the\n"
    "same command again keeps finished runs and resumes interrupted ones from their\n"
    "checkpoints. Ctrl-C stops every run cleanly (checkpoints written); exit 130.\n"
    "Exit status: 0 all runs finished, 1 some failed (their logs are named), 2 bad\n"
    "input.\n"
    "Example: bdrl compare configs/cartpole_bd.yaml configs/cartpole_c51.yaml --seeds 10",
    opts, 6, 1,
};

static volatile sig_atomic_t stop_signal = 0;
static void on_signal(int sig) { stop_signal = sig; }

int cmd_compare(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse(&spec, argc, argv, &a);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (a.n_pos < 1) {
        fprintf(stderr, "bdrl compare: expected one or more CONFIG files (see 'bdrl compare --help')\n");
        return 2;
    }
    long long seeds = 10, jobs = 0, first = 1;
    const char *t;
    if ((t = args_get(&spec, &a, "seeds")) && args_int("--seeds", t, 1, 100000, &seeds))
        return 2;
    if ((t = args_get(&spec, &a, "first-seed")) && args_int("--first-seed", t, 0, 1000000000, &first))
        return 2;
    if ((t = args_get(&spec, &a, "jobs")) && args_int("--jobs", t, 1, 4096, &jobs))
        return 2;
    int truth = -1;
    if (args_get(&spec, &a, "truth") && args_get(&spec, &a, "no-truth")) {
        fprintf(stderr, "bdrl compare: --truth and --no-truth exclude each other\n");
        return 2;
    }
    if (args_get(&spec, &a, "truth"))
        truth = 1;
    if (args_get(&spec, &a, "no-truth"))
        truth = 0;
    char out[4096];
    if ((t = args_get(&spec, &a, "out"))) {
        snprintf(out, sizeof out, "%s", t);
    } else {
        size_t k = (size_t)snprintf(out, sizeof out, "runs/compare/");
        for (int i = 0; i < a.n_pos && k < sizeof out; i++) {
            const char *b = strrchr(a.pos[i], '/');
            b = b ? b + 1 : a.pos[i];
            size_t len = strcspn(b, ".");
            k += (size_t)snprintf(out + k, sizeof out - k, "%s%.*s", i ? "_vs_" : "", (int)len, b);
        }
        if (k >= sizeof out) {
            fprintf(stderr, "bdrl compare: output path too long; give --out\n");
            return 2;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* First signal: forwarded to every run (they checkpoint and stop); a
     * second one ends bdrl at once, and its runs with it. */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    compare_options o = {
        .n_configs = a.n_pos,
        .configs = a.pos,
        .n_seeds = (int)seeds,
        .first_seed = (int)first,
        .sets = a.sets,
        .n_sets = a.n_sets,
        .out = out,
        .jobs = (int)jobs,
        .truth = truth,
        .progress = args_get(&spec, &a, "quiet") ? NULL : stderr,
        .stop = &stop_signal,
        .exe = NULL,
    };
    int failed = 0, bad = 0;
    bd_err e;
    if (compare_run(&o, &failed, &bad, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return bad ? 2 : 1;
    }
    if (stop_signal) {
        fprintf(stderr, "bdrl compare: interrupted; finished runs are summarized in %s/comparison.md; run the "
                        "same command again to finish\n", out);
        return 128 + stop_signal;
    }
    if (failed) {
        fprintf(stderr, "bdrl compare: %d run(s) failed (see the lines above and %s/logs/); the others are "
                        "summarized in %s/comparison.md\n", failed, out, out);
        return 1;
    }
    fprintf(stderr, "bdrl compare: results in %s/comparison.md (and .csv, .json, curves.png)\n", out);
    return 0;
}
