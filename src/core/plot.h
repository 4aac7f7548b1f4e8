/* plot.h — runs the gnuplot scripts in plots/ on data files bdrl wrote.
 *
 * Every figure is made by a script under plots/ reading CSV files from a
 * directory, so anyone can re-plot from the data. A script receives the
 * gnuplot variables `dir` (the data directory), `out` (output file), `term`
 * ("png" or "svg") and `ttl` (a title), and must set its own terminal from
 * `term`. plot_gnuplot renders OUT.png and OUT.svg and checks that the PNG is
 * a real, non-empty PNG.
 *
 * Scripts are looked up in $BDRL_PLOTS_DIR, then beside the installed binary
 * (PREFIX/share/bdrl/plots), then in the source tree bdrl was built from.
 */
#ifndef BDRL_PLOT_H
#define BDRL_PLOT_H

#include <stdio.h>

#include "err.h"

/* out_png must end in ".png"; the SVG goes beside it. */
int plot_gnuplot(const char *script, const char *data_dir, const char *out_png, const char *title,
                 bdrl_err *e);

/* Runs a script on variables given as strings (names[i]=values[i], each
 * quoted), for figures other than plot_gnuplot's PNG and SVG pair
 * (animations, frame series); the script sets its own terminal and output.
 * Each line gnuplot prints to stdout (`set print '-'`) goes to on_line (may
 * be NULL: progress); its stderr goes to errlog, removed on success, and the
 * last line of it is the error message on failure. */
int plot_gnuplot_run(const char *script, int n_vars, const char *const *names, const char *const *values,
                     const char *errlog, void (*on_line)(const char *line, void *ctx), void *ctx,
                     bdrl_err *e);

/* Writes s to f as a gnuplot single-quoted string (a quote doubled, newlines
 * dropped), for the variables of a re-plot script. */
void plot_write_quoted(FILE *f, const char *s);

/* The tail of a re-plot script OUT_PREFIX.gp: datafile = data, and when it
 * is run on its own (`gnuplot OUT_PREFIX.gp`, no dir set) the variables of
 * a PNG render of png with title, and a `load` of script (a full path). */
void plot_write_redraw(FILE *f, const char *data, const char *out_prefix, const char *png, const char *title,
                       const char *script);

/* Full path of a script (into buf), or -1 with a message if not found. */
int plot_find_script(const char *script, char *buf, size_t n, bdrl_err *e);

#endif
