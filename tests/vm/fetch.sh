#!/bin/sh
# fetch.sh DIR PACKAGE [MEMBER...]: unpacks Debian's PACKAGE (its candidate version) into
# a folder under DIR without installing it, downloading the .deb into DIR/debs once per
# version; only the MEMBERs (paths in the package, e.g. ./boot) when given. Prints the
# folder.
set -eu
dir=$1 pkg=$2
shift 2
# "'URI' FILE SIZE HASH": the file name apt-get download gives this version.
deb=$(apt-get download --print-uris "$pkg" 2>/dev/null | cut -d' ' -f2)
if [ -z "$deb" ]; then
	echo "fetch.sh: apt knows no package $pkg (apt-get update first?)" >&2
	exit 1
fi
unpacked=$dir/${deb%.deb}
if [ ! -d "$unpacked" ]; then
	mkdir -p "$dir/debs"
	if [ ! -f "$dir/debs/$deb" ]; then
		# As root apt downloads as the _apt user, which cannot write into the build tree.
		(cd "$dir/debs" && apt-get download -q=2 -o APT::Sandbox::User=root "$pkg") >&2
	fi
	rm -rf "$unpacked.tmp"
	mkdir "$unpacked.tmp"
	dpkg-deb --fsys-tarfile "$dir/debs/$deb" | tar -x -C "$unpacked.tmp" "$@"
	mv "$unpacked.tmp" "$unpacked"
fi
echo "$unpacked"
