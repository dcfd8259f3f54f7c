#!/bin/sh
# initramfs.sh OUT BUSYBOX TEST... -- FILE...: the test VM's root file system as a cpio
# archive (newc, uncompressed: the emulated guest unpacks it faster than it would gunzip
# it). It holds tests/vm/init, a static busybox, each TEST (a test binary, or a folder of
# pytest tests) and each FILE they need under /bootstrap at its path in this tree, the
# list of TESTs that init runs, python3 with its standard library and pytest, bash, jq
# and openssl with its configuration (tests/cli runs them; the TLS tests make their
# certificate with openssl), and every shared library these programs load (from ldd).
set -eu
out=$1 busybox=$2
shift 2
root=$out.d
rm -rf "$root"
# Debian's merged /usr, so that a host path copied as it is lands where the guest looks.
mkdir -p "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib" "$root/usr/lib64"
for d in bin sbin lib lib64; do
	ln -s "usr/$d" "$root/$d"
done
mkdir -p "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/root" "$root/etc" "$root/bootstrap"
cp tests/vm/init "$root/init"
cp "$busybox" "$root/usr/bin/busybox"
ln -s busybox "$root/usr/bin/sh"
# The e2e tests open /etc/passwd and /etc/hostname; pytest looks the user up.
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
echo vmtest >"$root/etc/hostname"

: >"$root/bootstrap/vm-tests"
# Each TEST goes to the list, and behind the FILEs so that it is copied with them.
while [ "$1" != -- ]; do
	echo "$1" >>"$root/bootstrap/vm-tests"
	set -- "$@" "$1"
	shift
done
shift
tar -c --exclude=__pycache__ "$@" | tar -x -C "$root/bootstrap"

# python3 finds its library from where its binary is: keep Debian's paths.
python=$(readlink -f /usr/bin/python3)
stdlib=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')
cp "$python" "$root$python"
ln -s "${python##*/}" "$root/usr/bin/python3"
tar -c -C / --exclude="${stdlib#/}/config-*" --exclude="${stdlib#/}/test" \
	--exclude="${stdlib#/}/idlelib" --exclude="${stdlib#/}/tkinter" \
	--exclude="${stdlib#/}/lib2to3" --exclude="${stdlib#/}/ensurepip" \
	--exclude="${stdlib#/}/pydoc_data" --exclude="${stdlib#/}/distutils" "${stdlib#/}" |
	tar -x -C "$root"
# pytest and the packages it imports, from wherever Debian installed them.
/usr/bin/python3 -c '
import os, sys, sysconfig
stdlib = sysconfig.get_path("stdlib")
before = set(sys.modules)
import pytest
for name in sorted(set(sys.modules) - before):
    path = getattr(sys.modules[name], "__file__", None) or ""
    if "." not in name and path and not path.startswith(stdlib + "/"):
        print(os.path.dirname(path) if path.endswith("/__init__.py") else path)
' | sed 's|^/||' | tar -c -C / -T - | tar -x -C "$root"
cp -L --parents /usr/bin/bash "$(command -v jq)" /usr/bin/openssl /usr/lib/ssl/openssl.cnf "$root"

# Every shared library (and the dynamic loader) of every ELF file in the tree.
find "$root" -type f \( -perm -u+x -o -name '*.so*' \) | while read -r f; do
	ldd "$f" 2>/dev/null || true
done | sed -n -e 's|.*=> \(/[^ ]*\) (.*|\1|p' -e 's|^[[:space:]]*\(/[^ ]*\) (.*|\1|p' | sort -u |
	while read -r lib; do
		cp -L --parents "$lib" "$root"
	done

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
