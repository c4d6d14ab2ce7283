"""The node agent: its operations' checks, the protocol, the client."""

import io
import threading
from unittest import mock

import ddt
import fixtures

from arca_openstack.agent import operations
from arca_openstack.agent import server
from arca_openstack import exception
from arca_openstack.node import ganesha_config
from arca_openstack.node import svm
from arca_openstack.wire import client
from arca_openstack.wire import protocol
from tests.unit import base
from tests.unit import fake_node

GiB = fake_node.GiB
POOL = {'vg': 'arca', 'thin': 'pool'}
LV = 'vol-11111111-2222-3333-4444-555555555555'
SVM = 'cinder_0123456789abcdef0123456789abcdef'
GOOD_SETTINGS = {'mapping': 'per_project', 'prefix': 'cinder',
                 'shared_name': 'arca_shared', 'delete_unused': True,
                 'pools': ['mode=veth,bridge=br0,cidr=10.0.0.0/24']}
# Names and values that must never reach a command: traversal, symlink
# and option look-alikes, quoting and config-file syntax, other objects.
BAD_NAMES = ['../etc', '/etc/passwd', 'a/b', '-rf', '', '.', '..',
             'x\ny', 'x y', 'x;id', 'x"y', "x'y", 'x{y', 'x}y', 'x#y',
             'x$(id)', 'x`id`', 'a' * 200, None, 7, ['x'], {'x': 1}]
BAD_SVMS = BAD_NAMES + ['Upper', 'x-y', 'a' * 41]


def _hostile_requests():
    """(operation, arguments) pairs each of which must be refused."""
    cases = []
    # Pools the node does not serve, and malformed pool names.
    for vg, thin in (('rhel', 'root'), ('cinder-volumes', 'pool'),
                     ('arca', 'arca-state'), ('arca', '../pool'),
                     ('arca', None), (None, 'pool'), ('arca\n', 'pool')):
        cases.append(('pool.remove', {'vg': vg, 'thin': thin, 'name': LV}))
        cases.append(('fs.mkfs', {'vg': vg, 'thin': thin, 'name': LV}))
        cases.append(('pool.capacity', {'vg': vg, 'thin': thin}))
    for names in ([LV, '../etc'], [None], LV, [LV] * 5000):
        cases.append(('pool.lookup', dict(POOL, names=names)))
    lv_ops = [
        ('pool.get', {}), ('pool.create', {'size_gib': 1}),
        ('pool.extend', {'size_gib': 1}), ('pool.remove', {}),
        ('pool.reduce', {'size_gib': 1}),
        ('pool.replace_tags', {'tags': ['arca.x=1']}),
        ('pool.add_tags', {'tags': ['arca.x=1']}),
        ('pool.remove_tags', {'tags': ['arca.x=1']}),
        ('pool.update_tags', {'fields': {'svm': SVM}}),
        ('fs.mkfs', {}), ('fs.grow', {}), ('fs.regenerate_uuid', {}),
        ('fs.is_mounted', {}), ('quota.enable', {}),
        ('quota.set_limit', {'size_bytes': 1}), ('quota.used', {}),
        ('raw.size', {}), ('raw.create', {'size_bytes': 1}),
        ('raw.grow', {'size_bytes': 1}), ('exports.mount', {}),
        ('exports.unmount', {}),
        ('exports.find', {'svm': SVM}),
        ('exports.publish', {'svm': SVM}),
        ('exports.format_and_publish', {'svm': SVM, 'quota_bytes': 1,
                                        'image_bytes': 1}),
        ('exports.set_clients', {'svm': SVM, 'clients': []}),
        ('exports.unpublish', {'svm': SVM}),
    ]
    for op, extra in lv_ops:
        for bad in BAD_NAMES:
            cases.append((op, dict(POOL, name=bad, **extra)))
    for op in ('pool.snapshot', 'pool.clone', 'exports.clone'):
        for bad in BAD_NAMES:
            cases.append((op, dict(POOL, origin=bad, name=LV, size_gib=1)))
            cases.append((op, dict(POOL, origin=LV, name=bad, size_gib=1)))
    for bad in BAD_NAMES:
        cases.append(('pool.rename', dict(POOL, old=LV, new=bad)))
        cases.append(('pool.revert', dict(POOL, name=LV, snapshot=bad)))
    for op, extra in (('svms.get', {}), ('svms.delete', {}),
                      ('svms.running', {}), ('svms.export_ids', {}),
                      ('svms.get_export', {'export_id': 1}),
                      ('svms.ensure', POOL),
                      ('exports.publish', dict(POOL, name=LV)),
                      ('exports.format_and_publish', dict(POOL, name=LV)),
                      ('svm_pools.release', dict(POOL,
                                                 settings=GOOD_SETTINGS)),
                      ('svm_pools.ensure', dict(
                          POOL, owner='arca.project=1',
                          settings=GOOD_SETTINGS))):
        for bad in BAD_SVMS:
            key = 'svm' if op.startswith('exports.') else 'name'
            cases.append((op, dict(extra, **{key: bad})))
    # Sizes out of range or of the wrong type.
    for size in (0, -1, 2 ** 63, 1.5, '1', True, None, 10 ** 7):
        cases.append(('pool.create', dict(POOL, name=LV, size_gib=size)))
        cases.append(('pool.extend', dict(POOL, name=LV, size_gib=size)))
    for size in (-1, 2 ** 70, '1', True, None, 1.0):
        cases.append(('raw.grow', dict(POOL, name=LV, size_bytes=size)))
        cases.append(('quota.set_limit', dict(POOL, name=LV,
                                              size_bytes=size)))
        for key in ('quota_bytes', 'image_bytes'):
            if size is not None:  # None: no quota, no image file
                cases.append(('exports.format_and_publish', dict(
                    POOL, svm=SVM, name=LV, **{key: size})))
    # An image file is never empty.
    cases.append(('exports.format_and_publish', dict(
        POOL, svm=SVM, name=LV, image_bytes=0)))
    # Tags and tag fields that would not be one LVM tag.
    for tags in (['a b'], ['x\n'], 'arca.x=1', [None], ['-x'], ['a' * 300],
                 ['t'] * 100):
        cases.append(('pool.create', dict(POOL, name=LV, size_gib=1,
                                          tags=tags)))
        cases.append(('pool.list', dict(POOL, tags=tags)))
    for fields in ({'a b': '1'}, {'svm': 'x y'}, {'svm': '\n'}, 'svm=x',
                   {'__class__': 'x'}):
        cases.append(('pool.update_tags', dict(POOL, name=LV,
                                               fields=fields)))
    cases.append(('pool.snapshot', dict(POOL, origin=LV, name='snap-1',
                                        inherit=['a-b'])))
    # Mount options outside the node library's list.
    for options in (['rw,exec'], ['loop'], ['uid=0'], 'prjquota',
                    ['ro\n'], [None]):
        cases.append(('exports.mount', dict(POOL, name=LV,
                                            options=options)))
        cases.append(('exports.clone', dict(POOL, origin=LV, name='vol-2',
                                            size_gib=1, options=options)))
        cases.append(('exports.publish', dict(POOL, svm=SVM, name=LV,
                                              mount_options=options)))
        cases.append(('exports.format_and_publish', dict(
            POOL, svm=SVM, name=LV, mount_options=options)))
        cases.append(('svms.ensure', dict(POOL, name=SVM, prefix_options=[
            ['snap-', options]])))
    # Client lists: networks, access levels, changes.
    for clients in ([['10.0.0.1', 'rw', 'x']], [['*', 'rw']],
                    [['10.0.0.1', 'all']], [['10.0.0.1\n', 'rw']],
                    [['10.0.0.1;', 'rw']], [['host.example', 'rw']],
                    [['10.0.0.0/33', 'rw']], [['10.0.0.1', 'rw']] * 2,
                    {'admit': '0.0.0.0/0'}, {'admit': 'a b'},
                    {'drop': '10.0.0.0/8;'}, {'keep_or': 'x'},
                    {'replace': []}, {'admit': '1.1.1.1', 'drop': None},
                    'rw', [['10.0.0.1']]):
        cases.append(('exports.publish', dict(POOL, svm=SVM, name=LV,
                                              clients=clients)))
        cases.append(('exports.set_clients', dict(POOL, svm=SVM, name=LV,
                                                  clients=clients)))
        cases.append(('exports.format_and_publish', dict(
            POOL, svm=SVM, name=LV, clients=clients)))
    # Networks of SVMs: VLAN ids, addresses, modes, interface names, MTU.
    good = dict(mode='vlan', addresses=['10.0.0.10/24'], gateways=[],
                parent='eth1', vlan=100, bridge=None, mtu=None)
    for change in ({'vlan': 0}, {'vlan': 4095}, {'vlan': '100'},
                   {'vlan': None}, {'mode': 'ipvlan'},
                   {'addresses': ['10.0.0.10']},
                   {'addresses': ['10.0.0.0/24']},
                   {'addresses': ['10.0.0.10/24\n']},
                   {'addresses': ['0.0.0.0/0']}, {'addresses': []},
                   {'parent': 'eth1;x'}, {'parent': '../eth1'},
                   {'parent': 'a' * 16}, {'bridge': 'br0'},
                   {'gateways': ['8.8.8.8 ']}, {'mtu': 10 ** 6},
                   {'mtu': 67}, {'extra': 1}):
        network = dict(good, **change)
        cases.append(('svms.create', dict(POOL, name=SVM, network=network,
                                          owner='arca.x=1')))
    cases.append(('svms.create', dict(POOL, name=SVM, network=good,
                                      owner='x y')))
    cases.append(('svms.create', dict(POOL, name=SVM, network='vlan 100')))
    # The pool an SVM may be homed in is one the agent serves.
    cases.append(('svms.create', {'name': SVM, 'network': good}))
    cases.append(('svms.create', dict(name=SVM, network=good, vg='other',
                                      thin='pool')))
    # Pool settings: each is parsed again on the node.
    for change in ({'mapping': 'all'}, {'prefix': 'Cinder'},
                   {'prefix': 'a' * 9}, {'shared_name': '../x'},
                   {'delete_unused': 'yes'}, {'pools': 'mode=veth'},
                   {'pools': ['mode=vlan,parent=eth1,vlan=5000,'
                              'cidr=10.0.0.0/24']},
                   {'pools': ['mode=veth,bridge=br0,cidr=10.0.0.0/24\n'
                              'mode=veth']},
                   {'pools': ['mode=veth,bridge=br0,cidr=10.0.0.0/24,'
                              'gateway=10.1.0.1']},
                   {'pools': ['mode=veth,bridge=br0;id,cidr=10.0.0.0/24']}):
        cases.append(('svm_pools.ensure', dict(
            POOL, name=SVM, owner='arca.project=1',
            settings=dict(GOOD_SETTINGS, **change))))
    # Links of the node itself.
    for bad in ('eth0;id', '../eth0', 'a' * 16, '', None, 'eth 0'):
        cases.append(('node.links', {'interfaces': ['eth0', bad]}))
    cases += [('node.links', {'interfaces': 'eth0'}),
              ('node.links', {'interfaces': ['eth0'] * 5000})]
    # DRBD: names, numbers, addresses and host names that reach a
    # resource file or drbdadm; LVs of other pools.
    good = dict(POOL, resource='r1', minor=10, port=7790, lv=LV,
                address='10.0.5.1', peer='s2', peer_address='10.0.5.2')
    for key, values in (
            ('resource', BAD_NAMES + ['all', 'a' * 64]),
            ('minor', [-1, 1048576, '10', None, True, 1.5]),
            ('port', [0, 65536, '7790', None, True]),
            ('lv', BAD_NAMES),
            ('address', ['10.0.5.1; id', '10.0.5.1\n', '999.1.1.1', '',
                         None, 'host', '10.0.5.0/24']),
            ('peer_address', ['::1 }', 'x', None]),
            ('peer', BAD_NAMES[:16] + ['-s2', 's2.', 'a' * 70]),
            ('protocol', ['D', 'c', '', None, ['C']])):
        for bad in values:
            cases.append(('drbd.write', dict(good, **{key: bad})))
    for vg, thin in (('rhel', 'root'), ('arca', 'other')):
        cases.append(('drbd.write', dict(good, vg=vg, thin=thin)))
    cases.append(('drbd.write', dict(good, disk='/dev/sda')))
    for op in ('create_md', 'up', 'down', 'secondary', 'status',
               'skip_initial_sync', 'resize', 'remove', 'primary'):
        for bad in BAD_NAMES + ['all']:
            cases.append(('drbd.' + op, {'resource': bad}))
        cases.append(('drbd.' + op, dict(POOL, resource='r1')))
    for bad in ('yes', 1, None, 'true'):
        cases.append(('drbd.primary', {'resource': 'r1', 'force': bad}))
    # Operations and arguments that do not exist.
    cases += [('pool.destroy', POOL), ('exec', {'argv': ['id']}),
              ('', {}), (None, {}), ('pool.get', dict(POOL, name=LV,
                                                      path='/etc')),
              ('svms.get', {'name': SVM, 'vg': 'arca'}),
              ('pool.get', 'name'), ('pool.get', [LV])]
    return cases


HOSTILE = _hostile_requests()


@ddt.ddt
class HostileRequestTestCase(base.TestCase):
    """Every hostile request is refused before any command runs."""

    def setUp(self):
        super().setUp()
        self.node = operations.Node(self.executor)

    @ddt.data(*range(len(HOSTILE)))
    def test_refused_without_commands(self, index):
        op, args = HOSTILE[index]
        self.assertRaises(exception.InvalidInput, self.node.call, op, args)
        self.assertEqual([], self.executor.commands)

    def test_over_the_wire_too(self):
        refused = 0
        for op, args in HOSTILE:
            answer = protocol.loads(server.answer(
                self.node, protocol.dumps({'id': 1, 'op': op,
                                           'args': args})))
            self.assertEqual('InvalidInput', answer['error']['type'],
                             (op, args))
            refused += 1
        self.assertEqual([], self.executor.commands)
        self.assertGreater(refused, 700)


class OperationTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.node = operations.Node(self.executor)

    def test_every_operation_has_a_handler(self):
        self.assertEqual(set(protocol.OPERATIONS), set(operations.HANDLERS))

    def test_lv_of_another_thin_pool_is_not_formatted(self):
        self.executor.on('lvs', stdout=fake_node.rows_report(
            fake_node.lv_row(LV, size=GiB, pool='other')))
        self.assertRaises(exception.InvalidInput, self.node.call,
                          'fs.mkfs', dict(POOL, name=LV))
        self.assertEqual(['lvs'], [c[0] for c in self.executor.commands])

    def test_lv_of_another_thin_pool_is_not_formatted_and_published(self):
        self.executor.on('lvs', stdout=fake_node.rows_report(
            fake_node.lv_row(LV, size=GiB, pool='other')))
        self.assertRaises(exception.InvalidInput, self.node.call,
                          'exports.format_and_publish',
                          dict(POOL, svm=SVM, name=LV, image_bytes=GiB))
        self.assertEqual(['lvs'], [c[0] for c in self.executor.commands])

    def test_svm_homed_in_a_mirrored_pool(self):
        state = '/var/lib/arca/pools/' + POOL['vg']
        self.executor.on('cat', exit_code=1, stderr='No such file')
        self.executor.on('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET',
                         '--mountpoint', state,
                         stdout='/dev/mapper/x-arca--state %s\n' % state)
        self.node.svms.netns = base.mock_netns()
        self.node.svms.ganesha = mock.Mock()
        self.node.call('svms.create', dict(POOL, name=SVM, network={
            'mode': 'vlan', 'addresses': ['10.0.0.10/24'], 'gateways': [],
            'parent': 'eth1', 'vlan': 100, 'bridge': None, 'mtu': None}))
        self.assertIn(('ln', '-sfnT', '%s/svm/%s' % (state, SVM),
                       '/var/lib/arca/svm/' + SVM), self.executor.commands)

    def test_configured_pools(self):
        node = operations.Node(self.executor, pools=['data/tp'])
        self.assertRaises(exception.InvalidInput, node.call,
                          'pool.capacity', POOL)
        self.assertEqual('tp', node.pool('data', 'tp').pool)

    def test_client_changes(self):
        rule = ganesha_config.ClientRule('10.0.0.1', 'rw', 'no_root_squash')
        admit = operations._clients({'admit': '10.0.0.2'})
        self.assertEqual([rule, ('10.0.0.2', 'rw')], admit([rule]))
        self.assertEqual([rule], admit([rule])[:1])
        self.assertEqual([], operations._clients({'drop': '10.0.0.1'})(
            [rule]))
        self.assertEqual([], operations._clients({'drop': None})([rule]))
        keep = operations._clients({'keep_or': [['10.0.0.3', 'ro']]})
        self.assertEqual([rule], keep([rule]))
        self.assertEqual([ganesha_config.ClientRule('10.0.0.3', 'ro',
                                                    'no_root_squash')],
                         keep(None))


MIRRORED_CONF = """\
[cluster]
name = arca
nodes = s1=10.97.0.1, s2=10.97.0.2

[fence s1]
agent = fence_ipmilan
ip = 192.0.2.11

[fence s2]
agent = fence_ipmilan
ip = 192.0.2.12

[pool arca]
disk = /dev/sdb
minor = 1
port = 7789
management_address = 10.97.0.101/24
management_nic = eth0
preferred_node = s1
"""


class CapacityTestCase(base.TestCase):
    """pool.capacity: the thin pool's use and its DRBD mirror."""

    def setUp(self):
        super().setUp()
        self.node = operations.Node(self.executor)
        self.executor.on('lvs', stdout=fake_node.rows_report(
            fake_node.lv_row('pool', size=100 * GiB, segtype='thin-pool',
                             pool='', data='25.00')))

    def test_unmirrored(self):
        result = self.node.call('pool.capacity', POOL)
        self.assertEqual((100 * GiB, None, None), (
            result['total_bytes'], result['mirror'],
            result['mirror_error']))

    def test_mirrored_over_the_wire(self):
        self.executor.on('cat', '/etc/arca/cluster.conf',
                         stdout=MIRRORED_CONF)
        self.executor.on('drbdsetup', 'sh-status', 'arca', stdout=(
            '_minor=1\n_res_name=arca\n_volume=0\n_known=Configured\n'
            '_cstate=SyncSource\n_role=Primary\n_peer=Secondary\n'
            '_disk=UpToDate\n_pdsk=Inconsistent\n_resynced_percent=42.5\n'
            '_sh_status_process\n'))
        answer = protocol.loads(server.answer(self.node, protocol.dumps(
            {'id': 3, 'op': 'pool.capacity', 'args': POOL})))
        self.assertEqual({
            'resource': 'arca', 'role': 'Primary',
            'connection': 'SyncSource', 'disk': 'UpToDate',
            'peer_disk': 'Inconsistent', 'resync_percent': 42.5,
            'state': 'syncing'}, answer['result']['mirror'])
        self.assertIsNone(answer['result']['mirror_error'])

    def test_bad_cluster_conf_is_logged_and_capacity_reported(self):
        self.executor.on('cat', '/etc/arca/cluster.conf',
                         stdout=MIRRORED_CONF.replace('port = 7789',
                                                      'prot = 7789'))
        with self.assertLogs('arca_openstack.agent.operations',
                             'ERROR') as logs:
            result = self.node.call('pool.capacity', POOL)
        self.assertEqual(100 * GiB, result['total_bytes'])
        self.assertIsNone(result['mirror'])
        self.assertIn("[pool arca] 'prot': unknown key",
                      result['mirror_error'])
        self.assertIn(result['mirror_error'], logs.output[0])
        self.assertNotIn('drbdsetup', [c[0] for c in
                                       self.executor.commands])


class FormatAndPublishTestCase(base.TestCase):
    """exports.format_and_publish: a new LV's way to its export."""

    MNT = '/var/lib/arca/mnt/' + LV

    def setUp(self):
        super().setUp()
        self.executor = self.fake = fake_node.FakeNode()
        self.node = operations.Node(self.fake)
        self.node.svms.ganesha = mock.Mock()
        self.node.svms.ganesha.serve.side_effect = self._served
        self.served_after = []
        self.node.call('pool.create', dict(POOL, name=LV, size_gib=2))
        self.fake.reset()

    def _served(self, *args, **kwargs):
        self.served_after.append([c[0] for c in self.fake.commands])
        return ganesha_config.Export(1, self.MNT, '/' + LV, ())

    def _call(self, **args):
        return self.node.call('exports.format_and_publish',
                              dict(POOL, svm=SVM, name=LV, **args))

    def test_share(self):
        self._call(mount_options=['prjquota'], quota_bytes=GiB)
        self.assertEqual(
            [('lvs',), ('mkfs.xfs', '-q', '-K', '/dev/arca/' + LV),
             ('findmnt',), ('mkdir',),
             ('mount', '-t', 'xfs', '-o', 'prjquota', '/dev/arca/' + LV,
              self.MNT),
             ('findmnt',), ('xfs_quota', '-x', '-c',
                            'project -s -p %s 1' % self.MNT, self.MNT),
             ('findmnt',), ('xfs_quota', '-x', '-c',
                            'limit -p bhard=%d 1' % GiB, self.MNT)],
            [c if c[0] in ('mkfs.xfs', 'mount', 'xfs_quota') else c[:1]
             for c in self.fake.commands])
        # Exported last, closed to all, without a look at the mount.
        self.assertEqual(1, len(self.served_after))
        (svm, path, pseudo, clients), kwargs = (
            self.node.svms.ganesha.serve.call_args)
        self.assertEqual((SVM, self.MNT, '/' + LV, []),
                         (svm, path, pseudo, clients))
        self.assertIsNone(self.fake.lvs[LV]['image'])

    def test_volume(self):
        self._call(clients=[['10.0.0.21', 'rw']], image_bytes=GiB)
        names = [c[0] for c in self.fake.commands]
        self.assertEqual(1, names.count('lvs'))
        self.assertNotIn('xfs_quota', names)
        self.assertEqual(GiB, self.fake.lvs[LV]['image'])
        # The image file is there before the export.
        self.assertEqual(names, self.served_after[0])
        self.assertEqual(LV, self.fake.mounts[self.MNT])
        clients = self.node.svms.ganesha.serve.call_args[0][3]
        self.assertEqual([ganesha_config.ClientRule(
            '10.0.0.21', 'rw', 'no_root_squash')], clients)

    def test_retry_keeps_the_filesystem(self):
        # A crash after the filesystem was made and mounted (or after
        # everything): the request again formats nothing.
        self._call(image_bytes=GiB)
        lv = self.fake.lvs[LV]
        uuid = lv['uuid']
        lv['image'] = 3 * GiB  # written by a client meanwhile
        self.fake.reset()
        self._call(image_bytes=GiB)
        self.assertEqual(uuid, lv['uuid'])
        self.assertEqual(3 * GiB, lv['image'])
        names = [c[0] for c in self.fake.commands]
        # mkfs.xfs refuses, blkid says XFS; already mounted.
        self.assertEqual(['lvs', 'mkfs.xfs', 'blkid', 'findmnt'],
                         names[:4])
        self.assertNotIn('mount', names)

    def test_retry_after_a_crash_before_the_mount(self):
        self.node.call('fs.mkfs', dict(POOL, name=LV))
        uuid = self.fake.lvs[LV]['uuid']
        self._call(mount_options=['prjquota'], quota_bytes=GiB)
        self.assertEqual(uuid, self.fake.lvs[LV]['uuid'])
        self.assertEqual(LV, self.fake.mounts[self.MNT])

    def test_missing_lv(self):
        self.fake.lvs.clear()
        self.assertRaises(exception.NotFound, self._call, image_bytes=GiB)
        self.assertEqual(['lvs'], [c[0] for c in self.fake.commands])
        self.node.svms.ganesha.serve.assert_not_called()


@ddt.ddt
class DRBDOperationTestCase(base.TestCase):
    """The agent's DRBD operations act on Arca's resources only."""

    def setUp(self):
        super().setUp()
        self.node = operations.Node(self.executor)
        self.useFixture(fixtures.MockPatchObject(
            operations.Node, 'hostname', return_value='s1'))

    def test_write_renders_both_sides_on_the_node(self):
        self.executor.on('lvs', stdout=fake_node.rows_report(
            fake_node.lv_row(LV, size=GiB)))
        self.executor.on('cat', exit_code=1, stderr='No such file')
        self.assertTrue(self.node.call('drbd.write', dict(
            POOL, resource='r1', minor=10, port=7790, lv=LV,
            address='10.0.5.1', peer='s2', peer_address='10.0.5.2')))
        text = self.executor.input_for('tee')
        disk = '/dev/arca/' + LV
        self.assertEqual(2, text.count('disk %s;' % disk))
        self.assertIn('on s1 {', text)
        self.assertIn('address ipv4 10.0.5.1:7790;', text)
        self.assertIn('on s2 {', text)
        self.assertIn('address ipv4 10.0.5.2:7790;', text)

    def test_lv_of_another_pool_gets_no_file(self):
        self.executor.on('lvs', stdout=fake_node.rows_report(
            fake_node.lv_row(LV, size=GiB, attr='-wi-a-----', pool='',
                             segtype='linear', data='')))
        self.assertRaises(exception.InvalidInput, self.node.call,
                          'drbd.write', dict(
                              POOL, resource='r1', minor=10, port=7790,
                              lv=LV, address='10.0.5.1', peer='s2',
                              peer_address='10.0.5.2'))
        self.assertEqual(['lvs'], [c[0] for c in self.executor.commands])

    @ddt.data('create_md', 'up', 'down', 'secondary', 'status',
              'skip_initial_sync', 'resize', 'primary')
    def test_resource_without_arca_file_untouched(self, op):
        # Someone else's resource r0 (its own file, or the kernel only).
        self.executor.on('cat', exit_code=1, stderr='No such file')
        self.assertRaises(exception.NotFound, self.node.call,
                          'drbd.' + op, {'resource': 'r0'})
        self.assertEqual([('cat', '/etc/drbd.d/arca-r0.res')],
                         self.executor.commands)

    def test_remove_without_arca_file_is_done(self):
        self.executor.on('cat', exit_code=1, stderr='No such file')
        self.assertIsNone(self.node.call('drbd.remove', {'resource': 'r0'}))
        self.assertEqual(['cat'], [c[0] for c in self.executor.commands])


class ProtocolTestCase(base.TestCase):

    def test_named_tuples_cross(self):
        net = svm.make_network('veth', ['10.0.0.10/24'], bridge='br0')
        exp = ganesha_config.Export(3, '/var/lib/arca/mnt/x', '/x', (
            ganesha_config.ClientRule('10.0.0.1', 'rw', 'root_squash'),))
        doc = protocol.loads(protocol.dumps({'n': net, 'e': exp}))
        self.assertEqual(net, doc['n'])
        self.assertIsInstance(doc['n'], svm.Network)
        self.assertEqual('10.0.0.1', doc['e'].clients[0].network)

    def test_unknown_types_refused(self):
        self.assertRaises(protocol.ProtocolError, protocol.dumps,
                          {'x': object()})
        self.assertRaises(protocol.ProtocolError, protocol.loads,
                          b'{"x": {"__type__": "Popen"}}')
        self.assertRaises(protocol.ProtocolError, protocol.loads,
                          b'[1]')

    def test_errors_raised_again_as_their_class(self):
        err = exception.CommandFailed(('lvs', 'x'), 5, '', 'boom')
        again = protocol.error_from(protocol.error_doc(err))
        self.assertIsInstance(again, exception.CommandFailed)
        self.assertEqual((('lvs', 'x'), 5), (again.cmd, again.exit_code))
        self.assertEqual(str(err), str(again))

    def test_unknown_error_keeps_nearest_arca_base(self):
        doc = {'type': 'VlanInUse', 'bases': ['VlanInUse', 'Conflict',
                                              'ArcaError'],
               'message': 'm', 'kwargs': {}}
        self.assertIsInstance(protocol.error_from(doc), exception.Conflict)
        self.assertIsInstance(protocol.error_from(
            {'type': 'KeyError', 'message': 'x'}), protocol.AgentError)


class ServerTestCase(base.TestCase):

    def test_serve_answers_in_order_until_input_ends(self):
        node = operations.Node(self.executor)
        self.executor.on('ls', stdout='a_svm\nBad\n')
        requests = b''.join([
            protocol.dumps({'id': 1, 'op': 'svms.list', 'args': {}}),
            b'not json\n',
            protocol.dumps({'id': 2, 'op': 'nope', 'args': {}})])
        out = io.BytesIO()
        server.serve(node, io.BytesIO(requests), out)
        lines = [protocol.loads(line) for line in
                 out.getvalue().splitlines()]
        self.assertEqual(protocol.hello(), lines[0])
        self.assertEqual({'id': 1, 'result': ['a_svm']}, lines[1])
        self.assertEqual('ProtocolError', lines[2]['error']['type'])
        self.assertEqual(2, lines[3]['id'])
        self.assertEqual('InvalidInput', lines[3]['error']['type'])


class FakeSession(client.Session):

    def __init__(self, answers):
        super().__init__('node')
        self.answers = answers
        self.closed = False
        self.ended = False

    def alive(self):
        return not self.ended

    def start(self, timeout):
        pass

    def request(self, op, args, timeout):
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def close(self):
        self.closed = True


class AgentClientTestCase(base.TestCase):

    def _client(self, *sessions):
        opened = list(sessions)
        agent = client.AgentClient(lambda: opened.pop(0), 'node',
                                   max_sessions=2)
        return agent

    def test_session_reused(self):
        one = FakeSession([1, 2])
        agent = self._client(one)
        self.assertEqual((1, 2), (agent.call('svms.list'),
                                  agent.call('svms.list')))

    def test_broken_session_retried_once_on_a_new_one(self):
        broken = FakeSession([client.SessionLost(node='n', reason='eof')])
        fresh = FakeSession(['ok'])
        agent = self._client(broken, fresh)
        self.assertEqual('ok', agent.call('svms.list'))
        self.assertTrue(broken.closed)

    def test_twice_broken_reported(self):
        agent = self._client(*[FakeSession([client.SessionLost(
            node='n', reason='eof')]) for _i in range(2)])
        self.assertRaises(client.SessionLost, agent.call, 'svms.list')

    def test_idle_sessions_that_ended_are_replaced(self):
        # A takeover: the connection broke, every idle session ended with
        # it; the next request goes to a new session, not to two dead ones.
        dead = [FakeSession(['never']) for _i in range(2)]
        fresh = FakeSession(['ok'])
        agent = client.AgentClient(lambda: fresh, 'node', max_sessions=2)
        for session in dead:
            agent._give_back(session)
            agent._count += 1
            session.ended = True
        self.assertEqual('ok', agent.call('svms.list'))
        self.assertEqual([True, True], [s.closed for s in dead])
        self.assertEqual([['never'], ['never']], [s.answers for s in dead])
        self.assertEqual([fresh], agent._idle)
        self.assertEqual(1, agent._count)

    def test_ssh_session_alive_while_its_transport_is(self):
        session = client.SSHSession.__new__(client.SSHSession)
        session.channel = mock.Mock(closed=False, eof_received=False)
        transport = session.channel.get_transport.return_value
        transport.is_active.return_value = True
        self.assertTrue(session.alive())
        transport.is_active.return_value = False
        self.assertFalse(session.alive())
        transport.is_active.return_value = True
        session.channel.closed = True
        self.assertFalse(session.alive())

    def test_timeout_drops_session_not_retried(self):
        slow = FakeSession([client.AgentTimeout('svms.list', 5)])
        agent = self._client(slow, FakeSession(['late']))
        self.assertRaises(client.AgentTimeout, agent.call, 'svms.list')
        self.assertTrue(slow.closed)
        self.assertEqual('late', agent.call('svms.list'))

    def test_node_error_keeps_session(self):
        one = FakeSession([exception.NotFound(what='x', name='y'), 'ok'])
        agent = self._client(one)
        self.assertRaises(exception.NotFound, agent.call, 'svms.list')
        self.assertEqual('ok', agent.call('svms.list'))
        self.assertFalse(one.closed)

    def test_unknown_operation_refused_locally(self):
        agent = self._client()
        self.assertRaises(exception.InvalidInput, agent.call, 'exec')

    def test_sessions_bounded_and_shared(self):
        gate = threading.Event()

        class Slow(FakeSession):
            def request(self, op, args, timeout):
                gate.wait(5)
                return 'ok'

        opened = []

        def open_session():
            opened.append(Slow([]))
            return opened[-1]

        agent = client.AgentClient(open_session, 'node', max_sessions=2)
        threads = [threading.Thread(target=agent.call, args=('svms.list',))
                   for _i in range(5)]
        for thread in threads:
            thread.start()
        gate.set()
        for thread in threads:
            thread.join(5)
        self.assertEqual(2, len(opened))


class ProcessSessionTestCase(base.TestCase):
    """A real agent process (the in-tree module, run by this python)."""

    def test_hello_and_refusal(self):
        import sys
        session = client.ProcessSession(
            [sys.executable, '-c',
             'import sys; from arca_openstack.agent import operations, '
             'server; from tests.unit import fake_executor; '
             'server.serve(operations.Node(fake_executor.FakeExecutor()))'])
        self.addCleanup(session.close)
        session.start(30)
        err = self.assertRaises(exception.InvalidInput, session.request,
                                'pool.remove', {'vg': 'rhel',
                                                'thin': 'root', 'name': 'x'},
                                30)
        self.assertIn('not one of the pools', str(err))
        self.assertEqual([], session.request('svms.list', {}, 30))

    def test_agent_of_another_release(self):
        import sys
        session = client.ProcessSession(
            [sys.executable, '-c',
             'import sys, time; print(\'{"agent": "arca-node", '
             '"protocol": 2}\', flush=True); time.sleep(30)'])
        self.addCleanup(session.close)
        err = self.assertRaises(protocol.ProtocolError, session.start, 30)
        self.assertIn('protocol 2, this release speaks %d'
                      % protocol.PROTOCOL, str(err))
        self.assertIn('same release', str(err))


class LocalOnlyTestCase(base.TestCase):

    @mock.patch('os.geteuid', return_value=1000)
    def test_agent_refuses_to_run_unprivileged(self, _euid):
        from arca_openstack.cmd import node
        self.assertRaises(SystemExit, node.main, ['serve'])
