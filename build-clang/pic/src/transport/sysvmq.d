build-clang/pic/src/transport/sysvmq.o: src/transport/sysvmq.c \
  src/core/internal.h include/ipcx.h

src/core/internal.h:

include/ipcx.h:
