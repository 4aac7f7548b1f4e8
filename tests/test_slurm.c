/* Tests of research/slurm.c and `bdrl sweep --slurm/--status`: option
 * parsing and its errors, the array specification, shell quoting, the
 * generated scripts line by line, the sweep file's slurm: section, --dry-run,
 * a missing sbatch (one line, exit 2), and --status counts. The submission
 * itself runs against a real Slurm in make test-slurm. */
#include "test_util.h"

#include <sys/stat.h>

#include "research/slurm.h"
#include "research/sweep.h"

static void test_options(void **state)
{
    (void)state;
    slurm_options o;
    slurm_options_init(&o);
    assert_int_equal(o.cpus_per_task, 1);
    assert_int_equal(o.requeue, 1);
    bdrl_err e;
    assert_int_equal(slurm_option_parse(&o, "partition=short", &e), 0);
    assert_string_equal(o.partition, "short");
    assert_int_equal(slurm_option_parse(&o, "time=1-02:00:00", &e), 0);
    assert_int_equal(slurm_option_parse(&o, "mem=2G", &e), 0);
    assert_int_equal(slurm_option_parse(&o, "cpus_per_task=2", &e), 0);
    assert_int_equal(slurm_option_parse(&o, "max_parallel=8", &e), 0);
    assert_int_equal(slurm_option_parse(&o, "requeue=false", &e), 0);
    assert_int_equal(o.requeue, 0);
    assert_int_equal(slurm_option_parse(&o, "extra=--qos=low", &e), 0);
    assert_int_equal(slurm_option_parse(&o, "extra=#SBATCH --exclusive", &e), 0);
    assert_int_equal(o.n_extra, 2);
    assert_string_equal(o.extra[1], "--exclusive");
    /* errors name the key, the value and what is expected */
    assert_int_equal(slurm_option_parse(&o, "partiton=short", &e), -1);
    assert_contains(e.msg, "unknown slurm option 'partiton'");
    assert_int_equal(slurm_option_parse(&o, "mem=lots", &e), -1);
    assert_contains(e.msg, "slurm option mem: expected a size");
    assert_int_equal(slurm_option_parse(&o, "time=1h", &e), -1);
    assert_contains(e.msg, "slurm option time");
    assert_int_equal(slurm_option_parse(&o, "cpus_per_task=0", &e), -1);
    assert_contains(e.msg, "from 1 to 4096");
    assert_int_equal(slurm_option_parse(&o, "partition=a b", &e), -1);
    assert_int_equal(slurm_option_parse(&o, "requeue=maybe", &e), -1);
    assert_int_equal(slurm_option_parse(&o, "extra=qos", &e), -1);
    assert_int_equal(slurm_option_parse(&o, "novalue", &e), -1);
    assert_contains(e.msg, "expected KEY=VALUE");
}

static void test_array_spec_and_quoting(void **state)
{
    (void)state;
    char b[64];
    int a[] = {0, 1, 2, 3, 7, 9, 10, 11};
    assert_int_equal(slurm_array_spec(a, 8, b, sizeof b), 0);
    assert_string_equal(b, "0-3,7,9-11");
    int one[] = {5};
    assert_int_equal(slurm_array_spec(one, 1, b, sizeof b), 0);
    assert_string_equal(b, "5");
    assert_int_equal(slurm_array_spec(a, 8, b, 5), -1);
    char q[64];
    assert_string_equal(slurm_shell_quote("configs/a.yaml", q, sizeof q), "configs/a.yaml");
    assert_string_equal(slurm_shell_quote("my file", q, sizeof q), "'my file'");
    assert_string_equal(slurm_shell_quote("it's", q, sizeof q), "'it'\\''s'");
    assert_string_equal(slurm_shell_quote("$HOME", q, sizeof q), "'$HOME'");
}

static void test_scripts(void **state)
{
    (void)state;
    slurm_options o;
    slurm_options_init(&o);
    bdrl_err e;
    assert_int_equal(slurm_option_parse(&o, "partition=short", &e), 0);
    assert_int_equal(slurm_option_parse(&o, "max_parallel=3", &e), 0);
    assert_int_equal(slurm_option_parse(&o, "extra=--qos=low", &e), 0);
    const char *task[] = {"sweep", "my sweep.yaml", "--out", "runs/x"};
    const char *summ[] = {"sweep", "my sweep.yaml", "--out", "runs/x", "--resume", "-j", "1"};
    int runs[] = {0, 1, 2, 5};
    slurm_job j = {"bdrl-x", "/home/u/exp", "/home/u/exp/runs/x/slurm", "/opt/bdrl/bin/bdrl", task, 4, summ, 7,
                   runs, 4};
    char *s = slurm_array_script(&o, &j, &e);
    assert_non_null(s);
    assert_string_equal(s, "#!/bin/bash\n"
                           "# Written by bdrl: one array task per unfinished run; the task index is the run's index.\n"
                           "# A requeued task resumes its run from the last checkpoint.\n"
                           "#SBATCH --job-name=bdrl-x\n"
                           "#SBATCH --array=0-2,5%3\n"
                           "#SBATCH --output=/home/u/exp/runs/x/slurm/%x-%A_%a.out\n"
                           "#SBATCH --open-mode=append\n"
                           "#SBATCH --cpus-per-task=1\n"
                           "#SBATCH --partition=short\n"
                           "#SBATCH --requeue\n"
                           "#SBATCH --qos=low\n"
                           "set -u\n"
                           "cd /home/u/exp || exit 1\n"
                           "exec /opt/bdrl/bin/bdrl sweep 'my sweep.yaml' --out runs/x --only \"$SLURM_ARRAY_TASK_ID\"\n");
    free(s);
    s = slurm_summary_script(&o, &j, &e);
    assert_non_null(s);
    assert_contains(s, "#SBATCH --job-name=bdrl-x-summary\n");
    assert_contains(s, "#SBATCH --output=/home/u/exp/runs/x/slurm/%x-%j.out\n");
    assert_contains(s, "exec /opt/bdrl/bin/bdrl sweep 'my sweep.yaml' --out runs/x --resume -j 1\n");
    assert_true(strstr(s, "--array") == NULL && strstr(s, "--requeue") == NULL);
    free(s);
    /* no requeue; a log directory #SBATCH cannot hold */
    assert_int_equal(slurm_option_parse(&o, "requeue=false", &e), 0);
    s = slurm_array_script(&o, &j, &e);
    assert_contains(s, "#SBATCH --no-requeue\n");
    free(s);
    j.log_dir = "/home/u/my exp";
    assert_null(slurm_array_script(&o, &j, &e));
    assert_contains(e.msg, "space or quote");
}

static void write_sweep(const char *path, const char *extra)
{
    char b[2048];
    snprintf(b, sizeof b,
             "base: %s/configs/frozenlake4_c51.yaml\n"
             "set: {train.total_steps: 300, eval.episodes: 5, eval.interval: 100, train.learning_starts: 100}\n"
             "grid:\n  agent.lr: [1.0e-3, 3.0e-4]\nseeds: [1, 2]\n%s",
             tu_root(), extra);
    tu_write(path, b);
}

static void test_sweep_file_section(void **state)
{
    (void)state;
    char p[700];
    snprintf(p, sizeof p, "%s/s.yaml", tu_dir);
    write_sweep(p, "slurm:\n  partition: short\n  max_parallel: 4\n  extra: [--qos=low, --exclusive]\n");
    sweep_def s;
    bdrl_err e;
    if (sweep_load(p, NULL, &s, &e))
        fail_msg("%s", e.msg);
    assert_string_equal(s.slurm.partition, "short");
    assert_int_equal(s.slurm.max_parallel, 4);
    assert_int_equal(s.slurm.n_extra, 2);
    sweep_def_free(&s);
    write_sweep(p, "slurm:\n  partition: short\n  max_paralel: 4\n");
    assert_int_equal(sweep_load(p, NULL, &s, &e), -1);
    assert_contains(e.msg, "s.yaml:8:3: unknown slurm option 'max_paralel'");
    write_sweep(p, "slurm:\n  mem: lots\n");
    assert_int_equal(sweep_load(p, NULL, &s, &e), -1);
    assert_contains(e.msg, "s.yaml:7:8: slurm option mem");
}

static void test_cli_dry_run_missing_sbatch_status(void **state)
{
    (void)state;
    char p[700], out[700];
    snprintf(p, sizeof p, "%s/c.yaml", tu_dir);
    snprintf(out, sizeof out, "%s/cli_out", tu_dir);
    write_sweep(p, "slurm: {max_parallel: 2}\n");
    /* --dry-run: both scripts on stdout, nothing written */
    tu_result r = tu_run("%s sweep %s --out %s --slurm --dry-run --slurm-opt partition=debug", tu_bdrl(), p, out);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "#SBATCH --array=0-3%2\n");
    assert_contains(r.out, "#SBATCH --partition=debug\n");
    assert_contains(r.out, " --only \"$SLURM_ARRAY_TASK_ID\"\n");
    assert_contains(r.out, " --resume -j 1\n");
    assert_int_equal(access(out, F_OK), -1);
    tu_run_free(&r);
    /* no sbatch: one line, exit 2, nothing written */
    r = tu_run("PATH=/nonexistent %s sweep %s --out %s --slurm", tu_bdrl(), p, out);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "sbatch not found");
    assert_true(strchr(r.err, '\n') == r.err + strlen(r.err) - 1);
    assert_int_equal(access(out, F_OK), -1);
    tu_run_free(&r);
    r = tu_run("%s sweep %s --out %s --slurm --slurm-opt mem=lots", tu_bdrl(), p, out);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "--slurm-opt: slurm option mem");
    tu_run_free(&r);
    r = tu_run("%s sweep %s --out %s --dry-run", tu_bdrl(), p, out);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    /* --status before, during (one run done) and after */
    r = tu_run("%s sweep %s --out %s --status", tu_bdrl(), p, out);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "pending   4\n");
    assert_contains(r.out, "best so far: none");
    tu_run_free(&r);
    r = tu_run("%s sweep %s --out %s --only 2 -q", tu_bdrl(), p, out);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    r = tu_run("%s sweep %s --out %s --status", tu_bdrl(), p, out);
    assert_contains(r.out, "pending   3\n");
    assert_contains(r.out, "finished  1\n");
    assert_contains(r.out, "best so far: setting 1 (agent.lr=3.0e-4)");
    assert_contains(r.out, "time left: about");
    tu_run_free(&r);
    r = tu_run("%s sweep %s --out %s --resume -q", tu_bdrl(), p, out);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    r = tu_run("%s sweep %s --out %s --status", tu_bdrl(), p, out);
    assert_contains(r.out, "finished  4\n");
    assert_contains(r.out, "time left: none");
    tu_run_free(&r);
    /* everything finished: nothing to submit (and no sbatch needed to say so) */
    r = tu_run("PATH=/nonexistent %s sweep %s --out %s --slurm", tu_bdrl(), p, out);
    assert_int_equal(r.status, 0);
    assert_contains(r.err, "nothing to submit");
    tu_run_free(&r);
}

static void test_compare_slurm_only_status(void **state)
{
    (void)state;
    char out[700], sets[400];
    snprintf(out, sizeof out, "%s/cmp", tu_dir);
    snprintf(sets, sizeof sets, "--set train.total_steps=300 --set eval.interval=100 --set eval.episodes=5 "
                                "--set train.learning_starts=100 --no-truth");
    tu_result r = tu_run("%s compare %s/configs/frozenlake4_c51.yaml %s/configs/frozenlake4_bd.yaml --seeds 2 "
                         "--out %s %s --slurm --dry-run --slurm-opt max_parallel=3",
                         tu_bdrl(), tu_root(), tu_root(), out, sets);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "#SBATCH --array=0-3%3\n");
    assert_contains(r.out, "--seeds 2 --out ");
    assert_contains(r.out, "--set train.learning_starts=100 --no-truth --only \"$SLURM_ARRAY_TASK_ID\"\n");
    assert_contains(r.out, "--no-truth -j 1\n");
    assert_int_equal(access(out, F_OK), -1);
    tu_run_free(&r);
    /* --only runs one run and writes no tables */
    r = tu_run("%s compare %s/configs/frozenlake4_c51.yaml %s/configs/frozenlake4_bd.yaml --seeds 2 --out %s %s "
               "--only 3", tu_bdrl(), tu_root(), tu_root(), out, sets);
    if (r.status != 0)
        fail_msg("compare --only exited %d: %s", r.status, r.err);
    assert_contains(r.err, "run 3 (frozenlake4_bd_s2): starting from step 0");
    tu_run_free(&r);
    char p[800];
    snprintf(p, sizeof p, "%s/runs/frozenlake4_bd_s2/summary.json", out);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/runs/frozenlake4_c51_s1", out);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(p, sizeof p, "%s/comparison.md", out);
    assert_int_equal(access(p, F_OK), -1);
    r = tu_run("%s compare %s/configs/frozenlake4_c51.yaml %s/configs/frozenlake4_bd.yaml --seeds 2 --out %s %s "
               "--status", tu_bdrl(), tu_root(), tu_root(), out, sets);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "pending   3\n");
    assert_contains(r.out, "finished  1\n");
    assert_contains(r.out, "best so far: frozenlake4_bd,");
    tu_run_free(&r);
    r = tu_run("%s compare %s/configs/frozenlake4_c51.yaml --seeds 2 --out %s %s --only 2", tu_bdrl(), tu_root(),
               out, sets);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "--only 2: the comparison has runs 0 to 1");
    tu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_array_spec_and_quoting),
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_sweep_file_section),
        cmocka_unit_test(test_cli_dry_run_missing_sbatch_status),
        cmocka_unit_test(test_compare_slurm_only_status),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
