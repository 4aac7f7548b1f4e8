/* Tests of `bdrl render` (src/cli/cmd_render.c, src/research/render.h,
 * render_draw.h) on tiny runs trained here: every built-in environment
 * renders a GIF of more than one frame, as many as its episode has steps
 * plus one (counted by walking the GIF's blocks); --every K keeps ceil(T/K)
 * + 1 PNG frames; the episodes are the ones `bdrl eval` plays with the same
 * seed, also for a run acting on CVaR; a run on a Python environment renders
 * too; each env gets its drawer and the drawers put the agent where its
 * state says; the GIF walker refuses broken files; bad arguments exit 2
 * with one line. */
#include "test_util.h"

#include <dirent.h>

#include "agents/agent.h"
#include "envs/env.h"
#include "research/render.h"
#include "train/run.h"
#include "research/render_draw.h"

#define N_ENVS 5
static const char *ENVS[N_ENVS] = {"frozenlake", "cliffwalking", "cartpole", "acrobot", "mountaincar"};
/* Tabular runs are C51 (atoms), the others BD (a grid density). */
static char runs[N_ENVS][700];

static void ensure_runs(void)
{
    if (runs[0][0])
        return;
    for (int i = 0; i < N_ENVS; i++) {
        char cfg[700];
        snprintf(cfg, sizeof cfg, "%s/%s.yaml", tu_dir, ENVS[i]);
        char text[300];
        snprintf(text, sizeof text,
                 "env:\n  name: %s\n  max_episode_steps: 12\nagent:\n  kind: %s\n"
                 "train:\n  total_steps: 300\n  learning_starts: 50\n  batch_size: 16\n"
                 "eval:\n  interval: 300\n  episodes: 2\n",
                 ENVS[i], i < 2 ? "c51" : "bd");
        tu_write(cfg, text);
        snprintf(runs[i], sizeof runs[i], "%s/%s_run", tu_dir, ENVS[i]);
        tu_result r = tu_run("%s train %s --out %s -q --set bd.basis=21 --set 'agent.hidden=[16]'", tu_bdrl(),
                             cfg, runs[i]);
        if (r.status != 0)
            fail_msg("bdrl train %s exited %d: %s", ENVS[i], r.status, r.err);
        tu_run_free(&r);
    }
}

/* The steps of each episode from render's "episode K: return R over T
 * steps" lines; returns how many. */
static int episode_steps(const char *out, int *T, int max)
{
    int n = 0;
    for (const char *p = out; (p = strstr(p, "episode ")) && n < max; p++) {
        const char *over = strstr(p, " over ");
        if (!over || strchr(p, '\n') < over)
            continue;
        T[n++] = atoi(over + 6);
    }
    return n;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

static int count_png_frames(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)))
        if (!strncmp(de->d_name, "frame_", 6) && strstr(de->d_name, ".png"))
            n++;
    closedir(d);
    return n;
}

static void test_gif_every_env(void **state)
{
    (void)state;
    ensure_runs();
    for (int i = 0; i < N_ENVS; i++) {
        char gif[800];
        snprintf(gif, sizeof gif, "%s/%s.gif", tu_dir, ENVS[i]);
        tu_result r = tu_run("%s render %s --out %s --episodes 2", tu_bdrl(), runs[i], gif);
        if (r.status != 0)
            fail_msg("bdrl render %s exited %d: %s", ENVS[i], r.status, r.err);
        assert_string_equal(r.err, ""); /* no progress bar when stderr is not a terminal */
        int T[2];
        assert_int_equal(episode_steps(r.out, T, 2), 2);
        tu_run_free(&r);
        size_t len;
        char *bytes = tu_read_len(gif, &len);
        assert_non_null(bytes);
        assert_true(len > 1000);
        assert_memory_equal(bytes, "GIF89a", 6);
        free(bytes);
        bdrl_err e;
        int n = render_gif_frames(gif, &e);
        if (n != T[0] + 1 + T[1] + 1)
            fail_msg("%s: %d frames in the GIF, expected %d + 1 + %d + 1 (%s)", ENVS[i], n, T[0], T[1],
                     n < 0 ? e.msg : "");
        assert_true(n > 1);
        /* the redraw script and its data are beside it */
        char p[900];
        snprintf(p, sizeof p, "%s/%s.gp", tu_dir, ENVS[i]);
        assert_true(exists(p));
        snprintf(p, sizeof p, "%s/%s_data/meta.gp", tu_dir, ENVS[i]);
        assert_true(exists(p));
    }
}

static void test_every(void **state)
{
    (void)state;
    ensure_runs();
    for (int i = 1; i <= 2; i++) { /* CliffWalking (atoms) and CartPole (density) */
        int T = 0, n[2];
        const int every[2] = {1, 3};
        for (int k = 0; k < 2; k++) {
            char dir[800];
            snprintf(dir, sizeof dir, "%s/%s_frames_%d", tu_dir, ENVS[i], every[k]);
            tu_result r = tu_run("%s render %s --frames %s --every %d", tu_bdrl(), runs[i], dir, every[k]);
            if (r.status != 0)
                fail_msg("bdrl render --every %d exited %d: %s", every[k], r.status, r.err);
            assert_int_equal(episode_steps(r.out, &T, 1), 1);
            tu_run_free(&r);
            n[k] = count_png_frames(dir);
        }
        assert_true(T >= 2);
        assert_int_equal(n[0], T + 1);
        assert_int_equal(n[1], (T + 2) / 3 + 1);
        assert_true(n[1] < n[0]);
    }
    /* frames of an earlier, longer render in the same directory are removed */
    char dir[800];
    snprintf(dir, sizeof dir, "%s/%s_frames_1", tu_dir, ENVS[2]);
    int before = count_png_frames(dir);
    tu_result r = tu_run("%s render %s --frames %s --every 1000", tu_bdrl(), runs[2], dir);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    assert_int_equal(count_png_frames(dir), 2);
    assert_true(before > 2);
}

static double json_num(const char *json, const char *key)
{
    char k[80];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(json, k);
    if (!p)
        fail_msg("no %s in %s", key, json);
    return strtod(p + strlen(k), NULL);
}

/* Rendered episodes are the ones eval plays with the same seed: the same
 * mean return and mean length over 20 episodes of slippery FrozenLake with
 * its own time limit (lengths vary with the slips, so other seeds, or the
 * same seeds shifted by one episode, give other means). */
static void test_same_episodes_as_eval(void **state)
{
    (void)state;
    char cfg[700], run[700];
    snprintf(cfg, sizeof cfg, "%s/fl100.yaml", tu_dir);
    /* long enough (3000 steps, 2 s) to walk rather than push into a corner */
    tu_write(cfg, "env:\n  name: frozenlake\nagent:\n  kind: c51\n"
                  "train:\n  total_steps: 3000\neval:\n  interval: 3000\n  episodes: 2\n");
    snprintf(run, sizeof run, "%s/fl100_run", tu_dir);
    tu_result r = tu_run("%s train %s --out %s -q", tu_bdrl(), cfg, run);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    const int N = 20;
    r = tu_run("%s render %s --frames %s/same --every 1000 --episodes %d --seed 11", tu_bdrl(), run, tu_dir, N);
    assert_int_equal(r.status, 0);
    int T[20];
    assert_int_equal(episode_steps(r.out, T, N), N);
    double ret = 0, len = 0;
    for (const char *p = r.out; (p = strstr(p, ": return ")); p++)
        ret += strtod(p + 9, NULL);
    int varied = 0;
    for (int k = 0; k < N; k++) {
        len += T[k];
        varied |= T[k] != T[0];
    }
    assert_true(varied); /* else the lengths could not tell episodes apart */
    tu_run_free(&r);
    r = tu_run("%s eval %s --json --episodes %d --seed 11 --no-samples", tu_bdrl(), run, N);
    if (r.status != 0)
        fail_msg("bdrl eval exited %d: %s", r.status, r.err);
    assert_close(json_num(r.out, "greedy_return_mean"), ret / N, 1e-9);
    assert_close(json_num(r.out, "length_mean"), len / N, 1e-9);
    tu_run_free(&r);
}

/* A run acting on CVaR renders the episodes eval scores, greedy on its
 * measure: on the FrozenLake ledge (configs/frozenlake_ledge_c51_cvar.yaml,
 * 3000 steps) its CVaR-greedy action at S is up, its Q-greedy one right (the
 * test checks that first, else it could not tell the two apart), and the
 * detour is two steps longer than the path along the holes. */
static void test_risk_run_same_as_eval(void **state)
{
    (void)state;
    char cfg[800], run[700];
    snprintf(cfg, sizeof cfg, "%s/configs/frozenlake_ledge_c51_cvar.yaml", tu_root());
    snprintf(run, sizeof run, "%s/ledge_cvar", tu_dir);
    tu_result r = tu_run("%s train %s --out %s -q --set train.total_steps=3000 --set eval.interval=3000 "
                         "--set eval.episodes=5 --set train.checkpoint_interval=0", tu_bdrl(), cfg, run);
    if (r.status != 0)
        fail_msg("bdrl train exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    exp_config c;
    env *en;
    agent *ag;
    bdrl_err e;
    assert_int_equal(run_load(run, &c, &en, &ag, &e), 0);
    float obs = 4; /* S */
    double q[4];
    int risk_greedy, q_greedy = 0;
    assert_int_equal(agent_greedy(ag, &obs, &risk_greedy, &e), 0);
    assert_int_equal(agent_q_values(ag, 1, &obs, q, &e), 0);
    for (int a = 1; a < 4; a++)
        if (q[a] > q[q_greedy])
            q_greedy = a;
    assert_int_equal(risk_greedy, 3);
    assert_int_equal(q_greedy, 2);
    agent_free(ag);
    env_free(en);
    const int N = 20;
    r = tu_run("%s render %s --frames %s/ledge_frames --every 1000 --episodes %d --seed 5", tu_bdrl(), run, tu_dir,
               N);
    assert_int_equal(r.status, 0);
    int T[20];
    assert_int_equal(episode_steps(r.out, T, N), N);
    double ret = 0, len = 0;
    for (const char *p = r.out; (p = strstr(p, ": return ")); p++)
        ret += strtod(p + 9, NULL);
    for (int k = 0; k < N; k++)
        len += T[k];
    tu_run_free(&r);
    r = tu_run("%s eval %s --json --episodes %d --seed 5 --no-samples", tu_bdrl(), run, N);
    assert_int_equal(r.status, 0);
    assert_close(json_num(r.out, "greedy_return_mean"), ret / N, 1e-9);
    assert_close(json_num(r.out, "length_mean"), len / N, 1e-9);
    tu_run_free(&r);
}

/* A run on a Python environment (tests/python/cartpole_py.py, CartPole in
 * plain Python with its state names) renders a GIF of more than one frame,
 * drawn as a cart and pole. */
static void test_python_env_gif(void **state)
{
    (void)state;
    tu_lsan_ignore_python();
    char cfg[700], run[700], gif[700], text[1200];
    snprintf(cfg, sizeof cfg, "%s/cartpole_py.yaml", tu_dir);
    snprintf(text, sizeof text,
             "env:\n  name: python\n  python: %s/tests/python/cartpole_py.py:CartPole\n  max_episode_steps: 15\n"
             "agent:\n  kind: c51\n  v_max: 20\n  hidden: [16]\n"
             "train:\n  total_steps: 200\n  learning_starts: 50\n  batch_size: 16\n"
             "eval:\n  interval: 200\n  episodes: 2\n", tu_root());
    tu_write(cfg, text);
    snprintf(run, sizeof run, "%s/cartpole_py_run", tu_dir);
    tu_result r = tu_run("%s train %s --out %s -q", tu_bdrl(), cfg, run);
    if (r.status != 0)
        fail_msg("bdrl train (python) exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    snprintf(gif, sizeof gif, "%s/cartpole_py.gif", tu_dir);
    r = tu_run("%s render %s --out %s", tu_bdrl(), run, gif);
    if (r.status != 0)
        fail_msg("bdrl render (python) exited %d: %s", r.status, r.err);
    assert_contains(r.out, "drawn as cartpole");
    int T[1];
    assert_int_equal(episode_steps(r.out, T, 1), 1);
    tu_run_free(&r);
    bdrl_err e;
    int n = render_gif_frames(gif, &e);
    assert_int_equal(n, T[0] + 1);
    assert_true(n > 1);
}

/* The scene of state s of an env of the given name into a string. */
static char *scene_of(const char *name, const double *st, const char **drawer)
{
    env_config c;
    env_config_defaults(&c, name);
    bdrl_err e;
    env *en = env_create(&c, &e);
    assert_non_null(en);
    const render_drawer *d = render_drawer_for(en);
    *drawer = d->name;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    render_scene sc = {f, 0};
    float obs[ENV_OBS_MAX] = {0};
    d->draw(en, st, obs, &sc);
    fclose(f);
    assert_true(sc.n > 0);
    assert_int_equal(tu_count_lines(buf), sc.n);
    env_free(en);
    return buf;
}

/* The first row of a type: its numbers. */
static int find_row(const char *scene, int type, double v[5], unsigned *rgb)
{
    for (const char *p = scene; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        int t;
        if (sscanf(p, "%d %lf %lf %lf %lf %u", &t, &v[0], &v[1], &v[2], &v[3], rgb) == 6 && t == type)
            return 1;
    }
    return 0;
}

static void test_drawers(void **state)
{
    (void)state;
    const char *expect[N_ENVS] = {"grid", "grid", "cartpole", "acrobot", "mountaincar"};
    double v[5];
    unsigned rgb;
    const char *dr;
    /* FrozenLake 4x4, state 6 = row 1, column 2: the agent's circle there */
    double s6[4] = {6};
    char *sc = scene_of("frozenlake", s6, &dr);
    assert_string_equal(dr, expect[0]);
    assert_true(find_row(sc, RENDER_CIRCLE, v, &rgb));
    assert_close(v[0], 2.5, 1e-9);
    assert_close(v[1], 4 - 1 - 1 + 0.5, 1e-9);
    assert_contains(sc, "\"hole\"");
    assert_contains(sc, "\"goal\"");
    free(sc);
    /* CliffWalking 4x12: its cliff labelled, the agent at 36 = bottom left */
    double s36[4] = {36};
    sc = scene_of("cliffwalking", s36, &dr);
    assert_string_equal(dr, expect[1]);
    assert_contains(sc, "\"cliff\"");
    assert_true(find_row(sc, RENDER_CIRCLE, v, &rgb));
    assert_close(v[0], 0.5, 1e-9);
    assert_close(v[1], 0.5, 1e-9);
    free(sc);
    /* CartPole: the pole (thick line) from the cart at x, leaning right for theta > 0 */
    double cp[4] = {1.0, 0, 0.3, 0};
    sc = scene_of("cartpole", cp, &dr);
    assert_string_equal(dr, expect[2]);
    assert_true(find_row(sc, RENDER_THICK, v, &rgb));
    assert_close(v[0], 1.0, 1e-9);
    assert_close(v[2] - v[0], sin(0.3), 1e-5);
    assert_close(v[3] - v[1], cos(0.3), 1e-5);
    free(sc);
    /* Acrobot hanging straight down: the first link from the origin to (0, -1) */
    double ac[4] = {0, 0, 0, 0};
    sc = scene_of("acrobot", ac, &dr);
    assert_string_equal(dr, expect[3]);
    assert_true(find_row(sc, RENDER_THICK, v, &rgb));
    assert_close(v[2], 0, 1e-9);
    assert_close(v[3], -1, 1e-9);
    free(sc);
    /* MountainCar at the bottom of the valley (x = -pi/6): the car on the hill */
    double mc[2] = {-M_PI / 6, 0};
    sc = scene_of("mountaincar", mc, &dr);
    assert_string_equal(dr, expect[4]);
    assert_true(find_row(sc, RENDER_THICK, v, &rgb));
    assert_close((v[0] + v[2]) / 2, -M_PI / 6, 1e-5);
    assert_close((v[1] + v[3]) / 2, 0.1 + 0.035, 1e-5);
    free(sc);
}

/* An image observation (MinAtar Breakout): one square per lit cell, in its
 * highest lit channel's colour, image row 0 at the top; dark cells draw
 * nothing but the background. */
static void test_image_drawer(void **state)
{
    (void)state;
    env_config c;
    env_config_defaults(&c, "minatar-breakout");
    bdrl_err e;
    env *en = env_create(&c, &e);
    assert_non_null(en);
    const render_drawer *d = render_drawer_for(en);
    assert_string_equal(d->name, "image");
    double box[4];
    d->extent(en, box);
    assert_true(box[1] == 10 && box[3] == 10);
    float obs[ENV_OBS_MAX] = {0};
    const int C = 4;
    obs[((size_t)0 * 10 + 3) * C + 1] = 1; /* y 0, x 3: channel 1 */
    obs[((size_t)9 * 10 + 7) * C + 0] = 1; /* y 9, x 7: channels 0 and 2, 2 wins */
    obs[((size_t)9 * 10 + 7) * C + 2] = 1;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    render_scene sc = {f, 0};
    d->draw(en, NULL, obs, &sc);
    fclose(f);
    assert_int_equal(sc.n, 3); /* the background and two cells */
    double v[5];
    unsigned rgb;
    int cells = 0;
    for (const char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        int t;
        if (sscanf(p, "%d %lf %lf %lf %lf %u", &t, &v[0], &v[1], &v[2], &v[3], &rgb) != 6 || v[2] - v[0] > 1)
            continue;
        cells++;
        if (v[0] < 5) { /* x 3, top row */
            assert_close(v[0], 3.04, 1e-9);
            assert_close(v[1], 9.04, 1e-9);
            assert_int_equal(rgb, render_channel_colour(1, C));
        } else { /* x 7, bottom row */
            assert_close(v[0], 7.04, 1e-9);
            assert_close(v[1], 0.04, 1e-9);
            assert_int_equal(rgb, render_channel_colour(2, C));
        }
    }
    assert_int_equal(cells, 2);
    free(buf);
    env_free(en);
}

static void test_gif_walker_refuses_broken_files(void **state)
{
    (void)state;
    ensure_runs();
    char gif[800], cut[800];
    snprintf(gif, sizeof gif, "%s/%s.gif", tu_dir, ENVS[0]);
    if (!exists(gif)) {
        tu_result r = tu_run("%s render %s --out %s", tu_bdrl(), runs[0], gif);
        assert_int_equal(r.status, 0);
        tu_run_free(&r);
    }
    size_t len = 0;
    char *bytes = tu_read_len(gif, &len);
    assert_non_null(bytes);
    bdrl_err e;
    assert_true(render_gif_frames(gif, &e) > 1);
    snprintf(cut, sizeof cut, "%s/cut.gif", tu_dir);
    FILE *f = fopen(cut, "wb");
    assert_non_null(f);
    fwrite(bytes, 1, len / 2, f); /* no trailer */
    fclose(f);
    assert_int_equal(render_gif_frames(cut, &e), -1);
    assert_contains(e.msg, "not a well-formed GIF");
    tu_write(cut, "not a gif at all");
    assert_int_equal(render_gif_frames(cut, &e), -1);
    assert_contains(e.msg, "is not a GIF");
    free(bytes);
}

static void test_help_and_bad_input(void **state)
{
    (void)state;
    ensure_runs();
    tu_result r = tu_run("%s render --help", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "usage: bdrl render RUN");
    assert_contains(r.out, "--every");
    tu_run_free(&r);
    struct {
        const char *args, *msg;
    } bad[] = {
        {"render", "expected one RUN directory"},
        {"render /nonexistent/run", "/nonexistent/run"},
        {"render @R --every 0", "--every"},
        {"render @R --episodes 0", "--episodes"},
        {"render @R --episodes x", "--episodes"},
        {"render @R --seed -1", "--seed"},
        {"render @R --out x.png", "must end in .gif"},
        {"render @R --out a.gif --frames d", "--out and --frames exclude each other"},
        {"render @R --bogus", "--bogus"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[1200] = "";
        const char *at = strstr(bad[i].args, "@R");
        if (at)
            snprintf(args, sizeof args, "%.*s%s%s", (int)(at - bad[i].args), bad[i].args, runs[0], at + 2);
        else
            snprintf(args, sizeof args, "%s", bad[i].args);
        r = tu_run("%s %s", tu_bdrl(), args);
        if (r.status != 2)
            fail_msg("'bdrl %s' exited %d (expected 2): %s", args, r.status, r.err);
        assert_contains(r.err, bad[i].msg);
        assert_int_equal(tu_count_lines(r.err), 1);
        tu_run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drawers),
        cmocka_unit_test(test_image_drawer),
        cmocka_unit_test(test_gif_every_env),
        cmocka_unit_test(test_every),
        cmocka_unit_test(test_same_episodes_as_eval),
        cmocka_unit_test(test_risk_run_same_as_eval),
        cmocka_unit_test(test_python_env_gif),
        cmocka_unit_test(test_gif_walker_refuses_broken_files),
        cmocka_unit_test(test_help_and_bad_input),
    };
    return cmocka_run_group_tests_name("render", tests, tu_group_setup, tu_group_teardown);
}
