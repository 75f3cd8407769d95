build-clang/obj/src/transport/fifo.o: src/transport/fifo.c \
  src/core/internal.h include/ipcx.h src/core/stream.h

src/core/internal.h:

include/ipcx.h:

src/core/stream.h:
