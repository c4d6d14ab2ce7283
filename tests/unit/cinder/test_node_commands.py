"""How many commands each Cinder operation sends to the storage node.

Each command is a round trip to the node (about a second through SSH and
rootwrap on a remote node), so they make most of an operation's time: a
thin clone is only fast if it takes few. Here the driver runs on the real
node library (Ganesha included) against an in-memory node, and the counts
are pinned so that they cannot silently grow again.
"""


from cinder import context
from cinder import objects
from cinder.tests.unit import fake_snapshot
from cinder.tests.unit import fake_volume

from arca_openstack.agent import builtins
from arca_openstack.cinder import driver
from arca_openstack.node import ganesha_config
from tests.unit import base
from tests.unit.cinder import test_driver
from tests.unit import fake_node
from tests.unit import test_agent
from tests.unit import test_drbd

objects.register_all()

GiB = 1024 ** 3
PROJECT = test_driver.PROJECT
SVM = test_driver.SVM
PID = 4242
VOL = '11111111-2222-3333-4444-555555555555'
CLONE = '22222222-2222-3333-4444-555555555555'
COPY = '33333333-2222-3333-4444-555555555555'
SNAP = '44444444-2222-3333-4444-555555555555'
CONNECTOR = {'ip': '10.0.0.21', 'host': 'compute1'}

# Upper bounds, with Ganesha answering no D-Bus (each change is a SIGHUP
# confirmed in its log; the first change of a driver also asks D-Bus:
# a new export's AddExport, then what it serves) and the SVM running. A
# clone of the same size is one look-up of both LVs, lvcreate, the log
# replay and new UUID on the way to its mount (5), the SVM's record, the
# SVM's Ganesha config, export index and pid file in one read and the
# list of its export files (2), the export file and config written and
# read back, then the index (7), the reload (5: pid check, log size,
# SIGHUP, two looks at the log) and the growth of filesystem and image
# file (2); a larger one adds lvextend and truncate. A change of an
# existing export reads its one file too, and writes no index. Every
# file step is answered in the agent's process (no process start).
# The agent looks an LV up itself before it formats, mounts, exports or
# removes it (a caller's earlier look-up is not trusted), once per
# request: a new volume's XFS, mount, image file and export are one
# request (exports.format_and_publish), a clone's snapshot, growth and
# mount another (exports.clone, which made the LV: no look-up).
MAX_COMMANDS = {
    'create_volume': 25,
    'create_snapshot': 2,
    'create_cloned_volume': 25,
    'create_volume_from_snapshot': 25,
    'create_export': 9,
    'initialize_connection': 15,
    'terminate_connection': 12,
    'delete_volume': 19,
    'delete_snapshot': 2,
    # One request (pool.capacity): the VG's lvs and the look for
    # /etc/arca/cluster.conf; a mirrored pool adds its DRBD state.
    'get_volume_stats': 3,
}
# Of those, the processes the agent starts (the rest it answers itself,
# see arca_openstack.agent.builtins): LVM, mounts, XFS tools.
MAX_PROCESSES = {
    'create_volume': 6,
    'create_snapshot': 2,
    'create_cloned_volume': 7,
    'create_volume_from_snapshot': 7,
    'create_export': 2,
    'initialize_connection': 2,
    'terminate_connection': 1,
    'delete_volume': 4,
    'delete_snapshot': 2,
    # lvs; drbdsetup sh-status of a mirrored pool (cluster.conf is read
    # in the agent's process).
    'get_volume_stats': 2,
}


class NodeCommandsTestCase(base.TestCase):

    def setUp(self):
        fake_node.patch_kill_filter(self, [PID])
        super().setUp()
        self.ctx = context.RequestContext('user', PROJECT, is_admin=False)
        self.counts = {}
        self.processes = {}
        self.requests = []
        self._boot(others=3)

    def _boot(self, others):
        """A new node whose SVM serves ``others`` volumes; a new driver."""
        self.node = self.executor = fake_node.FakeNode()
        self.driver = driver.ArcaNFSDriver(
            configuration=test_driver.FakeConf())
        self.driver.executor = self.node
        self.driver.do_setup(None)
        self.driver.node_client.agent.svms.netns = base.mock_netns()
        call = self.driver.node_client.call

        def request(op, *args, **kwargs):
            self.requests.append(op)
            return call(op, *args, **kwargs)
        self.driver.node_client.call = request
        self._svm(others)

    def _svm(self, others):
        """The project's SVM, running, serving ``others`` other volumes."""
        base_dir = '/var/lib/arca/svm/' + SVM
        self.node.fs[base_dir + '/svm.json'] = test_driver.svm_record()
        ids = list(range(1, others + 1))
        for eid in ids:
            lv = 'vol-other-%d' % eid
            self.node.fs['%s/exports/%d.conf' % (base_dir, eid)] = (
                ganesha_config.render_export(ganesha_config.Export(
                    eid, '/var/lib/arca/mnt/' + lv, '/' + lv,
                    (ganesha_config.ClientRule('10.0.0.99', 'rw'),))))
        self.node.fs[base_dir + '/ganesha.conf'] = (
            ganesha_config.render_config(SVM, ['10.0.0.10'], ids))
        self.node.fs[base_dir + '/exports.index'] = (
            ganesha_config.format_index(
                {eid: '/var/lib/arca/mnt/vol-other-%d' % eid
                 for eid in ids}))
        self.node.start_ganesha(SVM, PID)

    def _volume(self, vid, size=1):
        return fake_volume.fake_volume_obj(self.ctx, id=vid, size=size,
                                           project_id=PROJECT)

    def run_op(self, name, *args):
        self.node.reset()
        del self.requests[:]
        result = getattr(self.driver, name)(*args)
        self.counts[name] = len(self.node.commands)
        self.processes[name] = sum(1 for cmd in self.node.commands
                                   if builtins.find(cmd) is None)
        return result

    def assert_bounds(self):
        over = {name: (count, MAX_COMMANDS[name])
                for name, count in self.counts.items()
                if count > MAX_COMMANDS[name]}
        self.assertEqual({}, over, 'operations over their command budget '
                         '(count, bound)')
        over = {name: (count, MAX_PROCESSES[name])
                for name, count in self.processes.items()
                if count > MAX_PROCESSES[name]}
        self.assertEqual({}, over, 'operations over their budget of '
                         'process starts (count, bound)')

    def _served(self, lv):
        return self.driver.node_client.agent.svms.ganesha.find_export(
            SVM, '/var/lib/arca/mnt/' + lv)

    def test_volume_life_cycle(self):
        vol = self._volume(VOL)
        self.run_op('create_volume', vol)
        snap = fake_snapshot.fake_snapshot_obj(
            self.ctx, id=SNAP, volume_id=VOL, volume=vol, volume_size=1,
            project_id=PROJECT)
        self.run_op('create_snapshot', snap)
        clone = self._volume(CLONE)
        self.run_op('create_cloned_volume', clone, vol)
        copy = self._volume(COPY)
        self.run_op('create_volume_from_snapshot', copy, snap)
        self.run_op('create_export', self.ctx, clone, CONNECTOR)
        self.run_op('initialize_connection', clone, CONNECTOR)
        self.assertEqual(['10.0.0.21'], [
            rule.network for rule in self._served('vol-' + CLONE).clients])
        self.run_op('terminate_connection', clone, CONNECTOR)
        self.assertEqual((), self._served('vol-' + CLONE).clients)
        for done in (clone, copy):
            self.run_op('delete_volume', done)
        self.run_op('delete_snapshot', snap)
        self.assertEqual({'vol-' + VOL}, set(self.node.lvs))
        self.assertEqual(['/var/lib/arca/mnt/vol-' + VOL],
                         list(self.node.mounts))
        self.assert_bounds()

    def test_stats_requests(self):
        # Whether the pool is mirrored costs no request of its own.
        self.run_op('get_volume_stats', True)
        self.assertEqual(['pool.capacity'], self.requests)
        self.assertEqual((2, 1), (self.counts['get_volume_stats'],
                                  self.processes['get_volume_stats']))
        self.node.fs['/etc/arca/cluster.conf'] = test_agent.MIRRORED_CONF
        self.node.on('drbdsetup', 'sh-status', 'arca', stdout=(
            test_drbd.sh_status('Connected', 'Primary', 'Secondary',
                                'UpToDate', 'UpToDate', minor=1,
                                name='arca')))
        stats = self.run_op('get_volume_stats', True)
        self.assertEqual(['pool.capacity'], self.requests)
        self.assertEqual('in-sync', stats['pools'][0]['arca_mirror_state'])
        self.assertEqual(75, stats['pools'][0]['free_capacity_gb'])
        self.assert_bounds()

    def test_create_volume_requests(self):
        # The LV made, the SVM ensured (the LV's svm tag keeps it), then
        # the rest in one request that looks the LV up once.
        self.run_op('create_volume', self._volume(VOL))
        self.assertEqual(['pool.create', 'svm_pools.ensure',
                          'exports.format_and_publish'], self.requests)
        self.assertEqual(1, sum(1 for cmd in self.node.commands
                                if cmd[0] == 'lvs'))

    def test_larger_clone(self):
        vol = self._volume(VOL)
        self.driver.create_volume(vol)
        clone = self._volume(CLONE, size=2)
        result = self.run_op('create_cloned_volume', clone, vol)
        self.assertEqual('10.0.0.10:/vol-' + CLONE,
                         result['provider_location'])
        lvs = self.node.lvs
        new = lvs['vol-' + CLONE]
        # Its own UUID, its log replayed, mounted, grown and served.
        self.assertNotEqual(lvs['vol-' + VOL]['uuid'], new['uuid'])
        self.assertFalse(new['dirty'])
        self.assertEqual('vol-' + CLONE,
                         self.node.mounts['/var/lib/arca/mnt/vol-' + CLONE])
        self.assertEqual((3 * GiB, 2 * GiB), (new['size'], new['image']))
        self.assertIsNotNone(self._served('vol-' + CLONE))
        self.assertLessEqual(self.counts['create_cloned_volume'],
                             MAX_COMMANDS['create_cloned_volume'] + 2)

    def _clone_count(self):
        vol = self._volume(VOL)
        self.driver.create_volume(vol)
        self.run_op('create_cloned_volume', self._volume(CLONE), vol)
        return self.counts['create_cloned_volume']

    def test_counts_do_not_grow_with_the_svm(self):
        few = self._clone_count()
        self._boot(others=40)
        self.assertEqual(few, self._clone_count())
