#include "cli/args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int find_long(const args_spec *s, const char *name, size_t len)
{
    for (int i = 0; i < s->n_opts; i++)
        if (strlen(s->opts[i].name) == len && !strncmp(s->opts[i].name, name, len))
            return i;
    return -1;
}

static int find_alias(const args_spec *s, char c)
{
    for (int i = 0; i < s->n_opts; i++)
        if (s->opts[i].alias && s->opts[i].alias == c)
            return i;
    return -1;
}

void args_print_help(const args_spec *s, FILE *f)
{
    fprintf(f, "usage: %s\n\n%s\n", s->usage, s->summary);
    if (!s->n_opts && !s->takes_sets)
        return;
    fprintf(f, "\noptions:\n");
    for (int i = 0; i < s->n_opts; i++) {
        const args_opt *o = &s->opts[i];
        char left[64];
        if (o->alias)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->alias, o->name, o->takes_value ? " " : "",
                     o->takes_value ? o->metavar : "");
        else
            snprintf(left, sizeof left, "--%s%s%s", o->name, o->takes_value ? " " : "",
                     o->takes_value ? o->metavar : "");
        fprintf(f, "  %-26s %s\n", left, o->help);
    }
    if (s->takes_sets)
        fprintf(f, "  %-26s %s\n", "--set KEY=VALUE",
                "override a config key (repeatable; 'bdrl config --schema' lists the keys)");
    fprintf(f, "  %-26s %s\n", "-h, --help", "show this help");
}

int args_parse(const args_spec *s, int argc, char **argv, args_parsed *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            args_print_help(s, stdout);
            return 1;
        }
    /* The command's name for messages: the usage's leading lower-case words
     * ("bdrl env rollout" of "bdrl env rollout NAME --state ..."). */
    const char *cmd = s->usage;
    int cmd_len = 0;
    for (const char *p = cmd; *p;) {
        const char *w = p;
        while (*p >= 'a' && *p <= 'z')
            p++;
        if (p == w || (*p && *p != ' ' && *p != '\n'))
            break;
        cmd_len = (int)(p - cmd);
        if (*p != ' ')
            break;
        p++;
    }
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "--")) {
            for (i++; i < argc; i++) {
                if (out->n_pos >= ARGS_MAX_POS)
                    goto too_many;
                out->pos[out->n_pos++] = argv[i];
            }
            break;
        }
        int idx = -1;
        const char *inline_val = NULL;
        if (!strncmp(a, "--", 2)) {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            if (s->takes_sets && len == 3 && !strncmp(name, "set", 3)) {
                const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
                if (!v) {
                    fprintf(stderr, "bdrl: --set needs KEY=VALUE\n");
                    return -1;
                }
                if (out->n_sets >= ARGS_MAX_SETS) {
                    fprintf(stderr, "bdrl: too many --set options (at most %d)\n", ARGS_MAX_SETS);
                    return -1;
                }
                out->sets[out->n_sets++] = (char *)v;
                continue;
            }
            idx = find_long(s, name, len);
            if (idx < 0) {
                fprintf(stderr, "bdrl: unknown option '--%.*s' (see '%.*s --help')\n", (int)len, name, cmd_len,
                        cmd);
                return -1;
            }
            inline_val = eq ? eq + 1 : NULL;
        } else if (a[0] == '-' && a[1] && !a[2] && !(a[1] >= '0' && a[1] <= '9')) {
            idx = find_alias(s, a[1]);
            if (idx < 0) {
                fprintf(stderr, "bdrl: unknown option '%s' (see '%.*s --help')\n", a, cmd_len, cmd);
                return -1;
            }
        } else {
            if (out->n_pos >= ARGS_MAX_POS)
                goto too_many;
            out->pos[out->n_pos++] = a;
            continue;
        }
        const args_opt *o = &s->opts[idx];
        if (o->takes_value) {
            const char *v = inline_val ? inline_val : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) {
                fprintf(stderr, "bdrl: option '--%s' needs a value (%s)\n", o->name, o->metavar);
                return -1;
            }
            out->val[idx] = v;
            if (out->n_all[idx] >= ARGS_MAX_REPEAT) {
                fprintf(stderr, "bdrl: too many '--%s' options (at most %d)\n", o->name, ARGS_MAX_REPEAT);
                return -1;
            }
            out->all[idx][out->n_all[idx]++] = v;
        } else {
            if (inline_val) {
                fprintf(stderr, "bdrl: option '--%s' takes no value\n", o->name);
                return -1;
            }
            out->val[idx] = "1";
        }
    }
    return 0;
too_many:
    fprintf(stderr, "bdrl: too many arguments\n");
    return -1;
}

const char *args_get(const args_spec *s, const args_parsed *a, const char *name)
{
    int i = find_long(s, name, strlen(name));
    return i < 0 ? NULL : a->val[i];
}

int args_int(const char *opt, const char *text, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno) {
        fprintf(stderr, "bdrl: %s expects an integer, got '%s'\n", opt, text);
        return -1;
    }
    if (v < lo || v > hi) {
        fprintf(stderr, "bdrl: %s must be in [%lld, %lld], got %lld\n", opt, lo, hi, v);
        return -1;
    }
    *out = v;
    return 0;
}

int args_real_list(const char *opt, const char *text, double *out, int max)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || (*end && *end != ',')) {
            fprintf(stderr, "bdrl: %s expects comma-separated numbers, got '%s'\n", opt, text);
            return -1;
        }
        if (n >= max) {
            fprintf(stderr, "bdrl: %s takes at most %d numbers\n", opt, max);
            return -1;
        }
        out[n++] = v;
        p = *end ? end + 1 : end;
        if (*end && !*p) {
            fprintf(stderr, "bdrl: %s ends with a comma\n", opt);
            return -1;
        }
    }
    if (!n)
        fprintf(stderr, "bdrl: %s is empty\n", opt);
    return n ? n : -1;
}

int args_real(const char *opt, const char *text, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || errno || !isfinite(v)) {
        fprintf(stderr, "bdrl: %s expects a number, got '%s'\n", opt, text);
        return -1;
    }
    if (v < lo || v > hi) {
        fprintf(stderr, "bdrl: %s must be in [%g, %g], got '%s'\n", opt, lo, hi, text);
        return -1;
    }
    *out = v;
    return 0;
}
int args_int_list(const char *opt, const char *text, long long lo, long long hi, int *out, int max)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || (*end && *end != ',')) {
            fprintf(stderr, "bdrl: %s expects comma-separated integers, got '%s'\n", opt, text);
            return -1;
        }
        if (v < lo || v > hi) {
            fprintf(stderr, "bdrl: %s: %lld is out of range [%lld, %lld]\n", opt, v, lo, hi);
            return -1;
        }
        if (n >= max) {
            fprintf(stderr, "bdrl: %s takes at most %d values\n", opt, max);
            return -1;
        }
        out[n++] = (int)v;
        p = *end ? end + 1 : end;
        if (*end && !*p) {
            fprintf(stderr, "bdrl: %s ends with a comma\n", opt);
            return -1;
        }
    }
    if (!n)
        fprintf(stderr, "bdrl: %s is empty\n", opt);
    return n ? n : -1;
}

int args_parse_one(const args_spec *spec, int argc, char **argv, args_parsed *out, const char *cmd,
                   const char *what)
{
    int rc = args_parse(spec, argc, argv, out);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (out->n_pos != 1) {
        fprintf(stderr, "%s: expected %s (see '%s --help')\n", cmd, what, cmd);
        return 2;
    }
    return -1;
}

const char *const *args_get_all(const args_spec *s, const args_parsed *a, const char *name, int *n)
{
    int i = find_long(s, name, strlen(name));
    *n = i < 0 ? 0 : a->n_all[i];
    return i < 0 ? NULL : a->all[i];
}
