/* figfiles.h — what the figures of `bdrl plot` share around their gnuplot
 * scripts (distplot.h, policyplot.h, riskplot.h): gnuplot string literals
 * in the data files they write, and the redraw script P.gp beside a figure
 * P.png.
 *
 * P.gp sets the variables plot_gnuplot passes (dir = P_data, out, term,
 * ttl) with paths relative to P's directory, then loads the script, so
 * `cd DIR && gnuplot P.gp` redraws the PNG and `gnuplot -e "term='svg'"
 * P.gp` the SVG from the data alone.
 */
#ifndef BDRL_FIGFILES_H
#define BDRL_FIGFILES_H

#include <stdio.h>

#include "core/err.h"
#include "agents/agent.h"

/* s as a gnuplot string in double quotes ("\n" breaks a line in a title). */
void fig_gp_str(FILE *f, const char *s);

/* Writes prefix.gp for the figure prefix.png drawn by script (a name under
 * plots/) with the given title. */
int fig_write_replot(const char *prefix, const char *script, const char *title, bdrl_err *e);

/* Makes n labels (each of size len) distinct: every label that two runs
 * share, and that was not given (given[i] 0), gets " (<the run directory's
 * name>)" appended. Decided on the labels as they come in, so that every
 * run of a clash is named. */
void fig_unique_labels(char *labels, size_t len, int n, const char *const *dirs, const int *given);

/* The agent's label in figures: its registry label ("BD", "C51", ...), or its
 * ops name for an agent outside the registry. */
const char *fig_agent_label(const agent *a);

#endif
