build-clang/obj/bench/engine/ipcx.o: bench/engine/ipcx.c \
  bench/engine/bench.h include/ipcx.h

bench/engine/bench.h:

include/ipcx.h:
