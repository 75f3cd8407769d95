build-clang/obj/bench/engine/idle.o: bench/engine/idle.c \
  bench/engine/bench.h include/ipcx.h

bench/engine/bench.h:

include/ipcx.h:
