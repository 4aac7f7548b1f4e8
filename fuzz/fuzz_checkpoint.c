/* fuzz_checkpoint.c — the checkpoint loader: header, checksum, section sizes,
 * the agents' own formats (C51, Bellman Diffusion), the replay buffer, the
 * generators and the trainer state, as `bdrl train --resume` reads them
 * (train_verify_checkpoint), and agent-only loading (ckpt_read_agent,
 * as bdrl eval/dist/sample do).
 *
 * Input: byte 0 picks the configuration ((byte 0 >> 1) mod 3: 0 = C51 on
 * CartPole, 1 = BD as it ships (basis fields) on FrozenLake, 2 = the BD grid
 * agent, whose loader is its own; fuzz_ckpt_sets below) and whether to
 * repair the checksum (bit 0), so that mutations reach past the checksum
 * into the sections; the rest is the file. Seeds are real checkpoints of
 * these configurations (fuzz/README.md), and one of the basis agent's
 * format 1. Invariants: no crash or sanitizer report; a failure has a
 * one-line message and leaves the agent exactly as it was. */
#include "agents/agent.h"
#include "train/checkpoint.h"
#include "train/train.h"
#include "core/rng.h"
#include "envs/env.h"
#include "fuzz_util.h"

/* Also used to make the seed corpus: bdrl train --set ... for each. */
#define FUZZ_CKPT_CONFIGS 3
static const char *const fuzz_ckpt_sets[FUZZ_CKPT_CONFIGS][13] = {
    {"env.name=cartpole", "agent.kind=c51", "agent.hidden=[8]", "c51.atoms=11", "agent.v_max=50",
     "train.buffer_size=64", "train.batch_size=8", "train.learning_starts=16", NULL},
    {"env.name=frozenlake", "agent.kind=bd", "bd.field=basis", "agent.hidden=[8]", "bd.basis=11",
     "train.buffer_size=64", "train.batch_size=4", "train.learning_starts=16", NULL},
    {"env.name=frozenlake", "agent.kind=bd", "bd.field=grid", "agent.hidden=[8]", "bd.head=[8]", "bd.grid=16",
     "bd.fourier_k=2", "bd.queries=2", "train.buffer_size=64", "train.batch_size=4", "train.learning_starts=16",
     NULL},
};

typedef struct {
    exp_config cfg;
    env *en;
    agent *ag;
} fuzz_target;

static fuzz_target targets[FUZZ_CKPT_CONFIGS];

static void setup(int k)
{
    fuzz_target *t = &targets[k];
    if (t->ag)
        return;
    char *sets[13];
    int n = 0;
    while (fuzz_ckpt_sets[k][n]) {
        sets[n] = (char *)fuzz_ckpt_sets[k][n];
        n++;
    }
    bdrl_err e;
    FUZZ_CHECK(exp_load(&t->cfg, NULL, sets, n, &e) == 0, "%s", e.msg);
    t->en = env_create(&t->cfg.env, &e);
    FUZZ_CHECK(t->en != NULL, "%s", e.msg);
    rng *init = rng_create((uint64_t)t->cfg.seed, RNG_STREAM_INIT);
    t->ag = agent_create(&t->cfg, t->en, init, &e);
    rng_free(init);
    FUZZ_CHECK(t->ag != NULL, "%s", e.msg);
}

static char *agent_bytes(agent *a, size_t *len)
{
    char *mem = NULL;
    FILE *f = open_memstream(&mem, len);
    bdrl_err e;
    FUZZ_CHECK(f && a->ops->save(a, f, &e) == 0, "save");
    fclose(f);
    return mem;
}

static uint64_t fnv64(const unsigned char *c, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 1099511628211ull;
    }
    return h;
}

int fuzz_checkpoint_one(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int k = (data[0] >> 1) % FUZZ_CKPT_CONFIGS, repair = data[0] & 1;
    setup(k);
    fuzz_target *t = &targets[k];
    size_t n = size - 1;
    unsigned char *buf = malloc(n ? n : 1);
    FUZZ_CHECK(buf != NULL, "malloc");
    memcpy(buf, data + 1, n);
    if (repair && n >= 8) {
        uint64_t h = fnv64(buf, n - 8);
        memcpy(buf + n - 8, &h, 8);
    }
    char path[64];
    int fd = fuzz_memfile(buf, n, path, sizeof path);
    FUZZ_CHECK(fd >= 0, "memfd");
    bdrl_err e;
    e.msg[0] = '\0';
    int64_t step = -1;
    if (train_verify_checkpoint(&t->cfg, path, &step, &e))
        fuzz_check_message(&e);
    else
        FUZZ_CHECK(step >= 0, "step %lld", (long long)step);
    size_t l0, l1;
    char *before = agent_bytes(t->ag, &l0);
    e.msg[0] = '\0';
    if (ckpt_read_agent(path, &t->cfg, t->ag, NULL, &e)) {
        fuzz_check_message(&e);
        char *after = agent_bytes(t->ag, &l1);
        FUZZ_CHECK(l0 == l1 && !memcmp(before, after, l0), "a failed load changed the agent (%s)", e.msg);
        free(after);
    }
    free(before);
    close(fd);
    free(buf);
    return 0;
}

#ifdef BDRL_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_checkpoint_one(data, size); }
#endif
