build-clang/pic/src/transport/sysvsem.o: src/transport/sysvsem.c \
  src/core/internal.h include/ipcx.h

src/core/internal.h:

include/ipcx.h:
