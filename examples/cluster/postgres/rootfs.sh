#!/usr/bin/env bash
# rootfs.sh DIR: assembles in DIR the build context of a PostgreSQL image
# from the PostgreSQL installed on this machine (Debian's postgresql
# package), since no base image can be pulled: the server and initdb, the
# server's modules and share files, the shared libraries they load, a
# shell for initdb, and entrypoint.sh.
set -euo pipefail

out=$1
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
	echo "rootfs.sh: no PostgreSQL under /usr/lib/postgresql; apt-get install postgresql" >&2
	exit 1
fi
version=$(basename "$(dirname "$bindir")")
here=$(dirname "$0")

rm -rf "$out"
mkdir -p "$out/rootfs/bin" "$out/rootfs/etc" "$out/rootfs/tmp" "$out/data"
chmod 1777 "$out/rootfs/tmp"

# Copies each path into the root with its directories, following links.
put() {
	for f in "$@"; do
		mkdir -p "$out/rootfs$(dirname "$f")"
		cp -L "$f" "$out/rootfs$f"
	done
}

# The modules, without the JIT (it needs LLVM; the server runs with jit off).
modules=$(find "/usr/lib/postgresql/$version/lib" -maxdepth 1 -name '*.so' ! -name 'llvmjit*')
put "$bindir/postgres" "$bindir/initdb" $modules
cp -rL "/usr/share/postgresql/$version" "$out/rootfs/usr/share/postgresql/" 2>/dev/null ||
	{ mkdir -p "$out/rootfs/usr/share/postgresql" && cp -rL "/usr/share/postgresql/$version" "$out/rootfs/usr/share/postgresql/"; }
mkdir -p "$out/rootfs/usr/share/zoneinfo/Etc"
cp -L /usr/share/zoneinfo/UTC "$out/rootfs/usr/share/zoneinfo/"
cp -L /usr/share/zoneinfo/Etc/UTC "$out/rootfs/usr/share/zoneinfo/Etc/"
cp -L /bin/dash "$out/rootfs/bin/sh"

# Every shared library any of them loads.
libs=$(ldd "$bindir/postgres" "$bindir/initdb" /bin/dash $modules 2>/dev/null |
	awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' | sort -u)
put $libs

echo "postgres:x:70:70:PostgreSQL:/data:/bin/sh" >"$out/rootfs/etc/passwd"
echo "postgres:x:70:" >"$out/rootfs/etc/group"
sed "s|@BINDIR@|$bindir|" "$here/entrypoint.sh" >"$out/rootfs/entrypoint.sh"
chmod 755 "$out/rootfs/entrypoint.sh"
