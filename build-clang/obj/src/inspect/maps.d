build-clang/obj/src/inspect/maps.o: src/inspect/maps.c \
  src/inspect/inspect.h src/core/internal.h include/ipcx.h

src/inspect/inspect.h:

src/core/internal.h:

include/ipcx.h:
