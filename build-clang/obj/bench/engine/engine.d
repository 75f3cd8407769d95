build-clang/obj/bench/engine/engine.o: bench/engine/engine.c \
  bench/engine/bench.h include/ipcx.h

bench/engine/bench.h:

include/ipcx.h:
