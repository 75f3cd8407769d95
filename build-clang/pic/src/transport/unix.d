build-clang/pic/src/transport/unix.o: src/transport/unix.c \
  src/core/internal.h include/ipcx.h src/core/stream.h

src/core/internal.h:

include/ipcx.h:

src/core/stream.h:
