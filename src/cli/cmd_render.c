/* cmd_render.c — `bdrl render`: a trained run's greedy episodes as an
 * animated GIF (or PNG frames), the environment beside the agent's return
 * laws (src/research/render.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "research/render.h"
#include "cli/args.h"
#include "cli/cli.h"

static const args_opt opts[] = {
    {"episodes", 0, 1, "N", "greedy episodes, one after another (default 1)"},
    {"seed", 0, 1, "S", "base seed of the episodes (default: the trainer's evaluation seed, as bdrl eval)"},
    {"out", 'o', 1, "FILE.gif", "the animation (default RUN/episode.gif)"},
    {"frames", 0, 1, "DIR", "write PNG frames DIR/frame_00001.png ... instead of a GIF"},
    {"every", 0, 1, "K", "keep one decision frame in K (default 1; each episode's last state is always drawn)"},
};
static const args_spec spec = {
    "bdrl render RUN [--episodes N] [--seed S] [--out FILE.gif | --frames DIR] [--every K]",
    "Plays the greedy agent of RUN for N episodes (greedy on its Q values, or with\n"
    "agent.risk on that measure of each action's law, as 'bdrl eval' plays them) and\n"
    "draws them as an animated GIF:\n"
    "left, the environment (FrozenLake and CliffWalking grids with the agent's cell;\n"
    "CartPole's cart and pole, Acrobot's links, MountainCar's hill and car; a tabular\n"
    "plugin's state index); right, at every frame, the agent's return law from the\n"
    "current state for each action as a CDF (BD: the grid density; C51, quantile\n"
    "agents, DQN: their atoms), the greedy action's curve thick, and the return\n"
    "collected so far (undiscounted sum of rewards) as a dashed vertical line.\n"
    "Episode k is the k-th episode 'bdrl eval --seed S' plays (same reset seeds, same\n"
    "greedy actions). An episode of T steps gives ceil(T/K) + 1 frames: the decisions\n"
    "at steps 0, K, 2K, ... and the state it ended in.\n"
    "Writes FILE.gif, its data in FILE_data/ and FILE.gp (redraws it: gnuplot FILE.gp);\n"
    "with --frames, DIR/frame_NNNNN.png (earlier frames there are removed) and the data\n"
    "in DIR/data/. Prints one line per episode (return, steps, success). A progress bar\n"
    "goes to stderr when it is a terminal.",
    opts, (int)(sizeof opts / sizeof *opts), 0,
};

static void progress(void *ctx, int done, int total)
{
    (void)ctx;
    int width = 40, fill = total > 0 ? (int)((long)width * done / total) : width;
    fprintf(stderr, "\rrender [%.*s%*s] %d/%d frames", fill, "########################################",
            width - fill, "", done, total);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

int cmd_render(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse_one(&spec, argc, argv, &a, "bdrl render", "one RUN directory");
    if (rc >= 0)
        return rc;
    render_options o;
    render_options_default(&o);
    long long v;
    const char *t;
    if ((t = args_get(&spec, &a, "episodes"))) {
        if (args_int("--episodes", t, 1, RENDER_MAX_EPISODES, &v))
            return 2;
        o.episodes = (int)v;
    }
    if ((t = args_get(&spec, &a, "seed"))) {
        if (args_int("--seed", t, 0, 9007199254740991LL, &v))
            return 2;
        o.seed = (uint64_t)v;
        o.seed_given = 1;
    }
    if ((t = args_get(&spec, &a, "every"))) {
        if (args_int("--every", t, 1, 1000000000, &v))
            return 2;
        o.every = (int)v;
    }
    const char *out = args_get(&spec, &a, "out");
    o.frames_dir = args_get(&spec, &a, "frames");
    if (out && o.frames_dir) {
        fprintf(stderr, "bdrl render: --out and --frames exclude each other (a GIF or PNG frames)\n");
        return 2;
    }
    char def[4200];
    if (!out && !o.frames_dir) {
        snprintf(def, sizeof def, "%s/episode.gif", a.pos[0]);
        out = def;
    }
    o.gif = o.frames_dir ? NULL : out;
    if (isatty(fileno(stderr)))
        o.progress = progress;
    render_result *res = malloc(sizeof *res);
    if (!res) {
        fprintf(stderr, "bdrl: out of memory\n");
        return 1;
    }
    bdrl_err e;
    rc = render_run(a.pos[0], &o, res, &e);
    if (rc) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        free(res);
        return rc == RENDER_BAD_INPUT ? 2 : 1;
    }
    for (int k = 0; k < res->episodes; k++)
        printf("episode %d: return %.6g over %d steps%s\n", k + 1, res->ret[k], res->length[k],
               res->success[k] ? ", success" : "");
    printf("%d frames (seed %llu, drawn as %s): %s\n", res->frames, (unsigned long long)res->seed, res->drawer,
           o.gif ? o.gif : o.frames_dir);
    free(res);
    return 0;
}
