/* minatar.h — private to src/envs: what MinAtar's five games share with the
 * wrapper that makes each an environment (minatar.c), and what each game
 * file (minatar_asterix.c, minatar_breakout.c, minatar_freeway.c,
 * minatar_seaquest.c, minatar_space_invaders.c) provides.
 *
 * The games behave as MinAtar 1.0.15 (Young & Tian, kenjyoung/MinAtar,
 * GPL-3.0) does, step for step and draw for draw: they were written for bdrl
 * (MIT) from that behaviour, with MinAtar's code, its documentation and
 * gymnax's Apache-2.0 re-implementation read as a specification, not
 * translated; no MinAtar code is in bdrl. tests/ref/minatar_ref.py runs the
 * real MinAtar to produce the reference data the tests replay.
 *
 * The wrapper (MinAtar's Environment and its Gymnasium BaseEnv):
 *   - every step first draws rand() from the game's generator and, if it is
 *     below env.sticky_action_prob, repeats the previous (full-set) action
 *     instead of the one given; the previous action starts at 0 (noop) when
 *     the env is created and, as in MinAtar, is not reset by a reset;
 *   - agent actions index the game's minimal action set (MinAtar/NAME-v1),
 *     or the full set of 6 (noop, left, up, right, down, fire: -v0) when
 *     env.minimal_actions is false;
 *   - env_reset with a seed is RandomState(seed) then the game's reset; only
 *     the seed's low 32 bits count (numpy refuses seeds of 2^32 and more).
 *     Before the first seeded reset the generator is RandomState(0);
 *   - the observation is the game's 10x10xC boolean array as floats, in C
 *     order: index (y * 10 + x) * C + c.
 *
 * Ownership: the env owns its minatar block (minatar_init allocates it,
 * minatar_release frees it) and the game state inside it.
 */
#ifndef BDRL_MINATAR_H
#define BDRL_MINATAR_H

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "env_impl.h"

#include "../core/np_random.h"

/* MinAtar's full action set, in its order. */
enum { MN_NOOP = 0, MN_LEFT = 1, MN_UP = 2, MN_RIGHT = 3, MN_DOWN = 4, MN_FIRE = 5, MN_N_FULL = 6 };

/* bdrl's time limit for the games (MinAtar has none; env.h's
 * reference_unlimited). A policy that idles at Seaquest's surface never
 * ends otherwise. */
#define MINATAR_MAX_STEPS 10000

/* Room for the game state of the largest game (Seaquest's lists). */
#define MINATAR_STATE_BYTES 2048

/* The observation being written: ones go into obs, their indices into on
 * (n so far), for the wrapper to clear them before the next one. A local
 * variable in the game's observe, so that n stays in a register. */
typedef struct {
    float *obs;
    uint16_t *on;
    int n;
} minatar_out;

/* In a game file: NAME, a minatar_game observe, from WRITE(minatar *m,
 * minatar_out *o), which puts the ones; the minatar_out is NAME's local,
 * so that its count stays in a register once WRITE is inlined (through a
 * caller's pointer it would be stored and reloaded at every put). */
#define MINATAR_OBSERVE(NAME, WRITE)                                                              \
    static int NAME(minatar *m, float *obs, uint16_t *on)                                         \
    {                                                                                             \
        minatar_out o = {obs, on, 0};                                                             \
        WRITE(m, &o);                                                                             \
        return o.n;                                                                               \
    }

/* One game: its channels, minimal action set and the three things it does.
 * A game keeps its state in the minatar block's `state` bytes, as its own
 * struct (MINATAR_STATE). */
typedef struct {
    const char *name;                 /* "asterix" */
    int channels;                     /* C */
    const char *const *channel_names; /* C of them, MinAtar's names, for `bdrl env info` */
    int n_minimal;
    const int *minimal;               /* full-set indices of the minimal set, MinAtar's order */
    int ramps;                        /* honours difficulty ramping */
    const char *rules;                /* a paragraph for `bdrl env info` */
    /* Starts an episode (from zeroed state bytes), drawing what MinAtar's
     * reset draws. */
    void (*reset)(minatar *m);
    /* One step with a full-set action; returns the reward, sets *terminal. */
    int (*act)(minatar *m, int action, int *terminal);
    /* Writes the observation's ones into obs (all zeros: the wrapper
     * cleared the previous ones) and their indices into on; returns how
     * many (MINATAR_OBSERVE). */
    int (*observe)(minatar *m, float *obs, uint16_t *on);
} minatar_game;

struct minatar {
    const minatar_game *g;
    np_random rng;           /* MinAtar's RandomState, shared by the sticky draw and the game */
    double sticky;           /* env.sticky_action_prob */
    int ramping;             /* env.difficulty_ramping */
    int last_action;         /* full-set action of the last step */
    int action_set[MN_N_FULL];      /* agent action -> full-set action */
    const char *action_names[MN_N_FULL];
    float *obs;              /* the env's observation buffer (100 * C floats) */
    int n_on;                /* cells set to 1 in obs, listed in on[] to clear them cheaply */
    uint16_t on[ENV_OBS_MAX];
    _Alignas(16) unsigned char state[MINATAR_STATE_BYTES];
};

/* In a game file: TYPE is the game's state, kept in the minatar block's
 * state bytes (zeroed by the wrapper before each reset); st(m) gives it. */
#define MINATAR_STATE(TYPE)                                                                      \
    _Static_assert(sizeof(TYPE) <= MINATAR_STATE_BYTES, #TYPE " fits the minatar block");         \
    static TYPE *st(minatar *m) { return (TYPE *)(void *)m->state; }

/* Sets cell (y, x, c) of a 10x10xC observation to 1 (C: the game's
 * constant, so that the index folds). */
static inline void minatar_put(minatar_out *o, int y, int x, int C, int c)
{
    assert(y >= 0 && y < 10 && x >= 0 && x < 10 && c >= 0 && c < C);
    int i = (y * 10 + x) * C + c;
    if (o->obs[i] == 0.0f) {
        o->obs[i] = 1.0f;
        o->on[o->n++] = (uint16_t)i;
    }
}

/* The number of ones in a row of 10 cells (bits 0..9), without a popcount
 * instruction (the build targets baseline x86-64, where __builtin_popcount
 * is a library call). */
static inline int minatar_count10(unsigned v)
{
    v = v - ((v >> 1) & 0x155u);
    v = (v & 0x333u) + ((v >> 2) & 0x333u);
    v = (v + (v >> 4)) & 0x30fu;
    return (int)((v & 0xffu) + (v >> 8));
}

/* The class operations every game shares (minatar.c). */
int minatar_init(env *e, const env_config *c, bdrl_err *err);
void minatar_release(env *e);
void minatar_seed(env *e, uint64_t seed);
void minatar_reset(env *e);
void minatar_step(env *e, int action, env_step *out);
int minatar_success(const env *e, const env_step *st);
void minatar_describe(const env *e, const env_config *c, FILE *f);
/* The carry (env.h): the full-set index of the last step's action. */
int minatar_get_carry(const env *e);
void minatar_set_carry(env *e, int carry);

/* One game's env_class: GAME is its minatar_game, C its channels. */
#define MINATAR_CLASS(NAME, GYM_ID, SUMMARY, GAME, C)                                            \
    {                                                                                             \
        .info = {NAME, GYM_ID, SUMMARY, NULL, "(none)", MINATAR_MAX_STEPS, 0, INFINITY, 0, 0,     \
                 NULL, NULL, .obs_shape = {10, 10, C}, .seed_bits = 32, .game_options = 1,        \
                 .reference_unlimited = 1, .obs_binary = 1},                                      \
        .impl = &(GAME), .init = minatar_init, .release = minatar_release, .seed = minatar_seed,  \
        .reset = minatar_reset, .step = minatar_step, .success = minatar_success,                \
        .describe = minatar_describe, .carry_values = MN_N_FULL, .get_carry = minatar_get_carry,  \
        .set_carry = minatar_set_carry,                                                           \
    }

#endif
