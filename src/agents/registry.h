/* registry.h — the one place that knows which agents exist.
 *
 * Every agent kind is one line of AGENT_REGISTRY in registry.c and one
 * `const agent_class agent_NAME_class` in its own source file. Everything
 * else asks the registry (or the agent's ops, agent.h) what it needs: the
 * config schema's agent.kind choices and help, creation, the memory
 * estimate, the checkpoint's shape words, a label for figures. Nothing
 * outside this module switches on the kind.
 *
 * Adding an agent NAME:
 *   1. src/agents/NAME.{c,h}: agent_NAME_create(cfg, en, init, e) returning an
 *      agent whose ops (agent.h) has .name = "NAME" and every op not marked
 *      optional; in NAME.c, `const agent_class agent_NAME_class = {"LABEL",
 *      agent_NAME_create, NAME_memory, NAME_shape, n}` (its shape keys: the
 *      NAME.* config keys that change the saved networks' sizes);
 *   2. registry.c: append X(NAME, SUPPORT, "one line of help") to AGENT_REGISTRY
 *      (SUPPORT 1 if its laws live on [agent.v_min, agent.v_max]);
 *   3. experiment.{h,c}: the NAME.* section and its schema keys; `make docs`;
 *   4. tests/test_NAME.c (loss and gradient on hand-made cases); test_registry
 *      checks the contract above for every registered kind.
 *
 * The kind's index (its line in AGENT_REGISTRY, from 0) is what
 * cfg->agent.kind holds and what a checkpoint's header records, so lines
 * are only ever appended: bd = 0 and c51 = 1 as in every checkpoint written
 * before the registry existed.
 */
#ifndef BDRL_REGISTRY_H
#define BDRL_REGISTRY_H

#include <stddef.h>

#include "agents/agent.h"
#include "agents/experiment.h"
#include "agents/sizing.h"
#include "core/err.h"
#include "core/rng.h"
#include "envs/env.h"

/* Words of a checkpoint header that an agent kind may fill with its own
 * shape keys (the area after the shared torso's words). */
#define AGENT_SHAPE_WORDS 13

/* One configuration key that fixes the shape of an agent's saved state, so a
 * checkpoint from another configuration is refused naming it. */
typedef struct {
    const char *key; /* config key, e.g. "c51.atoms" */
    size_t offset;   /* of its int, or of its exp_widths, in exp_config */
    int widths;      /* 1: an exp_widths list: its count at `slot`, 8 widths after it */
    int slot;        /* first word in the agent area, [0, AGENT_SHAPE_WORDS) */
} agent_shape_key;

typedef struct {
    const char *label; /* for legends and tables: "BD", "C51", "DQN" */
    /* A new agent for cfg on en, networks initialized from init. Its
     * ops->name must equal the registry name. */
    agent *(*create)(const exp_config *cfg, const env *en, rng *init, bdrl_err *e);
    /* Its networks (parameters, gradients, optimizer moments, targets,
     * caches) and scratch into out->networks and out->scratch, and the
     * number of parameters a checkpoint saves per copy into *params;
     * returns the keys a user lowers when they are too big. */
    const char *(*memory)(const exp_config *cfg, const env *en, sizing_estimate *out, double *params);
    const agent_shape_key *shape; /* its own shape keys (the torso's are shared) */
    int n_shape;
} agent_class;

/* Number of registered kinds; kinds are 0 .. agent_kind_count() - 1. */
int agent_kind_count(void);
/* The registry name of kind k ("bd", "c51", ...), or NULL out of range. */
const char *agent_kind_name(int k);
/* The kind named name, or -1. */
int agent_kind_find(const char *name);
/* The class of kind k, or NULL out of range. */
const agent_class *agent_class_of(int k);
/* 1 if kind k's return laws live on the support [agent.v_min, agent.v_max]
 * (BD's fields, C51's atoms): returns outside it cannot be learned. */
int agent_kind_uses_support(int k);
/* The kind of an existing agent (by its ops->name), or -1. */
int agent_kind_of(const agent *a);

/* The name of an agent of kind `kind` (its registry name) with cfg's
 * Rainbow components, for aggregates over environments, which group one
 * agent's configs across environments and must keep C51 with Rainbow's
 * components apart from C51: the kind alone ("c51") when no component is
 * on, the kind and "+rainbow" when all five are (agent.n_step > 1,
 * replay.prioritized, agent.double, agent.dueling, agent.noisy), else the
 * kind and each component on, in that order ("c51+n3+per",
 * "bd+double+noisy"). Written into buf (n bytes, truncated to fit);
 * returns buf. */
const char *agent_variant_name(const char *kind, const exp_config *cfg, char *buf, size_t n);

/* For the schema (experiment.c, a static initializer): the choices
 * "bd|c51|..." of agent.kind and its help line. agent_kind_bars_ is
 * "|bd|c51|...", built by the registry's X-macro. */
extern const char agent_kind_bars_[];
#define AGENT_KIND_CHOICES (agent_kind_bars_ + 1)
extern const char agent_kind_help[];

#endif
