# barbus: one non-recursive Makefile.  make [all|test|stress|chaos|demo|bench|fuzz|install]
# Objects go to build[-$(SANITIZE)]/ so sanitizer objects never mix.

PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR    ?= $(PREFIX)/lib/systemd/system
CFLAGS     ?= -O2 -g
# The shared library exports the public API only (BB_API in barbus.h).
override CFLAGS += -std=c11 -Wall -Wextra -Wshadow -MMD -MP -fPIC -fvisibility=hidden
override CPPFLAGS += -D_GNU_SOURCE -Ilibshm/include -Ilibshm
LDLIBS     += -llmdb -linih -lm -pthread -lrt

ifeq ($(SANITIZE),address)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(SANITIZE),thread)
override CFLAGS += -fsanitize=thread -DBB_TSAN=1 -Wno-tsan
override LDFLAGS += -fsanitize=thread
endif

# libFuzzer (make fuzz): clang, coverage for the fuzzer, ASan and UBSan.
ifeq ($(SANITIZE),fuzzer)
ifeq ($(origin CC),default)
CC := clang
endif
override CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
endif

B := build$(if $(SANITIZE),-$(SANITIZE))

# The version: one place, barbus.h. The SONAME changes with MAJOR only.
VERSION := $(shell sed -n 's/^\#define BB_VERSION "\(.*\)"/\1/p' libshm/include/barbus.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME  := libbarbus.so.$(SOMAJOR)
stem = $(basename $(notdir $(1)))

# ---- library ------------------------------------------------------------
LIB_SRC := $(wildcard libshm/*.c)
LIB_OBJ := $(patsubst %.c,$(B)/%.o,$(LIB_SRC))
# Calendars shipped as data files are compiled into the library.
CAL_SRC := $(wildcard libshm/calendars/*.cal)
LIB_OBJ += $(if $(CAL_SRC),$(B)/gen/calendars.o)

# ---- programs -------------------------------------------------------------
# readers/X.c and the store tools coordinator/{import,gen}.c are one file each;
# every other coordinator/*.c and upkeep/*.c makes one daemon.
STORE_TOOLS := coordinator/import.c coordinator/gen.c
READER_SRC  := $(wildcard readers/*.c)
COORD_SRC   := $(filter-out $(STORE_TOOLS),$(wildcard coordinator/*.c))
UPKEEP_SRC  := $(wildcard upkeep/*.c)
ONEFILE_SRC := $(READER_SRC) $(wildcard $(STORE_TOOLS))
PROGS := $(foreach s,$(ONEFILE_SRC),$(B)/bin/barbus-$(call stem,$(s)))
PROGS += $(if $(COORD_SRC),$(B)/bin/barbus-coordinator)
PROGS += $(if $(UPKEEP_SRC),$(B)/bin/barbus-upkeep)
# readers/bridge/*.c make barbus-bridge (readers/*.c above does not reach
# into the directory); it links the coordinator's and the upkeep's modules.
BRIDGE_SRC  := $(wildcard readers/bridge/*.c)
PROGS += $(if $(wildcard readers/bridge/main.c),$(B)/bin/barbus-bridge)
NATS_LIBS   := $(shell $(PKG_CONFIG) --libs libnats 2>/dev/null || echo -lnats)

UNIT_SRC   := $(wildcard tests/*_test.c)
UNITS      := $(patsubst tests/%.c,$(B)/tests/%,$(UNIT_SRC))
STRESS_SRC := $(wildcard tests/stress/*.c)
STRESS     := $(patsubst tests/stress/%.c,$(B)/stress/%,$(STRESS_SRC))
FUZZ_SRC   := $(filter-out tests/fuzz/replay.c,$(wildcard tests/fuzz/*.c))
FUZZ       := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
BENCH_SRC  := $(wildcard bench/*.c)
BENCHES    := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))
CHAOS      := $(B)/chaos/chaos

# The example strategy (readers/examples/): built like a user's program.
EXAMPLES := $(patsubst readers/examples/%.c,$(B)/examples/%,$(wildcard readers/examples/*.c))

.PHONY: all deps test-deps fuzz-deps py-deps test unit stress chaos fuzz fuzz-seeds demo bench install uninstall dist clean
all: $(B)/libbarbus.a $(B)/libbarbus.so $(PROGS) $(EXAMPLES)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/gen/calendars.c: $(CAL_SRC) libshm/calendars/embed.sh
	@mkdir -p $(@D)
	sh libshm/calendars/embed.sh $(CAL_SRC) > $@

$(B)/gen/calendars.o: $(B)/gen/calendars.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libbarbus.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

# libbarbus.so carries its own dependencies, so -lbarbus alone links a
# strategy; -z defs proves none is missing (not under a sanitizer, whose
# runtime the program brings).
$(B)/libbarbus.so.$(VERSION): $(LIB_OBJ)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) $(if $(SANITIZE),,-Wl,-z,defs) -o $@ $^ $(LDLIBS)

$(B)/libbarbus.so: $(B)/libbarbus.so.$(VERSION)
	ln -sf libbarbus.so.$(VERSION) $(B)/$(SONAME)
	ln -sf libbarbus.so.$(VERSION) $@

$(B)/examples/%: readers/examples/%.c $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libbarbus.a $(LDLIBS)

$(B)/bin/barbus-%: readers/%.c $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libbarbus.a $(LDLIBS)

$(B)/bin/barbus-%: coordinator/%.c $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libbarbus.a $(LDLIBS)

$(B)/bin/barbus-coordinator: $(patsubst %.c,$(B)/%.o,$(COORD_SRC)) $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bin/barbus-upkeep: $(patsubst %.c,$(B)/%.o,$(UPKEEP_SRC)) $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# tests/bridge_*_test.c link the bridge's frame codec and key sort (no
# NATS in them).
BRIDGE_TEST_OBJ := $(B)/readers/bridge/frame.o $(B)/readers/bridge/keysort.o
$(B)/tests/bridge_%: tests/bridge_%.c $(BRIDGE_TEST_OBJ) $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BRIDGE_TEST_OBJ) $(B)/libbarbus.a -lcriterion $(LDLIBS)

$(B)/tests/%: tests/%.c $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libbarbus.a -lcriterion $(LDLIBS)

# tests/co_*_test.c also link the coordinator's modules (all but main.c).
COORD_MOD_OBJ := $(patsubst %.c,$(B)/%.o,$(filter-out coordinator/main.c,$(COORD_SRC)))
$(B)/tests/co_%: tests/co_%.c $(COORD_MOD_OBJ) $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(COORD_MOD_OBJ) $(B)/libbarbus.a -lcriterion $(LDLIBS)

# tests/up_*_test.c also link the upkeep's modules (all but main.c).
UPKEEP_MOD_OBJ := $(patsubst %.c,$(B)/%.o,$(filter-out upkeep/main.c,$(UPKEEP_SRC)))
$(B)/tests/up_%: tests/up_%.c $(UPKEEP_MOD_OBJ) $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(UPKEEP_MOD_OBJ) $(B)/libbarbus.a -lcriterion $(LDLIBS)

$(B)/bin/barbus-bridge: $(patsubst %.c,$(B)/%.o,$(BRIDGE_SRC)) $(COORD_MOD_OBJ) $(UPKEEP_MOD_OBJ) $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(NATS_LIBS) $(LDLIBS)

# tests/stress/bridge_*.c also read NATS (and the frame codec) themselves.
$(B)/stress/bridge_%: tests/stress/bridge_%.c $(B)/readers/bridge/frame.o $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/readers/bridge/frame.o $(B)/libbarbus.a $(NATS_LIBS) $(LDLIBS)

$(B)/stress/%: tests/stress/%.c $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libbarbus.a $(LDLIBS)

# tests/fuzz/X.c: one harness each. Under SANITIZE=fuzzer it is linked with
# libFuzzer; otherwise with replay.c, the regression runner that replays
# tests/fuzz/X/ once (make test). FUZZ_OBJ_X: what X links besides the library.
FUZZ_OBJ_feed := $(COORD_MOD_OBJ)
FUZZ_OBJ_args := $(B)/coordinator/config.o $(B)/upkeep/config.o
FUZZ_OBJ_ini  := $(FUZZ_OBJ_args)
FUZZ_MAIN := $(if $(filter fuzzer,$(SANITIZE)),-fsanitize=fuzzer,tests/fuzz/replay.c)
.SECONDEXPANSION:
$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $$(FUZZ_OBJ_$$*) $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -DFUZZ_CORPUS='"tests/fuzz/$*"' $(LDFLAGS) -o $@ $< $(FUZZ_MAIN) $(FUZZ_OBJ_$*) $(B)/libbarbus.a $(LDLIBS)

# The chaos program: tests/chaos/chaos.c includes the rest of tests/chaos/.
$(B)/chaos/%: tests/chaos/%.c $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libbarbus.a $(LDLIBS)

# bench/bridge_bench.c also talks to NATS itself (its floor).
$(B)/bench/bridge_bench: bench/bridge_bench.c $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libbarbus.a $(NATS_LIBS) $(LDLIBS)

$(B)/bench/%: bench/%.c $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libbarbus.a $(LDLIBS)

# ---- dependencies: installed from Debian's packages when root ------------------
# tzdata has no pkg-config file: a zone file of it stands for it.
DEB_PKGS := gcc make pkg-config liblmdb-dev libcriterion-dev libinih-dev tzdata \
            libnats-dev nats-server
TZ_CHECK := /usr/share/zoneinfo/America/New_York
# $(call apt_need,WHAT,CHECK,PKGS,APT_FLAGS,ON_FAIL): when the shell command
# CHECK fails, install PKGS from Debian's packages if root, else print the
# apt-get line to run; ON_FAIL (exit 1, or true for optional tools) when
# they are still missing.
define apt_need
	@if ! { $(2); } >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing $(1): $(3)"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq $(4) $(3) >/dev/null; } || \
	      { echo "$(1) not installed"; $(5); }; \
	  else \
	    echo "missing $(1); install them with:"; \
	    echo "  sudo apt-get install -y $(3)"; $(5); \
	  fi; \
	fi
endef

DEPS_CHECK := command -v $(PKG_CONFIG) && \
	$(PKG_CONFIG) --exists lmdb criterion inih libnats && \
	command -v nats-server && [ -f $(TZ_CHECK) ]
deps:
	$(call apt_need,build dependencies,$(DEPS_CHECK),$(DEB_PKGS),,exit 1)

# Tools some tests use when present (status_tool: promtool lints the
# Prometheus output, headless Chromium loads the status page); without them
# those checks say "skipped". Installed from Debian's packages when root.
TEST_TOOL_PKGS := prometheus chromium
test-deps:
	$(call apt_need,test tools (their checks are skipped without them),command -v promtool && command -v chromium,$(TEST_TOOL_PKGS),--no-install-recommends,true)

# The Python package's tests run under Debian's interpreter, which owns the
# python3-* packages (another python3 may come first on PATH).
PYTHON  ?= /usr/bin/python3
PY_PKGS := python3-numpy python3-pandas python3-pytest python3-setuptools python3-pip
PY_CHECK := $(PYTHON) -c 'import numpy, pandas, pytest, setuptools, pip'
py-deps:
	$(call apt_need,Python test dependencies,$(PY_CHECK),$(PY_PKGS),,exit 1)

# libFuzzer's runtime comes with clang's runtime libraries (Debian's
# libclang-rt-N-dev, N clang's major version), not always with clang.
FUZZ_CC ?= clang
fuzz-deps:
	@if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' | \
	     $(FUZZ_CC) -fsanitize=fuzzer,address,undefined -x c - -o /dev/null 2>/dev/null; then \
	  v=$$($(FUZZ_CC) -dumpversion 2>/dev/null | cut -d. -f1); \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "libFuzzer is missing; install it with:"; \
	    echo "  sudo apt-get install -y clang libclang-rt-$${v:-N}-dev  (N: clang's major version)"; \
	    exit 1; \
	  fi; \
	  echo "installing the fuzzing toolchain: clang, its runtime libraries"; \
	  apt-get update -qq || exit 1; \
	  if [ -z "$$v" ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null || exit 1; \
	    v=$$(clang -dumpversion | cut -d. -f1); \
	  fi; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-rt-$$v-dev >/dev/null || exit 1; \
	fi

# ---- running ----------------------------------------------------------------
# BB_TEST_FAST=1 (set by the sanitizer runs) shortens the stress programs.
# pytest (readers/python/tests) runs in tests/run.sh, but not against a
# sanitizer build (its library needs the sanitizer's runtime preloaded).
test: deps test-deps $(if $(SANITIZE),,py-deps)
	@$(MAKE) --no-print-directory all $(UNITS) $(STRESS) $(FUZZ) $(BENCHES)
	@PYTHON=$(PYTHON) sh tests/run.sh $(B) unit stress fuzz $(if $(SANITIZE),,python)

unit: deps
	@$(MAKE) --no-print-directory all $(UNITS)
	@sh tests/run.sh $(B) unit

stress: deps test-deps
	@$(MAKE) --no-print-directory all $(STRESS)
	@sh tests/run.sh $(B) stress

# The segment harness's seeds, from a real tiny bus (tests/fuzz/gen/).
fuzz-seeds: $(B)/fuzz-gen/seg_seeds
	$(B)/fuzz-gen/seg_seeds tests/fuzz/seg

$(B)/fuzz-gen/%: tests/fuzz/gen/%.c $(COORD_MOD_OBJ) $(B)/libbarbus.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(COORD_MOD_OBJ) $(B)/libbarbus.a $(LDLIBS)

# Each harness FUZZ_SECONDS under libFuzzer with ASan and UBSan (docs/fuzzing.md).
FUZZ_SECONDS ?= 600
fuzz: deps fuzz-deps
	@$(MAKE) --no-print-directory SANITIZE=fuzzer CC=$(FUZZ_CC) \
	  $(patsubst tests/fuzz/%.c,build-fuzzer/fuzz/%,$(FUZZ_SRC))
	@sh tests/fuzz/run.sh build-fuzzer $(FUZZ_SECONDS)

# The whole bus under SIGKILLs (docs/chaos.md): about 5 minutes;
# CHAOS_FLAGS=--short is the shortened run of CI.
chaos: deps
	@$(MAKE) --no-print-directory all $(CHAOS)
	@$(CHAOS) $(CHAOS_FLAGS)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh readers/demo.sh $(B)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCHES)
	@sh bench/run.sh $(B)

# The Python package goes to $(PREFIX)'s site-packages of $(PYTHON) (Debian:
# /usr/local/lib/python3.N/dist-packages), with a copy of libbarbus.so.
PY_SITE = $(shell $(PYTHON) -c 'import sys; d = "dist-packages" if any(p.endswith("dist-packages") for p in sys.path) else "site-packages"; print("$(PREFIX)/lib/python%d.%d/%s" % (sys.version_info[:2] + (d,)))' 2>/dev/null)

# ---- install ------------------------------------------------------------
# make install PREFIX=/usr DESTDIR=/tmp/stage: programs, libbarbus.so with
# its SONAME links, libbarbus.a, barbus.h, barbus.pc, man pages and the
# systemd unit templates (docs/operations.md).
MAN1  := $(patsubst $(B)/bin/%,$(B)/man/%.1,$(PROGS))
MAN7  := $(B)/man/barbus.7
SYSTEMD_UNITS := $(B)/dist/barbus-coordinator@.service $(B)/dist/barbus-upkeep@.service \
	$(B)/dist/barbus-bridge-publish@.service $(B)/dist/barbus-bridge-mirror@.service
SUBST  = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	     -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
	     -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@VERSION@|$(VERSION)|g'

$(B)/man/%.1: $(B)/bin/% readers/dist/man.sh
	@mkdir -p $(@D)
	sh readers/dist/man.sh $< $@ $(VERSION)

$(MAN7): docs/operations.md readers/dist/man.sh
	@mkdir -p $(@D)
	sh readers/dist/man.sh --doc barbus $< $@

# Made at every make install: the paths are install's.
.PHONY: $(B)/barbus.pc $(SYSTEMD_UNITS)
$(B)/barbus.pc:
	$(SUBST) readers/dist/barbus.pc.in > $@
$(SYSTEMD_UNITS):
	@mkdir -p $(@D)
	$(SUBST) readers/dist/$(notdir $@).in > $@

dist: all $(MAN1) $(MAN7) $(B)/barbus.pc $(SYSTEMD_UNITS)

install: dist
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	  $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 \
	  $(DESTDIR)$(UNITDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(B)/libbarbus.a $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(B)/libbarbus.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libbarbus.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libbarbus.so
	install -m 0644 libshm/include/barbus.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 $(B)/barbus.pc $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 $(SYSTEMD_UNITS) $(DESTDIR)$(UNITDIR)/
	@if [ -n "$(PY_SITE)" ]; then \
	  echo "install the Python package barbus into $(DESTDIR)$(PY_SITE)"; \
	  install -d $(DESTDIR)$(PY_SITE)/barbus && \
	  install -m 0644 readers/python/barbus/*.py $(DESTDIR)$(PY_SITE)/barbus/ && \
	  install -m 0755 $(B)/libbarbus.so.$(VERSION) $(DESTDIR)$(PY_SITE)/barbus/libbarbus.so; \
	else echo "no $(PYTHON): the Python package is not installed"; fi

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGS))) \
	  $(DESTDIR)$(LIBDIR)/libbarbus.a $(DESTDIR)$(LIBDIR)/libbarbus.so \
	  $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libbarbus.so.$(VERSION) \
	  $(DESTDIR)$(INCLUDEDIR)/barbus.h $(DESTDIR)$(PKGCONFIGDIR)/barbus.pc \
	  $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
	  $(DESTDIR)$(MANDIR)/man7/barbus.7 \
	  $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(SYSTEMD_UNITS)))
	@if [ -n "$(PY_SITE)" ]; then rm -rf $(DESTDIR)$(PY_SITE)/barbus; fi

clean:
	rm -rf build build-address build-thread build-clang build-fuzzer

-include $(shell find $(B) -name '*.d' 2>/dev/null)
