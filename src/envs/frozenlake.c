/* frozenlake.c — Gymnasium's FrozenLake-v1: maps, transition table, steps.
 *
 * Reference: gymnasium/envs/toy_text/frozen_lake.py (FrozenLakeEnv with
 * success_rate and reward_schedule, Gymnasium 1.x), categorical_sample in
 * gymnasium/envs/toy_text/utils.py, and the registrations in
 * gymnasium/envs/__init__.py (FrozenLake-v1: 4x4, 100 steps;
 * FrozenLake8x8-v1: 8x8, 200 steps). The table is built in the reference's
 * order, with its probabilities computed by its expressions, so the
 * probabilities, outcome order and sampling rule agree exactly (resets and
 * steps: tabular.c). The random numbers come from bdrl's own stream, not
 * numpy's: seeded trajectories follow Gymnasium's laws, not its draws
 * (CliffWalking's use numpy's generator; switching FrozenLake would change
 * every FrozenLake run's numbers).
 */
#include "env_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FL_LEFT = 0, FL_DOWN = 1, FL_RIGHT = 2, FL_UP = 3 };

/* Resampling stops here: a frozen_prob so low that no solvable map turns up
 * in this many boards is a configuration error, not bad luck (the reference
 * would loop forever). */
#define FL_MAX_MAP_TRIES 100000

static const char *const FL_MAP_4X4[] = {"SFFF", "FHFH", "FFFH", "HFFG"};
static const char *const FL_MAP_8X8[] = {
    "SFFFFFFF", "FFFFFFFF", "FFFHFFFF", "FFFFFHFF",
    "FFFHFFFF", "FHHFFFHF", "FHFFHFHF", "FFFHFFFG",
};

/* The reference's is_valid: depth-first search from the top-left cell over
 * cells that are not holes; true as soon as a neighbour is a goal. */
static int path_exists(const char *board, int nrow, int ncol)
{
    unsigned char seen[ENV_MAP_MAX * ENV_MAP_MAX];
    int stack[ENV_MAP_MAX * ENV_MAP_MAX];
    static const int dr[4] = {1, 0, -1, 0}, dc[4] = {0, 1, 0, -1};
    memset(seen, 0, (size_t)nrow * (size_t)ncol);
    int top = 0;
    stack[top++] = 0;
    seen[0] = 1;
    while (top > 0) {
        int cell = stack[--top], r = cell / ncol, c = cell % ncol;
        for (int k = 0; k < 4; k++) {
            int rn = r + dr[k], cn = c + dc[k];
            if (rn < 0 || rn >= nrow || cn < 0 || cn >= ncol)
                continue;
            int n = rn * ncol + cn;
            if (board[n] == 'G')
                return 1;
            if (board[n] != 'H' && !seen[n]) {
                seen[n] = 1;
                stack[top++] = n;
            }
        }
    }
    return 0;
}

int frozenlake_random_map(int size, double p, uint64_t seed, char rows[][ENV_MAP_MAX + 1], bdrl_err *e)
{
    /* size 1 would put G over S and never be valid. */
    if (size < 2 || size > ENV_MAP_MAX)
        return err_set(e, "random FrozenLake map size must be 2 to %d, got %d", ENV_MAP_MAX, size);
    if (!(p > 0.0))
        return err_set(e, "random FrozenLake map: frozen_prob must be in (0, 1], got %g", p);
    if (p > 1.0)
        p = 1.0; /* the reference's p = min(1, p) */
    /* np_random.choice(["F", "H"], p=[p, 1 - p]) normalizes the cumulative
     * probabilities and picks F when the uniform draw is below the first. */
    const double thr = p / (p + (1.0 - p));
    rng *r = rng_create(seed, RNG_STREAM_MAP);
    if (!r)
        return err_set(e, "out of memory creating the map generator");
    char board[ENV_MAP_MAX * ENV_MAP_MAX];
    const int n = size * size;
    for (int attempt = 0; attempt < FL_MAX_MAP_TRIES; attempt++) {
        /* Every cell is drawn, row-major, then S and G overwrite the
         * corners, as in generate_random_map. */
        for (int i = 0; i < n; i++)
            board[i] = rng_uniform(r) < thr ? 'F' : 'H';
        board[0] = 'S';
        board[n - 1] = 'G';
        if (path_exists(board, size, size)) {
            for (int i = 0; i < size; i++) {
                memcpy(rows[i], board + (size_t)i * (size_t)size, (size_t)size);
                rows[i][size] = '\0';
            }
            rng_free(r);
            return 0;
        }
    }
    rng_free(r);
    return err_set(e, "random FrozenLake map: no %dx%d map with a path from S to G in %d tries "
                      "(frozen_prob %g is too low)", size, size, FL_MAX_MAP_TRIES, p);
}

/* Checks a custom map and copies it into desc (nrow*ncol letters). */
static int check_custom(const env_config *c, int *nrow_out, int *ncol_out, char *desc, bdrl_err *err)
{
    int nrow = c->nrow;
    if (nrow == 0) /* not given: the leading non-empty rows */
        while (nrow < ENV_MAP_MAX && c->rows[nrow][0] != '\0')
            nrow++;
    if (nrow < 1 || nrow > ENV_MAP_MAX)
        return err_set(err, "custom FrozenLake map has %d rows; it needs 1 to %d", nrow, ENV_MAP_MAX);
    int ncol = c->ncol;
    if (ncol == 0)
        ncol = (int)strnlen(c->rows[0], ENV_MAP_MAX + 1);
    if (ncol < 1 || ncol > ENV_MAP_MAX)
        return err_set(err, "custom FrozenLake map has %d columns; it needs 1 to %d", ncol, ENV_MAP_MAX);
    int n_start = 0, n_goal = 0;
    for (int i = 0; i < nrow; i++) {
        int len = (int)strnlen(c->rows[i], ENV_MAP_MAX + 1);
        if (len != ncol)
            return err_set(err, "custom FrozenLake map is not rectangular: row %d has %d columns, expected %d",
                           i, len, ncol);
        for (int j = 0; j < ncol; j++) {
            unsigned char ch = (unsigned char)c->rows[i][j];
            if (ch != 'S' && ch != 'F' && ch != 'H' && ch != 'G') {
                if (ch >= 0x20 && ch < 0x7f)
                    return err_set(err, "custom FrozenLake map: row %d, column %d is '%c'; only S, F, H and G are allowed",
                                   i, j, ch);
                return err_set(err, "custom FrozenLake map: row %d, column %d is byte 0x%02x; only S, F, H and G are allowed",
                               i, j, ch);
            }
            n_start += ch == 'S';
            n_goal += ch == 'G';
            desc[i * ncol + j] = (char)ch;
        }
    }
    if (n_start != 1)
        return err_set(err, "custom FrozenLake map needs exactly one S (start), found %d", n_start);
    if (n_goal < 1)
        return err_set(err, "custom FrozenLake map needs at least one G (goal), found none");
    *nrow_out = nrow;
    *ncol_out = ncol;
    return 0;
}

static void copy_rows(const char *const *rows, int nrow, int ncol, char *desc)
{
    for (int i = 0; i < nrow; i++)
        memcpy(desc + i * ncol, rows[i], (size_t)ncol);
}

/* The reference's inc(): one cell in direction a, clamped at the edges. */
static int move(int row, int col, int a, int nrow, int ncol)
{
    if (a == FL_LEFT)
        col = col - 1 > 0 ? col - 1 : 0;
    else if (a == FL_DOWN)
        row = row + 1 < nrow - 1 ? row + 1 : nrow - 1;
    else if (a == FL_RIGHT)
        col = col + 1 < ncol - 1 ? col + 1 : ncol - 1;
    else if (a == FL_UP)
        row = row - 1 > 0 ? row - 1 : 0;
    return row * ncol + col;
}

/* The reference's update_probability_matrix() for the cell entered. */
static void outcome_to(env_outcome *o, const env_config *c, const char *desc, int next, double prob)
{
    char l = desc[next];
    o->prob = prob;
    o->next_state = next;
    /* reward_schedule[b"GHF".index(letter if letter in b"GHF" else b"F")]:
     * S counts as frozen. */
    o->reward = l == 'G' ? c->reward_goal : l == 'H' ? c->reward_hole : c->reward_frozen;
    o->terminated = l == 'G' || l == 'H';
}

static int frozenlake_init(env *e, const env_config *c, bdrl_err *err)
{
    char desc[ENV_MAP_MAX * ENV_MAP_MAX];
    int nrow = 0, ncol = 0;
    e->max_steps = 100; /* FrozenLake-v1's registration, also for custom and random maps */
    if (strcmp(c->map_name, "4x4") == 0) {
        nrow = ncol = 4;
        copy_rows(FL_MAP_4X4, nrow, ncol, desc);
    } else if (strcmp(c->map_name, "8x8") == 0) {
        nrow = ncol = 8;
        copy_rows(FL_MAP_8X8, nrow, ncol, desc);
        e->max_steps = 200; /* FrozenLake8x8-v1's registration */
    } else if (strcmp(c->map_name, "random") == 0) {
        int size = c->nrow ? c->nrow : c->ncol ? c->ncol : 8; /* generate_random_map's default size 8 */
        if (c->nrow && c->ncol && c->nrow != c->ncol)
            return err_set(err, "random FrozenLake maps are square: nrow %d and ncol %d differ", c->nrow, c->ncol);
        char rows[ENV_MAP_MAX][ENV_MAP_MAX + 1];
        if (frozenlake_random_map(size, c->frozen_prob, c->map_seed, rows, err) != 0)
            return -1;
        nrow = ncol = size;
        for (int i = 0; i < size; i++)
            memcpy(desc + i * size, rows[i], (size_t)size);
    } else if (strcmp(c->map_name, "custom") == 0) {
        if (check_custom(c, &nrow, &ncol, desc, err) != 0)
            return -1;
    } else {
        return err_set(err, "unknown FrozenLake map \"%.16s\" (expected 4x4, 8x8, random or custom)", c->map_name);
    }
    const int slippery = c->slippery != 0; /* < 0: not given, Gymnasium's default is_slippery=True */
    if (slippery && !(c->success_rate >= 0.0 && c->success_rate <= 1.0))
        return err_set(err, "FrozenLake success_rate must be in [0, 1], got %g", c->success_rate);
    if (!isfinite(c->reward_goal) || !isfinite(c->reward_hole) || !isfinite(c->reward_frozen))
        return err_set(err, "FrozenLake rewards must be finite (goal %g, hole %g, frozen %g)",
                       c->reward_goal, c->reward_hole, c->reward_frozen);

    const int ns = nrow * ncol, na = 4;
    if (tab_alloc(e, nrow, ncol, na, 3, err))
        return -1;
    tab_data *f = e->tab;
    memcpy(f->desc, desc, (size_t)ns);
    f->start = (int)(strchr(f->desc, 'S') - f->desc);

    /* fail_rate = (1.0 - success_rate) / 2.0, as the reference computes it. */
    const double success = c->success_rate, fail = (1.0 - success) / 2.0;
    for (int row = 0; row < nrow; row++) {
        for (int col = 0; col < ncol; col++) {
            int s = row * ncol + col;
            for (int a = 0; a < na; a++) {
                env_outcome *o = &f->table.outcomes[(size_t)(s * na + a) * 3];
                int *n = &f->table.n_outcomes[s * na + a];
                if (desc[s] == 'G' || desc[s] == 'H') {
                    /* Terminal cells: (1.0, s, 0, True) — reward a literal 0,
                     * not the schedule. */
                    o[0] = (env_outcome){1.0, s, 0.0, 1};
                    *n = 1;
                } else if (slippery) {
                    /* [(a - 1) % 4, a, (a + 1) % 4], Python's modulo. */
                    const int dirs[3] = {(a + 3) % 4, a, (a + 1) % 4};
                    for (int k = 0; k < 3; k++)
                        outcome_to(&o[k], c, desc, move(row, col, dirs[k], nrow, ncol),
                                   dirs[k] == a ? success : fail);
                    *n = 3;
                } else {
                    outcome_to(&o[0], c, desc, move(row, col, a, nrow, ncol), 1.0);
                    *n = 1;
                }
            }
        }
    }
    tab_finish(e, 0); /* terminal: H and G, whose outcomes are (1.0, s, 0, True) */
    return 0;
}

static void frozenlake_describe(const env *e, const env_config *c, FILE *f)
{
    const env_table *t = &e->tab->table;
    fprintf(f, "actions: 0 left, 1 down, 2 right, 3 up\n");
    fprintf(f, "n_states: %d\n", t->n_states);
    fprintf(f, "slippery: %s (intended direction with probability %.17g)\n", c->slippery ? "true" : "false",
            c->slippery ? c->success_rate : 1.0);
    fprintf(f, "rewards: goal %g, hole %g, frozen %g\n", c->reward_goal, c->reward_hole, c->reward_frozen);
    fprintf(f, "map:\n");
    tab_print_grid(e, f);
}

static const char *const FL_ACTIONS[4] = {"left", "down", "right", "up"};

const env_class frozenlake_class = {
    .info = {"frozenlake", "FrozenLake-v1",
             "FrozenLake-v1: cross a frozen lake to the goal; 4x4, 8x8, custom or random maps,\n"
             "slippery or not; 4 actions, 100-step (4x4) or 200-step (8x8) limit",
             "state", "an index", 100, 1, 0.7, 1, 0, NULL, NULL, 1},
    .action_names = FL_ACTIONS,
    .init = frozenlake_init,
    .release = tab_release,
    .reset = tab_reset,
    .step = tab_step,
    .get_state = tab_get_state,
    .set_state = tab_set_state,
    .success = tab_success,
    .describe = frozenlake_describe,
    .state_label = tab_state_label,
};
