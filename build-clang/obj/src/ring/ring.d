build-clang/obj/src/ring/ring.o: src/ring/ring.c src/ring/ring.h \
  src/core/internal.h include/ipcx.h

src/ring/ring.h:

src/core/internal.h:

include/ipcx.h:
