/* cmd_sweep.c — `bdrl sweep`: expand a sweep file (a grid, random draws,
 * named variants, over one or several base configs) into runs, run them in
 * parallel (or one with --only), resume, and summarize (research/sweep.h). */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/experiment.h"
#include "cli/args.h"
#include "cli/batch.h"
#include "cli/cli.h"
#include "core/io.h"
#include "research/pool.h"
#include "research/rundir.h"
#include "research/slurm.h"
#include "research/sweep.h"

static const args_opt opts[] = {
    {"jobs", 'j', 1, "JOBS", "runs at a time (default: the number of cores)"},
    {"resume", 0, 0, "", "finish an interrupted sweep: keep finished runs, resume or rerun partial ones"},
    {"list", 0, 0, "", "print the runs, one line each (index, state, directory, settings), and exit"},
    {"only", 0, 1, "I", "run run I alone (0-based, as --list numbers them); no summary"},
    {"out", 0, 1, "DIR", "the sweep directory (default: the file's out:, else runs/sweeps/<file stem>)"},
    {"quiet", 'q', 0, "", "no progress lines"},
    {"slurm", 0, 0, "", "submit the unfinished runs as a Slurm job array, and a summary job after it"},
    {"slurm-opt", 0, 1, "KEY=VALUE", "an sbatch option for --slurm, repeatable (overrides the file's slurm:)"},
    {"dry-run", 0, 0, "", "with --slurm: print both job scripts; write and submit nothing"},
    {"status", 0, 0, "", "runs pending/running/finished/diverged/failed, the best setting so far, time left"},
};
static const args_spec spec = {
    "bdrl sweep SWEEP.yaml [-j JOBS] [--resume] [--list] [--only I] [--out DIR]\n"
    "       bdrl sweep SWEEP.yaml --slurm [--slurm-opt KEY=VALUE]... [--dry-run] [--out DIR]\n"
    "       bdrl sweep SWEEP.yaml --status [--out DIR]",
    "Runs a hyper-parameter sweep or an ablation. The sweep file (docs/sweeps.md) names a\n"
    "base config (or a list of them), overrides for every run (set:), named variants (sets\n"
    "of overrides), a grid: and/or random: search over any config keys (every base x every\n"
    "variant x every grid point x every random draw), the seeds, and the metric to rank by:\n"
    "  base: configs/frozenlake4_bd.yaml   # or [a.yaml, b.yaml]: a `config` parameter\n"
    "  set: {train.total_steps: 20000}\n"
    "  variants:                           # a `variant` parameter, in this order\n"
    "    none: {}\n"
    "    n_step: {agent.n_step: 3}\n"
    "  grid:\n"
    "    agent.lr: [1.0e-3, 3.0e-4]\n"
    "  random:\n"
    "    count: 4\n"
    "    seed: 0          # the draws' own seed: every machine expands the file alike\n"
    "    agent.gamma: {choice: [0.95, 0.99]}\n"
    "    train.batch_size: {uniform_int: [32, 128]}\n"
    "    agent.eps_kernel: {log_uniform: [1.0e-5, 1.0e-3]}   # also uniform: [lo, hi]\n"
    "  seeds: [1, 2, 3]\n"
    "  metric: final_eval_return   # best_eval_return, final_success_rate, steps_to_threshold,\n"
    "                              # auc, wall_seconds, sps; maximize: true|false\n"
    "The base path is taken relative to the current directory, falling back to the\n"
    "sweep file's directory. Every key and value is checked against the config schema\n"
    "before anything runs (errors name the sweep file's line).\n"
    "Each (setting, seed) runs as `bdrl train` in OUT/runs/NNNN_sK (NNNN the setting,\n"
    "K the seed) holding its resolved config.yaml; its output goes to OUT/logs/.\n"
    "Then OUT/results.csv (one row per finished run), OUT/summary.md and summary.json\n"
    "(settings ranked by the metric's mean over seeds with a 95% bootstrap interval;\n"
    "the best named) and OUT/plots/<key>.png/.svg (the metric against each swept key)\n"
    "are rebuilt from the run directories; with variants also OUT/variants.md and .csv\n"
    "(per variant and config: median steps to threshold with IQR and seeds that reached\n"
    "it, or the metric's mean and interval; each against the first variant with a 95%\n"
    "bootstrap interval) and OUT/plots/variants.png.\n"
    "--resume finishes an interrupted sweep (even one killed with SIGKILL): finished\n"
    "runs are kept, runs with a checkpoint continue from it, others start again.\n"
    "--only I runs one run (for Slurm job arrays or GNU parallel over machines);\n"
    "afterwards `bdrl sweep SWEEP.yaml --resume` writes the summary.\n"
    "Ctrl-C stops every run cleanly (checkpoints written); exit 130.\n"
    "--slurm writes OUT/slurm/array.sbatch (one array task per unfinished run, each\n"
    "`bdrl sweep SWEEP.yaml --only I`, resumed from its checkpoint when requeued) and\n"
    "OUT/slurm/summary.sbatch (after every task: `--resume`, which finishes what failed\n"
    "and writes the summary), submits both with sbatch and prints their job ids.\n"
    "Options come from the file's slurm: section and --slurm-opt KEY=VALUE: partition,\n"
    "time, cpus_per_task, mem, account, max_parallel (tasks at a time), requeue\n"
    "(default true), extra (more #SBATCH lines, e.g. extra=--qos=low).\n"
    "--status counts the runs by state from their directories (and squeue, for a\n"
    "--slurm submission), names the best setting so far and estimates the time left.\n"
    "Exit status: 0 every run finished, 1 some failed, 2 bad input.",
    opts, (int)(sizeof opts / sizeof *opts), 0,
};

static volatile sig_atomic_t stop_signal = 0;
static void on_signal(int sig) { stop_signal = sig; }

/* 1 if OUT/runs holds a non-empty run directory. */
static int has_runs(const char *out)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/runs", out);
    DIR *d = opendir(p);
    if (!d)
        return 0;
    struct dirent *de;
    int any = 0;
    while (!any && (de = readdir(d)))
        if (de->d_name[0] != '.')
            any = 1;
    closedir(d);
    return any;
}

static const char *state_of(const sweep_def *s, int i, exp_config *cfg)
{
    char dir[4200], p[4300];
    if (sweep_run_dir(s, i, dir, sizeof dir, NULL) || !io_exists(dir))
        return "pending";
    if (sweep_run_config(s, i, cfg, NULL) == 0 && rundir_complete(dir, cfg->train.total_steps))
        return "done";
    rundir_summary su;
    if (rundir_read_summary(dir, &su, NULL) == 0 && !strcmp(su.status, "diverged"))
        return "diverged";
    snprintf(p, sizeof p, "%s/" RUN_FILE_CHECKPOINT, dir);
    return io_exists(p) ? "partial" : "pending";
}

/* --status: counts by state, the best setting so far, the time left. */
static int sweep_status_cmd(const sweep_def *s, long long jobs)
{
    int R = sweep_n_runs(s);
    char id[64], *queue = calloc((size_t)R, 1);
    bdrl_err e;
    if (!queue) {
        fprintf(stderr, "bdrl: out of memory\n");
        return 1;
    }
    int queued = batch_queue(s->out, queue, R, id, sizeof id);
    sweep_status st;
    if (sweep_status_of(s, queue, &st, NULL, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        free(queue);
        return 1;
    }
    free(queue);
    printf("%s: %d runs (%d settings x %d seeds)\n", s->out, R, s->n_settings, s->n_seeds);
    batch_print_counts(st.n, id, queued);
    if (st.best_setting >= 0) {
        char d[8192];
        sweep_describe(s, st.best_setting * s->n_seeds, d, sizeof d);
        /* the settings without the run's index, directory and seed */
        const char *kv = strchr(d, '\t');
        kv = kv ? strchr(kv + 1, '\t') : NULL;
        char *seed = kv ? strstr(kv, " seed=") : NULL;
        if (seed)
            *seed = '\0';
        printf("best so far: setting %d (%s), %s %.6g (mean of %d finished seed%s)\n", st.best_setting,
               kv && kv[1] ? kv + 1 : "the base config", s->metric, st.best_mean, st.best_n,
               st.best_n == 1 ? "" : "s");
    } else {
        printf("best so far: none (no run has finished)\n");
    }
    int par = st.n[RUNDIR_RUNNING] > 0 ? st.n[RUNDIR_RUNNING] : (int)(jobs > 0 ? jobs : 1);
    if (id[0] && s->slurm.max_parallel > 0 && st.n[RUNDIR_RUNNING] == 0)
        par = s->slurm.max_parallel;
    batch_print_time_left(st.n, st.work_left_s, par);
    return 0;
}

/* --slurm: submit the unfinished runs as an array and a summary job after it. */
static int sweep_slurm_cmd(const sweep_def *s, const char *file, const char *out_opt, int dry_run, FILE *prog)
{
    int R = sweep_n_runs(s), n = 0, status = 1;
    int *todo = calloc((size_t)(R ? R : 1), sizeof *todo);
    unsigned char *states = calloc((size_t)(R ? R : 1), 1);
    bdrl_err e;
    if (!todo || !states) {
        fprintf(stderr, "bdrl: out of memory\n");
        goto out;
    }
    sweep_status st;
    if (sweep_status_of(s, NULL, &st, states, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        goto out;
    }
    for (int i = 0; i < R; i++) {
        if (states[i] == RUNDIR_RUNNING) {
            char dir[4200], who[512] = "another process";
            sweep_run_dir(s, i, dir, sizeof dir, NULL);
            rundir_locked(dir, who, sizeof who);
            fprintf(stderr, "bdrl sweep: run %d (%s) is being trained by %s; submit when it has stopped\n", i,
                    dir, who);
            status = 2;
            goto out;
        }
        if (states[i] != RUNDIR_FINISHED && states[i] != RUNDIR_DIVERGED)
            todo[n++] = i;
    }
    if (n == 0) {
        fprintf(stderr, "bdrl sweep: every run of %s has finished; nothing to submit (`bdrl sweep %s --resume` "
                        "rewrites the summary)\n", s->out, file);
        status = 0;
        goto out;
    }
    char cpus[32], runs_dir[4300], hint[8400];
    snprintf(cpus, sizeof cpus, "%d", s->slurm.cpus_per_task);
    const char *outd = out_opt ? out_opt : s->out;
    const char *task[] = {"sweep", file, "--out", outd};
    const char *summary[] = {"sweep", file, "--out", outd, "--resume", "-j", cpus};
    snprintf(hint, sizeof hint, "bdrl sweep %s --out %s --status", file, outd);
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", s->out);
    if (!dry_run && slurm_have("sbatch") && (sweep_write_state(s, &e) || io_mkdirs(runs_dir, &e))) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        goto out;
    }
    status = batch_submit("sweep", &s->slurm, s->out, task, 4, summary, 7, todo, n, dry_run, prog, hint);
out:
    free(todo);
    free(states);
    return status;
}

int cmd_sweep(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse_one(&spec, argc, argv, &a, "bdrl sweep", "one SWEEP.yaml file");
    if (rc >= 0)
        return rc;
    long long jobs = 0, only = -1;
    const char *t;
    if ((t = args_get(&spec, &a, "jobs")) && args_int("--jobs", t, 1, 4096, &jobs))
        return 2;
    if ((t = args_get(&spec, &a, "only")) && args_int("--only", t, 0, 1000000000, &only))
        return 2;
    int resume = args_get(&spec, &a, "resume") != NULL, list = args_get(&spec, &a, "list") != NULL;
    int slurm = args_get(&spec, &a, "slurm") != NULL, dry = args_get(&spec, &a, "dry-run") != NULL;
    int stat = args_get(&spec, &a, "status") != NULL;
    FILE *prog = args_get(&spec, &a, "quiet") ? NULL : stderr;
    int n_opt = 0;
    const char *const *sopt = args_get_all(&spec, &a, "slurm-opt", &n_opt);
    if ((dry || n_opt) && !slurm) {
        fprintf(stderr, "bdrl sweep: --dry-run and --slurm-opt go with --slurm\n");
        return 2;
    }
    if (slurm + stat + list + (only >= 0) > 1) {
        fprintf(stderr, "bdrl sweep: --slurm, --status, --list and --only exclude each other\n");
        return 2;
    }

    sweep_def s;
    bdrl_err e;
    if (sweep_load(a.pos[0], args_get(&spec, &a, "out"), &s, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return 2;
    }
    for (int i = 0; i < n_opt; i++)
        if (slurm_option_parse(&s.slurm, sopt[i], &e)) {
            fprintf(stderr, "bdrl sweep: --slurm-opt: %s\n", e.msg);
            sweep_def_free(&s);
            return 2;
        }
    if (stat || slurm) {
        int st = stat ? sweep_status_cmd(&s, jobs) : sweep_slurm_cmd(&s, a.pos[0], args_get(&spec, &a, "out"), dry, prog);
        sweep_def_free(&s);
        return st;
    }
    int R = sweep_n_runs(&s);
    exp_config *cfg = malloc(sizeof *cfg);
    pool_job *jobsv = calloc((size_t)R, sizeof *jobsv);
    pool_argv *av = calloc((size_t)R, sizeof *av);
    char (*names)[64] = calloc((size_t)R, sizeof *names);
    char (*logs)[4300] = calloc((size_t)R, sizeof *logs);
    char (*dirs)[4200] = calloc((size_t)R, sizeof *dirs);
    int status = 1, nj = 0, out_lock = -1;
    if (!cfg || !jobsv || !av || !names || !logs || !dirs) {
        fprintf(stderr, "bdrl: out of memory\n");
        goto out;
    }
    if (list) {
        for (int i = 0; i < R; i++) {
            char d[8192];
            sweep_describe(&s, i, d, sizeof d);
            const char *tab = strchr(d, '\t');
            printf("%.*s\t%s%s\n", (int)(tab - d), d, state_of(&s, i, cfg), tab);
        }
        status = 0;
        goto out;
    }
    if (only >= R) {
        fprintf(stderr, "bdrl sweep: --only %lld: the sweep has runs 0 to %d\n", only, R - 1);
        status = 2;
        goto out;
    }
    /* the output directory's lock first (not for one array task, --only):
     * two sweeps started at once on one OUT would run each other's runs */
    if (only < 0) {
        int busy = 0;
        if (io_mkdirs(s.out, &e) || rundir_lock_output(s.out, &out_lock, &busy, &e)) {
            fprintf(stderr, "bdrl sweep: %s\n", e.msg);
            status = busy ? 2 : 1;
            goto out;
        }
    }
    if (!resume && only < 0 && has_runs(s.out)) {
        fprintf(stderr, "bdrl sweep: %s already holds a sweep's runs; finish it with --resume, or choose another "
                        "directory with --out\n", s.out);
        status = 2;
        goto out;
    }
    char runs_dir[4200], logs_dir[4200];
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", s.out);
    snprintf(logs_dir, sizeof logs_dir, "%s/logs", s.out);
    if (sweep_write_state(&s, &e) || io_mkdirs(runs_dir, &e) || io_mkdirs(logs_dir, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        goto out;
    }
    int n_done_before = 0;
    for (int i = 0; i < R; i++) {
        if (only >= 0 && i != only)
            continue;
        if (sweep_run_dir(&s, i, dirs[i], sizeof dirs[i], &e) || sweep_run_config(&s, i, cfg, &e)) {
            fprintf(stderr, "bdrl: %s\n", e.msg);
            status = 2;
            goto out;
        }
        const char *base = strrchr(dirs[i], '/') + 1;
        snprintf(names[i], sizeof names[i], "run %d (%s)", i, base);
        snprintf(logs[i], sizeof logs[i], "%s/%s.log", logs_dir, base);
        rundir_action act;
        if (rundir_plan(dirs[i], cfg, &act, &e)) {
            fprintf(stderr, "bdrl: %s\n", e.msg);
            status = 2;
            goto out;
        }
        if (act == RUNDIR_DONE) {
            n_done_before++;
            continue;
        }
        if (only >= 0 && prog)
            fprintf(prog, "sweep: run %lld: %s\n", only,
                    act == RUNDIR_RESUME ? "resuming from its checkpoint" : "starting from step 0");
        pool_argv_add(&av[i], "train");
        if (act == RUNDIR_RESUME) {
            pool_argv_add(&av[i], "--resume");
            pool_argv_add(&av[i], dirs[i]);
        } else {
            char **sets;
            int ns;
            if (sweep_run_sets(&s, i, &sets, &ns, &e)) {
                fprintf(stderr, "bdrl: %s\n", e.msg);
                goto out;
            }
            pool_argv_add(&av[i], sweep_run_base(&s, i));
            for (int k = 0; k < ns; k++) {
                pool_argv_add(&av[i], "--set");
                pool_argv_add(&av[i], sets[k]);
            }
            sweep_free_sets(sets, ns);
            pool_argv_add(&av[i], "--out");
            pool_argv_add(&av[i], dirs[i]);
        }
        pool_argv_add(&av[i], "--quiet");
        if (av[i].bad) {
            fprintf(stderr, "bdrl: out of memory\n");
            goto out;
        }
        jobsv[nj++] = (pool_job){.name = names[i], .argv = av[i].v, .log = logs[i]};
    }
    if (prog) {
        if (only >= 0)
            fprintf(prog, "sweep: run %lld of %d (%s)%s\n", only, R, dirs[only], nj ? "" : ": already finished");
        else
            fprintf(prog, "sweep: %d settings x %d seeds = %d runs; %d finished, %d to run, %lld at a time -> %s\n",
                    s.n_settings, s.n_seeds, R, n_done_before, nj, jobs > 0 ? jobs : (long long)pool_ncpu(), s.out);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND; /* a second signal ends bdrl at once, and its runs with it */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    pool_options po = {(int)jobs, prog, &stop_signal, NULL};
    int failed = 0;
    if (nj && pool_run(jobsv, nj, &po, &failed, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        goto out;
    }
    if (only >= 0) {
        status = stop_signal ? 128 + stop_signal : failed ? 1 : 0;
        if (prog && !failed && !stop_signal)
            fprintf(prog, "sweep: run %lld finished; when every run is, `bdrl sweep %s --resume` writes the summary\n",
                    only, a.pos[0]);
        goto out;
    }
    int done = 0;
    char warn[1024];
    if (sweep_summarize(&s, &done, warn, sizeof warn, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        goto out;
    }
    if (warn[0])
        fprintf(stderr, "bdrl sweep: warning: no plots: %s\n", warn);
    if (stop_signal) {
        fprintf(stderr, "bdrl sweep: interrupted; %d of %d runs finished; continue with: bdrl sweep %s --resume\n",
                done, R, a.pos[0]);
        status = 128 + stop_signal;
    } else if (done < R) {
        fprintf(stderr, "bdrl sweep: %d of %d runs finished, %d failed (logs in %s); summary of the finished ones in "
                        "%s/summary.md\n", done, R, R - done, logs_dir, s.out);
        status = 1;
    } else {
        fprintf(stderr, "bdrl sweep: %d runs finished; summary in %s/summary.md, one row per run in %s/results.csv\n",
                R, s.out, s.out);
        status = 0;
    }
out:
    for (int i = 0; av && i < R; i++)
        pool_argv_free(&av[i]);
    free(av);
    free(jobsv);
    free(names);
    free(logs);
    free(dirs);
    free(cfg);
    sweep_def_free(&s);
    rundir_unlock(out_lock);
    return status;
}
