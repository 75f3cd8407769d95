build-clang/obj/tools/ipcx/tour.o: tools/ipcx/tour.c tools/ipcx/cli.h \
  tools/ipcx/tour.h tools/ipcx/util.h include/ipcx.h

tools/ipcx/cli.h:

tools/ipcx/tour.h:

tools/ipcx/util.h:

include/ipcx.h:
