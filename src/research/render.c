/* render.c — `bdrl render`: plays a run's greedy episodes (as `bdrl eval`
 * does), writes each kept frame's scene and return laws as gnuplot data, and
 * has plots/render.gp draw them into a GIF or PNG frames (render.h). */
#include "research/render.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agents/registry.h"
#include "core/io.h"
#include "core/plot.h"
#include "research/render_draw.h"
#include "train/evaluate.h"
#include "train/run.h"
#include "train/train.h"

/* CDF rows reach this far beyond the laws so gnuplot's clipping draws them
 * to the edges of the axis (0 to the left, 1 to the right). */
#define FAR 1e6
/* The laws' axis spans where each CDF is between these. */
#define TAIL 0.002

void render_options_default(render_options *o)
{
    memset(o, 0, sizeof *o);
    o->episodes = 1;
    o->every = 1;
    o->delay = 10;
}

/* ---- the laws of one decision: (action, return, cdf) rows ---- */

typedef struct {
    int n, cap;
    int *a;
    double *x, *F;
} laws;

static int laws_add(laws *L, int a, double x, double F, bdrl_err *e)
{
    if (L->n == L->cap) {
        int cap = L->cap ? 2 * L->cap : 1024;
        int *na = realloc(L->a, sizeof *na * (size_t)cap);
        if (na)
            L->a = na;
        double *nx = realloc(L->x, sizeof *nx * (size_t)cap);
        if (nx)
            L->x = nx;
        double *nF = realloc(L->F, sizeof *nF * (size_t)cap);
        if (nF)
            L->F = nF;
        if (!na || !nx || !nF)
            return err_set(e, "out of memory");
        L->cap = cap;
    }
    L->a[L->n] = a;
    L->x[L->n] = x;
    L->F[L->n] = F;
    L->n++;
    return 0;
}

/* Action a's law at obs as CDF points: a grid density as cells of the grid
 * spacing (stat_dist_grid's reading), atoms as steps. A density that is not
 * positive anywhere gives no curve. [*lo, *hi] widens to where the CDF is
 * between TAIL and 1 - TAIL. */
static int laws_of(agent *ag, const float *obs, int a, laws *L, double *lo, double *hi, bdrl_err *e)
{
    agent_dist d;
    if (agent_distribution(ag, obs, a, &d, e))
        return -1;
    double z = 0;
    for (int i = 0; i < d.n; i++)
        if (d.w[i] > 0)
            z += d.w[i];
    if (!(z > 0) || !isfinite(z) || d.n < 1)
        return 0;
    double h = d.is_density && d.n > 1 ? (d.x[d.n - 1] - d.x[0]) / (d.n - 1) : 0;
    if (laws_add(L, a, -FAR, 0, e))
        return -1;
    double F = 0, first = NAN, last = NAN;
    for (int i = 0; i < d.n; i++) {
        double p = d.w[i] > 0 ? d.w[i] / z : 0, Fn = F + p;
        if (Fn > 1)
            Fn = 1;
        if (d.is_density) {
            if (i == 0 && laws_add(L, a, d.x[0] - h / 2, 0, e))
                return -1;
            if (laws_add(L, a, d.x[i] + h / 2, Fn, e))
                return -1;
        } else if (laws_add(L, a, d.x[i], F, e) || laws_add(L, a, d.x[i], Fn, e)) {
            return -1;
        }
        if (isnan(first) && Fn > TAIL)
            first = d.is_density ? d.x[i] - h / 2 : d.x[i];
        if (isnan(last) && Fn >= 1 - TAIL)
            last = d.is_density ? d.x[i] + h / 2 : d.x[i];
        F = Fn;
    }
    if (laws_add(L, a, FAR, 1, e))
        return -1;
    if (isnan(last))
        last = d.x[d.n - 1];
    if (isfinite(first) && first < *lo)
        *lo = first;
    if (isfinite(last) && last > *hi)
        *hi = last;
    return 0;
}

/* ---- frames: titles, actions and returns, for meta.gp ---- */

typedef struct {
    int n, cap;
    char (*title)[160];
    int *chosen; /* 1-based action drawn thick */
    double *ret;
} frames;

static int frames_add(frames *f, const char *title, int chosen, double ret, bdrl_err *e)
{
    if (f->n == f->cap) {
        int cap = f->cap ? 2 * f->cap : 256;
        char(*nt)[160] = realloc(f->title, sizeof *nt * (size_t)cap);
        if (nt)
            f->title = nt;
        int *nc = realloc(f->chosen, sizeof *nc * (size_t)cap);
        if (nc)
            f->chosen = nc;
        double *nr = realloc(f->ret, sizeof *nr * (size_t)cap);
        if (nr)
            f->ret = nr;
        if (!nt || !nc || !nr)
            return err_set(e, "out of memory");
        f->cap = cap;
    }
    snprintf(f->title[f->n], sizeof f->title[f->n], "%s", title);
    f->chosen[f->n] = chosen;
    f->ret[f->n] = ret;
    f->n++;
    return 0;
}

/* gnuplot double-quoted string, without what would end it. */
static void gp_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++)
        if (*s != '"' && *s != '\\' && *s != '\n')
            fputc(*s, f);
    fputc('"', f);
}

/* One frame's blocks: the scene of the env as it is now, and the laws. */
static void write_frame(FILE *scene, FILE *lawf, const render_drawer *dr, const env *en, const float *obs,
                        const laws *L)
{
    double state[ENV_STATE_MAX];
    env_get_state(en, state);
    render_scene sc = {scene, 0};
    dr->draw(en, state, obs, &sc);
    if (sc.n == 0) /* keep the block: an empty one would merge with the next */
        scene_text(&sc, NAN, NAN, "", 0);
    fputs("\n\n", scene);
    for (int i = 0; i < L->n; i++) {
        if (i && L->a[i] != L->a[i - 1])
            fputc('\n', lawf);
        fprintf(lawf, "%d %.9g %.9g\n", L->a[i], L->x[i], L->F[i]);
    }
    if (L->n == 0)
        fputs("-1 NaN NaN\n", lawf);
    fputs("\n\n", lawf);
}

static const char *run_label(const agent *ag)
{
    int k = agent_kind_of(ag);
    const agent_class *c = k >= 0 ? agent_class_of(k) : NULL;
    return c && c->label ? c->label : ag->ops->name;
}

static int write_meta(const char *path, const frames *fr, const env *en, const agent *ag, const render_drawer *dr,
                      double lo, double hi, const char *ttl, int delay, bdrl_err *e)
{
    io_atomic m;
    if (io_atomic_open(&m, path, e))
        return -1;
    FILE *f = m.f;
    int A = env_n_actions(en);
    double box[4];
    dr->extent(en, box);
    fprintf(f, "# written by bdrl render: %d frames of %s (drawer %s)\n", fr->n, env_name(en), dr->name);
    fprintf(f, "nframes = %d\nnact = %d\ndelay = %d\n", fr->n, A, delay);
    fprintf(f, "sx0 = %.9g; sx1 = %.9g; sy0 = %.9g; sy1 = %.9g\n", box[0], box[1], box[2], box[3]);
    fprintf(f, "lx0 = %.9g; lx1 = %.9g\n", lo, hi);
    fprintf(f, "ttl = ");
    gp_str(f, ttl);
    fprintf(f, "\nlawlabel = ");
    gp_str(f, run_label(ag));
    fprintf(f, "\narray actname[%d]\n", A);
    for (int a = 0; a < A; a++) {
        const char *nm = env_action_name(en, a);
        char buf[64];
        if (!nm || !*nm) {
            snprintf(buf, sizeof buf, "action %d", a);
            nm = buf;
        }
        fprintf(f, "actname[%d] = ", a + 1);
        gp_str(f, nm);
        fputc('\n', f);
    }
    fprintf(f, "array chosen[%d]\narray G[%d]\narray ftitle[%d]\n", fr->n, fr->n, fr->n);
    for (int i = 0; i < fr->n; i++) {
        fprintf(f, "chosen[%d] = %d; G[%d] = %.9g; ftitle[%d] = ", i + 1, fr->chosen[i], i + 1, fr->ret[i],
                i + 1);
        gp_str(f, fr->title[i]);
        fputc('\n', f);
    }
    return io_atomic_commit(&m, e);
}

/* Writes P.gp beside the GIF: redraws it from P_data/. */
static int write_replot(const char *prefix, const char *script, bdrl_err *e)
{
    char path[4096], spath[4096];
    if (plot_find_script(script, spath, sizeof spath, e))
        return -1;
    if (snprintf(path, sizeof path, "%s.gp", prefix) >= (int)sizeof path)
        return err_set(e, "path too long: %s.gp", prefix);
    const char *base = strrchr(prefix, '/');
    base = base ? base + 1 : prefix;
    io_atomic a;
    if (io_atomic_open(&a, path, e))
        return -1;
    fprintf(a.f, "# Redraws %s.gif from the data in %s_data/ (run from this directory):\n"
                 "#   gnuplot %s.gp\n",
            base, base, base);
    fprintf(a.f, "dir = ");
    gp_str(a.f, base);
    fprintf(a.f, ".'_data'\nmode = 'gif'\nout = ");
    gp_str(a.f, base);
    fprintf(a.f, ".'.gif'\nload ");
    gp_str(a.f, spath);
    fprintf(a.f, "\n");
    return io_atomic_commit(&a, e);
}

/* Removes DIR/frame_NNNNN.png left by an earlier render. */
static void remove_old_frames(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char p[4096];
    while ((de = readdir(d))) {
        unsigned k;
        char tail[8];
        if (sscanf(de->d_name, "frame_%5u.%4s", &k, tail) == 2 && !strcmp(tail, "png") &&
            strlen(de->d_name) == strlen("frame_00000.png")) {
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
    }
    closedir(d);
}

typedef struct {
    const render_options *o;
    int total;
} progress_ctx;

static void on_line(const char *line, void *ctx)
{
    progress_ctx *p = ctx;
    int k;
    if (p->o->progress && sscanf(line, "frame %d", &k) == 1)
        p->o->progress(p->o->progress_ctx, k, p->total);
}

/* ---- episodes ---- */

int render_run(const char *run_dir, const render_options *o, render_result *res, bdrl_err *e)
{
    if (o->episodes < 1 || o->episodes > RENDER_MAX_EPISODES) {
        err_set(e, "episodes must be in [1, %d], got %d", RENDER_MAX_EPISODES, o->episodes);
        return RENDER_BAD_INPUT;
    }
    if (o->every < 1) {
        err_set(e, "every must be at least 1, got %d", o->every);
        return RENDER_BAD_INPUT;
    }
    if (!o->gif == !o->frames_dir) {
        err_set(e, "give either a GIF or a frames directory");
        return RENDER_BAD_INPUT;
    }
    size_t glen = o->gif ? strlen(o->gif) : 0;
    if (o->gif && (glen < 5 || strcmp(o->gif + glen - 4, ".gif"))) {
        err_set(e, "the output %s must end in .gif", o->gif);
        return RENDER_BAD_INPUT;
    }
    exp_config cfg;
    env *en = NULL;
    agent *ag = NULL;
    if (run_load(run_dir, &cfg, &en, &ag, e))
        return RENDER_BAD_INPUT;

    int rc = -1;
    laws last = {0};
    frames fr = {0};
    io_atomic sf = {0}, lf = {0};
    int sopen = 0, lopen = 0;
    double *q = NULL;
    char prefix[4096], data_dir[4096], p[4096], tmp_gif[4200] = "";
    const render_drawer *dr = render_drawer_for(en);
    uint64_t seed = o->seed_given ? o->seed : train_eval_seed(&cfg);
    int A = ag->n_actions, D = ag->obs_dim;
    if (o->gif) {
        if (glen >= sizeof prefix - 8) {
            err_set(e, "path too long: %s", o->gif);
            goto out;
        }
        snprintf(prefix, sizeof prefix, "%.*s", (int)(glen - 4), o->gif);
        if (snprintf(data_dir, sizeof data_dir, "%s_data", prefix) >= (int)sizeof data_dir)
            goto out;
    } else if (io_join(data_dir, sizeof data_dir, o->frames_dir, "data", e)) {
        goto out;
    }
    if (io_mkdirs(data_dir, e) || (o->frames_dir && io_mkdirs(o->frames_dir, e)))
        goto out;
    if (io_join(p, sizeof p, data_dir, "scene.dat", e) || io_atomic_open(&sf, p, e))
        goto out;
    sopen = 1;
    if (io_join(p, sizeof p, data_dir, "laws.dat", e) || io_atomic_open(&lf, p, e))
        goto out;
    lopen = 1;
    fprintf(sf.f, "# bdrl render: shapes, one index block per frame (render_draw.h): type x0 y0 x1 y1 rgb text\n");
    fprintf(lf.f, "# bdrl render: return laws as CDFs, one index block per frame: action return cdf\n");
    if (!(q = err_calloc((size_t)A, sizeof *q, e)))
        goto out;

    double lo = INFINITY, hi = -INFINITY;
    if (res) {
        memset(res, 0, sizeof *res);
        res->seed = seed;
        snprintf(res->drawer, sizeof res->drawer, "%s", dr->name);
    }
    for (int k = 0; k < o->episodes; k++) {
        uint64_t s = eval_episode_seed(seed, k);
        float obs[ENV_OBS_MAX];
        memcpy(obs, env_reset(en, &s), sizeof(float) * (size_t)D);
        double G = 0;
        int t = 0, act = 0, done = 0;
        env_step st = {0};
        while (!done) {
            /* the values eval_greedy ranks by: Q, or agent.risk's measure
             * of each law (a CVaR agent takes its CVaR-greedy action) */
            if (agent_action_values(ag, 1, obs, q, e))
                goto out;
            act = 0;
            for (int j = 0; j < A; j++) {
                if (isnan(q[j])) {
                    err_set(e, "episode %d, step %d: the value of action %d is NaN", k + 1, t, j);
                    goto out;
                }
                if (q[j] > q[act])
                    act = j;
            }
            last.n = 0;
            for (int j = 0; j < A; j++)
                if (laws_of(ag, obs, j, &last, &lo, &hi, e))
                    goto out;
            if (t % o->every == 0) {
                char title[160];
                snprintf(title, sizeof title, "episode %d, step %d: %s (greedy); return so far %.4g", k + 1, t,
                         env_action_name(en, act), G);
                write_frame(sf.f, lf.f, dr, en, obs, &last);
                if (frames_add(&fr, title, act + 1, G, e))
                    goto out;
            }
            st = env_do_step(en, act);
            G += st.reward;
            t++;
            memcpy(obs, st.obs, sizeof(float) * (size_t)D);
            done = st.terminated || st.truncated;
        }
        char title[160];
        snprintf(title, sizeof title, "episode %d ended after %d steps (%s%s): return %.4g", k + 1, t,
                 st.terminated ? "terminated" : "time limit", env_step_success(en, &st) ? ", success" : "", G);
        write_frame(sf.f, lf.f, dr, en, obs, &last);
        if (frames_add(&fr, title, act + 1, G, e))
            goto out;
        if (G < lo)
            lo = G;
        if (G > hi)
            hi = G;
        if (res) {
            res->ret[k] = G;
            res->length[k] = t;
            res->success[k] = env_step_success(en, &st);
            res->episodes = k + 1;
        }
    }
    if (0 < lo)
        lo = 0; /* the return so far starts at 0 */
    if (!(hi > lo)) {
        lo -= 1;
        hi += 1;
    }
    double pad = 0.04 * (hi - lo);
    lo -= pad;
    hi += pad;

    sopen = lopen = 0;
    if (io_atomic_commit(&sf, e) || io_atomic_commit(&lf, e))
        goto out;
    char ttl[300];
    const char *base = strrchr(run_dir, '/');
    base = base && base[1] ? base + 1 : run_dir;
    snprintf(ttl, sizeof ttl, "%s on %s (run %s), greedy, evaluation seed %llu", run_label(ag),
             env_kind_describe(env_get_kind(en))->gym_id, base, (unsigned long long)seed);
    if (io_join(p, sizeof p, data_dir, "meta.gp", e) ||
        write_meta(p, &fr, en, ag, dr, lo, hi, ttl, o->delay, e))
        goto out;

    const char *names[3] = {"dir", "out", "mode"}, *values[3] = {data_dir, NULL, NULL};
    char errlog[4200];
    if (o->gif) {
        snprintf(tmp_gif, sizeof tmp_gif, "%s.tmp.XXXXXX", o->gif);
        int fd = mkstemp(tmp_gif);
        if (fd < 0) {
            err_set(e, "cannot create a file beside %s", o->gif);
            tmp_gif[0] = '\0';
            goto out;
        }
        close(fd);
        values[1] = tmp_gif;
        values[2] = "gif";
        snprintf(errlog, sizeof errlog, "%s.gnuplot.log", prefix);
    } else {
        remove_old_frames(o->frames_dir);
        values[1] = o->frames_dir;
        values[2] = "png";
        snprintf(errlog, sizeof errlog, "%s/gnuplot.log", data_dir);
    }
    progress_ctx pc = {o, fr.n};
    if (plot_gnuplot_run("render.gp", 3, names, values, errlog, on_line, &pc, e))
        goto out;
    if (o->gif) {
        int n = render_gif_frames(tmp_gif, e);
        if (n < 0)
            goto out;
        if (n != fr.n) {
            err_set(e, "gnuplot wrote %d frames to %s, expected %d", n, o->gif, fr.n);
            goto out;
        }
        mode_t um = umask(0);
        umask(um);
        chmod(tmp_gif, 0666 & ~um);
        if (rename(tmp_gif, o->gif)) {
            err_set(e, "cannot rename %s to %s", tmp_gif, o->gif);
            goto out;
        }
        tmp_gif[0] = '\0';
        if (write_replot(prefix, "render.gp", e))
            goto out;
    } else {
        for (int i = 1; i <= fr.n; i++) {
            snprintf(p, sizeof p, "%s/frame_%05d.png", o->frames_dir, i);
            if (!io_exists(p)) {
                err_set(e, "gnuplot did not write %s", p);
                goto out;
            }
        }
    }
    if (res)
        res->frames = fr.n;
    rc = 0;
out:
    if (sopen)
        io_atomic_abort(&sf);
    if (lopen)
        io_atomic_abort(&lf);
    if (tmp_gif[0])
        unlink(tmp_gif);
    free(last.a);
    free(last.x);
    free(last.F);
    free(fr.title);
    free(fr.chosen);
    free(fr.ret);
    free(q);
    agent_free(ag);
    env_free(en);
    return rc;
}

/* ---- GIF structure ---- */

/* Skips a chain of data sub-blocks (size byte, data, ..., 0). */
static int skip_subblocks(FILE *f)
{
    for (;;) {
        int n = fgetc(f);
        if (n == EOF)
            return -1;
        if (n == 0)
            return 0;
        if (fseek(f, n, SEEK_CUR))
            return -1;
    }
}

int render_gif_frames(const char *path, bdrl_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, "cannot open %s", path);
    unsigned char h[13];
    int n = 0, rc = -1;
    if (fread(h, 1, 13, f) != 13 || (memcmp(h, "GIF89a", 6) && memcmp(h, "GIF87a", 6))) {
        err_set(e, "%s is not a GIF", path);
        goto out;
    }
    if ((h[10] & 0x80) && fseek(f, 3L << ((h[10] & 7) + 1), SEEK_CUR))
        goto bad;
    for (;;) {
        int c = fgetc(f);
        if (c == 0x3B) /* trailer */
            break;
        if (c == 0x21) { /* extension: label, sub-blocks */
            if (fgetc(f) == EOF || skip_subblocks(f))
                goto bad;
        } else if (c == 0x2C) { /* image descriptor */
            unsigned char d[9];
            if (fread(d, 1, 9, f) != 9)
                goto bad;
            if ((d[8] & 0x80) && fseek(f, 3L << ((d[8] & 7) + 1), SEEK_CUR))
                goto bad;
            if (fgetc(f) == EOF || skip_subblocks(f)) /* LZW code size, data */
                goto bad;
            n++;
        } else {
            goto bad;
        }
    }
    rc = n;
    goto out;
bad:
    err_set(e, "%s is not a well-formed GIF (truncated or unknown block after %d images)", path, n);
out:
    fclose(f);
    return rc;
}
