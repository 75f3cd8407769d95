build-clang/tests/test-kill: tests/test-kill.c src/core/internal.h \
  include/ipcx.h tests/lib/t.h

src/core/internal.h:

include/ipcx.h:

tests/lib/t.h:
