from unittest import mock

import ddt

from arca_openstack import exception
from arca_openstack.node import pool_state
from tests.unit import base
from tests.unit import test_cluster_config
from tests.unit import test_drbd

STATE = '/var/lib/arca/pools/arca1'
FIND_STATE = ('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET', '--mountpoint',
              STATE)
MOUNTED = '/dev/mapper/arca1-arca--state %s\n' % STATE
HOME_A = STATE + '/svm/svm_a'
LINK_A = '/var/lib/arca/svm/svm_a'


@ddt.ddt
class PoolStateTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.svms = mock.Mock()
        self.state = pool_state.PoolState(self.executor, self.svms)

    def test_start(self):
        self.executor.on(*FIND_STATE, exit_code=1)
        self.executor.on('ls', '-1A', STATE + '/svm',
                         stdout='svm_a\nnot-an-svm\n')
        self.executor.on('readlink', exit_code=1)
        self.assertEqual(['svm_a'], self.state.start('arca1'))
        self.assertCommands(
            ('vgchange', '-ay', 'arca1'),
            FIND_STATE,
            ('mkdir', '-p', STATE),
            ('mount', '-t', 'xfs', '-o', 'nodev,nosuid,noexec',
             '/dev/arca1/arca-state', STATE),
            ('mkdir', '-p', STATE + '/svm'),
            ('mkdir', '-p', '/var/lib/arca/svm'),
            ('ls', '-1A', STATE + '/svm'),
            ('readlink', LINK_A),
            ('ln', '-sfnT', HOME_A, LINK_A))

    def test_start_again_changes_nothing(self):
        self.executor.on(*FIND_STATE, stdout=MOUNTED)
        self.executor.on('ls', '-1A', STATE + '/svm', stdout='svm_a\n')
        self.executor.on('readlink', stdout=HOME_A + '\n')
        self.state.start('arca1')
        self.assertNotIn('mount', [c[0] for c in self.executor.commands])
        self.assertNotIn('ln', [c[0] for c in self.executor.commands])

    def test_start_replaces_a_stale_link(self):
        # svm_a was homed in arca2 once, which is not active here.
        other = '/var/lib/arca/pools/arca2/svm/svm_a'
        self.executor.on(*FIND_STATE, stdout=MOUNTED)
        self.executor.on('ls', '-1A', STATE + '/svm', stdout='svm_a\n')
        self.executor.on('readlink', stdout=other + '\n')
        self.executor.on('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET',
                         '--mountpoint', '/var/lib/arca/pools/arca2',
                         exit_code=1)
        self.state.start('arca1')
        self.assertEqual(('ln', '-sfnT', HOME_A, LINK_A),
                         self.executor.commands[-1])

    def test_start_refuses_an_svm_of_another_active_pool(self):
        other = '/var/lib/arca/pools/arca2'
        self.executor.on(*FIND_STATE, stdout=MOUNTED)
        self.executor.on('ls', '-1A', STATE + '/svm', stdout='svm_a\n')
        self.executor.on('readlink', stdout=other + '/svm/svm_a\n')
        self.executor.on('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET',
                         '--mountpoint', other,
                         stdout='/dev/mapper/arca2-arca--state %s\n' % other)
        err = self.assertRaises(exception.Conflict, self.state.start,
                                'arca1')
        self.assertIn('arca2', str(err))
        self.assertNotIn('ln', [c[0] for c in self.executor.commands])

    def test_start_refuses_a_local_svm_of_that_name(self):
        self.executor.on(*FIND_STATE, stdout=MOUNTED)
        self.executor.on('ls', '-1A', STATE + '/svm', stdout='svm_a\n')
        self.executor.on('readlink', exit_code=1)
        self.executor.on('ln', exit_code=1, stderr="ln: cannot overwrite "
                         "directory '/var/lib/arca/svm/svm_a'")
        err = self.assertRaises(exception.Conflict, self.state.start,
                                'arca1')
        self.assertIn('local SVM', str(err))

    def test_start_without_the_vg(self):
        self.executor.on('vgchange', exit_code=5,
                         stderr='  Volume group "arca1" not found\n')
        self.assertRaises(exception.NotFound, self.state.start, 'arca1')
        self.assertCommands(('vgchange', '-ay', 'arca1'))

    @ddt.data('arca1/x', '../etc', '', None, 'a b')
    def test_bad_vg(self, vg):
        self.assertRaises(exception.InvalidInput, self.state.start, vg)
        self.assertRaises(exception.InvalidInput, self.state.stop, vg)
        self.assertCommands()

    def test_stop(self):
        self.executor.on('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET',
                         stdout='/dev/ubda1 /\n'
                         '/dev/mapper/arca1-arca--state %s\n'
                         '/dev/mapper/arca1-share--1 /var/lib/arca/mnt/'
                         'share-1\n'
                         '/dev/mapper/arca2-share--2 /var/lib/arca/mnt/'
                         'share-2\n'
                         '/dev/arca1/volume-3 /var/lib/arca/mnt/volume-3\n'
                         % STATE)
        # The most recent rule wins: the look at the state mount after.
        self.executor.on(*FIND_STATE, stdout=MOUNTED)
        self.executor.on('ls', '-1A', STATE + '/svm', stdout='svm_a\n')
        self.executor.on('readlink', stdout=HOME_A + '\n')
        self.assertEqual(['svm_a'], self.state.stop('arca1'))
        self.svms.stop.assert_called_once_with('svm_a')
        self.assertCommands(
            FIND_STATE,
            ('ls', '-1A', STATE + '/svm'),
            ('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET'),
            ('umount', '/var/lib/arca/mnt/share-1'),
            ('umount', '/var/lib/arca/mnt/volume-3'),
            ('readlink', LINK_A),
            ('rm', '-f', LINK_A),
            ('umount', STATE),
            ('vgchange', '-an', 'arca1'))

    def test_stop_where_the_pool_is_not(self):
        # A Pacemaker stop after a failed start, or on the passive node.
        self.executor.on(*FIND_STATE, exit_code=1)
        self.executor.on('vgchange', exit_code=5,
                         stderr='  Volume group "arca1" not found\n')
        self.assertEqual([], self.state.stop('arca1'))
        self.svms.stop.assert_not_called()
        self.assertCommands(
            FIND_STATE,
            ('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET'),
            ('vgchange', '-an', 'arca1'))

    def test_stop_fails_when_a_filesystem_stays_busy(self):
        self.executor.on('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET',
                         stdout='/dev/mapper/arca1-share--1 '
                         '/var/lib/arca/mnt/share-1\n')
        self.executor.on(*FIND_STATE, exit_code=1)
        self.executor.on('umount', exit_code=32,
                         stderr='umount: /var/lib/arca/mnt/share-1: target '
                         'is busy.')
        self.assertRaises(exception.InUse, self.state.stop, 'arca1')
        self.assertNotIn('vgchange', [c[0] for c in self.executor.commands])

    def test_home(self):
        self.executor.on(*FIND_STATE, stdout=MOUNTED)
        self.assertEqual(STATE, self.state.home('arca1'))
        self.executor.on(*FIND_STATE, exit_code=1)
        self.assertIsNone(self.state.home('arca1'))

    @ddt.unpack
    @ddt.data(('/dev/mapper/arca1-share--1', 'arca1'),
              ('/dev/mapper/my--vg-lv', 'my-vg'),
              ('/dev/arca1/volume-3', 'arca1'),
              ('/dev/ubda1', None), ('tmpfs', None),
              ('/dev/mapper/nodash', None))
    def test_vg_of_source(self, source, vg):
        self.assertEqual(vg, pool_state.vg_of_source(source))


CLUSTER_CONF = '/etc/arca/cluster.conf'
CAT_CONF = ('cat', CLUSTER_CONF)
SH_STATUS = ('drbdsetup', 'sh-status', 'arca1')


@ddt.ddt
class MirrorTestCase(base.TestCase):
    """pool_state.mirror: is a thin pool mirrored, and how well?"""

    def conf(self, text=test_cluster_config.GOOD):
        self.executor.on(*CAT_CONF, stdout=text)

    def test_no_cluster_conf(self):
        # No HA pair: one cat (the agent answers it itself), no DRBD.
        self.assertEqual((None, None),
                         pool_state.mirror(self.executor, 'arca', 'pool'))
        self.assertCommands(CAT_CONF)

    @ddt.data(('arca', 'pool'), ('arca1', 'thin'), ('arca2', 'pool'))
    @ddt.unpack
    def test_pool_not_in_cluster_conf(self, vg, thin):
        # A pair's node may have a pool of its own, unmirrored.
        self.conf()
        self.assertEqual((None, None),
                         pool_state.mirror(self.executor, vg, thin))
        self.assertCommands(CAT_CONF)

    @ddt.data((test_drbd.CONNECTED_PRIMARY, 'in-sync'),
              (test_drbd.SYNC_SOURCE, 'syncing'),
              (test_drbd.PAUSED_SYNC, 'syncing'),
              (test_drbd.WFCONNECTION, 'degraded'),
              (test_drbd.STANDALONE, 'degraded'))
    @ddt.unpack
    def test_mirrored(self, text, state):
        self.conf()
        self.executor.on(*SH_STATUS, stdout=text.replace('vol1', 'arca1'))
        mirror, error = pool_state.mirror(self.executor, 'arca1', 'pool')
        self.assertIsNone(error)
        self.assertEqual(state, mirror['state'])
        self.assertEqual('arca1', mirror['resource'])
        self.assertCommands(CAT_CONF, SH_STATUS)

    def test_mirrored_thin_pool_by_its_name(self):
        self.conf()
        self.executor.on('drbdsetup', 'sh-status', 'arca2',
                         stdout=test_drbd.SYNC_TARGET.replace('vol1',
                                                              'arca2'))
        mirror, error = pool_state.mirror(self.executor, 'arca2', 'thin')
        self.assertEqual(('arca2', 'syncing', 0.0, 'Secondary'), (
            mirror['resource'], mirror['state'], mirror['resync_percent'],
            mirror['role']))

    def test_resource_not_up(self):
        self.conf()
        self.executor.on(*SH_STATUS, exit_code=19)
        mirror, error = pool_state.mirror(self.executor, 'arca1', 'pool')
        self.assertIsNone(error)
        self.assertEqual(('degraded', None), (mirror['state'],
                                              mirror['connection']))

    def test_drbd_status_unreadable(self):
        self.conf()
        self.executor.on(*SH_STATUS, exit_code=20,
                         stderr='Could not connect to netlink\n')
        mirror, error = pool_state.mirror(self.executor, 'arca1', 'pool')
        self.assertEqual('degraded', mirror['state'])
        self.assertIn('Cannot read the state of DRBD resource arca1 '
                      'mirroring thin pool arca1/pool', error)
        self.assertIn('Could not connect to netlink', error)

    def test_cluster_conf_unreadable(self):
        self.executor.on(*CAT_CONF, exit_code=1, stderr='cat: %s: '
                         'Permission denied\n' % CLUSTER_CONF)
        mirror, error = pool_state.mirror(self.executor, 'arca1', 'pool')
        self.assertIsNone(mirror)
        self.assertIn('Cannot tell whether thin pool arca1/pool is '
                      'mirrored', error)
        self.assertIn('Permission denied', error)
        self.assertCommands(CAT_CONF)

    @ddt.data(
        ('minor = 1', 'minor = x', '[pool arca1] minor'),
        ('port = 7789', 'port = 7789\ncolor = red', "[pool arca1] 'color'"),
        ('[cluster]', '[clutser]', "section 'clutser'"),
        ('[fence s2]', '[fence s2', 'cluster.conf'),
    )
    @ddt.unpack
    def test_cluster_conf_bad(self, old, new, where):
        # The error names the file, section and key: what arca-node
        # cluster says of it too. The pool is not claimed mirrored.
        self.conf(test_cluster_config.replace(old, new))
        mirror, error = pool_state.mirror(self.executor, 'arca1', 'pool')
        self.assertIsNone(mirror)
        self.assertIn(CLUSTER_CONF, error)
        self.assertIn(where, error)
        self.assertCommands(CAT_CONF)

    def test_empty_cluster_conf_is_bad(self):
        self.conf('')
        mirror, error = pool_state.mirror(self.executor, 'arca1', 'pool')
        self.assertIsNone(mirror)
        self.assertIn('cluster', error)
