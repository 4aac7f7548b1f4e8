/* `make install` as a user outside the tree meets it (scripts/test_install.sh):
 * into a DESTDIR with PREFIX=/usr, then pkg-config alone builds the example
 * plugin and a program on libbdrl's public API (bdrl/environment.h), which
 * steps FrozenLake and the plugin exactly as `bdrl env rollout` does; only
 * the public headers are installed. A sanitizer build skips it (its library
 * needs the sanitizer's flags to link). */
#include "test_util.h"

static void test_install_and_pkg_config(void **state)
{
    (void)state;
    if (strcmp(tu_build_dir(), "build/rel"))
        skip();
    char *d = tu_tmpdir();
    tu_result r = tu_run("%s/scripts/test_install.sh %s %s", tu_root(), tu_root(), d);
    if (r.status != 0)
        fail_msg("test_install.sh: exit %d:\n%s%s", r.status, r.out, r.err);
    assert_contains(r.out, "install ok");
    print_message("%s", r.out);
    tu_run_free(&r);
    r = tu_run("rm -rf %s", d);
    tu_run_free(&r);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_and_pkg_config),
    };
    return cmocka_run_group_tests_name("install", tests, NULL, NULL);
}
