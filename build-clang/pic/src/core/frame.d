build-clang/pic/src/core/frame.o: src/core/frame.c src/core/internal.h \
  include/ipcx.h

src/core/internal.h:

include/ipcx.h:
