"""Test lab: arca storage nodes and clients as User-Mode Linux guests.

Each guest is a ``linux.uml`` process whose root is the host's ``/``
seen through hostfs under a copy-on-write overlay (see guest-init.sh), so
every binary installed on the host runs in the guest and nothing the guest
writes reaches the host. Storage nodes get a sparse disk file as
``/dev/ubda`` (the LVM physical volume, the only device the guests' LVM
looks at: see lvm.conf). Every guest runs a D-Bus system bus with the
project's policy for the SVMs' Ganesha instances, so export changes take
the D-Bus path, as on a storage node set up as the install guide says.

Networking: the lab creates a private network namespace of the host
(``arcalab<pid>``) holding a bridge and one tap per guest NIC (a guest
may have data NICs ``eth1``... besides ``eth0``, all on the one bridge, down
until a test brings them up, as an operator's storage NICs). The guests'
``eth0`` addresses (10.97.0.0/24) exist only inside that namespace. The
test process reaches them over SSH with sockets created by a thread that
has entered the namespace (setns is per thread), handed to paramiko through
the production ``SSHExecutor`` with a socket made in the lab namespace.

Fencing (``Lab(..., fencing=True)``): the lab runs a fence device on the
host side of the bridge (tests/lab/fence.py) and every guest gets the
fence agent /usr/sbin/fence_arcalab, which powers the lab's guests off
(the UML process killed) for Pacemaker or a test. Storage nodes may get a
second disk (``NodeSpec.ha_disk_gib``): ``/dev/ubdb``, the backing disk of
a DRBD-mirrored pool, or several (``NodeSpec.ha_disks``): ``/dev/ubdb``,
``/dev/ubdc``..., one per pool.

Example::

    with Lab([NodeSpec('s1', role='storage', disk_gib=8),
              NodeSpec('c1', role='client')]) as lab:
        s1 = lab.node('s1')
        s1.ensure_thin_pool()
        print(s1.run('lvs', '--noheadings').stdout)
        s1.stop()
        s1.start()
"""

import atexit
import collections
import ctypes
import dataclasses
import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from arca_openstack.node import executor as node_executor
from arca_openstack.wire import client as agent_client
from tests.lab import fence

UML = '/usr/bin/linux.uml'
# Lets Debian 12's UML run on a host with AVX-512 or AMX (a larger XSAVE
# area than it knows): built by tools/lab-install.sh from uml_xstate.c.
XSTATE_SHIM = '/usr/local/lib/arca-lab/uml_xstate.so'
HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_INIT = os.path.join(HERE, 'guest-init.sh')
LVM_CONF = os.path.join(HERE, 'lvm.conf')
# The node library's command catalogue (see tests/unit/rootwrap_check):
# node tests that opt in run the library through rootwrap with it, so a
# command form the catalogue lacks fails in a real guest too.
FILTERS_DIR = os.path.join(HERE, '..', 'unit', 'commands.d')
PACKAGES = ('user-mode-linux', 'lvm2', 'thin-provisioning-tools',
            'xfsprogs', 'nfs-ganesha', 'nfs-ganesha-vfs', 'nfs-common',
            'drbd-utils', 'openssh-server', 'iproute2', 'kmod', 'dbus',
            'python3-oslo.rootwrap', 'python3-oslo.config',
            'python3-oslo.log', 'python3-oslo.concurrency',
            'python3-oslo.utils', 'sudo', 'pacemaker', 'corosync',
            'pacemaker-cli-utils', 'resource-agents', 'fence-agents',
            # The lab stack's database and message queue (tests/lab/stack)
            'mariadb-server', 'rabbitmq-server')
REPO = os.path.dirname(os.path.dirname(HERE))
# The project's D-Bus policy for the SVMs' Ganesha instances: each guest
# runs a system bus with it (guest-init.sh), as a storage node should.
DBUS_POLICY = os.path.join(REPO, 'etc', 'dbus-1', 'system.d',
                           'arca-ganesha.conf')
# The node agent in a guest: the Debian python3 (the guests cannot see
# the test's own interpreter, under /root) with the oslo libraries of
# PACKAGES and a copy of this package that guest-init.sh makes at every
# boot (the checkout may be under /tmp, which the guests hide), as root:
# what the drivers start.
AGENT = ('env', 'PYTHONPATH=/run/arcalab/src', '/usr/bin/python3', '-m',
         'arca_openstack.cmd.arca_node', 'serve')
# oslo-rootwrap, without eventlet: it imports eventlet when installed (a
# dependency of the Debian oslo packages), which costs 8.5 s of CPU per
# call in a guest.
ROOT_HELPER = ("/usr/bin/python3 -c 'import sys; sys.modules[\"eventlet\"] = "
               "None; from oslo_rootwrap.cmd import main; sys.exit(main())' "
               "/run/arcalab/rootwrap.conf")
ROOTWRAP_CONF = """\
[DEFAULT]
filters_path=/run/arcalab/rootwrap.d
exec_dirs=/sbin,/usr/sbin,/bin,/usr/bin,/usr/local/sbin,/usr/local/bin
use_syslog=False
"""
NETNS_PREFIX = 'arcalab'
NETNS_RE = re.compile(r'^arcalab(\d+)(?:-\d+)?$')
NAME_RE = re.compile(r'^[a-z][a-z0-9-]{0,30}$')
SUBNET = '10.97.0'          # only ever exists inside the lab namespace
HOST_ADDRESS = SUBNET + '.254'
BRIDGE = 'br0'
CLONE_NEWNET = 0x40000000
# One reading of a guest's counters: its CPU line, its process starts
# and its clock ticks per second.
CPU_COUNTERS = ("head -1 /proc/stat; awk '/^processes/ {print $2}' "
                "/proc/stat; getconf CLK_TCK")
CPUCounters = collections.namedtuple('CPUCounters',
                                     ['busy', 'total', 'starts'])

_LIBC = ctypes.CDLL(None, use_errno=True)
_counter = iter(range(1, 1 << 30))
_claimed = set()                # namespace names used by this process
_claimed_lock = threading.Lock()

SSHD_CONFIG = """\
Port 22
HostKey /run/arcalab/ssh_host_ed25519_key
PidFile /run/sshd-lab.pid
AuthorizedKeysFile /run/arcalab/id_lab.pub
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
MaxSessions 64
MaxStartups 64
Subsystem sftp internal-sftp
"""


class LabError(Exception):
    pass


def _run(*argv, timeout=30, check=True):
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode:
        raise LabError('%s failed (%d): %s' % (' '.join(argv),
                                               proc.returncode,
                                               proc.stderr.strip()))
    return proc


def missing_packages():
    """Debian packages of :data:`PACKAGES` that are not installed."""
    missing = []
    for pkg in PACKAGES:
        proc = subprocess.run(
            ['dpkg-query', '-W', '-f=${Status}', pkg],
            capture_output=True, text=True, timeout=30)
        if 'install ok installed' not in proc.stdout:
            missing.append(pkg)
    return missing


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_members(pgid):
    """PIDs whose process group is ``pgid`` (a group this lab created)."""
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(')', 1)[1].split()
        if int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def _kill_pids(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _os_thread(**kwargs):
    """A real OS thread, even where eventlet patched threading (Cinder).

    setns() changes the namespace of the calling OS thread: in a green
    thread that is the process's main thread, whose later sockets (the
    services' API on 127.0.0.1) would then open inside the lab namespace.
    Eventlet is only looked at if something already imported it: importing
    it here, from a worker thread, hung thread joins in the lab's start.
    """
    patcher = sys.modules.get('eventlet.patcher')
    if patcher is not None and patcher.is_monkey_patched('thread'):
        return patcher.original('threading').Thread(**kwargs)
    return threading.Thread(**kwargs)


def enter_netns(netns):
    """Move the calling OS thread into network namespace ``netns``.

    Only for a short-lived thread of its own (setns is per thread): the
    sockets it makes keep the namespace after it ends.
    """
    fd = os.open('/run/netns/' + netns, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _LIBC.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, 'setns: ' + os.strerror(err))
    finally:
        os.close(fd)


def netns_connect(netns, host, port, timeout=5.0):
    """Return a TCP socket to ``host:port`` made inside a namespace.

    ``netns`` is a name under /run/netns. A short-lived thread enters it
    (setns is per thread) and connects; the socket keeps its namespace.
    """
    box = {}

    def target():
        try:
            enter_netns(netns)
            box['sock'] = socket.create_connection((host, port), timeout)
        except Exception as err:
            box['err'] = err

    thread = _os_thread(target=target, name='netns-connect', daemon=True)
    thread.start()
    thread.join(timeout + 5)
    if 'sock' in box:
        return box['sock']
    raise box.get('err') or socket.timeout('connect to %s timed out' % host)


def busy_share(before, after):
    """Share of the CPU time between two cpu_counters() that was busy."""
    return (after.busy - before.busy) / max(after.total - before.total,
                                            1e-9)


def connect_agent(params):
    """A new client of a lab node's agent, from Node.agent_params()."""
    address, netns = params['address'], params['netns']
    connection = agent_client.SSHConnection(
        address, 'root', params['key_file'],
        known_hosts_file=params['known_hosts'], connect_timeout=30,
        sock_factory=functools.partial(netns_connect, netns, address, 22,
                                       30))
    return agent_client.ssh_client(connection, AGENT)


@dataclasses.dataclass
class NodeSpec:
    name: str
    role: str = 'storage'           # 'storage' (has a disk) or 'client'
    disk_gib: int = 8
    mem_mib: int = None             # default: the lab's ``mem``
    data_nics: int = 0              # eth1..ethN besides eth0
    # A second disk, /dev/ubdb (storage nodes; 0 = none): the backing
    # device of a DRBD-mirrored pool, never scanned by LVM (lvm.conf).
    ha_disk_gib: int = 0
    # Or several such disks, their sizes in GiB: /dev/ubdb, /dev/ubdc...
    # (one per mirrored pool); ``ha_disk_gib=N`` is ``ha_disks=(N,)``.
    ha_disks: tuple = ()

    @property
    def ha_disk_sizes(self):
        """GiB of each HA disk, in order (ubdb, ubdc...)."""
        if self.ha_disks and self.ha_disk_gib:
            raise ValueError('%s: ha_disk_gib or ha_disks, not both'
                             % self.name)
        return tuple(self.ha_disks) or (
            (self.ha_disk_gib,) if self.ha_disk_gib else ())


class Node(object):
    """One guest.

    Attributes: name, role, address, cidr, disk ('/dev/ubda' or None),
    ha_disk ('/dev/ubdb' or None), ha_disks (every HA disk: '/dev/ubdb',
    '/dev/ubdc'...), hostname, executor (an ``SSHExecutor``), timings.
    """

    def __init__(self, lab, spec, index):
        self.lab = lab
        self.spec = spec
        self.name = spec.name
        self.role = spec.role
        self.index = index
        self.address = '%s.%d' % (SUBNET, index)
        self.cidr = self.address + '/24'
        self.mac = 'fe:fd:0a:61:00:%02x' % index
        self.tap = 'tap%d' % index
        # (tap, MAC) of eth1..ethN.
        self.data_taps = [('tap%dn%d' % (index, nic),
                           'fe:fd:0a:61:%02x:%02x' % (nic, index))
                          for nic in range(1, spec.data_nics + 1)]
        self.umid = '%s-%s' % (lab.netns, self.name)
        self.log_file = os.path.join(lab.workdir, self.name + '.console.log')
        self.disk_file = None
        self.disk = None
        if self.role == 'storage':
            self.disk_file = os.path.join(lab.workdir, self.name + '.img')
            self.disk = '/dev/ubda'
        self.ha_disk_file = self.ha_disk = None
        # [(disk file, GiB, guest device)] of the HA disks (ubd1...).
        self.ha_disk_files = []
        if self.role == 'storage':
            for number, gib in enumerate(spec.ha_disk_sizes):
                self.ha_disk_files.append((
                    os.path.join(lab.workdir, self.name + '-ha%s.img' % (
                        number or '')), gib, '/dev/ubd' + 'bcdefgh'[number]))
        if self.ha_disk_files:
            self.ha_disk_file, _gib, self.ha_disk = self.ha_disk_files[0]
        self.ha_disks = [dev for _f, _g, dev in self.ha_disk_files]
        self.hostname = None
        self.executor = self.node_executor = None
        self._agent = None
        self.proc = None
        self.timings = {}
        self._log = None
        self._started = 0.0

    def __repr__(self):
        return '<Node %s %s>' % (self.name, self.address)

    # -- lifecycle --------------------------------------------------------

    def start(self, wait=True):
        """Boot the guest (on the same disk file as before)."""
        if self.proc is not None and self.proc.poll() is None:
            raise LabError('%s is already running' % self.name)
        for path, gib in [(self.disk_file, self.spec.disk_gib)] + [
                (path, gib) for path, gib, _dev in self.ha_disk_files]:
            if path and not os.path.exists(path):
                with open(path, 'wb') as f:
                    f.truncate(gib << 30)
        argv = ['nsenter', '--net=/run/netns/' + self.lab.netns, UML,
                'mem=%dM' % (self.spec.mem_mib or self.lab.mem),
                'umid=' + self.umid, 'uml_dir=' + self.lab.uml_dir,
                'eth0=tuntap,%s,%s' % (self.tap, self.mac),
                'con=null', 'con0=null,fd:1', 'ssl=null',
                'root=/dev/root', 'rootfstype=hostfs', 'rootflags=/', 'rw',
                'init=' + GUEST_INIT, 'quiet',
                'arca_name=' + self.name, 'arca_addr=' + self.cidr,
                'arca_lab=' + self.lab.workdir]
        if self.disk_file:
            argv.insert(4, 'ubd0=' + self.disk_file)
            for number, (path, _gib, _dev) in enumerate(
                    self.ha_disk_files, start=1):
                argv.insert(4 + number, 'ubd%d=%s' % (number, path))
        at = argv.index('con=null')
        argv[at:at] = ['eth%d=tuntap,%s,%s' % (nic, tap, mac) for nic, (
            tap, mac) in enumerate(self.data_taps, start=1)]
        env = dict(os.environ, TMPDIR='/dev/shm')
        if os.path.exists(XSTATE_SHIM):
            env['LD_PRELOAD'] = XSTATE_SHIM
        self._log = open(self.log_file, 'ab')
        self._log.write(b'\n===== arcalab: boot %s =====\n' % (
            time.strftime('%F %T').encode()))
        self._log.flush()
        self._started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env,
                                     cwd=self.lab.workdir)
        self.lab._pgids.add(self.proc.pid)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=None):
        """Wait for sshd, then connect the executor and read the hostname."""
        deadline = time.monotonic() + (timeout or self.lab.boot_timeout)
        while True:
            if self.proc.poll() is not None:
                raise LabError('%s exited (%s) while booting:\n%s' % (
                    self.name, self.proc.returncode, self.console_tail()))
            if time.monotonic() > deadline:
                raise LabError('%s: no sshd after %ss:\n%s' % (
                    self.name, timeout or self.lab.boot_timeout,
                    self.console_tail()))
            try:
                netns_connect(self.lab.netns, self.address, 22, 1.0).close()
                break
            except OSError:
                time.sleep(0.2)
        self.timings['boot'] = time.monotonic() - self._started
        self.executor = node_executor.SSHExecutor(
            self.address, 'root', self.lab.key_file,
            known_hosts_file=self.lab.known_hosts, connect_timeout=30,
            sock_factory=functools.partial(netns_connect, self.lab.netns,
                                           self.address, 22, 30))
        # What the node library uses: the same connection's commands, run
        # through oslo.rootwrap with the project's filters, as on a remote
        # storage node (arca_ssh_root_helper).
        self.node_executor = node_executor.SSHExecutor(
            self.address, 'root', self.lab.key_file,
            known_hosts_file=self.lab.known_hosts, connect_timeout=30,
            root_helper=ROOT_HELPER,
            sock_factory=functools.partial(netns_connect, self.lab.netns,
                                           self.address, 22, 30))
        self.hostname = self.run('uname', '-n', timeout=60).stdout.strip()
        self.timings['ssh'] = time.monotonic() - self._started

    def agent_client(self):
        """The drivers' client of this node's agent (made once).

        It outlives reboots: a broken session is replaced by a new one
        over a new connection, as in a deployment.
        """
        if self._agent is None:
            self._agent = connect_agent(self.agent_params())
        return self._agent

    def agent_params(self):
        """What another process needs to reach this node's agent.

        JSON-serialisable, for :func:`connect_agent` in a worker process
        (Cinder and Manila cannot share one process).
        """
        return {'address': self.address, 'netns': self.lab.netns,
                'key_file': self.lab.key_file,
                'known_hosts': self.lab.known_hosts}

    def run(self, *argv, check=True, timeout=None, input=None):
        """Run argv as root in the guest; returns executor Result."""
        return self.executor.execute(
            *argv, check_exit_code=(0,) if check else False,
            process_input=input, timeout=timeout)

    def sh(self, script, check=True, timeout=120):
        """Run a shell script in the guest as plain root.

        For the lab's own checks; never the node library's way.
        """
        return self.run('sh', '-c', script, check=check, timeout=timeout)

    def sha256(self, path):
        return self.sh('sha256sum %s' % path).stdout.split()[0]

    def cpu_counters(self):
        """:class:`CPUCounters` of the guest since its boot (/proc/stat).

        ``busy`` and ``total`` CPU seconds (idle and iowait are not
        busy), ``starts`` processes started. The reading itself starts a
        few (its SSH session, shell, head, awk, getconf).
        """
        cpu, starts, hz = self.sh(CPU_COUNTERS).stdout.splitlines()
        ticks = [int(t) for t in cpu.split()[1:]]
        hz = float(hz)
        return CPUCounters((sum(ticks) - ticks[3] - ticks[4]) / hz,
                           sum(ticks) / hz, int(starts))

    def write_random(self, path, mib):
        """Write ``mib`` MiB of random data to ``path``; its sha256."""
        self.sh('dd if=/dev/urandom of=%s bs=1M count=%d conv=fsync '
                'status=none' % (path, mib))
        return self.sha256(path)

    def can_connect(self, address, port=2049, timeout=3):
        """TCP connect from the guest: True if something accepted."""
        family = 'AF_INET6' if ':' in address else 'AF_INET'
        script = ('import socket\n'
                  's=socket.socket(socket.%s)\n'
                  's.settimeout(%d)\n'
                  'try:\n'
                  '    s.connect((%r,%d)); print("open")\n'
                  'except OSError as e:\n'
                  '    print("closed", e)\n'
                  % (family, timeout, address, port))
        out = self.run('/usr/bin/python3', '-c', script,
                       timeout=timeout + 30).stdout
        return out.startswith('open')

    def nfs_mount(self, export, where, check=True):
        """Mount ``export`` (``host:/path``) over NFS v4.2 as os-brick does.

        Soft, so that a closed export fails instead of hanging.
        """
        proto = 'tcp6' if export.startswith('[') else 'tcp'
        script = ('mkdir -p {w} && timeout 60 mount -t nfs4 -o '
                  'vers=4.2,proto={p},soft,timeo=50,retrans=2 '
                  '{e} {w}'.format(w=where, p=proto, e=export))
        return self.sh(script, check=check, timeout=90)

    def df_bytes(self, where):
        """(size, available) in bytes of the filesystem at ``where``."""
        out = self.sh('df -B1 --output=size,avail %s | tail -1'
                      % where).stdout.split()
        return int(out[0]), int(out[1])

    def nfs_umount(self, where):
        self.sh('umount -f {w} 2>/dev/null; umount -l {w} 2>/dev/null; '
                'true'.format(w=where), timeout=60)

    def stop(self, timeout=30):
        """Power the guest off cleanly, killing it after ``timeout``.

        The guest's init unmounts, deactivates LVs and flushes first; if
        it has not exited in time its process group is killed.
        """
        if self.proc is None:
            return
        started = time.monotonic()
        if self.executor is not None:
            if self.proc.poll() is None:
                try:
                    self.run('touch', '/run/arcalab/halt', timeout=10)
                except Exception:
                    pass
            self._close_executors()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reap()
        self.timings['stop'] = time.monotonic() - started

    def kill(self):
        """Kill the guest at once (SIGKILL to its process group)."""
        if self.proc is None:
            return
        self._close_executors()
        _kill_pids(_group_members(self.proc.pid))
        self._reap()

    def _close_executors(self):
        for ex in (self.executor, self.node_executor):
            if ex is not None:
                ex.close()
        self.executor = self.node_executor = None

    def _reap(self):
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        # UML helpers left behind in the group (only ones we started).
        for _ in range(50):
            pids = _group_members(self.proc.pid)
            if not pids:
                break
            _kill_pids(pids)
            time.sleep(0.1)
        else:
            raise LabError('%s: processes %s will not die' % (self.name,
                                                              pids))
        self.lab._pgids.discard(self.proc.pid)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def console_tail(self, lines=30):
        try:
            with open(self.log_file, errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except OSError:
            return ''

    # -- storage helpers --------------------------------------------------

    def add_vlan(self, vlan, cidr):
        """Put the node on a tenant VLAN of the lab bridge (idempotent)."""
        self.run('sh', '-c',
                 'ip link show {i} >/dev/null 2>&1 || '
                 'ip link add link eth0 name {i} type vlan id {v}; '
                 'ip addr replace {a} dev {i}; ip link set {i} up'.format(
                     i='eth0.%d' % int(vlan), v=int(vlan), a=cidr))

    def ensure_thin_pool(self, vg='arca', pool='pool', size='90%FREE'):
        """Idempotently make VG ``vg`` on the disk and thin pool ``pool``.

        Also makes the node's state LV (``VG/arca-state``, XFS) and mounts
        it on /var/lib/arca, where the node library keeps its records, so
        they survive a reboot as on a real node. Safe to call after a
        reboot: existing data is kept.
        """
        if not self.disk:
            raise LabError('%s has no disk' % self.name)
        script = (
            'set -e\n'
            'if ! vgs {vg} >/dev/null 2>&1; then\n'
            '  pvcreate -y {disk} >/dev/null\n'
            '  vgcreate {vg} {disk} >/dev/null\n'
            'fi\n'
            'if ! lvs {vg}/arca-state >/dev/null 2>&1; then\n'
            '  lvcreate -y -L 512m -n arca-state {vg} >/dev/null\n'
            '  mkfs.xfs -q /dev/{vg}/arca-state\n'
            'fi\n'
            'if ! lvs {vg}/{pool} >/dev/null 2>&1; then\n'
            '  lvcreate -y --type thin-pool -l {size} -n {pool} {vg}'
            ' >/dev/null\n'
            'fi\n'
            'vgchange -ay {vg} >/dev/null\n'
            'if ! findmnt -rn -o SOURCE /var/lib/arca |'
            ' grep -q arca--state; then\n'
            '  mount /dev/{vg}/arca-state /var/lib/arca\n'
            'fi\n'
        ).format(vg=vg, pool=pool, size=size, disk=self.disk)
        self.run('sh', '-c', script, timeout=120)


class Lab(object):
    """A set of UML guests on a private bridge; use as a context manager.

    :param nodes: list of :class:`NodeSpec`.
    :param workdir: folder for disks, keys and console logs (default: a
        new folder under /tmp, removed on a clean exit).
    :param mem: MiB of memory per guest.
    :param keep_logs: keep the workdir (console logs) even on success.
        After a failure only the logs are kept (disk images are removed).
    :param fencing: run the lab's fence device (tests/lab/fence.py) and
        give every guest /usr/sbin/fence_arcalab, which powers the lab's
        guests off for real (``self.fence`` is the service).
    :param fence_power_on: let the fence agent boot guests again (``on``,
        the second half of ``reboot``); off by default: a test boots
        fenced nodes itself.
    """

    def __init__(self, nodes, workdir=None, mem=512, keep_logs=False,
                 boot_timeout=120, fencing=False, fence_power_on=False):
        names = [spec.name for spec in nodes]
        if len(set(names)) != len(names) or not names:
            raise ValueError('node names must be unique: %s' % names)
        if len(names) > 200:
            raise ValueError('too many nodes')
        for spec in nodes:
            if not NAME_RE.match(spec.name):
                raise ValueError('bad node name %r' % spec.name)
            if spec.role not in ('storage', 'client'):
                raise ValueError('bad role %r' % spec.role)
            if spec.ha_disk_sizes and spec.role != 'storage':
                raise ValueError('%s: only storage nodes have an HA disk'
                                 % spec.name)
            if len(spec.ha_disk_sizes) > 7:
                raise ValueError('%s: at most 7 HA disks' % spec.name)
        if workdir is not None and re.search(r'\s', workdir):
            raise ValueError('workdir must not contain spaces')
        self.specs = list(nodes)
        self.mem = mem
        self.keep_logs = keep_logs
        self.boot_timeout = boot_timeout
        self.fencing = fencing
        self.fence_power_on = fence_power_on
        self.fence = None
        self.netns = self._netns_name()
        self._own_workdir = workdir is None
        self.workdir = workdir
        self.uml_dir = self.key_file = self.known_hosts = None
        self.nodes = {}
        self.timings = {}
        self._pgids = set()
        self._closed = True
        self._signals = {}

    @staticmethod
    def _netns_name():
        with _claimed_lock:
            taken = _claimed | set(_list_netns())
            name = '%s%d' % (NETNS_PREFIX, os.getpid())
            while name in taken:
                name = '%s%d-%d' % (NETNS_PREFIX, os.getpid(),
                                    next(_counter))
            _claimed.add(name)
            return name

    # -- context manager --------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        # Ctrl-C / SIGTERM end a lab normally; any other exception is a
        # failure and keeps the console logs.
        self.close(failed=exc_type is not None and not issubclass(
            exc_type, (KeyboardInterrupt, SystemExit)))
        return False

    def node(self, name):
        return self.nodes[name]

    # -- network faults -----------------------------------------------------

    def _taps(self, node):
        return [node.tap] + [tap for tap, _mac in node.data_taps]

    def partition(self, *names):
        """Cut the named nodes off from each other, not from the rest.

        Their bridge ports (every NIC) become isolated: an isolated port
        reaches only ports that are not, so the nodes still reach the
        host (the fence device) and the other guests but no longer each
        other: a split brain between storage nodes. :meth:`heal` ends it.
        """
        for name in names:
            for tap in self._taps(self.nodes[name]):
                _run('ip', '-n', self.netns, 'link', 'set', 'dev', tap,
                     'type', 'bridge_slave', 'isolated', 'on')

    def unplug(self, name):
        """Cut node ``name`` off from everything, fence device included."""
        for tap in self._taps(self.nodes[name]):
            _run('ip', '-n', self.netns, 'link', 'set', tap, 'down')

    def heal(self):
        """End every :meth:`partition` and :meth:`unplug`."""
        for node in self.nodes.values():
            for tap in self._taps(node):
                _run('ip', '-n', self.netns, 'link', 'set', 'dev', tap,
                     'type', 'bridge_slave', 'isolated', 'off')
                _run('ip', '-n', self.netns, 'link', 'set', tap, 'up')

    def start(self):
        if os.geteuid() != 0:
            raise LabError('the lab needs root')
        if not os.access(UML, os.X_OK):
            raise LabError('%s missing: run python -m tests.lab install'
                           % UML)
        self._closed = False
        atexit.register(self.close)
        self._install_signal_handlers()
        started = time.monotonic()
        try:
            self._make_files()
            self._make_network()
            if self.fencing:
                self._start_fence()
            for index, spec in enumerate(self.specs, start=1):
                self.nodes[spec.name] = Node(self, spec, index)
            for node in self.nodes.values():
                node.start(wait=False)
            self._parallel(lambda n: n.wait_ready(), self.nodes.values())
        except BaseException as err:
            self.close(failed=not isinstance(
                err, (KeyboardInterrupt, SystemExit)))
            raise
        self.timings['up'] = time.monotonic() - started

    def _make_files(self):
        if self.workdir is None:
            self.workdir = tempfile.mkdtemp(prefix=self.netns + '-')
        os.makedirs(self.workdir, exist_ok=True)
        self.uml_dir = os.path.join(self.workdir, 'uml')
        os.makedirs(self.uml_dir, exist_ok=True)
        self.key_file = os.path.join(self.workdir, 'id_lab')
        host_key = os.path.join(self.workdir, 'ssh_host_ed25519_key')
        for path in (self.key_file, host_key):
            if not os.path.exists(path):
                _run('ssh-keygen', '-q', '-t', 'ed25519', '-N', '',
                     '-C', 'arcalab', '-f', path)
        with open(self.key_file + '.pub') as f:
            pub = f.read()
        with open(os.path.join(self.workdir, 'id_lab.pub'), 'w') as f:
            f.write(pub)
        with open(host_key + '.pub') as f:
            host_pub = ' '.join(f.read().split()[:2])
        self.known_hosts = os.path.join(self.workdir, 'known_hosts')
        with open(self.known_hosts, 'w') as f:
            for index in range(1, len(self.specs) + 1):
                f.write('%s.%d %s\n' % (SUBNET, index, host_pub))
        with open(os.path.join(self.workdir, 'sshd_config'), 'w') as f:
            f.write(SSHD_CONFIG)
        shutil.copy(LVM_CONF, os.path.join(self.workdir, 'lvm.conf'))
        # Written again by _start_fence if this lab fences (a caller's
        # workdir may hold a former lab's).
        for name in ('fence.conf', 'fence_arcalab'):
            if os.path.exists(os.path.join(self.workdir, name)):
                os.unlink(os.path.join(self.workdir, name))
        shutil.copy(DBUS_POLICY, os.path.join(self.workdir,
                                              'arca-ganesha.conf'))
        # The project's rootwrap filters, used in the guests exactly as a
        # remote storage node uses them (Node.node_executor).
        filters = os.path.join(self.workdir, 'rootwrap.d')
        shutil.rmtree(filters, ignore_errors=True)
        shutil.copytree(FILTERS_DIR, filters)
        with open(os.path.join(self.workdir, 'rootwrap.conf'), 'w') as f:
            f.write(ROOTWRAP_CONF)
        # The package, for the node agent (AGENT).
        src = os.path.join(self.workdir, 'src')
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(os.path.join(REPO, 'arca_openstack'),
                        os.path.join(src, 'arca_openstack'),
                        ignore=shutil.ignore_patterns('__pycache__',
                                                      '*.pyc'))

    def _start_fence(self):
        """Start the fence service; its agent and config for the guests."""
        self.fence = fence.FenceService(self, HOST_ADDRESS,
                                        power_on=self.fence_power_on)
        self.fence.start(_os_thread,
                         functools.partial(enter_netns, self.netns))
        shutil.copy(fence.AGENT, os.path.join(self.workdir, 'fence_arcalab'))
        path = os.path.join(self.workdir, 'fence.conf')
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(self.fence.config())

    def _make_network(self):
        _run('ip', 'netns', 'add', self.netns)
        ns = ('ip', '-n', self.netns)
        _run(*ns, 'link', 'set', 'lo', 'up')
        _run(*ns, 'link', 'add', BRIDGE, 'type', 'bridge')
        _run(*ns, 'addr', 'add', HOST_ADDRESS + '/24', 'dev', BRIDGE)
        _run(*ns, 'link', 'set', BRIDGE, 'up')
        for index, spec in enumerate(self.specs, start=1):
            taps = ['tap%d' % index] + ['tap%dn%d' % (index, nic) for nic
                                        in range(1, spec.data_nics + 1)]
            for tap in taps:
                _run(*ns, 'tuntap', 'add', tap, 'mode', 'tap')
                _run(*ns, 'link', 'set', tap, 'master', BRIDGE)
                _run(*ns, 'link', 'set', tap, 'up')

    @staticmethod
    def _parallel(func, items):
        errors = []

        def call(item):
            try:
                func(item)
            except BaseException as err:
                errors.append(err)

        threads = [threading.Thread(target=call, args=(item,), daemon=True)
                   for item in items]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    # -- teardown ---------------------------------------------------------

    def close(self, failed=False):
        """Stop every guest, delete the namespace and the workdir."""
        if self._closed:
            return
        self._closed = True
        started = time.monotonic()
        previous = self._ignore_signals()
        try:
            if self.fence is not None:
                self.fence.stop()
            try:
                self._parallel(lambda n: n.stop(timeout=15),
                               [n for n in self.nodes.values() if n.proc])
            except Exception:
                failed = True
            for node in self.nodes.values():
                if node.proc is not None:
                    node.kill()
            for pgid in list(self._pgids):
                _kill_pids(_group_members(pgid))
            self._delete_netns(self.netns)
            self._remove_workdir(failed)
        finally:
            self._restore_signals(previous)
            self._restore_signals(self._signals)
            self._signals = {}
            atexit.unregister(self.close)
            self.timings['teardown'] = time.monotonic() - started

    @staticmethod
    def _delete_netns(name):
        """Kill the guests left in lab namespace ``name``, delete it.

        Only a lab's guests run in its namespace; they are killed by PID
        and waited for (bounded) before the namespace is deleted.
        """
        if name not in _list_netns():
            return
        seen = set()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            out = _run('ip', 'netns', 'pids', name, check=False).stdout
            pids = {int(p) for p in out.split()}
            seen |= pids
            _kill_pids(pids)
            if not pids and not any(_pid_alive(p) for p in seen):
                break
            time.sleep(0.2)
        _run('ip', 'netns', 'del', name, check=False)

    def _remove_workdir(self, failed):
        """Remove the workdir, or all of it but the console logs.

        Own workdir: removed on success; after a failure (or with
        keep_logs) only the console logs stay. A caller's workdir keeps
        its disks and keys (so a later lab can boot the same disks).
        """
        if not self.workdir or not os.path.isdir(self.workdir):
            return
        if not self._own_workdir:
            if self.uml_dir:
                shutil.rmtree(self.uml_dir, ignore_errors=True)
            return
        if not (self.keep_logs or failed):
            shutil.rmtree(self.workdir, ignore_errors=True)
            return
        for entry in os.listdir(self.workdir):
            path = os.path.join(self.workdir, entry)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            elif not entry.endswith('.log'):
                os.unlink(path)
        print('arcalab: console logs kept in %s' % self.workdir)

    def _install_signal_handlers(self):
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum, frame):
            raise SystemExit(128 + signum)

        for signum in (signal.SIGTERM, signal.SIGHUP):
            self._signals[signum] = signal.signal(signum, handler)

    @staticmethod
    def _ignore_signals():
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {signum: signal.signal(signum, signal.SIG_IGN)
                for signum in (signal.SIGINT, signal.SIGTERM,
                               signal.SIGHUP)}

    @staticmethod
    def _restore_signals(saved):
        for signum, handler in saved.items():
            if handler is not None:
                signal.signal(signum, handler)

    @classmethod
    def cleanup_stale(cls):
        """Clean up after labs whose process died (``kill -9``, crash).

        Deletes ``arcalab<pid>`` namespaces whose pid is dead, killing
        the guests still inside them, and strips those labs' default
        workdirs down to their console logs. Returns the names removed.
        """
        removed = []
        for name in _list_netns():
            match = NETNS_RE.match(name)
            if not match or _pid_alive(int(match.group(1))):
                continue
            cls._delete_netns(name)
            removed.append(name)
        tmp = tempfile.gettempdir()
        for entry in os.listdir(tmp):
            match = re.match(r'^arcalab(\d+)(?:-\d+)?-\w+$', entry)
            path = os.path.join(tmp, entry)
            if (not match or _pid_alive(int(match.group(1)))
                    or not os.path.isdir(path)):
                continue
            for name in os.listdir(path):
                sub = os.path.join(path, name)
                if os.path.isdir(sub):
                    shutil.rmtree(sub, ignore_errors=True)
                elif not name.endswith('.log'):
                    os.unlink(sub)
            if not os.listdir(path):
                os.rmdir(path)
        return removed


def _list_netns():
    out = _run('ip', 'netns', 'list', check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]
