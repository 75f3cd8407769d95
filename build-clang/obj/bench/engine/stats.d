build-clang/obj/bench/engine/stats.o: bench/engine/stats.c \
  bench/engine/bench.h

bench/engine/bench.h:
