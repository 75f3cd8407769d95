build-clang/obj/src/inspect/objparse.o: src/inspect/objparse.c \
  src/inspect/objects.h src/core/internal.h include/ipcx.h

src/inspect/objects.h:

src/core/internal.h:

include/ipcx.h:
