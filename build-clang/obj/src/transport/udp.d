build-clang/obj/src/transport/udp.o: src/transport/udp.c \
  src/core/internal.h include/ipcx.h

src/core/internal.h:

include/ipcx.h:
