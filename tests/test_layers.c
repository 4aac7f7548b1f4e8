/* Tests of the source tree's layering (docs/design.md §2): every
 * `#include "DIR/..."` in src/ points down or sideways within its own folder,
 * never up:
 *
 *   cli → research → train → {agents, gen} → truth → {fields, sdes, envs, data, stats} → core
 *
 * The table below is that arrow written out; a file that includes a folder
 * its own folder may not use fails the test with the file and the line. */
#include "test_util.h"

#include <dirent.h>

typedef struct {
    const char *dir;
    const char *may_use; /* space-separated folders, itself included */
} layer;

static const layer LAYERS[] = {
    {"core", "core"},
    {"envs", "envs core"},
    {"fields", "fields core"},
    {"sdes", "sdes core"},
    {"data", "data core"},
    {"stats", "stats core"},
    {"truth", "truth envs stats core"},
    {"agents", "agents fields sdes envs stats truth core"},
    {"gen", "gen fields sdes data stats core"},
    {"train", "train agents fields sdes envs data stats truth core"},
    {"research", "research train agents gen fields sdes envs data stats truth core"},
    {"cli", "cli research train agents gen fields sdes envs data stats truth core"},
};
#define N_LAYERS ((int)(sizeof LAYERS / sizeof LAYERS[0]))

static int allowed(const char *may_use, const char *dir, size_t n)
{
    for (const char *p = may_use; *p;) {
        size_t k = strcspn(p, " ");
        if (k == n && !strncmp(p, dir, n))
            return 1;
        p += k + (p[k] == ' ');
    }
    return 0;
}

/* Returns the number of upward includes in one file, printing each. */
static int check_file(const char *path, const char *may_use)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    int bad = 0, no = 0;
    while (fgets(line, sizeof line, f)) {
        no++;
        const char *p = line + strspn(line, " \t");
        if (strncmp(p, "#include \"", 10))
            continue;
        p += 10;
        while (!strncmp(p, "../", 3))
            p += 3;
        size_t n = strcspn(p, "/\"");
        if (p[n] != '/')
            continue; /* a file in the same folder */
        if (!allowed(may_use, p, n)) {
            fprintf(stderr, "%s:%d: includes %.*s/, which this folder may not use (it may use: %s)\n", path, no,
                    (int)n, p, may_use);
            bad++;
        }
    }
    fclose(f);
    return bad;
}

static void test_no_upward_include(void **state)
{
    (void)state;
    int bad = 0, files = 0;
    for (int l = 0; l < N_LAYERS; l++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/src/%s", tu_root(), LAYERS[l].dir);
        DIR *d = opendir(dir);
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t n = strlen(de->d_name);
            if (n < 3 || (strcmp(de->d_name + n - 2, ".c") && strcmp(de->d_name + n - 2, ".h")))
                continue;
            char path[4608];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            bad += check_file(path, LAYERS[l].may_use);
            files++;
        }
        closedir(d);
    }
    assert_true(files > 100);
    assert_int_equal(bad, 0);
}

/* Every folder of src/ has a row: a new folder must be placed in the order. */
static void test_every_folder_is_placed(void **state)
{
    (void)state;
    char root[4096];
    snprintf(root, sizeof root, "%s/src", tu_root());
    DIR *d = opendir(root);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        int found = 0;
        for (int l = 0; l < N_LAYERS; l++)
            found |= !strcmp(LAYERS[l].dir, de->d_name);
        if (!found)
            fprintf(stderr, "src/%s has no place in the layer table\n", de->d_name);
        assert_true(found);
    }
    closedir(d);
}

/* The checker itself: an upward include is caught. */
static void test_checker_catches_upward(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/x.c", dir);
    tu_write(path, "#include \"core/err.h\"\n#include \"train/train.h\"\n#include \"../core/io.h\"\n");
    assert_int_equal(check_file(path, "agents core"), 1);
    assert_int_equal(check_file(path, "train core"), 0);
    unlink(path);
    rmdir(dir);
    free(dir); /* LeakSanitizer failed make test SAN=1 on it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_upward_include),
        cmocka_unit_test(test_every_folder_is_placed),
        cmocka_unit_test(test_checker_catches_upward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
