/* plugin.c — env.name plugin: an environment from a shared object that
 * implements include/bdrl/env_plugin.h, loaded with dlopen.
 *
 * Everything the plugin says is checked: at load time its symbols, interface
 * version, spec and transition table (a bad one makes env_create fail with a
 * one-line message, which the commands turn into exit status 2); at run time
 * each observation and reward (a bad one ends the process with one line and
 * exit status 2: the caller of env_do_step has no way to carry on). While a
 * plugin function runs, a thread-local note says which; the SIGSEGV, SIGBUS
 * and SIGFPE handler installed with the first plugin writes that note
 * (async-signal-safe write(2)), passes it to the fatal hook (env.h),
 * restores the previous handler and re-raises.
 */
#include "env_impl.h"

#include <bdrl/env_plugin.h>

#include <dlfcn.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* a plugin's largest observation and state fit struct env's buffers */
_Static_assert(BDRL_ENV_OBS_MAX <= ENV_OBS_MAX, "plugin observations must fit struct env's obs");
_Static_assert(BDRL_ENV_STATE_MAX <= ENV_STATE_MAX, "plugin states must fit ENV_STATE_MAX");

typedef int (*plug_version_fn)(void);
typedef void *(*plug_create_fn)(const bdrl_env_host *, bdrl_env_spec *, char *, size_t);
typedef void (*plug_destroy_fn)(void *);
typedef void (*plug_reset_fn)(void *, float *);
typedef void (*plug_step_fn)(void *, int, float *, double *, int *);
typedef int (*plug_transitions_fn)(void *, int, int, bdrl_env_outcome *);
typedef void (*plug_get_state_fn)(void *, double *);
typedef int (*plug_set_state_fn)(void *, const double *, float *);
typedef const char *(*plug_state_label_fn)(void *, int);

struct plugin_data {
    void *dl;
    void *inst;
    char path[ENV_PLUGIN_PATH_MAX + 3];
    char name[128];
    plug_destroy_fn destroy;
    plug_reset_fn reset;
    plug_step_fn step;
    plug_transitions_fn transitions;
    plug_get_state_fn get_state;
    plug_set_state_fn set_state;
    plug_state_label_fn state_label;
    char label[64];          /* the last state label asked for, copied */
    bdrl_env_spec spec;
    env_table table;
    char *layout;
};

/* ---- which plugin function is running, for the crash handler ---- */

static _Thread_local const char *volatile guard_path;
static _Thread_local const char *volatile guard_fn;
static struct sigaction old_action[3];
static const int CRASH_SIGNALS[3] = {SIGSEGV, SIGBUS, SIGFPE};
static atomic_int handlers_installed;

/* Appends s to buf (cap bytes, NUL-terminated) at *k: async-signal-safe. */
static void cat(char *buf, size_t cap, size_t *k, const char *s)
{
    while (*s && *k + 1 < cap)
        buf[(*k)++] = *s++;
    buf[*k] = '\0';
}

static void put(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    ssize_t w = write(STDERR_FILENO, s, n);
    (void)w;
}

static void on_crash(int sig)
{
    const char *path = guard_path, *fn = guard_fn;
    if (path) {
        static char why[ENV_PLUGIN_PATH_MAX + 128];
        size_t k = 0;
        cat(why, sizeof why, &k, "environment plugin ");
        cat(why, sizeof why, &k, path);
        cat(why, sizeof why, &k, " crashed (");
        cat(why, sizeof why, &k, sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : "SIGFPE");
        cat(why, sizeof why, &k, ") in ");
        cat(why, sizeof why, &k, fn ? fn : "?");
        put("bdrl: ");
        put(why);
        put("\n");
        env_fatal_hook hook = env_fatal_hook_get();
        if (hook)
            hook(why);
    }
    for (int i = 0; i < 3; i++)
        if (CRASH_SIGNALS[i] == sig)
            sigaction(sig, &old_action[i], NULL);
    raise(sig);
}

static void install_handlers(void)
{
    int expected = 0; /* the first env_create of a plugin, whichever thread */
    if (!atomic_compare_exchange_strong(&handlers_installed, &expected, 1))
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++)
        sigaction(CRASH_SIGNALS[i], &sa, &old_action[i]);
}

#define GUARD(p, fn_name, call) \
    do {                        \
        guard_path = (p)->path; \
        guard_fn = (fn_name);   \
        call;                   \
        guard_fn = NULL;        \
        guard_path = NULL;      \
    } while (0)

/* ---- run-time checks ---- */

static void die(const plugin_data *p, int action, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (action >= 0)
        env_contract_exit("environment plugin %s: %s (after action %d)", p->path, what, action);
    env_contract_exit("environment plugin %s: %s", p->path, what);
}

static void check_obs(const env *e, const char *fn, int action)
{
    const plugin_data *p = e->plug;
    for (int i = 0; i < e->obs_dim; i++)
        if (!isfinite(e->obs[i]))
            die(p, action, "%s returned a non-finite observation: obs[%d] = %g", fn, i, (double)e->obs[i]);
    if (e->tabular) {
        double v = e->obs[0];
        if (!(v >= 0 && v < e->n_states && v == floor(v)))
            die(p, action, "%s returned observation %g, not a state index in [0, %d)", fn, v, e->n_states);
    }
}

/* ---- the class ---- */

static double host_uniform(void *stream) { return rng_uniform((rng *)stream); }

static void *sym(plugin_data *p, const char *name, int required, bdrl_err *err)
{
    dlerror();
    void *f = dlsym(p->dl, name);
    if (!f && required)
        err_set(err, "env.plugin %s: missing symbol %s (not a bdrl environment plugin?)", p->path, name);
    return f;
}

static int read_table(env *e, bdrl_err *err)
{
    plugin_data *p = e->plug;
    env_table *t = &p->table;
    int S = p->spec.n_states, A = p->spec.n_actions, M = p->spec.max_outcomes;
    if (M < 1 || M > 1024)
        return err_set(err, "env.plugin %s: spec.max_outcomes is %d (a plugin with bdrl_env_transitions "
                            "needs 1 to 1024)", p->path, M);
    t->n_states = S;
    t->n_actions = A;
    t->max_outcomes = M;
    t->n_outcomes = err_calloc((size_t)S * (size_t)A, sizeof *t->n_outcomes, err);
    t->outcomes = err_calloc((size_t)S * (size_t)A * (size_t)M, sizeof *t->outcomes, err);
    t->terminal = err_calloc((size_t)S, 1, err);
    bdrl_env_outcome *buf = err_calloc((size_t)M, sizeof *buf, err);
    if (!t->n_outcomes || !t->outcomes || !t->terminal || !buf) {
        free(buf);
        return -1;
    }
    for (int s = 0; s < S; s++)
        for (int a = 0; a < A; a++) {
            int n;
            GUARD(p, "bdrl_env_transitions", n = p->transitions(p->inst, s, a, buf));
            if (n < 1 || n > M) {
                free(buf);
                return err_set(err, "env.plugin %s: transition table: state %d, action %d has %d "
                                    "outcomes (expected 1 to spec.max_outcomes = %d)", p->path, s, a, n, M);
            }
            t->n_outcomes[s * A + a] = n;
            for (int k = 0; k < n; k++)
                t->outcomes[((size_t)s * A + a) * M + k] =
                    (env_outcome){buf[k].prob, buf[k].next_state, buf[k].reward, buf[k].terminated != 0};
        }
    free(buf);
    if (env_table_check(t, err))
        return err_prefix(err, "env.plugin %s", p->path);
    env_table_mark_terminal(t);
    /* the drawing: the plugin's layout, or one row of F with H for terminals */
    p->layout = err_malloc((size_t)S + 1, err);
    if (!p->layout)
        return -1;
    const char *lay = p->spec.layout;
    int rows = p->spec.layout_rows;
    if (lay && strlen(lay) == (size_t)S && rows >= 1 && S % rows == 0 && strspn(lay, "SFHG") == (size_t)S) {
        memcpy(p->layout, lay, (size_t)S);
    } else if (lay) {
        return err_set(err, "env.plugin %s: spec.layout must be %d letters of S, F, H, G in layout_rows rows "
                            "that divide them", p->path, S);
    } else {
        rows = 1;
        for (int s = 0; s < S; s++)
            p->layout[s] = t->terminal[s] ? 'H' : 'F';
    }
    p->layout[S] = '\0';
    t->desc = p->layout;
    t->nrow = rows;
    t->ncol = S / rows;
    e->table = t;
    return 0;
}

static int plugin_init(env *e, const env_config *c, bdrl_err *err)
{
    plugin_data *p = err_calloc(1, sizeof *p, err);
    if (!p)
        return -1;
    e->plug = p;
    if (!c->plugin[0])
        return err_set(err, "env.plugin: env.name plugin needs env.plugin, the path of the shared object");
    /* A bare name would be searched for in the system's library path. */
    snprintf(p->path, sizeof p->path, "%s%s", strchr(c->plugin, '/') ? "" : "./", c->plugin);
    const char *base = strrchr(p->path, '/');
    snprintf(p->name, sizeof p->name, "%.127s", base ? base + 1 : p->path);
    install_handlers();
    GUARD(p, "its constructors (dlopen)", p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL));
    if (!p->dl) {
        const char *why = dlerror();
        return err_set(err, "env.plugin: cannot load %s: %s", p->path, why ? why : "unknown error");
    }
    plug_version_fn version = (plug_version_fn)sym(p, "bdrl_env_plugin_version", 1, err);
    plug_create_fn create = (plug_create_fn)sym(p, "bdrl_env_create", 1, err);
    p->destroy = (plug_destroy_fn)sym(p, "bdrl_env_destroy", 1, err);
    p->reset = (plug_reset_fn)sym(p, "bdrl_env_reset", 1, err);
    p->step = (plug_step_fn)sym(p, "bdrl_env_step", 1, err);
    if (!version || !create || !p->destroy || !p->reset || !p->step) {
        /* the first missing one's message */
        const char *names[5] = {"bdrl_env_plugin_version", "bdrl_env_create", "bdrl_env_destroy",
                                "bdrl_env_reset", "bdrl_env_step"};
        const void *fns[5] = {(void *)version, (void *)create, (void *)p->destroy, (void *)p->reset,
                              (void *)p->step};
        for (int i = 0; i < 5; i++)
            if (!fns[i])
                return err_set(err, "env.plugin %s: missing symbol %s (not a bdrl environment plugin?)",
                               p->path, names[i]);
    }
    p->transitions = (plug_transitions_fn)sym(p, "bdrl_env_transitions", 0, err);
    p->get_state = (plug_get_state_fn)sym(p, "bdrl_env_get_state", 0, err);
    p->set_state = (plug_set_state_fn)sym(p, "bdrl_env_set_state", 0, err);
    p->state_label = (plug_state_label_fn)sym(p, "bdrl_env_state_label", 0, err);
    int v;
    GUARD(p, "bdrl_env_plugin_version", v = version());
    if (v != BDRL_ENV_PLUGIN_VERSION)
        return err_set(err, "env.plugin %s: interface version %d, but this bdrl loads version %d (rebuild it "
                            "against this bdrl's bdrl/env_plugin.h)", p->path, v, BDRL_ENV_PLUGIN_VERSION);

    bdrl_env_param params[ENV_PARAMS_MAX];
    for (int i = 0; i < c->n_params; i++)
        params[i] = (bdrl_env_param){c->param_key[i], c->param_value[i]};
    bdrl_env_host host = {BDRL_ENV_PLUGIN_VERSION, params, c->n_params, host_uniform, e->r};
    char msg[512] = "";
    memset(&p->spec, 0, sizeof p->spec);
    GUARD(p, "bdrl_env_create", p->inst = create(&host, &p->spec, msg, sizeof msg));
    if (!p->inst) {
        msg[sizeof msg - 1] = '\0';
        for (char *q = msg; *q; q++)
            if (*q == '\n')
                *q = ' ';
        return err_set(err, "env.plugin %s: %s", p->path, msg[0] ? msg : "bdrl_env_create failed (no reason given)");
    }
    const bdrl_env_spec *sp = &p->spec;
    if (sp->name && sp->name[0])
        snprintf(p->name, sizeof p->name, "%.127s", sp->name);
    if (sp->obs_dim < 1 || sp->obs_dim > BDRL_ENV_OBS_MAX)
        return err_set(err, "env.plugin %s: spec.obs_dim is %d (expected 1 to %d)", p->path, sp->obs_dim,
                       BDRL_ENV_OBS_MAX);
    if (sp->n_actions < 1 || sp->n_actions > BDRL_ENV_ACTIONS_MAX)
        return err_set(err, "env.plugin %s: spec.n_actions is %d (expected 1 to %d)", p->path, sp->n_actions,
                       BDRL_ENV_ACTIONS_MAX);
    if (sp->n_states < 0 || sp->n_states > BDRL_ENV_STATES_MAX)
        return err_set(err, "env.plugin %s: spec.n_states is %d (expected 0, not tabular, to %d)", p->path,
                       sp->n_states, BDRL_ENV_STATES_MAX);
    if (sp->n_states > 0 && sp->obs_dim != 1)
        return err_set(err, "env.plugin %s: a tabular plugin (spec.n_states %d) has obs_dim 1, not %d", p->path,
                       sp->n_states, sp->obs_dim);
    if (sp->max_episode_steps < 0)
        return err_set(err, "env.plugin %s: spec.max_episode_steps is %d (0: no limit)", p->path,
                       sp->max_episode_steps);
    if (sp->state_dim < 0 || sp->state_dim > BDRL_ENV_STATE_MAX ||
        (sp->state_dim > 0 && (!p->get_state || !p->set_state)))
        return err_set(err, "env.plugin %s: spec.state_dim is %d; 1 to %d needs bdrl_env_get_state and "
                            "bdrl_env_set_state", p->path, sp->state_dim, BDRL_ENV_STATE_MAX);
    if (p->transitions && sp->n_states < 1)
        return err_set(err, "env.plugin %s: bdrl_env_transitions needs a tabular plugin (spec.n_states > 0)",
                       p->path);
    e->obs_dim = sp->obs_dim;
    e->n_actions = sp->n_actions;
    e->n_states = sp->n_states;
    e->tabular = sp->n_states > 0;
    e->state_dim = sp->state_dim > 0 ? sp->state_dim : e->tabular ? 1 : 0;
    e->state_names = sp->state_names ? sp->state_names : e->tabular ? "state" : "";
    e->action_names = sp->action_names;
    /* no limit: as good as none for an int step count */
    e->max_steps = sp->max_episode_steps > 0 ? sp->max_episode_steps : 0x7fffffff;
    if (p->transitions && read_table(e, err))
        return -1;
    return 0;
}

static void plugin_release(env *e)
{
    plugin_data *p = e->plug;
    if (!p)
        return;
    if (p->inst)
        GUARD(p, "bdrl_env_destroy", p->destroy(p->inst));
    if (p->dl)
        dlclose(p->dl);
    free(p->table.n_outcomes);
    free(p->table.outcomes);
    free(p->table.terminal);
    free(p->layout);
    free(p);
    e->plug = NULL;
}

static void plugin_reset(env *e)
{
    plugin_data *p = e->plug;
    GUARD(p, "bdrl_env_reset", p->reset(p->inst, e->obs));
    check_obs(e, "bdrl_env_reset", -1);
}

static void plugin_step(env *e, int action, env_step *out)
{
    plugin_data *p = e->plug;
    double r = 0;
    int term = 0;
    GUARD(p, "bdrl_env_step", p->step(p->inst, action, e->obs, &r, &term));
    check_obs(e, "bdrl_env_step", action);
    if (!isfinite(r))
        die(p, action, "bdrl_env_step returned a non-finite reward %g", r);
    out->obs = e->obs;
    out->reward = r;
    out->terminated = term != 0;
}

static void plugin_get_state(const env *e, double *state)
{
    plugin_data *p = e->plug;
    if (p->get_state)
        GUARD(p, "bdrl_env_get_state", p->get_state(p->inst, state));
    else if (e->tabular)
        state[0] = e->obs[0];
}

static int plugin_set_state(env *e, const double *state, bdrl_err *err)
{
    plugin_data *p = e->plug;
    if (!p->set_state)
        return err_set(err, "environment plugin %s has no bdrl_env_set_state", p->path);
    for (int i = 0; i < e->state_dim; i++)
        if (!isfinite(state[i]))
            return err_set(err, "%s: state component %d is not finite (%g)", p->name, i, state[i]);
    int rc;
    GUARD(p, "bdrl_env_set_state", rc = p->set_state(p->inst, state, e->obs));
    if (rc)
        return err_set(err, "%s: the plugin refused that state", p->name);
    check_obs(e, "bdrl_env_set_state", -1);
    return 0;
}

static int plugin_success(const env *e, const env_step *st)
{
    (void)e;
    return st->terminated;
}

static void plugin_describe(const env *e, const env_config *c, FILE *f)
{
    const plugin_data *p = e->plug;
    fprintf(f, "plugin: %s (%s%s%s, interface version %d)\n", p->name, p->path, c->plugin_given[0] ? ", given as " : "",
            c->plugin_given, BDRL_ENV_PLUGIN_VERSION);
    fprintf(f, "actions:");
    for (int a = 0; a < e->n_actions; a++)
        fprintf(f, "%s %d %s", a ? "," : "", a, env_action_name(e, a));
    fprintf(f, "\n");
    if (e->tabular)
        fprintf(f, "n_states: %d\n", e->n_states);
    fprintf(f, "transition table: %s\n", e->table ? "yes (exact truth)" : "no");
    for (int i = 0; i < c->n_params; i++)
        fprintf(f, "param %s: %s\n", c->param_key[i], c->param_value[i]);
    if (e->table) {
        fprintf(f, "layout:\n");
        for (int r = 0; r < e->table->nrow; r++)
            fprintf(f, "  %.*s\n", e->table->ncol, e->table->desc + r * e->table->ncol);
    }
}

static const char *plugin_display_name(const env *e) { return e->plug->name; }

/* The plugin's own label, else what its layout says (S start, G goal; its H
 * is any terminal, not a hole). The label is copied: the plugin's string
 * need only last the call. */
static const char *plugin_state_label(const env *e, int s)
{
    plugin_data *p = e->plug;
    const char *l = NULL;
    if (p->state_label) {
        GUARD(p, "bdrl_env_state_label", l = p->state_label(p->inst, s));
        if (l && *l) {
            snprintf(p->label, sizeof p->label, "%s", l);
            for (char *c = p->label; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == '\'' || *c == '"' || *c == '\\')
                    *c = ' '; /* one line, and safe inside a figure's quoted text */
            return p->label;
        }
    }
    if (!p->spec.layout || !e->table)
        return "";
    return e->table->desc[s] == 'S' ? "S start" : e->table->desc[s] == 'G' ? "G goal" : "";
}

const env_class plugin_class = {
    .info = {"plugin", "plugin",
             "your own environment: a shared object implementing bdrl/env_plugin.h (env.plugin, env.params)",
             NULL, "the plugin's state components", 0, 0, NAN /* no threshold: eval.threshold */, 2, 0, NULL, NULL},
    .init = plugin_init,
    .release = plugin_release,
    .reset = plugin_reset,
    .step = plugin_step,
    .get_state = plugin_get_state,
    .set_state = plugin_set_state,
    .success = plugin_success,
    .describe = plugin_describe,
    .display_name = plugin_display_name,
    .state_label = plugin_state_label,
};
