build-clang/obj/src/ring/bus.o: src/ring/bus.c src/ring/bus.h \
  src/core/internal.h include/ipcx.h

src/ring/bus.h:

src/core/internal.h:

include/ipcx.h:
