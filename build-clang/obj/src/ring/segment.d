build-clang/obj/src/ring/segment.o: src/ring/segment.c src/ring/segment.h \
  src/core/internal.h include/ipcx.h src/ring/ring.h src/core/futex.h \
  src/ring/live.h

src/ring/segment.h:

src/core/internal.h:

include/ipcx.h:

src/ring/ring.h:

src/core/futex.h:

src/ring/live.h:
