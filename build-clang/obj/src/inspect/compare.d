build-clang/obj/src/inspect/compare.o: src/inspect/compare.c \
  src/inspect/inspect.h src/core/internal.h include/ipcx.h

src/inspect/inspect.h:

src/core/internal.h:

include/ipcx.h:
