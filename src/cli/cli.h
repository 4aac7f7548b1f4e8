/* cli.h — the subcommands of the bdrl program, one file each (cmd_*.c).
 * Each returns the process exit status: 0 success, 1 runtime failure,
 * 2 bad usage or bad input (flags, config, files). */
#ifndef BDRL_CLI_H
#define BDRL_CLI_H

/* Process-wide set-up before any subcommand (BLAS threads and its buffer
 * against ulimit -v); ends the process with one line and exit 2 when the limit
 * cannot hold OpenBLAS's work buffer. */
void cli_init(char **argv);
/* The exit status for an output directory that could not be created or
 * written: 2 (bad input) when the path cannot be a directory (a component
 * exists and is not one: a file in the way), else 1 (a runtime failure: a
 * read-only or full file system is not the user's input). */
int cli_output_status(const char *dir);
int cmd_config(int argc, char **argv);
int cmd_env(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_truth(int argc, char **argv);
int cmd_dist(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_render(int argc, char **argv);

#endif
