build-clang/obj/src/core/endpoint.o: src/core/endpoint.c \
  src/core/internal.h include/ipcx.h

src/core/internal.h:

include/ipcx.h:
