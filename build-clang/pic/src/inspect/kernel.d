build-clang/pic/src/inspect/kernel.o: src/inspect/kernel.c \
  src/inspect/inspect.h src/core/internal.h include/ipcx.h

src/inspect/inspect.h:

src/core/internal.h:

include/ipcx.h:
