build-clang/obj/tools/ipcx/clean.o: tools/ipcx/clean.c tools/ipcx/cli.h \
  tools/ipcx/util.h include/ipcx.h

tools/ipcx/cli.h:

tools/ipcx/util.h:

include/ipcx.h:
