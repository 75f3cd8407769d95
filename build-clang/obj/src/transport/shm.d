build-clang/obj/src/transport/shm.o: src/transport/shm.c \
  src/core/internal.h include/ipcx.h src/transport/ring.h

src/core/internal.h:

include/ipcx.h:

src/transport/ring.h:
