build-clang/obj/bench/engine/msgq.o: bench/engine/msgq.c \
  bench/engine/bench.h include/ipcx.h

bench/engine/bench.h:

include/ipcx.h:
