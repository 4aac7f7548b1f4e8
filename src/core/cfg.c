#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "io.h"

/* ---------- scalar parsing (shared by files, --set and sweeps) ---------- */

/* Parses an integer written as YAML would: 42, -3, 1_000, or a float with an
 * integral value (1e5, 2.0), which users write for step counts. */
static int parse_integer(const char *s, double *out)
{
    char buf[128];
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '_')
            continue;
        if (n + 1 >= sizeof buf)
            return -1;
        buf[n++] = *p;
    }
    buf[n] = '\0';
    if (!n)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (!*end && errno == 0) {
        *out = (double)v;
        return 0;
    }
    double d = strtod(buf, &end);
    if (*end || !isfinite(d) || d != floor(d))
        return -1;
    *out = d;
    return 0;
}

static int parse_real(const char *s, double *out)
{
    if (!*s)
        return -1;
    for (const char *p = s; *p; p++)
        if (isalpha((unsigned char)*p) && *p != 'e' && *p != 'E')
            return -1; /* rejects nan, inf, hex and words */
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*end || !isfinite(d) || errno == ERANGE)
        return -1;
    *out = d;
    return 0;
}

int cfg_parse_bool(const char *s, int *out)
{
    static const char *yes[] = {"true", "True", "TRUE", "yes", "Yes", "on", "On", "1"};
    static const char *no[] = {"false", "False", "FALSE", "no", "No", "off", "Off", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (!strcmp(s, yes[i])) {
            *out = 1;
            return 0;
        }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (!strcmp(s, no[i])) {
            *out = 0;
            return 0;
        }
    return -1;
}

static int choice_index(const char *choices, const char *s)
{
    int idx = 0;
    size_t n = strlen(s);
    for (const char *p = choices; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, s, n))
            return idx;
        if (!bar)
            break;
        p = bar + 1;
    }
    return -1;
}

static void choice_name(const char *choices, int idx, char *buf, size_t n)
{
    const char *p = choices;
    for (int i = 0; i < idx && p; i++) {
        p = strchr(p, '|');
        if (p)
            p++;
    }
    if (!p) {
        snprintf(buf, n, "?");
        return;
    }
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len >= n)
        len = n - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
}

static void fmt_bound(double v, char *buf, size_t n)
{
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%g", v);
}

static int check_range(const cfg_key *k, double v, bdrl_err *e)
{
    if (v >= k->min && v <= k->max)
        return 0;
    char lo[32], hi[32];
    fmt_bound(k->min, lo, sizeof lo);
    fmt_bound(k->max, hi, sizeof hi);
    if (isinf(k->max))
        return err_set(e, "'%s' must be >= %s", k->name, lo);
    if (isinf(k->min))
        return err_set(e, "'%s' must be <= %s", k->name, hi);
    return err_set(e, "'%s' must be in [%s, %s]", k->name, lo, hi);
}

static const char *type_label(const cfg_key *k)
{
    switch (k->type) {
    case CFG_INT:
    case CFG_I64: return "integer";
    case CFG_REAL: return "number";
    case CFG_BOOL: return "boolean";
    case CFG_STR: return "string";
    case CFG_CHOICE: return "choice";
    case CFG_CUSTOM: return k->type_name ? k->type_name : "value";
    }
    return "?";
}

/* "an integer", "a number": for messages. */
static const char *with_article(const cfg_key *k, char *buf, size_t n)
{
    const char *t = type_label(k);
    snprintf(buf, n, "%s %s", strchr("aeiou", t[0]) ? "an" : "a", t);
    return buf;
}

/* Parses a value into the key's field; the message carries no location. */
static int parse_value(const cfg_key *k, const cfg_value *v, void *obj, bdrl_err *e)
{
    void *field = (char *)obj + k->offset;
    if (v->is_map && !k->map_ok)
        return err_set(e, "'%s' expects a value, not a mapping", k->name);
    if (k->type == CFG_CUSTOM)
        return k->parse(k, v, field, e);
    char art[64];
    if (v->is_seq)
        return err_set(e, "'%s' expects %s, not a list", k->name, with_article(k, art, sizeof art));
    const char *s = v->scalar;
    if (!(v->quoted && k->type == CFG_STR) && (!*s || !strcmp(s, "~") || !strcmp(s, "null")))
        return err_set(e, "'%s' has no value (expected %s)", k->name, with_article(k, art, sizeof art));
    double d;
    switch (k->type) {
    case CFG_INT:
        if (parse_integer(s, &d))
            return err_set(e, "'%s' expects an integer, got '%s'", k->name, s);
        if (check_range(k, d, e))
            return -1;
        *(int *)field = (int)d;
        return 0;
    case CFG_I64:
        if (parse_integer(s, &d))
            return err_set(e, "'%s' expects an integer, got '%s'", k->name, s);
        if (check_range(k, d, e))
            return -1;
        *(int64_t *)field = (int64_t)d;
        return 0;
    case CFG_REAL:
        if (parse_real(s, &d))
            return err_set(e, "'%s' expects a finite number, got '%s'", k->name, s);
        if (check_range(k, d, e))
            return -1;
        *(double *)field = d;
        return 0;
    case CFG_BOOL:
        if (cfg_parse_bool(s, (int *)field))
            return err_set(e, "'%s' expects true or false, got '%s'", k->name, s);
        return 0;
    case CFG_STR:
        if (strlen(s) >= k->size)
            return err_set(e, "'%s' is longer than %zu characters", k->name, k->size - 1);
        memcpy(field, s, strlen(s) + 1);
        return 0;
    case CFG_CHOICE: {
        int idx = choice_index(k->choices, s);
        if (idx < 0) {
            char list[256];
            snprintf(list, sizeof list, "%s", k->choices);
            for (char *p = list; *p; p++)
                if (*p == '|')
                    *p = ',';
            return err_set(e, "'%s' must be one of {%s}, got '%s'", k->name, list, s);
        }
        *(int *)field = idx;
        return 0;
    }
    case CFG_CUSTOM:
        break;
    }
    return err_set(e, "'%s': unsupported type", k->name);
}

/* ---------- schema look-up ---------- */

const cfg_key *cfg_find(const cfg_schema *s, const char *name)
{
    for (int i = 0; i < s->n_keys; i++)
        if (!strcmp(s->keys[i].name, name))
            return &s->keys[i];
    return NULL;
}

static int key_index(const cfg_schema *s, const cfg_key *k) { return (int)(k - s->keys); }

/* Is `prefix` (e.g. "train") a proper section of some key? */
static int is_section(const cfg_schema *s, const char *prefix)
{
    size_t n = strlen(prefix);
    for (int i = 0; i < s->n_keys; i++)
        if (!strncmp(s->keys[i].name, prefix, n) && s->keys[i].name[n] == '.')
            return 1;
    return 0;
}

static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 127 || lb > 127)
        return 1000;
    int prev[128], cur[128];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

const char *cfg_suggest(const cfg_schema *s, const char *name)
{
    const char *best = NULL;
    int bd = 1 << 30;
    const char *leaf = strrchr(name, '.');
    leaf = leaf ? leaf + 1 : name;
    for (int i = 0; i < s->n_keys; i++) {
        const char *kn = s->keys[i].name;
        int d = edit_distance(name, kn);
        /* A right leaf under the wrong section ("batch_size" at the top)
         * should still find "train.batch_size". */
        const char *kl = strrchr(kn, '.');
        kl = kl ? kl + 1 : kn;
        int dl = edit_distance(leaf, kl) + 1;
        if (dl < d)
            d = dl;
        if (d < bd) {
            bd = d;
            best = kn;
        }
    }
    int limit = (int)strlen(leaf) / 3 + 2;
    return bd <= limit ? best : NULL;
}

/* A retired key (cfg_retired): 1 if name is one and value is its one
 * accepted value (the setting is then ignored); -1 with a message if name is
 * one and value is anything else; 0 if name is not retired. */
static int retired_key(const cfg_schema *s, const char *name, const char *value, bdrl_err *e)
{
    for (int i = 0; i < s->n_retired; i++) {
        const cfg_retired *r = &s->retired[i];
        if (strcmp(r->name, name))
            continue;
        if (value && !strcmp(value, r->value))
            return 1;
        return err_set(e, "'%s' is %s; only '%s' (what is done now) is still accepted, for older files",
                       name, r->note, r->value);
    }
    return 0;
}

static int unknown_key(const cfg_schema *s, const char *name, bdrl_err *e)
{
    const char *sug = cfg_suggest(s, name);
    if (sug)
        return err_set(e, "unknown key '%s' (did you mean '%s'?)", name, sug);
    return err_set(e, "unknown key '%s' (run 'bdrl config --schema' for the valid keys)", name);
}

/* ---------- loader ---------- */

int cfg_loader_init(cfg_loader *l, const cfg_schema *s, void *obj, bdrl_err *e)
{
    l->schema = s;
    l->obj = obj;
    l->set = err_calloc((size_t)s->n_keys, 1, e);
    return l->set ? 0 : -1;
}

void cfg_loader_free(cfg_loader *l)
{
    free(l->set);
    l->set = NULL;
}

int cfg_apply_defaults(cfg_loader *l, bdrl_err *e)
{
    for (int i = 0; i < l->schema->n_keys; i++) {
        const cfg_key *k = &l->schema->keys[i];
        if (!k->def)
            continue;
        if (cfg_set_text(l, k->name, k->def, "schema default", e))
            return -1;
        l->set[i] = 0; /* a default does not count as set by the user */
    }
    return 0;
}

/* Parses YAML text into a document and converts its root (a scalar or a
 * flow sequence of scalars) into a cfg_value. */
typedef struct {
    yaml_document_t doc;
    int have_doc;
    const char **items;
    cfg_value v;
} text_value;

static void text_value_free(text_value *t)
{
    free(t->items);
    if (t->have_doc)
        yaml_document_delete(&t->doc);
}

/* Converts a YAML node into a cfg_value (scalars or sequences of scalars). */
static int node_to_value(yaml_document_t *doc, yaml_node_t *node, const char ***items,
                         cfg_value *v, const char *key, bdrl_err *e)
{
    memset(v, 0, sizeof *v);
    if (node->type == YAML_SCALAR_NODE) {
        v->scalar = (const char *)node->data.scalar.value;
        /* A quoted empty string is a value; a plain empty one is null. */
        v->quoted = node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        return 0;
    }
    if (node->type == YAML_MAPPING_NODE) {
        /* a mapping of scalars: items alternate key, value (keys that take
         * one say so with map_ok; parse_value refuses it for the others) */
        int n = (int)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
        *items = calloc((size_t)(2 * n + 1), sizeof **items);
        if (!*items)
            return err_set(e, "out of memory");
        for (int i = 0; i < n; i++) {
            yaml_node_pair_t *pr = &node->data.mapping.pairs.start[i];
            yaml_node_t *kn = yaml_document_get_node(doc, pr->key), *vn = yaml_document_get_node(doc, pr->value);
            if (!kn || !vn || kn->type != YAML_SCALAR_NODE || vn->type != YAML_SCALAR_NODE)
                return err_set(e, "'%s': a mapping here holds plain keys and values only", key);
            (*items)[2 * i] = (const char *)kn->data.scalar.value;
            (*items)[2 * i + 1] = (const char *)vn->data.scalar.value;
        }
        v->is_map = 1;
        v->n_items = n;
        v->items = *items;
        return 0;
    }
    int n = (int)(node->data.sequence.items.top - node->data.sequence.items.start);
    *items = calloc((size_t)(n ? n : 1), sizeof **items);
    if (!*items)
        return err_set(e, "out of memory");
    for (int i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node(doc, node->data.sequence.items.start[i]);
        if (!it || it->type != YAML_SCALAR_NODE)
            return err_set(e, "'%s': list items must be plain values", key);
        (*items)[i] = (const char *)it->data.scalar.value;
    }
    v->is_seq = 1;
    v->n_items = n;
    v->items = *items;
    return 0;
}

/* 1 if the YAML text nests collections deeper than CFG_MAX_DEPTH, with the
 * position of the first collection too deep; 0 otherwise (malformed YAML
 * included: the load that follows reports it). libyaml's loader takes time
 * quadratic in the depth (100,000 levels: a minute), so the events are
 * walked first and the walk stops at the first level too deep, after a few
 * hundred events whatever the depth. */
static int too_deep(const char *text, size_t n, unsigned long *line, unsigned long *col)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return 0;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, n);
    int depth = 0, deep = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev))
            break;
        yaml_event_type_t type = ev.type;
        if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
            if (++depth > CFG_MAX_DEPTH) {
                deep = 1;
                *line = (unsigned long)ev.start_mark.line + 1;
                *col = (unsigned long)ev.start_mark.column + 1;
            }
        } else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
        if (deep || type == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    return deep;
}

static int parse_text_value(text_value *t, const char *text, const char *key, bdrl_err *e)
{
    memset(t, 0, sizeof *t);
    unsigned long line, col;
    if (too_deep(text, strlen(text), &line, &col))
        return err_set(e, "'%s': the value nests lists or mappings more than %d deep (column %lu)", key,
                       CFG_MAX_DEPTH, col);
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return err_set(e, "out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    int ok = yaml_parser_load(&p, &t->doc);
    if (!ok) {
        err_set(e, "'%s': cannot parse value '%s': %s", key, text,
                p.problem ? p.problem : "malformed YAML");
        yaml_parser_delete(&p);
        return -1;
    }
    yaml_parser_delete(&p);
    t->have_doc = 1;
    yaml_node_t *root = yaml_document_get_root_node(&t->doc);
    if (!root) { /* empty text: null */
        t->v.scalar = "";
        return 0;
    }
    return node_to_value(&t->doc, root, &t->items, &t->v, key, e);
}

/* The key taking a mapping that name is an entry of ("env.params" for
 * "env.params.length"), or NULL; *sub gets the entry's name. */
static const cfg_key *map_entry_key(const cfg_schema *s, const char *name, const char **sub)
{
    for (int i = 0; i < s->n_keys; i++) {
        const cfg_key *k = &s->keys[i];
        size_t n = strlen(k->name);
        if (k->map_ok && !strncmp(name, k->name, n) && name[n] == '.' && name[n + 1]) {
            *sub = name + n + 1;
            return k;
        }
    }
    return NULL;
}

int cfg_set_text(cfg_loader *l, const char *key, const char *text, const char *origin, bdrl_err *e)
{
    const cfg_key *k = cfg_find(l->schema, key);
    const char *sub = NULL;
    if (!k && !(k = map_entry_key(l->schema, key, &sub))) {
        int r = retired_key(l->schema, key, text, e);
        if (r == 1)
            return 0;
        if (r == 0)
            unknown_key(l->schema, key, e);
        return err_prefix(e, "%s", origin);
    }
    text_value t;
    int rc = parse_text_value(&t, text, key, e);
    if (!rc && sub) {
        /* K.SUB=V is K={SUB: V}: one entry of the mapping */
        if (t.v.is_seq || t.v.is_map) {
            rc = err_set(e, "'%s' expects a plain value", key);
        } else {
            free(t.items);
            t.items = malloc(2 * sizeof *t.items);
            if (!t.items) {
                rc = err_set(e, "out of memory");
            } else {
                t.items[0] = sub;
                t.items[1] = t.v.scalar;
                t.v = (cfg_value){.is_map = 1, .n_items = 1, .items = t.items};
            }
        }
    }
    if (!rc)
        rc = parse_value(k, &t.v, l->obj, e);
    text_value_free(&t);
    if (rc)
        return err_prefix(e, "%s", origin);
    l->set[key_index(l->schema, k)] = 1;
    return 0;
}

int cfg_apply_set(cfg_loader *l, const char *assignment, bdrl_err *e)
{
    const char *eq = strchr(assignment, '=');
    char origin[600];
    snprintf(origin, sizeof origin, "--set %s", assignment);
    if (!eq || eq == assignment)
        return err_set(e, "--set '%s': expected KEY=VALUE (e.g. --set train.batch_size=64)", assignment);
    char key[256];
    size_t n = (size_t)(eq - assignment);
    if (n >= sizeof key)
        return err_set(e, "--set: key too long");
    memcpy(key, assignment, n);
    key[n] = '\0';
    return cfg_set_text(l, key, eq + 1, origin, e);
}

/* Walks a mapping node, building dotted names; `seen` catches duplicates. */
static int walk_mapping(cfg_loader *l, yaml_document_t *doc, yaml_node_t *map,
                        const char *prefix, const char *path, bdrl_err *e)
{
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *kn = yaml_document_get_node(doc, pr->key);
        yaml_node_t *vn = yaml_document_get_node(doc, pr->value);
        if (!kn || !vn)
            return err_set(e, "%s: malformed YAML", path);
        unsigned long line = kn->start_mark.line + 1, col = kn->start_mark.column + 1;
        if (kn->type != YAML_SCALAR_NODE)
            return err_set(e, "%s:%lu:%lu: keys must be plain names", path, line, col);
        const char *kname = (const char *)kn->data.scalar.value;
        if (strchr(kname, '.'))
            return err_set(e, "%s:%lu:%lu: '%s': write keys nested in files (a dotted name is for --set)",
                           path, line, col, kname);
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pr; q++) {
            yaml_node_t *qk = yaml_document_get_node(doc, q->key);
            if (qk && qk->type == YAML_SCALAR_NODE && !strcmp((const char *)qk->data.scalar.value, kname))
                return err_set(e, "%s:%lu:%lu: duplicate key '%s%s%s' (first at line %lu)", path, line,
                               col, prefix, *prefix ? "." : "", kname,
                               (unsigned long)qk->start_mark.line + 1);
        }
        char full[256];
        int w = snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", kname);
        if (w < 0 || (size_t)w >= sizeof full)
            return err_set(e, "%s:%lu:%lu: key too long", path, line, col);
        const cfg_key *k = cfg_find(l->schema, full);
        if (k) {
            const char **items = NULL;
            cfg_value v;
            int rc = node_to_value(doc, vn, &items, &v, full, e);
            if (!rc)
                rc = parse_value(k, &v, l->obj, e);
            free(items);
            if (rc) {
                unsigned long vl = vn->start_mark.line + 1, vc = vn->start_mark.column + 1;
                return err_prefix(e, "%s:%lu:%lu", path, vl, vc);
            }
            l->set[key_index(l->schema, k)] = 1;
        } else if (is_section(l->schema, full)) {
            if (vn->type != YAML_MAPPING_NODE)
                return err_set(e, "%s:%lu:%lu: '%s' is a section and needs a mapping of keys", path,
                               line, col, full);
            if (walk_mapping(l, doc, vn, full, path, e))
                return -1;
        } else {
            int r = retired_key(l->schema, full,
                                vn->type == YAML_SCALAR_NODE ? (const char *)vn->data.scalar.value : NULL, e);
            if (r == 1)
                continue;
            if (r == 0)
                unknown_key(l->schema, full, e);
            return err_prefix(e, "%s:%lu:%lu", path, line, col);
        }
    }
    return 0;
}

/* The whole file at path, NUL-terminated, in *text (the caller frees it):
 * at most CFG_MAX_BYTES, read as it streams (a pipe has no size to ask). */
static int read_config_text(const char *path, char **text, size_t *len, bdrl_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return err_set(e, "%s: is a directory, not a configuration file", path);
    }
    char *buf = malloc(CFG_MAX_BYTES + 2);
    if (!buf) {
        fclose(f);
        return err_set(e, "out of memory");
    }
    size_t n = fread(buf, 1, CFG_MAX_BYTES + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return err_set(e, "%s: cannot read: %s", path, strerror(errno));
    }
    if (n > CFG_MAX_BYTES) {
        unsigned long line = 1;
        for (size_t i = 0; i < CFG_MAX_BYTES; i++)
            line += buf[i] == '\n';
        free(buf);
        return err_set(e, "%s:%lu: the file goes on past %d bytes (1 MiB), more than a configuration can be",
                       path, line, CFG_MAX_BYTES);
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

int cfg_yaml_read(const char *path, yaml_document_t *doc, bdrl_err *e)
{
    char *text = NULL;
    size_t len = 0;
    if (read_config_text(path, &text, &len, e))
        return -1;
    unsigned long line, col;
    if (too_deep(text, len, &line, &col)) {
        free(text);
        return err_set(e, "%s:%lu:%lu: lists or mappings nested more than %d deep", path, line, col, CFG_MAX_DEPTH);
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        free(text);
        return err_set(e, "out of memory");
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, doc)) {
        err_set(e, "%s:%lu:%lu: malformed YAML: %s%s%s", path, (unsigned long)p.problem_mark.line + 1,
                (unsigned long)p.problem_mark.column + 1, p.problem ? p.problem : "parse error",
                p.context ? " " : "", p.context ? p.context : "");
        yaml_parser_delete(&p);
        free(text);
        return -1;
    }
    /* A second document in the same file would be silently ignored. */
    yaml_document_t extra;
    int rc = 0;
    if (yaml_parser_load(&p, &extra)) {
        if (yaml_document_get_root_node(&extra))
            rc = err_set(e, "%s: more than one YAML document; bdrl reads one", path);
        yaml_document_delete(&extra);
    }
    yaml_parser_delete(&p);
    free(text);
    if (rc)
        yaml_document_delete(doc);
    return rc;
}

int cfg_load_file(cfg_loader *l, const char *path, bdrl_err *e)
{
    yaml_document_t doc;
    if (cfg_yaml_read(path, &doc, e))
        return -1;
    int rc = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        rc = err_set(e, "%s: empty configuration file", path);
    else if (root->type != YAML_MAPPING_NODE)
        rc = err_set(e, "%s:%lu:%lu: the top level must be a mapping of sections (env:, agent:, ...)",
                     path, (unsigned long)root->start_mark.line + 1,
                     (unsigned long)root->start_mark.column + 1);
    else
        rc = walk_mapping(l, &doc, root, "", path, e);
    yaml_document_delete(&doc);
    return rc;
}

int cfg_check_required(const cfg_loader *l, const char *source, bdrl_err *e)
{
    for (int i = 0; i < l->schema->n_keys; i++)
        if (!l->schema->keys[i].def && !l->set[i])
            return err_set(e, "%s: missing required key '%s' (%s)", source ? source : "config",
                           l->schema->keys[i].name, l->schema->keys[i].help);
    return 0;
}

int cfg_resolve(const cfg_schema *s, void *obj, const char *path, char *const *sets, int n_sets,
                bdrl_err *e)
{
    cfg_loader l;
    if (cfg_loader_init(&l, s, obj, e))
        return -1;
    int rc = cfg_apply_defaults(&l, e);
    if (!rc && path)
        rc = cfg_load_file(&l, path, e);
    for (int i = 0; !rc && i < n_sets; i++)
        rc = cfg_apply_set(&l, sets[i], e);
    if (!rc)
        rc = cfg_check_required(&l, path ? path : "configuration", e);
    cfg_loader_free(&l);
    return rc;
}

/* ---------- output ---------- */

/* Plain YAML scalars that would read back as something else get quoted. */
static void write_str(FILE *f, const char *s)
{
    int plain = *s != '\0';
    int b;
    double d;
    if (plain && (!cfg_parse_bool(s, &b) || !parse_real(s, &d) || !strcmp(s, "~") || !strcmp(s, "null")))
        plain = 0;
    for (const char *p = s; *p && plain; p++)
        if (!(isalnum((unsigned char)*p) || strchr("_-./+", *p)))
            plain = 0;
    if (plain && strchr("-.", s[0]))
        plain = 0;
    if (plain) {
        fputs(s, f);
        return;
    }
    /* Double-quoted, with YAML escapes for whatever a reader would
     * otherwise fold or reject: control characters, and the line breaks
     * NEL, LS and PS (a raw newline inside quotes reads back as a space). */
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fputc('\\', f);
            fputc(*p, f);
        } else if (*p == '\n') {
            fputs("\\n", f);
        } else if (*p == '\t') {
            fputs("\\t", f);
        } else if (*p == '\r') {
            fputs("\\r", f);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(f, "\\x%02x", *p);
        } else if (p[0] == 0xc2 && p[1] == 0x85) {
            fputs("\\N", f);
            p++;
        } else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            fputs(p[2] == 0xa8 ? "\\L" : "\\P", f);
            p += 2;
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void write_value(const cfg_key *k, const void *obj, FILE *f, int indent)
{
    const void *field = (const char *)obj + k->offset;
    char buf[64];
    switch (k->type) {
    case CFG_INT: fprintf(f, "%d", *(const int *)field); break;
    case CFG_I64: fprintf(f, "%lld", (long long)*(const int64_t *)field); break;
    case CFG_REAL: {
        /* Shortest text that reads back to the same double. */
        double v = *(const double *)field;
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
        if (!strpbrk(buf, ".e"))
            strcat(buf, ".0");
        fputs(buf, f);
        break;
    }
    case CFG_BOOL: fputs(*(const int *)field ? "true" : "false", f); break;
    case CFG_STR: write_str(f, (const char *)field); break;
    case CFG_CHOICE:
        choice_name(k->choices, *(const int *)field, buf, sizeof buf);
        fputs(buf, f);
        break;
    case CFG_CUSTOM: k->print(k, field, f, indent); break;
    }
}

void cfg_write_yaml(const cfg_schema *s, const void *obj, FILE *f)
{
    /* Keys are grouped by section in schema order; open and close nested
     * sections as the dotted prefix changes. */
    const char *prev = "";
    for (int i = 0; i < s->n_keys; i++) {
        const char *name = s->keys[i].name;
        /* Common prefix (in whole components) with the previous key. */
        size_t common = 0;
        for (size_t j = 0; prev[j] && name[j] && prev[j] == name[j]; j++)
            if (name[j] == '.')
                common = j + 1;
        int depth = 0;
        for (size_t j = 0; j < common; j++)
            depth += name[j] == '.';
        const char *p = name + common;
        const char *dot;
        while ((dot = strchr(p, '.'))) {
            fprintf(f, "%*s%.*s:\n", depth * 2, "", (int)(dot - p), p);
            depth++;
            p = dot + 1;
        }
        fprintf(f, "%*s%s: ", depth * 2, "", p);
        write_value(&s->keys[i], obj, f, depth * 2 + 2);
        fputc('\n', f);
        prev = name;
    }
}

int cfg_save_yaml(const cfg_schema *s, const void *obj, const char *path, bdrl_err *e)
{
    io_atomic a;
    if (io_atomic_open(&a, path, e))
        return -1;
    fprintf(a.f, "# resolved bdrl %s configuration\n", s->name);
    cfg_write_yaml(s, obj, a.f);
    return io_atomic_commit(&a, e);
}

int cfg_format_value(const cfg_schema *s, const void *obj, const char *key, char *buf, size_t n,
                     bdrl_err *e)
{
    const cfg_key *k = cfg_find(s, key);
    if (!k)
        return unknown_key(s, key, e);
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f)
        return err_set(e, "out of memory");
    write_value(k, obj, f, 0);
    fclose(f);
    snprintf(buf, n, "%s", mem);
    free(mem);
    return 0;
}

void cfg_print_schema_md(const cfg_schema *s, FILE *f)
{
    fprintf(f, "| key | type | default | allowed | help |\n|---|---|---|---|---|\n");
    for (int i = 0; i < s->n_keys; i++) {
        const cfg_key *k = &s->keys[i];
        char allowed[256] = "";
        if (k->type == CFG_CHOICE) {
            snprintf(allowed, sizeof allowed, "%s", k->choices);
            for (char *p = allowed; *p; p++)
                if (*p == '|')
                    *p = ',';
        } else if (k->type == CFG_INT || k->type == CFG_I64 || k->type == CFG_REAL) {
            char lo[32], hi[32];
            fmt_bound(k->min, lo, sizeof lo);
            fmt_bound(k->max, hi, sizeof hi);
            snprintf(allowed, sizeof allowed, "[%s, %s]", isinf(k->min) ? "-inf" : lo,
                     isinf(k->max) ? "inf" : hi);
        }
        fprintf(f, "| `%s` | %s | %s%s%s | %s | %s |\n", k->name, type_label(k), k->def ? "`" : "",
                k->def ? k->def : "**required**", k->def ? "`" : "", allowed, k->help);
    }
}
