"""DRBD mirror of a thin LV between the two storage nodes.

The resources are driven through each node's agent, as the services do;
the filesystem on the DRBD device through the node library.
"""

from arca_openstack.node import drbd
from arca_openstack.node import lvm
from arca_openstack.node import xfs
from arca_openstack.wire import remote
from tests.functional import base

RES = 'ft-mirror'
LV = 'ft-mirror'
MINOR = 10
PORT = 7790
MNT = '/var/lib/arca/mnt/ft-mirror'


class DRBDTestCase(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.nodes = [self.lab.node('s1'), self.lab.node('s2')]
        self.ex = [self.node_executor(n) for n in self.nodes]
        self.pools = [lvm.ThinPool(e, base.VG, base.POOL) for e in self.ex]
        self.drbd = [remote.Node(n.agent_client(), base.VG, base.POOL).drbd
                     for n in self.nodes]
        self.fs = [xfs.XFS(e) for e in self.ex]
        for i in (0, 1):
            self.addCleanup(self._clean, i)

    def _clean(self, i):
        if not self.nodes[i].running:
            self.nodes[i].start()
        self.fs[i].unmount(MNT)
        self.drbd[i].remove(RES)
        self.pools[i].remove(LV)

    def _setup_both(self):
        for i in (0, 1):
            for _ in range(2):  # every step twice: idempotent
                self.pools[i].create(LV, 1)
                peer = self.nodes[1 - i]
                self.drbd[i].write(RES, MINOR, PORT, LV,
                                   self.nodes[i].address, peer.hostname,
                                   peer.address)
                self.drbd[i].create_md(RES)
                self.drbd[i].up(RES)

    def test_mirror_failover_and_resize(self):
        self._setup_both()
        # Rendered on each node from the same values: the same bytes.
        texts = [n.sh('cat /etc/drbd.d/arca-%s.res' % RES).stdout
                 for n in self.nodes]
        self.assertEqual(texts[0], texts[1])
        self.drbd[0].wait_connected(RES, timeout=60)
        # New empty volume: no initial sync.
        self.assertTrue(self.drbd[0].skip_initial_sync(RES))
        state = self.drbd[0].wait_for(RES, drbd.is_synced, timeout=60)
        self.assertIsNone(state['sync_percent'])
        self.drbd[0].primary(RES)
        self.drbd[0].primary(RES)
        state = self.drbd[1].status(RES)
        self.assertEqual(('Secondary', 'Primary', 'Connected', 'UpToDate',
                          'UpToDate'),
                         (state['role'], state['peer_role'],
                          state['connection'], state['disk'],
                          state['peer_disk']))

        device = '/dev/drbd%d' % MINOR
        self.fs[0].mkfs(device)
        self.fs[0].mount(device, MNT)
        digest = self.write_random(self.nodes[0], MNT + '/data', 32)

        # Online resize on both: backing LVs, DRBD, then XFS on the primary.
        before = self.fs[0].usage(MNT)['total_bytes']
        for i in (0, 1):
            self.pools[i].extend(LV, 2)
        self.drbd[0].resize(RES)
        # The resync of the new area starts only once the peer has
        # learnt the new size; UpToDate/UpToDate before that is the old
        # state, and killing the primary then leaves the peer
        # Inconsistent (seen under two labs at once).
        grown = self._device_bytes(0)
        self.wait_for(lambda: self._device_bytes(1) == grown, timeout=60,
                      what='the peer device grown to %d bytes' % grown)
        for i in (0, 1):
            self.drbd[i].wait_for(RES, drbd.is_synced, timeout=120)
        self.fs[0].grow(MNT)
        after = self.fs[0].usage(MNT)['total_bytes']
        self.assertGreater(after, before + (512 << 20))
        self.assertEqual(digest, self.sha256(self.nodes[0], MNT + '/data'))

        # The primary node dies; the peer is promoted and has the data.
        self.assertTrue(drbd.is_synced(self.drbd[1].status(RES)))
        self.nodes[0].kill()
        self.drbd[1].wait_for(RES, lambda s: s['connection'] != 'Connected',
                              timeout=60)
        self.drbd[1].primary(RES)
        self.fs[1].mount(device, MNT)
        self.assertEqual(digest, self.sha256(self.nodes[1], MNT + '/data'))
        self.assertEqual(after, self.fs[1].usage(MNT)['total_bytes'])

    def _device_bytes(self, i):
        # From sysfs: a Secondary's device cannot be opened.
        return 512 * int(self.nodes[i].sh(
            'cat /sys/block/drbd%d/size' % MINOR).stdout)
