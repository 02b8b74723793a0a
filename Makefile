# sendcache - top-level Makefile.
#   make                 build/libsendcache.so
#   make check           install what is missing (as root), build, run every test
#   make demo            A/B run of nginx with and without the library
#   make bench [QUICK=1] A/B runs of every server and size (bench/ab.sh);
#                        BENCH_ARGS=... passes more options
#   make install         PREFIX=/usr/local DESTDIR=
#   make SANITIZE=address|undefined|thread ...

PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL ?= install
CC      ?= cc
SANITIZE ?=
-include config.mak

BUILD   := build
LIBDIR  := $(PREFIX)/lib/sendcache
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 $(WARN) -fPIC -fvisibility=hidden \
              -ftls-model=initial-exec $(CFLAGS)
LDLIBS  := -ldl -lpthread -lrt
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif

ENGINE_SRCS := $(wildcard src/*.c)
ENGINE_OBJS := $(ENGINE_SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB         := $(BUILD)/libsendcache.so
UNIT_SRCS   := $(wildcard tests/t0*.c tests/t1*.c)
UNIT_BINS   := $(UNIT_SRCS:tests/%.c=$(BUILD)/tests/%.t)
TEST_LIBS   := $(patsubst tests/%.c,$(BUILD)/tests/%.so,$(wildcard tests/lib*.c))
STAT_CLI    := $(BUILD)/sendcache-stat
STAT_OBJS   := $(BUILD)/obj/shm.o $(BUILD)/obj/stats.o $(BUILD)/obj/config.o \
               $(BUILD)/obj/real.o
MKSEG       := $(BUILD)/tests/mkseg

.PHONY: all check test deps demo bench install uninstall clean

all: $(LIB) $(STAT_CLI)

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/preload.o: preload/preload.c src/engine.h | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(ENGINE_OBJS) $(BUILD)/obj/preload.o preload/sendcache.map
	$(CC) -shared -Wl,-soname,libsendcache.so \
	  -Wl,--version-script=preload/sendcache.map -Wl,-z,now -Wl,-z,relro \
	  $(LDFLAGS) -o $@ $(ENGINE_OBJS) $(BUILD)/obj/preload.o $(LDLIBS)

# sendcache-stat reads the segment with the library's own layout code.
$(STAT_CLI): src/cli/sendcache-stat.c $(STAT_OBJS) $(wildcard src/*.h)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(STAT_OBJS) $(LDFLAGS) $(LDLIBS)

$(MKSEG): tests/helpers/mkseg.c $(STAT_OBJS) $(wildcard src/*.h) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(STAT_OBJS) $(LDFLAGS) $(LDLIBS)

# Unit tests link the engine's objects directly and call it without
# LD_PRELOAD; test libraries are small helpers preloaded by script tests.
$(BUILD)/tests/%.t: tests/%.c $(wildcard tests/tap/*.h) $(ENGINE_OBJS) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(ENGINE_OBJS) $(LDFLAGS) $(LDLIBS)

# t0006 is t0004's suite run without inotify.
$(BUILD)/tests/t0006-revalidate.t: tests/t0004-cache.c

$(BUILD)/tests/%.so: tests/%.c | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(LDFLAGS)

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

deps:
	scripts/install-deps check

test: $(LIB) $(STAT_CLI) $(MKSEG) $(UNIT_BINS) $(TEST_LIBS)
	prove -f $(UNIT_BINS) tests/*.t

check: deps
	$(MAKE) test

# nginx only, 1 KiB and 1 MiB, 2 rounds of 5 s: about 3 minutes.
demo:
	scripts/install-deps demo
	$(MAKE) $(LIB) $(STAT_CLI)
	bench/ab.sh --servers nginx --sizes 1k,1m --rounds 2 --duration 5 --no-plots --tag demo

# Every server and size: QUICK=1 is one round of 2 s (a few minutes), the
# full run three rounds of 3 s (under 30 minutes on 2 cores).
bench:
	scripts/install-deps bench
	$(MAKE) $(LIB) $(STAT_CLI)
	bench/ab.sh $(if $(filter 1 yes true,$(QUICK)),--quick) $(BENCH_ARGS)

install: $(LIB) $(STAT_CLI)
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	$(INSTALL) -m 0755 $(LIB) $(DESTDIR)$(LIBDIR)/libsendcache.so
	sed 's|@LIBDIR@|$(LIBDIR)|' scripts/sendcache-run > $(DESTDIR)$(BINDIR)/sendcache-run
	chmod 0755 $(DESTDIR)$(BINDIR)/sendcache-run
	$(INSTALL) -m 0755 $(STAT_CLI) $(DESTDIR)$(BINDIR)/sendcache-stat
	$(INSTALL) -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 man/*.7 $(DESTDIR)$(MANDIR)/man7/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libsendcache.so $(DESTDIR)$(BINDIR)/sendcache-run
	rm -f $(DESTDIR)$(BINDIR)/sendcache-stat $(DESTDIR)$(MANDIR)/man1/sendcache-stat.1
	rm -f $(DESTDIR)$(MANDIR)/man1/sendcache-run.1 $(DESTDIR)$(MANDIR)/man7/sendcache.7

clean:
	rm -rf $(BUILD)
