/* minatar_freeway.c — MinAtar's Freeway as `minatar-freeway`.
 *
 * Written for bdrl (MIT) from the behaviour of MinAtar 1.0.15's Freeway
 * (GPL-3.0), its code read as a specification and not translated
 * (minatar.h). The chicken walks up column 4 from row 9; car k drives along
 * row k + 1. A step:
 *
 *   1. up/down move the chicken only when its move timer reads 0, which
 *      then restarts at 3 (it starts at 3: no move in the first 3 steps);
 *   2. reaching row 0 scores +1, re-draws every car's speed and direction
 *      (positions kept) and puts the chicken back on row 9;
 *   3. each car in turn: if it is on the chicken's cell the chicken goes
 *      back to row 9; then, when its timer reads 0, the timer restarts at
 *      |speed| and the car moves one cell (wrapping around the board) and
 *      the same check is made; else its timer counts down;
 *   4. the move timer counts down to 0; the episode ends on step 2501 (a
 *      counter from 2500 that ends it once below 0).
 * Car speeds: randint(1, 6, 8) (cells per 1..5 steps) times the sign of
 * rand(8) - 0.5 (positive: rightwards). A draw of exactly 0.5 (odds 2^-53)
 * gives speed 0: a car that moves left every step and that MinAtar draws
 * no speed trail for (its observation would reuse the previous car's trail
 * channel, or fail on car 0); here such a car gets no trail. Cars start in
 * column 0. No difficulty ramping.
 */
#include "minatar.h"

#define FW_PLAYER_SPEED 3
#define FW_TIME_LIMIT 2500

typedef struct {
    int8_t x, timer, speed; /* speed: signed, |speed| in 1..5 (0: see above) */
} fw_car;

typedef struct {
    fw_car car[8];
    int8_t pos, move_timer;
    int16_t time_left;
} fw_state;

MINATAR_STATE(fw_state)

static void draw_cars(minatar *m, fw_state *s, int place)
{
    int64_t speed[8];
    double dir[8];
    np_random_randint_fill(&m->rng, 1, 6, speed, 8);
    np_random_sample_fill(&m->rng, dir, 8);
    for (int k = 0; k < 8; k++) {
        double d = dir[k] - 0.5;
        int v = d > 0 ? (int)speed[k] : d < 0 ? -(int)speed[k] : 0;
        if (place)
            s->car[k].x = 0;
        s->car[k].timer = (int8_t)(v < 0 ? -v : v);
        s->car[k].speed = (int8_t)v;
    }
}

static void fw_reset(minatar *m)
{
    fw_state *s = st(m);
    draw_cars(m, s, 1);
    s->pos = 9;
    s->move_timer = FW_PLAYER_SPEED;
    s->time_left = FW_TIME_LIMIT;
}

static int fw_act(minatar *m, int a, int *terminal)
{
    fw_state *s = st(m);
    int r = 0;
    if (a == MN_UP && s->move_timer == 0) {
        s->move_timer = FW_PLAYER_SPEED;
        if (s->pos > 0)
            s->pos--;
    } else if (a == MN_DOWN && s->move_timer == 0) {
        s->move_timer = FW_PLAYER_SPEED;
        if (s->pos < 9)
            s->pos++;
    }
    if (s->pos == 0) {
        r++;
        draw_cars(m, s, 0);
        s->pos = 9;
    }
    for (int k = 0; k < 8; k++) {
        fw_car *c = &s->car[k];
        if (c->x == 4 && k + 1 == s->pos)
            s->pos = 9;
        if (c->timer == 0) {
            c->timer = (int8_t)(c->speed < 0 ? -c->speed : c->speed);
            c->x = (int8_t)(c->x + (c->speed > 0 ? 1 : -1));
            if (c->x < 0)
                c->x = 9;
            else if (c->x > 9)
                c->x = 0;
            if (c->x == 4 && k + 1 == s->pos)
                s->pos = 9;
        } else {
            c->timer--;
        }
    }
    if (s->move_timer > 0)
        s->move_timer--;
    if (--s->time_left < 0)
        *terminal = 1;
    return r;
}

#define FW_C 7 /* channels */

enum { FW_CHICKEN, FW_CAR, FW_SPEED1 }; /* speed trails: channels 2..6 for |speed| 1..5 */

static void write_cells(minatar *m, minatar_out *o)
{
    fw_state *s = st(m);
    minatar_put(o, s->pos, 4, FW_C, FW_CHICKEN);
    for (int k = 0; k < 8; k++) {
        const fw_car *c = &s->car[k];
        minatar_put(o, k + 1, c->x, FW_C, FW_CAR);
        int back = c->x + (c->speed > 0 ? -1 : 1);
        back = back < 0 ? 9 : back > 9 ? 0 : back;
        int v = c->speed < 0 ? -c->speed : c->speed;
        if (v >= 1 && v <= 5)
            minatar_put(o, k + 1, back, FW_C, FW_SPEED1 + v - 1);
    }
}

MINATAR_OBSERVE(fw_observe, write_cells)

static const char *const FW_CHANNELS[7] = {"chicken", "car", "speed1", "speed2", "speed3", "speed4", "speed5"};
static const int FW_MINIMAL[3] = {MN_NOOP, MN_UP, MN_DOWN};

static const minatar_game FW_GAME = {
    "freeway", FW_C, FW_CHANNELS, 3, FW_MINIMAL, 0,
    "rules: +1 for each crossing to the top; a car sends the chicken back to the bottom; the chicken "
    "moves at most every 3 steps; the episode ends on step 2501 (terminated)",
    fw_reset, fw_act, fw_observe,
};

const env_class minatar_freeway_class =
    MINATAR_CLASS("minatar-freeway", "MinAtar/Freeway-v1",
                  "MinAtar Freeway: cross a road of cars; 10x10x7 cells, 3 actions (6 in full), ends at step 2501",
                  FW_GAME, FW_C);
