build-clang/pic/src/transport/mq.o: src/transport/mq.c \
  src/core/internal.h include/ipcx.h

src/core/internal.h:

include/ipcx.h:
