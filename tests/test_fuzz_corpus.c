/* Replays every committed fuzzing input — the seed corpora fuzz/corpus/NAME
 * and the inputs that once crashed a harness, fuzz/regress/NAME — through
 * the harnesses' own functions, so `make test` (and `make test SAN=1`, where
 * the sanitizers watch) keeps every crash the fuzzers found fixed. A harness
 * aborts on a broken invariant, which fails this test. */
#include "test_util.h"

#include <dirent.h>

#include "../fuzz/fuzz_checkpoint.c"
#include "../fuzz/fuzz_config.c"
#include "../fuzz/fuzz_csv.c"

typedef int (*harness)(const uint8_t *, size_t);

/* Runs h on every file under tu_root()/fuzz/SUB/NAME; returns the count. */
static int run_files(const char *sub, const char *name, harness h)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fuzz/%s/%s", tu_root(), sub, name);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        FILE *f = fopen(p, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc((size_t)len + 1);
        assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        h(buf, (size_t)len);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

static void run_all(const char *name, harness h, int min_seeds)
{
    int seeds = run_files("corpus", name, h), regress = run_files("regress", name, h);
    printf("fuzz %s: %d seed and %d regression inputs replayed\n", name, seeds, regress);
    assert_true(seeds >= min_seeds);
}

static void test_config_inputs(void **state)
{
    (void)state;
    run_all("config", fuzz_config_one, 5);
}

static void test_checkpoint_inputs(void **state)
{
    (void)state;
    run_all("checkpoint", fuzz_checkpoint_one, 2 * FUZZ_CKPT_CONFIGS);
    for (int k = 0; k < FUZZ_CKPT_CONFIGS; k++) {
        agent_free(targets[k].ag);
        env_free(targets[k].en);
        targets[k].ag = NULL;
        targets[k].en = NULL;
    }
}

static void test_csv_inputs(void **state)
{
    (void)state;
    run_all("csv", fuzz_csv_one, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_inputs),
        cmocka_unit_test(test_checkpoint_inputs),
        cmocka_unit_test(test_csv_inputs),
    };
    return cmocka_run_group_tests_name("fuzz_corpus", tests, NULL, NULL);
}
