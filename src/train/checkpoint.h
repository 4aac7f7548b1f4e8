/* checkpoint.h — the checkpoint file (checkpoint.bin): one container for
 * everything a run needs to resume, checked before anything is changed.
 *
 * Format version 3, host byte order:
 *   char    magic[8]     "BDRLCKPT"
 *   uint32  version      3 (2 is read too: the same but for the trainer section)
 *   uint32  header bytes 168
 *   uint32  shape[27]    agent kind (its registry number), obs_dim, n_actions;
 *                        agent.hidden (count and 8 widths), agent.activation;
 *                        13 words of the agent kind's own shape keys (its
 *                        registry entry; unused words 0: C51 c51.atoms at 0;
 *                        BD bd.grid 1, bd.fourier_k 2, bd.head 3..11,
 *                        bd.queries 12); train.batch_size
 *   uint32  agent.conv   0 without conv layers (every checkpoint written
 *                        before them); else agent.conv_kernel (bits 0-7),
 *                        the layer count (8-11) and 20 bits of a hash of
 *                        the channel counts (12-31)
 *   int64   train.buffer_size
 *   int64   step         environment steps taken
 *   uint64  section sizes: agent, replay, trainer
 *   -- agent section:   the agent's own save (networks, targets, optimizer states)
 *   -- replay section:  the replay buffer (replay_save)
 *   -- trainer section: the trainer's state, opaque here (train.h)
 *   uint64  FNV-1a 64 of every byte above
 * Opening checks, in order (each failure one line naming the field): the
 * file is a regular one (a FIFO is refused, not waited on), magic, version,
 * header size, that the section sizes add up to the file's size
 * (truncation), the checksum (corruption), step in [0, EXP_MAX_TOTAL_STEPS],
 * buffer size in [1, EXP_MAX_BUFFER_SIZE], a non-empty agent section, then
 * the shapes against the configuration, naming the first key that
 * differs (or, without a configuration, the kind and the environment's
 * sizes against the agent); each section must be read to its end.
 */
#ifndef BDRL_CHECKPOINT_H
#define BDRL_CHECKPOINT_H

#include <stdint.h>
#include <stdio.h>

#include "agents/agent.h"
#include "agents/experiment.h"
#include "train/replay.h"
#include "core/err.h"

#define CKPT_VERSION 3u
/* The oldest version this build reads: version 2 lacks the trainer
 * section's environment carry (train_state.c), which a resume then finds
 * by trying each value. */
#define CKPT_VERSION_OLDEST 2u

/* Writes path atomically: the header (shapes from cfg and a), a's save, the
 * replay rb, then trainer_len bytes of trainer state. */
int ckpt_write(const char *path, const exp_config *cfg, const agent *a, const replay *rb, int64_t step,
               const void *trainer, size_t trainer_len, bdrl_err *e);

/* An opened and verified checkpoint, held in memory. */
typedef struct {
    const char *path;
    char *mem;           /* the file (owned) */
    size_t len;
    int64_t step;
    int64_t buffer_size;
    uint64_t sec[3];     /* agent, replay, trainer section sizes */
    uint32_t version;    /* CKPT_VERSION_OLDEST .. CKPT_VERSION */
} ckpt_file;

/* Reads and verifies path (see above). cfg may be NULL: then only the kind
 * and the environment's sizes are checked against a. Nothing is changed on
 * failure; on success ckpt_close releases it. */
int ckpt_open(ckpt_file *c, const char *path, const agent *a, const exp_config *cfg, bdrl_err *e);
void ckpt_close(ckpt_file *c);

/* The agent section into a (its load must read the section exactly; a is
 * unchanged on failure), the replay section into rb. */
int ckpt_load_agent(const ckpt_file *c, agent *a, bdrl_err *e);
int ckpt_load_replay(const ckpt_file *c, replay *rb, bdrl_err *e);
/* A read stream over exactly the trainer section (fclose it). */
FILE *ckpt_trainer_stream(const ckpt_file *c, bdrl_err *e);

/* Conveniences for the evaluation commands. Only the agent (*step, may be
 * NULL, gets the checkpoint's step); cfg may be NULL as for ckpt_open. */
int ckpt_read_agent(const char *path, const exp_config *cfg, agent *a, int64_t *step, bdrl_err *e);
/* The replay buffer of a checkpoint written with cfg (a only gives the
 * observation and action counts): a new replay the caller frees. */
int ckpt_read_replay(const char *path, const exp_config *cfg, const agent *a, replay **out, bdrl_err *e);

#endif
