build-clang/pic/src/transport/file.o: src/transport/file.c \
  src/core/internal.h include/ipcx.h src/transport/spool.h

src/core/internal.h:

include/ipcx.h:

src/transport/spool.h:
