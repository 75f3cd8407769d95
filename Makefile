# ipcx - build, test, install. GNU make.
#
#   make                 library (build/libipcx.so, .a) and the ipcx command
#   make demo            build and run the demo (the main job)
#   make check           build and run the test suite
#   make check SAN=asan  the same under ASan+UBSan (SAN=tsan: ThreadSanitizer)
#   make fuzz            build the libFuzzer harnesses and run each briefly
#   make bench           build and run the benchmark comparison
#   make soak            load and kill soak (about 30 min; SOAK_MSGS=100000
#                        SOAK_ROUNDS=50 SOAK_SHM_ROUNDS=50 for the short one)
#   make install PREFIX=/usr/local DESTDIR=
#   make format          clang-format the tree

VERSION  := 0.1.0
SOVER    := 0
PREFIX   ?= /usr/local
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
CFLAGS  ?=
ALLCFLAGS = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS) -pthread \
	   -Iinclude -Isrc/core $(CFLAGS)
LDLIBS  := -pthread

LIB_SRC   := $(sort $(wildcard src/core/*.c src/transport/*.c src/inspect/*.c))
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

.PHONY: all lib demo check test fuzz bench soak install uninstall format clean
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
	$(CC) $(ALLCFLAGS) -shared -Wl,-soname,libipcx.so.$(SOVER) \
	  -Wl,--version-script=src/libipcx.map -Wl,-z,defs -o $@ $(PIC_OBJ) $(LDLIBS)

$(B)/libipcx.so: $(B)/libipcx.so.$(VERSION)
	ln -sf libipcx.so.$(VERSION) $(B)/libipcx.so.$(SOVER)
	ln -sf libipcx.so.$(VERSION) $@

# The command links the library statically: one self-contained binary.
$(B)/ipcx: $(CLI_OBJ) $(BENCH_OBJ) $(B)/libipcx.a
	$(CC) $(ALLCFLAGS) -o $@ $(CLI_OBJ) $(BENCH_OBJ) $(B)/libipcx.a $(LDLIBS) -lm

$(B)/tests/%: tests/%.c $(TLIB_OBJ) $(B)/libipcx.a
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -MMD -MP -Itests/lib -o $@ $< $(TLIB_OBJ) $(B)/libipcx.a $(LDLIBS) -lm

$(B)/soak/%: tests/soak/%.c $(TLIB_OBJ) $(B)/libipcx.a
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -MMD -MP -Itests/lib -o $@ $< $(TLIB_OBJ) $(B)/libipcx.a $(LDLIBS) -lm

$(B)/ipcx.pc: ipcx.pc.in
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

demo: all
	IPCX=$(B)/ipcx sh scripts/demo.sh

check test: all $(TESTS)
	IPCX=$(abspath $(B)/ipcx) sh tests/run.sh $(B)/tests

FUZZ_CC    ?= clang
FUZZ_TIME  ?= 20
fuzz:
	@mkdir -p build-fuzz
	@set -e; for h in $(FUZZ_SRC); do \
	  n=$$(basename $$h .c); \
	  echo "== $$n"; \
	  $(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc/core \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -o build-fuzz/$$n $$h $(LIB_SRC) -pthread; \
	  mkdir -p build-fuzz/$$n.corpus; \
	  build-fuzz/$$n -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=0 build-fuzz/$$n.corpus tests/fuzz/corpus/$$n \
	    2>build-fuzz/$$n.log || { tail -40 build-fuzz/$$n.log; exit 1; }; \
	  grep -E '^(#[0-9]+|Done)' build-fuzz/$$n.log | tail -1; \
	done

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

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 644 include/ipcx.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(B)/libipcx.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/libipcx.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libipcx.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libipcx.so.$(SOVER)
	ln -sf libipcx.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libipcx.so
	install -m 755 $(B)/ipcx $(DESTDIR)$(PREFIX)/bin/
	# The pkg-config file names the PREFIX given here, not at build time.
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' ipcx.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ipcx.pc
	install -m 644 docs/ipcx.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 docs/libipcx.3 $(DESTDIR)$(PREFIX)/share/man/man3/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/ipcx.h $(DESTDIR)$(PREFIX)/lib/libipcx.* \
	  $(DESTDIR)$(PREFIX)/bin/ipcx $(DESTDIR)$(PREFIX)/lib/pkgconfig/ipcx.pc \
	  $(DESTDIR)$(PREFIX)/share/man/man1/ipcx.1 $(DESTDIR)$(PREFIX)/share/man/man3/libipcx.3

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan build-fuzz
