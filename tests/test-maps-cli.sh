#!/bin/sh
# test-maps-cli.sh - `ipcx maps` end to end: a held process
# (build/tests/test-maps --hold) with a known address in every row of the
# notes' table is inspected with --json; every address must land in a
# region of the right kind, each variable in its section, kernel.start must
# match the paging mode, the RSS total must be within 2% of `pmap -x`, sp
# must lie in the stack and brk at the heap's end. Then --svg (parsed as
# XML), --compare, the errors, a deleted executable, a process we may not
# read, and a real 32-bit process where `cc -m32` works.
#
# Run by tests/run.sh with IPCX set. Exit 0 pass, 1 fail, 77 skip.
IPCX=${IPCX:-$(pwd)/build/ipcx}
HOLD=$(dirname "$IPCX")/tests/test-maps
if [ ! -x "$IPCX" ] || [ ! -x "$HOLD" ]; then
	echo "no $IPCX or $HOLD (build them: make check)"
	exit 77
fi
for tool in timeout python3 pmap; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$tool is not installed"
		exit 77
	fi
done
tmp=/tmp/ipcx-t$$-maps
mkdir "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT
timeout -k 5 60 python3 - "$IPCX" "$HOLD" "$tmp" <<'EOF'
import json, os, shutil, subprocess, sys, xml.etree.ElementTree as ET

ipcx, hold, tmp = sys.argv[1:4]
fails = 0

def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print("FAIL:", what)

def run(*args):
    return subprocess.run(args, capture_output=True, text=True, timeout=30)

def layout(pid):
    r = run(ipcx, "maps", "--json", str(pid))
    check(r.returncode == 0, "ipcx maps --json %d: %s" % (pid, r.stderr))
    return json.loads(r.stdout)

def region(m, a):
    for r in m["regions"]:
        if int(r["start"], 16) <= a < int(r["end"], 16):
            return r
    return None

def pmap_rss(pid):
    out = run("pmap", "-x", str(pid)).stdout.splitlines()
    tot = [l for l in out if l.startswith("total")]
    return int(tot[-1].split()[3])

with open("/proc/cpuinfo") as f:
    la57 = any(l.startswith("flags") and " la57" in l for l in f)
kstart = 0xff00000000000000 if la57 else 0xffff800000000000

p = subprocess.Popen([hold, "--hold"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, text=True)
try:
    want = json.loads(p.stdout.readline())
    pid = want["pid"]
    m = layout(pid)
    check(m["pid"] == pid, "pid")
    check(set(m) == {"pid", "kernel", "markers", "sections", "regions"},
          "top-level fields %s" % sorted(m))
    kinds = {"text": "text", "rodata": "rodata", "data": "data",
             "bss": "bss", "heap": "heap", "big": "anon", "lib": "lib",
             "shm": "shm", "stack": "stack", "thread": "thread-stack"}
    for key, kind in kinds.items():
        r = region(m, int(want[key], 16))
        check(r is not None and r["kind"] == kind,
              "%s %s in %s, want %s" % (key, want[key], r, kind))
    for r in m["regions"]:
        check(set(r) == {"start", "end", "kind", "perms", "rss_kb",
                         "pss_kb", "path"}, "region fields %s" % sorted(r))
    for key, sec in (("text", ".text"), ("rodata", ".rodata"),
                     ("data", ".data"), ("bss", ".bss")):
        s = m["sections"].get(sec)
        a = int(want[key], 16)
        check(s is not None and int(s["start"], 16) <= a < int(s["end"], 16),
              "%s %s in section %s" % (key, want[key], s))
    check(int(m["kernel"]["start"], 16) == kstart,
          "kernel.start %s" % m["kernel"]["start"])
    ours = sum(r["rss_kb"] for r in m["regions"])
    theirs = pmap_rss(pid)
    check(abs(ours - theirs) <= 0.02 * theirs,
          "RSS %d kB vs pmap -x %d kB" % (ours, theirs))
    heap = [r for r in m["regions"] if r["kind"] == "heap"][0]
    brk = int(m["markers"]["brk"], 16)
    check(int(heap["start"], 16) < brk <= int(heap["end"], 16),
          "brk %s at the heap's end %s" % (m["markers"]["brk"], heap["end"]))
    if m["markers"]["sp"] is None:
        print("note: the kernel does not show this process's sp to us")
        check(os.geteuid() != 0, "sp missing although root")
    else:
        r = region(m, int(m["markers"]["sp"], 16))
        check(r is not None and r["kind"] == "stack",
              "sp %s in %s" % (m["markers"]["sp"], r))
    # The table itself names every row kind and the markers.
    t = run(ipcx, "maps", str(pid)).stdout
    for word in ("kernel", "thread-stack", "heap", "bss", "<- brk",
                 "VmPTE", "16 KiB", "(unused)"):
        check(word in t, "table shows %r" % word)
    # --svg: valid XML, one rect per row at least.
    svg = os.path.join(tmp, "m.svg")
    r = run(ipcx, "maps", "--svg", svg, str(pid))
    check(r.returncode == 0, "--svg: %s" % r.stderr)
    root = ET.parse(svg).getroot()
    check(root.tag == "{http://www.w3.org/2000/svg}svg", "svg root")
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    check(len(rects) > len(m["regions"]), "svg rects %d" % len(rects))
    # --compare against itself: every resident page is shared.
    r = run(ipcx, "maps", "--compare", str(pid), str(pid))
    check(r.returncode == 0 and "same physical frame" in r.stdout,
          "--compare: %s %s" % (r.stdout[-200:], r.stderr))
finally:
    p.stdin.close()
    p.wait(timeout=20)
check(p.returncode == 0, "held process exit %s" % p.returncode)

# Errors: missing pid, bad pid, kernel thread, usage.
r = run(ipcx, "maps", "2147483000")
check(r.returncode == 1 and "no process" in r.stderr, "missing pid: %s" % r.stderr)
r = run(ipcx, "maps", "12x")
check(r.returncode == 2, "bad pid is a usage error")
r = run(ipcx, "maps", "--compare", "1")
check(r.returncode == 2, "--compare with one pid")
with open("/proc/2/stat") as f:
    if "(kthreadd)" in f.read():
        r = run(ipcx, "maps", "2")
        check(r.returncode == 1 and "kernel thread" in r.stderr,
              "kernel thread: %s" % r.stderr)
r = run(ipcx, "maps", "--help")
check(r.returncode == 0 and "--compare" in r.stdout, "--help")

# A deleted executable: sections still come from /proc/PID/exe.
exe = os.path.join(tmp, "held")
shutil.copy(hold, exe)
p = subprocess.Popen([exe, "--hold"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, text=True)
want = json.loads(p.stdout.readline())
os.unlink(exe)
m = layout(want["pid"])
r = region(m, int(want["data"], 16))
check(r is not None and r["kind"] == "data" and r["path"].endswith("(deleted)"),
      "deleted executable: %s" % r)
p.stdin.close()
p.wait(timeout=20)

# A process we may not read (as root: drop to nobody).
if os.geteuid() == 0 and shutil.which("setpriv"):
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                        "--clear-groups", ipcx, "maps", "1"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "may not read" in r.stderr,
          "not allowed: %s" % r.stderr)

# A real 32-bit process, where this machine can build one.
src = os.path.join(tmp, "m32.c")
with open(src, "w") as f:
    f.write('#include <stdio.h>\n#include <unistd.h>\nint d = 1; int b;\n'
            'int main(void) { char c; printf("%p %p\\n", (void *)&d,'
            ' (void *)&b); fflush(stdout); return read(0, &c, 1) < 0; }\n')
bin32 = os.path.join(tmp, "m32")
cc = subprocess.run(["cc", "-m32", "-o", bin32, src], capture_output=True)
if cc.returncode != 0:
    print("note: no 32-bit check: cc -m32 fails here (install gcc-multilib)")
else:
    try:
        p = subprocess.Popen([bin32], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    except OSError as e:
        # The kernel can be built or booted without 32-bit support
        # (dmesg: "32-bit emulation disabled ... ia32_emulation=on").
        print("note: no 32-bit check: the kernel refuses to run a "
              "32-bit program (%s)" % e.strerror)
        p = None
if cc.returncode == 0 and p is not None:
    d, b = (int(x, 16) for x in p.stdout.readline().split())
    m = layout(p.pid)
    check(m["kernel"]["user_top"] == "0xffffe000", "32-bit user_top")
    check(all(int(r["end"], 16) <= 1 << 32 for r in m["regions"]
              if r["path"] != "[vsyscall]"), "32-bit regions below 4 GiB")
    check(region(m, d)["kind"] == "data" and region(m, b)["kind"] == "bss",
          "32-bit data and bss")
    p.stdin.close()
    p.wait(timeout=20)
print("%d failures" % fails)
sys.exit(1 if fails else 0)
EOF
