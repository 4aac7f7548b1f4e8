/* render_draw.h — what an environment looks like in `bdrl render`: one
 * drawer per kind of environment, each turning the env's state into a few
 * shapes (rectangles, lines, circles, text) that plots/render.gp draws.
 *
 * A drawer is chosen by what the env reports, not by its name:
 *   grid     a transition table with a drawing (env_table.desc: FrozenLake,
 *            CliffWalking, tabular plugins): the cells, holes, cliff, goal
 *            and the agent's cell;
 *   index    any other tabular env: its state index as text;
 *   cartpole, acrobot, mountaincar: the physical state (env_get_state) whose
 *            components are named as env_state_names says;
 *   state    anything else: each state component as "name = value".
 * Adding a kind (e.g. MinAtar's 10x10xC boolean images, env_obs_shape) is one
 * drawer function and one row of render_draw.c's table.
 *
 * The shapes go to a data file, one row each:
 *   type x0 y0 x1 y1 rgb "text"
 * type 1: a filled rectangle (x0,y0)-(x1,y1); 2: a thin line; 3: a thick
 * line; 4: a filled circle at (x0,y0) of radius x1; 5: text centred at
 * (x0,y0), in colour rgb.
 * rgb is 0xRRGGBB as a decimal integer. A frame's rows form one gnuplot
 * `index` block; the caller writes the separators.
 */
#ifndef BDRL_RENDER_DRAW_H
#define BDRL_RENDER_DRAW_H

#include <stdio.h>

#include "envs/env.h"

enum { RENDER_RECT = 1, RENDER_LINE = 2, RENDER_THICK = 3, RENDER_CIRCLE = 4, RENDER_TEXT = 5 };

/* Where shapes go: rows appended to f, counted in n. */
typedef struct {
    FILE *f;
    long n;
} render_scene;

void scene_rect(render_scene *s, double x0, double y0, double x1, double y1, unsigned rgb);
void scene_line(render_scene *s, double x0, double y0, double x1, double y1, unsigned rgb, int thick);
void scene_circle(render_scene *s, double x, double y, double r, unsigned rgb);
/* text: quotes and newlines are dropped. */
void scene_text(render_scene *s, double x, double y, const char *text, unsigned rgb);

typedef struct {
    const char *name;
    /* 1 if this drawer can draw en. */
    int (*fits)(const env *en);
    /* The scene's fixed axes for the whole animation: x0, x1, y0, y1 (drawn
     * with equal scales). */
    void (*extent)(const env *en, double box[4]);
    /* One frame: the env's state (env_get_state) and observation. */
    void (*draw)(const env *en, const double *state, const float *obs, render_scene *s);
} render_drawer;

/* The first drawer in the table that fits en (the last, "state", fits every
 * env). */
const render_drawer *render_drawer_for(const env *en);

/* The colour the image drawer gives channel k of an n-channel observation
 * (MinAtar's grids: one colour per channel, the highest channel on wins). */
unsigned render_channel_colour(int k, int n);

#endif
