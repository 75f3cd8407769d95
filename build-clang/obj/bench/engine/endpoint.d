build-clang/obj/bench/engine/endpoint.o: bench/engine/endpoint.c \
  bench/engine/bench.h include/ipcx.h

bench/engine/bench.h:

include/ipcx.h:
