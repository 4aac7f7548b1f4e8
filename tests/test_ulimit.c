/* bdrl under ulimit -v (fields/blasmem.h): scripts/test_ulimit.sh runs
 * `bdrl --help` and short trainings of three agents under limits of 80 to
 * 300 MB, and requires each to train or to refuse with one clear line
 * within seconds (they used to spin forever). Here so that make test runs
 * it. AddressSanitizer maps terabytes of shadow memory and cannot run under
 * such limits at all, so a sanitized build skips it. */
#include "test_util.h"

static void test_ulimit_script(void **state)
{
    (void)state;
    if (UNDER_ASAN)
        skip();
    tu_result r = tu_run("%s/scripts/test_ulimit.sh %s", tu_root(), tu_bdrl());
    if (r.status != 0)
        fail_msg("scripts/test_ulimit.sh exited %d:\n%s%s", r.status, r.out, r.err);
    assert_contains(r.out, "30 passed, 0 failed");
    tu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ulimit_script),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
