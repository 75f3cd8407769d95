build-clang/pic/src/transport/semshm.o: src/transport/semshm.c \
  src/core/internal.h include/ipcx.h

src/core/internal.h:

include/ipcx.h:
