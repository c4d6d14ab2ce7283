#!/bin/sh
# Install what the test lab (tests/lab, User-Mode Linux guests) needs on a
# Debian/Ubuntu host. Idempotent: installs only missing packages.
# Usage: sudo tools/lab-install.sh
set -eu

PACKAGES="user-mode-linux lvm2 thin-provisioning-tools xfsprogs nfs-ganesha
nfs-ganesha-vfs nfs-common drbd-utils openssh-server iproute2 kmod dbus
python3-oslo.rootwrap python3-oslo.config python3-oslo.log
python3-oslo.concurrency python3-oslo.utils sudo pacemaker corosync
pacemaker-cli-utils resource-agents fence-agents mariadb-server
rabbitmq-server"

missing=
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
            grep -q 'install ok installed'; then
        missing="$missing $pkg"
    fi
done

if [ -z "$missing" ]; then
    echo "lab packages: all installed"
else
    if [ "$(id -u)" -ne 0 ]; then
        echo "run as root to install:$missing" >&2
        exit 1
    fi
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q $missing
fi

test -x /usr/bin/linux.uml || { echo "linux.uml missing" >&2; exit 1; }

# The XSAVE shim the harness preloads into linux.uml (tests/lab/
# uml_xstate.c): Debian 12's UML cannot restore FPU state on a host CPU
# with AVX-512 or AMX without it. Rebuilt every time (well under a second).
SHIM_SRC="$(dirname "$0")/../tests/lab/uml_xstate.c"
SHIM=/usr/local/lib/arca-lab/uml_xstate.so
if ! command -v gcc >/dev/null; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc libc6-dev
fi
mkdir -p "$(dirname "$SHIM")"
gcc -O2 -Wall -shared -fPIC -o "$SHIM.new" "$SHIM_SRC" -ldl
mv "$SHIM.new" "$SHIM"
ls -d /usr/lib/uml/modules/* >/dev/null
echo "lab ready: $(/usr/bin/linux.uml --version 2>/dev/null | head -n 1)"
