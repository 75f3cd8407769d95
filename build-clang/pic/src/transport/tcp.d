build-clang/pic/src/transport/tcp.o: src/transport/tcp.c \
  src/core/internal.h include/ipcx.h src/core/stream.h

src/core/internal.h:

include/ipcx.h:

src/core/stream.h:
