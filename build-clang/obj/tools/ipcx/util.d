build-clang/obj/tools/ipcx/util.o: tools/ipcx/util.c tools/ipcx/util.h \
  tools/ipcx/cli.h include/ipcx.h

tools/ipcx/util.h:

tools/ipcx/cli.h:

include/ipcx.h:
