# sendcache - top-level Makefile.
#   make                 build/libsendcache.so
#   make check           install what is missing (as root), build, run every test,
#                        then make check-musl (CHECK_MUSL=0: not) and make
#                        sanitize (CHECK_SANITIZE=0: not)
#   make CC=musl-gcc     build/musl/: the library and CLI for musl (Alpine)
#   make check-musl      that build's unit tests and helper-program tests
#   make demo            A/B run of nginx with and without the library
#   make bench [QUICK=1] A/B runs of every server and size (bench/ab.sh),
#                        then the real-site benchmark (bench/site.sh);
#                        BENCH_ARGS=... / SITE_ARGS=... pass more options
#   make bench-site [QUICK=1]  the real-site benchmark alone
#   make install         PREFIX=/usr/local DESTDIR=
#   make deb             build/sendcache_VERSION_ARCH.deb (debian/, debhelper)
#   make SANITIZE=address,undefined|thread ...   (built in build/sanitize-*)
#   make sanitize        unit tests + a subset of script tests under ASan and
#                        UBSan together, then the threaded ones under TSan
#   make fuzz            libFuzzer targets, FUZZ_SECONDS each (default 60)
#   make fuzz-fresh      the freshness fuzzer on random seeds, FUZZ_SECONDS
#   make soak            nginx, lighttpd, Apache with the library under load
#                        and file faults for SOAK_SECONDS (default 600)

PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL ?= install
CC      ?= cc
SANITIZE ?=
-include config.mak

# A sanitizer build has its own directory: objects compiled with different
# flags never mix, and the plain build stays usable beside it. So has a
# musl build (make CC=musl-gcc: build/musl).
comma   := ,
MUSL    := $(if $(findstring musl,$(notdir $(CC))),1)
BUILD   := build$(if $(MUSL),/musl)$(if $(SANITIZE),/sanitize-$(subst $(comma),-,$(SANITIZE)))
LIBDIR  := $(PREFIX)/lib/sendcache
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 $(WARN) -fPIC -fvisibility=hidden \
              -ftls-model=initial-exec $(CFLAGS)
LDLIBS  := -ldl -lpthread -lrt
# musl-gcc sees musl's headers only: the kernel's (linux-libc-dev) and
# uthash.h are given as a directory of links, as Alpine's linux-headers
# package gives them.
ifneq ($(MUSL),)
MUSL_INC   := $(BUILD)/include
ALL_CFLAGS += -idirafter $(MUSL_INC)
endif
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif
# GCC 12's UBSan null checks make -Wformat-truncation and
# -Wformat-overflow see a NULL "%s" argument on paths the checks
# themselves rule out.
# UBSan stops at the first report, in unit tests as in servers: a report
# that let the program go on would pass a unit test unseen.
ifneq ($(findstring undefined,$(SANITIZE)),)
ALL_CFLAGS += -Wno-format-truncation -Wno-format-overflow -fno-sanitize-recover=undefined
endif

ENGINE_SRCS := $(wildcard src/*.c)
ENGINE_OBJS := $(ENGINE_SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB         := $(BUILD)/libsendcache.so
UNIT_SRCS   := $(wildcard tests/t0*.c tests/t1*.c)
UNIT_BINS   := $(UNIT_SRCS:tests/%.c=$(BUILD)/tests/%.t)
TEST_LIBS   := $(patsubst tests/%.c,$(BUILD)/tests/%.so,$(wildcard tests/lib*.c))
STAT_CLI    := $(BUILD)/sendcache-stat
CTL_CLI     := $(BUILD)/sendcache-ctl
GEN_DOCS    := $(BUILD)/gen-docs
# The CLI reads the segment with the library's layout (shm.h) and counter
# list (shm.c) and links no other engine object (t5001 checks).
STAT_OBJS   := $(BUILD)/obj/shm.o
# What the command-line tools share (src/cli/segment.h), built into each.
CLI_SRCS    := src/cli/segment.c
MKSEG       := $(BUILD)/tests/mkseg
SENDPATHS   := $(BUILD)/tests/sendpaths
FDSERVER    := $(BUILD)/tests/fdserver
CREDCHECK   := $(BUILD)/tests/credcheck
SPAWNER     := $(BUILD)/tests/spawner
FORKPAGES   := $(BUILD)/tests/forkpages
FRESHFUZZ   := $(BUILD)/tests/freshfuzz
SELFCHECK_LIB := $(BUILD)/tests/libsendcache-selfcheck.so

.PHONY: all check test test-build check-musl deb deps demo bench bench-site install uninstall clean fuzz fuzz-run fuzz-fresh sanitize soak

# Fuzz targets (tests/fuzz/fuzz-NAME.c) and the engine objects each needs.
FUZZ_TARGETS   := http-head config path
FUZZ_OBJS_path := path
FUZZ_OBJS_config := config real
FUZZ_OBJS_http-head := $(filter-out engine blocking creds descs,$(ENGINE_SRCS:src/%.c=%))
# Each target's corpus replayed by the plain compiler in make test.
FUZZ_DRIVERS   := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz-%)

all: $(LIB) $(STAT_CLI) $(CTL_CLI) $(GEN_DOCS)

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/preload.o: preload/preload.c $(wildcard src/*.h) | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The version script: only the names of calls_def.h's SC_EXPORT lines leave
# the library (features.h says which libc: __GLIBC__ for SC_EXPORT_GLIBC).
MAP := $(BUILD)/sendcache.map
$(MAP): src/calls_def.h | $(BUILD)/obj
	{ echo '{'; echo '  global:'; \
	  printf '#include <features.h>\n#define SC_REAL(...)\n#define SC_EXPORT(r, name, ...) name;\n#include "calls_def.h"\n' | \
	    $(CC) -E -P -Isrc -x c - | grep -v '^ *$$' | sed 's/^/    /'; \
	  echo '  local: *;'; echo '};'; } >$@.tmp && mv $@.tmp $@

$(LIB): $(ENGINE_OBJS) $(BUILD)/obj/preload.o $(MAP)
	$(CC) -shared -Wl,-soname,libsendcache.so \
	  -Wl,--version-script=$(MAP) -Wl,-z,now -Wl,-z,relro \
	  $(LDFLAGS) -o $@ $(ENGINE_OBJS) $(BUILD)/obj/preload.o $(LDLIBS)

$(STAT_CLI): src/cli/sendcache-stat.c $(CLI_SRCS) $(STAT_OBJS) $(wildcard src/*.h src/cli/*.h)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(CLI_SRCS) $(STAT_OBJS) $(LDFLAGS) $(LDLIBS)

$(CTL_CLI): src/cli/sendcache-ctl.c $(CLI_SRCS) $(STAT_OBJS) $(wildcard src/*.h src/cli/*.h)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(CLI_SRCS) $(STAT_OBJS) $(LDFLAGS) $(LDLIBS)

# Prints the tables made from src/config_def.h for scripts/gen-docs.
$(GEN_DOCS): src/cli/gen-docs.c src/config_def.h | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(LDFLAGS)

$(MKSEG): tests/helpers/mkseg.c $(STAT_OBJS) $(wildcard src/*.h) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(STAT_OBJS) $(LDFLAGS) $(LDLIBS)

# Plays server scenarios for t2001; a plain program, run with and
# without LD_PRELOAD.
$(SENDPATHS): tests/helpers/sendpaths.c tests/helpers/compat.h | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS) -lpthread

# A file server that closes the library's descriptors behind its back (t4001).
$(FDSERVER): tests/helpers/fdserver.c tests/helpers/compat.h | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS)

# open/stat/access before and after credentials change (t4005).
$(CREDCHECK): tests/helpers/credcheck.c tests/helpers/compat.h | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS) -lpthread

# posix_spawn, vfork and fork beside threads from a cached process (t4007).
$(SPAWNER): tests/helpers/spawner.c | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS) -lpthread

# The pages a fork-per-connection server's fork costs (t4012).
$(FORKPAGES): tests/helpers/forkpages.c | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS)

# The differential freshness fuzzer (t4009, make fuzz-fresh).
$(FRESHFUZZ): tests/helpers/freshfuzz.c tests/helpers/compat.h | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS)

# The library with cache.c's self-check (SENDCACHE_SELFCHECK): a watched
# entry that disagrees with the kernel while no event is pending aborts.
# The fuzzer runs its seeds with it (t4009).
SELFCHECK_SRCS := cache fresh neg
SELFCHECK_OBJS := $(SELFCHECK_SRCS:%=$(BUILD)/obj/%-selfcheck.o)
$(BUILD)/obj/%-selfcheck.o: src/%.c $(wildcard src/*.h) | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -DSENDCACHE_SELFCHECK -c -o $@ $<

$(SELFCHECK_LIB): $(filter-out $(SELFCHECK_SRCS:%=$(BUILD)/obj/%.o),$(ENGINE_OBJS)) \
		$(SELFCHECK_OBJS) $(BUILD)/obj/preload.o $(MAP) | $(BUILD)/tests
	$(CC) -shared -Wl,-soname,libsendcache.so \
	  -Wl,--version-script=$(MAP) -Wl,-z,now -Wl,-z,relro \
	  $(LDFLAGS) -o $@ $(filter-out $(SELFCHECK_SRCS:%=$(BUILD)/obj/%.o),$(ENGINE_OBJS)) \
	  $(SELFCHECK_OBJS) $(BUILD)/obj/preload.o $(LDLIBS)

# Unit tests link the engine's objects directly and call it without
# LD_PRELOAD; test libraries are small helpers preloaded by script tests.
$(BUILD)/tests/%.t: tests/%.c $(wildcard tests/tap/*.h) $(ENGINE_OBJS) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(ENGINE_OBJS) $(LDFLAGS) $(LDLIBS)

# t0006 is t0004's suite run without inotify.
$(BUILD)/tests/t0006-revalidate.t: tests/t0004-cache.c

# A fuzz target linked with a main() that replays files: the committed
# corpus (seeds and every input that once broke a target) runs in make test.
.SECONDEXPANSION:
$(BUILD)/tests/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/corpus-driver.c tests/fuzz/fuzz.h \
		$$(addprefix $(BUILD)/obj/,$$(addsuffix .o,$$(FUZZ_OBJS_$$*))) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Isrc -Itests/fuzz -o $@ $< tests/fuzz/corpus-driver.c \
	  $(FUZZ_OBJS_$*:%=$(BUILD)/obj/%.o) $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%.so: tests/%.c tests/helpers/compat.h | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(LDFLAGS)

$(BUILD)/obj $(BUILD)/tests: $(if $(MUSL),$(MUSL_INC)/uthash.h)
	mkdir -p $@

$(MUSL_INC)/uthash.h:
	mkdir -p $(MUSL_INC)
	for d in linux asm-generic mtd; do ln -sfn /usr/include/$$d $(MUSL_INC)/$$d; done
	ln -sfn /usr/include/$$(gcc -print-multiarch)/asm $(MUSL_INC)/asm
	ln -sfn /usr/include/uthash.h $@

deps:
	scripts/install-deps check

# Script tests preload the library into programs built without the
# sanitizer; ASan's and TSan's runtimes must then come first in LD_PRELOAD
# (tests/tap/tap.sh: TAP_PRELOAD). UBSan's needs no such place.
SAN_RUNTIME := $(if $(findstring address,$(SANITIZE)),$(shell $(CC) -print-file-name=libasan.so)) \
               $(if $(findstring thread,$(SANITIZE)),$(shell $(CC) -print-file-name=libtsan.so))
SAN_RUNTIME := $(strip $(SAN_RUNTIME))
TEST_ENV := TAP_BUILD=$(abspath $(BUILD)) TAP_SANITIZE=$(SANITIZE) \
            $(if $(SAN_RUNTIME),TAP_PRELOAD="$(SAN_RUNTIME) $(abspath $(LIB))") \
            $(if $(findstring thread,$(SANITIZE)),TSAN_OPTIONS=suppressions=$(abspath tests/tsan.supp))
# Script tests to run: all by default; `make test TESTS="tests/t1003-*.t"`.
TESTS ?= tests/*.t

test-build: $(LIB) $(STAT_CLI) $(CTL_CLI) $(GEN_DOCS) $(MKSEG) $(SENDPATHS) $(FDSERVER) $(CREDCHECK) $(SPAWNER) $(FORKPAGES) $(FRESHFUZZ) $(SELFCHECK_LIB) $(UNIT_BINS) $(TEST_LIBS) $(FUZZ_DRIVERS)

test: test-build
	$(TEST_ENV) prove -f $(UNIT_BINS) $(TESTS)

# The musl variant (build/musl) and the tests that run no program of
# Debian's with it (those are glibc's: a musl library cannot be preloaded
# into them): the unit tests, and the scripts that drive the project's own
# helper programs, all built with musl.
MUSL_TESTS := tests/t2001-send-paths.t tests/t2004-mmap-truncated.t \
	tests/t4001-fd-hazards.t tests/t4009-fresh-fuzz.t tests/t5001-stat-cli.t
# Without musl-gcc: a skip, a failure under CI (scripts/install-deps check
# installs it).
check-musl:
	@if ! command -v musl-gcc >/dev/null; then \
		echo "check-musl: musl-gcc is missing (musl-tools)$${CI:+: required under CI}"; \
		[ -z "$$CI" ]; exit; fi; \
	$(MAKE) CC=musl-gcc SANITIZE= test-build && \
	TAP_BUILD=$(abspath build/musl) prove -f build/musl/tests/*.t $(MUSL_TESTS)

# make check also runs make check-musl (about 1 minute) and make sanitize
# (about 3 of its 14 minutes on 2 cores); CHECK_MUSL=0 and
# CHECK_SANITIZE=0 leave them out.
CHECK_SANITIZE ?= 1
CHECK_MUSL ?= 1

# Last, tests/leftovers fails the check if the tests, passing or failing,
# left anything in /tmp, /dev/shm or the process table.
check: deps
	@tok=$$(tests/leftovers begin $(BUILD)/leftovers.state) || exit 2; st=0; \
	SENDCACHE_CHECK_RUN=$$tok $(MAKE) test || st=$$?; \
	if [ $$st = 0 ] && [ "$(CHECK_MUSL)" = 1 ]; then \
		SENDCACHE_CHECK_RUN=$$tok $(MAKE) check-musl || st=$$?; fi; \
	if [ $$st = 0 ] && [ "$(CHECK_SANITIZE)" = 1 ]; then \
		SENDCACHE_CHECK_RUN=$$tok $(MAKE) sanitize || st=$$?; fi; \
	tests/leftovers end $(BUILD)/leftovers.state || st=$$?; exit $$st

# libFuzzer (clang): engine objects built again with coverage hooks, ASan
# and UBSan; each target runs FUZZ_SECONDS, reading the committed seeds and
# writing what it finds to build/fuzz/corpus/NAME. A crash stops make with
# the input in build/fuzz/crash-NAME-*: copy it to tests/fuzz/corpus/NAME/
# and fix the bug; make test replays it from then on.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build/fuzz
FUZZ_CFLAGS  := -std=c11 -g -O1 -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined

$(FUZZ_BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) | $(FUZZ_BUILD)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -fPIC -c -o $@ $<

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h \
		$$(addprefix $(FUZZ_BUILD)/obj/,$$(addsuffix .o,$$(FUZZ_OBJS_$$*)))
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Isrc -Itests/fuzz -o $@ $< \
	  $(FUZZ_OBJS_$*:%=$(FUZZ_BUILD)/obj/%.o) -ldl -lpthread -lrt

$(FUZZ_BUILD)/obj:
	mkdir -p $@

# Kept between runs (make would remove them as intermediate files).
.SECONDARY: $(ENGINE_SRCS:src/%.c=$(FUZZ_BUILD)/obj/%.o)

fuzz:
	scripts/install-deps fuzz
	$(MAKE) fuzz-run

# Random seeds of the differential freshness fuzzer (t4009 runs fixed ones)
# with the default intervals, for FUZZ_SECONDS, on the self-checking build.
fuzz-fresh: $(SELFCHECK_LIB) $(FRESHFUZZ)
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/helpers/fuzz-fresh.sh $(SELFCHECK_LIB) $(FRESHFUZZ)

fuzz-run: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz-%)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		$(FUZZ_BUILD)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		  -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- \
		  $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t \
		  2>$(FUZZ_BUILD)/$$t.log || { tail -n 40 $(FUZZ_BUILD)/$$t.log; exit 1; }; \
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)' \
		  $(FUZZ_BUILD)/$$t.log; \
	done

# make sanitize: the unit tests (t0012 is the threaded one) and a subset
# of the script tests under ASan and UBSan in one build (one pass instead
# of two: about two minutes less), then the threaded tests under TSan;
# each builds in build/sanitize-NAMES.
SANITIZE_TESTS ?= tests/t0011-fuzz-corpus.t tests/t1001-early-open.t \
                  tests/t1003-bad-config.t tests/t2001-send-paths.t \
                  tests/t3001-nginx-bytes.t tests/t4001-fd-hazards.t \
                  tests/t4008-segment-scribble.t tests/t4009-fresh-fuzz.t
SANITIZE_THREAD_TESTS ?= tests/t2001-send-paths.t

sanitize:
	$(MAKE) SANITIZE=address,undefined test TESTS="$(SANITIZE_TESTS)"
	$(MAKE) SANITIZE=thread test TESTS="$(SANITIZE_THREAD_TESTS)"

# nginx only, 1 KiB and 1 MiB, 2 rounds of 5 s: about 3 minutes.
demo:
	scripts/install-deps demo
	$(MAKE) $(LIB) $(STAT_CLI)
	bench/ab.sh --servers nginx --sizes 1k,1m --rounds 2 --duration 5 --no-plots --tag demo

# Every server and size: QUICK=1 is one round of 2 s (a few minutes), the
# full run three rounds of 3 s (under 30 minutes on 2 cores); then the
# real site: QUICK=1 nginx on 50,000 files, one round (about 3 minutes),
# the full run three servers, five streams, five rounds (about 35 minutes).
bench:
	scripts/install-deps bench
	$(MAKE) $(LIB) $(STAT_CLI)
	bench/ab.sh $(if $(filter 1 yes true,$(QUICK)),--quick) $(BENCH_ARGS)
	bench/site.sh $(if $(filter 1 yes true,$(QUICK)),--quick) $(SITE_ARGS)

bench-site:
	scripts/install-deps bench
	$(MAKE) $(LIB) $(STAT_CLI)
	bench/site.sh $(if $(filter 1 yes true,$(QUICK)),--quick) $(SITE_ARGS)

# Not part of make check: bench/soak.sh, results in bench/results/ (a
# plot too when gnuplot is installed: scripts/install-deps bench), then
# the segment scribbled for 3 rounds of SCRIBBLE_SECONDS per server.
SOAK_SECONDS ?= 600
SCRIBBLE_SECONDS ?= 30
soak:
	scripts/install-deps check
	$(MAKE) $(LIB) $(STAT_CLI)
	SOAK_SECONDS=$(SOAK_SECONDS) bench/soak.sh
	SCRIBBLE_SECONDS=$(SCRIBBLE_SECONDS) prove -v tests/t4008-segment-scribble.t

install: $(LIB) $(STAT_CLI) $(CTL_CLI)
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	$(INSTALL) -m 0755 $(LIB) $(DESTDIR)$(LIBDIR)/libsendcache.so
	sed 's|@LIBDIR@|$(LIBDIR)|' scripts/sendcache-run > $(DESTDIR)$(BINDIR)/sendcache-run
	chmod 0755 $(DESTDIR)$(BINDIR)/sendcache-run
	$(INSTALL) -m 0755 $(STAT_CLI) $(DESTDIR)$(BINDIR)/sendcache-stat
	$(INSTALL) -m 0755 $(CTL_CLI) $(DESTDIR)$(BINDIR)/sendcache-ctl
	$(INSTALL) -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 man/*.7 $(DESTDIR)$(MANDIR)/man7/

# The Debian package, built by dpkg-buildpackage (debian/) from a copy of
# the files git tracks, so that its clean step leaves this build alone:
# build/sendcache_VERSION_ARCH.deb.
DEB_VERSION = $(shell dpkg-parsechangelog -S Version)
DEB_ARCH = $(shell dpkg-architecture -qDEB_HOST_ARCH)
deb:
	rm -rf build/deb build/sendcache_*.deb && mkdir -p build/deb/sendcache
	git ls-files -z >build/deb/files || { echo "make deb: needs a git checkout" >&2; exit 1; }
	xargs -0 -r cp --parents -t build/deb/sendcache <build/deb/files
	cd build/deb/sendcache && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -n 30 ../build.log; exit 1; }
	mv build/deb/sendcache_$(DEB_VERSION)_$(DEB_ARCH).deb build/
	@echo "build/sendcache_$(DEB_VERSION)_$(DEB_ARCH).deb"

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libsendcache.so $(DESTDIR)$(BINDIR)/sendcache-run
	rm -f $(DESTDIR)$(BINDIR)/sendcache-stat $(DESTDIR)$(MANDIR)/man1/sendcache-stat.1
	rm -f $(DESTDIR)$(BINDIR)/sendcache-ctl $(DESTDIR)$(MANDIR)/man1/sendcache-ctl.1
	rm -f $(DESTDIR)$(MANDIR)/man1/sendcache-run.1 $(DESTDIR)$(MANDIR)/man7/sendcache.7

clean:
	rm -rf $(BUILD)
