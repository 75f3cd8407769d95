build-clang/obj/tools/ipcx/tour-space.o: tools/ipcx/tour-space.c \
  tools/ipcx/tour.h tools/ipcx/../../src/inspect/inspect.h \
  src/core/internal.h include/ipcx.h

tools/ipcx/tour.h:

tools/ipcx/../../src/inspect/inspect.h:

src/core/internal.h:

include/ipcx.h:
