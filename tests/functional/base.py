"""Shared lab for the functional tests.

One lab (two storage nodes, three client nodes) is booted on first use and
torn down when the test process exits; every test leaves the nodes as it
found them. The drivers reach the storage nodes' agent (``arca-node
serve``) over SSH, as in a deployment; tests of the node library itself
run it through the production SSHExecutor as root.
"""

import atexit
import os
import tempfile
import time

from oslo_concurrency import lockutils
import testtools

from arca_openstack.node import executor as node_executor
from arca_openstack.node import ganesha_config
from tests.lab import harness
from tests.unit import rootwrap_check

VG = 'arca'
POOL = 'pool'

# Tenant networks: VLANs on the lab bridge, one subnet each.
TENANT_A = {'vlan': 100, 'svm': '10.100.0.10/24', 'gateway': '10.100.0.1'}
TENANT_B = {'vlan': 200, 'svm': '10.200.0.10/24', 'gateway': '10.200.0.1'}
CLIENTS = {
    # client node: (VLAN, its address on it)
    'c1': (100, '10.100.0.21/24'),
    'c2': (100, '10.100.0.22/24'),
    'c3': (200, '10.200.0.23/24'),
}

_lab = None
_failed = False


def boot_lab(storage, clients):
    """Boot a lab, torn down when the test process exits.

    :param storage: (name, disk GiB) of storage nodes; each gets the thin
        pool VG/POOL.
    :param clients: {name: (VLAN, address/prefix)} of client nodes.
    """
    lockutils.set_defaults(tempfile.mkdtemp(prefix='arca-locks-'))
    harness.Lab.cleanup_stale()
    # eth1-eth3: the storage NICs the documented address pools name.
    specs = [harness.NodeSpec(name, 'storage', disk_gib=gib, data_nics=3)
             for name, gib in storage]
    specs += [harness.NodeSpec(name, 'client') for name in clients]
    started = time.monotonic()
    new = harness.Lab(specs, mem=512)
    new.start()
    atexit.register(lambda: new.close(failed=_failed))
    for name, _gib in storage:
        new.node(name).ensure_thin_pool(VG, POOL)
    for name, (vlan, cidr) in clients.items():
        new.node(name).add_vlan(vlan, cidr)
    new.boot_seconds = time.monotonic() - started
    print('lab up in %.1fs' % new.boot_seconds)
    return new


def lab():
    """The shared lab of the node tests, booted on first use."""
    global _lab
    if _lab is None:
        _lab = boot_lab([('s1', 16), ('s2', 8)], CLIENTS)
    return _lab


def mark_failed(exc_info=None):
    """Keep the lab's console logs: a test failed."""
    global _failed
    _failed = True


class CountingExecutor(node_executor.Executor):
    """Passes commands on to a real executor and counts them."""

    def __init__(self, real):
        super().__init__(real.timeout)
        self.real = real
        self.commands = []

    def _run(self, cmd, process_input, timeout):
        started = time.monotonic()
        try:
            return self.real._run(cmd, process_input, timeout)
        finally:
            self.commands.append((tuple(cmd), time.monotonic() - started))


class CatalogueExecutor(node_executor.Executor):
    """Runs a command only if the node library's catalogue admits it.

    The check oslo.rootwrap would make in the guest with the catalogue
    (tests/unit/commands.d), made here before the command goes out: a
    command form the catalogue lacks fails as it would under rootwrap,
    without rootwrap's Python start in the guest (0.8 s a command under
    UML, most of some tests' time). ``kill`` goes through rootwrap in the
    guest (``rootwrap``): its filter reads the target's /proc/PID/exe,
    which only the guest has.
    """

    IN_GUEST = ('kill',)

    def __init__(self, real, rootwrap):
        super().__init__(real.timeout)
        self.real = real
        self.rootwrap = rootwrap

    def _run(self, cmd, process_input, timeout):
        if cmd[0] in self.IN_GUEST:
            return self.rootwrap._run(cmd, process_input, timeout)
        if not rootwrap_check.allowed(cmd):
            return node_executor.Result(
                99, '', 'Unauthorized command: %s (no filter matched)'
                % ' '.join(cmd))
        return self.real._run(cmd, process_input, timeout)


class FunctionalTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.lab = lab()
        self.addOnException(mark_failed)

    def node_executor(self, node):
        """The executor the node library uses on ``node``.

        Every command is checked against the node library's catalogue
        first (CatalogueExecutor); ARCA_LAB_ROOTWRAP=1 runs each through
        oslo.rootwrap in the guest instead, as a remote node without the
        agent would.
        """
        if os.environ.get('ARCA_LAB_ROOTWRAP') == '1':
            real = node.node_executor
        else:
            real = CatalogueExecutor(node.executor, node.node_executor)
        if os.environ.get('ARCA_LAB_PROFILE'):
            counting = CountingExecutor(real)
            self.addCleanup(self._profile, counting)
            return counting
        return real

    def _profile(self, counting):
        total = sum(t for _c, t in counting.commands)
        by_cmd = {}
        for cmd, t in counting.commands:
            key = ' '.join(cmd[:2])
            n, s = by_cmd.get(key, (0, 0.0))
            by_cmd[key] = (n + 1, s + t)
        lines = ['%6.1fs %4d  %s' % (s, n, k) for k, (n, s) in sorted(
            by_cmd.items(), key=lambda kv: -kv[1][1])[:15]]
        print('%d commands, %.1fs\n%s' % (len(counting.commands), total,
                                          '\n'.join(lines)))

    # Lab-side helpers of harness.Node, with the node first.
    def sh(self, node, script, check=True, timeout=120):
        return node.sh(script, check=check, timeout=timeout)

    def sha256(self, node, path):
        return node.sha256(path)

    def write_random(self, node, path, mib):
        return node.write_random(path, mib)

    def can_connect(self, node, address, port=2049, timeout=3):
        return node.can_connect(address, port, timeout)

    def nfs_mount(self, node, address, pseudo, where, check=True):
        return node.nfs_mount('%s:%s' % (address, pseudo), where, check)

    def nfs_umount(self, node, where):
        node.nfs_umount(where)

    # The SVMs' Ganesha on the lab's system bus (guest-init.sh runs one
    # with the project's policy, etc/dbus-1/system.d/arca-ganesha.conf).
    def ganesha_log_size(self, node, svm_name):
        """Bytes in the SVM's Ganesha log now (0 if there is none yet)."""
        out = self.sh(node, 'stat -c %%s %s 2>/dev/null || echo 0'
                      % ganesha_config.log_path(svm_name)).stdout
        return int(out.split()[0])

    def assert_no_reload_since(self, node, svm_name, offset):
        """The SVM's Ganesha got no SIGHUP since ``offset`` of its log.

        Every export change after ``offset`` went over D-Bus, not through
        the node library's fallback, a SIGHUP reload of every export.
        """
        log = self.sh(node, 'tail -c +%d %s' % (
            offset + 1, ganesha_config.log_path(svm_name))).stdout
        for word in ('SIGHUP', 'Reread exports'):
            self.assertNotIn(word, log, 'Ganesha of SVM %s was reloaded '
                             'with SIGHUP, not told over D-Bus' % svm_name)

    def display_export(self, node, svm_name, export_id):
        """The SVM's Ganesha's own DisplayExport answer (a Result).

        The administrator guide's check of an export, over the system bus.
        """
        return self.sh(node, 'dbus-send --system --print-reply --dest=%s '
                       '/org/ganesha/nfsd/ExportMgr '
                       'org.ganesha.nfsd.exportmgr.DisplayExport uint16:%d'
                       % (ganesha_config.bus_name(svm_name), export_id),
                       check=False)

    def wait_for(self, predicate, timeout=60, interval=1.0, what='state'):
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return
            if time.monotonic() > deadline:
                self.fail('timed out after %ss waiting for %s' %
                          (timeout, what))
            time.sleep(interval)
