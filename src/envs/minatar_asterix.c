/* minatar_asterix.c — MinAtar's Asterix as `minatar-asterix`.
 *
 * Written for bdrl (MIT) from the behaviour of MinAtar 1.0.15's Asterix
 * (GPL-3.0), its code read as a specification and not translated
 * (minatar.h). The rules, in the order a step applies them:
 *
 *   1. when the spawn timer reads 0: draw left/right (rand() < 1/2) and
 *      gold (rand() < 1/3) — both drawn even when all 8 rows are taken and
 *      nothing spawns — then the row, uniform over the free rows
 *      (randint(n): no draw when one row is free); the timer restarts at
 *      the spawn interval;
 *   2. the player moves (left/right within 0..9, up/down within rows 1..8);
 *   3. every entity on the player's cell: gold is taken (+1, removed), an
 *      enemy ends the episode (the step still runs to its end, so gold taken
 *      later in it still counts);
 *   4. when the move timer reads 0 it restarts at the move interval and
 *      every entity moves one cell its way (left the board: removed), then
 *      the same contact check (an entity and the player swapping cells do
 *      not meet);
 *   5. both timers count down; with ramping, while either interval is above
 *      1, a ramp counter runs from 100 down to -1 and then speeds the game
 *      up (spawn interval - 1, move interval - 1 on odd ramp levels) and
 *      restarts: a ramp every 102 steps.
 */
#include "minatar.h"

#define AX_RAMP_INTERVAL 100
#define AX_SPAWN_INTERVAL 10
#define AX_MOVE_INTERVAL 5

typedef struct {
    int8_t x;     /* column */
    uint8_t right; /* moving right (spawned on the left) */
    uint8_t gold;
    uint8_t live;
} ax_entity;

typedef struct {
    int8_t px, py;
    ax_entity ent[8]; /* entity k lives in row k + 1 */
    int spawn_interval, spawn_timer, move_interval, move_timer, ramp_timer, ramp_level;
} ax_state;

MINATAR_STATE(ax_state)

static void ax_reset(minatar *m)
{
    ax_state *s = st(m);
    s->px = 5;
    s->py = 5;
    s->spawn_interval = s->spawn_timer = AX_SPAWN_INTERVAL;
    s->move_interval = s->move_timer = AX_MOVE_INTERVAL;
    s->ramp_timer = AX_RAMP_INTERVAL;
    s->ramp_level = 0;
}

static void spawn(minatar *m, ax_state *s)
{
    int right = np_random_sample(&m->rng) < 0.5;
    int gold = np_random_sample(&m->rng) < 1.0 / 3.0;
    int free_rows[8], n = 0;
    for (int k = 0; k < 8; k++)
        if (!s->ent[k].live)
            free_rows[n++] = k;
    if (n == 0)
        return;
    int k = free_rows[np_random_randint(&m->rng, 0, n)];
    s->ent[k] = (ax_entity){(int8_t)(right ? 0 : 9), (uint8_t)right, (uint8_t)gold, 1};
}

/* Contact of live entity k with the player: gold is taken, an enemy ends
 * the episode. */
static int touch(ax_state *s, int k, int *terminal)
{
    ax_entity *en = &s->ent[k];
    if (!en->live || en->x != s->px || k + 1 != s->py)
        return 0;
    if (en->gold) {
        en->live = 0;
        return 1;
    }
    *terminal = 1;
    return 0;
}

static int ax_act(minatar *m, int a, int *terminal)
{
    ax_state *s = st(m);
    int r = 0;
    if (s->spawn_timer == 0) {
        spawn(m, s);
        s->spawn_timer = s->spawn_interval;
    }
    if (a == MN_LEFT && s->px > 0)
        s->px--;
    else if (a == MN_RIGHT && s->px < 9)
        s->px++;
    else if (a == MN_UP && s->py > 1)
        s->py--;
    else if (a == MN_DOWN && s->py < 8)
        s->py++;
    for (int k = 0; k < 8; k++)
        r += touch(s, k, terminal);
    if (s->move_timer == 0) {
        s->move_timer = s->move_interval;
        for (int k = 0; k < 8; k++) {
            ax_entity *en = &s->ent[k];
            if (!en->live)
                continue;
            en->x = (int8_t)(en->x + (en->right ? 1 : -1));
            if (en->x < 0 || en->x > 9)
                en->live = 0;
            r += touch(s, k, terminal);
        }
    }
    s->spawn_timer--;
    s->move_timer--;
    if (m->ramping && (s->spawn_interval > 1 || s->move_interval > 1)) {
        if (s->ramp_timer >= 0) {
            s->ramp_timer--;
        } else {
            if (s->move_interval > 1 && s->ramp_level % 2)
                s->move_interval--;
            if (s->spawn_interval > 1)
                s->spawn_interval--;
            s->ramp_level++;
            s->ramp_timer = AX_RAMP_INTERVAL;
        }
    }
    return r;
}

#define AX_C 4 /* channels */

enum { AX_PLAYER, AX_ENEMY, AX_TRAIL, AX_GOLD };

static void write_cells(minatar *m, minatar_out *o)
{
    ax_state *s = st(m);
    minatar_put(o, s->py, s->px, AX_C, AX_PLAYER);
    for (int k = 0; k < 8; k++) {
        const ax_entity *en = &s->ent[k];
        if (!en->live)
            continue;
        minatar_put(o, k + 1, en->x, AX_C, en->gold ? AX_GOLD : AX_ENEMY);
        int back = en->x + (en->right ? -1 : 1);
        if (back >= 0 && back <= 9)
            minatar_put(o, k + 1, back, AX_C, AX_TRAIL);
    }
}

MINATAR_OBSERVE(ax_observe, write_cells)

static const char *const AX_CHANNELS[4] = {"player", "enemy", "trail", "gold"};
static const int AX_MINIMAL[5] = {MN_NOOP, MN_LEFT, MN_UP, MN_RIGHT, MN_DOWN};

static const minatar_game AX_GAME = {
    "asterix", AX_C, AX_CHANNELS, 5, AX_MINIMAL, 1,
    "rules: move in rows 1-8; enemies and gold cross the rows (one per row); +1 for gold, an enemy ends "
    "the episode; spawning and movement speed up every 102 steps when ramping",
    ax_reset, ax_act, ax_observe,
};

const env_class minatar_asterix_class =
    MINATAR_CLASS("minatar-asterix", "MinAtar/Asterix-v1",
                  "MinAtar Asterix: collect gold, dodge enemies; 10x10x4 cells, 5 actions (6 in full)", AX_GAME, AX_C);
