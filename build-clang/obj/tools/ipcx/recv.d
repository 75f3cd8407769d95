build-clang/obj/tools/ipcx/recv.o: tools/ipcx/recv.c tools/ipcx/cli.h \
  tools/ipcx/sigval.h tools/ipcx/util.h include/ipcx.h

tools/ipcx/cli.h:

tools/ipcx/sigval.h:

tools/ipcx/util.h:

include/ipcx.h:
