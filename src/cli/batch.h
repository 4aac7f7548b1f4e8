/* batch.h — what `bdrl sweep` and `bdrl compare` share for --slurm and
 * --status: submitting the unfinished runs as a job array with a summary
 * job after it, and printing a status report. */
#ifndef BDRL_CLI_BATCH_H
#define BDRL_CLI_BATCH_H

#include <stdio.h>

#include "research/rundir.h"
#include "research/slurm.h"

/* --slurm for the runs `todo` (n, ascending) of out. task: a task's
 * arguments before "--only I"; summary: the summary job's. dry_run prints
 * both scripts and writes nothing. status_hint: the command that reports
 * progress. Returns the exit status (prints its own messages). */
int batch_submit(const char *cmd, const slurm_options *o, const char *out, const char *const *task, int n_task,
                 const char *const *summary, int n_summary, const int *todo, int n, int dry_run, FILE *prog,
                 const char *status_hint);

/* The queue's view of out's submitted array (OUT/slurm/jobs.json): queue[i]
 * 'R' or 'P' per run (n), and the array id (or "" if none was submitted).
 * Returns the number of tasks in the queue (0 when squeue is missing). */
int batch_queue(const char *out, char *queue, int n, char *id, size_t id_n);

/* "  pending   3" lines, the queue line, and the time left (work_left_s of
 * one-process work, NaN if unknown; par: runs at a time). */
void batch_print_counts(const int *counts, const char *array_id, int queued);
void batch_print_time_left(const int *counts, double work_left_s, int par);

#endif
