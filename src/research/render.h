/* render.h — a trained agent's greedy episodes as an animation (`bdrl
 * render`): at every frame the environment (render_draw.h) and, beside it,
 * the agent's return law for the current state and each action as a CDF
 * (agent.h's distribution op: a BD grid density read as cells, as
 * stat_dist_grid does; atoms as steps), the greedy action's curve thick,
 * with the return collected so far in the episode — the undiscounted sum of
 * its rewards — as a vertical line on the same axis.
 *
 * Episodes are `bdrl eval`'s: episode k is reset with eval_episode_seed(seed,
 * k) and the agent acts greedily on agent_action_values (its Q values, or
 * with agent.risk the measure of each action's law; ties to the lowest
 * action), so rendered episode k is the one eval scored as its k-th.
 *
 * Frames: with every = K, an episode of T steps gives the decision frames
 * t = 0, K, 2K, ... < T (ceil(T / K) of them) and one last frame of the
 * state the episode ended in (beside it the last decision's laws, and the
 * final return), so ceil(T / K) + 1 frames per episode.
 *
 * Files: an animated GIF (gnuplot's `gif animate` terminal) OUT.gif, with
 * its data in OUT_data/ (scene.dat: render_draw.h's shapes, one `index`
 * block per frame; laws.dat: `action return cdf` rows, one block per frame;
 * meta.gp: frame titles, chosen actions, returns so far, axes) and OUT.gp,
 * which redraws it; or, with frames_dir, PNG frames DIR/frame_00001.png ...
 * and the data in DIR/data/. Drawn by plots/render.gp.
 */
#ifndef BDRL_RENDER_H
#define BDRL_RENDER_H

#include <stdint.h>

#include "core/err.h"

/* Returned (instead of -1) when the input is at fault: a run that cannot be
 * loaded, a bad option. */
#define RENDER_BAD_INPUT (-2)
#define RENDER_MAX_EPISODES 1000

typedef struct {
    int episodes;            /* >= 1 */
    int seed_given;          /* 0: the trainer's evaluation seed (train_eval_seed), as `bdrl eval` */
    uint64_t seed;
    int every;               /* keep one decision frame in every (>= 1) */
    const char *gif;         /* OUT.gif, or NULL with frames_dir */
    const char *frames_dir;  /* PNG frames instead of a GIF */
    int delay;               /* GIF: hundredths of a second per frame */
    /* Called as gnuplot finishes each frame (may be NULL). */
    void (*progress)(void *ctx, int done, int total);
    void *progress_ctx;
} render_options;

/* One episode, 10 hundredths of a second a frame, every frame. */
void render_options_default(render_options *o);

typedef struct {
    int episodes;
    int frames;                           /* drawn */
    uint64_t seed;                        /* the base seed used */
    double ret[RENDER_MAX_EPISODES];      /* undiscounted returns */
    int length[RENDER_MAX_EPISODES];
    int success[RENDER_MAX_EPISODES];     /* env_step_success of the last step */
    char drawer[32];                      /* render_draw.h's drawer used */
} render_result;

/* Renders the greedy episodes of the run in run_dir. Returns 0,
 * RENDER_BAD_INPUT, or -1 (a runtime failure: gnuplot, files). */
int render_run(const char *run_dir, const render_options *o, render_result *res, bdrl_err *e);

/* The number of images in a GIF file (its image descriptors, found by
 * walking the blocks), or -1 with a message if it is not a well-formed GIF. */
int render_gif_frames(const char *path, bdrl_err *e);

#endif
