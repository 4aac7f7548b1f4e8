/* cmd_compare.c — `bdrl compare`: several configs over several seeds, run in
 * parallel, summarized side by side (research/compare.h). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/batch.h"
#include "cli/cli.h"
#include "research/compare.h"
#include "research/pool.h"
#include "research/suite.h"
#include "core/io.h"

static const args_opt opts[] = {
    {"seeds", 0, 1, "N", "N seeds for every config (default 10)"},
    {"first-seed", 0, 1, "S", "the seeds are S..S+N-1 (default 1; e.g. 101 for seeds held out from tuning)"},
    {"jobs", 'j', 1, "JOBS", "runs at a time (default: the number of cores)"},
    {"out", 0, 1, "DIR", "output directory (default runs/compare/<stem1>_vs_<stem2>...)"},
    {"truth", 0, 0, "", "mean W1 to the truth for every config (default: configs of environments with a transition table, e.g. FrozenLake; a plugin's only with --truth)"},
    {"no-truth", 0, 0, "", "no distance to the truth (skips `bdrl eval` of each run)"},
    {"quiet", 'q', 0, "", "no progress lines"},
    {"only", 0, 1, "I", "run run I alone (config I / N, seed S + I % N); no eval, no tables (Slurm array tasks)"},
    {"slurm", 0, 0, "", "submit the unfinished runs as a Slurm job array, and a summary job after it"},
    {"slurm-opt", 0, 1, "KEY=VALUE", "an sbatch option for --slurm, repeatable (see bdrl sweep --help)"},
    {"dry-run", 0, 0, "", "with --slurm: print both job scripts; write and submit nothing"},
    {"status", 0, 0, "", "runs pending/running/finished/diverged/failed, the best config so far, time left"},
    {"aggregate", 0, 0, "", "the arguments are finished comparison directories: write their aggregate over environments"},
    {"random", 0, 1, "ENV=VALUE", "aggregate: the score normalized to 0 on ENV (default: the random policy's, measured)"},
    {"reference", 0, 1, "ENV=VALUE", "aggregate: the score normalized to 1 on ENV (default: its evaluation threshold; best: its best run's)"},
    {"score", 0, 1, "final|last-quarter", "aggregate: a run's final evaluation (default) or the mean of its last quarter's"},
};
static const args_spec spec = {
    "bdrl compare CONFIG... [--seeds N] [--first-seed S] [-j JOBS] [--out DIR] [--set KEY=VALUE]... [--truth|--no-truth]\n"
    "       bdrl compare CONFIG... [--seeds N] [--first-seed S] [--out DIR] [--set ...] --slurm [--slurm-opt KEY=VALUE]...\n"
    "            [--dry-run]\n"
    "       bdrl compare CONFIG... [--seeds N] [--first-seed S] [--out DIR] [--set ...] (--status | --only I)\n"
    "       bdrl compare --aggregate DIR... [--out OUT] [--random ENV=VALUE]... [--reference ENV=VALUE]...\n"
    "            [--score final|last-quarter]",
    "Trains every CONFIG with seeds S..S+N-1 (default 1..N), each run a `bdrl train` process in its own\n"
    "directory (DIR/runs/<config>_s<seed>, its output in DIR/logs/), JOBS at a time,\n"
    "then writes into DIR:\n"
    "  comparison.md, comparison.csv, comparison.json: per config, steps to threshold\n"
    "    (median, interquartile range, seeds that reached it; an unreached seed counts\n"
    "    as infinitely many steps), final and best evaluation return and the area\n"
    "    under the evaluation curve and the mean return over the last quarter of the\n"
    "    steps (mean and 95% bootstrap interval), the replay batches' mean Q over the\n"
    "    last 5% of the steps (mean and largest over seeds: divergence), wall time and\n"
    "    steps/s; for FrozenLake the final success rate and the mean W1 of the\n"
    "    learned return distributions to the exact truth (`bdrl eval`); and the ratio\n"
    "    of median steps to threshold, first config / each other, with a 95% bootstrap\n"
    "    interval (each config's seeds resampled on their own);\n"
    "  curves.png, curves.svg (data curves.dat, script curves.gp): evaluation return\n"
    "    against environment steps, mean and 95% band per config, threshold dashed;\n"
    "  over several environments, per agent: aggregate.md, aggregate.csv (IQM, median, mean,\n"
    "    optimality gap of final scores (--score last-quarter: each run's mean evaluation\n"
    "    over its last quarter of steps) normalized 0 = random policy, 1 = threshold; 95%\n"
    "    stratified bootstrap intervals), improvement.csv (P(X > Y) per pair of agents) and\n"
    "    profile.png (fraction of runs above each normalized score); docs/aggregate.md.\n"
    "--aggregate DIR... writes those from finished comparisons (into OUT, default DIR).\n"
    "--set applies to every config (e.g. --set train.total_steps=20000). Running the\n"
    "same command again keeps finished runs and resumes interrupted ones from their\n"
    "checkpoints. Ctrl-C stops every run cleanly (checkpoints written); exit 130.\n"
    "Exit status: 0 all runs finished, 1 some failed (their logs are named), 2 bad\n"
    "input.\n"
    "--slurm submits one Slurm array task per unfinished run (each the same command\n"
    "with --only I, resumed from its checkpoint when requeued) and a summary job after\n"
    "them (the same command again: finishes what failed, evaluates, writes the tables);\n"
    "options as for bdrl sweep --slurm, given with --slurm-opt KEY=VALUE. --status\n"
    "counts the runs by state and names the best config so far.\n"
    "Example: bdrl compare configs/cartpole_bd.yaml configs/cartpole_c51.yaml --seeds 10",
    opts, (int)(sizeof opts / sizeof *opts), 1,
};

static volatile sig_atomic_t stop_signal = 0;
static void on_signal(int sig) { stop_signal = sig; }

/* --status: counts by state, the best config so far (mean final evaluation
 * return of its finished seeds), the time left. */
static int compare_status(const compare_options *o, long long jobs)
{
    compare_runs r;
    int bad = 0;
    bdrl_err e;
    if (compare_plan(o, &r, &bad, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return bad ? 2 : 1;
    }
    char id[64], *queue = calloc((size_t)r.n, 1);
    double *sum = calloc((size_t)r.n_configs, sizeof *sum);
    int *cnt = calloc((size_t)r.n_configs, sizeof *cnt), counts[RUNDIR_N_STATES] = {0};
    if (!queue || !sum || !cnt) {
        fprintf(stderr, "bdrl: out of memory\n");
        free(queue);
        free(sum);
        free(cnt);
        compare_runs_free(&r);
        return 1;
    }
    int queued = batch_queue(o->out, queue, r.n, id, sizeof id), n_wall = 0;
    double wall = 0, left = 0;
    for (int i = 0; i < r.n; i++) {
        rundir_summary su;
        int st = rundir_state(r.dir[i], r.total_steps[i], queue[i], &su);
        counts[st]++;
        if (st == RUNDIR_FINISHED && !isnan(su.final_eval_return)) {
            sum[i / r.n_seeds] += su.final_eval_return;
            cnt[i / r.n_seeds]++;
        }
        if ((st == RUNDIR_FINISHED || st == RUNDIR_DIVERGED) && isfinite(su.wall_seconds)) {
            wall += su.wall_seconds;
            n_wall++;
        } else if (st == RUNDIR_RUNNING && su.sps > 0 && su.total_steps >= 0) {
            left += (double)(r.total_steps[i] - su.total_steps) / su.sps;
        }
    }
    printf("%s: %d runs (%d configs x %d seeds)\n", o->out, r.n, r.n_configs, r.n_seeds);
    batch_print_counts(counts, id, queued);
    int best = -1;
    for (int g = 0; g < r.n_configs; g++)
        if (cnt[g] && (best < 0 || sum[g] / cnt[g] > sum[best] / cnt[best]))
            best = g;
    if (best >= 0)
        printf("best so far: %s, final_eval_return %.6g (mean of %d finished seed%s)\n", r.labels[best],
               sum[best] / cnt[best], cnt[best], cnt[best] == 1 ? "" : "s");
    else
        printf("best so far: none (no run has finished)\n");
    double work = counts[RUNDIR_PENDING] == 0 ? left : n_wall ? left + counts[RUNDIR_PENDING] * wall / n_wall : NAN;
    batch_print_time_left(counts, work, counts[RUNDIR_RUNNING] ? counts[RUNDIR_RUNNING] : (int)(jobs > 0 ? jobs : 1));
    free(queue);
    free(sum);
    free(cnt);
    compare_runs_free(&r);
    return 0;
}

/* --slurm: the same command line with --only I per unfinished run, and
 * again (without --only) as the summary job. */
static int compare_slurm(const compare_options *o, const args_parsed *a, const slurm_options *so, int truth,
                         int dry)
{
    compare_runs r;
    int bad = 0, status = 1, n = 0;
    bdrl_err e;
    if (compare_plan(o, &r, &bad, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return bad ? 2 : 1;
    }
    int *todo = calloc((size_t)r.n, sizeof *todo);
    int nrnd = 0, nref = 0;
    const char *const *rnd = args_get_all(&spec, a, "random", &nrnd), *const *ref = args_get_all(&spec, a, "reference", &nref);
    const char *score = args_get(&spec, a, "score");
    const char **task = calloc((size_t)(a->n_pos + 2 * (a->n_sets + nrnd + nref) + 16), sizeof *task);
    if (!todo || !task) {
        fprintf(stderr, "bdrl: out of memory\n");
        goto done;
    }
    for (int i = 0; i < r.n; i++) {
        int st = rundir_state(r.dir[i], r.total_steps[i], 0, NULL);
        if (st == RUNDIR_RUNNING) {
            char who[512] = "another process";
            rundir_locked(r.dir[i], who, sizeof who);
            fprintf(stderr, "bdrl compare: run %d (%s) is being trained by %s; submit when it has stopped\n", i,
                    r.dir[i], who);
            status = 2;
            goto done;
        }
        if (st != RUNDIR_FINISHED && st != RUNDIR_DIVERGED)
            todo[n++] = i;
    }
    if (n == 0) {
        fprintf(stderr, "bdrl compare: every run of %s has finished; nothing to submit (the same command without "
                        "--slurm rewrites the tables)\n", o->out);
        status = 0;
        goto done;
    }
    char seeds[32], first[32], cpus[32], hint[8400];
    snprintf(seeds, sizeof seeds, "%d", o->n_seeds);
    snprintf(cpus, sizeof cpus, "%d", so->cpus_per_task);
    int k = 0;
    task[k++] = "compare";
    for (int i = 0; i < a->n_pos; i++)
        task[k++] = a->pos[i];
    task[k++] = "--seeds";
    task[k++] = seeds;
    if (o->first_seed > 1) {
        snprintf(first, sizeof first, "%d", o->first_seed);
        task[k++] = "--first-seed";
        task[k++] = first;
    }
    task[k++] = "--out";
    task[k++] = o->out;
    for (int i = 0; i < a->n_sets; i++) {
        task[k++] = "--set";
        task[k++] = a->sets[i];
    }
    for (int i = 0; i < nrnd + nref; i++) {
        task[k++] = i < nrnd ? "--random" : "--reference";
        task[k++] = i < nrnd ? rnd[i] : ref[i - nrnd];
    }
    if (score) {
        task[k++] = "--score";
        task[k++] = score;
    }
    if (truth >= 0)
        task[k++] = truth ? "--truth" : "--no-truth";
    int nt = k;
    task[k++] = "-j";
    task[k++] = cpus;
    size_t hk = (size_t)snprintf(hint, sizeof hint, "bdrl");
    for (int i = 0; i < nt && hk < sizeof hint; i++)
        hk += (size_t)snprintf(hint + hk, sizeof hint - hk, " %s", task[i]);
    if (hk < sizeof hint)
        snprintf(hint + hk, sizeof hint - hk, " --status");
    /* the task: the command and --only I; the summary: the command, -j CPUS */
    status = batch_submit("compare", so, o->out, task, nt, task, k, todo, n, dry, stderr, hint);
done:
    free(todo);
    free(task);
    compare_runs_free(&r);
    return status;
}

/* --random and --reference: ENV=VALUE each, into vals (ARGS_MAX_REPEAT). */
static int parse_values(const args_parsed *a, const char *name, suite_value *vals, int *n)
{
    const char *const *v = args_get_all(&spec, a, name, n);
    for (int i = 0; i < *n; i++) {
        bdrl_err e;
        if (suite_value_parse(v[i], &vals[i], &e)) {
            fprintf(stderr, "bdrl compare: --%s %s\n", name, e.msg);
            return -1;
        }
    }
    return 0;
}

/* --aggregate DIR...: the aggregate over environments of the finished runs
 * of comparison directories, into out. */
static int compare_aggregate(const args_parsed *a, const char *out, const suite_options *so)
{
    static const char *const run_only[] = {"seeds", "first-seed", "jobs", "truth", "no-truth", "only",
                                           "slurm", "slurm-opt", "dry-run", "status"};
    for (size_t i = 0; i < sizeof run_only / sizeof *run_only; i++)
        if (args_get(&spec, a, run_only[i]) || a->n_sets) {
            fprintf(stderr, "bdrl compare: --aggregate reads finished comparisons; --%s does not apply\n",
                    a->n_sets ? "set" : run_only[i]);
            return 2;
        }
    char **all = NULL;
    int n = 0, status = 0;
    bdrl_err e;
    for (int i = 0; i < a->n_pos && !status; i++) {
        char **d;
        int k;
        if (suite_scan(a->pos[i], &d, &k, &e)) {
            fprintf(stderr, "bdrl compare: %s\n", e.msg);
            status = 2;
            break;
        }
        char **grown = realloc(all, (size_t)(n + k + 1) * sizeof *grown);
        if (!grown) {
            suite_dirs_free(d, k);
            fprintf(stderr, "bdrl: out of memory\n");
            status = 1;
            break;
        }
        all = grown;
        memcpy(all + n, d, (size_t)k * sizeof *d);
        n += k;
        free(d);
    }
    int bad = 0;
    if (!status && (io_mkdirs(out, &e) || suite_write(out, (const char *const *)all, n, so, &bad, &e))) {
        fprintf(stderr, "bdrl compare: %s\n", e.msg);
        status = bad ? 2 : 1;
    }
    if (!status)
        fprintf(stderr, "bdrl compare: aggregate over environments in %s/aggregate.md (and aggregate.csv, "
                        "improvement.csv, scores.csv, profile.png)\n", out);
    suite_dirs_free(all, n);
    return status;
}

int cmd_compare(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse(&spec, argc, argv, &a);
    if (rc)
        return rc > 0 ? 0 : 2;
    int agg = args_get(&spec, &a, "aggregate") != NULL;
    if (a.n_pos < 1) {
        fprintf(stderr, "bdrl compare: expected one or more %s (see 'bdrl compare --help')\n",
                agg ? "comparison directories" : "CONFIG files");
        return 2;
    }
    suite_value rnd[ARGS_MAX_REPEAT], ref[ARGS_MAX_REPEAT];
    suite_options so = {.random = rnd, .reference = ref};
    if (parse_values(&a, "random", rnd, &so.n_random) || parse_values(&a, "reference", ref, &so.n_reference))
        return 2;
    const char *score = args_get(&spec, &a, "score");
    if (score && !strcmp(score, "last-quarter")) {
        so.score = SUITE_SCORE_LAST_QUARTER;
    } else if (score && strcmp(score, "final")) {
        fprintf(stderr, "bdrl compare: --score expects final or last-quarter, got '%s'\n", score);
        return 2;
    }
    if (agg) {
        const char *dst = args_get(&spec, &a, "out");
        if (!dst && a.n_pos > 1) {
            fprintf(stderr, "bdrl compare: --aggregate over several directories needs --out\n");
            return 2;
        }
        return compare_aggregate(&a, dst ? dst : a.pos[0], &so);
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
    long long only = -1;
    if ((t = args_get(&spec, &a, "only")) && args_int("--only", t, 0, 1000000000, &only))
        return 2;
    int slurm = args_get(&spec, &a, "slurm") != NULL, dry = args_get(&spec, &a, "dry-run") != NULL;
    int stat = args_get(&spec, &a, "status") != NULL, n_opt = 0;
    const char *const *sopt = args_get_all(&spec, &a, "slurm-opt", &n_opt);
    if ((dry || n_opt) && !slurm) {
        fprintf(stderr, "bdrl compare: --dry-run and --slurm-opt go with --slurm\n");
        return 2;
    }
    if (slurm + stat + (only >= 0) > 1) {
        fprintf(stderr, "bdrl compare: --slurm, --status and --only exclude each other\n");
        return 2;
    }
    if (slurm || stat) {
        compare_options po = {.n_configs = a.n_pos, .configs = a.pos, .n_seeds = (int)seeds, .sets = a.sets,
                              .n_sets = a.n_sets, .out = out, .only = -1, .first_seed = (int)first};
        slurm_options so;
        slurm_options_init(&so);
        bdrl_err e;
        for (int i = 0; i < n_opt; i++)
            if (slurm_option_parse(&so, sopt[i], &e)) {
                fprintf(stderr, "bdrl compare: --slurm-opt: %s\n", e.msg);
                return 2;
            }
        return stat ? compare_status(&po, jobs) : compare_slurm(&po, &a, &so, truth, dry);
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
        .only = (int)only,
        .suite = &so,
    };
    int failed = 0, bad = 0;
    bdrl_err e;
    if (compare_run(&o, &failed, &bad, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return bad ? 2 : 1;
    }
    if (stop_signal) {
        fprintf(stderr, "bdrl compare: interrupted; finished runs are summarized in %s/comparison.md; run the "
                        "same command again to finish\n", out);
        return 128 + stop_signal;
    }
    if (only >= 0) {
        if (failed)
            fprintf(stderr, "bdrl compare: run %lld failed (see %s/logs/)\n", only, out);
        return failed ? 1 : 0;
    }
    if (failed) {
        fprintf(stderr, "bdrl compare: %d run(s) failed (see the lines above and %s/logs/); the others are "
                        "summarized in %s/comparison.md\n", failed, out, out);
        return 1;
    }
    fprintf(stderr, "bdrl compare: results in %s/comparison.md (and .csv, .json, curves.png)\n", out);
    return 0;
}
