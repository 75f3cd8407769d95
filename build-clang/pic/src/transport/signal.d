build-clang/pic/src/transport/signal.o: src/transport/signal.c \
  src/core/internal.h include/ipcx.h

src/core/internal.h:

include/ipcx.h:
