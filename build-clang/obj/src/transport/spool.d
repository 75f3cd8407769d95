build-clang/obj/src/transport/spool.o: src/transport/spool.c \
  src/transport/spool.h src/core/internal.h include/ipcx.h

src/transport/spool.h:

src/core/internal.h:

include/ipcx.h:
