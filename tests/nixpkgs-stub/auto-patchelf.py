"""The nixpkgs stub's autoPatchelf: finds every ELF file of the output, reads its
DT_NEEDED entries with `readelf -d` and fails, as nixpkgs' auto-patchelf.py does,
when a needed library is in none of the search directories (the output itself,
`lib/` of buildInputs and runtimeDependencies, directories added with
addAutoPatchelfSearchPath) and not ignored (autoPatchelfIgnoreMissingDeps).
glibc's libraries count as provided (nixpkgs finds them through the C compiler's
libc). Nothing is patched: the stub checks, it does not rewrite RPATHs.
Usage: auto-patchelf.py OUT --libs DIR... --ignore-missing PATTERN..."""
import fnmatch
import os
import re
import subprocess
import sys

GLIBC = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1",
         "libresolv.so.2", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"}

args = sys.argv[1:]
out = args.pop(0)
libs, ignore, mode = [], [], None
for a in args:
    if a in ("--libs", "--ignore-missing"):
        mode = a
    elif mode == "--libs":
        libs.append(a)
    else:
        ignore.append(a)
if "1" in ignore:  # autoPatchelfIgnoreMissingDeps = true
    ignore = ["*"]


def is_elf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def sonames_in(directory, recursive):
    found = set()
    if not os.path.isdir(directory):
        return found
    walk = os.walk(directory) if recursive else [(directory, [], os.listdir(directory))]
    for root, _, files in walk:
        found.update(f for f in files if re.search(r"\.so(\.|$)", f))
    return found


provided = sonames_in(out, True)
for d in libs:
    provided |= sonames_in(d, False)
elves = [os.path.join(r, f) for r, _, fs in os.walk(out) for f in fs
         if not os.path.islink(os.path.join(r, f)) and is_elf(os.path.join(r, f))]
missing = []
for elf in sorted(elves):
    dyn = subprocess.run(["/usr/bin/readelf", "-d", elf], capture_output=True, text=True, check=True).stdout
    for needed in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn):
        if needed in provided or needed in GLIBC:
            print(f"auto-patchelf: {elf}: {needed} -> found", file=sys.stderr)
        elif any(fnmatch.fnmatch(needed, p) for p in ignore):
            print(f"warn: auto-patchelf ignoring missing {needed} wanted by {elf}", file=sys.stderr)
        else:
            print(f"error: auto-patchelf could not satisfy dependency {needed} wanted by {elf}", file=sys.stderr)
            missing.append(needed)
if missing:
    sys.exit("auto-patchelf failed to find all the required dependencies.\n"
             "Add the missing dependencies to --libs or use `--ignore-missing=\"foo.so.1 bar.so etc.so\"`.")
