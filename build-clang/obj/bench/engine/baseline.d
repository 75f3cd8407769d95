build-clang/obj/bench/engine/baseline.o: bench/engine/baseline.c \
  bench/engine/bench.h

bench/engine/bench.h:
