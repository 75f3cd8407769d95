build-clang/obj/tools/ipcx/rm.o: tools/ipcx/rm.c tools/ipcx/cli.h \
  tools/ipcx/util.h include/ipcx.h

tools/ipcx/cli.h:

tools/ipcx/util.h:

include/ipcx.h:
