#include "dataset.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "../core/io.h"

/* ---- data sets ---- */

data_set *data_create(size_t n, size_t d, bdrl_err *e)
{
    if (d == 0) {
        err_set(e, "a data set needs at least one dimension");
        return NULL;
    }
    if (n && d > (size_t)-1 / sizeof(double) / n) {
        err_set(e, "data set of %zu x %zu values is too large", n, d);
        return NULL;
    }
    data_set *ds = err_calloc(1, sizeof *ds, e);
    if (!ds)
        return NULL;
    ds->x = err_calloc(n * d, sizeof(double), e);
    if (!ds->x) {
        free(ds);
        return NULL;
    }
    ds->n = n;
    ds->d = d;
    return ds;
}

data_set *data_from_rows(const double *x, size_t n, size_t d, bdrl_err *e)
{
    data_set *ds = data_create(n, d, e);
    if (ds && n)
        memcpy(ds->x, x, n * d * sizeof(double));
    return ds;
}

static void free_names(char **names, size_t d)
{
    if (!names)
        return;
    for (size_t j = 0; j < d; j++)
        free(names[j]);
    free(names);
}

void data_free(data_set *ds)
{
    if (!ds)
        return;
    free_names(ds->names, ds->d);
    free(ds->x);
    free(ds);
}

static char **copy_names(char *const *names, size_t d, bdrl_err *e)
{
    if (!names)
        return NULL;
    char **out = err_calloc(d, sizeof *out, e);
    if (!out)
        return NULL;
    for (size_t j = 0; j < d; j++) {
        out[j] = strdup(names[j]);
        if (!out[j]) {
            free_names(out, d);
            err_set(e, "out of memory copying column names");
            return NULL;
        }
    }
    return out;
}

/* ---- built-in laws ---- */

#define SQRT3 1.7320508075688772935

static const char *const builtin_names[DATA_N_BUILTIN] = {"uniform3", "mog1d", "mog2d", "moons"};
static const double w_uniform3[3] = {1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0};
static const double iv_uniform3[3][2] = {{-3.0, -2.0}, {-0.5, 0.5}, {2.0, 3.0}};
static const double w_mog1d[3] = {0.7, 0.2, 0.1};
static const double mu_mog1d[3] = {-2.0, 0.0, 2.0};
static const double w_mog2d[3] = {0.6, 0.3, 0.1};
/* 2 (cos t, sin t) for t = 90, 210, 330 degrees. */
static const double mu_mog2d[3][2] = {{0.0, 2.0}, {-SQRT3, -1.0}, {SQRT3, -1.0}};
static const double w_moons[2] = {0.5, 0.5};
#define SD_MOG 0.3
#define SD_MOONS 0.1

static int valid(data_builtin b) { return (int)b >= 0 && b < DATA_N_BUILTIN; }

const char *data_builtin_name(data_builtin b) { return valid(b) ? builtin_names[b] : NULL; }

int data_builtin_parse(const char *name, data_builtin *out, bdrl_err *e)
{
    for (int b = 0; b < DATA_N_BUILTIN; b++)
        if (name && strcmp(name, builtin_names[b]) == 0) {
            *out = (data_builtin)b;
            return 0;
        }
    return err_set(e, "unknown data set '%s' (expected uniform3, mog1d, mog2d or moons)",
                   name ? name : "(null)");
}

size_t data_builtin_dim(data_builtin b)
{
    return (b == DATA_MOG2D || b == DATA_MOONS) ? 2 : valid(b) ? 1 : 0;
}

size_t data_n_components(data_builtin b)
{
    return b == DATA_MOONS ? 2 : valid(b) ? 3 : 0;
}

const double *data_component_weights(data_builtin b)
{
    switch (b) {
    case DATA_UNIFORM3: return w_uniform3;
    case DATA_MOG1D: return w_mog1d;
    case DATA_MOG2D: return w_mog2d;
    case DATA_MOONS: return w_moons;
    default: return NULL;
    }
}

static int pick(const double *w, int k, double u)
{
    double c = 0.0;
    for (int i = 0; i < k - 1; i++) {
        c += w[i];
        if (u < c)
            return i;
    }
    return k - 1;
}

void data_sample_into(data_builtin b, size_t n, rng *r, double *x, int *labels)
{
    for (size_t i = 0; i < n; i++) {
        int c = 0;
        switch (b) {
        case DATA_UNIFORM3:
            c = (int)rng_below(r, 3);
            x[i] = iv_uniform3[c][0] + (iv_uniform3[c][1] - iv_uniform3[c][0]) * rng_uniform(r);
            break;
        case DATA_MOG1D:
            c = pick(w_mog1d, 3, rng_uniform(r));
            x[i] = mu_mog1d[c] + SD_MOG * rng_normal(r);
            break;
        case DATA_MOG2D:
            c = pick(w_mog2d, 3, rng_uniform(r));
            x[2 * i] = mu_mog2d[c][0] + SD_MOG * rng_normal(r);
            x[2 * i + 1] = mu_mog2d[c][1] + SD_MOG * rng_normal(r);
            break;
        case DATA_MOONS: {
            c = (int)rng_below(r, 2);
            double t = M_PI * rng_uniform(r), ct = cos(t), st = sin(t);
            double px = c == 0 ? ct : 1.0 - ct, py = c == 0 ? st : 0.5 - st;
            x[2 * i] = px + SD_MOONS * rng_normal(r);
            x[2 * i + 1] = py + SD_MOONS * rng_normal(r);
            break;
        }
        default:
            break;
        }
        if (labels)
            labels[i] = c;
    }
}

data_set *data_sample(data_builtin b, size_t n, rng *r, int *labels, bdrl_err *e)
{
    if (!valid(b)) {
        err_set(e, "invalid built-in data set %d", (int)b);
        return NULL;
    }
    data_set *ds = data_create(n, data_builtin_dim(b), e);
    if (ds)
        data_sample_into(b, n, r, ds->x, labels);
    return ds;
}

/* Distance from (px, py) to the unit half circle centred at (cx, cy) that
 * lies above its centre (upper = 1) or below it (upper = 0). */
static double arc_dist(double px, double py, double cx, double cy, int upper)
{
    double vx = px - cx, vy = py - cy;
    if (upper ? vy >= 0.0 : vy <= 0.0)
        return fabs(hypot(vx, vy) - 1.0);
    double d1 = hypot(vx - 1.0, vy), d2 = hypot(vx + 1.0, vy);
    return d1 < d2 ? d1 : d2;
}

size_t data_nearest_component(data_builtin b, const double *x)
{
    double dist[DATA_MAX_COMPONENTS];
    size_t k = data_n_components(b);
    switch (b) {
    case DATA_UNIFORM3:
        for (size_t c = 0; c < 3; c++) {
            double lo = iv_uniform3[c][0] - x[0], hi = x[0] - iv_uniform3[c][1];
            dist[c] = lo > 0 ? lo : hi > 0 ? hi : 0.0;
        }
        break;
    case DATA_MOG1D:
        for (size_t c = 0; c < 3; c++)
            dist[c] = fabs(x[0] - mu_mog1d[c]);
        break;
    case DATA_MOG2D:
        for (size_t c = 0; c < 3; c++)
            dist[c] = hypot(x[0] - mu_mog2d[c][0], x[1] - mu_mog2d[c][1]);
        break;
    case DATA_MOONS:
        dist[0] = arc_dist(x[0], x[1], 0.0, 0.0, 1);
        dist[1] = arc_dist(x[0], x[1], 1.0, 0.5, 0);
        break;
    default:
        return 0;
    }
    size_t best = 0;
    for (size_t c = 1; c < k; c++)
        if (dist[c] < dist[best])
            best = c;
    return best;
}

void data_mode_weights(data_builtin b, const double *x, size_t n, double *w)
{
    size_t k = data_n_components(b), d = data_builtin_dim(b);
    size_t count[DATA_MAX_COMPONENTS] = {0};
    for (size_t i = 0; i < n; i++)
        count[data_nearest_component(b, x + i * d)]++;
    for (size_t c = 0; c < k; c++)
        w[c] = n ? (double)count[c] / (double)n : 0.0;
}

double data_mode_tv(data_builtin b, const double *w)
{
    const double *t = data_component_weights(b);
    size_t k = data_n_components(b);
    double s = 0.0;
    for (size_t c = 0; c < k; c++)
        s += fabs(w[c] - t[c]);
    return 0.5 * s;
}

double data_cdf(data_builtin b, double x)
{
    double F = 0.0;
    if (isnan(x))
        return NAN;
    switch (b) {
    case DATA_UNIFORM3:
        for (int c = 0; c < 3; c++) {
            double a = iv_uniform3[c][0], z = iv_uniform3[c][1];
            double u = (x - a) / (z - a);
            F += w_uniform3[c] * (u <= 0.0 ? 0.0 : u >= 1.0 ? 1.0 : u);
        }
        return F;
    case DATA_MOG1D:
        for (int c = 0; c < 3; c++)
            F += w_mog1d[c] * gsl_cdf_ugaussian_P((x - mu_mog1d[c]) / SD_MOG);
        return F;
    default:
        return NAN;
    }
}

double data_cdf_cb(double x, void *ctx) { return data_cdf(*(const data_builtin *)ctx, x); }

int data_pdf(data_builtin b, const double *x, double *p, double *grad)
{
    const double s2 = SD_MOG * SD_MOG;
    double P = 0.0, g0 = 0.0, g1 = 0.0;
    switch (b) {
    case DATA_UNIFORM3:
        for (int c = 0; c < 3; c++)
            if (x[0] >= iv_uniform3[c][0] && x[0] <= iv_uniform3[c][1])
                P += w_uniform3[c] / (iv_uniform3[c][1] - iv_uniform3[c][0]);
        break;
    case DATA_MOG1D:
        for (int c = 0; c < 3; c++) {
            double u = x[0] - mu_mog1d[c];
            double q = w_mog1d[c] * exp(-0.5 * u * u / s2) / sqrt(2.0 * M_PI * s2);
            P += q;
            g0 -= q * u / s2;
        }
        break;
    case DATA_MOG2D:
        for (int c = 0; c < 3; c++) {
            double u = x[0] - mu_mog2d[c][0], v = x[1] - mu_mog2d[c][1];
            double q = w_mog2d[c] * exp(-0.5 * (u * u + v * v) / s2) / (2.0 * M_PI * s2);
            P += q;
            g0 -= q * u / s2;
            g1 -= q * v / s2;
        }
        break;
    default:
        return -1;
    }
    *p = P;
    if (grad) {
        grad[0] = g0;
        if (b == DATA_MOG2D)
            grad[1] = g1;
    }
    return 0;
}

/* ---- CSV ---- */

#define CSV_MAX_FIELD 512 /* longest numeric field accepted */
#define CSV_MORE 5        /* further bad lines listed after the first */

typedef struct {
    const char *name;
    size_t nbad;
    char first[700];
    size_t more[CSV_MORE];
    size_t nmore;
} csv_errs;

__attribute__((format(printf, 3, 4)))
static void csv_bad(csv_errs *ce, size_t line, const char *fmt, ...)
{
    if (ce->nbad == 0) {
        char what[600];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        snprintf(ce->first, sizeof ce->first, "%s:%zu: %s", ce->name, line, what);
    } else if (ce->nmore < CSV_MORE) {
        ce->more[ce->nmore++] = line;
    }
    ce->nbad++;
}

static int csv_report(const csv_errs *ce, bdrl_err *e)
{
    if (ce->nbad == 1)
        return err_set(e, "%s", ce->first);
    char list[128] = "";
    size_t k = 0;
    for (size_t i = 0; i < ce->nmore; i++)
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%zu", i ? ", " : "", ce->more[i]);
    return err_set(e, "%s (%zu bad lines in all; next at line%s %s%s)", ce->first, ce->nbad,
                   ce->nmore > 1 ? "s" : "", list, ce->nbad - 1 > ce->nmore ? ", ..." : "");
}

/* A printable excerpt of a field for messages: at most 24 characters, bytes
 * outside printable ASCII shown as '?'. */
static const char *show(const char *s, size_t len, char *buf, size_t cap)
{
    size_t k = 0, lim = 24;
    for (size_t i = 0; i < len && i < lim && k + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (len > lim && k + 4 < cap) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
    return buf;
}

static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
    if (*len >= 2 && (*s)[0] == '"' && (*s)[*len - 1] == '"') {
        (*s)++;
        *len -= 2;
    }
}

static int is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

/* Parses a trimmed field. Returns 0, or -1 with the reason in why. */
static int parse_number(const char *s, size_t len, double *v, char *why, size_t cap)
{
    char buf[CSV_MAX_FIELD + 1], sh[40];
    if (len == 0) {
        snprintf(why, cap, "is empty");
        return -1;
    }
    if (len > CSV_MAX_FIELD) {
        snprintf(why, cap, "is %zu characters long, too long for a number", len);
        return -1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (memchr(s, '\0', len)) {
        snprintf(why, cap, "holds a NUL byte");
        return -1;
    }
    char *end;
    errno = 0;
    double x = strtod(buf, &end);
    /* strtod would skip leading \r, \v, \f too; only spaces and tabs are trimmed. */
    if (end == buf || *end != '\0' || isspace((unsigned char)buf[0])) {
        snprintf(why, cap, "'%s' is not a number", show(s, len, sh, sizeof sh));
        return -1;
    }
    if (isnan(x)) {
        snprintf(why, cap, "'%s' is NaN", show(s, len, sh, sizeof sh));
        return -1;
    }
    if (isinf(x)) {
        snprintf(why, cap, errno == ERANGE ? "'%s' is out of range for a double" : "'%s' is infinite",
                 show(s, len, sh, sizeof sh));
        return -1;
    }
    *v = x;
    return 0;
}

static size_t count_fields(const char *s, size_t len)
{
    size_t k = 1;
    for (size_t i = 0; i < len; i++)
        k += (s[i] == ',');
    return k;
}

typedef struct {
    const char *s;
    size_t len;
} field;

/* Splits [s, s+len) at commas into at most cap trimmed fields; returns the
 * number of fields there are. */
static size_t split_fields(const char *s, size_t len, field *out, size_t cap)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == ',') {
            if (k < cap) {
                out[k].s = s + start;
                out[k].len = i - start;
                trim(&out[k].s, &out[k].len);
            }
            k++;
            start = i + 1;
        }
    }
    return k;
}

static int parse_header(const char *s, size_t len, size_t line, csv_errs *ce, char ***names_out,
                        size_t *d_out, bdrl_err *e)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            csv_bad(ce, line, "header row holds control characters or NUL bytes (not a text CSV file?)");
            return -1;
        }
    }
    size_t d = count_fields(s, len);
    field *f = err_calloc(d, sizeof *f, e);
    char **names = err_calloc(d, sizeof *names, e);
    if (!f || !names) {
        free(f);
        free(names);
        return -2;
    }
    split_fields(s, len, f, d);
    int all_numeric = 1;
    for (size_t j = 0; j < d; j++) {
        if (f[j].len == 0) {
            csv_bad(ce, line, "header field %zu is empty (every column needs a name)", j + 1);
            goto fail;
        }
        double v;
        char why[128];
        if (parse_number(f[j].s, f[j].len, &v, why, sizeof why) != 0)
            all_numeric = 0;
        names[j] = strndup(f[j].s, f[j].len);
        if (!names[j]) {
            err_set(e, "out of memory reading the CSV header");
            free(f);
            free_names(names, d);
            return -2;
        }
    }
    if (all_numeric) {
        csv_bad(ce, line, "header row holds only numbers; the first line must name the columns");
        goto fail;
    }
    free(f);
    *names_out = names;
    *d_out = d;
    return 0;
fail:
    free(f);
    free_names(names, d);
    return -1;
}

data_set *data_parse_csv(const char *text, size_t len, const char *name, bdrl_err *e)
{
    csv_errs ce;
    memset(&ce, 0, sizeof ce);
    ce.name = name ? name : "(csv)";
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    const char *p = text, *end = text + len;
    size_t line = 0;
    char **names = NULL;
    size_t d = 0, rows = 0, cap = 0;
    double *x = NULL;
    field *f = NULL;
    size_t pending_blank = 0; /* first blank line not yet followed by data */
    int have_header = 0;
    int all_blank = 1;

    for (const char *q = text; q < end; q++)
        if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
            all_blank = 0;
            break;
        }
    if (all_blank) {
        err_set(e, "%s:1: empty file (expected a header row and at least one data row)", ce.name);
        return NULL;
    }

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t ll = (size_t)(le - p);
        if (ll && p[ll - 1] == '\r')
            ll--;
        line++;
        if (!have_header) {
            if (is_blank(p, ll)) {
                csv_bad(&ce, line, "blank first line; expected a header row naming the columns");
                goto out;
            }
            int rc = parse_header(p, ll, line, &ce, &names, &d, e);
            if (rc == -2)
                goto oom;
            if (rc != 0)
                goto out;
            have_header = 1;
            f = err_calloc(d, sizeof *f, e);
            if (!f)
                goto oom;
        } else if (is_blank(p, ll)) {
            if (!pending_blank)
                pending_blank = line;
        } else {
            if (pending_blank) {
                for (size_t b = pending_blank; b < line; b++)
                    csv_bad(&ce, b, "blank line inside the data (only trailing blank lines are allowed)");
                pending_blank = 0;
            }
            if (memchr(p, '\0', ll)) {
                csv_bad(&ce, line, "line holds a NUL byte (not a text CSV file?)");
            } else {
                size_t k = split_fields(p, ll, f, d);
                if (k != d) {
                    csv_bad(&ce, line, "wrong number of columns: %zu field%s, expected %zu as in the header",
                            k, k == 1 ? "" : "s", d);
                } else {
                    if (rows == cap) {
                        size_t nc = cap ? 2 * cap : 64;
                        if (nc > (size_t)-1 / sizeof(double) / d) {
                            err_set(e, "%s: too many values", ce.name);
                            goto fail;
                        }
                        double *nx = realloc(x, nc * d * sizeof(double));
                        if (!nx)
                            goto oom;
                        x = nx;
                        cap = nc;
                    }
                    int ok = 1;
                    for (size_t j = 0; j < d && ok; j++) {
                        char why[200];
                        if (parse_number(f[j].s, f[j].len, &x[rows * d + j], why, sizeof why) != 0) {
                            if (d == 1)
                                csv_bad(&ce, line, "value %s", why);
                            else
                                csv_bad(&ce, line, "field %zu %s", j + 1, why);
                            ok = 0;
                        }
                    }
                    if (ok)
                        rows++;
                }
            }
        }
        p = nl ? nl + 1 : end;
    }

out:
    if (ce.nbad == 0 && rows == 0)
        csv_bad(&ce, pending_blank ? pending_blank : line + 1, "no data rows after the header");
    if (ce.nbad) {
        csv_report(&ce, e);
        goto fail;
    }
    {
        data_set *ds = err_calloc(1, sizeof *ds, e);
        if (!ds)
            goto fail;
        ds->n = rows;
        ds->d = d;
        ds->x = x;
        ds->names = names;
        free(f);
        return ds;
    }
oom:
    err_set(e, "%s: out of memory", ce.name);
fail:
    free(f);
    free(x);
    free_names(names, d);
    return NULL;
}

data_set *data_load_csv(const char *path, bdrl_err *e)
{
    size_t len = 0;
    char *buf = io_read_file(path, &len, e);
    if (!buf)
        return NULL;
    data_set *ds = data_parse_csv(buf, len, path, e);
    free(buf);
    return ds;
}

/* ---- splits ---- */

int data_split(const data_set *ds, double heldout_frac, rng *r, data_set **train,
               data_set **heldout, bdrl_err *e)
{
    *train = *heldout = NULL;
    if (!(heldout_frac > 0.0 && heldout_frac < 1.0))
        return err_set(e, "held-out fraction must be in (0, 1), got %g", heldout_frac);
    size_t n = ds->n, nh = (size_t)llround(heldout_frac * (double)n);
    if (nh == 0 || nh >= n)
        return err_set(e, "cannot split %zu samples with held-out fraction %g: a part would be empty",
                       n, heldout_frac);
    size_t *idx = err_calloc(n, sizeof *idx, e);
    unsigned char *held = err_calloc(n, 1, e);
    data_set *a = data_create(n - nh, ds->d, e), *b = data_create(nh, ds->d, e);
    if (!idx || !held || !a || !b)
        goto fail;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    /* Partial Fisher-Yates: the first nh entries become a uniform random subset. */
    for (size_t i = 0; i < nh; i++) {
        size_t j = i + (size_t)rng_below(r, (unsigned long)(n - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        held[idx[i]] = 1;
    }
    size_t ia = 0, ib = 0, d = ds->d;
    for (size_t i = 0; i < n; i++) {
        double *dst = held[i] ? b->x + (ib++) * d : a->x + (ia++) * d;
        memcpy(dst, ds->x + i * d, d * sizeof(double));
    }
    if (ds->names) {
        a->names = copy_names(ds->names, d, e);
        b->names = copy_names(ds->names, d, e);
        if (!a->names || !b->names)
            goto fail;
    }
    free(idx);
    free(held);
    *train = a;
    *heldout = b;
    return 0;
fail:
    free(idx);
    free(held);
    data_free(a);
    data_free(b);
    return -1;
}
