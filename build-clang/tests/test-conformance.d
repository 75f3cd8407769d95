build-clang/tests/test-conformance: tests/test-conformance.c \
  src/core/internal.h include/ipcx.h tests/lib/t.h \
  tests/../src/transport/ring.h

src/core/internal.h:

include/ipcx.h:

tests/lib/t.h:

tests/../src/transport/ring.h:
