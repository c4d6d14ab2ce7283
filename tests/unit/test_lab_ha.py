"""Unit tests of the lab's HA helpers (tests/lab/ha.py, NodeSpec disks).

No guest is booted: /proc/drbd as DRBD 8.4 prints it, the HA disks of a
node spec and the cluster.conf the lab writes for several pools.
"""

import types

import testtools

from tests.lab import ha
from tests.lab import harness

PROC_DRBD = """\
version: 8.4.11 (api:1/proto:86-101)
srcversion: 059B1B470318F053F5077D5

 1: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----
    ns:159855 nr:0 dw:201573 dr:13671 al:17 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 \
wo:f oos:31716
\t[=======>............] sync'ed: 41.7% (31716/47184)K
\tfinish: 0:02:16 speed: 224 (232) K/sec
 2: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----
    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:8
"""


class ProcDrbdTestCase(testtools.TestCase):

    def test_syncing(self):
        self.assertEqual(
            {'cs': 'SyncSource', 'role': 'Primary', 'peer_role': 'Secondary',
             'disk': 'UpToDate', 'peer_disk': 'Inconsistent',
             'oos_kib': 31716,
             'sync': "[=======>............] sync'ed: 41.7% (31716/47184)K"},
            ha.parse_proc_drbd(PROC_DRBD, 1))

    def test_other_minor(self):
        state = ha.parse_proc_drbd(PROC_DRBD, 2)
        self.assertEqual(('WFConnection', 'Secondary', 'Unknown', 8, None),
                         (state['cs'], state['role'], state['peer_role'],
                          state['oos_kib'], state['sync']))

    def test_not_configured(self):
        self.assertEqual({}, ha.parse_proc_drbd(PROC_DRBD, 3))
        self.assertEqual({}, ha.parse_proc_drbd('', 1))


class HaDisksTestCase(testtools.TestCase):

    def test_sizes(self):
        self.assertEqual((), harness.NodeSpec('s1').ha_disk_sizes)
        self.assertEqual((4,), harness.NodeSpec(
            's1', ha_disk_gib=4).ha_disk_sizes)
        self.assertEqual((4, 2), harness.NodeSpec(
            's1', ha_disks=(4, 2)).ha_disk_sizes)

    def test_both_refused(self):
        self.assertRaises(ValueError, lambda: harness.NodeSpec(
            's1', ha_disk_gib=4, ha_disks=(4,)).ha_disk_sizes)

    def test_client_refused(self):
        self.assertRaises(ValueError, harness.Lab, [
            harness.NodeSpec('c1', 'client', ha_disks=(1,))])

    def test_devices(self):
        lab = types.SimpleNamespace(netns='arcalab1', workdir='/nowhere')
        node = harness.Node(lab, harness.NodeSpec('s1', ha_disks=(4, 4)),
                            1)
        self.assertEqual(['/dev/ubdb', '/dev/ubdc'], node.ha_disks)
        self.assertEqual('/dev/ubdb', node.ha_disk)
        self.assertEqual(['/nowhere/s1-ha.img', '/nowhere/s1-ha1.img'],
                         [f for f, _g, _d in node.ha_disk_files])


class ClusterConfTestCase(testtools.TestCase):

    def test_pool_disks(self):
        nodes = [harness.NodeSpec('s1'), harness.NodeSpec('s2')]
        for index, node in enumerate(nodes, start=1):
            node.address = '10.97.0.%d' % index
        text = ha.cluster_conf(nodes, [
            ha.Pool('arca1', 1, 7789, '10.97.0.101', 's1'),
            ha.Pool('arca2', 2, 7790, '10.97.0.102', 's2',
                    disk='/dev/ubdc')])
        self.assertIn('[pool arca1]\nthin_pool = arca1/pool\n'
                      'disk = /dev/ubdb\n', text)
        self.assertIn('[pool arca2]\nthin_pool = arca2/pool\n'
                      'disk = /dev/ubdc\nminor = 2\nport = 7790\n', text)
