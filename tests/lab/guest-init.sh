#!/bin/sh
# Init (PID 1) of an arca-openstack lab guest under User-Mode Linux.
#
# Stage 1 runs on the host's / (hostfs) and builds a copy-on-write root:
# an overlay whose lower layer is hostfs / and whose upper layer is a tmpfs,
# so nothing the guest writes ever reaches the host. It then chroots into
# that root and runs stage 2, which mounts fresh tmpfs over the stack's
# state folders, loads modules, configures the network, starts sshd and
# waits for the harness to ask for a poweroff (touch /run/arcalab/halt).
#
# Kernel command line words used: arca_name= arca_addr= (CIDR)
# arca_lab= (lab folder on the host holding sshd_config, keys, lvm.conf,
# the D-Bus policy arca-ganesha.conf; with fencing, fence_arcalab and
# fence.conf).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LANG=C

say() {
    echo "arcalab-init [$(cut -d' ' -f1 /proc/uptime)s]: $*" > /dev/console
}
halt_now() { sync; echo o > /proc/sysrq-trigger; sleep 10; }
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }

if [ "$1" != stage2 ]; then
    trap halt_now EXIT
    mount -t proc proc /proc || exit 1
    mount -t tmpfs -o mode=755 arcalab-ov /run || exit 1
    mkdir -p /run/ov/upper /run/ov/work /run/ov/root
    insmod "/usr/lib/uml/modules/$(uname -r)/kernel/fs/overlayfs/overlay.ko" \
        || { say "FATAL: no overlay module"; exit 1; }
    mount -t overlay overlay \
        -o lowerdir=/,upperdir=/run/ov/upper,workdir=/run/ov/work \
        /run/ov/root || { say "FATAL: overlay mount failed"; exit 1; }
    R=/run/ov/root
    mount -t proc proc $R/proc
    mount -t sysfs sysfs $R/sys
    mount -t devtmpfs devtmpfs $R/dev
    mount -t tmpfs -o mode=755 tmpfs $R/run
    trap - EXIT
    exec chroot $R /bin/sh "$0" stage2
fi

# ---- stage 2: inside the copy-on-write root ----
trap halt_now EXIT
say "stage 2"
NAME=$(arg arca_name)
ADDR=$(arg arca_addr)
LAB=$(arg arca_lab)

mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mkdir -p /run/lock/lvm /run/lvm /run/sshd /run/arca /run/ganesha \
    /run/arcalab /run/drbd

# Private copies of the lab's files (the host path may be under /tmp).
cp "$LAB/sshd_config" "$LAB/ssh_host_ed25519_key" "$LAB/id_lab.pub" \
    "$LAB/lvm.conf" "$LAB/rootwrap.conf" "$LAB/arca-ganesha.conf" \
    /run/arcalab/
cp -r "$LAB/rootwrap.d" /run/arcalab/rootwrap.d
cp -r "$LAB/src" /run/arcalab/src
chmod 600 /run/arcalab/ssh_host_ed25519_key
# The lab's fence agent and its root-only config (Lab(fencing=True)); the
# overlay takes the write to /usr/sbin.
if [ -f "$LAB/fence.conf" ]; then
    (umask 077; cp "$LAB/fence.conf" /run/arcalab/fence.conf)
    chmod 600 /run/arcalab/fence.conf
    cp "$LAB/fence_arcalab" /usr/sbin/fence_arcalab
    chmod 755 /usr/sbin/fence_arcalab
fi

# Fresh, empty state folders (the overlay already keeps the host clean;
# these make each boot start from nothing, like a real node's tmpfs/disk).
fresh() {  # fresh [-k] DIR...: tmpfs over DIR (-k: keep its files)
    keep=; [ "$1" = -k ] && { keep=1; shift; }
    for d in "$@"; do
        mkdir -p "$d"
        [ -n "$keep" ] && cp -a "$d" /run/arcalab/keep
        mount -t tmpfs -o mode=755 tmpfs "$d"
        [ -n "$keep" ] && cp -a /run/arcalab/keep/. "$d"/
        rm -rf /run/arcalab/keep
    done
}
fresh /tmp /var/tmp /var/log /var/lib/arca /var/lib/drbd /var/lib/nfs \
    /var/lib/nfs-ganesha /root /etc/lvm/backup /etc/lvm/archive \
    /var/lib/corosync /var/lib/pacemaker
fresh -k /etc/drbd.d /etc/ganesha
chmod 1777 /tmp /var/tmp; chmod 700 /root
mkdir -p /var/log/arca /var/lib/nfs/v4recovery /var/lib/nfs/ganesha
# Corosync and Pacemaker (HA pair): their log and state folders, empty at
# every boot, owned as the packages make them.
mkdir -p /var/log/corosync /var/log/pacemaker /var/lib/pacemaker/cib \
    /var/lib/pacemaker/pengine /var/lib/pacemaker/blackbox \
    /var/lib/pacemaker/cores
if id hacluster >/dev/null 2>&1; then
    chown hacluster:haclient /var/log/pacemaker /var/lib/pacemaker/cib \
        /var/lib/pacemaker/pengine /var/lib/pacemaker/blackbox \
        /var/lib/pacemaker/cores
    chmod 770 /var/log/pacemaker
    chmod 750 /var/lib/pacemaker/cib /var/lib/pacemaker/pengine \
        /var/lib/pacemaker/blackbox /var/lib/pacemaker/cores
fi

# LVM without udev: the lab config (the overlay takes the write).
cp /run/arcalab/lvm.conf /etc/lvm/lvm.conf

# Kernel modules of the UML kernel.
mkdir -p /lib/modules
mount --bind /usr/lib/uml/modules /lib/modules
[ -e "/lib/modules/$(uname -r)/modules.dep" ] || depmod -a
MISSING=
for m in dm-mod dm-thin-pool dm-snapshot xfs nfsv4 8021q drbd veth macvlan \
         loop ipv6; do
    modprobe $m 2>/dev/null || MISSING="$MISSING $m"
done
[ -z "$MISSING" ] || say "missing modules:$MISSING"

# Like a real node's boot-time autoactivation (no udev here).
[ -b /dev/ubda ] && vgchange -ay >/dev/null 2>&1
# A storage node keeps its own record (/var/lib/arca) on its disk, on the
# LV that Node.ensure_thin_pool() made, so it survives a reboot.
[ -b /dev/arca/arca-state ] && mount /dev/arca/arca-state /var/lib/arca
hostname "$NAME"
echo "$NAME" > /etc/hostname
ip link set lo up
ip addr add "$ADDR" dev eth0
ip link set eth0 up

# A D-Bus system bus, as on a storage node, with the project's policy
# that lets each SVM's Ganesha own <svm>.org.ganesha.nfsd: export changes
# then go over D-Bus, not SIGHUP. Started before sshd, so before anything
# can start a Ganesha.
if command -v dbus-daemon >/dev/null 2>&1; then
    mkdir -p /run/dbus /etc/dbus-1/system.d
    cp /run/arcalab/arca-ganesha.conf /etc/dbus-1/system.d/
    dbus-daemon --system --fork || say "dbus-daemon failed to start"
else
    say "no dbus-daemon: Ganesha export changes will be SIGHUP reloads"
fi

# On every address of the node's own namespace, as on a real node: an HA
# pool's floating management address (the drivers' way in) comes and goes
# with the pool. SVM addresses live in their own namespaces.
/usr/sbin/sshd -f /run/arcalab/sshd_config -E /var/log/sshd.log \
    -o ListenAddress=0.0.0.0 || say "FATAL: sshd failed"
say "READY $NAME $ADDR"

while [ ! -e /run/arcalab/halt ]; do sleep 0.5; done

# Clean poweroff: stop every process, unmount, deactivate, flush.
say "poweroff requested"
kill -TERM -1 2>/dev/null
sleep 1
kill -KILL -1 2>/dev/null
drbdsetup down all >/dev/null 2>&1
sync
awk '$3 ~ /^nfs/ {print $2}' /proc/mounts | sort -r |
    while read -r mnt; do umount -f -l "$mnt" 2>/dev/null; done
awk '$3 == "xfs" {print $2}' /proc/mounts | sort -r |
    while read -r mnt; do
        umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
    done
vgchange -an >/dev/null 2>&1
sync
say "poweroff"
