#!/bin/sh
# test_install.sh ROOT TMP — `make install` into TMP/dest (PREFIX=/usr), then
# what a user outside the tree does, with nothing but pkg-config: build the
# example plugin (the header alone) and a program on libbdrl's public API
# (tests/install/rollout.c), and check that the program steps FrozenLake and
# the plugin exactly as `bdrl env rollout` does. Prints one line per check;
# exits non-zero at the first failure. Run by tests/test_install.c.
set -eu
root=$1
tmp=$2
make -C "$root" --no-print-directory install DESTDIR="$tmp/dest" PREFIX=/usr >/dev/null
dest=$tmp/dest/usr
export PKG_CONFIG_PATH="$dest/lib/pkgconfig"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR 2>/dev/null || true
# --define-prefix: the .pc says prefix=/usr; read the tree where it lies
cflags=$(pkg-config --define-prefix --cflags bdrl)
libs=$(pkg-config --define-prefix --libs bdrl)
echo "pkg-config: $cflags $libs"
# the public headers only: no internal module folders
ls "$dest/include/bdrl" | tr '\n' ' ' | grep -qx 'env_plugin.h environment.h ' || {
    echo "installed headers: $(ls "$dest/include/bdrl" | tr '\n' ' ')(expected env_plugin.h environment.h)"
    exit 1
}
echo "headers: env_plugin.h environment.h"
cc -std=c11 -Wall -Wextra -Werror -O2 -shared -fPIC $cflags "$root/examples/envs/chain.c" -o "$tmp/libchain.so" -lm
echo "plugin built"
cc -std=c11 -Wall -Wextra -Werror -O2 "$root/tests/install/rollout.c" $cflags $libs -o "$tmp/rollout"
echo "program built"
bdrl=$dest/bin/bdrl
check() { # name, seed, actions, settings...
    name=$1 seed=$2 actions=$3
    shift 3
    sets=""
    for s in "$@"; do sets="$sets --set $s"; done
    "$tmp/rollout" "$seed" "$actions" "$@" >"$tmp/got.csv"
    # shellcheck disable=SC2086
    "$bdrl" env rollout "$name" --seed "$seed" --actions "$actions" $sets >"$tmp/want.csv"
    cmp -s "$tmp/got.csv" "$tmp/want.csv" || {
        echo "rollout of $name differs from bdrl env rollout:"
        diff "$tmp/got.csv" "$tmp/want.csv" || true
        exit 1
    }
    echo "rollout of $name: $(($(wc -l <"$tmp/got.csv") - 1)) steps as bdrl env rollout"
}
check frozenlake 3 2,2,1,1,1,2,1,1,2,2 env.name=frozenlake env.map=8x8
check plugin 5 0,0,0,1 env.name=plugin "env.plugin=$tmp/libchain.so" env.params.length=5 env.params.slip=0.5
echo "install ok"
