/* fuzz_config.c — the configuration loader: YAML through libyaml and the
 * schema, `--set` overrides, and the cross-key checks, for both schemas
 * (experiment: bdrl train; fit: bdrl fit).
 *
 * Input: byte 0 picks the schema (even: experiment, odd: fit); then the YAML
 * file's text up to the first NUL byte; then up to 16 NUL-separated --set
 * assignments. Invariants: no crash or sanitizer report; a failure has a
 * one-line message; a success writes a resolved YAML (cfg_write_yaml) that
 * loads again to the very same configuration (a round trip). */
#include "agents/experiment.h"
#include "fuzz_util.h"
#include "gen/fit.h"

#define MAX_SETS 16

static char *resolved_yaml(const cfg_schema *s, const void *obj, size_t *len)
{
    char *mem = NULL;
    FILE *f = open_memstream(&mem, len);
    FUZZ_CHECK(f != NULL, "open_memstream");
    cfg_write_yaml(s, obj, f);
    fclose(f);
    return mem;
}

static int load_any(int fit, void *obj, const char *path, char **sets, int n, bdrl_err *e)
{
    return fit ? fit_load(obj, path, sets, n, e) : exp_load(obj, path, sets, n, e);
}

int fuzz_config_one(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fit = data[0] & 1;
    const char *text = (const char *)data + 1;
    size_t left = size - 1;
    const char *nul = memchr(text, '\0', left);
    size_t ylen = nul ? (size_t)(nul - text) : left;
    /* the --set strings, copied so each is NUL-terminated */
    char *sets[MAX_SETS];
    int n = 0;
    char *rest = NULL;
    if (nul) {
        size_t rlen = left - ylen - 1;
        rest = malloc(rlen + 1);
        FUZZ_CHECK(rest != NULL, "malloc");
        memcpy(rest, nul + 1, rlen);
        rest[rlen] = '\0';
        for (char *p = rest; p < rest + rlen && n < MAX_SETS;) {
            sets[n++] = p;
            p += strlen(p) + 1;
        }
    }
    char path[64];
    int fd = fuzz_memfile(text, ylen, path, sizeof path);
    FUZZ_CHECK(fd >= 0, "memfd");
    union {
        exp_config x;
        fit_config f;
    } a, b;
    const cfg_schema *schema = fit ? &fit_schema : &exp_schema;
    bdrl_err e;
    e.msg[0] = '\0';
    if (load_any(fit, &a, path, sets, n, &e)) {
        fuzz_check_message(&e);
    } else {
        size_t l1, l2;
        char *y1 = resolved_yaml(schema, &a, &l1);
        char p2[64];
        int fd2 = fuzz_memfile(y1, l1, p2, sizeof p2);
        FUZZ_CHECK(fd2 >= 0, "memfd");
        int rc = load_any(fit, &b, p2, NULL, 0, &e);
        FUZZ_CHECK(rc == 0, "the resolved configuration does not load again: %s\n%s", e.msg, y1);
        char *y2 = resolved_yaml(schema, &b, &l2);
        FUZZ_CHECK(l1 == l2 && !memcmp(y1, y2, l1), "round trip changed the configuration:\n%s\n---\n%s", y1, y2);
        free(y1);
        free(y2);
        close(fd2);
    }
    close(fd);
    free(rest);
    return 0;
}

#ifdef BDRL_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_config_one(data, size); }
#endif
