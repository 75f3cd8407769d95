build-clang/pic/src/transport/ring.o: src/transport/ring.c \
  src/transport/ring.h src/core/internal.h include/ipcx.h

src/transport/ring.h:

src/core/internal.h:

include/ipcx.h:
