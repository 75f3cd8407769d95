build-clang/obj/bench/engine/proc.o: bench/engine/proc.c \
  bench/engine/bench.h

bench/engine/bench.h:
