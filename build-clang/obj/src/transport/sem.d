build-clang/obj/src/transport/sem.o: src/transport/sem.c \
  src/core/internal.h include/ipcx.h

src/core/internal.h:

include/ipcx.h:
