build-clang/pic/src/transport/nats.o: src/transport/nats.c \
  src/core/internal.h include/ipcx.h

src/core/internal.h:

include/ipcx.h:
