build-clang/pic/src/transport/pipe.o: src/transport/pipe.c \
  src/core/internal.h include/ipcx.h src/core/stream.h

src/core/internal.h:

include/ipcx.h:

src/core/stream.h:
