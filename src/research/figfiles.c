/* figfiles.c — gnuplot strings and redraw scripts shared by the figures
 * (figfiles.h). */
#include "research/figfiles.h"

#include <stdlib.h>
#include <string.h>

#include "agents/registry.h"
#include "core/io.h"
#include "core/plot.h"

void fig_gp_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if (*s == '\n') {
            fputs("\\n", f);
            continue;
        }
        fputc(*s, f);
    }
    fputc('"', f);
}

int fig_write_replot(const char *prefix, const char *script, const char *title, bdrl_err *e)
{
    char path[4096], spath[4096];
    if (plot_find_script(script, spath, sizeof spath, e))
        return -1;
    if ((size_t)snprintf(path, sizeof path, "%s.gp", prefix) >= sizeof path)
        return err_set(e, "path too long: %s.gp", prefix);
    const char *base = strrchr(prefix, '/');
    base = base ? base + 1 : prefix;
    io_atomic a;
    if (io_atomic_open(&a, path, e))
        return -1;
    fprintf(a.f, "# Redraws %s.png from the data in %s_data/ (run from this directory):\n"
                 "#   gnuplot %s.gp                      (PNG)\n"
                 "#   gnuplot -e \"term='svg'\" %s.gp      (SVG)\n",
            base, base, base, base);
    fprintf(a.f, "dir = ");
    fig_gp_str(a.f, base);
    fprintf(a.f, ".'_data'\nif (!exists('term')) term = 'png'\nout = ");
    fig_gp_str(a.f, base);
    fprintf(a.f, ".'.'.term\nttl = ");
    fig_gp_str(a.f, title);
    fprintf(a.f, "\nload ");
    fig_gp_str(a.f, spath);
    fprintf(a.f, "\n");
    return io_atomic_commit(&a, e);
}

const char *fig_agent_label(const agent *a)
{
    int k = agent_kind_of(a);
    const agent_class *c = k >= 0 ? agent_class_of(k) : NULL;
    return c && c->label ? c->label : a->ops->name;
}

void fig_unique_labels(char *labels, size_t len, int n, const char *const *dirs, const int *given)
{
    unsigned char *clash = calloc((size_t)(n > 0 ? n : 1), 1);
    if (!clash)
        return; /* labels stay as they are: a figure with twin titles, not a failure */
    for (int r = 0; r < n; r++)
        for (int q = 0; q < n; q++)
            clash[r] |= q != r && !strcmp(labels + (size_t)q * len, labels + (size_t)r * len);
    for (int r = 0; r < n; r++) {
        if (!clash[r] || (given && given[r]))
            continue;
        const char *d = dirs[r];
        size_t dl = strlen(d);
        while (dl > 1 && d[dl - 1] == '/')
            dl--;
        size_t b = dl;
        while (b > 0 && d[b - 1] != '/')
            b--;
        char *l = labels + (size_t)r * len;
        size_t k = strlen(l);
        snprintf(l + k, len - k, " (%.*s)", (int)(dl - b), d + b);
    }
    free(clash);
}
