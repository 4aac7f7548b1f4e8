#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void json_init(json_writer *w, FILE *f)
{
    memset(w, 0, sizeof *w);
    w->f = f;
}

static void indent(json_writer *w)
{
    fputc('\n', w->f);
    for (int i = 0; i < w->depth; i++)
        fputs("  ", w->f);
}

/* Separator and indentation before a value or a key. */
static void before_item(json_writer *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0) {
        if (w->count[w->depth]++)
            fputc(',', w->f);
        indent(w);
    }
}

static void open_container(json_writer *w, char c)
{
    before_item(w);
    fputc(c, w->f);
    if (w->depth + 1 < JSON_MAX_DEPTH)
        w->depth++;
    w->count[w->depth] = 0;
}

static void close_container(json_writer *w, char c)
{
    int had = w->count[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (had)
        indent(w);
    fputc(c, w->f);
    if (w->depth == 0)
        fputc('\n', w->f);
}

void json_object_begin(json_writer *w) { open_container(w, '{'); }
void json_object_end(json_writer *w) { close_container(w, '}'); }
void json_array_begin(json_writer *w) { open_container(w, '['); }
void json_array_end(json_writer *w) { close_container(w, ']'); }

static void write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void json_key(json_writer *w, const char *key)
{
    before_item(w);
    write_string(w->f, key);
    fputs(": ", w->f);
    w->after_key = 1;
}

void json_num(json_writer *w, double v)
{
    before_item(w);
    if (!isfinite(v)) {
        fputs("null", w->f);
        return;
    }
    /* Whole numbers as integers (500, not 5e+02); otherwise the shortest
     * text that reads back to the same double. */
    char buf[40];
    if (v == floor(v) && fabs(v) < 1e15) {
        fprintf(w->f, "%.0f", v == 0 ? 0.0 : v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, w->f);
}

void json_int(json_writer *w, long long v)
{
    before_item(w);
    fprintf(w->f, "%lld", v);
}

void json_str(json_writer *w, const char *s)
{
    before_item(w);
    if (s)
        write_string(w->f, s);
    else
        fputs("null", w->f);
}

void json_bool(json_writer *w, int v)
{
    before_item(w);
    fputs(v ? "true" : "false", w->f);
}

void json_null(json_writer *w)
{
    before_item(w);
    fputs("null", w->f);
}

void json_kv_num(json_writer *w, const char *key, double v)
{
    json_key(w, key);
    json_num(w, v);
}

void json_kv_int(json_writer *w, const char *key, long long v)
{
    json_key(w, key);
    json_int(w, v);
}

void json_kv_str(json_writer *w, const char *key, const char *s)
{
    json_key(w, key);
    json_str(w, s);
}

void json_kv_bool(json_writer *w, const char *key, int v)
{
    json_key(w, key);
    json_bool(w, v);
}

void json_kv_strs(json_writer *w, const char *key, const char *const *v, int n)
{
    json_key(w, key);
    json_array_begin(w);
    for (int i = 0; i < n; i++)
        json_str(w, v[i]);
    json_array_end(w);
}

void json_kv_nums(json_writer *w, const char *key, const double *v, int n)
{
    json_key(w, key);
    json_array_begin(w);
    for (int i = 0; i < n; i++)
        json_num(w, v[i]);
    json_array_end(w);
}
