#!/bin/sh
# test-python.sh - run the Python binding's pytest suite (bindings/python)
# against this build's libipcx.so and ipcx command. Skips (77) when no
# python3 has pytest (Debian's python3-pytest: scripts/install-deps) and
# under TSan. Under ASan the sanitizer runtimes the library links are
# preloaded into python3 (leak checks off: the interpreter's own
# allocations are not ours).
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
ipcx=${IPCX:-$top/build/ipcx}
dir=$(cd "$(dirname "$ipcx")" && pwd) || exit 1
if [ ! -e "$dir/libipcx.so" ]; then
	echo "no $dir/libipcx.so (run make)"
	exit 1
fi
case $(basename "$dir") in
build-tsan)
	echo "skip: the Python tests do not run under TSan (make check runs them)"
	exit 77
	;;
build-asan)
	pre=$(ldd "$dir/libipcx.so" | awk '/lib(asan|ubsan)\.so/ {print $3}' |
		paste -sd: -)
	if [ -z "$pre" ]; then
		echo "skip: $dir/libipcx.so links no ASan runtime to preload"
		exit 77
	fi
	export LD_PRELOAD=$pre ASAN_OPTIONS=detect_leaks=0
	;;
esac
py=
# A python3 from elsewhere on PATH (pyenv, a venv) may lack pytest: fall
# back to Debian's.
for p in python3 /usr/bin/python3; do
	if "$p" -m pytest --version >/dev/null 2>&1; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	echo "skip: python3-pytest is not installed (scripts/install-deps)"
	exit 77
fi
cd "$top" || exit 1
IPCX_LIB=$dir/libipcx.so IPCX=$ipcx PYTHONDONTWRITEBYTECODE=1 \
	"$py" -m pytest bindings/python
rc=$?
# pytest's 5 is "no tests collected": the suite is missing, not passing.
[ "$rc" -eq 5 ] && echo "pytest collected no tests in bindings/python"
exit "$rc"
