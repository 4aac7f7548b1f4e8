/* cliffwalking.c — Gymnasium's CliffWalking-v1: the 4x12 grid of Sutton and
 * Barto's Example 6.6, its transition table and steps.
 *
 * Reference: gymnasium/envs/toy_text/cliffwalking.py (CliffWalkingEnv,
 * Gymnasium 1.x, "v1: Add slippery version of cliffwalking") and
 * categorical_sample in gymnasium/envs/toy_text/utils.py. The registrations
 * in gymnasium/envs/__init__.py give CliffWalking-v1 (is_slippery=False, the
 * constructor's default, unlike FrozenLake's True) and
 * CliffWalkingSlippery-v1 (is_slippery=True), neither with
 * max_episode_steps: no TimeLimit, episodes end only at the goal.
 *
 * The table is P built in the reference's order: for every state s
 * (row-major, all 48 cells, cliff and goal included) the actions UP 0,
 * RIGHT 1, DOWN 2, LEFT 3, each with the outcomes of the deltas
 * [move] or, slippery, [(move - 1) % 4, move, (move + 1) % 4] (the intended
 * move between its two perpendicular ones), each with probability
 * 1 / len(deltas); a move is clamped to the grid; landing on the cliff
 * (row 3, columns 1..10) is (p, start 36, -100, False), anything else
 * (p, cell, -1, cell == (3, 11)). Coinciding outcomes (a wall bump and the
 * intended move both staying put) stay separate entries, as in P. So
 * `bdrl env table cliffwalking` prints P to the last digit.
 *
 * Random numbers: numpy's Generator(PCG64(SeedSequence(S))) (env_class
 * numpy_rng), the generator Gymnasium's reset(seed=S) makes; a reset draws
 * once (categorical_sample over the initial distribution, all mass on 36)
 * and a step once (categorical_sample over P[s][a], even with one outcome),
 * so seeded trajectories are Gymnasium's draw for draw (tests/ref/).
 *
 * The truth's terminal states (env.h): the goal 47 and the cliff cells
 * 37..46, which no episode stands on although P gives them moves.
 */
#include "env_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { CW_UP = 0, CW_RIGHT = 1, CW_DOWN = 2, CW_LEFT = 3 };
enum { CW_NROW = 4, CW_NCOL = 12, CW_NS = CW_NROW * CW_NCOL, CW_START = 3 * CW_NCOL + 0, CW_GOAL = 3 * CW_NCOL + 11 };

/* POSITION_MAPPING */
static const int CW_DR[4] = {-1, 0, 1, 0}, CW_DC[4] = {0, 1, 0, -1};

static int is_cliff(int row, int col) { return row == CW_NROW - 1 && col >= 1 && col <= CW_NCOL - 2; }

/* _calculate_transition_prob's outcome for one delta. */
static env_outcome outcome(int row, int col, int dir, double prob)
{
    int r = row + CW_DR[dir], c = col + CW_DC[dir];
    /* _limit_coordinates: min with the last index, then max with 0 */
    r = r < CW_NROW - 1 ? r : CW_NROW - 1;
    r = r > 0 ? r : 0;
    c = c < CW_NCOL - 1 ? c : CW_NCOL - 1;
    c = c > 0 ? c : 0;
    if (is_cliff(r, c))
        return (env_outcome){prob, CW_START, -100.0, 0};
    int s = r * CW_NCOL + c;
    return (env_outcome){prob, s, -1.0, s == CW_GOAL};
}

static int cliffwalking_init(env *e, const env_config *c, bdrl_err *err)
{
    /* FrozenLake's keys have no meaning here: refuse them rather than
     * ignore them (Gymnasium's CliffWalking takes is_slippery alone). */
    if (strcmp(c->map_name, "4x4") != 0)
        return err_set(err, "env.map is FrozenLake's; CliffWalking's grid is Gymnasium's fixed 4x12");
    if (c->success_rate != 1.0 / 3.0)
        return err_set(err, "env.success_rate is FrozenLake's; CliffWalking's slippery moves are Gymnasium's "
                            "1/3 each (got %g)", c->success_rate);
    if (c->reward_goal != 1.0 || c->reward_hole != 0.0 || c->reward_frozen != 0.0)
        return err_set(err, "env.reward_goal/hole/frozen are FrozenLake's; CliffWalking's rewards are "
                            "Gymnasium's -1 per step and -100 for the cliff");
    const int slippery = c->slippery > 0, na = 4, nout = slippery ? 3 : 1;
    if (tab_alloc(e, CW_NROW, CW_NCOL, na, nout, err))
        return -1;
    tab_data *t = e->tab;
    for (int s = 0; s < CW_NS; s++) {
        int row = s / CW_NCOL, col = s % CW_NCOL;
        t->desc[s] = s == CW_START ? 'S' : s == CW_GOAL ? 'G' : is_cliff(row, col) ? 'C' : 'F';
        /* 1 / len(deltas): 1.0, or Python's 1 / 3 */
        const double p = 1.0 / nout;
        for (int a = 0; a < na; a++) {
            env_outcome *o = &t->table.outcomes[(size_t)(s * na + a) * (size_t)nout];
            if (slippery) {
                const int dirs[3] = {(a + 3) % 4, a, (a + 1) % 4};
                for (int k = 0; k < 3; k++)
                    o[k] = outcome(row, col, dirs[k], p);
            } else {
                o[0] = outcome(row, col, a, p);
            }
            t->table.n_outcomes[s * na + a] = nout;
        }
        t->table.terminal[s] = (unsigned char)(s == CW_GOAL || is_cliff(row, col));
    }
    t->start = CW_START;
    tab_finish(e, 1);
    return 0;
}

static void cliffwalking_describe(const env *e, const env_config *c, FILE *f)
{
    const env_table *t = &e->tab->table;
    fprintf(f, "actions: 0 up, 1 right, 2 down, 3 left\n");
    fprintf(f, "n_states: %d (the cliff's 10 cells and the goal are never stood on)\n", t->n_states);
    fprintf(f, "slippery: %s%s\n", c->slippery > 0 ? "true" : "false",
            c->slippery > 0 ? " (the intended move and the two perpendicular ones, 1/3 each)" : "");
    fprintf(f, "rewards: -1 per step; -100 for stepping into the cliff, which puts the agent back on S "
               "without ending the episode\n");
    fprintf(f, "time limit: %s\n", e->max_steps == ENV_NO_TIME_LIMIT ? "none (Gymnasium registers none)" : "set");
    fprintf(f, "grid (S start, C cliff, G goal):\n");
    tab_print_grid(e, f);
}

static const char *const CW_ACTIONS[4] = {"up", "right", "down", "left"};

const env_class cliffwalking_class = {
    .info = {"cliffwalking", "CliffWalking-v1",
             "CliffWalking-v1: walk along a cliff to the goal; 4x12 grid, -1 per step, -100 and back to\n"
             "the start for the cliff; slippery or not (default not); 4 actions, no time limit",
             "state", "an index", ENV_NO_TIME_LIMIT, 1, -13.0, 1, 0, NULL, NULL, 0},
    .action_names = CW_ACTIONS,
    .init = cliffwalking_init,
    .release = tab_release,
    .reset = tab_reset,
    .step = tab_step,
    .get_state = tab_get_state,
    .set_state = tab_set_state,
    .success = tab_success,
    .describe = cliffwalking_describe,
    .numpy_rng = 1,
    .not_slippery_by_default = 1,
    .state_label = tab_state_label,
};
