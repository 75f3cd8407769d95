build-clang/obj/src/core/futex.o: src/core/futex.c src/core/futex.h \
  src/core/internal.h include/ipcx.h

src/core/futex.h:

src/core/internal.h:

include/ipcx.h:
