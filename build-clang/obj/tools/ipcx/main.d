build-clang/obj/tools/ipcx/main.o: tools/ipcx/main.c tools/ipcx/cli.h \
  tools/ipcx/util.h

tools/ipcx/cli.h:

tools/ipcx/util.h:
