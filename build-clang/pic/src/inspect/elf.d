build-clang/pic/src/inspect/elf.o: src/inspect/elf.c \
  src/inspect/inspect.h src/core/internal.h include/ipcx.h

src/inspect/inspect.h:

src/core/internal.h:

include/ipcx.h:
