build-clang/obj/tools/ipcx/bridge.o: tools/ipcx/bridge.c tools/ipcx/cli.h \
  tools/ipcx/util.h include/ipcx.h

tools/ipcx/cli.h:

tools/ipcx/util.h:

include/ipcx.h:
