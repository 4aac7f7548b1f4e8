/* json.h — a small streaming JSON writer for result files (metrics.json,
 * summary.json). It tracks nesting and commas so callers write keys and
 * values in order; numbers that are not finite are written as null (JSON has
 * no NaN), which is what a reader should see for "not measured".
 */
#ifndef BDRL_JSON_H
#define BDRL_JSON_H

#include <stdio.h>

#define JSON_MAX_DEPTH 16

typedef struct {
    FILE *f;
    int depth;
    int count[JSON_MAX_DEPTH]; /* items written at each level */
    int after_key;             /* the next value follows a key */
} json_writer;

void json_init(json_writer *w, FILE *f);
void json_object_begin(json_writer *w);
void json_object_end(json_writer *w);
void json_array_begin(json_writer *w);
void json_array_end(json_writer *w);
void json_key(json_writer *w, const char *key);
void json_num(json_writer *w, double v);   /* whole: integer; else shortest round-trip %g; null if not finite */
void json_int(json_writer *w, long long v);
void json_str(json_writer *w, const char *s);
void json_bool(json_writer *w, int v);
void json_null(json_writer *w);

/* key + value shorthands */
void json_kv_num(json_writer *w, const char *key, double v);
void json_kv_int(json_writer *w, const char *key, long long v);
void json_kv_str(json_writer *w, const char *key, const char *s);
void json_kv_bool(json_writer *w, const char *key, int v);
/* key + array of n numbers */
void json_kv_nums(json_writer *w, const char *key, const double *v, int n);
/* key + array of n strings */
void json_kv_strs(json_writer *w, const char *key, const char *const *v, int n);

#endif
