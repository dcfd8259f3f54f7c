#!/bin/sh
# install_test.sh: `make install` into a scratch DESTDIR, then build a program against
# the installed header and archive through pkg-config, as a packager's user would.
set -eu
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
make -s install PREFIX=/usr DESTDIR="$dest"
export PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig"
cat > "$dest/app.c" <<'C'
#include <bootstrap.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
	return strcmp(bootstrap_events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT].type_name, "syscalls/sys_enter_openat");
}
C
cc -std=gnu11 -Wall -Werror "$dest/app.c" $(pkg-config --cflags --libs --static bootstrap) -o "$dest/app"
"$dest/app"
echo "install: 1 passed, 0 failed"
