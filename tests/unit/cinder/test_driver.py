"""Unit tests of the Cinder driver against the recording executor.

LVM, XFS, the image file and SVM records run through the real node
library and the FakeExecutor (so every command is checked against the
rootwrap filters); Ganesha and namespace plumbing are mocks, as in the
node library's own export and SVM tests.
"""

import json
from unittest import mock

from cinder import context
from cinder import exception
from cinder import objects
from cinder.tests.unit import fake_snapshot
from cinder.tests.unit import fake_volume
import ddt

from arca_openstack.cinder import driver
from arca_openstack.cinder import opts
from arca_openstack import exception as arca_exception
from arca_openstack.node import ganesha_config
from arca_openstack.node import lvm
from arca_openstack.node import svm
from tests.unit import base
from tests.unit import fake_ganesha
from tests.unit import test_agent
from tests.unit import test_drbd

objects.register_all()

GiB = 1024 ** 3
PROJECT = '0123456789abcdef0123456789abcdef'
SVM = 'cinder_' + PROJECT
VOL = '11111111-2222-3333-4444-555555555555'
VOL2 = '66666666-2222-3333-4444-555555555555'
SNAP = '77777777-2222-3333-4444-555555555555'
LV = 'vol-' + VOL
LV2 = 'vol-' + VOL2
SNAP_LV = 'snap-' + SNAP
MNT = '/var/lib/arca/mnt/' + LV
MNT2 = '/var/lib/arca/mnt/' + LV2
FILE = MNT + '/volume.raw'
FILE2 = MNT2 + '/volume.raw'
RECORD = '/var/lib/arca/svm/%s/svm.json' % SVM
POOL = ('mode=vlan,parent=eth1,vlan=100,cidr=10.0.0.0/24,'
        'range=10.0.0.10-10.0.0.20,gateway=10.0.0.1')
LVS = lvm._LVS
TAGS = 'arca.id=%s,arca.kind=volume,arca.project=%s,arca.svm=%s' % (
    VOL, PROJECT, SVM)


class FakeConf(object):

    def __init__(self, **kwargs):
        for opt in opts.all_opts():
            setattr(self, opt.dest, opt.default)
        self.arca_address_pools = [POOL]
        self.arca_mount_point_base = '/var/lib/cinder/mnt/arca'
        self.max_over_subscription_ratio = '20.0'
        self.reserved_percentage = 5
        self.volume_backend_name = 'arca'
        self.use_multipath_for_image_xfer = False
        self.enforce_multipath_for_image_xfer = False
        self.__dict__.update(kwargs)

    def append_config_values(self, values):
        pass

    def safe_get(self, name):
        return getattr(self, name, None)


def row(name, size_gib, tags='', origin='', segtype='thin', pool='pool',
        attr='Vwi-aotz--', data='10.00'):
    return {'lv_name': name, 'vg_name': 'arca',
            'lv_size': str(size_gib * GiB), 'lv_attr': attr,
            'lv_tags': tags, 'origin': origin, 'pool_lv': pool,
            'segtype': segtype, 'data_percent': data,
            'metadata_percent': '1.00'}


def report(*rows):
    return json.dumps({'report': [{'lv': list(rows)}]})


def network(addresses=('10.0.0.10/24',)):
    return svm.make_network('vlan', list(addresses), ['10.0.0.1'],
                            parent='eth1', vlan=100)


def svm_record(addresses=('10.0.0.10/24',)):
    return json.dumps({'name': SVM, 'owner': 'arca.project=' + PROJECT,
                       'network': network(addresses)._asdict()})


class DriverTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = FakeConf()
        self.driver = driver.ArcaNFSDriver(configuration=self.conf)
        self.driver.executor = self.executor
        self.driver.do_setup(None)
        self.ganesha = fake_ganesha.FakeGanesha()
        self.driver.node_client.agent.svms.ganesha = self.ganesha
        self.driver.node_client.agent.svms.netns = base.mock_netns()
        pass
        self.ctx = context.RequestContext('user', PROJECT, is_admin=False)
        self.volume = self._volume(VOL)

    def _volume(self, vid, size=1, **kwargs):
        return fake_volume.fake_volume_obj(self.ctx, id=vid, size=size,
                                           project_id=PROJECT, **kwargs)

    def _snapshot(self, volume=None, size=1):
        volume = volume or self.volume
        return fake_snapshot.fake_snapshot_obj(
            self.ctx, id=SNAP, volume_id=volume.id, volume=volume,
            volume_size=size, project_id=PROJECT)

    # -- scripting the node --

    def lv(self, name, *rows, times=None):
        target = 'arca/' + name
        if rows:
            self.executor.on(*(LVS + (target,)), stdout=report(*rows),
                             times=times)
        else:
            self.executor.on(*(LVS + (target,)), exit_code=5,
                             stderr='Failed to find logical volume "%s"'
                             % target, times=times)

    def found(self, names, *rows):
        """ThinPool.lookup(*names) finds ``rows``."""
        self.executor.on(*(LVS + ('-S', '||'.join(
            'lv_name="%s"' % n for n in names), 'arca')),
            stdout=report(*rows))

    def lv_appears(self, name, lv_row):
        """Missing at the first look, then there (made by lvcreate)."""
        self.lv(name, lv_row)
        self.lv(name, times=1)

    def mounted_later(self, lv):
        """Not mounted at the first look, then mounted."""
        self.mounted(lv)
        self.executor.on('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET',
                         '--mountpoint', '/var/lib/arca/mnt/' + lv,
                         exit_code=1, times=1)

    def vg(self, *rows):
        self.executor.on(*(LVS + ('arca',)), stdout=report(*rows))

    def svm_exists(self, addresses=('10.0.0.10/24',)):
        self.executor.on('ls', '-1A', '/var/lib/arca/svm',
                         stdout=SVM + '\n')
        self.executor.on('cat', RECORD, stdout=svm_record(addresses))

    def no_svm(self):
        self.executor.on('cat', RECORD, exit_code=1,
                         stderr='cat: No such file or directory')

    def mounted(self, lv):
        self.executor.on('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET',
                         '--mountpoint', '/var/lib/arca/mnt/' + lv,
                         stdout='/dev/mapper/arca-%s /var/lib/arca/mnt/%s\n'
                         % (lv.replace('-', '--'), lv))

    def exported(self, lv=LV, clients=(), eid=1):
        exp = ganesha_config.Export(
            eid, '/var/lib/arca/mnt/' + lv, '/' + lv,
            tuple(ganesha_config.ClientRule(c, 'rw') for c in clients))
        self.ganesha.put(SVM, exp)
        return exp

    def export_of(self, lv=LV):
        """The export the SVM now serves for ``lv``, or None."""
        return self.ganesha.find_export(SVM, '/var/lib/arca/mnt/' + lv)

    def clients_of(self, lv=LV):
        return [c.network for c in self.export_of(lv).clients]

    def file_size(self, path, size):
        self.executor.on('stat', '-c', '%s', path, stdout='%d\n' % size)

    def ran(self, *cmd):
        self.assertIn(tuple(cmd), self.executor.commands)

    def not_ran(self, prefix):
        self.assertFalse([c for c in self.executor.commands
                          if c[:len(prefix)] == tuple(prefix)],
                         'unexpected %r' % (prefix,))


@ddt.ddt
class SetupTestCase(DriverTestCase):

    @ddt.data(('arca_volume_group', 'bad/vg'), ('arca_thin_pool', '_tmeta'),
              ('arca_address_pools', ['mode=vlan,cidr=10.0.0.0/24']),
              ('arca_address_pools', []),
              ('arca_svm_name_prefix', 'X'))
    @ddt.unpack
    def test_do_setup_names_bad_option(self, option, value):
        drv = driver.ArcaNFSDriver(configuration=FakeConf(**{option: value}))
        drv.executor = self.executor
        err = self.assertRaises(exception.InvalidConfigurationValue,
                                drv.do_setup, None)
        self.assertIn(option, str(err))
        self.assertEqual([], self.executor.commands)

    @mock.patch('arca_openstack.wire.connection.make_client')
    def test_do_setup_makes_agent_client(self, make):
        drv = driver.ArcaNFSDriver(configuration=FakeConf())
        drv.do_setup(None)
        self.assertIs(make.return_value, drv.node_client)
        self.assertIsNone(make.call_args[1]['executor'])

    def _link(self, name, kind=None):
        """The node's interfaces: lo and ``name`` (of ``kind``)."""
        info = {'ifname': name, 'ifindex': 3, 'mtu': 1500, 'flags': ['UP']}
        if kind:
            info['linkinfo'] = {'info_kind': kind}
        lo = {'ifname': 'lo', 'ifindex': 1, 'mtu': 65536, 'flags': ['UP']}
        self.executor.on('ip', '-j', '-d', 'link', 'show',
                         stdout=json.dumps([lo, info]))

    def test_check_ok(self):
        self.vg(row('pool', 100, segtype='thin-pool', pool=''))
        self._link('eth1')
        self.driver.check_for_setup_error()
        self.ran('ganesha.nfsd', '-v')
        self.ran('ip', '-j', '-d', 'link', 'show')

    def test_check_pool_missing(self):
        self.vg(row('other', 100, segtype='thin-pool', pool=''))
        err = self.assertRaises(exception.InvalidConfigurationValue,
                                self.driver.check_for_setup_error)
        self.assertIn('arca_thin_pool', str(err))

    def test_check_vg_missing(self):
        self.executor.on(*(LVS + ('arca',)), exit_code=5,
                         stderr='Volume group "arca" not found')
        err = self.assertRaises(exception.InvalidConfigurationValue,
                                self.driver.check_for_setup_error)
        self.assertIn('arca_volume_group', str(err))

    def test_check_unreachable(self):
        self.executor.on('lvs', timeout=True)
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.check_for_setup_error)

    def test_check_tools_missing(self):
        self.vg(row('pool', 100, segtype='thin-pool', pool=''))
        self.executor.on('mkfs.xfs', exit_code=127)
        err = self.assertRaises(exception.VolumeBackendAPIException,
                                self.driver.check_for_setup_error)
        self.assertIn('mkfs.xfs', str(err))

    def test_check_forty_pools_one_command(self):
        # Start-up costs the same whatever the number of pools.
        self.conf.arca_address_pools = [
            'mode=vlan,parent=eth%d,vlan=%d,cidr=10.%d.0.0/24'
            % (i % 3, 100 + i, i) for i in range(40)]
        self.driver.do_setup(None)
        self.vg(row('pool', 100, segtype='thin-pool', pool=''))
        self.executor.on('ip', '-j', '-d', 'link', 'show', stdout=json.dumps(
            [{'ifname': 'eth%d' % i, 'ifindex': i + 2, 'mtu': 1500,
              'flags': ['UP']} for i in range(2)]))
        err = self.assertRaises(exception.InvalidConfigurationValue,
                                self.driver.check_for_setup_error)
        self.assertIn('eth2', str(err))
        self.assertEqual(1, sum(1 for c in self.executor.commands
                                if c[:2] == ('ip', '-j')))

    @ddt.data(None, 'bridge')
    def test_check_parent_missing_or_wrong(self, kind):
        self.vg(row('pool', 100, segtype='thin-pool', pool=''))
        if kind:
            self.conf.arca_address_pools = [
                'mode=veth,bridge=eth1,cidr=10.0.0.0/24']
            self.driver.do_setup(None)
            self._link('eth1', 'vlan')
        else:
            self._link('eth0')
        err = self.assertRaises(exception.InvalidConfigurationValue,
                                self.driver.check_for_setup_error)
        self.assertIn('arca_address_pools', str(err))
        self.assertIn('eth1', str(err))

    def test_driver_options(self):
        names = [o.name for o in driver.ArcaNFSDriver.get_driver_options()]
        for name in ('arca_volume_group', 'arca_thin_pool',
                     'arca_address_pools', 'arca_node_address'):
            self.assertIn(name, names)
        self.assertEqual('backend_defaults', opts.list_opts()[0][0])


@ddt.ddt
class VolumeTestCase(DriverTestCase):

    def test_create_volume(self):
        self.lv(LV, row(LV, 2, TAGS))
        self.svm_exists()
        self.executor.on('blkid', exit_code=2)
        self.ganesha.status.return_value = {'running': True}
        result = self.driver.create_volume(self.volume)
        self.assertEqual({'provider_location': '10.0.0.10:/' + LV}, result)
        self.ran('lvcreate', '-T', 'arca/pool', '-V', '2g', '-n', LV,
                 '--addtag', 'arca.id=' + VOL, '--addtag',
                 'arca.kind=volume', '--addtag', 'arca.project=' + PROJECT,
                 '--addtag', 'arca.svm=' + SVM)
        self.ran('mkfs.xfs', '-q', '-K', '/dev/arca/' + LV)
        self.ran('mount', '-t', 'xfs', '/dev/arca/' + LV, MNT)
        self.ran('truncate', '-s', '>%d' % GiB, FILE)
        self.ran('chmod', '0660', FILE)
        exp = self.export_of()
        self.assertEqual((), exp.clients)
        self.assertEqual('/' + LV, exp.pseudo)
        cmds = self.executor.commands
        self.assertLess(cmds.index(('lvcreate', '-T', 'arca/pool', '-V',
                                    '2g', '-n', LV, '--addtag',
                                    'arca.id=' + VOL, '--addtag',
                                    'arca.kind=volume', '--addtag',
                                    'arca.project=' + PROJECT, '--addtag',
                                    'arca.svm=' + SVM)),
                        cmds.index(('cat', RECORD)))

    def test_create_volume_first_of_project_makes_svm(self):
        self.lv(LV, row(LV, 2, TAGS))
        self.executor.on('ls', '-1A', '/var/lib/arca/svm', stdout='')
        self.no_svm()
        self.executor.on('blkid', exit_code=2)
        svms = self.driver.node_client.agent.svms
        with mock.patch.object(svms, 'create', return_value=None) as create:
            create.side_effect = lambda *a, **k: self.svm_exists(
                ('10.0.0.10/24',))
            self.driver.create_volume(self.volume)
        self.assertEqual(network(), create.call_args[0][1])

    def test_create_volume_ipv6_location(self):
        self.lv(LV, row(LV, 2, TAGS))
        self.svm_exists()
        self.executor.on('cat', RECORD, stdout=json.dumps({
            'name': SVM, 'owner': None, 'network': svm.make_network(
                'veth', ['fd00::10/64'], bridge='br0')._asdict()}))
        self.executor.on('blkid', exit_code=2)
        result = self.driver.create_volume(self.volume)
        self.assertEqual('[fd00::10]:/' + LV, result['provider_location'])

    def test_create_volume_failure_cleans_up(self):
        self.lv(LV, row(LV, 2, TAGS))
        self.svm_exists()
        self.executor.on('blkid', exit_code=2)
        self.executor.on('mkfs.xfs', exit_code=1, stderr='mkfs broke')
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_volume, self.volume)
        self.ran('lvremove', '-f', 'arca/' + LV)

    def test_create_volume_pool_full(self):
        self.lv(LV)
        self.executor.on('lvcreate', exit_code=5,
                         stderr='Insufficient free space: 1 extents')
        err = self.assertRaises(exception.VolumeBackendAPIException,
                                self.driver.create_volume, self.volume)
        self.assertIn('max_over_subscription_ratio', str(err))

    @ddt.data('not-a-uuid', None)
    def test_bad_id_reaches_no_command(self, vid):
        vol = mock.Mock(name_id=vid, id=vid, size=1, project_id=PROJECT)
        self.assertRaises(exception.InvalidInput, self.driver.create_volume,
                          vol)
        self.assertEqual([], self.executor.commands)

    def test_bad_size_reaches_no_command(self):
        self.volume.size = 0
        self.assertRaises(exception.InvalidInput, self.driver.create_volume,
                          self.volume)
        self.assertEqual([], self.executor.commands)

    def test_delete_volume(self):
        self.lv(LV, row(LV, 2, TAGS))
        self.exported()
        self.mounted(LV)
        self.svm_exists()
        self.vg()
        svms = self.driver.node_client.agent.svms
        with mock.patch.object(svms, 'delete', base.FakeSVMDelete()) as delete:
            self.driver.delete_volume(self.volume)
        self.ganesha.withdraw.assert_called_once_with(SVM, MNT)
        self.assertIsNone(self.export_of())
        self.ran('umount', MNT)
        self.ran('lvremove', '-f', 'arca/' + LV)
        self.assertEqual([SVM], delete.removed)

    def test_delete_volume_keeps_svm_in_use(self):
        self.lv(LV, row(LV, 2, TAGS))
        self.svm_exists()
        self.vg(row(LV2, 2, 'arca.svm=' + SVM))
        svms = self.driver.node_client.agent.svms
        with mock.patch.object(svms, 'delete', base.FakeSVMDelete()) as delete:
            self.driver.delete_volume(self.volume)
        self.assertEqual([], delete.removed)

    def test_delete_missing_volume(self):
        self.lv(LV)
        self.no_svm()
        self.driver.delete_volume(self.volume)
        self.not_ran(('lvremove',))

    def test_delete_busy(self):
        self.lv(LV, row(LV, 2, TAGS))
        self.mounted(LV)
        self.executor.on('umount', exit_code=32, stderr='target is busy')
        self.assertRaises(exception.VolumeIsBusy, self.driver.delete_volume,
                          self.volume)
        self.not_ran(('lvremove',))

    def test_extend(self):
        self.lv(LV, row(LV, 2, TAGS))
        self.mounted(LV)
        self.file_size(FILE, GiB)
        self.driver.extend_volume(self.volume, 5)
        self.ran('lvextend', '-L', '6g', 'arca/' + LV)
        self.ran('xfs_growfs', '-d', MNT)
        self.ran('truncate', '-s', '>%d' % (5 * GiB), FILE)

    def test_extend_missing_lv(self):
        self.lv(LV)
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.extend_volume, self.volume, 5)
        self.not_ran(('lvextend',))

    def test_get_pool(self):
        self.assertEqual('pool', self.driver.get_pool(self.volume))


class SnapshotTestCase(DriverTestCase):

    def _snapshot_rows(self):
        self.found((LV, SNAP_LV), row(LV, 2, TAGS))
        self.lv(LV, row(LV, 2, TAGS))
        self.lv(SNAP_LV)
        self.lv(SNAP_LV, row(SNAP_LV, 2, origin=LV))
        self.executor.on(*(LVS + ('arca/' + SNAP_LV,)), exit_code=5,
                         stderr='Failed to find logical volume', times=1)

    def test_create_snapshot_in_use(self):
        self._snapshot_rows()
        self.mounted(LV)
        self.driver.create_snapshot(self._snapshot())
        create = [c for c in self.executor.commands
                  if c[:2] == ('lvcreate', '-s')]
        self.assertEqual([('lvcreate', '-s', '-kn', '-n', SNAP_LV,
                           'arca/' + LV, '--addtag', 'arca.id=' + SNAP,
                           '--addtag', 'arca.kind=snapshot', '--addtag',
                           'arca.size=1', '--addtag', 'arca.volume=' + VOL,
                           '--addtag', 'arca.project=' + PROJECT,
                           '--addtag', 'arca.svm=' + SVM)], create)
        # One look-up (the volume and the snapshot's name), one lvcreate.
        self.assertEqual(['lvs', 'lvcreate'],
                         [c[0] for c in self.executor.commands])
        # dm suspend (lockfs) freezes the mounted XFS itself; a hand
        # freeze would make that suspend fail with EBUSY.
        self.not_ran(('xfs_freeze',))

    def test_create_snapshot_pool_full(self):
        self._snapshot_rows()
        self.executor.on('lvcreate', exit_code=5,
                         stderr='Insufficient free space')
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_snapshot, self._snapshot())

    def test_create_snapshot_of_missing_volume(self):
        self.lv(LV)
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_snapshot, self._snapshot())
        self.not_ran(('lvcreate',))

    def test_delete_snapshot(self):
        self.lv(SNAP_LV, row(SNAP_LV, 2, origin=LV))
        self.driver.delete_snapshot(self._snapshot())
        self.ran('lvremove', '-f', 'arca/' + SNAP_LV)

    def test_delete_missing_snapshot(self):
        self.lv(SNAP_LV)
        self.driver.delete_snapshot(self._snapshot())
        self.not_ran(('lvremove',))

    def _clone_rows(self, origin):
        self.found((origin, LV2), row(origin, 2, TAGS))
        self.lv(origin, row(origin, 2, TAGS))
        self.lv(LV2, row(LV2, 2, TAGS.replace(VOL, VOL2), origin=origin))
        self.svm_exists()
        self.executor.on('xfs_admin', stdout='new UUID = '
                         '0b5c7b47-3bc9-4f8d-8d4a-3c1b5f0ab123\n')
        self.mounted_later(LV2)

    def test_volume_from_snapshot_larger(self):
        self._clone_rows(SNAP_LV)
        self.file_size(FILE2, GiB)
        vol2 = self._volume(VOL2, size=3)
        result = self.driver.create_volume_from_snapshot(
            vol2, self._snapshot())
        self.assertEqual('10.0.0.10:/' + LV2, result['provider_location'])
        cmds = self.executor.commands
        snap = [c for c in cmds if c[:2] == ('lvcreate', '-s')][0]
        self.assertEqual(('lvcreate', '-s', '-kn', '-n', LV2,
                          'arca/' + SNAP_LV), snap[:6])
        order = [cmds.index(snap),
                 cmds.index(('lvextend', '-L', '4g', 'arca/' + LV2)),
                 cmds.index(('xfs_admin', '-U', 'generate',
                             '/dev/arca/' + LV2)),
                 cmds.index(('mount', '-t', 'xfs', '/dev/arca/' + LV2,
                             MNT2)),
                 cmds.index(('xfs_growfs', '-d', MNT2)),
                 cmds.index(('truncate', '-s', '>%d' % (3 * GiB), FILE2))]
        self.assertEqual(sorted(order), order)
        self.not_ran(('xfs_freeze',))

    def test_clone_of_attached_volume(self):
        self._clone_rows(LV)
        self.mounted(LV)
        self.file_size(FILE2, GiB)
        result = self.driver.create_cloned_volume(self._volume(VOL2),
                                                  self.volume)
        self.assertEqual('10.0.0.10:/' + LV2, result['provider_location'])
        snap = [c for c in self.executor.commands
                if c[:2] == ('lvcreate', '-s')]
        self.assertEqual(('lvcreate', '-s', '-kn', '-n', LV2, 'arca/' + LV),
                         snap[0][:6])
        self.ran('xfs_admin', '-U', 'generate', '/dev/arca/' + LV2)
        self.not_ran(('xfs_freeze',))
        self.not_ran(('lvextend',))

    def test_clone_missing_source(self):
        self.lv(LV)
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_cloned_volume,
                          self._volume(VOL2), self.volume)
        self.not_ran(('lvcreate',))

    def test_clone_failure_cleans_up(self):
        self._clone_rows(SNAP_LV)
        self.executor.on('xfs_admin', exit_code=1, stderr='broken')
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_volume_from_snapshot,
                          self._volume(VOL2), self._snapshot())
        self.ran('lvremove', '-f', 'arca/' + LV2)

    def test_revert(self):
        self.lv(LV, row(LV, 2, TAGS))
        self.lv(SNAP_LV, row(SNAP_LV, 2, origin=LV))
        self.lv(LV + '-rvnew')
        self.lv(LV + '-rvold')
        self.exported(clients=['10.9.0.1'])
        self.mounted(LV)
        self.file_size(FILE, GiB)
        self.executor.on('xfs_admin', stdout='new UUID = '
                         '0b5c7b47-3bc9-4f8d-8d4a-3c1b5f0ab123\n')
        with mock.patch.object(self.driver.pool, 'revert') as revert:
            self.driver.revert_to_snapshot(self.ctx, self.volume,
                                           self._snapshot())
        revert.assert_called_once_with(LV, SNAP_LV)
        self.ganesha.withdraw.assert_called_once_with(SVM, MNT)
        cmds = self.executor.commands
        self.assertLess(cmds.index(('umount', MNT)),
                        cmds.index(('xfs_admin', '-U', 'generate',
                                    '/dev/arca/' + LV)))
        self.assertEqual(['10.9.0.1'], self.clients_of())

    def test_revert_missing_snapshot(self):
        self.lv(LV, row(LV, 2, TAGS))
        self.lv(SNAP_LV)
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.revert_to_snapshot, self.ctx,
                          self.volume, self._snapshot())
        self.ganesha.withdraw.assert_not_called()


@ddt.ddt
class ConnectionTestCase(DriverTestCase):

    def setUp(self):
        super().setUp()
        self.lv(LV, row(LV, 2, TAGS))
        self.svm_exists(('10.0.0.10/24', 'fd00::10/64'))
        self.executor.on('cat', RECORD, stdout=json.dumps({
            'name': SVM, 'owner': None, 'network': svm.make_network(
                'veth', ['10.0.0.10/24', 'fd00::10/64'],
                bridge='br0')._asdict()}))
        self.mounted(LV)

    def _clients(self):
        return self.clients_of()

    def test_initialize_connection(self):
        self.exported(clients=['10.9.0.1'])
        info = self.driver.initialize_connection(
            self.volume, {'ip': '10.9.0.2', 'host': 'compute2'})
        self.assertEqual({
            'driver_volume_type': 'nfs',
            'data': {'export': '10.0.0.10:/' + LV, 'name': 'volume.raw',
                     'options': '-o vers=4.2', 'format': 'raw',
                     'access_mode': 'rw'},
            'mount_point_base': '/var/lib/cinder/mnt/arca'}, info)
        self.assertEqual(['10.9.0.1', '10.9.0.2'], self._clients())

    def test_initialize_connection_ipv6(self):
        self.exported()
        info = self.driver.initialize_connection(self.volume,
                                                 {'ip': 'fd00::99'})
        self.assertEqual('[fd00::10]:/' + LV, info['data']['export'])
        self.assertEqual(['fd00::99'], self._clients())

    def test_initialize_connection_again_changes_nothing(self):
        self.exported(clients=['10.9.0.2'])
        self.driver.initialize_connection(self.volume, {'ip': '10.9.0.2'})
        # One change, made under the SVM's lock, to the same clients.
        self.ganesha.serve.assert_called_once()
        self.assertEqual(['10.9.0.2'], self._clients())

    def test_initialize_connection_republishes_lost_export(self):
        self.driver.initialize_connection(self.volume, {'ip': '10.9.0.2'})
        self.ganesha.serve.assert_called_once()
        self.assertEqual(['10.9.0.2'], self._clients())

    @ddt.data(None, {}, {'ip': ''}, {'ip': '10.0.0.0/24'},
              {'ip': 'example.com'}, {'ip': '224.0.0.1'})
    def test_bad_connector(self, connector):
        self.executor.reset()
        self.assertRaises(exception.InvalidConnectorException,
                          self.driver.initialize_connection, self.volume,
                          connector)
        self.assertEqual([], self.executor.commands)
        if connector is not None:
            self.assertRaises(exception.InvalidConnectorException,
                              self.driver.validate_connector, connector)

    def test_terminate_connection(self):
        self.exported(clients=['10.9.0.1', '10.9.0.2'])
        self.driver.terminate_connection(self.volume, {'ip': '10.9.0.2'})
        self.assertEqual(['10.9.0.1'], self._clients())

    def test_terminate_force_removes_all(self):
        self.exported(clients=['10.9.0.1', '10.9.0.2'])
        self.driver.terminate_connection(self.volume, None)
        self.assertEqual([], self._clients())

    def test_terminate_unknown_client_changes_nothing(self):
        self.exported(clients=['10.9.0.1'])
        self.driver.terminate_connection(self.volume, {'ip': '10.9.0.7'})
        self.assertEqual(['10.9.0.1'], self._clients())

    def test_terminate_not_exported(self):
        self.driver.terminate_connection(self.volume, {'ip': '10.9.0.7'})
        self.assertIsNone(self.export_of())

    def test_terminate_missing_lv(self):
        self.lv(LV)
        self.driver.terminate_connection(self.volume, {'ip': '10.9.0.7'})
        self.ganesha.serve.assert_not_called()

    def test_terminate_multiattach_same_host_keeps(self):
        self.exported(clients=['10.9.0.2'])
        att = [objects.VolumeAttachment(attach_status='attached',
                                        connector={'ip': '10.9.0.2'},
                                        attached_host='c2')
               for _i in range(2)]
        vol = self._volume(VOL, multiattach=True)
        vol.volume_attachment = objects.VolumeAttachmentList(objects=att)
        self.driver.terminate_connection(vol, {'ip': '10.9.0.2',
                                               'host': 'c2'})
        self.ganesha.serve.assert_not_called()

    def test_ensure_export_rebuilds_and_restores_clients(self):
        self.ganesha.status.return_value = {'running': False}
        att = objects.VolumeAttachment(attach_status='attached',
                                       connector={'ip': '10.9.0.5'})
        self.volume.volume_attachment = objects.VolumeAttachmentList(
            objects=[att])
        svms = self.driver.node_client.agent.svms
        with mock.patch.object(svms, 'ensure', return_value=None) as ensure:
            self.driver.ensure_export(self.ctx, self.volume)
        ensure.assert_called_once_with(SVM, prepare_exports=mock.ANY)
        self.assertEqual(['10.9.0.5'], self._clients())

    def test_ensure_export_running_keeps_clients(self):
        self.exported(clients=['10.9.0.1'])
        svms = self.driver.node_client.agent.svms
        with mock.patch.object(svms, 'ensure', return_value=None) as ensure:
            self.driver.ensure_export(self.ctx, self.volume)
            self.driver.ensure_export(self.ctx, self.volume)
        ensure.assert_not_called()
        self.assertEqual(['10.9.0.1'], self._clients())

    def test_create_export_mounts_exports_after_restart(self):
        self.ganesha.status.return_value = {'running': False}
        svms = self.driver.node_client.agent.svms
        with mock.patch.object(svms, 'ensure', return_value=None) as ensure:
            self.driver.create_export(self.ctx, self.volume, {})
        ensure.assert_called_once()
        prepare = ensure.call_args[1]['prepare_exports']
        self.executor.reset()
        prepare([ganesha_config.Export(1, MNT, '/' + LV)])
        self.assertIn(('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET',
                       '--mountpoint', MNT), self.executor.commands)

    def test_remove_export_keeps_export(self):
        self.executor.reset()
        self.driver.remove_export(self.ctx, self.volume)
        self.assertEqual([], self.executor.commands)


class ImageTestCase(DriverTestCase):

    @mock.patch('cinder.volume.driver.BaseVD.copy_image_to_volume')
    def test_copy_image_to_volume_sets_final_size(self, base_copy):
        self.lv(LV, row(LV, 11, TAGS))
        self.mounted(LV)
        self.file_size(FILE, GiB // 2)
        vol = self._volume(VOL, size=10)
        self.driver.copy_image_to_volume(self.ctx, vol, 'svc', 'img')
        base_copy.assert_called_once_with(self.ctx, vol, 'svc', 'img',
                                          disable_sparse=False)
        self.ran('truncate', '-s', '>%d' % (10 * GiB), FILE)

    @mock.patch('cinder.volume.driver.BaseVD._detach_volume')
    def test_detach_unmounts_cinder_mount(self, base_detach):
        conn = {'driver_volume_type': 'nfs',
                'data': {'export': '10.0.0.10:/' + LV},
                'mount_point_base': '/var/lib/cinder/mnt/arca'}
        self.driver._execute = mock.Mock()
        self.driver._detach_volume(self.ctx, {'conn': conn}, self.volume,
                                   {})
        import hashlib
        digest = hashlib.md5(('10.0.0.10:/' + LV).encode()).hexdigest()
        args = self.driver._execute.call_args
        self.assertEqual(('umount', '/var/lib/cinder/mnt/arca/' + digest),
                         args[0])
        self.assertTrue(args[1]['run_as_root'])
        base_detach.assert_called_once()

    @mock.patch('cinder.volume.driver.BaseVD._detach_volume')
    def test_detach_unmount_failure_is_not_fatal(self, base_detach):
        conn = {'driver_volume_type': 'nfs',
                'data': {'export': '10.0.0.10:/' + LV}}
        self.driver._execute = mock.Mock(side_effect=OSError('not mounted'))
        self.driver._detach_volume(self.ctx, {'conn': conn}, self.volume,
                                   {})
        base_detach.assert_called_once()


@ddt.ddt
class StatsTestCase(DriverTestCase):

    def test_stats(self):
        self.vg(row('pool', 100, segtype='thin-pool', pool='', data='25.00'),
                row(LV, 11, TAGS), row(LV2, 21))
        stats = self.driver.get_volume_stats(refresh=True)
        self.assertEqual('nfs', stats['storage_protocol'].lower())
        self.assertEqual('arca', stats['volume_backend_name'])
        pool = stats['pools'][0]
        self.assertEqual('pool', pool['pool_name'])
        self.assertEqual(100, pool['total_capacity_gb'])
        self.assertEqual(75, pool['free_capacity_gb'])
        self.assertEqual(32, pool['provisioned_capacity_gb'])
        self.assertEqual(20.0, pool['max_over_subscription_ratio'])
        self.assertEqual(5, pool['reserved_percentage'])
        for key in ('thin_provisioning_support', 'online_extend_support',
                    'multiattach'):
            self.assertTrue(pool[key], key)
        self.assertFalse(pool['thick_provisioning_support'])

    def test_stats_unmirrored(self):
        self.vg(row('pool', 100, segtype='thin-pool', pool='', data='25.00'))
        pool, = self.driver.get_volume_stats(refresh=True)['pools']
        self.assertIs(False, pool['arca_mirrored'])
        self.assertEqual('none', pool['arca_mirror_state'])
        # One request; with no cluster.conf, one cat more (answered in the
        # agent's process) and no DRBD command.
        self.assertEqual(['lvs', 'cat'],
                         [cmd[0] for cmd in self.executor.commands])

    @ddt.data(('Connected', 'UpToDate', '', 'in-sync'),
              ('SyncSource', 'Inconsistent', '12.5', 'syncing'),
              ('PausedSyncS', 'Inconsistent', '12.5', 'syncing'),
              ('WFConnection', 'DUnknown', '', 'degraded'),
              ('StandAlone', 'DUnknown', '', 'degraded'),
              ('Connected', 'Outdated', '', 'degraded'))
    @ddt.unpack
    def test_stats_mirrored(self, cstate, pdsk, percent, state):
        self.vg(row('pool', 100, segtype='thin-pool', pool='', data='25.00'))
        self.executor.on('cat', '/etc/arca/cluster.conf',
                         stdout=test_agent.MIRRORED_CONF)
        self.executor.on('drbdsetup', 'sh-status', 'arca',
                         stdout=test_drbd.sh_status(
                             cstate, 'Primary', 'Secondary', 'UpToDate',
                             pdsk, percent=percent, minor=1, name='arca'))
        pool, = self.driver.get_volume_stats(refresh=True)['pools']
        self.assertIs(True, pool['arca_mirrored'])
        self.assertEqual(state, pool['arca_mirror_state'])
        self.assertEqual(75, pool['free_capacity_gb'])

    @ddt.data({'stdout': test_agent.MIRRORED_CONF.replace('minor = 1',
                                                          'minor = one')},
              {'stdout': ''},
              {'exit_code': 1, 'stderr': 'cat: /etc/arca/cluster.conf: '
                                         'Permission denied\n'},
              {'exit_code': 1, 'stderr': 'cat: /etc/arca/cluster.conf: '
                                         'Is a directory\n'})
    def test_stats_cluster_conf_bad(self, answer):
        self.vg(row('pool', 100, segtype='thin-pool', pool='', data='25.00'))
        self.executor.on('cat', '/etc/arca/cluster.conf', **answer)
        with self.assertLogs('arca_openstack.backend', 'ERROR') as logs:
            pool, = self.driver.get_volume_stats(refresh=True)['pools']
        # Still reported; not claimed mirrored, the cause in the log.
        self.assertEqual(100, pool['total_capacity_gb'])
        self.assertIs(False, pool['arca_mirrored'])
        self.assertEqual('unknown', pool['arca_mirror_state'])
        self.assertIn('Cannot tell whether thin pool arca/pool is '
                      'mirrored', logs.output[0])
        self.assertIn('/etc/arca/cluster.conf', logs.output[0])

    def test_stats_error(self):
        self.executor.on('lvs', exit_code=5, stderr='Volume group "arca" '
                         'not found')
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.get_volume_stats, True)


@ddt.ddt
class ManageTestCase(DriverTestCase):

    OLD = 'legacy-disk'

    def test_get_size(self):
        self.lv(self.OLD, row(self.OLD, 4, 'arca.kind=volume'))
        self.executor.on('stat', stdout='%d\n' % (2 * GiB + 1))
        size = self.driver.manage_existing_get_size(
            self.volume, {'source-name': self.OLD})
        self.assertEqual(3, size)
        self.ran('mount', '-t', 'xfs', '/dev/arca/' + self.OLD,
                 '/var/lib/arca/mnt/' + self.OLD)
        self.ran('stat', '-c', '%s',
                 '/var/lib/arca/mnt/%s/volume.raw' % self.OLD)

    @ddt.data({}, {'source-name': '../x'}, {'source-id': 'nope'},
              {'source-name': 'missing'})
    def test_bad_reference(self, ref):
        self.lv('missing')
        self.assertRaises(exception.ManageExistingInvalidReference,
                          self.driver.manage_existing_get_size, self.volume,
                          ref)

    @ddt.data(('arca.kind=share', ''), ('', 'pool'))
    @ddt.unpack
    def test_refuses_foreign_lv(self, tags, segtype):
        self.lv(self.OLD, row(self.OLD, 4, tags, segtype=segtype or 'thin',
                              pool='pool' if not segtype else ''))
        self.assertRaises(exception.ManageExistingInvalidReference,
                          self.driver.manage_existing, self.volume,
                          {'source-name': self.OLD})

    def test_refuses_lv_without_image_file(self):
        self.lv(self.OLD, row(self.OLD, 4))
        self.executor.on('stat', exit_code=1, stderr='No such file')
        self.assertRaises(exception.ManageExistingInvalidReference,
                          self.driver.manage_existing_get_size, self.volume,
                          {'source-name': self.OLD})

    def test_manage_existing(self):
        self.found((self.OLD, LV),
                   row(self.OLD, 4, 'arca.kind=volume,arca.id=x'))
        self.lv(self.OLD, row(self.OLD, 4, 'arca.kind=volume,arca.id=x'))
        self.lv(LV, row(LV, 4, 'arca.kind=volume,arca.id=x'))
        self.executor.on('stat', stdout='%d\n' % (3 * GiB))
        self.mounted_later(LV)
        self.svm_exists()
        result = self.driver.manage_existing(self.volume,
                                             {'source-name': self.OLD})
        self.assertEqual({'provider_location': '10.0.0.10:/' + LV}, result)
        self.ran('lvrename', 'arca', self.OLD, LV)
        self.ran('lvchange', '--deltag', 'arca.id=x', 'arca/' + LV)
        self.ran('lvchange', '--addtag', 'arca.svm=' + SVM, 'arca/' + LV)
        self.assertIsNotNone(self.export_of())

    def test_unmanage(self):
        self.lv(LV, row(LV, 2, TAGS))
        self.mounted(LV)
        self.exported()
        self.svm_exists()
        self.vg()
        svms = self.driver.node_client.agent.svms
        with mock.patch.object(svms, 'delete', base.FakeSVMDelete()) as delete:
            self.driver.unmanage(self.volume)
        self.ran('umount', MNT)
        self.ran('lvchange', '--deltag', 'arca.svm=' + SVM, 'arca/' + LV)
        self.not_ran(('lvremove',))
        self.assertEqual([SVM], delete.removed)

    def test_manageable_volumes(self):
        self.vg(row('pool', 100, segtype='thin-pool', pool=''),
                row(LV, 2, TAGS), row(self.OLD, 5, 'arca.kind=volume'),
                row(SNAP_LV, 2, 'arca.kind=snapshot', origin=LV),
                row(LV2 + '-rvnew', 2, 'arca.kind=volume'),
                row('plain', 3))
        result = self.driver.get_manageable_volumes(
            [self.volume], None, 10, 0, ['size'], ['asc'])
        by_name = {r['reference']['source-name']: r for r in result}
        self.assertEqual({LV, self.OLD, LV2 + '-rvnew', 'plain'},
                         set(by_name))
        self.assertFalse(by_name[LV]['safe_to_manage'])
        self.assertEqual(VOL, by_name[LV]['cinder_id'])
        self.assertTrue(by_name[self.OLD]['safe_to_manage'])
        self.assertEqual(4, by_name[self.OLD]['size'])
        self.assertFalse(by_name[LV2 + '-rvnew']['safe_to_manage'])

    def test_manageable_snapshots(self):
        self.vg(row(LV, 2, TAGS),
                row(SNAP_LV, 2, 'arca.kind=snapshot,arca.size=1,'
                    'arca.volume=' + VOL, origin=LV))
        result = self.driver.get_manageable_snapshots(
            [], None, 10, 0, ['size'], ['asc'])
        self.assertEqual(1, len(result))
        self.assertEqual({'source-name': LV},
                         result[0]['source_reference'])
        self.assertEqual(1, result[0]['size'])
        self.assertTrue(result[0]['safe_to_manage'])

    def test_manage_snapshot(self):
        old = 'old-snap'
        self.lv(old, row(old, 2, 'arca.kind=snapshot,arca.size=1',
                         origin=LV))
        self.lv(SNAP_LV, row(SNAP_LV, 2, 'arca.kind=snapshot,arca.size=1',
                             origin=LV))
        self.found((old, SNAP_LV), row(old, 2, 'arca.kind=snapshot,'
                                       'arca.size=1', origin=LV))
        snap = self._snapshot()
        self.assertEqual(1, self.driver.manage_existing_snapshot_get_size(
            snap, {'source-name': old}))
        self.driver.manage_existing_snapshot(snap, {'source-name': old})
        self.ran('lvrename', 'arca', old, SNAP_LV)
        self.ran('lvchange', '--addtag', 'arca.volume=' + VOL,
                 'arca/' + SNAP_LV)

    def test_manage_snapshot_of_other_volume(self):
        self.lv('s', row('s', 2, 'arca.kind=snapshot,arca.volume=' + VOL2,
                         origin=LV2))
        self.assertRaises(exception.ManageExistingInvalidReference,
                          self.driver.manage_existing_snapshot,
                          self._snapshot(), {'source-name': 's'})

    def test_unmanage_snapshot_touches_nothing(self):
        self.driver.unmanage_snapshot(self._snapshot())
        self.assertEqual([], self.executor.commands)


@ddt.ddt
class ErrorMappingTestCase(DriverTestCase):

    @ddt.data(
        (arca_exception.InvalidInput(what='x', value=1, reason='bad'),
         exception.InvalidInput),
        (arca_exception.NodeUnreachable(host='n', reason='down'),
         exception.VolumeBackendAPIException),
        (arca_exception.CapacityExceeded(where='p', reason='full'),
         exception.VolumeBackendAPIException),
        (arca_exception.Conflict(what='a', name='b', reason='c'),
         exception.VolumeBackendAPIException),
        (arca_exception.InUse(what='a', name='b', reason='c'),
         exception.VolumeBackendAPIException))
    @ddt.unpack
    def test_mapping(self, error, expected):
        def fail():
            with self.driver._node('Doing it'):
                raise error
        err = self.assertRaises(expected, fail)
        self.assertIn('Doing it', str(err))

    def test_in_use_with_name_is_busy(self):
        def fail():
            with self.driver._node('Deleting', busy_name='v'):
                raise arca_exception.InUse(what='a', name='b', reason='c')
        self.assertRaises(exception.VolumeIsBusy, fail)
