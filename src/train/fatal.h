/* fatal.h — summary.json's "failed" status when the process ends outside
 * the trainer's control: a plugin's fault (a non-finite observation or
 * reward: exit 2; a crash signal, re-raised), which the environment layer
 * reports through its fatal hook (env_set_fatal_hook) just before.
 *
 * The hook may run in a signal handler, so it does only async-signal-safe
 * work: the trainer arms it at every write of its files with summary.json
 * as it would read if the run failed then (status "failed", the error a
 * placeholder), rendered in normal context; the hook writes that text with
 * the reason in place of the placeholder to a temporary beside
 * summary.json (open, write, fsync, close) and renames it over
 * summary.json. The counts in it are those of the last write of the files,
 * which is what the CSVs and the checkpoint on disk agree with. A plugin
 * crash is synchronous (it happens inside a plugin call, never during a
 * write of the files), so the hook never sees a half-armed text.
 *
 * What it cannot cover: SIGKILL and power loss (nothing runs; the run
 * stays "running", or "interrupted" after SIGINT/SIGTERM, and resumes from
 * its checkpoint as designed); a crash outside a plugin (bdrl's own bug:
 * the summary stays "running").
 */
#ifndef BDRL_FATAL_H
#define BDRL_FATAL_H

#include "core/err.h"

/* What the armed text holds where the reason goes (a JSON string's
 * content: no character JSON escapes). */
#define FATAL_REASON_MARK "@@bdrl-fatal-reason@@"

/* The temporary the hook writes: summary.json FATAL_TMP_SUFFIX, of the form
 * io_is_temporary recognizes, so a resume removes one left behind. */
#define FATAL_TMP_SUFFIX ".tmp.failed"

/* Arms (or re-arms) the hook: json is summary.json's text with
 * FATAL_REASON_MARK once, path where it goes. Installs the hook with the
 * environment layer. */
int fatal_arm(const char *path, const char *json, bdrl_err *e);

/* Uninstalls the hook and frees the text. */
void fatal_disarm(void);

#endif
