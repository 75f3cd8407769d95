build-clang/obj/src/ring/live.o: src/ring/live.c src/ring/live.h \
  src/core/internal.h include/ipcx.h

src/ring/live.h:

src/core/internal.h:

include/ipcx.h:
