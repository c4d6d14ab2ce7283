import ddt

from arca_openstack import backend
from arca_openstack.node import lvm
from tests.unit import base


def _lv(name, tags=(), segtype='thin', pool='pool'):
    return {'name': name, 'tags': list(tags), 'segtype': segtype,
            'pool': pool, 'origin': ''}


@ddt.ddt
class UnmanageableReasonTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.pool = lvm.ThinPool(self.executor, 'arca', 'pool')

    def reason(self, name, info, kind='volume'):
        return backend.unmanageable_reason(self.pool, name, info, kind)

    @ddt.data(_lv('data'), _lv('data', ['arca.kind=volume', 'backup']),
              _lv('data', ['other.kind=share']))
    def test_manageable(self, info):
        self.assertIsNone(self.reason('data', info))

    def test_missing(self):
        self.assertEqual('no LV arca/data', self.reason('data', None))

    @ddt.data(_lv('data', segtype='linear', pool=''),
              _lv('data', pool='other'))
    def test_not_a_thin_volume_of_the_pool(self, info):
        self.assertEqual('data is not a thin volume of pool pool',
                         self.reason('data', info))

    @ddt.data('vol-1-rvnew', 'vol-1-rvold')
    def test_revert_in_progress(self, name):
        self.assertIn('temporary LV of a revert',
                      self.reason(name, _lv(name)))

    def test_tagged_as_something_else(self):
        self.assertEqual(
            'data holds a share, not a volume',
            self.reason('data', _lv('data', ['arca.kind=share'])))


def _mirror(state, connection='Connected', peer_disk='UpToDate',
            percent=None):
    return {'resource': 'arca', 'role': 'Primary', 'connection': connection,
            'disk': 'UpToDate', 'peer_disk': peer_disk,
            'resync_percent': percent, 'state': state}


@ddt.ddt
class MirrorReportTestCase(base.TestCase):
    """The pool's mirror capabilities from the agent's pool.capacity."""

    def setUp(self):
        super().setUp()
        self.report = backend.MirrorReport('arca/pool', 'node1')

    def caps(self, mirror=None, error=None, **extra):
        return self.report.capabilities(dict(
            extra, total_bytes=1, mirror=mirror, mirror_error=error))

    def test_unmirrored(self):
        self.assertEqual({'arca_mirrored': False,
                          'arca_mirror_state': 'none'}, self.caps())

    def test_agent_without_mirror(self):
        # An agent of before the mirror key: its pools are not mirrored.
        self.assertEqual({'arca_mirrored': False,
                          'arca_mirror_state': 'none'},
                         self.report.capabilities({'total_bytes': 1}))

    @ddt.data('in-sync', 'syncing', 'degraded')
    def test_mirrored(self, state):
        self.assertEqual({'arca_mirrored': True,
                          'arca_mirror_state': state},
                         self.caps(_mirror(state)))

    def test_cannot_tell(self):
        error = ('Cannot tell whether thin pool arca/pool is mirrored: '
                 'Invalid /etc/arca/cluster.conf [pool arca] minor')
        with self.assertLogs('arca_openstack.backend', 'ERROR') as logs:
            caps = self.caps(error=error)
        self.assertEqual({'arca_mirrored': False,
                          'arca_mirror_state': 'unknown'}, caps)
        self.assertEqual(['ERROR:arca_openstack.backend:Storage node '
                          'node1: ' + error], logs.output)

    def test_drbd_unreadable_is_degraded(self):
        with self.assertLogs('arca_openstack.backend', 'WARNING') as logs:
            caps = self.caps(_mirror('degraded', connection=None,
                                     peer_disk=None), error='no netlink')
        self.assertEqual({'arca_mirrored': True,
                          'arca_mirror_state': 'degraded'}, caps)
        self.assertEqual(2, len(logs.output))

    def test_changes_logged_once(self):
        with self.assertLogs('arca_openstack.backend', 'INFO') as logs:
            for mirror in (_mirror('in-sync'), _mirror('in-sync'),
                           _mirror('degraded', 'WFConnection', 'DUnknown'),
                           _mirror('degraded', 'WFConnection', 'DUnknown'),
                           _mirror('syncing', 'SyncSource', 'Inconsistent',
                                   41.5),
                           _mirror('in-sync')):
                self.caps(mirror)
        self.assertEqual(4, len(logs.output), logs.output)
        self.assertIn('is degraded: DRBD resource arca is WFConnection, '
                      'disks UpToDate/DUnknown', logs.output[1])
        self.assertIn('resynchronising (SyncSource, 41.5% done)',
                      logs.output[2])
        self.assertIn('in sync', logs.output[3])
