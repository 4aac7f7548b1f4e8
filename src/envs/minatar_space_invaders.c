/* minatar_space_invaders.c — MinAtar's Space Invaders as
 * `minatar-space_invaders`.
 *
 * Written for bdrl (MIT) from the behaviour of MinAtar 1.0.15's Space
 * Invaders (GPL-3.0), its code read as a specification and not translated
 * (minatar.h). The board is three 10x10 bit maps (aliens, the cannon's
 * bullets, the aliens' bullets), one 10-bit word per row. A step:
 *
 *   1. fire (when the cool-down reads 0: a bullet on row 9 above the
 *      cannon, cool-down 5), or move left/right within 0..9;
 *   2. the cannon's bullets move up a row (row 0's leave), the aliens'
 *      bullets down a row (row 9's leave); an alien bullet now on the
 *      cannon, or an alien on the cannon's cell, ends the episode;
 *   3. when the alien timer reads 0 it restarts at min(aliens left, move
 *      interval) and the aliens move: if any touches the wall they head
 *      for, they turn round and drop a row — the whole map rolls down, so
 *      aliens on row 9 wrap to row 0, and the episode ends if there were
 *      any — else they shift a column; then an alien on the cannon's cell
 *      ends the episode;
 *   4. when the shot timer reads 0 it restarts at 10 and the lowest alien of
 *      the column nearest the cannon (ties: the left one) drops a bullet on
 *      its own cell;
 *   5. bullets and aliens on the same cell both vanish, +1 each;
 *   6. timers count down; a cleared wave comes back as 4x6 aliens (rows
 *      0-3, columns 2-7) keeping the direction and timers, with ramping the
 *      move interval (from 12) drops by 1 per wave while above 6.
 */
#include "minatar.h"

#define SI_SHOT_COOL_DOWN 5
#define SI_MOVE_INTERVAL 12
#define SI_SHOT_INTERVAL 10
#define SI_WAVE_ROW 0xfcu /* columns 2..7 */
#define SI_LEFT_COL 0x001u
#define SI_RIGHT_COL 0x200u
#define SI_ROW_MASK 0x3ffu

typedef struct {
    uint16_t alien[10], shot[10], bomb[10]; /* bit x of row y: aliens, cannon bullets, alien bullets */
    int8_t pos, dir;                        /* cannon column; aliens heading -1 left, +1 right */
    int move_interval, move_timer, shot_timer, cool_down, ramp_level;
} si_state;

MINATAR_STATE(si_state)

static void new_wave(si_state *s)
{
    for (int y = 0; y < 4; y++)
        s->alien[y] = SI_WAVE_ROW;
}

static int count_aliens(const si_state *s)
{
    int n = 0;
    for (int y = 0; y < 10; y++)
        n += minatar_count10(s->alien[y]);
    return n;
}

static void si_reset(minatar *m)
{
    si_state *s = st(m);
    s->pos = 5;
    new_wave(s);
    s->dir = -1;
    s->move_interval = s->move_timer = SI_MOVE_INTERVAL;
    s->shot_timer = SI_SHOT_INTERVAL;
    s->ramp_level = 0;
    s->cool_down = 0;
}

static void move_aliens(si_state *s, int *terminal)
{
    unsigned cols = 0;
    for (int y = 0; y < 10; y++)
        cols |= s->alien[y];
    if (((cols & SI_LEFT_COL) && s->dir < 0) || ((cols & SI_RIGHT_COL) && s->dir > 0)) {
        s->dir = (int8_t)-s->dir;
        if (s->alien[9])
            *terminal = 1;
        uint16_t wrap = s->alien[9];
        memmove(s->alien + 1, s->alien, 9 * sizeof s->alien[0]);
        s->alien[0] = wrap;
    } else {
        /* a roll along the row (the wall test above keeps it from wrapping) */
        for (int y = 0; y < 10; y++) {
            unsigned r = s->alien[y];
            r = s->dir < 0 ? (r >> 1 | (r & 1u) << 9) : ((r << 1 | r >> 9) & SI_ROW_MASK);
            s->alien[y] = (uint16_t)r;
        }
    }
}

/* The lowest alien of the column nearest the cannon drops a bullet. */
static void alien_fires(si_state *s)
{
    for (int d = 0; d < 10; d++)
        for (int side = -1; side <= 1; side += 2) {
            int x = s->pos + side * d;
            if (x < 0 || x > 9 || (d == 0 && side > 0))
                continue;
            for (int y = 9; y >= 0; y--)
                if (s->alien[y] >> x & 1u) {
                    s->bomb[y] |= (uint16_t)(1u << x);
                    return;
                }
        }
}

static int si_act(minatar *m, int a, int *terminal)
{
    si_state *s = st(m);
    int r = 0;
    if (a == MN_FIRE && s->cool_down == 0) {
        s->shot[9] |= (uint16_t)(1u << s->pos);
        s->cool_down = SI_SHOT_COOL_DOWN;
    } else if (a == MN_LEFT && s->pos > 0) {
        s->pos--;
    } else if (a == MN_RIGHT && s->pos < 9) {
        s->pos++;
    }
    const unsigned at = 1u << s->pos;
    memmove(s->shot, s->shot + 1, 9 * sizeof s->shot[0]);
    s->shot[9] = 0;
    memmove(s->bomb + 1, s->bomb, 9 * sizeof s->bomb[0]);
    s->bomb[0] = 0;
    if (s->bomb[9] & at)
        *terminal = 1;
    if (s->alien[9] & at)
        *terminal = 1;
    if (s->move_timer == 0) {
        int n = count_aliens(s);
        s->move_timer = n < s->move_interval ? n : s->move_interval;
        move_aliens(s, terminal);
        if (s->alien[9] & at)
            *terminal = 1;
    }
    if (s->shot_timer == 0) {
        s->shot_timer = SI_SHOT_INTERVAL;
        alien_fires(s);
    }
    for (int y = 0; y < 10; y++) {
        unsigned hit = s->alien[y] & s->shot[y];
        if (hit) {
            r += minatar_count10(hit);
            s->alien[y] &= (uint16_t)~hit;
            s->shot[y] &= (uint16_t)~hit;
        }
    }
    if (s->cool_down > 0)
        s->cool_down--;
    s->move_timer--;
    s->shot_timer--;
    if (count_aliens(s) == 0) {
        if (s->move_interval > 6 && m->ramping) {
            s->move_interval--;
            s->ramp_level++;
        }
        new_wave(s);
    }
    return r;
}

#define SI_C 6 /* channels */

enum { SI_CANNON, SI_ALIEN, SI_ALIEN_LEFT, SI_ALIEN_RIGHT, SI_SHOT, SI_BOMB };

static void write_cells(minatar *m, minatar_out *o)
{
    si_state *s = st(m);
    minatar_put(o, 9, s->pos, SI_C, SI_CANNON);
    const int heading = s->dir < 0 ? SI_ALIEN_LEFT : SI_ALIEN_RIGHT;
    for (int y = 0; y < 10; y++) {
        for (unsigned row = s->alien[y]; row; row &= row - 1) {
            int x = __builtin_ctz(row);
            minatar_put(o, y, x, SI_C, SI_ALIEN);
            minatar_put(o, y, x, SI_C, heading);
        }
        for (unsigned row = s->shot[y]; row; row &= row - 1)
            minatar_put(o, y, __builtin_ctz(row), SI_C, SI_SHOT);
        for (unsigned row = s->bomb[y]; row; row &= row - 1)
            minatar_put(o, y, __builtin_ctz(row), SI_C, SI_BOMB);
    }
}

MINATAR_OBSERVE(si_observe, write_cells)

static const char *const SI_CHANNELS[6] = {"cannon",          "alien",        "alien_left",
                                           "alien_right",     "friendly_bullet", "enemy_bullet"};
static const int SI_MINIMAL[4] = {MN_NOOP, MN_LEFT, MN_RIGHT, MN_FIRE};

static const minatar_game SI_GAME = {
    "space_invaders", SI_C, SI_CHANNELS, 4, SI_MINIMAL, 1,
    "rules: +1 per alien shot; an alien or an alien bullet on the cannon, or aliens turning at the "
    "bottom row, end the episode; aliens speed up as they thin out and, when ramping, with each wave",
    si_reset, si_act, si_observe,
};

const env_class minatar_space_invaders_class =
    MINATAR_CLASS("minatar-space_invaders", "MinAtar/SpaceInvaders-v1",
                  "MinAtar Space Invaders: shoot the descending aliens; 10x10x6 cells, 4 actions (6 in full)",
                  SI_GAME, SI_C);
