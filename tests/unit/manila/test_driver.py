"""Unit tests of the Manila driver: set-up, shares, access, snapshots."""

import json
from unittest import mock

import ddt
from manila.common import constants
from manila import exception
from manila.share import configuration
from manila.share import driver as manila_driver
from oslo_config import fixture as config_fixture

from arca_openstack.manila import driver
from arca_openstack.manila import opts
from arca_openstack.node import ganesha
from arca_openstack.node import ganesha_config
from tests.unit.manila import fakes
from tests.unit.manila.fakes import DEV
from tests.unit.manila.fakes import GiB
from tests.unit.manila.fakes import LV
from tests.unit.manila.fakes import MNT
from tests.unit.manila.fakes import NEW_UUID
from tests.unit.manila.fakes import PROJECT
from tests.unit.manila.fakes import row
from tests.unit.manila.fakes import SHARE
from tests.unit.manila.fakes import SNAP
from tests.unit.manila.fakes import SNAP_LV
from tests.unit.manila.fakes import SNAP_MNT
from tests.unit.manila.fakes import SNAP_TAGS
from tests.unit.manila.fakes import SVM
from tests.unit.manila.fakes import TAGS

LVCREATE = ('lvcreate', '-T', 'arca/pool', '-V', '3g', '-n', LV,
            '--addtag', 'arca.id=' + SHARE, '--addtag', 'arca.kind=share',
            '--addtag', 'arca.project=' + PROJECT, '--addtag',
            'arca.svm=' + SVM)
PROJECT_CMD = ('xfs_quota', '-x', '-c', 'project -s -p %s 1' % MNT, MNT)


def location(host='10.0.0.10', lv=LV):
    return {'path': '%s:/%s' % (host, lv), 'is_admin_only': False,
            'metadata': {'preferred': True}}


@ddt.ddt
class SetupTestCase(fakes.DriverTestCase):

    @ddt.data(('arca_volume_group', 'bad/vg'), ('arca_thin_pool', '_tmeta'),
              ('arca_address_pools', ['mode=vlan,cidr=10.0.0.0/24']),
              ('arca_address_pools', []),
              ('arca_svm_name_prefix', 'X'),
              ('arca_shared_svm_name', 'Bad-Name'))
    @ddt.unpack
    def test_do_setup_names_bad_option(self, option, value):
        drv = driver.ArcaShareDriver(
            configuration=fakes.FakeConf(**{option: value}))
        drv.executor = self.executor
        err = self.assertRaises(exception.BadConfigurationException,
                                drv.do_setup, None)
        self.assertIn(option, str(err))
        self.assertEqual([], self.executor.commands)

    @ddt.data(({'arca_share_server_parent_interface': None},
               'arca_share_server_parent_interface'),
              ({'arca_share_server_parent_interface': 'bad name'},
               'arca_share_server_parent_interface'),
              ({'arca_share_server_network_mode': 'veth'},
               'arca_share_server_bridge'),
              ({'arca_share_server_network_mode': 'vxlan'},
               'arca_share_server_network_mode'),
              ({'arca_svm_name_prefix': 'much_too_long'},
               'arca_svm_name_prefix'))
    @ddt.unpack
    def test_do_setup_dhss_names_bad_option(self, values, option):
        drv = driver.ArcaShareDriver(
            configuration=fakes.FakeConf(dhss=True, **values))
        drv.executor = self.executor
        err = self.assertRaises(exception.BadConfigurationException,
                                drv.do_setup, None)
        self.assertIn(option, str(err))

    def test_do_setup_dhss_needs_no_pools(self):
        drv = self.make_driver(fakes.FakeConf(dhss=True,
                                              arca_address_pools=[]))
        self.assertIsNone(drv.svm_pools)

    @mock.patch('arca_openstack.wire.connection.make_client')
    def test_do_setup_makes_agent_client(self, make):
        driver.CONF.set_override('rootwrap_config', '/etc/manila/rw.conf')
        self.addCleanup(driver.CONF.clear_override, 'rootwrap_config')
        drv = driver.ArcaShareDriver(configuration=fakes.FakeConf())
        drv.do_setup(None)
        self.assertIs(make.return_value, drv.node_client)
        make.assert_called_once_with(
            drv.configuration, 'sudo manila-rootwrap /etc/manila/rw.conf',
            executor=None)

    def _link(self, name, kind=None):
        """The node's interfaces: lo and ``name`` (of ``kind``)."""
        info = {'ifname': name, 'ifindex': 3, 'mtu': 1500, 'flags': ['UP']}
        if kind:
            info['linkinfo'] = {'info_kind': kind}
        lo = {'ifname': 'lo', 'ifindex': 1, 'mtu': 65536, 'flags': ['UP']}
        self.executor.on('ip', '-j', '-d', 'link', 'show',
                         stdout=json.dumps([lo, info]))

    def _no_link(self, name):
        self._link('eth0')

    def test_check_ok(self):
        self.vg(row('pool', 100, segtype='thin-pool', pool=''))
        self._link('eth1')
        self.driver.check_for_setup_error()
        self.ran('ganesha.nfsd', '-v')
        self.ran('ip', '-j', '-d', 'link', 'show')

    def test_check_pool_missing(self):
        self.vg(row('other', 100, segtype='thin-pool', pool=''))
        err = self.assertRaises(exception.BadConfigurationException,
                                self.driver.check_for_setup_error)
        self.assertIn('arca_thin_pool', str(err))

    def test_check_vg_missing(self):
        self.executor.on(*(fakes.LVS + ('arca',)), exit_code=5,
                         stderr='Volume group "arca" not found')
        err = self.assertRaises(exception.BadConfigurationException,
                                self.driver.check_for_setup_error)
        self.assertIn('arca_volume_group', str(err))

    def test_check_unreachable(self):
        self.executor.on('lvs', timeout=True)
        self.assertRaises(exception.ShareBackendException,
                          self.driver.check_for_setup_error)

    def test_check_tools_missing(self):
        self.vg(row('pool', 100, segtype='thin-pool', pool=''))
        self.executor.on('mkfs.xfs', exit_code=127)
        err = self.assertRaises(exception.ShareBackendException,
                                self.driver.check_for_setup_error)
        self.assertIn('mkfs.xfs', str(err))

    def test_check_pool_parent_missing(self):
        self.vg(row('pool', 100, segtype='thin-pool', pool=''))
        self._no_link('eth1')
        err = self.assertRaises(exception.BadConfigurationException,
                                self.driver.check_for_setup_error)
        self.assertIn('arca_address_pools', str(err))
        self.assertIn('eth1', str(err))

    def test_check_shared_svm_without_pools_or_record(self):
        drv = self.make_driver(fakes.FakeConf(arca_svm_mapping='shared',
                                              arca_address_pools=[]))
        self.vg(row('pool', 100, segtype='thin-pool', pool=''))
        self.executor.on('cat', '/var/lib/arca/svm/arca_shared/svm.json',
                         exit_code=1, stderr='No such file or directory')
        err = self.assertRaises(exception.BadConfigurationException,
                                drv.check_for_setup_error)
        self.assertIn('arca_shared_svm_name', str(err))

    def test_check_shared_svm_recorded(self):
        drv = self.make_driver(fakes.FakeConf(arca_svm_mapping='shared',
                                              arca_address_pools=[]))
        self.vg(row('pool', 100, segtype='thin-pool', pool=''))
        self.svm_exists('arca_shared')
        drv.check_for_setup_error()

    @ddt.data(('vlan', 'eth1', None, 'arca_share_server_parent_interface'),
              ('veth', 'br0', None, 'arca_share_server_bridge'),
              ('veth', 'br0', 'vlan', 'arca_share_server_bridge'))
    @ddt.unpack
    def test_check_dhss_lower_interface(self, mode, name, kind, option):
        drv = self.make_driver(fakes.FakeConf(
            dhss=True, arca_share_server_network_mode=mode,
            arca_share_server_bridge='br0'))
        self.vg(row('pool', 100, segtype='thin-pool', pool=''))
        if kind:
            self._link(name, kind)
        else:
            self._no_link(name)
        err = self.assertRaises(exception.BadConfigurationException,
                                drv.check_for_setup_error)
        self.assertIn(option, str(err))
        self.assertIn(name, str(err))

    def test_check_dhss_bridge_ok(self):
        drv = self.make_driver(fakes.FakeConf(
            dhss=True, arca_share_server_network_mode='veth',
            arca_share_server_bridge='br0'))
        self.vg(row('pool', 100, segtype='thin-pool', pool=''))
        self._link('br0', 'bridge')
        drv.check_for_setup_error()

    def test_real_manila_configuration(self):
        # Manila's own CONF (see tests/unit/manila/__init__.py).
        fixture = self.useFixture(config_fixture.Config(configuration.CONF))
        conf = configuration.Configuration(manila_driver.share_opts,
                                           config_group='arca_real')
        conf.append_config_values(opts.all_opts())
        fixture.config(group='arca_real', driver_handles_share_servers=False,
                       arca_address_pools=[fakes.POOL],
                       arca_thin_pool='tp1')
        drv = driver.ArcaShareDriver(configuration=conf)
        drv.executor = self.executor
        drv.do_setup(None)
        self.assertEqual('tp1', drv.pool.pool)
        self.assertEqual('manila_', conf.arca_svm_name_prefix)
        self.assertEqual('vlan', conf.arca_share_server_network_mode)
        self.assertFalse(drv.driver_handles_share_servers)

    def test_list_opts(self):
        (group, options), = opts.list_opts()
        self.assertEqual('arca_manila_backend', group)
        names = [o.name for o in options]
        self.assertEqual(len(names), len(set(names)))
        for name in ('arca_volume_group', 'arca_thin_pool',
                     'arca_fs_headroom_gib', 'arca_fs_headroom_percent',
                     'arca_share_server_network_mode',
                     'arca_share_server_parent_interface',
                     'arca_share_server_bridge', 'arca_svm_mapping',
                     'arca_svm_name_prefix', 'arca_shared_svm_name',
                     'arca_svm_delete_unused', 'arca_address_pools',
                     'arca_node_address', 'arca_ssh_user'):
            self.assertIn(name, names)
        for option in options:
            self.assertTrue(option.help, option.name)


@ddt.ddt
class ShareTestCase(fakes.DriverTestCase):

    def _creatable(self, addresses=('10.0.0.10/24',),
                   gateways=('10.0.0.1',)):
        # lvcreate needs no look first.
        self.lv(LV, row(LV, 3, TAGS))
        self.svm_exists(addresses=addresses, gateways=gateways)
        self.executor.on('blkid', exit_code=2)
        self.mounted_later(LV)

    def test_create_share(self):
        self._creatable()
        result = self.driver.create_share(None, self.share)
        self.assertEqual([location()], result)
        self.ran(*LVCREATE)
        self.ran('mkfs.xfs', '-q', '-K', DEV)
        self.ran('mount', '-t', 'xfs', '-o', 'prjquota', DEV, MNT)
        self.ran(*PROJECT_CMD)
        self.ran(*self.limit_cmd(1))
        svm, exp = self.ganesha.added[-1]
        self.assertEqual(SVM, svm)
        self.assertEqual((), exp.clients)
        self.assertEqual('/' + LV, exp.pseudo)
        self.assertEqual(MNT, exp.path)
        self.assertFalse(exp.read_only)
        # The LV (with its svm tag) exists before the SVM is looked at,
        # and the limit is set before anyone can mount the export.
        self.assertLess(self.index(*LVCREATE),
                        self.index('cat', '/var/lib/arca/svm/%s/svm.json'
                                   % SVM))
        self.assertLess(self.index(*self.limit_cmd(1)),
                        len(self.executor.commands))
        self.not_ran('lvremove')

    def test_create_share_requests(self):
        # The LV made, the SVM ensured (the LV's svm tag keeps it), the
        # rest in one request that looks the LV up once, the locations.
        self._creatable()
        requests = []
        call = self.driver.node_client.call

        def request(op, *args, **kwargs):
            requests.append(op)
            return call(op, *args, **kwargs)
        self.driver.node_client.call = request
        self.driver.create_share(None, self.share)
        self.assertEqual(['pool.create', 'svm_pools.ensure',
                          'exports.format_and_publish', 'svms.get'],
                         requests)
        self.assertEqual(1, sum(1 for cmd in self.executor.commands
                                if cmd[0] == 'lvs'))

    @ddt.data((1, '3g'), (10, '12g'), (100, '103g'), (1000, '1021g'))
    @ddt.unpack
    def test_create_share_lv_headroom(self, size, lv_size):
        self._creatable()
        self.driver.create_share(None, fakes.share(size=size))
        self.ran(*(('lvcreate', '-T', 'arca/pool', '-V', lv_size) +
                   LVCREATE[5:]))
        self.ran(*self.limit_cmd(size))

    @ddt.data((('fd00::10/64',), ['[fd00::10]']),
              (('10.0.0.10/24', 'fd00::10/64'), ['10.0.0.10', '[fd00::10]']))
    @ddt.unpack
    def test_create_share_locations(self, addresses, hosts):
        self._creatable(addresses, gateways=())
        result = self.driver.create_share(None, self.share)
        self.assertEqual([location(h) for h in hosts], result)

    def test_create_share_first_of_project_makes_svm(self):
        self.lv(LV, row(LV, 3, TAGS))
        self.executor.on('ls', '-1A', '/var/lib/arca/svm', stdout='')
        self.no_svm()
        self.executor.on('blkid', exit_code=2)
        self.mounted_later(LV)
        svms = self.driver.node_client.agent.svms
        with mock.patch.object(svms, 'create', return_value=None) as create:
            create.side_effect = lambda *a, **k: self.svm_exists()
            self.driver.create_share(None, self.share)
        self.assertEqual(SVM, create.call_args[0][0])
        self.assertEqual(('10.0.0.10/24',),
                         create.call_args[0][1].addresses)

    @ddt.data('CIFS', 'cephfs')
    def test_create_share_other_protocol(self, proto):
        self.assertRaises(exception.InvalidShare, self.driver.create_share,
                          None, fakes.share(proto=proto))
        self.assertEqual([], self.executor.commands)

    def test_create_share_failure_cleans_up(self):
        self._creatable()
        self.executor.on('mkfs.xfs', exit_code=1, stderr='mkfs failed')
        self.assertRaises(exception.ShareBackendException,
                          self.driver.create_share, None, self.share)
        self.ran('lvremove', '-f', 'arca/' + LV)

    def test_create_share_pool_full(self):
        self.lv(LV)
        self.executor.on('lvcreate', exit_code=5,
                         stderr='Insufficient free space: 10 extents')
        err = self.assertRaises(exception.ShareBackendException,
                                self.driver.create_share, None, self.share)
        self.assertIn('Grow the thin pool', str(err))

    def test_create_share_dhss_needs_server(self):
        drv = self.make_driver(fakes.FakeConf(dhss=True))
        self.assertRaises(exception.InvalidShareServer, drv.create_share,
                          None, self.share, share_server=None)

    def test_delete_share(self):
        self.lv(LV, row(LV, 3, TAGS))
        self.exported()
        self.mounted(LV)
        self.vg()
        self.svm_exists()
        self.driver.delete_share(None, self.share)
        self.assertEqual([(SVM, 1)], self.ganesha.removed)
        self.ran('umount', MNT)
        self.ran('lvremove', '-f', 'arca/' + LV)
        self.assertLess(self.index('umount', MNT),
                        self.index('lvremove', '-f', 'arca/' + LV))
        # The project's last share: its SVM goes.
        self.ganesha.stop.assert_called_once_with(SVM)

    def test_delete_share_keeps_svm_in_use(self):
        self.lv(LV, row(LV, 3, TAGS))
        self.vg(row(fakes.LV2, 3, TAGS))
        self.svm_exists()
        self.driver.delete_share(None, self.share)
        self.ran('lvremove', '-f', 'arca/' + LV)
        self.ganesha.stop.assert_not_called()

    def test_delete_share_missing(self):
        self.lv(LV)
        self.vg()
        self.no_svm()
        self.driver.delete_share(None, self.share)
        self.not_ran('lvremove')

    def test_delete_share_busy(self):
        self.lv(LV, row(LV, 3, TAGS))
        self.mounted(LV)
        self.executor.on('umount', exit_code=32,
                         stderr='umount: target is busy.')
        self.assertRaises(exception.ShareBusyException,
                          self.driver.delete_share, None, self.share)
        self.not_ran('lvremove')

    def test_extend_share(self):
        self.lv(LV, row(LV, 3, TAGS))
        self.mounted(LV)
        self.driver.extend_share(self.share, 10)
        self.assertEqual(
            [('lvextend', '-L', '12g', 'arca/' + LV),
             ('xfs_growfs', '-d', MNT), self.limit_cmd(10)],
            [c for c in self.executor.commands
             if c[0] in ('lvextend', 'xfs_growfs', 'xfs_quota')])

    def test_extend_share_missing_lv(self):
        self.lv(LV)
        self.assertRaises(exception.ShareBackendException,
                          self.driver.extend_share, self.share, 10)
        self.not_ran('lvextend')

    @ddt.data(0, GiB, 2 * GiB)
    def test_shrink_share_fits(self, used):
        self.lv(LV, row(LV, 12, TAGS))
        self.mounted(LV)
        self.used(used)
        self.driver.shrink_share(fakes.share(size=10), 2)
        self.ran(*self.limit_cmd(2))
        self.not_ran('lvreduce')
        self.not_ran('lvextend')

    def test_shrink_share_data_loss(self):
        self.lv(LV, row(LV, 12, TAGS))
        self.mounted(LV)
        self.used(2 * GiB + 4096)
        self.assertRaises(exception.ShareShrinkingPossibleDataLoss,
                          self.driver.shrink_share, fakes.share(size=10), 2)
        self.not_ran('xfs_quota', '-x', '-c', 'limit -p bhard=%d 1'
                     % (2 * GiB))
        self.not_ran('lvreduce')

    def test_shrink_share_quota_error(self):
        self.lv(LV, row(LV, 12, TAGS))
        self.mounted(LV)
        self.executor.on('xfs_quota', stderr='xfs_quota: cannot find mount')
        self.assertRaises(exception.ShareBackendException,
                          self.driver.shrink_share, fakes.share(size=10), 2)

    def test_get_pool(self):
        self.assertEqual('pool', self.driver.get_pool(self.share))

    def test_network_allocations_without_servers(self):
        self.assertEqual(0, self.driver.get_network_allocations_number())


@ddt.ddt
class AccessTestCase(fakes.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.lv(LV, row(LV, 3, TAGS))
        self.mounted(LV)
        self.current = self.exported(clients=[('10.9.9.9', 'rw')])

    def _applied(self):
        self.assertEqual([], self.ganesha.added)
        self.assertEqual(1, len(self.ganesha.updated))
        svm, exp = self.ganesha.updated[-1]
        self.assertEqual(SVM, svm)
        return [(c.network, c.access) for c in exp.clients]

    @ddt.data(True, False)
    def test_whole_list_applied_in_both_modes(self, delta):
        rules = [fakes.rule('a1', '10.0.0.0/24', 'ro'),
                 fakes.rule('a2', '10.0.0.7', 'rw'),
                 fakes.rule('a3', 'fd00::/64', 'rw'),
                 fakes.rule('a4', '2001:db8::5', 'ro')]
        add = rules[1:2] if delta else []
        delete = [fakes.rule('a9', '10.9.9.9')] if delta else []
        result = self.driver.update_access(None, self.share, rules, add,
                                           delete, [])
        self.assertEqual({}, result)
        # Most specific first: Ganesha applies the first match.
        self.assertEqual([('10.0.0.7', 'rw'), ('2001:db8::5', 'ro'),
                          ('10.0.0.0/24', 'ro'), ('fd00::/64', 'rw')],
                         self._applied())

    def test_recovery_mode_removes_unknown_clients(self):
        self.driver.update_access(None, self.share,
                                  [fakes.rule('a1', '10.0.0.5')], [], [],
                                  [])
        self.assertEqual([('10.0.0.5', 'rw')], self._applied())

    def test_deny_last_rule_closes_export(self):
        result = self.driver.update_access(
            None, self.share, [], [], [fakes.rule('a9', '10.9.9.9')], [])
        self.assertEqual({}, result)
        self.assertEqual([], self._applied())

    @ddt.data(fakes.rule('bad', 'alice', 'rw', 'user'),
              fakes.rule('bad', 'CN=x', 'rw', 'cert'),
              fakes.rule('bad', '10.0.0.1', 'admin'),
              fakes.rule('bad', '10.0.0.1/24'),
              fakes.rule('bad', 'not-an-ip'),
              fakes.rule('bad', '224.0.0.1'),
              fakes.rule('bad', ''))
    def test_invalid_rule_marked_error_others_applied(self, bad):
        good = fakes.rule('good', '10.0.0.5', 'ro')
        result = self.driver.update_access(None, self.share, [good, bad],
                                           [good, bad], [], [])
        # Keyed by access_id, never by the mapping row's id.
        self.assertEqual({'bad': {'state': 'error'}}, result)
        self.assertEqual([('10.0.0.5', 'ro')], self._applied())

    def test_same_clients_twice(self):
        rules = [fakes.rule('a1', '10.0.0.5', 'rw'),
                 fakes.rule('a2', '10.0.0.5/32', 'rw'),
                 fakes.rule('a3', '10.0.1.5', 'rw'),
                 fakes.rule('a4', '10.0.1.5/32', 'ro')]
        result = self.driver.update_access(None, self.share, rules, rules,
                                           [], [])
        self.assertEqual({'a3': {'state': 'error'}}, result)
        self.assertEqual([('10.0.0.5', 'rw'), ('10.0.1.5', 'ro')],
                         self._applied())

    def test_update_rules_change_level(self):
        changed = fakes.rule('a1', '10.9.9.9', 'ro')
        self.driver.update_access(None, self.share, [changed], [], [],
                                  [changed])
        self.assertEqual([('10.9.9.9', 'ro')], self._applied())

    def test_export_missing_is_recreated(self):
        self.ganesha.exports.clear()
        self.driver.update_access(None, self.share,
                                  [fakes.rule('a1', '10.0.0.5')], [], [],
                                  [])
        svm, exp = self.ganesha.added[-1]
        self.assertEqual(SVM, svm)
        self.assertEqual((ganesha_config.ClientRule('10.0.0.5', 'rw'),),
                         exp.clients)

    def test_share_gone_deny_succeeds(self):
        self.lv(LV)
        result = self.driver.update_access(
            None, self.share, [], [], [fakes.rule('a1', '10.0.0.5')], [])
        self.assertEqual({}, result)
        self.assertEqual([], self.ganesha.updated)

    def test_share_gone_allow_fails(self):
        self.lv(LV)
        self.assertRaises(exception.ShareResourceNotFound,
                          self.driver.update_access, None, self.share,
                          [fakes.rule('a1', '10.0.0.5')],
                          [fakes.rule('a1', '10.0.0.5')], [], [])

    def test_ganesha_failure_raises(self):
        self.ganesha.serve.side_effect = ganesha.GaneshaError(
            svm=SVM, reason='reload not confirmed')
        self.assertRaises(exception.ShareBackendException,
                          self.driver.update_access, None, self.share,
                          [fakes.rule('a1', '10.0.0.5')], [], [], [])


@ddt.ddt
class SnapshotTestCase(fakes.DriverTestCase):

    def test_create_snapshot(self):
        self.lv(LV, row(LV, 3, TAGS))
        self.lv_appears(SNAP_LV, row(SNAP_LV, 3, SNAP_TAGS, origin=LV))
        result = self.driver.create_snapshot(None, fakes.snapshot())
        self.assertEqual({'provider_location': SNAP_LV}, result)
        self.ran('lvcreate', '-s', '-kn', '-n', SNAP_LV, 'arca/' + LV,
                 '--addtag', 'arca.id=' + SNAP, '--addtag',
                 'arca.kind=share_snapshot', '--addtag',
                 'arca.project=' + PROJECT, '--addtag', 'arca.share=' + SHARE,
                 '--addtag', 'arca.size=1', '--addtag', 'arca.svm=' + SVM)
        self.not_ran('xfs_freeze')
        self.assertEqual([], self.ganesha.added)

    def test_create_mountable_snapshot(self):
        self.lv(LV, row(LV, 3, TAGS))
        self.lv_appears(SNAP_LV, row(SNAP_LV, 3, SNAP_TAGS, origin=LV))
        self.svm_exists()
        self.executor.on('xfs_admin', stdout=NEW_UUID)
        result = self.driver.create_snapshot(
            None, fakes.snapshot(mountable=True))
        self.assertEqual([location(lv=SNAP_LV)], result['export_locations'])
        self.ran('mount', '-t', 'xfs', '-o', 'ro,nouuid', '/dev/arca/' +
                 SNAP_LV, SNAP_MNT)
        # Ganesha tells filesystems apart by their UUID: the snapshot gets
        # its own before it is mounted and exported beside its origin.
        self.assertLess(self.index('xfs_admin', '-U', 'generate',
                                   '/dev/arca/' + SNAP_LV),
                        self.index('mount', '-t', 'xfs', '-o', 'ro,nouuid',
                                   '/dev/arca/' + SNAP_LV, SNAP_MNT))
        svm, exp = self.ganesha.added[-1]
        self.assertEqual(SVM, svm)
        self.assertTrue(exp.read_only)
        self.assertEqual((), exp.clients)
        self.assertEqual('/' + SNAP_LV, exp.pseudo)

    def test_create_mountable_snapshot_again_keeps_uuid(self):
        self.lv(LV, row(LV, 3, TAGS))
        self.lv(SNAP_LV, row(SNAP_LV, 3, SNAP_TAGS, origin=LV))
        self.svm_exists()
        self.mounted(SNAP_LV)
        self.driver.create_snapshot(None, fakes.snapshot(mountable=True))
        self.not_ran('xfs_admin')

    def test_create_snapshot_share_missing(self):
        self.lv(LV)
        self.assertRaises(exception.ShareBackendException,
                          self.driver.create_snapshot, None,
                          fakes.snapshot())
        self.not_ran('lvcreate')

    def test_create_snapshot_detached_share(self):
        class Detached(dict):
            def __getitem__(self, key):
                if key == 'share':
                    raise RuntimeError('DetachedInstanceError')
                return super().__getitem__(key)
        self.lv(LV, row(LV, 3, TAGS))
        self.lv_appears(SNAP_LV, row(SNAP_LV, 3, SNAP_TAGS, origin=LV))
        result = self.driver.create_snapshot(None,
                                             Detached(fakes.snapshot()))
        self.assertEqual({'provider_location': SNAP_LV}, result)

    def test_delete_snapshot(self):
        self.lv(SNAP_LV, row(SNAP_LV, 3, SNAP_TAGS, origin=LV))
        self.exported(SNAP_LV, read_only=True)
        self.mounted(SNAP_LV)
        self.driver.delete_snapshot(None, fakes.snapshot())
        self.assertEqual([(SVM, 1)], self.ganesha.removed)
        self.ran('umount', SNAP_MNT)
        self.ran('lvremove', '-f', 'arca/' + SNAP_LV)

    def test_delete_snapshot_missing(self):
        self.lv(SNAP_LV)
        self.driver.delete_snapshot(None, fakes.snapshot())
        self.not_ran('lvremove')

    def test_delete_snapshot_busy(self):
        self.lv(SNAP_LV, row(SNAP_LV, 3, SNAP_TAGS, origin=LV))
        self.executor.on('lvremove', exit_code=5,
                         stderr='Logical volume arca/x in use.')
        self.assertRaises(exception.ShareBusyException,
                          self.driver.delete_snapshot, None,
                          fakes.snapshot())

    def test_snapshot_update_access(self):
        self.lv(SNAP_LV, row(SNAP_LV, 3, SNAP_TAGS, origin=LV))
        self.mounted(SNAP_LV)
        self.exported(SNAP_LV, read_only=True)
        rules = [fakes.rule('a1', '10.0.0.0/24', None),
                 fakes.rule('a2', 'fd00::5', 'rw')]
        self.driver.snapshot_update_access(None, fakes.snapshot(), rules,
                                           rules, [])
        svm, exp = self.ganesha.updated[-1]
        self.assertEqual(SVM, svm)
        self.assertTrue(exp.read_only)
        self.assertEqual((ganesha_config.ClientRule('fd00::5', 'ro'),
                          ganesha_config.ClientRule('10.0.0.0/24', 'ro')),
                         exp.clients)

    def test_snapshot_update_access_invalid_added(self):
        self.lv(SNAP_LV, row(SNAP_LV, 3, SNAP_TAGS, origin=LV))
        self.mounted(SNAP_LV)
        self.exported(SNAP_LV, read_only=True)
        rules = [fakes.rule('a1', '10.0.0.5'), fakes.rule('a2', 'x.y')]
        self.assertRaises(exception.InvalidSnapshotAccess,
                          self.driver.snapshot_update_access, None,
                          fakes.snapshot(), rules, rules[1:], [])
        exp = self.ganesha.updated[-1][1]
        self.assertEqual((ganesha_config.ClientRule('10.0.0.5', 'ro'),),
                         exp.clients)

    def test_snapshot_update_access_gone(self):
        self.lv(SNAP_LV)
        self.driver.snapshot_update_access(
            None, fakes.snapshot(), [], [], [fakes.rule('a1', '10.0.0.5')])
        self.assertRaises(exception.ShareSnapshotNotFound,
                          self.driver.snapshot_update_access, None,
                          fakes.snapshot(), [fakes.rule('a1', '10.0.0.5')],
                          [], [])

    def test_revert_to_snapshot(self):
        self.lv(LV, row(LV, 3, TAGS))
        self.lv(SNAP_LV, row(SNAP_LV, 3, SNAP_TAGS, origin=LV))
        self.lv(LV + '-rvnew', row(LV + '-rvnew', 3, TAGS, origin=SNAP_LV),
                times=None)
        self.lv(LV + '-rvnew', times=1)
        self.lv(LV + '-rvold')
        self.exported(clients=[('10.0.0.5', 'rw')])
        self.mounted(LV)
        with mock.patch.object(self.driver.pool, 'revert') as revert:
            self.driver.revert_to_snapshot(
                None, fakes.snapshot(),
                [fakes.rule('a1', '10.0.0.6', 'ro')], [])
        revert.assert_called_once_with(LV, SNAP_LV)
        self.assertEqual([(SVM, 1)], self.ganesha.removed)
        self.ran('umount', MNT)
        self.ran('xfs_growfs', '-d', MNT)
        self.ran(*self.limit_cmd(1))
        svm, exp = self.ganesha.added[-1]
        self.assertEqual((ganesha_config.ClientRule('10.0.0.6', 'ro'),),
                         exp.clients)
        self.assertLess(self.index('umount', MNT),
                        self.index(*self.limit_cmd(1)))
        self.not_ran('xfs_admin')

    def test_revert_beside_mounted_snapshot_new_uuid(self):
        self.lv(LV, row(LV, 3, TAGS))
        self.lv(SNAP_LV, row(SNAP_LV, 3, SNAP_TAGS, origin=LV))
        self.exported(clients=[('10.0.0.5', 'rw')])
        self.mounted(SNAP_LV)
        self.mounted(LV)
        # Checked for the UUID change (after the unpublish's umount, which
        # needs no look), mounted.
        self.not_mounted(LV, times=2)
        self.executor.on('xfs_admin', stdout=NEW_UUID)
        with mock.patch.object(self.driver.pool, 'revert'):
            self.driver.revert_to_snapshot(
                None, fakes.snapshot(mountable=True), [], [])
        self.assertLess(self.index('xfs_admin', '-U', 'generate', DEV),
                        self.index('mount', '-t', 'xfs', '-o', 'prjquota',
                                   DEV, MNT))

    def test_revert_snapshot_missing(self):
        self.lv(LV, row(LV, 3, TAGS))
        self.lv(SNAP_LV)
        self.assertRaises(exception.ShareBackendException,
                          self.driver.revert_to_snapshot, None,
                          fakes.snapshot(), [], [])
        self.assertEqual([], self.ganesha.removed)

    def test_create_share_from_snapshot(self):
        self.lv(SNAP_LV, row(SNAP_LV, 3, SNAP_TAGS, origin=LV))
        new = fakes.share(fakes.SHARE2, size=10)
        tags = TAGS.replace(SHARE, fakes.SHARE2)
        self.lv_appears(fakes.LV2, row(fakes.LV2, 3, tags, origin=SNAP_LV))
        self.svm_exists()
        self.mounted_later(fakes.LV2)
        self.executor.on('xfs_admin', stdout='Clearing log and setting '
                         'UUID\nwriting all SBs\nnew UUID = '
                         '0b4a0e8a-1111-2222-3333-444444444444\n')
        result = self.driver.create_share_from_snapshot(
            None, new, fakes.snapshot())
        self.assertEqual({'export_locations': [location(lv=fakes.LV2)],
                          'status': 'available'}, result)
        dev = '/dev/arca/' + fakes.LV2
        expected = [
            ('lvcreate', '-s', '-kn', '-n', fakes.LV2, 'arca/' + SNAP_LV,
             '--addtag', 'arca.id=' + fakes.SHARE2, '--addtag',
             'arca.kind=share', '--addtag', 'arca.project=' + PROJECT,
             '--addtag', 'arca.svm=' + SVM),
            ('lvextend', '-L', '12g', 'arca/' + fakes.LV2),
            ('xfs_admin', '-U', 'generate', dev),
            ('mount', '-t', 'xfs', '-o', 'prjquota', dev, fakes.MNT2),
            ('xfs_growfs', '-d', fakes.MNT2),
            self.limit_cmd(10, fakes.MNT2)]
        self.assertEqual(expected, [
            c for c in self.executor.commands
            if c[0] in ('lvcreate', 'lvextend', 'xfs_admin', 'mount',
                        'xfs_growfs', 'xfs_quota')])
        # Instant: no walk of the copied tree.
        self.not_ran('xfs_quota', '-x', '-c', 'project -s -p %s 1'
                     % fakes.MNT2)
        self.assertEqual(SVM, self.ganesha.added[-1][0])

    def test_create_share_from_snapshot_missing(self):
        self.lv(SNAP_LV)
        self.assertRaises(exception.ShareBackendException,
                          self.driver.create_share_from_snapshot, None,
                          fakes.share(fakes.SHARE2), fakes.snapshot())
        self.not_ran('lvcreate')

    def test_create_share_from_snapshot_failure_cleans_up(self):
        self.lv(SNAP_LV, row(SNAP_LV, 3, SNAP_TAGS, origin=LV))
        tags = TAGS.replace(SHARE, fakes.SHARE2)
        self.lv_appears(fakes.LV2, row(fakes.LV2, 3, tags, origin=SNAP_LV))
        self.executor.on('xfs_admin', exit_code=1, stderr='I/O error')
        self.assertRaises(exception.ShareBackendException,
                          self.driver.create_share_from_snapshot, None,
                          fakes.share(fakes.SHARE2), fakes.snapshot())
        self.ran('lvremove', '-f', 'arca/' + fakes.LV2)

    def test_snapshot_support_detected(self):
        self.assertTrue(self.driver.snapshots_are_supported)
        self.assertTrue(
            self.driver.creating_shares_from_snapshots_is_supported)

    def test_constants(self):
        self.assertEqual(('prjquota',), driver.SHARE_MOUNT)
        self.assertEqual(constants.ACCESS_STATE_ERROR, 'error')
