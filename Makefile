# bdrl — build, test, bench, demo, install.
#
#   make            build bin/bdrl and lib/libbdrl.a
#   make test       install missing Debian packages, build (bin/bdrl too), run every test
#   make test SAN=1 the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      benchmarks (single process; prints ratios measured in one run)
#   make demo       the main job: a built-in run written under runs/demo/
#   make install    PREFIX=/usr/local DESTDIR= (bin, lib, include/bdrl, lib/pkgconfig/bdrl.pc, share)
#   make examples   build examples/envs (the chain plugin) against the headers installed
#                   (make install-headers) to EXAMPLES_PREFIX, default $(BUILD)/prefix
#   make deps       apt-get install what is missing (nothing when all is there)
#   make fuzz       libFuzzer harnesses (clang), FUZZ_SECONDS=60 each (fuzz/README.md)
#   make memcheck   a short training run of each agent and a fit under valgrind
#   make deps-slurm apt-get install slurm-wlm and munge if missing
#   make test-slurm bdrl sweep --slurm on a one-node Slurm started here (root)

PREFIX  ?= /usr/local
DESTDIR ?=
SAN     ?= 0
# What `bdrl --version` prints: `git describe --always --dirty` of the tree
# built, or this when the tree is no git checkout (a release tarball).
VERSION ?= 0.1.0
BDRL_VERSION := $(or $(shell git describe --always --dirty 2>/dev/null),$(VERSION))

PKGS    := openblas gsl yaml-0.1
CC      ?= cc
# -ffp-contract=off: no fused multiply-add may change the environments'
# arithmetic (CartPole must match Gymnasium bit for bit). -fno-math-errno only
# drops errno updates (nothing reads them) so sqrt vectorizes; results are equal.
CFLAGS_BASE := -std=c11 -Wall -Wextra -Werror -O2 -g -ffp-contract=off -fno-math-errno \
               -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -MMD -MP
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# GSL's pkg-config entry asks for its own reference CBLAS; OpenBLAS provides it.
PKG_LIBS    := $(filter-out -lgslcblas,$(shell pkg-config --libs $(PKGS) 2>/dev/null))
TEST_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null)
# The embedded interpreter of env.name python (src/envs/python.c): Debian's
# libpython3-dev; python3-embed is the entry for programs that embed it.
PY_CFLAGS   := $(shell pkg-config --cflags python3-embed 2>/dev/null)
PY_LIBS     := $(shell pkg-config --libs python3-embed 2>/dev/null)

ifeq ($(SAN),1)
BUILD   := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SAN),fuzz)
# the library for the libFuzzer harnesses (CC=clang; scripts/fuzz.sh)
BUILD   := build/fuzz
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
            -Wno-unknown-pragmas
else
BUILD   := build/rel
SANFLAGS :=
endif

CFLAGS  := $(CFLAGS_BASE) $(SANFLAGS) $(PKG_CFLAGS) -Isrc -Iinclude -I$(BUILD)/gen -DBDRL_SOURCE_PLOTS_DIR=\"$(CURDIR)/plots\" $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) $(EXTRA_LDFLAGS)
LDLIBS  := $(PKG_LIBS) -lm -ldl $(PY_LIBS)

LIB_SRC  := $(sort $(wildcard src/core/*.c src/envs/*.c src/fields/*.c src/sdes/*.c src/data/*.c src/agents/*.c src/train/*.c src/truth/*.c src/stats/*.c src/gen/*.c src/research/*.c src/api/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
# Tests of the fields module in double precision (docs/design.md §3: finite
# differences in double): the fields sources are compiled again with
# BDRL_REAL_DOUBLE and linked before the library, whose float copies then
# stay unused.
DTEST_SRC  := $(sort $(wildcard tests/dtest_*.c))
FIELDS_SRC := $(sort $(wildcard src/fields/*.c))
BENCH_SRC  := $(sort $(wildcard bench/bench_*.c))

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
DFIELD_OBJ:= $(FIELDS_SRC:%.c=$(BUILD)/double/%.o)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
DTEST_BIN := $(DTEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
LIB       := $(BUILD)/libbdrl.a
BIN       := $(BUILD)/bdrl

.PHONY: all test bench demo install install-headers clean deps docs tests fuzz memcheck deps-slurm test-slurm examples FORCE
all: bin/bdrl lib/libbdrl.a

# Copied to a temporary name and renamed: overwriting the file in place would
# crash (SIGBUS) every bdrl still running from it, e.g. the runs of a sweep.
bin/bdrl: $(BIN)
	@mkdir -p bin && cp $< $@.tmp && mv -f $@.tmp $@
lib/libbdrl.a: $(LIB)
	@mkdir -p lib && cp $< $@.tmp && mv -f $@.tmp $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@
$(BUILD)/src/envs/python.o: src/envs/python.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PY_CFLAGS) -c $< -o $@
$(BUILD)/double/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DBDRL_REAL_DOUBLE -c $< -o $@

# The version as a header, rewritten only when it changes (so provenance.o,
# which includes it, is rebuilt exactly then).
$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define BDRL_VERSION "$(BDRL_VERSION)"' > $@.new; cmp -s $@.new $@ || mv -f $@.new $@; rm -f $@.new
$(BUILD)/src/core/provenance.o: $(BUILD)/gen/version.h
FORCE:

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/test_%: tests/test_%.c tests/test_util.h tests/train_util.h tests/ref_csv.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS) $(TEST_LIBS)
$(BUILD)/tests/dtest_%: tests/dtest_%.c tests/test_util.h tests/dtest_util.h $(DFIELD_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DBDRL_REAL_DOUBLE -Itests -o $@ $< $(DFIELD_OBJ) $(LIB) $(LDFLAGS) $(LDLIBS) $(TEST_LIBS)
$(BUILD)/bench/bench_%: bench/bench_%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ibench -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)
# bench_agents counts the GEMM work of whole training loops: every
# cblas_sgemm call in it goes through its own __wrap_cblas_sgemm.
$(BUILD)/bench/bench_agents: LDFLAGS += -Wl,--wrap=cblas_sgemm

# Broken environment plugins for tests/test_plugin.c: one BAD_* case each
# (bad_ok is the valid control), built against the in-tree header.
BAD_PLUGINS := ok version no_step actions table nan_obs obs_range crash
BAD_PLUGIN_SO := $(BAD_PLUGINS:%=$(BUILD)/plugins/bad_%.so)
$(BUILD)/plugins/bad_%.so: tests/plugins/bad_plugin.c include/bdrl/env_plugin.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -shared -fPIC -Iinclude \
	  $(if $(filter ok,$*),,-DBAD_$(shell echo $* | tr a-z A-Z)) $< -o $@

# A one-step gamble for tests/test_plugin_runs.c (tests/plugins/gamble.c):
# gamble.so with a transition table, gamble_notable.so without one.
GAMBLE_SO := $(BUILD)/plugins/gamble.so $(BUILD)/plugins/gamble_notable.so
$(GAMBLE_SO): $(BUILD)/plugins/%.so: tests/plugins/gamble.c include/bdrl/env_plugin.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -shared -fPIC -Iinclude \
	  $(if $(filter gamble_notable,$*),-DGAMBLE_NO_TABLE) $< -o $@ -lm

# The example plugins, built by their own Makefile against the headers that
# `make install` (its install-headers part: a plugin needs no binary) puts
# under EXAMPLES_PREFIX: what a user outside this tree does.
EXAMPLES_PREFIX ?= $(CURDIR)/$(BUILD)/prefix
examples:
	@$(MAKE) --no-print-directory install-headers PREFIX=$(EXAMPLES_PREFIX) DESTDIR= >/dev/null
	@$(MAKE) --no-print-directory -C examples/envs PREFIX=$(EXAMPLES_PREFIX) OUT=$(CURDIR)/$(BUILD)/examples

# A plain build's tests also leave bin/bdrl (and lib/libbdrl.a) up to date, the
# binary a user then runs, and compile the benchmarks (not run: `make bench`),
# so an interface change cannot leave bench/ broken; a sanitizer build keeps
# its own binary under $(BUILD).
tests: $(TEST_BIN) $(DTEST_BIN) $(BIN) $(BAD_PLUGIN_SO) $(GAMBLE_SO) $(if $(filter 0,$(SAN)),bin/bdrl lib/libbdrl.a $(BENCH_BIN))
	@$(MAKE) --no-print-directory examples

# Runs every test binary (cmocka) and the CLI tests, then prints one line
# "N passed, N failed". Set TESTS="test_cartpole ..." to run a subset.
test: deps
	@$(MAKE) --no-print-directory tests
	@BDRL=$(BIN) BUILD=$(BUILD) scripts/run_tests.sh $(TESTS)

bench: deps $(BENCH_BIN) $(BIN)
	@BUILD=$(BUILD) scripts/run_bench.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

deps:
	@scripts/deps.sh

deps-slurm:
	@scripts/deps.sh slurm-wlm munge

# A sweep submitted with --slurm to a one-node Slurm on this machine
# (scripts/slurm-local.sh), one task cancelled and one requeued mid-run,
# checked against the same sweep run locally. Root only; about a minute.
test-slurm: deps deps-slurm
	@$(MAKE) --no-print-directory all
	@scripts/test_slurm.sh

FUZZ_SECONDS ?= 60
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

memcheck: deps
	@$(MAKE) --no-print-directory all
	@scripts/memcheck.sh

# The configuration reference is generated from the schema (a test checks it).
docs: bin/bdrl
	bin/bdrl config --schema > docs/config.md

# bin/bdrl, lib/libbdrl.a, the public headers, bdrl.pc (pkg-config) and the
# plot scripts. libbdrl's public API is include/bdrl/: the plugin interface
# and bdrl/environment.h; the headers under src/ are internal and not installed.
install: all install-headers
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 bin/bdrl $(DESTDIR)$(PREFIX)/bin/bdrl
	install -m 644 lib/libbdrl.a $(DESTDIR)$(PREFIX)/lib/libbdrl.a
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(BDRL_VERSION)|' -e 's|@LIBS@|$(strip $(LDLIBS))|' \
	  bdrl.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/bdrl.pc
	install -d $(DESTDIR)$(PREFIX)/share/bdrl/plots
	install -m 644 plots/*.gp $(DESTDIR)$(PREFIX)/share/bdrl/plots/

# The public headers alone (what a plugin needs): include/bdrl/*.h.
install-headers:
	install -d $(DESTDIR)$(PREFIX)/include/bdrl
	install -m 644 include/bdrl/*.h $(DESTDIR)$(PREFIX)/include/bdrl/

clean:
	rm -rf build bin lib

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(DFIELD_OBJ:.o=.d)
