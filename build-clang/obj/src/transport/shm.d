build-clang/obj/src/transport/shm.o: src/transport/shm.c src/ring/bus.h \
  src/core/internal.h include/ipcx.h src/core/futex.h src/ring/segment.h \
  src/ring/ring.h

src/ring/bus.h:

src/core/internal.h:

include/ipcx.h:

src/core/futex.h:

src/ring/segment.h:

src/ring/ring.h:
