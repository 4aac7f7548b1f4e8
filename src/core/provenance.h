/* provenance.h — which build and machine produced a result.
 *
 * One seed repeats a run bit for bit on one build and machine (docs/design.md
 * I34), not across machines: OpenBLAS picks its SGEMM kernels by CPU at load
 * time (DYNAMIC_ARCH), and kernels for different CPUs add a dot product's
 * terms in different orders. A run's summary.json therefore names the bdrl
 * build, the CPU and OpenBLAS's kernel of the process that wrote it, so two
 * runs of one seed that differ can be told apart from a bug.
 */
#ifndef BDRL_PROVENANCE_H
#define BDRL_PROVENANCE_H

#include <stddef.h>

/* bdrl's version (git describe of the build; the Makefile's VERSION
 * outside a git checkout). */
const char *provenance_version(void);

/* The CPU's model name (/proc/cpuinfo's first "model name"), or "unknown". */
void provenance_cpu(char *out, size_t n);

/* OpenBLAS's kernel for this CPU (e.g. "Haswell") and its build line
 * (version and options), as OpenBLAS reports them. */
const char *provenance_blas_core(void);
const char *provenance_blas_config(void);

#endif
