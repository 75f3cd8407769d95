build-clang/tests/test-signal: tests/test-signal.c src/core/internal.h \
  include/ipcx.h tests/lib/t.h

src/core/internal.h:

include/ipcx.h:

tests/lib/t.h:
