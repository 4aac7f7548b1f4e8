/* ref_csv.h — shared by test_acrobot and test_mountaincar: replays the
 * reference trajectories of tests/ref/NAME_ref.csv (written by
 * tests/ref/refcheck.py from pure-Python transcriptions of Gymnasium's steps)
 * through our env and checks every step bit for bit, and runs refcheck.py
 * against the bdrl binary when python3 is there. Header-only, like
 * test_util.h. */
#ifndef BDRL_TEST_REF_CSV_H
#define BDRL_TEST_REF_CSV_H

#include "test_util.h"

#include "envs/env.h"

/* What a replay saw, for the callers' coverage checks. */
typedef struct {
    long trajectories, steps, terminated, truncated;
    long at_bound;   /* steps whose state has a component equal to bound_value in magnitude */
} ref_stats;

/* Replays tests/ref/NAME_ref.csv (rows traj,step,action,<state_dim
 * numbers>,reward,terminated,truncated; step 0 is the start state) through
 * a fresh env of cfg per trajectory. Fails on the first difference in any
 * bit of the state, the reward or a flag, and checks each step's
 * observation with obs_check (may be NULL). */
static inline ref_stats ref_replay(const char *name, const env_config *cfg, double bound_value,
                                   void (*obs_check)(const env *e, const float *obs))
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/ref/%s_ref.csv", tu_root(), name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    bdrl_err err;
    env *e = env_create(cfg, &err);
    if (!e)
        fail_msg("env_create: %s", err.msg);
    const int sd = env_state_dim(e);
    ref_stats st = {0, 0, 0, 0, 0};
    char line[1024];
    long cur = -1, lineno = 1;
    if (!fgets(line, sizeof line, f))
        fail_msg("%s is empty", path);
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line, *end;
        long traj = strtol(p, &end, 10);
        long step = strtol(end + 1, &end, 10);
        long action = strtol(end + 1, &end, 10);
        double s[ENV_STATE_MAX];
        for (int k = 0; k < sd; k++)
            s[k] = strtod(end + 1, &end);
        double reward = strtod(end + 1, &end);
        long term = strtol(end + 1, &end, 10);
        long trunc = strtol(end + 1, &end, 10);
        if (*end != '\n' && *end != '\0')
            fail_msg("%s:%ld: malformed row", path, lineno);
        if (step == 0) {
            if (traj != cur + 1)
                fail_msg("%s:%ld: trajectory %ld after %ld", path, lineno, traj, cur);
            cur = traj;
            st.trajectories++;
            uint64_t seed = (uint64_t)traj;
            env_reset(e, &seed);
            if (env_set_state(e, s, &err))
                fail_msg("%s:%ld: set_state: %s", path, lineno, err.msg);
            continue;
        }
        env_step r = env_do_step(e, (int)action);
        double got[ENV_STATE_MAX];
        env_get_state(e, got);
        if (r.refused)
            fail_msg("%s:%ld: the env refused step %ld", path, lineno, step);
        for (int k = 0; k < sd; k++) {
            if (memcmp(&got[k], &s[k], sizeof(double)) != 0)
                fail_msg("%s:%ld: trajectory %ld step %ld, state component %d: got %.17g (%a), "
                         "reference %.17g (%a)", path, lineno, traj, step, k, got[k], got[k], s[k], s[k]);
            if (bound_value > 0 && fabs(s[k]) == bound_value)
                st.at_bound++;
        }
        if (r.reward != reward || r.terminated != (int)term || r.truncated != (int)trunc)
            fail_msg("%s:%ld: trajectory %ld step %ld: reward/terminated/truncated %g/%d/%d, reference %g/%ld/%ld",
                     path, lineno, traj, step, r.reward, r.terminated, r.truncated, reward, term, trunc);
        if (obs_check)
            obs_check(e, r.obs);
        st.steps++;
        st.terminated += term;
        st.truncated += trunc;
    }
    fclose(f);
    env_free(e);
    return st;
}

static inline int ref_have_python(void)
{
    return system("command -v python3 >/dev/null 2>&1") == 0;
}

/* Runs tests/ref/refcheck.py NAME check against the bdrl binary over n
 * generated trajectories (every row's %.17g text compared), and checks
 * that the committed CSV is what refcheck.py writes today. Skips loudly
 * without python3. */
static inline void ref_python_check(const char *name, int n, int csv_n)
{
    if (!ref_have_python()) {
        fprintf(stderr, "SKIPPED: python3 is not available, so %s was not compared with the Python "
                        "reference live (tests/ref/%s_ref.csv was still checked)\n", name, name);
        skip();
    }
    tu_result r = tu_run("python3 '%s/tests/ref/refcheck.py' %s check '%s' --trajectories %d --seed 2",
                         tu_root(), name, tu_bdrl(), n);
    fprintf(stderr, "%s", r.out);
    if (r.status != 0)
        fail_msg("refcheck.py %s check exited %d:\n%s%s", name, r.status, r.out, r.err);
    assert_contains(r.out, " 0 differ");
    tu_run_free(&r);
    r = tu_run("python3 '%s/tests/ref/refcheck.py' %s csv --trajectories %d --seed 7 | cmp - '%s/tests/ref/%s_ref.csv'",
               tu_root(), name, csv_n, tu_root(), name);
    if (r.status != 0)
        fail_msg("tests/ref/%s_ref.csv is not what refcheck.py writes now (regenerate it: see "
                 "tests/ref/README.md): %s", name, r.out);
    tu_run_free(&r);
}

#endif
