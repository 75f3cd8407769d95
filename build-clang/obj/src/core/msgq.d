build-clang/obj/src/core/msgq.o: src/core/msgq.c src/core/internal.h \
  include/ipcx.h

src/core/internal.h:

include/ipcx.h:
