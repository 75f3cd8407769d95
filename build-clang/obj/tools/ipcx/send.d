build-clang/obj/tools/ipcx/send.o: tools/ipcx/send.c tools/ipcx/cli.h \
  tools/ipcx/sigval.h tools/ipcx/util.h include/ipcx.h

tools/ipcx/cli.h:

tools/ipcx/sigval.h:

tools/ipcx/util.h:

include/ipcx.h:
