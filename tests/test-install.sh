#!/bin/sh
# test-install.sh - `make install` behaves like a distribution package's:
# DESTDIR, PREFIX, LIBDIR and MANDIR are honoured, CPPFLAGS/CFLAGS/LDFLAGS
# reach every compile and link, one man page link per public function, the
# documents and the bash completion are installed, and a program built with
# pkg-config against the installed tree runs. Exit 0 pass, 1 fail, 77 skip.
top=$(cd "$(dirname "$0")/.." && pwd)
for tool in make cc pkg-config; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is not installed"; exit 77; }
done
# The sanitizer builds (build-asan, build-tsan) install nothing new: run
# against the plain build only.
case ${IPCX:-$top/build/ipcx} in
*/build/ipcx) ;;
*) echo "install is tested with the plain build only (IPCX=$IPCX)"; exit 77 ;;
esac
tmp=$(mktemp -d /tmp/ipcx-tinst.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # check WHAT CMD...: run CMD, count a failure with WHAT
	what=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then echo "ok: $what"; else
		echo "FAIL: $what"; sed 's/^/    /' "$tmp/out" | tail -n 20; fails=$((fails + 1)); fi
}
cd "$top" || exit 1
lib=/usr/lib/x86_64-linux-gnu
# The flags reach the compiler and the linker (a dry run of a forced rebuild).
make -n -B build/obj/src/core/time.o build/ipcx CPPFLAGS=-DIPCX_T_CPP CFLAGS=-DIPCX_T_CF \
	LDFLAGS=-Wl,-z,relro >"$tmp/dry" 2>&1
check "CPPFLAGS reach compiles" grep -q -- '-DIPCX_T_CPP.*time.c\|time.c.*-DIPCX_T_CPP' "$tmp/dry"
check "CFLAGS reach compiles" grep -q -- '-DIPCX_T_CF' "$tmp/dry"
check "LDFLAGS reach the link" grep -q -- '-Wl,-z,relro.*-o build/ipcx' "$tmp/dry"
make -s install DESTDIR="$tmp/root" PREFIX=/usr LIBDIR=$lib MANDIR=/usr/share/man \
	>"$tmp/inst.log" 2>&1 || { echo "FAIL: make install"; cat "$tmp/inst.log"; exit 1; }
r=$tmp/root
for f in usr/bin/ipcx usr/include/ipcx.h "${lib#/}/libipcx.so.0" "${lib#/}/libipcx.a" \
	"${lib#/}/pkgconfig/ipcx.pc" usr/share/man/man1/ipcx.1 usr/share/man/man3/libipcx.3 \
	usr/share/man/man3/ipcx_open.3 usr/share/doc/ipcx/FORMAT.md \
	usr/share/doc/ipcx/SECURITY.md usr/share/bash-completion/completions/ipcx; do
	check "installed /$f" test -e "$r/$f"
done
n=$(grep -oE 'ipcx_[a-z_]+[(]' include/ipcx.h | sort -u | wc -l)
check "one man link per function ($n)" test "$(ls "$r/usr/share/man/man3" | grep -c '^ipcx_')" -eq "$n"
check "pkg-config names LIBDIR" grep -qx "libdir=$lib" "$r/${lib#/}/pkgconfig/ipcx.pc"
check "pkg-config Libs.private" grep -q '^Libs.private: -pthread' "$r/${lib#/}/pkgconfig/ipcx.pc"
# A program built against the installed tree, through pkg-config.
cat >"$tmp/p.c" <<'C'
#include <ipcx.h>
#include <stdio.h>
int main(void) { printf("%s\n", ipcx_strerror(IPCX_ETIMEDOUT)); return 0; }
C
flags=$(PKG_CONFIG_SYSROOT_DIR="$r" PKG_CONFIG_PATH="$r/${lib#/}/pkgconfig" pkg-config --cflags --libs ipcx)
check "a pkg-config program builds" cc -o "$tmp/p" "$tmp/p.c" $flags
check "and runs against the installed library" env LD_LIBRARY_PATH="$r$lib" "$tmp/p"
check "bash completion parses" bash -n "$r/usr/share/bash-completion/completions/ipcx"
[ "$fails" -eq 0 ]
