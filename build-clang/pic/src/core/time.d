build-clang/pic/src/core/time.o: src/core/time.c src/core/internal.h \
  include/ipcx.h

src/core/internal.h:

include/ipcx.h:
