build-clang/obj/src/inspect/objects.o: src/inspect/objects.c \
  src/inspect/objects.h src/core/internal.h include/ipcx.h

src/inspect/objects.h:

src/core/internal.h:

include/ipcx.h:
