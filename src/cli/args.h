/* args.h — the command line's option parser, shared by every subcommand.
 *
 * Options are long (`--name VALUE`, `--name=VALUE`, or a flag), a few have a
 * one-letter alias (`-n`). `--set KEY=VALUE` is collected in order, as many as
 * given. Everything else is a positional argument. `--help`/`-h` anywhere asks
 * for the command's help. Errors are one line on stderr; the caller exits 2.
 */
#ifndef BDRL_ARGS_H
#define BDRL_ARGS_H

#include <stdio.h>

#define ARGS_MAX_POS 64
#define ARGS_MAX_SETS 256
#define ARGS_MAX_OPTS 32
#define ARGS_MAX_REPEAT 64

typedef struct {
    const char *name;   /* "out" for --out */
    char alias;         /* 'n' for -n, or 0 */
    int takes_value;    /* 0: a flag */
    const char *metavar;
    const char *help;
} args_opt;

typedef struct {
    const char *pos[ARGS_MAX_POS];
    int n_pos;
    char *sets[ARGS_MAX_SETS];
    int n_sets;
    const char *val[ARGS_MAX_OPTS]; /* per option: its value, "1" for a flag, NULL if absent */
    /* per option taking a value: every value given, in order (repeatable
     * options such as --slurm-opt; val holds the last) */
    const char *all[ARGS_MAX_OPTS][ARGS_MAX_REPEAT];
    int n_all[ARGS_MAX_OPTS];
} args_parsed;

typedef struct {
    const char *usage;      /* "bdrl env rollout NAME --state ... [--set KEY=VALUE]..." */
    const char *summary;    /* one paragraph */
    const args_opt *opts;
    int n_opts;
    int takes_sets;         /* accepts --set */
} args_spec;

/* Returns 0 to go on, 1 if help was printed (exit 0), -1 after printing an
 * error (exit 2). */
int args_parse(const args_spec *spec, int argc, char **argv, args_parsed *out);
void args_print_help(const args_spec *spec, FILE *f);

/* args_parse for commands that take exactly one positional argument: returns
 * −1 to go on, else the exit status (0 after --help; 2 after an error, or
 * "CMD: expected WHAT (see 'CMD --help')" when the count is wrong). */
int args_parse_one(const args_spec *spec, int argc, char **argv, args_parsed *out, const char *cmd,
                   const char *what);

/* The value of option `name` (NULL if absent; the last one if repeated). */
const char *args_get(const args_spec *spec, const args_parsed *a, const char *name);
/* Every value of option `name`, in order; *n receives the count. */
const char *const *args_get_all(const args_spec *spec, const args_parsed *a, const char *name, int *n);

/* Parses integers/reals fully (no trailing junk); print an error naming the
 * option and return -1 on failure. */
int args_int(const char *opt, const char *text, long long lo, long long hi, long long *out);
int args_real(const char *opt, const char *text, double lo, double hi, double *out);
/* Comma-separated numbers into out (at most max); returns the count or -1. */
int args_real_list(const char *opt, const char *text, double *out, int max);
int args_int_list(const char *opt, const char *text, long long lo, long long hi, int *out, int max);

#endif
