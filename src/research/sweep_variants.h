/* sweep_variants.h — the tables and the figure of an ablation sweep (a
 * sweep with variants:, sweep.h): how each variant does on each config.
 *
 * OUT/variants.md and OUT/variants.csv: one row per variant in the file's
 * order (per grid point and random draw in turn, when the sweep has them),
 * one column group per config of `base:`. For steps_to_threshold: median
 * and interquartile range [q25, q75] over the seeds and "reached k/n", a
 * seed that never reached the threshold counting as infinitely many steps
 * (compare.h's rule); "vs first" is this median / the first variant's.
 * For the other metrics: the mean and 95% percentile bootstrap interval of
 * summary.md; "vs first" is this mean - the first variant's. Every "vs
 * first" but the first variant's own comes with a 95% interval
 * (compare_boot_interval, compare.h: the variant's seeds against the
 * first's). Cells whose seeds have not all finished say how many have.
 *
 * OUT/plots/variants.png and .svg (plots/sweep_variants.gp, data
 * variants.dat, redraw variants.gp): x the variants in file order, y the
 * metric; one jittered point per run and one colour per config, the median
 * per (config, variant) as a larger mark with its IQR as a bar; runs that
 * never reached the threshold as a distinct mark in a band "not reached"
 * at the top. Drawn from results.csv and variants.csv alone, so `bdrl plot
 * sweep OUT` redraws it.
 */
#ifndef BDRL_SWEEP_VARIANTS_H
#define BDRL_SWEEP_VARIANTS_H

#include "core/err.h"
#include "research/sweep.h"
#include "research/sweep_priv.h"

/* Writes OUT/variants.md and OUT/variants.csv (atomically) from run i's
 * metric value metric[i] (R entries; +INFINITY: never reached, NaN: none)
 * where have[i] says the run has finished. */
int sweep_variants_write(const sweep_def *s, const double *metric, const unsigned char *have, bdrl_err *e);

/* Draws sweep_dir/plots/variants.png and .svg from results (results.csv,
 * its metric in column c_metric) and sweep_dir/variants.csv. */
int sweep_variants_plot(const char *sweep_dir, const sweep_csv *results, int c_metric, const char *metric,
                        bdrl_err *e);

#endif
