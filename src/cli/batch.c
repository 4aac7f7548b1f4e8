/* batch.c — --slurm and --status shared by sweep and compare; see batch.h. */
#include "cli/batch.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int batch_submit(const char *cmd, const slurm_options *o, const char *out, const char *const *task, int n_task,
                 const char *const *summary, int n_summary, const int *todo, int n, int dry_run, FILE *prog,
                 const char *status_hint)
{
    bdrl_err e;
    if (!dry_run && !slurm_have("sbatch")) {
        fprintf(stderr, "bdrl %s: --slurm: sbatch not found on PATH (install Slurm; scripts/slurm-local.sh up "
                        "starts a one-node cluster on this machine)\n", cmd);
        return 2;
    }
    char cwd[4096], exe[PATH_MAX], slurm_dir[4200], log_dir[8400], name[64], aid[64], sid[64];
    if (!getcwd(cwd, sizeof cwd) || !realpath("/proc/self/exe", exe)) {
        fprintf(stderr, "bdrl %s: cannot find the working directory or the bdrl binary\n", cmd);
        return 1;
    }
    snprintf(slurm_dir, sizeof slurm_dir, "%s/slurm", out);
    if (slurm_dir[0] == '/')
        snprintf(log_dir, sizeof log_dir, "%s", slurm_dir);
    else
        snprintf(log_dir, sizeof log_dir, "%s/%s", cwd, slurm_dir);
    const char *stem = strrchr(out, '/');
    snprintf(name, sizeof name, "bdrl-%.50s", stem && stem[1] ? stem + 1 : out);
    for (char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
            *c = '_';
    slurm_job j = {name, cwd, log_dir, exe, task, n_task, summary, n_summary, todo, n};
    if (dry_run) {
        char *a = slurm_array_script(o, &j, &e), *b = a ? slurm_summary_script(o, &j, &e) : NULL;
        if (!a || !b) {
            fprintf(stderr, "bdrl: %s\n", e.msg);
            free(a);
            return 2;
        }
        printf("# %s/array.sbatch\n%s\n# %s/summary.sbatch (sbatch --dependency=afterany:<array job id>)\n%s",
               slurm_dir, a, slurm_dir, b);
        free(a);
        free(b);
        return 0;
    }
    if (slurm_launch(o, &j, slurm_dir, aid, sid, sizeof aid, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return 1;
    }
    if (prog)
        fprintf(prog, "%s: %d run%s submitted as job array %s, summary job %s after it; scripts and logs in %s\n",
                cmd, n, n == 1 ? "" : "s", aid, sid, slurm_dir);
    printf("array job %s\nsummary job %s\n", aid, sid);
    if (prog)
        fprintf(prog, "watch: squeue -j %s,%s   or   %s\n", aid, sid, status_hint);
    return 0;
}

int batch_queue(const char *out, char *queue, int n, char *id, size_t id_n)
{
    char slurm_dir[4200];
    bdrl_err e;
    id[0] = '\0';
    snprintf(slurm_dir, sizeof slurm_dir, "%s/slurm", out);
    if (!slurm_read_jobs(slurm_dir, id, id_n) || !slurm_have("squeue"))
        return 0;
    int k = slurm_queue_states(id, queue, n, &e);
    if (k < 0)
        fprintf(stderr, "bdrl: warning: %s\n", e.msg);
    return k > 0 ? k : 0;
}

void batch_print_counts(const int *counts, const char *array_id, int queued)
{
    for (int k = 0; k < RUNDIR_N_STATES; k++)
        printf("  %-9s %d\n", rundir_state_names[k], counts[k]);
    if (array_id[0])
        printf("slurm: array job %s, %d task(s) in the queue%s\n", array_id, queued,
               slurm_have("squeue") ? "" : " (squeue not found: not asked)");
}

static void fmt_duration(double s, char *b, size_t n)
{
    if (isnan(s))
        snprintf(b, n, "unknown until a run finishes");
    else if (s < 90)
        snprintf(b, n, "%.0f s", s);
    else if (s < 5400)
        snprintf(b, n, "%.0f min", s / 60);
    else
        snprintf(b, n, "%.1f h", s / 3600);
}

void batch_print_time_left(const int *counts, double work_left_s, int par)
{
    char w[64], t[64];
    if (par < 1)
        par = 1;
    fmt_duration(work_left_s, w, sizeof w);
    fmt_duration(work_left_s / par, t, sizeof t);
    if (counts[RUNDIR_PENDING] + counts[RUNDIR_RUNNING] == 0)
        printf("time left: none (every run has ended)\n");
    else if (isnan(work_left_s))
        printf("time left: %s\n", w);
    else
        printf("time left: about %s at %d run%s at a time (%s of work)\n", t, par, par == 1 ? "" : "s", w);
}
