/* slurm.h — running a sweep's or a comparison's runs as a Slurm job array
 * (`bdrl sweep FILE --slurm`, `bdrl compare ... --slurm`): the options, the
 * two batch scripts, and their submission with sbatch.
 *
 * The array script runs one array task per unfinished run; the task's
 * index is the run's index, so a task runs `bdrl sweep FILE --only
 * $SLURM_ARRAY_TASK_ID` (or the compare equivalent), which resumes the run
 * from its checkpoint when the task is requeued. The summary script runs
 * once after every task has ended (--dependency=afterany:ARRAY), finishes
 * whatever failed or was cancelled, and rebuilds the tables and figures.
 *
 * Options (a sweep file's `slurm:` section, or --slurm-opt KEY=VALUE):
 *   partition      #SBATCH --partition            (default: the cluster's)
 *   time           #SBATCH --time, e.g. 01:00:00 or 2-00:00:00
 *   cpus_per_task  #SBATCH --cpus-per-task        (default 1: runs are single-threaded)
 *   mem            #SBATCH --mem, e.g. 2G, 500M
 *   account        #SBATCH --account
 *   max_parallel   tasks at a time: --array=...%N (default: no limit)
 *   requeue        true (default): #SBATCH --requeue, so a preempted task runs again
 *   extra          more #SBATCH lines: "--qos=low" or a list of them
 *
 * Memory: slurm_options holds no pointers; scripts are malloc'ed strings the
 * caller frees.
 */
#ifndef BDRL_SLURM_H
#define BDRL_SLURM_H

#include <stddef.h>

#include "core/err.h"

#define SLURM_MAX_EXTRA 16

typedef struct {
    char partition[128];
    char time[64];
    int cpus_per_task;
    char mem[64];
    char account[128];
    int max_parallel;   /* 0: no limit */
    int requeue;
    int n_extra;
    char extra[SLURM_MAX_EXTRA][256]; /* each without the leading "#SBATCH " */
} slurm_options;

/* The option keys, NULL-terminated (for messages and the sweep file). */
extern const char *const slurm_option_keys[];

void slurm_options_init(slurm_options *o);
/* Sets key to value (text). An unknown key or a bad value: -1 with a
 * message naming the key, the value and what is expected. `extra` adds a
 * line each time. */
int slurm_option_set(slurm_options *o, const char *key, const char *value, bdrl_err *e);
/* "KEY=VALUE" (--slurm-opt). */
int slurm_option_parse(slurm_options *o, const char *kv, bdrl_err *e);

/* What the scripts run. */
typedef struct {
    const char *job_name;       /* e.g. "bdrl-sweep-fl4" */
    const char *workdir;        /* the scripts cd here (the submission's cwd, absolute) */
    const char *log_dir;        /* OUT/slurm (absolute or relative to workdir) */
    const char *bdrl;           /* the bdrl binary (absolute) */
    const char *const *task_args;    /* a task's arguments before "--only I" */
    int n_task_args;
    const char *const *summary_args; /* the summary job's arguments */
    int n_summary_args;
    const int *runs;            /* the array's indices: runs still to do, ascending */
    int n_runs;
} slurm_job;

/* "0-3,7,9-11" for sorted indices (at most n bytes, -1 if too long). */
int slurm_array_spec(const int *idx, int n, char *buf, size_t cap);

/* The array job's script (n_runs >= 1) and the summary job's script. */
char *slurm_array_script(const slurm_options *o, const slurm_job *j, bdrl_err *e);
char *slurm_summary_script(const slurm_options *o, const slurm_job *j, bdrl_err *e);

/* A shell word: s in single quotes (with ' written as '\''), unless it is
 * made only of safe characters. Returns buf, or NULL if cap is too small. */
char *slurm_shell_quote(const char *s, char *buf, size_t cap);

/* 1 if a program called name is on PATH. */
int slurm_have(const char *name);

/* Submits script (a file) with `sbatch --parsable [--dependency=afterany:DEP]
 * SCRIPT`; the job id goes into id. Errors carry sbatch's own message. */
int slurm_submit(const char *script, const char *after, char *id, size_t n, bdrl_err *e);

/* Runs `squeue -h -j ID -r -o "%K %T"`: for each array index i in [0, n)
 * state[i] receives 'R' (running), 'P' (pending), or stays. Returns the
 * number of tasks seen, -1 if squeue failed. */
int slurm_queue_states(const char *job_id, char *state, int n, bdrl_err *e);

/* Writes SLURM_DIR/array.sbatch and summary.sbatch (atomically), submits
 * the array, then the summary job after it (afterany), and records both ids
 * in SLURM_DIR/jobs.json. */
int slurm_launch(const slurm_options *o, const slurm_job *j, const char *slurm_dir, char *array_id,
                 char *summary_id, size_t n, bdrl_err *e);
/* The array job id recorded in SLURM_DIR/jobs.json: 1 and id, or 0. */
int slurm_read_jobs(const char *slurm_dir, char *array_id, size_t n);

#endif
