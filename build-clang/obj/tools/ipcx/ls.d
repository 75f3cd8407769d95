build-clang/obj/tools/ipcx/ls.o: tools/ipcx/ls.c tools/ipcx/cli.h \
  tools/ipcx/util.h tools/ipcx/../../src/inspect/objects.h \
  src/core/internal.h include/ipcx.h

tools/ipcx/cli.h:

tools/ipcx/util.h:

tools/ipcx/../../src/inspect/objects.h:

src/core/internal.h:

include/ipcx.h:
