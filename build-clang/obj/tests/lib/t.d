build-clang/obj/tests/lib/t.o: tests/lib/t.c tests/lib/t.h include/ipcx.h

tests/lib/t.h:

include/ipcx.h:
