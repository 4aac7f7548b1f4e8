/* cmd_train.c — `bdrl train`: train an agent into a run directory, or resume one. */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/check.h"
#include "agents/experiment.h"
#include "agents/registry.h"
#include "train/run.h"
#include "train/train.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "core/io.h"
#include "research/rundir.h"

static const args_opt opts[] = {
    {"out", 0, 1, "DIR", "the run directory (default: output.dir/<config stem>[_<agent>]_s<seed>)"},
    {"resume", 0, 1, "DIR", "continue the run in DIR from its checkpoint.bin (none yet: start it again)"},
    {"quiet", 'q', 0, "", "no progress output"},
    {"stop-after", 0, 1, "STEPS", "stop as if interrupted once STEPS steps are done (for tests)"},
};
static const args_spec spec = {
    "bdrl train CONFIG [--set KEY=VALUE]... [--out DIR] [--quiet]\n"
    "       bdrl train [CONFIG] --resume DIR [--set KEY=VALUE]... [--quiet]",
    "Trains the agent of CONFIG (agent.kind: any registered agent, see bdrl config --schema) on\n"
    "its environment and writes into the run directory: config.yaml, metrics.csv (one row per\n"
    "episode), eval.csv (greedy evaluations every eval.interval steps), summary.json and\n"
    "checkpoint.bin (at the end, every train.checkpoint_interval steps and every\n"
    "train.checkpoint_seconds of wall time, so a SIGKILL loses at most that).\n"
    "An existing non-empty run directory is never overwritten: --resume DIR\n"
    "continues it from its checkpoint (bit for bit, as if never interrupted) with\n"
    "the configuration in DIR/config.yaml, or starts it again from step 0 with that\n"
    "configuration when it has no checkpoint yet; --set (or a CONFIG) may change only\n"
    "train.total_steps, train.checkpoint_interval, train.checkpoint_seconds, eval.*\n"
    "and output.dir. One process trains a run at a time (a lock in DIR/.lock): a\n"
    "second exits 2 naming the holder's pid and host.\n"
    "Ctrl-C (SIGINT) or SIGTERM stops at the next step, writes a checkpoint and\n"
    "exits with 130 or 143 (a second Ctrl-C stops at once; more SIGTERMs do not).\n"
    "Progress goes to stderr (a bar on a terminal).\n"
    "A NaN or Inf loss, gradient norm or parameter stops the run (exit 1) naming the\n"
    "step and the quantity; the last checkpoint stays intact (train.nonfinite skip\n"
    "undoes and counts such updates instead). A configuration whose estimated memory\n"
    "(replay buffer, networks, buffers) exceeds the limit is refused before anything\n"
    "is allocated: the limit is BDRL_MAX_MEMORY (e.g. 8G) or the physical memory.\n"
    "Exit status: 0 done or stopped by --stop-after, 2 bad input (the config, --set,\n"
    "a run that cannot be resumed, a file in the way of DIR), 1 a runtime failure (a\n"
    "run directory that cannot be written: a full disk, a read-only directory; a\n"
    "non-finite update), 130/143 after SIGINT/SIGTERM.\n"
    "Example: bdrl train configs/cartpole_c51.yaml --set seed=2",
    opts, (int)(sizeof opts / sizeof *opts), 1,
};

/* Keys that may differ between a run's config.yaml and its resumption. */
static const char *const resumable[] = {"train.total_steps", "train.checkpoint_interval",
                                        "train.checkpoint_seconds", "eval.interval",
                                        "eval.episodes", "eval.threshold", "eval.sample_walkers",
                                        "output.dir", "train.nonfinite"};

static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig) { stop_signal = sig; }

static int dir_nonempty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return io_exists(path); /* a file in the way counts as occupied */
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && !rundir_is_lock_file(de->d_name))
            n++;
    closedir(d);
    return n > 0;
}

/* The config file's name without directory and .yaml/.yml. */
static void stem(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, n, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
        *dot = '\0';
}

static int check_resumable(const exp_config *run, const exp_config *now, const char *dir)
{
    for (int i = 0; i < exp_schema.n_keys; i++) {
        const char *k = exp_schema.keys[i].name;
        int ok = 0;
        for (size_t j = 0; j < sizeof resumable / sizeof *resumable; j++)
            ok |= !strcmp(k, resumable[j]);
        if (ok)
            continue;
        char a[8192], b[8192];
        if (cfg_format_value(&exp_schema, run, k, a, sizeof a, NULL) ||
            cfg_format_value(&exp_schema, now, k, b, sizeof b, NULL))
            continue;
        if (strcmp(a, b)) {
            fprintf(stderr,
                    "bdrl train: cannot resume %s with %s = %s (the run has %s); only train.total_steps, "
                    "train.checkpoint_interval, train.checkpoint_seconds, eval.* and output.dir may change\n",
                    dir, k, b, a);
            return -1;
        }
    }
    return 0;
}

int cmd_train(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse(&spec, argc, argv, &a);
    if (rc)
        return rc > 0 ? 0 : 2;
    const char *out = args_get(&spec, &a, "out"), *resume = args_get(&spec, &a, "resume");
    const char *stop_s = args_get(&spec, &a, "stop-after");
    if (a.n_pos > 1) {
        fprintf(stderr, "bdrl train: expected one CONFIG file, got %d arguments (see 'bdrl train --help')\n",
                a.n_pos);
        return 2;
    }
    if (a.n_pos == 0 && !resume) {
        fprintf(stderr, "bdrl train: expected a CONFIG file or --resume DIR (see 'bdrl train --help')\n");
        return 2;
    }
    if (out && resume) {
        fprintf(stderr, "bdrl train: --out and --resume exclude each other (--resume DIR trains in DIR)\n");
        return 2;
    }
    long long stop_after = 0;
    if (stop_s && args_int("--stop-after", stop_s, 1, (long long)9.007199254740991e15, &stop_after))
        return 2;

    exp_config cfg;
    bdrl_err e;
    char run_dir[4096];
    int fresh_again = 0, lock_fd = -1, busy = 0;
    char cfg_file[4200];
    if (resume) {
        char path[4200];
        exp_config run;
        snprintf(path, sizeof path, "%s/" RUN_FILE_CONFIG, resume);
        if (!io_exists(path)) {
            fprintf(stderr, "bdrl train: --resume %s: not a run directory (no config.yaml)\n", resume);
            return 2;
        }
        if (strlen(resume) >= sizeof run_dir) {
            fprintf(stderr, "bdrl train: --resume path is too long\n");
            return 2;
        }
        snprintf(run_dir, sizeof run_dir, "%s", resume);
        /* the lock first: nothing below may read a run another process is writing */
        if (rundir_lock(run_dir, &lock_fd, &busy, &e)) {
            fprintf(stderr, "bdrl train: %s\n", e.msg);
            return busy ? 2 : 1;
        }
        if (exp_load(&run, path, NULL, 0, &e)) {
            fprintf(stderr, "bdrl: %s\n", e.msg);
            return 2;
        }
        snprintf(cfg_file, sizeof cfg_file, "%s", a.n_pos ? a.pos[0] : path);
        if (exp_load(&cfg, cfg_file, a.sets, a.n_sets, &e)) {
            fprintf(stderr, "bdrl: %s\n", e.msg);
            return 2;
        }
        /* ε's decay length is the run's, as recorded when it started (or,
         * from a run before the key, as its own budget made it), never one
         * stretched by a larger train.total_steps given now. */
        exp_record_eps_decay(&run);
        if (!cfg.train.eps_decay_steps)
            cfg.train.eps_decay_steps = run.train.eps_decay_steps;
        /* β's annealing length likewise (prioritized replay) */
        exp_record_beta_steps(&run);
        if (!cfg.replay.beta_steps)
            cfg.replay.beta_steps = run.replay.beta_steps;
        if (check_resumable(&run, &cfg, resume))
            return 2;
        snprintf(path, sizeof path, "%s/" RUN_FILE_CHECKPOINT, resume);
        fresh_again = !io_exists(path);
    } else {
        if (exp_load(&cfg, a.pos[0], a.sets, a.n_sets, &e)) {
            fprintf(stderr, "bdrl: %s\n", e.msg);
            return 2;
        }
        snprintf(cfg_file, sizeof cfg_file, "%s", a.pos[0]);
        if (out) {
            if (strlen(out) >= sizeof run_dir) {
                fprintf(stderr, "bdrl train: --out path is too long\n");
                return 2;
            }
            snprintf(run_dir, sizeof run_dir, "%s", out);
        } else {
            char st[512];
            stem(a.pos[0], st, sizeof st);
            /* configs/cartpole_c51.yaml already names its agent: no "_c51_c51". */
            const char *kind = agent_kind_name(cfg.agent.kind);
            size_t ls = strlen(st), lk = strlen(kind);
            int named = ls > lk && st[ls - lk - 1] == '_' && !strcmp(st + ls - lk, kind);
            int k = named ? snprintf(run_dir, sizeof run_dir, "%s/%s_s%lld", cfg.output.dir, st,
                                     (long long)cfg.seed)
                          : snprintf(run_dir, sizeof run_dir, "%s/%s_%s_s%lld", cfg.output.dir, st,
                                     kind, (long long)cfg.seed);
            if (k < 0 || (size_t)k >= sizeof run_dir) {
                fprintf(stderr, "bdrl train: run directory path is too long\n");
                return 2;
            }
        }
    }
    /* The configuration checked whole (as `bdrl config` checks it) before a
     * new run directory is made. */
    if (exp_check(&cfg, &e)) {
        fprintf(stderr, "bdrl: %s: %s\n", cfg_file, e.msg);
        return 2;
    }
    char warn[1024];
    if (!exp_check_warning(&cfg, warn, sizeof warn, &e) && warn[0])
        fprintf(stderr, "bdrl: warning: %s: %s\n", cfg_file, warn);
    if (!resume) {
        char who[512];
        if (rundir_locked(run_dir, who, sizeof who)) {
            fprintf(stderr, "bdrl train: %s is being trained by %s; wait for it or stop it\n", run_dir, who);
            return 2;
        }
        if (dir_nonempty(run_dir)) {
            fprintf(stderr,
                    "bdrl train: %s already exists and is not empty; continue it with --resume %s, or "
                    "choose another directory with --out\n",
                    run_dir, run_dir);
            return 2;
        }
        if (io_mkdirs(run_dir, &e)) {
            fprintf(stderr, "bdrl: %s\n", e.msg);
            return cli_output_status(run_dir);
        }
        if (rundir_lock(run_dir, &lock_fd, &busy, &e)) {
            fprintf(stderr, "bdrl train: %s\n", e.msg);
            return busy ? 2 : 1;
        }
        /* again under the lock: another process may have started it meanwhile */
        if (dir_nonempty(run_dir)) {
            fprintf(stderr,
                    "bdrl train: %s already exists and is not empty; continue it with --resume %s, or "
                    "choose another directory with --out\n",
                    run_dir, run_dir);
            return 2;
        }
    } else if (fresh_again) {
        /* killed before its first checkpoint: start again from step 0 */
        if (rundir_clear(run_dir, &e)) {
            fprintf(stderr, "bdrl: %s\n", e.msg);
            return 1;
        }
        if (!args_get(&spec, &a, "quiet"))
            fprintf(stderr, "bdrl train: %s has no checkpoint yet; starting it again from step 0 with its "
                            "configuration\n", run_dir);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* A second Ctrl-C ends the process at once; writes in progress restart.
     * A second SIGTERM does not: a batch system (Slurm's scancel, requeue,
     * preemption) signals every process of a job, so bdrl sweep's forwarded
     * copy comes on top of its own; the checkpoint gets written, and the
     * system's SIGKILL after its grace period is the hard stop. */
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);

    train_options o = {args_get(&spec, &a, "quiet") ? NULL : stderr, &stop_signal, stop_after,
                       resume != NULL && !fresh_again, NULL, NULL};
    train_result res;
    if (train_run(&cfg, run_dir, &o, &res, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return res.setup_failed ? 2 : 1;
    }
    if (res.stopped) {
        const char *why = stop_signal == SIGINT ? "interrupted (SIGINT)" : stop_signal == SIGTERM ? "terminated (SIGTERM)"
                                                                                                  : "stopped (--stop-after)";
        fprintf(stderr, "bdrl train: %s at step %lld of %lld; checkpoint written; continue with: bdrl train --resume %s\n",
                why, (long long)res.steps, (long long)cfg.train.total_steps, run_dir);
        return stop_signal ? 128 + stop_signal : 0;
    }
    if (res.start_step >= cfg.train.total_steps && res.steps == res.start_step)
        fprintf(stderr, "bdrl train: %s already has %lld steps (train.total_steps = %lld); nothing to do — "
                        "raise it with --set train.total_steps=N to continue\n",
                run_dir, (long long)res.steps, (long long)cfg.train.total_steps);
    char thr[128] = "not reached";
    if (isnan(exp_threshold(&cfg)))
        snprintf(thr, sizeof thr, "none (set eval.threshold: %s has no default)", env_kind_describe(cfg.env.kind)->name);
    else if (!isnan(res.steps_to_threshold))
        snprintf(thr, sizeof thr, "reached at step %.0f%s", res.steps_to_threshold,
                 res.solved ? ", where the run ends (eval.stop_at_threshold)" : "");
    fprintf(stderr, "bdrl train: %lld steps, %lld episodes in %.1f s; final eval return %.4g (success %.2f); "
                    "threshold %s; results in %s\n",
            (long long)res.steps, (long long)res.episodes, res.wall_seconds, res.final_eval_return,
            res.final_success_rate, thr, run_dir);
    return 0;
}
