/* sweep_priv.h — what sweep.c and sweep_variants.c share: the summary's
 * mean and bootstrap interval, writing CSV fields, and reading a sweep's
 * CSV files (results.csv, variants.csv) back for the figures. Not an API:
 * only the sweep module includes it.
 */
#ifndef BDRL_SWEEP_PRIV_H
#define BDRL_SWEEP_PRIV_H

#include <stdio.h>

#include "core/err.h"
#include "core/rng.h"

#define SWEEP_BOOT 10000
#define SWEEP_BOOT_SEED 0x73756d6dull

/* Mean of n >= 1 finite values and its 95% percentile bootstrap interval
 * (SWEEP_BOOT resamples, r reseeded to SWEEP_BOOT_SEED: every interval is
 * reproducible on its own); one value is its own interval. */
void sweep_mean_ci(const double *x, int n, rng *r, double *mean, double *lo, double *hi);

/* A CSV field, quoted when it holds a comma, quote or newline. */
void sweep_csv_field(FILE *f, const char *s);
/* A number as results.csv writes it: nothing for NaN, inf for an infinity. */
void sweep_csv_num(FILE *f, double v);

#define SWEEP_CSV_MAX_COLS 128

/* A CSV file read whole: its header's fields and each row's, split in place
 * in text (quotes allowed; at most SWEEP_CSV_MAX_COLS fields a line). */
typedef struct {
    char *text;
    int n_cols;
    char *hdr[SWEEP_CSV_MAX_COLS];
    int n_rows;
    char ***rows;    /* [n_rows][SWEEP_CSV_MAX_COLS] */
    int *n_fields;   /* [n_rows] */
} sweep_csv;

/* Errors: unreadable, empty, out of memory. */
int sweep_csv_read(const char *path, sweep_csv *t, bdrl_err *e);
void sweep_csv_free(sweep_csv *t);
/* Index of the header's column name, or -1. */
int sweep_csv_col(const sweep_csv *t, const char *name);

/* 1 if t is a whole number text (finite), with its value. */
int sweep_is_number(const char *t, double *v);

#endif
