build-clang/obj/bench/engine/kbase.o: bench/engine/kbase.c \
  bench/engine/bench.h

bench/engine/bench.h:
