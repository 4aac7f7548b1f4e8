/* cfg.h — strict, schema-driven YAML configuration (libyaml underneath).
 *
 * A schema is a table of keys, each with a dotted name ("train.batch_size"),
 * a type, where it lives in a C struct (offset), a default written as YAML
 * text (NULL = required), an allowed range or set of choices, and one line of
 * help. The same parser handles YAML files, `--set key=value` overrides and
 * values given programmatically (sweeps), so every route validates alike.
 *
 * Errors are one line with a location: "file:line:column: ..." for files,
 * "--set key=value: ..." for overrides. Unknown keys name the closest valid
 * key. The schema owns nothing at run time; the caller owns the struct.
 */
#ifndef BDRL_CFG_H
#define BDRL_CFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

typedef enum {
    CFG_INT,    /* int */
    CFG_I64,    /* int64_t */
    CFG_REAL,   /* double */
    CFG_BOOL,   /* int 0/1; accepts true/false/yes/no/on/off */
    CFG_STR,    /* char[size] */
    CFG_CHOICE, /* int: index into choices "a|b|c" */
    CFG_CUSTOM, /* parse/print callbacks */
} cfg_type;

/* A YAML value as the custom parsers see it: a scalar, a sequence of
 * scalars, or (for keys with map_ok) a mapping of scalars (nested structures
 * are rejected before a parser sees them). */
typedef struct {
    int is_seq;
    int is_map;                 /* a mapping: n_items pairs, items[2i] the key, items[2i+1] the value */
    int quoted;                 /* the scalar was quoted: "" is a value, not null */
    const char *scalar;         /* when !is_seq */
    int n_items;                /* when is_seq */
    const char *const *items;
} cfg_value;

typedef struct cfg_key cfg_key;
struct cfg_key {
    const char *name;
    cfg_type type;
    size_t offset;
    size_t size;            /* CFG_STR: buffer size */
    const char *def;        /* default as YAML text; NULL = required */
    double min, max;        /* inclusive bounds for CFG_INT/I64/REAL */
    const char *choices;    /* CFG_CHOICE: "a|b|c" */
    const char *help;
    /* CFG_CUSTOM only: parse writes into the field (error text without
     * location; the caller adds it); print writes the YAML value. */
    int (*parse)(const cfg_key *k, const cfg_value *v, void *field, bdrl_err *e);
    void (*print)(const cfg_key *k, const void *field, FILE *f, int indent);
    const char *type_name;  /* CFG_CUSTOM: shown in the schema table */
    int map_ok;             /* CFG_CUSTOM: the key takes a mapping (env.params, the one free-form map);
                               "key.entry=value" sets one entry */
};

/* Table-entry helpers, so schemas read as one line per key. */
#define CFG_INT_KEY(n, off, d, lo, hi, h) \
    {.name = (n), .type = CFG_INT, .offset = (off), .def = (d), .min = (lo), .max = (hi), .help = (h)}
#define CFG_I64_KEY(n, off, d, lo, hi, h) \
    {.name = (n), .type = CFG_I64, .offset = (off), .def = (d), .min = (lo), .max = (hi), .help = (h)}
#define CFG_REAL_KEY(n, off, d, lo, hi, h) \
    {.name = (n), .type = CFG_REAL, .offset = (off), .def = (d), .min = (lo), .max = (hi), .help = (h)}
#define CFG_BOOL_KEY(n, off, d, h) {.name = (n), .type = CFG_BOOL, .offset = (off), .def = (d), .help = (h)}
#define CFG_STR_KEY(n, off, sz, d, h) \
    {.name = (n), .type = CFG_STR, .offset = (off), .size = (sz), .def = (d), .help = (h)}
#define CFG_CHOICE_KEY(n, off, d, ch, h) \
    {.name = (n), .type = CFG_CHOICE, .offset = (off), .def = (d), .choices = (ch), .help = (h)}
#define CFG_CUSTOM_KEY(n, off, d, tname, parse_fn, print_fn, h)                                  \
    {.name = (n), .type = CFG_CUSTOM, .offset = (off), .def = (d), .type_name = (tname),       \
     .parse = (parse_fn), .print = (print_fn), .help = (h)}

/* A key a schema no longer has, still accepted with the one value that
 * means what the code now always does, so that files written before its
 * removal (a run's config.yaml) keep loading; any other value is refused
 * with `note`. */
typedef struct {
    const char *name;       /* "bd.basis_loss" */
    const char *value;      /* "projected" */
    const char *note;       /* why it went, e.g. "removed: the projected loss is the only one" */
} cfg_retired;

typedef struct {
    const char *name;       /* "experiment", "fit", ... */
    const cfg_key *keys;
    int n_keys;
    const cfg_retired *retired; /* may be NULL */
    int n_retired;
} cfg_schema;

/* Loading state: which keys were set, for required-key checks. */
typedef struct {
    const cfg_schema *schema;
    void *obj;
    unsigned char *set;     /* n_keys flags */
} cfg_loader;

int cfg_loader_init(cfg_loader *l, const cfg_schema *s, void *obj, bdrl_err *e);
void cfg_loader_free(cfg_loader *l);

/* Writes every default into obj (required keys are left zeroed). */
int cfg_apply_defaults(cfg_loader *l, bdrl_err *e);
/* Reads a YAML file whose top level is a mapping of the schema's sections. */
int cfg_load_file(cfg_loader *l, const char *path, bdrl_err *e);
/* Applies "a.b.c=value"; value is YAML (a scalar or a flow sequence). For
 * a key that takes a mapping, "key.entry=value" gives that one entry (the
 * key's parser decides how it combines with the entries already there). */
int cfg_apply_set(cfg_loader *l, const char *assignment, bdrl_err *e);
/* Sets one key from YAML text; `origin` prefixes any error message. */
int cfg_set_text(cfg_loader *l, const char *key, const char *text, const char *origin, bdrl_err *e);
/* Fails naming the first required key that was never set. */
int cfg_check_required(const cfg_loader *l, const char *source, bdrl_err *e);

/* One call for the common case: defaults, file (may be NULL), overrides,
 * required check. */
int cfg_resolve(const cfg_schema *s, void *obj, const char *path,
                char *const *sets, int n_sets, bdrl_err *e);

/* A CFG_BOOL's spelling: true/false, yes/no, on/off, 1/0 (and True,
 * FALSE, ...) into *out; -1 for anything else. For custom keys that take a
 * bool among other values. */
int cfg_parse_bool(const char *s, int *out);

/* The key of that name, or NULL. */
const cfg_key *cfg_find(const cfg_schema *s, const char *name);
/* The closest key name by edit distance, or NULL if nothing is close. */
const char *cfg_suggest(const cfg_schema *s, const char *name);

/* Resolved configuration as YAML (nested by the dotted names). */
void cfg_write_yaml(const cfg_schema *s, const void *obj, FILE *f);
/* Writes the resolved YAML atomically to path. */
int cfg_save_yaml(const cfg_schema *s, const void *obj, const char *path, bdrl_err *e);

/* Limits on what is parsed, checked before libyaml builds a document (its
 * loader is quadratic in the nesting depth): a file's size, and the depth
 * of nested lists and mappings in a file or a --set value. */
#define CFG_MAX_BYTES (1 << 20)
#define CFG_MAX_DEPTH 64

/* Parses the one YAML document of the file at path into *doc (the caller
 * frees it with yaml_document_delete). Errors name the file, line and column
 * of malformed YAML; a directory, a file over CFG_MAX_BYTES, nesting deeper
 * than CFG_MAX_DEPTH and a second document in the file are refused. */
struct yaml_document_s;
int cfg_yaml_read(const char *path, struct yaml_document_s *doc, bdrl_err *e);
/* The whole schema as a Markdown table (key, type, default, allowed, help). */
void cfg_print_schema_md(const cfg_schema *s, FILE *f);
/* One key's value formatted as YAML flow text into buf. */
int cfg_format_value(const cfg_schema *s, const void *obj, const char *key,
                     char *buf, size_t n, bdrl_err *e);

#endif
