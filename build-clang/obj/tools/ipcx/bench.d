build-clang/obj/tools/ipcx/bench.o: tools/ipcx/bench.c tools/ipcx/cli.h \
  tools/ipcx/util.h tools/ipcx/../../bench/engine/bench.h

tools/ipcx/cli.h:

tools/ipcx/util.h:

tools/ipcx/../../bench/engine/bench.h:
