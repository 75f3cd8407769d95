build-clang/obj/bench/engine/report.o: bench/engine/report.c \
  bench/engine/bench.h include/ipcx.h

bench/engine/bench.h:

include/ipcx.h:
