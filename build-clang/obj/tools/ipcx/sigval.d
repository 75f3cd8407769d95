build-clang/obj/tools/ipcx/sigval.o: tools/ipcx/sigval.c \
  tools/ipcx/sigval.h

tools/ipcx/sigval.h:
