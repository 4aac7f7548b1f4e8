/* minatar_seaquest.c — MinAtar's Seaquest as `minatar-seaquest`.
 *
 * Written for bdrl (MIT) from the behaviour of MinAtar 1.0.15's Seaquest
 * (GPL-3.0), its code read as a specification and not translated
 * (minatar.h). MinAtar keeps bullets, fish, enemy subs and divers in Python
 * lists that it walks backwards while removing from them by value (the
 * first equal entry, which need not be the one in hand), and some entries
 * are then met twice or skipped. The lists here are arrays with the same
 * order and the same rules (remove_equal, the backward walk in FOR_BACK),
 * so those cases play out as in MinAtar without being special-cased. A
 * step:
 *
 *   1. spawns: an enemy when its timer reads 0 (rand() < 1/2: from the left
 *      going right; rand() < 1/3: a sub, else a fish; row randint(1, 9);
 *      nothing, draws spent, if an enemy in that row heads the other way),
 *      a diver every 30 steps (direction, row); timers restart;
 *   2. fire (when the cool-down reads 0; cool-down 5), or move: left/right
 *      turn the sub, up to row 0 (the surface), down to row 8;
 *   3. the sub's bullets move; off the board they go, on a fish (first) or
 *      a sub both go, +1;
 *   4. divers: one on the sub's cell is picked up while fewer than 6 are on
 *      board; else it moves every 6 steps (and may be picked up there);
 *   5. enemy subs: contact ends the episode; each moves every move
 *      interval + 1 steps and is then checked for contact and bullets; every
 *      11 steps each fires a bullet from its cell — even a sub that has just
 *      left the board or been shot in this very loop;
 *   6. enemy bullets (contact before and after moving ends the episode),
 *      then fish as subs but without firing;
 *   7. timers; oxygen at 0 ends the episode; below the surface oxygen drops
 *      by 1; arriving at the surface with no diver ends the episode, else
 *      with 6 divers scores oxygen * 10 // 200 and empties the sub — and in
 *      every case one diver is then taken off, so after a full load the
 *      count is -1 and the sub may surface again without divers, going to
 *      -2 and so on (the gauge shows none while negative); oxygen refills
 *      and, with ramping, enemies spawn and (every other time) move faster.
 */
#include "minatar.h"

#define SQ_MAX_OXYGEN 200
#define SQ_SPAWN_INTERVAL 20
#define SQ_DIVER_INTERVAL 30
#define SQ_MOVE_INTERVAL 5
#define SQ_SHOT_COOL_DOWN 5
#define SQ_ENEMY_SHOT_INTERVAL 10
#define SQ_DIVER_MOVE_INTERVAL 5

/* One list entry: bullets use x, y, right; fish and divers add their move
 * timer; subs their shot timer too. Unused fields stay 0, so entries of one
 * list compare equal exactly when MinAtar's would. */
typedef struct {
    int8_t x, y, right, timer, shot;
} sq_item;

/* List capacities. An enemy lives at most 59 steps (10 moves, one per at
 * most 6 steps) and at most one spawns per step; an enemy bullet at most 10
 * steps, one per sub per 11 steps (plus those fired in the step being
 * played); a sub's bullet one per 5 steps for at most 10; a diver one per
 * 30 steps for at most 59. */
#define SQ_CAP_ENEMY 64
#define SQ_CAP_EBULLET 160
#define SQ_CAP_SMALL 8

typedef struct {
    int n_bullets, n_ebullets, n_fish, n_subs, n_divers;
    sq_item bullets[SQ_CAP_SMALL], ebullets[SQ_CAP_EBULLET], fish[SQ_CAP_ENEMY], subs[SQ_CAP_ENEMY],
        divers[SQ_CAP_SMALL];
    int oxygen, divers_on_board, sub_x, sub_y, facing_right;
    int spawn_interval, spawn_timer, diver_timer, move_interval, ramp_level, cool_down, surfaced;
} sq_state;

MINATAR_STATE(sq_state)

static int same(const sq_item *a, const sq_item *b)
{
    return a->x == b->x && a->y == b->y && a->right == b->right && a->timer == b->timer && a->shot == b->shot;
}

static void push(sq_item *list, int *n, int cap, sq_item v)
{
    assert(*n < cap); /* the bounds above */
    (void)cap;
    list[(*n)++] = v;
}

/* Removes the first entry equal to v; returns its index. */
static int remove_equal(sq_item *list, int *n, sq_item v)
{
    for (int k = 0; k < *n; k++)
        if (same(&list[k], &v)) {
            memmove(list + k, list + k + 1, sizeof *list * (size_t)(*n - k - 1));
            (*n)--;
            return k;
        }
    assert(0 && "removing an entry that is not in the list");
    return -1;
}

/* The entry in hand during a backward walk: a copy, and where it sits in
 * the list (-1 once removed), kept in step with removals before it. */
typedef struct {
    sq_item v;
    int at;
} sq_hand;

static void hand_write(sq_item *list, const sq_hand *h)
{
    if (h->at >= 0)
        list[h->at] = h->v;
}

static void hand_remove(sq_item *list, int *n, sq_hand *h)
{
    int k = remove_equal(list, n, h->v);
    if (k == h->at)
        h->at = -1;
    else if (k < h->at)
        h->at--;
}

/* A backward walk over list[0..*n) as Python's reversed() makes it: the
 * next index is one below the last, read only while inside the list as it
 * is then (an index past the end stops the walk). */
#define FOR_BACK(i, n) for (int it_ = (n) - 1, i; it_ >= 0 && it_ < (n) && ((i = it_--), 1);)

static int at_sub(const sq_state *s, const sq_item *v) { return v->x == s->sub_x && v->y == s->sub_y; }

static void step_x(sq_item *v) { v->x = (int8_t)(v->x + (v->right ? 1 : -1)); }

static int off_board(const sq_item *v) { return v->x < 0 || v->x > 9; }

static void sq_reset(minatar *m)
{
    sq_state *s = st(m);
    s->oxygen = SQ_MAX_OXYGEN;
    s->divers_on_board = 0;
    s->sub_x = 5;
    s->sub_y = 0;
    s->facing_right = 0;
    s->spawn_interval = s->spawn_timer = SQ_SPAWN_INTERVAL;
    s->diver_timer = SQ_DIVER_INTERVAL;
    s->move_interval = SQ_MOVE_INTERVAL;
    s->ramp_level = 0;
    s->cool_down = 0;
    s->surfaced = 1;
}

static void spawn_enemy(minatar *m, sq_state *s)
{
    int right = np_random_sample(&m->rng) < 0.5;
    int is_sub = np_random_sample(&m->rng) < 1.0 / 3.0;
    int y = (int)np_random_randint(&m->rng, 1, 9);
    for (int k = 0; k < s->n_subs; k++)
        if (s->subs[k].y == y && s->subs[k].right != right)
            return;
    for (int k = 0; k < s->n_fish; k++)
        if (s->fish[k].y == y && s->fish[k].right != right)
            return;
    sq_item v = {(int8_t)(right ? 0 : 9), (int8_t)y, (int8_t)right, (int8_t)s->move_interval, 0};
    if (is_sub) {
        v.shot = SQ_ENEMY_SHOT_INTERVAL;
        push(s->subs, &s->n_subs, SQ_CAP_ENEMY, v);
    } else {
        push(s->fish, &s->n_fish, SQ_CAP_ENEMY, v);
    }
}

static void spawn_diver(minatar *m, sq_state *s)
{
    int right = np_random_sample(&m->rng) < 0.5;
    int y = (int)np_random_randint(&m->rng, 1, 9);
    sq_item v = {(int8_t)(right ? 0 : 9), (int8_t)y, (int8_t)right, SQ_DIVER_MOVE_INTERVAL, 0};
    push(s->divers, &s->n_divers, SQ_CAP_SMALL, v);
}

/* The first of the sub's bullets on enemy e's cell is spent (both go). */
static int shot_by_bullet(sq_state *s, sq_item *enemies, int *n_enemies, sq_hand *e)
{
    for (int k = 0; k < s->n_bullets; k++)
        if (s->bullets[k].x == e->v.x && s->bullets[k].y == e->v.y) {
            hand_remove(enemies, n_enemies, e);
            remove_equal(s->bullets, &s->n_bullets, s->bullets[k]);
            return 1;
        }
    return 0;
}

static int move_bullets(sq_state *s)
{
    int r = 0;
    FOR_BACK(i, s->n_bullets) {
        sq_hand b = {s->bullets[i], i};
        step_x(&b.v);
        hand_write(s->bullets, &b);
        if (off_board(&b.v)) {
            hand_remove(s->bullets, &s->n_bullets, &b);
            continue;
        }
        int hit = 0;
        for (int k = 0; k < s->n_fish && !hit; k++)
            if (s->fish[k].x == b.v.x && s->fish[k].y == b.v.y) {
                remove_equal(s->fish, &s->n_fish, s->fish[k]);
                hit = 1;
            }
        for (int k = 0; k < s->n_subs && !hit; k++)
            if (s->subs[k].x == b.v.x && s->subs[k].y == b.v.y) {
                remove_equal(s->subs, &s->n_subs, s->subs[k]);
                hit = 1;
            }
        if (hit) {
            hand_remove(s->bullets, &s->n_bullets, &b);
            r++;
        }
    }
    return r;
}

static void move_divers(sq_state *s)
{
    FOR_BACK(i, s->n_divers) {
        sq_hand d = {s->divers[i], i};
        if (at_sub(s, &d.v) && s->divers_on_board < 6) {
            hand_remove(s->divers, &s->n_divers, &d);
            s->divers_on_board++;
        } else if (d.v.timer == 0) {
            d.v.timer = SQ_DIVER_MOVE_INTERVAL;
            step_x(&d.v);
            hand_write(s->divers, &d);
            if (off_board(&d.v)) {
                hand_remove(s->divers, &s->n_divers, &d);
            } else if (at_sub(s, &d.v) && s->divers_on_board < 6) {
                hand_remove(s->divers, &s->n_divers, &d);
                s->divers_on_board++;
            }
        } else {
            d.v.timer--;
            hand_write(s->divers, &d);
        }
    }
}

/* Fish (fires = 0) or enemy subs (fires = 1): contact, movement, the sub's
 * bullets, and the subs' own fire. */
static int move_enemies(sq_state *s, sq_item *list, int *n, int fires, int *terminal)
{
    int r = 0;
    FOR_BACK(i, *n) {
        sq_hand e = {list[i], i};
        if (at_sub(s, &e.v))
            *terminal = 1;
        if (e.v.timer == 0) {
            e.v.timer = (int8_t)s->move_interval;
            step_x(&e.v);
            hand_write(list, &e);
            if (off_board(&e.v))
                hand_remove(list, n, &e);
            else if (at_sub(s, &e.v))
                *terminal = 1;
            else
                r += shot_by_bullet(s, list, n, &e);
        } else {
            e.v.timer--;
            hand_write(list, &e);
        }
        if (!fires)
            continue;
        /* Even a sub removed above fires: MinAtar's loop still holds it. */
        if (e.v.shot == 0) {
            e.v.shot = SQ_ENEMY_SHOT_INTERVAL;
            push(s->ebullets, &s->n_ebullets, SQ_CAP_EBULLET, (sq_item){e.v.x, e.v.y, e.v.right, 0, 0});
        } else {
            e.v.shot--;
        }
        hand_write(list, &e);
    }
    return r;
}

static void move_enemy_bullets(sq_state *s, int *terminal)
{
    FOR_BACK(i, s->n_ebullets) {
        sq_hand b = {s->ebullets[i], i};
        if (at_sub(s, &b.v))
            *terminal = 1;
        step_x(&b.v);
        hand_write(s->ebullets, &b);
        if (off_board(&b.v))
            hand_remove(s->ebullets, &s->n_ebullets, &b);
        else if (at_sub(s, &b.v))
            *terminal = 1;
    }
}

/* Python's // on the (never negative here) oxygen. */
static int floor_div(int a, int b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static int surface(minatar *m, sq_state *s)
{
    int r = 0;
    s->surfaced = 1;
    if (s->divers_on_board == 6) {
        s->divers_on_board = 0;
        r = floor_div(s->oxygen * 10, SQ_MAX_OXYGEN);
    }
    s->oxygen = SQ_MAX_OXYGEN;
    s->divers_on_board--;
    if (m->ramping && (s->spawn_interval > 1 || s->move_interval > 2)) {
        if (s->move_interval > 2 && s->ramp_level % 2)
            s->move_interval--;
        if (s->spawn_interval > 1)
            s->spawn_interval--;
        s->ramp_level++;
    }
    return r;
}

static int sq_act(minatar *m, int a, int *terminal)
{
    sq_state *s = st(m);
    int r = 0;
    if (s->spawn_timer == 0) {
        spawn_enemy(m, s);
        s->spawn_timer = s->spawn_interval;
    }
    if (s->diver_timer == 0) {
        spawn_diver(m, s);
        s->diver_timer = SQ_DIVER_INTERVAL;
    }
    if (a == MN_FIRE) {
        if (s->cool_down == 0) {
            push(s->bullets, &s->n_bullets, SQ_CAP_SMALL,
                 (sq_item){(int8_t)s->sub_x, (int8_t)s->sub_y, (int8_t)s->facing_right, 0, 0});
            s->cool_down = SQ_SHOT_COOL_DOWN;
        }
    } else if (a == MN_LEFT) {
        s->sub_x -= s->sub_x > 0;
        s->facing_right = 0;
    } else if (a == MN_RIGHT) {
        s->sub_x += s->sub_x < 9;
        s->facing_right = 1;
    } else if (a == MN_UP) {
        s->sub_y -= s->sub_y > 0;
    } else if (a == MN_DOWN) {
        s->sub_y += s->sub_y < 8;
    }
    r += move_bullets(s);
    move_divers(s);
    r += move_enemies(s, s->subs, &s->n_subs, 1, terminal);
    move_enemy_bullets(s, terminal);
    r += move_enemies(s, s->fish, &s->n_fish, 0, terminal);
    s->spawn_timer -= s->spawn_timer > 0;
    s->diver_timer -= s->diver_timer > 0;
    s->cool_down -= s->cool_down > 0;
    if (s->oxygen <= 0)
        *terminal = 1;
    if (s->sub_y > 0) {
        s->oxygen--;
        s->surfaced = 0;
    } else if (!s->surfaced) {
        if (s->divers_on_board == 0)
            *terminal = 1;
        else
            r += surface(m, s);
    }
    return r;
}

#define SQ_C 10 /* channels */

enum {
    SQ_SUB_FRONT, SQ_SUB_BACK, SQ_BULLET, SQ_TRAIL, SQ_EBULLET, SQ_FISH, SQ_ENEMY_SUB, SQ_OXYGEN, SQ_DIVER_GAUGE,
    SQ_DIVER
};

/* An entry and, one cell behind it if on the board, its trail. */
static void with_trail(minatar_out *o, const sq_item *v, int channel)
{
    minatar_put(o, v->y, v->x, SQ_C, channel);
    int back = v->x + (v->right ? -1 : 1);
    if (back >= 0 && back <= 9)
        minatar_put(o, v->y, back, SQ_C, SQ_TRAIL);
}

static void write_cells(minatar *m, minatar_out *o)
{
    sq_state *s = st(m);
    minatar_put(o, s->sub_y, s->sub_x, SQ_C, SQ_SUB_FRONT);
    /* the back is always on the board: facing right needs a move right */
    minatar_put(o, s->sub_y, s->sub_x + (s->facing_right ? -1 : 1), SQ_C, SQ_SUB_BACK);
    int ox = (s->oxygen > 0 ? s->oxygen : 0) * 10 / SQ_MAX_OXYGEN;
    for (int x = 0; x < ox; x++)
        minatar_put(o, 9, x, SQ_C, SQ_OXYGEN);
    for (int x = 9 - s->divers_on_board; x < 9; x++) /* none while the count is 0 or negative */
        minatar_put(o, 9, x, SQ_C, SQ_DIVER_GAUGE);
    for (int k = 0; k < s->n_bullets; k++)
        minatar_put(o, s->bullets[k].y, s->bullets[k].x, SQ_C, SQ_BULLET);
    for (int k = 0; k < s->n_ebullets; k++)
        minatar_put(o, s->ebullets[k].y, s->ebullets[k].x, SQ_C, SQ_EBULLET);
    for (int k = 0; k < s->n_fish; k++)
        with_trail(o, &s->fish[k], SQ_FISH);
    for (int k = 0; k < s->n_subs; k++)
        with_trail(o, &s->subs[k], SQ_ENEMY_SUB);
    for (int k = 0; k < s->n_divers; k++)
        with_trail(o, &s->divers[k], SQ_DIVER);
}

MINATAR_OBSERVE(sq_observe, write_cells)

static const char *const SQ_CHANNELS[10] = {"sub_front",    "sub_back",   "friendly_bullet", "trail",
                                            "enemy_bullet", "enemy_fish", "enemy_sub",       "oxygen_guage",
                                            "diver_guage",  "diver"};
static const int SQ_MINIMAL[6] = {MN_NOOP, MN_LEFT, MN_UP, MN_RIGHT, MN_DOWN, MN_FIRE};

static const minatar_game SQ_GAME = {
    "seaquest", SQ_C, SQ_CHANNELS, 6, SQ_MINIMAL, 1,
    "rules: +1 per fish or sub shot; surfacing with 6 divers scores the oxygen left (0-10); contact with "
    "an enemy or enemy bullet, running out of oxygen, or surfacing with no diver end the episode",
    sq_reset, sq_act, sq_observe,
};

const env_class minatar_seaquest_class =
    MINATAR_CLASS("minatar-seaquest", "MinAtar/Seaquest-v1",
                  "MinAtar Seaquest: shoot, rescue divers, mind the oxygen; 10x10x10 cells, 6 actions", SQ_GAME, SQ_C);
