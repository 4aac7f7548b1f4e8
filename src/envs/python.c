/* python.c — env.name python: a Gymnasium-style environment written in
 * Python (env.python FILE.py:CLASS, MODULE:CLASS or gymnasium:ID), run by
 * an embedded CPython. The Python counterpart of plugin.c, with the same
 * contract and the same checks.
 *
 * The interpreter starts once per process, at the first python env, and
 * lives until the process ends (never finalized: objects of other envs may
 * still be alive). The GIL is released after initialisation and taken only
 * inside this file, around each call (PyGILState_Ensure/Release), so envs
 * may be created and used from any thread; each env is its own Python
 * object. python_boot.h finds, imports and constructs the class and reads
 * its spaces and table once; reset, step and the observations go through
 * the C API here, reading observations by the buffer protocol (numpy
 * arrays, array.array) or the sequence protocol (lists, tuples), so the
 * bridge needs no numpy.
 *
 * Seeds: env_reset with a seed calls reset(seed=S); without one,
 * reset(seed=None), except at an object's first reset, which gets seed 0
 * (bdrl's envs use seed 0's stream until seeded: unseeded runs stay
 * reproducible).
 *
 * A bad environment at creation (does not import, no such class, the
 * constructor raises, spaces bdrl cannot use, a bad table P) fails
 * env_create with one line; at run time (an exception in reset or step, a
 * wrong return arity, a non-finite or wrongly shaped observation, a
 * non-finite reward) the process ends through env_contract_exit, as a
 * broken plugin does. An exception is named by type, message and the
 * file:line where it was raised.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "env_impl.h"
#include "python_boot.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct python_data {
    char target[ENV_PLUGIN_PATH_MAX]; /* env.python, for messages */
    PyObject *obj;                    /* the environment */
    PyObject *reset_m, *step_m, *get_state_m, *set_state_m; /* its bound methods (NULL: none) */
    PyObject *kw_reset;               /* {"seed": ...}, reused */
    int reset_before;                 /* reset at least once */
    int vector_dim;                   /* > 0: the observation is this many floats */
    char *state_names, *action_name_buf;
    const char **action_names;
    env_table table;
    char *layout;
};

/* ---- the interpreter ---- */

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static int started;          /* 1: ready; -1: failed */
static PyObject *boot;       /* the globals of PY_BOOT */
static char start_error[512];

static void flatten(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

/* "TYPE: MESSAGE (FILE:LINE)" of the pending exception, which it clears;
 * the location is the innermost frame outside the bridge and importlib. */
static void exc_text(char *buf, size_t n)
{
    PyObject *type, *val, *tb;
    PyErr_Fetch(&type, &val, &tb);
    PyErr_NormalizeException(&type, &val, &tb);
    const char *tname = type && PyType_Check(type) ? ((PyTypeObject *)type)->tp_name : "exception";
    char msg[400] = "", where[300] = "";
    PyObject *s = val ? PyObject_Str(val) : NULL;
    const char *m = s ? PyUnicode_AsUTF8(s) : NULL;
    snprintf(msg, sizeof msg, "%s", m ? m : "");
    PyErr_Clear();
    Py_XDECREF(s);
    int bad = type && boot && PyErr_GivenExceptionMatches(type, PyDict_GetItemString(boot, "Bad"));
    for (PyObject *t = tb; t && t != Py_None;) {
        PyObject *fr = PyObject_GetAttrString(t, "tb_frame");
        PyObject *code = fr ? PyObject_GetAttrString(fr, "f_code") : NULL;
        PyObject *fn = code ? PyObject_GetAttrString(code, "co_filename") : NULL;
        PyObject *ln = PyObject_GetAttrString(t, "tb_lineno");
        const char *f = fn ? PyUnicode_AsUTF8(fn) : NULL;
        if (f && ln && f[0] != '<')
            snprintf(where, sizeof where, "%s:%ld", f, PyLong_AsLong(ln));
        Py_XDECREF(fr);
        Py_XDECREF(code);
        Py_XDECREF(fn);
        Py_XDECREF(ln);
        PyObject *next = PyObject_GetAttrString(t, "tb_next");
        PyErr_Clear();
        if (t != tb)
            Py_DECREF(t);
        t = next;
        if (t == Py_None) {
            Py_DECREF(t);
            break;
        }
    }
    if (val && PyErr_GivenExceptionMatches(type, PyExc_SyntaxError)) {
        PyObject *fn = PyObject_GetAttrString(val, "filename"), *ln = PyObject_GetAttrString(val, "lineno");
        if (fn && PyUnicode_Check(fn) && ln && PyLong_Check(ln))
            snprintf(where, sizeof where, "%s:%ld", PyUnicode_AsUTF8(fn), PyLong_AsLong(ln));
        Py_XDECREF(fn);
        Py_XDECREF(ln);
        PyErr_Clear();
    }
    if (bad)
        snprintf(buf, n, "%s", msg);
    else if (where[0])
        snprintf(buf, n, "%s: %s (at %s)", tname, msg, where);
    else
        snprintf(buf, n, "%s: %s", tname, msg);
    flatten(buf);
    Py_XDECREF(type);
    Py_XDECREF(val);
    Py_XDECREF(tb);
}

static int start_python(bdrl_err *err)
{
    pthread_mutex_lock(&start_lock);
    if (!started) {
        started = -1;
        if (!Py_IsInitialized()) {
            PyConfig cfg;
            PyConfig_InitPythonConfig(&cfg);
            cfg.install_signal_handlers = 0; /* bdrl's SIGINT/SIGTERM handling stays */
            cfg.parse_argv = 0;
            PyStatus st = Py_InitializeFromConfig(&cfg);
            PyConfig_Clear(&cfg);
            if (PyStatus_Exception(st)) {
                snprintf(start_error, sizeof start_error, "cannot start the Python interpreter: %s",
                         st.err_msg ? st.err_msg : "unknown error");
                goto done;
            }
        }
        boot = PyDict_New();
        if (boot && !PyDict_SetItemString(boot, "__builtins__", PyEval_GetBuiltins()) &&
            !PyDict_SetItemString(boot, "__name__", PyUnicode_FromString("<bdrl>"))) {
            PyObject *code = Py_CompileString(PY_BOOT, "<bdrl>", Py_file_input);
            PyObject *r = code ? PyEval_EvalCode(code, boot, boot) : NULL;
            Py_XDECREF(code);
            if (r)
                started = 1;
            Py_XDECREF(r);
        }
        if (started != 1) {
            char why[400];
            exc_text(why, sizeof why);
            snprintf(start_error, sizeof start_error, "cannot start the Python bridge: %s", why);
        }
        PyEval_SaveThread(); /* from now on the GIL is taken per call */
    }
done:
    pthread_mutex_unlock(&start_lock);
    if (started != 1)
        return err_set(err, "env.python: %s", start_error);
    return 0;
}

/* ---- conversions ---- */

/* env.params value by its form: integer, float, true/false, else str. */
static PyObject *param_value(const char *v)
{
    char *end;
    if (*v && strspn(v + (*v == '-' || *v == '+'), "0123456789") == strlen(v + (*v == '-' || *v == '+')) &&
        strlen(v) > (size_t)(*v == '-' || *v == '+'))
        return PyLong_FromString(v, NULL, 10);
    double d = strtod(v, &end);
    if (*v && !*end && strpbrk(v, "0123456789"))
        return PyFloat_FromDouble(d);
    if (!strcmp(v, "true") || !strcmp(v, "True"))
        Py_RETURN_TRUE;
    if (!strcmp(v, "false") || !strcmp(v, "False"))
        Py_RETURN_FALSE;
    return PyUnicode_FromString(v);
}

/* Reads an observation into e->obs. Returns 0, or -1 with the reason in why. */
static int read_obs(env *e, PyObject *o, char *why, size_t n)
{
    python_data *p = e->py;
    if (e->tabular) {
        PyObject *i = PyNumber_Index(o);
        long v = i ? PyLong_AsLong(i) : -1;
        Py_XDECREF(i);
        if (!i || PyErr_Occurred()) {
            PyErr_Clear();
            PyObject *r = PyObject_Repr(o);
            snprintf(why, n, "observation %.80s is not an integer state index", r ? PyUnicode_AsUTF8(r) : "?");
            Py_XDECREF(r);
            PyErr_Clear();
            return -1;
        }
        if (v < 0 || v >= e->n_states) {
            snprintf(why, n, "observation %ld is not a state index in [0, %d)", v, e->n_states);
            return -1;
        }
        e->obs[0] = (float)v;
        return 0;
    }
    int dim = p->vector_dim;
    Py_buffer b;
    if (PyObject_CheckBuffer(o) && PyObject_GetBuffer(o, &b, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) == 0) {
        const char *f = b.format ? b.format : "B";
        if (*f == '<' || *f == '=' || *f == '@')
            f++;
        Py_ssize_t cnt = b.itemsize > 0 ? b.len / b.itemsize : 0;
        int ok = f[0] && !f[1] && strchr("fdbBhHiIlLqQ", f[0]);
        if (ok && cnt == dim) {
            for (int k = 0; k < dim; k++) {
                const char *q = (const char *)b.buf + (size_t)k * (size_t)b.itemsize;
                double x = 0;
                switch (f[0]) {
                case 'f': { float v; memcpy(&v, q, 4); x = v; break; }
                case 'd': { double v; memcpy(&v, q, 8); x = v; break; }
                case 'b': x = *(const signed char *)q; break;
                case 'B': x = *(const unsigned char *)q; break;
                case 'h': { short v; memcpy(&v, q, sizeof v); x = v; break; }
                case 'H': { unsigned short v; memcpy(&v, q, sizeof v); x = v; break; }
                case 'i': { int v; memcpy(&v, q, sizeof v); x = v; break; }
                case 'I': { unsigned v; memcpy(&v, q, sizeof v); x = v; break; }
                case 'l': { long v; memcpy(&v, q, sizeof v); x = (double)v; break; }
                case 'L': { unsigned long v; memcpy(&v, q, sizeof v); x = (double)v; break; }
                case 'q': { long long v; memcpy(&v, q, sizeof v); x = (double)v; break; }
                default: { unsigned long long v; memcpy(&v, q, sizeof v); x = (double)v; break; }
                }
                e->obs[k] = (float)x;
            }
        }
        PyBuffer_Release(&b);
        if (!ok) {
            snprintf(why, n, "observation buffer of format '%s' (expected numbers)", b.format ? b.format : "B");
            return -1;
        }
        if (cnt != dim) {
            snprintf(why, n, "wrong observation shape: %zd numbers, observation_space.shape says %d",
                     (ssize_t)cnt, dim);
            return -1;
        }
    } else {
        PyErr_Clear();
        PyObject *seq = PySequence_Fast(o, "");
        if (!seq) {
            PyErr_Clear();
            snprintf(why, n, "observation of type %s is not a sequence of numbers", Py_TYPE(o)->tp_name);
            return -1;
        }
        Py_ssize_t cnt = PySequence_Fast_GET_SIZE(seq);
        if (cnt != dim) {
            Py_DECREF(seq);
            snprintf(why, n, "wrong observation shape: %zd items, observation_space.shape says %d numbers",
                     (ssize_t)cnt, dim);
            return -1;
        }
        for (int k = 0; k < dim; k++) {
            double x = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(seq, k));
            if (x == -1.0 && PyErr_Occurred()) {
                PyErr_Clear();
                Py_DECREF(seq);
                snprintf(why, n, "wrong observation shape: obs[%d] is not a number", k);
                return -1;
            }
            e->obs[k] = (float)x;
        }
        Py_DECREF(seq);
    }
    for (int k = 0; k < dim; k++)
        if (!isfinite(e->obs[k])) {
            snprintf(why, n, "non-finite observation: obs[%d] = %g", k, (double)e->obs[k]);
            return -1;
        }
    return 0;
}

/* ---- run-time contract ---- */

static void die(const env *e, const char *fn, int action, const char *what)
{
    if (action >= 0)
        env_contract_exit("python environment %s: %s: %s (after action %d)", e->py->target, fn, what, action);
    env_contract_exit("python environment %s: %s: %s", e->py->target, fn, what);
}

/* The pending exception raised by fn: ends the process. */
static void die_exc(const env *e, const char *fn, int action)
{
    char why[700];
    exc_text(why, sizeof why);
    char what[760];
    snprintf(what, sizeof what, "raised %s", why);
    die(e, fn, action, what);
}

/* ---- the class ---- */

static int fail(bdrl_err *err, const python_data *p, const char *what)
{
    return err_set(err, "env.python %s: %s", p->target, what);
}

static int fail_exc(bdrl_err *err, const python_data *p)
{
    char why[700], phase[200] = "";
    PyObject *ph = PyDict_GetItemString(boot, "phase");
    const char *s = ph && PyUnicode_Check(ph) ? PyUnicode_AsUTF8(ph) : NULL;
    int bad = PyErr_ExceptionMatches(PyDict_GetItemString(boot, "Bad"));
    if (s && s[0] && !bad)
        snprintf(phase, sizeof phase, "%s: ", s);
    exc_text(why, sizeof why);
    return err_set(err, "env.python %s: %s%s", p->target, phase, why);
}

static int read_table(env *e, PyObject *rows, bdrl_err *err)
{
    python_data *p = e->py;
    env_table *t = &p->table;
    int S = e->n_states, A = e->n_actions, M = 1;
    if (!PyList_Check(rows) || PyList_GET_SIZE(rows) != (Py_ssize_t)S * A)
        return fail(err, p, "its table P does not cover every state and action");
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        Py_ssize_t k = PyList_GET_SIZE(PyList_GET_ITEM(rows, i));
        if (k < 1 || k > 1024) {
            char w[160];
            snprintf(w, sizeof w, "its table P[%d][%d] has %zd outcomes (expected 1 to 1024)", (int)(i / A),
                     (int)(i % A), (ssize_t)k);
            return fail(err, p, w);
        }
        if (k > M)
            M = (int)k;
    }
    t->n_states = S;
    t->n_actions = A;
    t->max_outcomes = M;
    t->n_outcomes = err_calloc((size_t)S * (size_t)A, sizeof *t->n_outcomes, err);
    t->outcomes = err_calloc((size_t)S * (size_t)A * (size_t)M, sizeof *t->outcomes, err);
    t->terminal = err_calloc((size_t)S, 1, err);
    p->layout = err_calloc((size_t)S + 1, 1, err);
    if (!t->n_outcomes || !t->outcomes || !t->terminal || !p->layout)
        return -1;
    for (int sa = 0; sa < S * A; sa++) {
        PyObject *row = PyList_GET_ITEM(rows, sa);
        int k = (int)PyList_GET_SIZE(row);
        t->n_outcomes[sa] = k;
        for (int j = 0; j < k; j++) {
            PyObject *o = PyList_GET_ITEM(row, j); /* (float, int, float, bool) from describe() */
            long ns = PyLong_AsLong(PyTuple_GET_ITEM(o, 1));
            if (PyErr_Occurred() || ns < -1 || ns > S) {
                PyErr_Clear();
                ns = -1; /* out of range: env_table_check names it */
            }
            t->outcomes[(size_t)sa * M + j] = (env_outcome){PyFloat_AsDouble(PyTuple_GET_ITEM(o, 0)), (int)ns,
                                                            PyFloat_AsDouble(PyTuple_GET_ITEM(o, 2)),
                                                            PyTuple_GET_ITEM(o, 3) == Py_True};
        }
    }
    if (env_table_check(t, err))
        return err_prefix(err, "env.python %s: its table P", p->target);
    env_table_mark_terminal(t);
    for (int s = 0; s < S; s++)
        p->layout[s] = t->terminal[s] ? 'H' : 'F';
    t->desc = p->layout;
    t->nrow = 1;
    t->ncol = S;
    e->table = t;
    return 0;
}

/* Reads describe()'s tuple (A, S, dim, T, sdim, state_names, action_names, table). */
static int take_spec(env *e, PyObject *d, bdrl_err *err)
{
    python_data *p = e->py;
    long A = PyLong_AsLong(PyTuple_GET_ITEM(d, 0)), S = PyLong_AsLong(PyTuple_GET_ITEM(d, 1));
    long dim = PyLong_AsLong(PyTuple_GET_ITEM(d, 2)), T = PyLong_AsLong(PyTuple_GET_ITEM(d, 3));
    long sdim = PyLong_AsLong(PyTuple_GET_ITEM(d, 4));
    PyErr_Clear();
    char w[200];
    if (A < 1 || A > 256) {
        snprintf(w, sizeof w, "action_space.n is %ld (expected 1 to 256)", A);
        return fail(err, p, w);
    }
    if (S < 0 || S > 100000) {
        snprintf(w, sizeof w, "observation_space.n is %ld (expected 1 to 100000)", S);
        return fail(err, p, w);
    }
    if (S == 0 && (dim < 1 || dim > ENV_OBS_MAX)) {
        snprintf(w, sizeof w, "observation_space.shape holds %ld numbers (expected 1 to %d)", dim, ENV_OBS_MAX);
        return fail(err, p, w);
    }
    if (sdim < 0 || sdim > ENV_STATE_MAX) {
        snprintf(w, sizeof w, "get_state returns %ld numbers (expected 1 to %d)", sdim, ENV_STATE_MAX);
        return fail(err, p, w);
    }
    e->n_actions = (int)A;
    e->n_states = (int)S;
    e->tabular = S > 0;
    e->obs_dim = S > 0 ? 1 : (int)dim;
    p->vector_dim = S > 0 ? 0 : (int)dim;
    e->max_steps = T > 0 ? (int)T : 0x7fffffff;
    e->state_dim = sdim > 0 ? (int)sdim : e->tabular ? 1 : 0;
    const char *sn = PyUnicode_AsUTF8(PyTuple_GET_ITEM(d, 5));
    p->state_names = strdup(sdim > 0 && sn ? sn : e->tabular ? "state" : "");
    if (!p->state_names)
        return err_set(err, "out of memory");
    e->state_names = p->state_names;
    PyObject *an = PyTuple_GET_ITEM(d, 6);
    if (an != Py_None) {
        size_t len = 0;
        for (int a = 0; a < A; a++)
            len += strlen(PyUnicode_AsUTF8(PyList_GET_ITEM(an, a))) + 1;
        p->action_name_buf = malloc(len);
        p->action_names = calloc((size_t)A, sizeof *p->action_names);
        if (!p->action_name_buf || !p->action_names)
            return err_set(err, "out of memory");
        char *q = p->action_name_buf;
        for (int a = 0; a < A; a++) {
            const char *s = PyUnicode_AsUTF8(PyList_GET_ITEM(an, a));
            p->action_names[a] = q;
            q = stpcpy(q, s) + 1;
        }
        e->action_names = p->action_names;
    }
    PyObject *table = PyTuple_GET_ITEM(d, 7);
    return table != Py_None ? read_table(e, table, err) : 0;
}

static int python_init_locked(env *e, const env_config *c, bdrl_err *err)
{
    python_data *p = e->py;
    PyObject *paths = PyList_New(0), *kw = PyDict_New(), *load = PyDict_GetItemString(boot, "load");
    int rc = -1;
    PyObject *d = NULL;
    if (!paths || !kw)
        goto pyerr;
    for (int i = 0; i < c->n_python_path; i++) {
        PyObject *s = PyUnicode_FromString(c->python_path[i]);
        if (!s || PyList_Append(paths, s)) {
            Py_XDECREF(s);
            goto pyerr;
        }
        Py_DECREF(s);
    }
    for (int i = 0; i < c->n_params; i++) {
        PyObject *v = param_value(c->param_value[i]);
        if (!v || PyDict_SetItemString(kw, c->param_key[i], v)) {
            Py_XDECREF(v);
            goto pyerr;
        }
        Py_DECREF(v);
    }
    p->obj = PyObject_CallFunction(load, "sOO", c->python, paths, kw);
    if (!p->obj)
        goto pyerr;
    d = PyObject_CallFunctionObjArgs(PyDict_GetItemString(boot, "describe"), p->obj, NULL);
    if (!d)
        goto pyerr;
    p->reset_m = PyObject_GetAttrString(p->obj, "reset");
    p->step_m = p->reset_m ? PyObject_GetAttrString(p->obj, "step") : NULL;
    if (!p->reset_m || !p->step_m) {
        PyErr_Clear();
        rc = fail(err, p, "it has no reset or no step method");
        goto out;
    }
    if (PyLong_AsLong(PyTuple_GET_ITEM(d, 4)) > 0) {
        p->get_state_m = PyObject_GetAttrString(p->obj, "get_state");
        p->set_state_m = PyObject_GetAttrString(p->obj, "set_state");
    }
    p->kw_reset = PyDict_New();
    if (!p->kw_reset)
        goto pyerr;
    rc = take_spec(e, d, err);
    goto out;
pyerr:
    rc = fail_exc(err, p);
out:
    Py_XDECREF(d);
    Py_XDECREF(paths);
    Py_XDECREF(kw);
    return rc;
}

static int python_init(env *e, const env_config *c, bdrl_err *err)
{
    python_data *p = err_calloc(1, sizeof *p, err);
    if (!p)
        return -1;
    e->py = p;
    snprintf(p->target, sizeof p->target, "%s", c->python);
    if (!c->python[0])
        return err_set(err, "env.python: env.name python needs env.python, FILE.py:CLASS, MODULE:CLASS or "
                            "gymnasium:ID");
    if (start_python(err))
        return -1;
    PyGILState_STATE g = PyGILState_Ensure();
    int rc = python_init_locked(e, c, err);
    PyGILState_Release(g);
    return rc;
}

static void python_release(env *e)
{
    python_data *p = e->py;
    if (!p)
        return;
    if (p->obj) {
        PyGILState_STATE g = PyGILState_Ensure();
        Py_XDECREF(p->reset_m);
        Py_XDECREF(p->step_m);
        Py_XDECREF(p->get_state_m);
        Py_XDECREF(p->set_state_m);
        Py_XDECREF(p->kw_reset);
        Py_DECREF(p->obj);
        PyGILState_Release(g);
    }
    free(p->table.n_outcomes);
    free(p->table.outcomes);
    free(p->table.terminal);
    free(p->layout);
    free(p->state_names);
    free(p->action_names);
    free(p->action_name_buf);
    free(p);
    e->py = NULL;
}

static void python_reset(env *e)
{
    python_data *p = e->py;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *seed = e->reset_seeded ? PyLong_FromUnsignedLongLong(e->reset_seed)
                     : !p->reset_before ? PyLong_FromLong(0)
                                        : (Py_INCREF(Py_None), Py_None);
    p->reset_before = 1;
    if (!seed || PyDict_SetItemString(p->kw_reset, "seed", seed))
        die_exc(e, "reset", -1);
    Py_DECREF(seed);
    PyObject *none = PyTuple_New(0);
    PyObject *r = none ? PyObject_Call(p->reset_m, none, p->kw_reset) : NULL;
    Py_XDECREF(none);
    if (!r)
        die_exc(e, "reset", -1);
    char why[300];
    if (!PyTuple_Check(r) || PyTuple_GET_SIZE(r) != 2) {
        snprintf(why, sizeof why, "returned %s%s, not the pair (obs, info)",
                 PyTuple_Check(r) ? "a tuple of " : "a ", PyTuple_Check(r) ? "the wrong length" : Py_TYPE(r)->tp_name);
        die(e, "reset", -1, why);
    }
    if (read_obs(e, PyTuple_GET_ITEM(r, 0), why, sizeof why))
        die(e, "reset", -1, why);
    Py_DECREF(r);
    PyGILState_Release(g);
}

static void python_step(env *e, int action, env_step *out)
{
    python_data *p = e->py;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *a = PyLong_FromLong(action);
    PyObject *r = a ? PyObject_CallOneArg(p->step_m, a) : NULL;
    Py_XDECREF(a);
    if (!r)
        die_exc(e, "step", action);
    char why[300];
    if (!PyTuple_Check(r) || PyTuple_GET_SIZE(r) != 5) {
        if (PyTuple_Check(r))
            snprintf(why, sizeof why, "returned %zd values, not (obs, reward, terminated, truncated, info)",
                     (ssize_t)PyTuple_GET_SIZE(r));
        else
            snprintf(why, sizeof why, "returned a %s, not (obs, reward, terminated, truncated, info)",
                     Py_TYPE(r)->tp_name);
        die(e, "step", action, why);
    }
    if (read_obs(e, PyTuple_GET_ITEM(r, 0), why, sizeof why))
        die(e, "step", action, why);
    double rew = PyFloat_AsDouble(PyTuple_GET_ITEM(r, 1));
    if (rew == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        die(e, "step", action, "the reward is not a number");
    }
    if (!isfinite(rew)) {
        snprintf(why, sizeof why, "non-finite reward %g", rew);
        die(e, "step", action, why);
    }
    int term = PyObject_IsTrue(PyTuple_GET_ITEM(r, 2)), trunc = PyObject_IsTrue(PyTuple_GET_ITEM(r, 3));
    if (term < 0 || trunc < 0)
        die_exc(e, "step", action);
    Py_DECREF(r);
    PyGILState_Release(g);
    out->obs = e->obs;
    out->reward = rew;
    out->terminated = term;
    out->truncated = trunc;
}

static void python_get_state(const env *e, double *state)
{
    python_data *p = e->py;
    if (!p->get_state_m) {
        if (e->tabular)
            state[0] = e->obs[0];
        return;
    }
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *r = PyObject_CallNoArgs(p->get_state_m);
    if (!r)
        die_exc(e, "get_state", -1);
    PyObject *seq = PySequence_Fast(r, "");
    if (!seq || PySequence_Fast_GET_SIZE(seq) != e->state_dim) {
        char why[160];
        snprintf(why, sizeof why, "returned %s, not %d numbers", seq ? "the wrong number of values" : "no sequence",
                 e->state_dim);
        die(e, "get_state", -1, why);
    }
    for (int i = 0; i < e->state_dim; i++) {
        state[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(seq, i));
        if (PyErr_Occurred())
            die_exc(e, "get_state", -1);
    }
    Py_DECREF(seq);
    Py_DECREF(r);
    PyGILState_Release(g);
}

static int python_set_state(env *e, const double *state, bdrl_err *err)
{
    python_data *p = e->py;
    if (!p->set_state_m)
        return err_set(err, "python environment %s has no get_state/set_state methods", p->target);
    for (int i = 0; i < e->state_dim; i++)
        if (!isfinite(state[i]))
            return err_set(err, "%s: state component %d is not finite (%g)", p->target, i, state[i]);
    PyGILState_STATE g = PyGILState_Ensure();
    int rc = 0;
    PyObject *l = PyList_New(e->state_dim);
    for (int i = 0; l && i < e->state_dim; i++)
        PyList_SET_ITEM(l, i, PyFloat_FromDouble(state[i]));
    PyObject *r = l ? PyObject_CallOneArg(p->set_state_m, l) : NULL;
    Py_XDECREF(l);
    char why[700];
    if (!r) {
        exc_text(why, sizeof why);
        rc = err_set(err, "python environment %s refused that state: %s", p->target, why);
    } else if (read_obs(e, r, why, sizeof why)) {
        die(e, "set_state (which returns the new state's observation)", -1, why);
    }
    Py_XDECREF(r);
    PyGILState_Release(g);
    return rc;
}

static int python_success(const env *e, const env_step *st)
{
    (void)e;
    return st->terminated;
}

static void python_describe(const env *e, const env_config *c, FILE *f)
{
    fprintf(f, "python: %s (embedded Python %s)\n", e->py->target, PY_VERSION);
    fprintf(f, "actions:");
    for (int a = 0; a < e->n_actions; a++)
        fprintf(f, "%s %d %s", a ? "," : "", a, env_action_name(e, a));
    fprintf(f, "\n");
    if (e->tabular)
        fprintf(f, "n_states: %d\n", e->n_states);
    fprintf(f, "transition table: %s\n", e->table ? "yes, its P (exact truth)" : "no");
    fprintf(f, "state: %s\n", e->py->get_state_m ? "get_state/set_state" : e->tabular ? "the observation" : "none");
    fprintf(f, "checkpoints: the Python object is not saved; a resume replays the current episode from its "
               "seeded reset\n");
    for (int i = 0; i < c->n_params; i++)
        fprintf(f, "param %s: %s\n", c->param_key[i], c->param_value[i]);
}

const env_class python_class = {
    .info = {"python", "python",
             "a Gymnasium-style environment in Python, run embedded (env.python FILE.py:CLASS, MODULE:CLASS\n"
             "or gymnasium:ID; env.params its keyword arguments)",
             NULL, "the environment's get_state components (or its state index)", 0, 0, 0.0, 2, 0, NULL, NULL},
    .init = python_init,
    .release = python_release,
    .reset = python_reset,
    .step = python_step,
    .get_state = python_get_state,
    .set_state = python_set_state,
    .success = python_success,
    .describe = python_describe,
};
