/* render_draw.c — the drawers of `bdrl render` (render_draw.h), one function
 * per kind of environment, and the table that picks one. Geometry follows
 * Gymnasium's own renderers (classic_control, toy_text). */
#include "research/render_draw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- shapes ---- */

static void row(render_scene *s, int type, double x0, double y0, double x1, double y1, unsigned rgb,
                const char *text)
{
    fprintf(s->f, "%d %.6g %.6g %.6g %.6g %u \"", type, x0, y0, x1, y1, rgb & 0xFFFFFFu);
    for (const char *p = text; *p; p++)
        if (*p != '"' && *p != '\n' && *p != '\r')
            fputc(*p, s->f);
    fputs("\"\n", s->f);
    s->n++;
}

void scene_rect(render_scene *s, double x0, double y0, double x1, double y1, unsigned rgb)
{
    row(s, RENDER_RECT, x0, y0, x1, y1, rgb, "");
}

void scene_line(render_scene *s, double x0, double y0, double x1, double y1, unsigned rgb, int thick)
{
    row(s, thick ? RENDER_THICK : RENDER_LINE, x0, y0, x1, y1, rgb, "");
}

void scene_circle(render_scene *s, double x, double y, double r, unsigned rgb)
{
    row(s, RENDER_CIRCLE, x, y, r, 0, rgb, "");
}

void scene_text(render_scene *s, double x, double y, const char *text, unsigned rgb)
{
    row(s, RENDER_TEXT, x, y, 0, 0, rgb, text);
}

/* ---- grid: a transition table's drawing (FrozenLake, CliffWalking) ---- */

static const env_table *grid_table(const env *en)
{
    const env_table *t = env_is_tabular(en) ? env_transition_table(en) : NULL;
    return t && t->desc && t->nrow > 0 && t->ncol > 0 && t->nrow * t->ncol == env_n_states(en) ? t : NULL;
}

static int grid_fits(const env *en) { return grid_table(en) != NULL; }

static void grid_extent(const env *en, double box[4])
{
    const env_table *t = grid_table(en);
    box[0] = 0;
    box[1] = t->ncol;
    box[2] = 0;
    box[3] = t->nrow;
}

static unsigned cell_colour(char c)
{
    switch (c) {
    case 'S': return 0xFFF2B3; /* start: pale yellow */
    case 'G': return 0x43A047; /* goal: green */
    case 'H': return 0x1A2F5A; /* hole: dark water */
    case 'C': return 0x8D4E3A; /* cliff: brown */
    default: return 0xE3F2FD;  /* frozen / free: ice */
    }
}

static void grid_draw(const env *en, const double *state, const float *obs, render_scene *s)
{
    (void)obs;
    const env_table *t = grid_table(en);
    int R = t->nrow, C = t->ncol, words = C <= 8; /* cells wide enough for "start" */
    scene_rect(s, 0, 0, C, R, 0x9E9E9E);
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) {
            char k = t->desc[r * C + c];
            double y = R - 1 - r;
            scene_rect(s, c + 0.03, y + 0.03, c + 0.97, y + 0.97, cell_colour(k));
            if (k == 'S' || k == 'G' || (words && k == 'H'))
                scene_text(s, c + 0.5, y + 0.5,
                           k == 'S' ? (words ? "start" : "S") : k == 'G' ? (words ? "goal" : "G") : "hole",
                           k == 'S' ? 0x000000 : 0xFFFFFF);
        }
    /* a run of three or more cliff cells in a row is labelled once */
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C;) {
            int n = 0;
            while (c + n < C && t->desc[r * C + c + n] == 'C')
                n++;
            if (n >= 3)
                scene_text(s, c + n / 2.0, R - 1 - r + 0.5, "cliff", 0xFFFFFF);
            c += n ? n : 1;
        }
    int st = (int)state[0];
    if (st >= 0 && st < R * C)
        scene_circle(s, st % C + 0.5, R - 1 - st / C + 0.5, 0.28, 0xE53935);
}

/* ---- index: a tabular env without a drawing ---- */

static int index_fits(const env *en) { return env_is_tabular(en); }

static void index_extent(const env *en, double box[4])
{
    (void)en;
    box[0] = 0;
    box[1] = 1;
    box[2] = 0;
    box[3] = 1;
}

static void index_draw(const env *en, const double *state, const float *obs, render_scene *s)
{
    (void)obs;
    char text[96];
    snprintf(text, sizeof text, "state %d of %d", (int)state[0], env_n_states(en));
    scene_rect(s, 0.1, 0.35, 0.9, 0.65, 0xE3F2FD);
    scene_text(s, 0.5, 0.5, text, 0x000000);
}

/* ---- classic control, recognised by their state components ---- */

static int named(const env *en, const char *names) { return !strcmp(env_state_names(en), names); }

/* CartPole: x_threshold 2.4, pole of length 2 * 0.5, theta > 0 leans right. */
static int cartpole_fits(const env *en) { return named(en, "x,x_dot,theta,theta_dot"); }

static void cartpole_extent(const env *en, double box[4])
{
    (void)en;
    box[0] = -2.6;
    box[1] = 2.6;
    box[2] = -0.6;
    box[3] = 1.3;
}

static void cartpole_draw(const env *en, const double *state, const float *obs, render_scene *s)
{
    (void)en;
    (void)obs;
    double x = state[0], th = state[2], pivot = 0.06;
    scene_line(s, -2.6, 0, 2.6, 0, 0x000000, 0);
    for (int k = -1; k <= 1; k += 2) { /* where the episode ends */
        scene_line(s, 2.4 * k, -0.3, 2.4 * k, 0.3, 0xE53935, 0);
    }
    scene_rect(s, x - 0.2, -0.12, x + 0.2, 0.12, 0x000000);
    scene_line(s, x, pivot, x + sin(th), pivot + cos(th), 0xCA9865, 1);
    scene_circle(s, x, pivot, 0.04, 0x8184CB);
}

/* Acrobot: two links of length 1 hanging from the origin (theta = 0 points
 * down); the episode ends when the tip rises above y = 1. */
static int acrobot_fits(const env *en) { return named(en, "theta1,theta2,dtheta1,dtheta2"); }

static void acrobot_extent(const env *en, double box[4])
{
    (void)en;
    box[0] = -2.2;
    box[1] = 2.2;
    box[2] = -2.2;
    box[3] = 2.2;
}

static void acrobot_draw(const env *en, const double *state, const float *obs, render_scene *s)
{
    (void)en;
    (void)obs;
    double t1 = state[0], t2 = state[1];
    double x1 = sin(t1), y1 = -cos(t1);
    double x2 = x1 + sin(t1 + t2), y2 = y1 - cos(t1 + t2);
    scene_line(s, -2.2, 1, 2.2, 1, 0x000000, 0);
    scene_text(s, -1.6, 1.15, "goal", 0x000000);
    scene_line(s, 0, 0, x1, y1, 0x00CCCC, 1);
    scene_line(s, x1, y1, x2, y2, 0x00CCCC, 1);
    scene_circle(s, 0, 0, 0.08, 0xCCCC00);
    scene_circle(s, x1, y1, 0.08, 0xCCCC00);
}

/* MountainCar: the hill y = sin(3x) 0.45 + 0.55 on [-1.2, 0.6], the flag at
 * the goal x = 0.5. */
static int mountaincar_fits(const env *en) { return named(en, "position,velocity"); }

static double hill(double x) { return sin(3 * x) * 0.45 + 0.55; }

static void mountaincar_extent(const env *en, double box[4])
{
    (void)en;
    box[0] = -1.2;
    box[1] = 0.6;
    box[2] = 0;
    box[3] = 1.15;
}

static void mountaincar_draw(const env *en, const double *state, const float *obs, render_scene *s)
{
    (void)en;
    (void)obs;
    const int n = 72;
    for (int i = 0; i < n; i++) {
        double a = -1.2 + 1.8 * i / n, b = -1.2 + 1.8 * (i + 1) / n;
        scene_line(s, a, hill(a), b, hill(b), 0x000000, 0);
    }
    double fx = 0.5, fy = hill(fx);
    scene_line(s, fx, fy, fx, fy + 0.1, 0x000000, 0);
    scene_rect(s, fx, fy + 0.07, fx + 0.05, fy + 0.1, 0xCCCC00);
    /* the car: body along the slope, wheels below it */
    double x = state[0], y = hill(x), ang = atan(cos(3 * x) * 1.35);
    double dx = cos(ang), dy = sin(ang), nx = -dy, ny = dx;
    double cx = x + nx * 0.035, cy = y + ny * 0.035;
    scene_line(s, cx - dx * 0.06, cy - dy * 0.06, cx + dx * 0.06, cy + dy * 0.06, 0x000000, 1);
    for (int k = -1; k <= 1; k += 2)
        scene_circle(s, x + k * dx * 0.035 + nx * 0.012, y + k * dy * 0.035 + ny * 0.012, 0.012,
                     0x808080);
}

/* ---- image: an observation that is an H x W x C grid of 0/1 cells
 * (MinAtar), one square per cell in the colour of its highest channel that
 * is on (MinAtar's own GUI likewise gives each channel one colour); row 0 of
 * the image is drawn at the top ---- */

static int image_fits(const env *en)
{
    int h, w, c;
    return env_obs_shape(en, &h, &w, &c);
}

static void image_extent(const env *en, double box[4])
{
    int h, w, c;
    env_obs_shape(en, &h, &w, &c);
    box[0] = 0;
    box[1] = w;
    box[2] = 0;
    box[3] = h;
}

/* Channel k of n: a hue around the wheel, bright enough on black. */
unsigned render_channel_colour(int k, int n)
{
    static const unsigned PALETTE[10] = {0xE6194B, 0x3CB44B, 0xFFE119, 0x4363D8, 0xF58231,
                                         0x911EB4, 0x46F0F0, 0xF032E6, 0xBCF60C, 0xFABEBE};
    (void)n;
    return PALETTE[k % 10];
}

static void image_draw(const env *en, const double *state, const float *obs, render_scene *s)
{
    (void)state;
    int h, w, c;
    env_obs_shape(en, &h, &w, &c);
    scene_rect(s, 0, 0, w, h, 0x202020);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int top = -1;
            for (int k = 0; k < c; k++)
                if (obs[((size_t)y * w + x) * c + k] > 0.5f)
                    top = k;
            if (top >= 0)
                scene_rect(s, x + 0.04, h - 1 - y + 0.04, x + 0.96, h - y - 0.04, render_channel_colour(top, c));
        }
}

/* ---- state: anything else, as text ---- */

static int state_fits(const env *en)
{
    (void)en;
    return 1;
}

static void state_extent(const env *en, double box[4])
{
    box[0] = 0;
    box[1] = 1;
    box[2] = 0;
    box[3] = env_state_dim(en) + 1;
}

static void state_draw(const env *en, const double *state, const float *obs, render_scene *s)
{
    (void)obs;
    const char *names = env_state_names(en);
    int D = env_state_dim(en);
    for (int i = 0; i < D; i++) {
        char name[64] = "", text[128];
        /* the i-th comma-separated name, if there is one */
        const char *p = names;
        for (int k = 0; k < i && p; k++)
            p = (p = strchr(p, ',')) ? p + 1 : NULL;
        if (p && *p)
            snprintf(name, sizeof name, "%.*s", (int)strcspn(p, ","), p);
        else
            snprintf(name, sizeof name, "s%d", i);
        snprintf(text, sizeof text, "%s = %.4g", name, state[i]);
        scene_text(s, 0.5, D - i, text, 0x000000);
    }
}

static const render_drawer DRAWERS[] = {
    {"grid", grid_fits, grid_extent, grid_draw},
    {"index", index_fits, index_extent, index_draw},
    {"cartpole", cartpole_fits, cartpole_extent, cartpole_draw},
    {"acrobot", acrobot_fits, acrobot_extent, acrobot_draw},
    {"mountaincar", mountaincar_fits, mountaincar_extent, mountaincar_draw},
    {"image", image_fits, image_extent, image_draw},
    {"state", state_fits, state_extent, state_draw},
};

const render_drawer *render_drawer_for(const env *en)
{
    size_t n = sizeof DRAWERS / sizeof DRAWERS[0];
    for (size_t i = 0; i < n - 1; i++)
        if (DRAWERS[i].fits(en))
            return &DRAWERS[i];
    return &DRAWERS[n - 1];
}
