build-clang/pic/src/core/error.o: src/core/error.c src/core/internal.h \
  include/ipcx.h

src/core/internal.h:

include/ipcx.h:
