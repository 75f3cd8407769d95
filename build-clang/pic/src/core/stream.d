build-clang/pic/src/core/stream.o: src/core/stream.c src/core/stream.h \
  src/core/internal.h include/ipcx.h

src/core/stream.h:

src/core/internal.h:

include/ipcx.h:
