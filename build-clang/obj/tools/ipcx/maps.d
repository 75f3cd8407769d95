build-clang/obj/tools/ipcx/maps.o: tools/ipcx/maps.c tools/ipcx/cli.h \
  tools/ipcx/util.h include/ipcx.h \
  tools/ipcx/../../src/inspect/inspect.h src/core/internal.h

tools/ipcx/cli.h:

tools/ipcx/util.h:

include/ipcx.h:

tools/ipcx/../../src/inspect/inspect.h:

src/core/internal.h:
