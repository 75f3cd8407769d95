build-clang/pic/src/core/channel.o: src/core/channel.c \
  src/core/internal.h include/ipcx.h

src/core/internal.h:

include/ipcx.h:
