/* minatar_breakout.c — MinAtar's Breakout as `minatar-breakout`.
 *
 * Written for bdrl (MIT) from the behaviour of MinAtar 1.0.15's Breakout
 * (GPL-3.0), its code read as a specification and not translated
 * (minatar.h). The ball moves one cell diagonally per step; directions 0..3
 * are up-left, up-right, down-right, down-left. A step:
 *
 *   1. the paddle (row 9) moves left/right within 0..9;
 *   2. the ball's next cell: off a side wall it is clamped and the
 *      horizontal direction flips; then, above the top it is clamped to row
 *      0 and the vertical direction flips; else, on a brick: if the ball
 *      did not hit a brick on the previous step, the brick breaks (+1), the
 *      ball stays in its row and the vertical direction flips — but right
 *      after a hit it passes into the brick's cell without breaking it
 *      (the "strike" flag, cleared by any step that meets no brick); else,
 *      reaching row 9: the 3 rows of bricks come back if none is left, and
 *      the ball bounces if the paddle is under its old column (straight
 *      back up) or its new one (sideways), or the episode ends with the
 *      ball in row 9;
 *   3. reset draws randint(2): the ball starts at (3, 0) going down-right
 *      or at (3, 9) going down-left.
 * No difficulty ramping.
 */
#include "minatar.h"

#define BK_ROW_FULL 0x3ffu

typedef struct {
    int8_t ball_x, ball_y, dir, paddle, last_x, last_y;
    uint8_t strike;
    uint16_t bricks[10]; /* bit x of row y */
} bk_state;

MINATAR_STATE(bk_state)

static void bk_reset(minatar *m)
{
    bk_state *s = st(m);
    s->ball_y = 3;
    if (np_random_randint(&m->rng, 0, 2)) {
        s->ball_x = 9;
        s->dir = 3;
    } else {
        s->ball_x = 0;
        s->dir = 2;
    }
    s->paddle = 4;
    for (int y = 1; y <= 3; y++)
        s->bricks[y] = BK_ROW_FULL;
    s->strike = 0;
    s->last_x = s->ball_x;
    s->last_y = s->ball_y;
}

static int bk_act(minatar *m, int a, int *terminal)
{
    bk_state *s = st(m);
    int r = 0;
    if (a == MN_LEFT && s->paddle > 0)
        s->paddle--;
    else if (a == MN_RIGHT && s->paddle < 9)
        s->paddle++;
    s->last_x = s->ball_x;
    s->last_y = s->ball_y;
    int dir = s->dir;
    int nx = s->ball_x + (dir == 1 || dir == 2 ? 1 : -1);
    int ny = s->ball_y + (dir >= 2 ? 1 : -1);
    int hit_brick = 0;
    if (nx < 0 || nx > 9) {
        nx = nx < 0 ? 0 : 9;
        dir ^= 1; /* mirror left-right */
    }
    if (ny < 0) {
        ny = 0;
        dir = 3 - dir; /* mirror up-down */
    } else if (s->bricks[ny] >> nx & 1u) {
        hit_brick = 1;
        if (!s->strike) {
            r++;
            s->strike = 1;
            s->bricks[ny] &= (uint16_t)~(1u << nx);
            ny = s->last_y;
            dir = 3 - dir;
        }
    } else if (ny == 9) {
        int any = 0;
        for (int y = 0; y < 10; y++)
            any |= s->bricks[y];
        if (!any)
            for (int y = 1; y <= 3; y++)
                s->bricks[y] = BK_ROW_FULL;
        if (s->ball_x == s->paddle) {
            dir = 3 - dir;
            ny = s->last_y;
        } else if (nx == s->paddle) {
            dir ^= 2; /* back up, the other way sideways */
            ny = s->last_y;
        } else {
            *terminal = 1;
        }
    }
    if (!hit_brick)
        s->strike = 0;
    s->dir = (int8_t)dir;
    s->ball_x = (int8_t)nx;
    s->ball_y = (int8_t)ny;
    return r;
}

#define BK_C 4 /* channels */

enum { BK_PADDLE, BK_BALL, BK_TRAIL, BK_BRICK };

static void write_cells(minatar *m, minatar_out *o)
{
    bk_state *s = st(m);
    minatar_put(o, s->ball_y, s->ball_x, BK_C, BK_BALL);
    minatar_put(o, 9, s->paddle, BK_C, BK_PADDLE);
    minatar_put(o, s->last_y, s->last_x, BK_C, BK_TRAIL);
    for (int y = 0; y < 10; y++)
        for (unsigned row = s->bricks[y]; row; row &= row - 1)
            minatar_put(o, y, __builtin_ctz(row), BK_C, BK_BRICK);
}

MINATAR_OBSERVE(bk_observe, write_cells)

static const char *const BK_CHANNELS[4] = {"paddle", "ball", "trail", "brick"};
static const int BK_MINIMAL[3] = {MN_NOOP, MN_LEFT, MN_RIGHT};

static const minatar_game BK_GAME = {
    "breakout", BK_C, BK_CHANNELS, 3, BK_MINIMAL, 0,
    "rules: +1 per brick; the 3 rows of bricks return once cleared; the episode ends when the ball "
    "reaches the bottom row away from the paddle",
    bk_reset, bk_act, bk_observe,
};

const env_class minatar_breakout_class =
    MINATAR_CLASS("minatar-breakout", "MinAtar/Breakout-v1",
                  "MinAtar Breakout: break bricks with a bouncing ball; 10x10x4 cells, 3 actions (6 in full)", BK_GAME,
                  BK_C);
