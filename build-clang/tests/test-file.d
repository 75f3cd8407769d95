build-clang/tests/test-file: tests/test-file.c src/core/internal.h \
  include/ipcx.h tests/lib/t.h tests/../src/transport/spool.h

src/core/internal.h:

include/ipcx.h:

tests/lib/t.h:

tests/../src/transport/spool.h:
