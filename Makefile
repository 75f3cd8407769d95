# ipcx - build, test, install. GNU make.
#
#   make                 library (build/libipcx.so, .a) and the ipcx command
#   make tour            build and run ipcx tour (the main job)
#   make check           build and run the test suite
#   make check SAN=asan  the same under ASan+UBSan (SAN=tsan: ThreadSanitizer)
#   make check-python    the Python binding's tests (also part of make check)
#   make fuzz            build the libFuzzer harnesses and run each briefly
#                        (FUZZ_TIME=s each, or FUZZ_RUNS=N executions each)
#   make bench           build and run the benchmark comparison
#   make soak            load and kill soak (about 30 min; SOAK_MSGS=100000
#                        SOAK_ROUNDS=50 SOAK_SHM_ROUNDS=50 for the short one)
#   make install PREFIX=/usr/local DESTDIR=
#   make format          clang-format the tree

VERSION  := 0.1.0
SOVER    := 0
PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DOCDIR   ?= $(PREFIX)/share/doc/ipcx
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR  ?=
CC       ?= cc
SAN      ?=
OPT      ?= -O2 -g

ifeq ($(SAN),)
B := build
SANFLAGS :=
else ifeq ($(SAN),asan)
B := build-asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else ifeq ($(SAN),tsan)
B := build-tsan
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
else
$(error SAN must be empty, asan or tsan)
endif

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wformat=2 -Wvla
# CPPFLAGS, CFLAGS and LDFLAGS from the environment or the command line (a
# distribution's hardening flags) are honoured, added after ours.
CPPFLAGS ?=
CFLAGS  ?=
LDFLAGS ?=
# nats:// is built where the NATS C client's header is found (libnats-dev);
# the library loads the client at run time, so it links nothing but libc.
NATS_DEF := $(shell pkg-config --exists libnats 2>/dev/null && echo -DIPCX_HAVE_NATS)
ALLCFLAGS = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS) -pthread \
	   -Iinclude -Isrc/core -Isrc/ring $(NATS_DEF) $(CPPFLAGS) $(CFLAGS)
LDLIBS  := -pthread

LIB_SRC   := $(sort $(wildcard src/core/*.c src/ring/*.c src/transport/*.c src/inspect/*.c))
BENCH_SRC := $(sort $(wildcard bench/engine/*.c))
CLI_SRC   := $(sort $(wildcard tools/ipcx/*.c))
TEST_SRC  := $(sort $(wildcard tests/test-*.c))
TLIB_SRC  := $(sort $(wildcard tests/lib/*.c))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz-*.c))
SOAK_SRC  := $(sort $(wildcard tests/soak/soak-*.c))

LIB_OBJ   := $(LIB_SRC:%.c=$(B)/obj/%.o)
PIC_OBJ   := $(LIB_SRC:%.c=$(B)/pic/%.o)
BENCH_OBJ := $(BENCH_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(B)/obj/%.o)
TLIB_OBJ  := $(TLIB_SRC:%.c=$(B)/obj/%.o)
TESTS     := $(TEST_SRC:tests/%.c=$(B)/tests/%)
SOAKS     := $(SOAK_SRC:tests/soak/%.c=$(B)/soak/%)

.PHONY: all lib tour check test fuzz bench soak install uninstall format clean
# Keep the test helpers' objects: make would delete them as intermediates.
.SECONDARY: $(TLIB_OBJ)
all: lib $(B)/ipcx $(B)/ipcx.pc

lib: $(B)/libipcx.a $(B)/libipcx.so

# Each object depends on the headers it really includes (-MMD -MP), so
# touching a bench or tool header rebuilds nothing in src/.
$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -MMD -MP -c $< -o $@

$(B)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -MMD -MP -fPIC -fvisibility=hidden -c $< -o $@

-include $(shell find $(B) -name '*.d' 2>/dev/null)

$(B)/libipcx.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libipcx.so.$(VERSION): $(PIC_OBJ) src/libipcx.map
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -shared -Wl,-soname,libipcx.so.$(SOVER) \
	  -Wl,--version-script=src/libipcx.map -Wl,-z,defs -o $@ $(PIC_OBJ) $(LDLIBS)

$(B)/libipcx.so: $(B)/libipcx.so.$(VERSION)
	ln -sf libipcx.so.$(VERSION) $(B)/libipcx.so.$(SOVER)
	ln -sf libipcx.so.$(VERSION) $@

# The command links the library statically: one self-contained binary.
$(B)/ipcx: $(CLI_OBJ) $(BENCH_OBJ) $(B)/libipcx.a
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BENCH_OBJ) $(B)/libipcx.a $(LDLIBS) -lm

$(B)/tests/%: tests/%.c $(TLIB_OBJ) $(B)/libipcx.a
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -MMD -MP -Itests/lib -o $@ $< $(TLIB_OBJ) $(B)/libipcx.a $(LDLIBS) -lm

$(B)/soak/%: tests/soak/%.c $(TLIB_OBJ) $(B)/libipcx.a
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -MMD -MP -Itests/lib -o $@ $< $(TLIB_OBJ) $(B)/libipcx.a $(LDLIBS) -lm

PCSUBST = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	  -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|'
$(B)/ipcx.pc: ipcx.pc.in
	@mkdir -p $(@D)
	$(PCSUBST) $< > $@

tour: all
	$(B)/ipcx tour

# Each test's time limit (tests/run.sh): sanitizer builds run several times
# slower, so they get more, never a timing-dependent verdict.
T_TIMEOUT ?= $(if $(SAN),300,120)
check test: all $(TESTS)
	IPCX=$(abspath $(B)/ipcx) T_TIMEOUT=$(T_TIMEOUT) sh tests/run.sh $(B)/tests

.PHONY: check-python
check-python: lib $(B)/ipcx
	IPCX=$(abspath $(B)/ipcx) sh tests/test-python.sh

FUZZ_CC    ?= clang
FUZZ_TIME  ?= 20
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc/core -Isrc/ring \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJ   := $(LIB_SRC:%.c=build-fuzz/obj/%.o)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)

# The library is compiled for fuzzing once; each harness links against it.
build-fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -MMD -MP -c $< -o $@

build-fuzz/libipcx-fuzz.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

build-fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(wildcard tests/fuzz/*.h) build-fuzz/libipcx-fuzz.a
	$(FUZZ_CC) $(subst fuzzer-no-link,fuzzer,$(FUZZ_FLAGS)) -o $@ $< \
	  build-fuzz/libipcx-fuzz.a -pthread

-include $(shell find build-fuzz/obj -name '*.d' 2>/dev/null)

# One line per harness: executions, executions per second, wall seconds.
# FUZZ_RUNS=N runs each harness to N executions (no time bound) instead of
# FUZZ_TIME seconds; make -j2 fuzz runs two harnesses at a time.
FUZZ_RUNS  ?=
FUZZ_BOUND  = $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS) -max_total_time=0,-max_total_time=$(FUZZ_TIME))
FUZZ_RUN   := $(FUZZ_SRC:tests/fuzz/fuzz-%.c=fuzz-run-%)
.PHONY: $(FUZZ_RUN)

fuzz: $(FUZZ_RUN)

$(FUZZ_RUN): fuzz-run-%: build-fuzz/fuzz-%
	@mkdir -p build-fuzz/fuzz-$*.corpus
	@t0=$$(date +%s); \
	build-fuzz/fuzz-$* $(FUZZ_BOUND) -timeout=10 -rss_limit_mb=2048 \
	  -print_final_stats=1 build-fuzz/fuzz-$*.corpus tests/fuzz/corpus/fuzz-$* \
	  2>build-fuzz/fuzz-$*.log || { tail -40 build-fuzz/fuzz-$*.log; exit 1; }; \
	awk -v n=fuzz-$* -v t=$$(( $$(date +%s) - t0 )) \
	  '/^stat::number_of_executed_units:/ { e = $$2 } \
	   /^stat::average_exec_per_sec:/ { r = $$2 } \
	   END { printf "%-16s %11d execs %8d exec/s %6d s\n", n, e, r, t }' \
	  build-fuzz/fuzz-$*.log

bench: all
	IPCX=$(B)/ipcx sh bench/run.sh

SOAK_MSGS       ?= 10000000
SOAK_SENDERS    ?= 4
SOAK_ROUNDS     ?= 300
SOAK_SHM_ROUNDS ?= 1000
soak: all $(SOAKS) $(B)/tests/test-kill
	SOAK_MSGS=$(SOAK_MSGS) SOAK_SENDERS=$(SOAK_SENDERS) \
	  SOAK_ROUNDS=$(SOAK_ROUNDS) SOAK_SHM_ROUNDS=$(SOAK_SHM_ROUNDS) \
	  sh tests/soak/soak.sh $(B)

# Functions documented in libipcx(3): each gets a man page link, so
# `man ipcx_open` finds it.
LPAREN := (
MANLINKS := $(shell grep -oE 'ipcx_[a-z_]+[$(LPAREN)]' include/ipcx.h | tr -d '$(LPAREN)' | sort -u)

install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) \
	  $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
	  $(DESTDIR)$(DOCDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 644 include/ipcx.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(B)/libipcx.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libipcx.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libipcx.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libipcx.so.$(SOVER)
	ln -sf libipcx.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libipcx.so
	install -m 755 $(B)/ipcx $(DESTDIR)$(BINDIR)/
	# The pkg-config file names the directories given here, not at build time.
	$(PCSUBST) ipcx.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/ipcx.pc
	install -m 644 docs/ipcx.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 docs/libipcx.3 $(DESTDIR)$(MANDIR)/man3/
	for f in $(MANLINKS); do \
	  echo '.so man3/libipcx.3' > $(DESTDIR)$(MANDIR)/man3/$$f.3; done
	install -m 644 README.md docs/FORMAT.md docs/SECURITY.md docs/BENCH.md \
	  $(DESTDIR)$(DOCDIR)/
	install -m 644 scripts/ipcx.bash-completion $(DESTDIR)$(BASHCOMPDIR)/ipcx

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/ipcx.h $(DESTDIR)$(LIBDIR)/libipcx.* \
	  $(DESTDIR)$(BINDIR)/ipcx $(DESTDIR)$(LIBDIR)/pkgconfig/ipcx.pc \
	  $(DESTDIR)$(MANDIR)/man1/ipcx.1 $(DESTDIR)$(MANDIR)/man3/libipcx.3 \
	  $(DESTDIR)$(BASHCOMPDIR)/ipcx
	for f in $(MANLINKS); do rm -f $(DESTDIR)$(MANDIR)/man3/$$f.3; done
	rm -rf $(DESTDIR)$(DOCDIR)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan build-fuzz
