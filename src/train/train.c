/* train.c — the shared training loop: the schedule, setting a run up, the
 * steps of one training step and train_run; see train.h for the schedule,
 * trainer.h for the state and the modules beside this one (the run's files,
 * the trainer's section of a checkpoint), run.h for the files. */
#include "train/train.h"
#include "train/trainer.h"
#include "truth/truth.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/check.h"
#include "train/evaluate.h"
#include "train/run.h"
#include "train/support.h"
#include "train/fatal.h"
#include "agents/registry.h"
#include "core/io.h"
#include "core/provenance.h"

/* ------------------------------------------------------------------------ */
/* schedule                                                                 */

double train_epsilon(const exp_config *cfg, int64_t t)
{
    double dur = (double)exp_eps_decay_steps(cfg);
    double s = cfg->train.eps_start, f = cfg->train.eps_end;
    if (!(dur > 0))
        return f;
    double eps = s + (f - s) * (double)t / dur;
    return eps > f ? eps : f;
}

int train_is_update_step(const exp_config *cfg, int64_t t)
{
    return t > cfg->train.learning_starts && t % cfg->train.train_frequency == 0;
}

int train_is_target_step(const exp_config *cfg, int64_t t)
{
    return t > cfg->train.learning_starts && t % cfg->train.target_update == 0;
}

int train_is_eval_step(const exp_config *cfg, int64_t t)
{
    return t % cfg->eval.interval == 0 || t == cfg->train.total_steps;
}

int train_is_checkpoint_step(const exp_config *cfg, int64_t t)
{
    int64_t k = cfg->train.checkpoint_interval;
    return (k > 0 && t % k == 0) || t == cfg->train.total_steps;
}

uint64_t train_eval_seed(const exp_config *cfg)
{
    return rng_mix64((uint64_t)cfg->seed ^ 0x6576616c5f736565ull);
}

/* ------------------------------------------------------------------------ */
/* progress                                                                 */

static double segment_sps(const trainer *T)
{
    double dt = trainer_now() - T->t_start;
    return dt > 0 ? (double)(T->step - T->step_start) / dt : NAN;
}

static void fmt_count(char *b, size_t n, double x)
{
    if (x >= 1e6)
        snprintf(b, n, "%.2fM", x / 1e6);
    else if (x >= 1e4)
        snprintf(b, n, "%.1fk", x / 1e3);
    else
        snprintf(b, n, "%.0f", x);
}

static void fmt_time(char *b, size_t n, double s)
{
    if (!isfinite(s) || s < 0)
        snprintf(b, n, "?");
    else if (s >= 3600)
        snprintf(b, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else
        snprintf(b, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

static double recent_mean(const trainer *T)
{
    if (T->n_recent == 0)
        return NAN;
    int k = T->n_recent < 10 ? T->n_recent : 10;
    double s = 0;
    for (int i = 0; i < k; i++)
        s += T->recent[i];
    return s / k;
}

static void progress(trainer *T, int force)
{
    if (!T->log || !T->tty)
        return;
    double t = trainer_now();
    if (!force && t - T->last_draw < 0.2)
        return;
    T->last_draw = t;
    char st[32], tot[32], sps[32], eta[32];
    double rate = segment_sps(T);
    fmt_count(st, sizeof st, (double)T->step);
    fmt_count(tot, sizeof tot, (double)T->cfg->train.total_steps);
    fmt_count(sps, sizeof sps, rate);
    fmt_time(eta, sizeof eta, (double)(T->cfg->train.total_steps - T->step) / rate);
    const eval_row *ev = T->n_ev ? &T->ev[T->n_ev - 1] : NULL;
    char evs[64] = "-";
    if (ev && trainer_on_return(T))
        snprintf(evs, sizeof evs, "%.1f", ev->mean);
    else if (ev)
        snprintf(evs, sizeof evs, "%.2f (success %.2f)", ev->mean, ev->success);
    fprintf(T->log, "\r\033[Ktrain: step %s/%s (%.0f%%)  ep %lld  return %.2f  eval %s  %s steps/s  ETA %s", st,
            tot, 100.0 * (double)T->step / (double)T->cfg->train.total_steps, (long long)T->episodes,
            recent_mean(T), evs, sps, eta);
    fflush(T->log);
}

/* A plain line (log file or pipe), or a line above the progress bar. */
static void note(trainer *T, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(trainer *T, const char *fmt, ...)
{
    if (!T->log)
        return;
    if (T->tty)
        fputs("\r\033[K", T->log);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(T->log, fmt, ap);
    va_end(ap);
    fputc('\n', T->log);
    fflush(T->log);
}

/* ------------------------------------------------------------------------ */
/* the loop                                                                 */

static void trainer_free(trainer *T)
{
    agent_free(T->ag);
    env_free(T->en);
    replay_free(T->rb);
    replay_batch_free(&T->batch);
    rng_free(T->explore);
    rng_free(T->rsample);
    rng_free(T->noise);
    free(T->policy);
    free(T->ep_actions);
    free(T->obs);
    free(T->ev);
    free(T->snap);
    sbuf_free(&T->metrics);
    sbuf_free(&T->evalcsv);
}

static int start_episode(trainer *T)
{
    uint64_t s = eval_episode_seed((uint64_t)T->cfg->seed, T->episodes);
    memcpy(T->obs, env_reset(T->en, &s), sizeof(float) * (size_t)T->D);
    T->ep_carry = env_carry(T->en);
    T->ep_len = 0;
    T->ep_ret = 0;
    return 0;
}

static int do_eval(trainer *T, bdrl_err *e)
{
    eval_result r;
    if (eval_greedy(T->cfg, T->ag, T->cfg->eval.episodes, train_eval_seed(T->cfg), &r, e))
        return err_prefix(e, "evaluation at step %lld", (long long)T->step);
    eval_row row = {T->step, r.return_mean, r.return_std, r.success_rate, r.ci_lo, r.ci_hi};
    if (trainer_push_eval(T, &row, e))
        return -1;
    T->evals++;
    trainer_eval_csv_row(&T->evalcsv, &row);
    if (T->log && !T->tty) {
        char succ[48] = "";
        if (!trainer_on_return(T))
            snprintf(succ, sizeof succ, "  success %.3f", r.success_rate);
        note(T, "train: step %lld/%lld  episodes %lld  recent return %.3g  eval %.4g ± %.3g%s  %.0f steps/s",
             (long long)T->step, (long long)T->cfg->train.total_steps, (long long)T->episodes, recent_mean(T),
             r.return_mean, r.return_std, succ, segment_sps(T));
    }
    return 0;
}

static void diverged(trainer *T, const char *what, double v, bdrl_err *e)
{
    char ck[128] = "no checkpoint was written";
    if (T->last_ckpt >= 0)
        snprintf(ck, sizeof ck, "the checkpoint of step %lld is intact", (long long)T->last_ckpt);
    if (isnan(v) || isinf(v))
        err_set(e, "training diverged at step %lld (update %lld): the %s is %s; %s", (long long)T->step,
                (long long)T->updates, what, isnan(v) ? "nan" : v > 0 ? "+inf" : "-inf", ck);
    else /* what names the quantity and its value */
        err_set(e, "training diverged at step %lld (update %lld): %s; %s", (long long)T->step,
                (long long)T->updates, what, ck);
    T->fail_status = "diverged";
}

/* train.nonfinite skip: the agent's state before an update, to undo it. */
static int snapshot_agent(trainer *T, bdrl_err *e)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f)
        return err_set(e, "out of memory");
    int rc = T->ag->ops->save(T->ag, f, e);
    if (fclose(f) != 0 && !rc)
        rc = err_set(e, "out of memory");
    if (rc) {
        free(mem);
        return -1;
    }
    free(T->snap);
    T->snap = mem;
    T->snap_len = len;
    return 0;
}

static int restore_agent(trainer *T, bdrl_err *e)
{
    FILE *f = fmemopen(T->snap, T->snap_len, "rb");
    if (!f)
        return err_set(e, "out of memory");
    int rc = T->ag->ops->load(T->ag, f, e);
    fclose(f);
    return rc;
}

/* Everything but the files: generators, environment, agent, replay, scratch. */
static int trainer_setup(trainer *T, const exp_config *cfg, const train_options *opt, bdrl_err *e)
{
    T->cfg = cfg;
    T->evaluate_mode = cfg->agent.mode == AGENT_EVALUATE;
    T->last_ckpt = -1;
    provenance_cpu(T->cpu, sizeof T->cpu);
    rng *init = rng_create((uint64_t)cfg->seed, RNG_STREAM_INIT);
    T->explore = rng_create((uint64_t)cfg->seed, RNG_STREAM_EXPLORE);
    T->rsample = rng_create((uint64_t)cfg->seed, RNG_STREAM_REPLAY);
    if (cfg->agent.noisy)
        T->noise = rng_create((uint64_t)cfg->seed, RNG_STREAM_NOISE);
    if (!init || !T->explore || !T->rsample || (cfg->agent.noisy && !T->noise)) {
        rng_free(init);
        return err_set(e, "out of memory");
    }
    if (!(T->en = env_create(&cfg->env, e))) {
        rng_free(init);
        return -1;
    }
    T->A = env_n_actions(T->en);
    T->D = env_obs_dim(T->en);
    /* Refuse what `bdrl config` refuses (unreachable goal, absurd sizes,
     * evaluate mode without a policy) before anything big is allocated. */
    if (exp_check_env(cfg, T->en, e)) {
        rng_free(init);
        return -1;
    }
    T->ag = opt && opt->make_agent ? opt->make_agent(cfg, T->en, init, e) : agent_create(cfg, T->en, init, e);
    rng_free(init);
    if (!T->ag)
        return -1;
    T->check_support = agent_kind_uses_support(agent_kind_of(T->ag));
    replay_spec rs;
    replay_spec_of(&rs, cfg, T->D, env_obs_is_binary(T->en));
    if (!(T->rb = replay_create_spec(&rs, e)) ||
        replay_batch_create(&T->batch, cfg->train.batch_size, T->D, e) ||
        !(T->obs = err_calloc((size_t)T->D, sizeof(float), e)) || trainer_grow_actions(T, e))
        return -1;
    if (cfg->agent.mode == AGENT_EVALUATE) {
        if (!(T->policy = err_calloc((size_t)env_n_states(T->en), sizeof(int), e)))
            return -1;
        if (truth_env_optimal_policy(T->en, cfg->agent.gamma, T->policy))
            return err_set(e, "agent.mode evaluate: value iteration found no optimal policy (FrozenLake only; "
                              "γ = %g)",
                           cfg->agent.gamma);
    }
    return 0;
}

int train_verify_checkpoint(const exp_config *cfg, const char *path, int64_t *step, bdrl_err *e)
{
    trainer T;
    memset(&T, 0, sizeof T);
    int rc = trainer_setup(&T, cfg, NULL, e) || trainer_read_checkpoint(&T, path, e) ? -1 : 0;
    if (!rc && step)
        *step = T.step;
    trainer_free(&T);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* one training step: act, store, learn (with its guard), sync the target,   */
/* log the episode, evaluate, checkpoint, keep the files fresh               */
/* Each agent component has one step to change: noisy nets replace act's ε  */
/* draw; n-step returns are the replay's (it sums consecutive slots when    */
/* learn samples, so store keeps one transition per step); prioritized      */
/* replay samples and reweights in learn and updates the priorities after   */
/* the guard; the rest of the loop stays as it is.                          */

/* Act: the action of step T->step + 1. Reads the observation, the step (for
 * ε), the exploration generator (one or two draws) and, for agent.mode
 * evaluate, the policy π*; writes *a and T->eps, the ε behind it (the
 * episode's metrics row reports it). The agent's greedy action costs a
 * forward pass, so it is asked only when the draw says exploit. With
 * agent.noisy the noise explores: ε = 0 (no draw from the exploration
 * generator), and the action is greedy under a new draw of the online
 * networks' noise, switched off again before anything else runs. */
static int act(trainer *T, int *a, bdrl_err *e)
{
    if (T->evaluate_mode) {
        const double eps_b = T->cfg->agent.behaviour_eps;
        T->eps = eps_b;
        /* ε = 1 draws one number per step, as before the option existed. */
        if (eps_b >= 1 || rng_uniform(T->explore) < eps_b)
            *a = (int)rng_below(T->explore, (unsigned long)T->A);
        else
            *a = T->policy[(int)T->obs[0]];
        return 0;
    }
    if (T->noise) {
        T->eps = 0;
        agent_noise_set(T->ag, AGENT_NOISE_ACT, T->noise);
        int rc = agent_greedy(T->ag, T->obs, a, e);
        agent_noise_set(T->ag, AGENT_NOISE_OFF, NULL);
        return rc ? err_prefix(e, "step %lld", (long long)T->step + 1) : 0;
    }
    T->eps = train_epsilon(T->cfg, T->step);
    if (rng_uniform(T->explore) < T->eps)
        *a = (int)rng_below(T->explore, (unsigned long)T->A);
    else if (agent_greedy(T->ag, T->obs, a, e))
        return err_prefix(e, "step %lld", (long long)T->step + 1);
    return 0;
}

/* Store: takes action a in the environment (*st: what it returned), adds
 * the transition to the replay (and, for an agent with a support, sets the
 * support warning the first time one leaves it), the action and reward to
 * the current episode (a resume replays its actions), and moves T->obs and
 * T->step on. */
static int store(trainer *T, int a, env_step *st, bdrl_err *e)
{
    *st = env_do_step(T->en, a);
    if (replay_add(T->rb, T->obs, a, st->reward, st->obs, st->terminated, st->truncated, e))
        return err_prefix(e, "step %lld", (long long)T->step + 1);
    /* the reward as the replay keeps it (a float), as a resume would see it */
    if (T->check_support && !T->support_warning[0] &&
        support_breached(T->cfg, (float)st->reward, st->terminated, T->support_warning, sizeof T->support_warning))
        note(T, "train: warning at step %lld: %s", (long long)T->step + 1, T->support_warning);
    if (trainer_grow_actions(T, e))
        return -1;
    T->ep_actions[T->ep_len++] = a;
    T->ep_ret += st->reward;
    memcpy(T->obs, st->obs, sizeof(float) * (size_t)T->D);
    T->step++;
    return 0;
}

/* The guard's verdict on the update just made: the reported loss,
 * gradient-field loss and gradient norm, then the parameters themselves.
 * Returns the first non-finite quantity's name (*v its value, 0 for a
 * parameter, whose name already says where), or NULL when all are finite. */
static const char *nonfinite_quantity(trainer *T, const agent_stats *ss, double *v, char *buf, size_t n)
{
    if (!isfinite(ss->loss))
        return *v = ss->loss, "loss";
    if (!isfinite(ss->loss_grad))
        return *v = ss->loss_grad, "gradient-field loss";
    if (!isfinite(ss->grad_norm))
        return *v = ss->grad_norm, "gradient norm";
    *v = 0;
    return agent_params_nonfinite(T->ag, buf, n) ? buf : NULL;
}

/* The guard (train.nonfinite): after a non-finite update, skip mode restores
 * the snapshot and counts it (T->skipped, T->skipped_run) until
 * TRAIN_MAX_SKIPS_IN_A_ROW in a row; otherwise the run ends (-1, e names
 * the step and the quantity, T->fail_status "diverged"). A finite update
 * adds its statistics to the sums of the next metrics row and sets *kept
 * (0 when the update was undone). */
static int guard_update(trainer *T, const agent_stats *ss, int *kept, bdrl_err *e)
{
    char pwhat[160];
    double bad_v;
    const char *bad_what = nonfinite_quantity(T, ss, &bad_v, pwhat, sizeof pwhat);
    const int skip_mode = T->cfg->train.nonfinite == TRAIN_NONFINITE_SKIP;
    *kept = !bad_what;
    if (!bad_what) {
        T->skipped_run = 0;
        T->acc_loss += ss->loss;
        T->acc_loss_grad += ss->loss_grad;
        T->acc_q += ss->q_mean;
        T->acc_n += 1;
        return 0;
    }
    if (skip_mode && T->skipped_run < TRAIN_MAX_SKIPS_IN_A_ROW) {
        if (restore_agent(T, e))
            return err_prefix(e, "update at step %lld: undoing a non-finite update", (long long)T->step);
        T->skipped++;
        T->skipped_run++;
        /* the first ten, then at powers of two: a flood would bury the log */
        if (T->skipped <= 10 || (T->skipped & (T->skipped - 1)) == 0)
            note(T, "train: step %lld: update skipped, %s%s%s (%lld skipped so far)", (long long)T->step,
                 bad_v == 0 ? "" : "the ", bad_what,
                 bad_v == 0 ? "" : isnan(bad_v) ? " is nan" : bad_v > 0 ? " is +inf" : " is -inf",
                 (long long)T->skipped);
        return 0;
    }
    if (skip_mode) {
        char w2[300];
        snprintf(w2, sizeof w2, "%lld updates in a row were non-finite (last: %s%s)", (long long)T->skipped_run,
                 bad_what, bad_v == 0 ? "" : isnan(bad_v) ? " nan" : " inf");
        diverged(T, w2, 0, e);
    } else {
        diverged(T, bad_what, bad_v, e);
    }
    return -1;
}

/* Prioritized replay, after an update the guard kept: the drawn slots'
 * priorities from the agent's own per-row losses. learn filled them with
 * NaN, so a row the agent left unwritten is caught here, not drawn forever
 * at a NaN priority. */
static int set_priorities(trainer *T, bdrl_err *e)
{
    const replay_batch *b = &T->batch;
    for (int i = 0; i < b->B; i++)
        if (!isfinite(b->sample_loss[i]))
            return err_set(e, "update at step %lld: prioritized replay needs each row's loss, and the %s agent "
                              "left row %d of %d at %g (agent_batch.sample_loss, agent.h; it must write every "
                              "row, or set replay.prioritized false)",
                           (long long)T->step, T->ag->ops->name, i, b->B, b->sample_loss[i]);
    if (replay_update_priorities(T->rb, b, b->sample_loss, e))
        return err_prefix(e, "update at step %lld", (long long)T->step);
    return 0;
}

/* Learn: one update on a minibatch of the replay (the replay generator
 * draws it, uniformly or by priority with β of this step; agent.mode
 * evaluate bootstraps from a' = π*(s'), the window's last next state with
 * agent.n_step), then the guard, then (prioritized replay) the drawn
 * slots' new priorities. Reads the replay; writes the agent, T->updates,
 * the priorities and, in skip mode, the snapshot. */
static int learn(trainer *T, bdrl_err *e)
{
    const exp_config *cfg = T->cfg;
    if (!cfg->replay.prioritized)
        replay_sample(T->rb, T->rsample, cfg->train.batch_size, &T->batch);
    else if (replay_sample_prioritized(T->rb, T->rsample, cfg->train.batch_size,
                                       replay_beta(cfg->replay.beta, exp_beta_steps(cfg), T->step), &T->batch, e))
        return err_prefix(e, "update at step %lld", (long long)T->step);
    const int *na = NULL;
    if (T->evaluate_mode) {
        for (int i = 0; i < T->batch.B; i++) {
            int s = (int)T->batch.next_obs[(size_t)i * T->D];
            T->batch.next_action[i] = T->policy[s];
        }
        na = T->batch.next_action;
    }
    agent_batch b = replay_batch_view(&T->batch, na);
    for (int i = 0; b.sample_loss && i < b.B; i++)
        b.sample_loss[i] = NAN;
    agent_stats ss;
    if (T->cfg->train.nonfinite == TRAIN_NONFINITE_SKIP && snapshot_agent(T, e))
        return err_prefix(e, "update at step %lld: snapshot", (long long)T->step);
    /* agent.noisy: new noise for the online networks, then the targets' own */
    if (T->noise)
        agent_noise_set(T->ag, AGENT_NOISE_UPDATE, T->noise);
    int urc = agent_update(T->ag, &b, &ss, e);
    if (T->noise)
        agent_noise_set(T->ag, AGENT_NOISE_OFF, NULL);
    if (urc)
        return err_prefix(e, "update at step %lld", (long long)T->step);
    T->updates++;
    int kept;
    if (guard_update(T, &ss, &kept, e))
        return -1;
    return kept && b.sample_loss ? set_priorities(T, e) : 0;
}

/* Target: the target networks move toward the online ones (train.tau). */
static void sync_target(trainer *T)
{
    agent_update_target(T->ag, T->cfg->train.tau);
    T->target_updates++;
}

/* Log the episode that just ended: its metrics row (return, length, the ε
 * of its last action, the update statistics summed since the last row),
 * then the next episode's reset. Clears the sums; counts the episode. */
static void end_episode(trainer *T)
{
    double n = T->acc_n;
    sbuf_printf(&T->metrics, "%lld,%lld,%.10g,%lld,%.6g,", (long long)T->step, (long long)T->episodes, T->ep_ret,
              (long long)T->ep_len, T->eps);
    sbuf_num(&T->metrics, n > 0 ? T->acc_loss / n : NAN, "%.8g");
    sbuf_printf(&T->metrics, ",");
    sbuf_num(&T->metrics, n > 0 ? T->acc_loss_grad / n : NAN, "%.8g");
    sbuf_printf(&T->metrics, ",");
    sbuf_num(&T->metrics, n > 0 ? T->acc_q / n : NAN, "%.8g");
    sbuf_printf(&T->metrics, ",%.1f\n", segment_sps(T));
    T->acc_loss = T->acc_loss_grad = T->acc_q = T->acc_n = 0;
    T->recent[T->n_recent++ % 10] = T->ep_ret;
    T->episodes++;
    start_episode(T);
}

/* Evaluate on evaluation steps: a greedy evaluation (its own environments;
 * the training state is untouched), its eval.csv row, then the files. Sets
 * *solved when eval.stop_at_threshold ends the run here (the caller writes
 * the files), *flushed when the files were written. */
static int evaluate_if_due(trainer *T, int *solved, int *flushed, bdrl_err *e)
{
    if (!train_is_eval_step(T->cfg, T->step))
        return 0;
    if (do_eval(T, e))
        return -1;
    if (T->cfg->eval.stop_at_threshold && trainer_eval_metric(T, &T->ev[T->n_ev - 1]) >= exp_threshold(T->cfg)) {
        *solved = 1;
        return 0;
    }
    if (trainer_flush_files(T, "running", e))
        return -1;
    *flushed = 1;
    return 0;
}

/* Checkpoint on checkpoint steps, or when train.checkpoint_seconds of wall
 * time have passed (every step asks the clock, a few ns), after the files
 * (the checkpoint holds the CSVs too; a resume rebuilds them from it). A
 * checkpoint changes no state: wherever it falls, the run is the same. */
static int checkpoint_if_due(trainer *T, int *flushed, bdrl_err *e)
{
    const double every = (double)T->cfg->train.checkpoint_seconds;
    int time_due = every > 0 && T->clock() - T->last_ckpt_time >= every;
    if (!train_is_checkpoint_step(T->cfg, T->step) && !time_due)
        return 0;
    if ((!*flushed && trainer_flush_files(T, "running", e)) || trainer_write_checkpoint(T, e))
        return -1;
    *flushed = 1;
    return 0;
}

/* Every 256 steps: the files when 30 s have passed since they were last
 * written (a kill then loses at most that much of the CSVs), and the
 * progress bar. */
static int keep_fresh(trainer *T, int flushed, bdrl_err *e)
{
    if ((T->step & 255) != 0)
        return 0;
    if (!flushed && trainer_now() - T->last_flush > 30 && trainer_flush_files(T, "running", e))
        return -1;
    progress(T, 0);
    return 0;
}

/* 1 when the caller asked the run to stop before the next step (a signal's
 * flag, or --stop-after's step count). */
static int stop_requested(const trainer *T, const train_options *opt)
{
    return opt && ((opt->stop && *opt->stop) || (opt->stop_after > 0 && T->step >= opt->stop_after));
}

/* The trainer's state from run_dir's checkpoint, the CSVs as they were at
 * its step, rebuilt from it (whatever the files on disk now hold: the
 * first flush replaces them), and no temporaries left by a killed writer. */
static int resume_run(trainer *T, bdrl_err *e)
{
    char path[4096];
    if (io_join(path, sizeof path, T->dir, RUN_FILE_CHECKPOINT, e) || trainer_read_checkpoint(T, path, e))
        return -1;
    sbuf_printf(&T->evalcsv, "%s\n", RUN_EVAL_HEADER);
    for (int64_t i = 0; i < T->n_ev; i++)
        trainer_eval_csv_row(&T->evalcsv, &T->ev[i]);
    if (!T->metrics_held && (io_join(path, sizeof path, T->dir, RUN_FILE_METRICS, e) ||
                             trainer_load_csv_upto(&T->metrics, path, RUN_METRICS_HEADER, T->step, e)))
        return -1;
    T->last_ckpt = T->step;
    trainer_remove_stale_temporaries(T->dir);
    return 0;
}

/* A new run: the CSVs' headers and the first episode's reset. */
static void start_run(trainer *T)
{
    sbuf_printf(&T->metrics, "%s\n", RUN_METRICS_HEADER);
    sbuf_printf(&T->evalcsv, "%s\n", RUN_EVAL_HEADER);
    start_episode(T);
}

static void fill_result(const trainer *T, int stopped, int solved, train_result *res)
{
    res->steps = T->step;
    res->episodes = T->episodes;
    res->stopped = stopped;
    res->solved = solved;
    res->skipped_updates = T->skipped;
    if (T->n_ev) {
        res->final_eval_return = T->ev[T->n_ev - 1].mean;
        res->final_success_rate = T->ev[T->n_ev - 1].success;
    }
    res->steps_to_threshold = trainer_steps_to_threshold(T);
    res->wall_seconds = trainer_wall_total(T);
}

int train_run(const exp_config *cfg, const char *run_dir, const train_options *opt, train_result *res,
              bdrl_err *e)
{
    trainer T;
    memset(&T, 0, sizeof T);
    T.dir = run_dir;
    T.log = opt ? opt->log : NULL;
    T.tty = T.log && isatty(fileno(T.log));
    int resume = opt && opt->resume;
    int rc = -1;
    char path[4096];
    memset(res, 0, sizeof *res);
    res->final_eval_return = res->final_success_rate = res->steps_to_threshold = NAN;
    res->setup_failed = 1;
    /* The run's own copy, with the ε decay length and the β annealing
     * length recorded: config.yaml keeps them, so a resume with a larger
     * budget decays ε and anneals β as before. */
    exp_config *run_cfg = malloc(sizeof *run_cfg);
    if (!run_cfg) {
        err_set(e, "out of memory");
        goto out;
    }
    *run_cfg = *cfg;
    exp_record_eps_decay(run_cfg);
    exp_record_beta_steps(run_cfg);
    cfg = run_cfg;

    /* Set up (and refuse absurd sizes) before the run directory exists. */
    if (trainer_setup(&T, cfg, opt, e) || io_mkdirs(run_dir, e))
        goto out;
    if (resume ? resume_run(&T, e) : (start_run(&T), 0))
        goto out;
    /* what follows writes the run directory: a failure there (a full disk)
     * is a runtime failure, not bad input */
    res->setup_failed = 0;
    if (io_join(path, sizeof path, run_dir, RUN_FILE_CONFIG, e) || cfg_save_yaml(&exp_schema, cfg, path, e))
        goto out;

    T.t_start = trainer_now();
    T.clock = opt && opt->clock ? opt->clock : trainer_now;
    T.last_ckpt_time = T.clock();
    T.step_start = T.step;
    res->start_step = T.step;
    T.fail_status = "failed";
    T.last_flush = T.t_start;
    const int64_t total = cfg->train.total_steps;
    if (resume) {
        note(&T, "train: resuming %s at step %lld of %lld", run_dir, (long long)T.step, (long long)total);
        if (T.support_warning[0]) /* this process's log has not said it yet */
            note(&T, "train: warning: %s", T.support_warning);
    } else {
        note(&T, "train: %s on %s, seed %lld, %lld steps -> %s", T.ag->ops->name, env_name(T.en),
             (long long)cfg->seed, (long long)total, run_dir);
    }
    if (trainer_flush_files(&T, "running", e))
        goto out;

    int stopped = 0, solved = 0;
    while (T.step < total) {
        if (stop_requested(&T, opt)) {
            stopped = 1;
            break;
        }
        int a, flushed = 0;
        env_step st;
        if (act(&T, &a, e) || store(&T, a, &st, e))
            goto out;
        if (train_is_update_step(cfg, T.step))
            for (int k = 0; k < cfg->train.gradient_steps; k++)
                if (learn(&T, e))
                    goto out;
        if (train_is_target_step(cfg, T.step))
            sync_target(&T);
        if (st.terminated || st.truncated)
            end_episode(&T);
        if (evaluate_if_due(&T, &solved, &flushed, e))
            goto out;
        if (solved)
            break;
        if (checkpoint_if_due(&T, &flushed, e) || keep_fresh(&T, flushed, e))
            goto out;
    }

    /* The files, then the checkpoint, as at every checkpoint: a resume
     * rebuilds the CSVs from the checkpoint, so a death between the two
     * loses nothing the checkpoint has. */
    if (trainer_flush_files(&T, stopped ? "interrupted" : solved ? "solved" : "finished", e))
        goto out;
    if ((stopped || solved) && T.last_ckpt != T.step && trainer_write_checkpoint(&T, e))
        goto out;
    progress(&T, 1);
    if (T.log && T.tty)
        fputc('\n', T.log);
    fill_result(&T, stopped, solved, res);
    rc = 0;
out:
    fatal_disarm();
    if (rc && T.t_start > 0) {
        trainer_fail_files(&T, e->msg);
        if (T.log && T.tty)
            fputc('\n', T.log);
    }
    trainer_free(&T);
    free(run_cfg);
    return rc;
}
