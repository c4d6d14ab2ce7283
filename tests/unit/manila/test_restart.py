"""Unit tests of the Manila driver: ensure_shares, stats and usage."""

import json

import ddt
from manila import exception

from tests.unit.manila import fakes
from tests.unit.manila.fakes import GiB
from tests.unit.manila.fakes import LV
from tests.unit.manila.fakes import MNT
from tests.unit.manila.fakes import row
from tests.unit.manila.fakes import SERVER_SVM
from tests.unit.manila.fakes import SHARE
from tests.unit.manila.fakes import SHARE2
from tests.unit.manila.fakes import SNAP_LV
from tests.unit.manila.fakes import SVM
from tests.unit.manila.fakes import TAGS
from tests.unit import test_agent
from tests.unit import test_drbd


@ddt.ddt
class EnsureTestCase(fakes.DriverTestCase):

    def test_ensure_shares(self):
        self.lv(LV, row(LV, 3, TAGS))
        self.lv(fakes.LV2)
        self.svm_exists()
        self.mounted(LV)
        self.exported(clients=[('10.0.0.5', 'rw')])
        result = self.driver.ensure_shares(
            None, [fakes.share(), fakes.share(SHARE2)])
        self.assertEqual({
            SHARE: {'export_locations': [
                {'path': '10.0.0.10:/' + LV, 'is_admin_only': False,
                 'metadata': {'preferred': True}}],
                'status': 'available', 'reapply_access_rules': True},
            SHARE2: {'status': 'error', 'reapply_access_rules': False}},
            result)
        # The export keeps its clients until the rules are re-applied.
        exp = self.ganesha.updated[-1][1]
        self.assertEqual('10.0.0.5', exp.clients[0].network)
        self.driver.node_client.agent.svms.netns.setup.assert_not_called()

    def test_ensure_shares_rebuilds_stopped_svm(self):
        self.lv(LV, row(LV, 3, TAGS))
        self.svm_exists()
        self.mounted_later(LV)
        share_exp = self.exported()
        snap_exp = share_exp._replace(export_id=2,
                                      path='/var/lib/arca/mnt/' + SNAP_LV,
                                      pseudo='/' + SNAP_LV, read_only=True)
        self.ganesha.put(SVM, snap_exp)
        self.lv(SNAP_LV, row(SNAP_LV, 3))
        self.ganesha.status.return_value = {'running': False}
        result = self.driver.ensure_shares(None, [fakes.share()])
        self.assertEqual('available', result[SHARE]['status'])
        self.driver.node_client.agent.svms.netns.setup.assert_called_once()
        self.ganesha.ensure.assert_called_once()
        # Each LV mounted the way it is served, before Ganesha serves it.
        self.ran('mount', '-t', 'xfs', '-o', 'prjquota', fakes.DEV, MNT)
        self.ran('mount', '-t', 'xfs', '-o', 'ro,nouuid',
                 '/dev/arca/' + SNAP_LV, fakes.SNAP_MNT)

    def test_ensure_shares_recreates_server_svm(self):
        drv = self.make_driver(fakes.FakeConf(dhss=True))
        drv.node_client.agent.svms.ganesha = self.ganesha
        svms = drv.node_client.agent.svms
        svms.netns = self.driver.node_client.agent.svms.netns
        tags = 'arca.id=%s,arca.kind=share,arca.svm=%s' % (SHARE, SERVER_SVM)
        self.lv(LV, row(LV, 3, tags))
        self.mounted(LV)
        network = fakes.network(('10.1.0.5/24',), ('10.1.0.1',))
        record = '/var/lib/arca/svm/%s/svm.json' % SERVER_SVM
        self.executor.on('cat', record, stdout=json.dumps(
            {'name': SERVER_SVM, 'network': network._asdict()}))
        self.executor.on('cat', record, exit_code=1, times=2,
                         stderr='No such file or directory')
        server = fakes.share_server(
            svm_network=json.dumps(network._asdict()))
        result = drv.ensure_shares(None, [fakes.share(share_server=server)])
        self.assertEqual('available', result[SHARE]['status'])
        self.assertEqual('10.1.0.5:/' + LV,
                         result[SHARE]['export_locations'][0]['path'])
        self.ganesha.start.assert_called_once_with(SERVER_SVM)
        svms = drv.node_client.agent.svms
        self.assertEqual(SERVER_SVM, svms.netns.setup.call_args[0][0])

    def test_ensure_shares_node_down(self):
        self.executor.on('lvs', timeout=True)
        result = self.driver.ensure_shares(None, [fakes.share()])
        self.assertEqual('error', result[SHARE]['status'])

    def test_backend_info(self):
        info = self.driver.get_backend_info(None)
        self.assertEqual('arca/pool', info['thin_pool'])
        self.assertEqual('per_project', info['svm_mapping'])
        self.assertTrue(all(isinstance(v, str) for v in info.values()))
        other = self.make_driver(fakes.FakeConf(arca_thin_pool='p2'))
        self.assertNotEqual(info, other.get_backend_info(None))
        self.assertEqual(info, self.driver.get_backend_info(None))


@ddt.ddt
class StatsTestCase(fakes.DriverTestCase):

    def test_stats(self):
        self.vg(row('pool', 100, segtype='thin-pool', pool='', data='25.00'),
                row(LV, 12, TAGS))
        stats = self.driver.get_share_stats(refresh=True)
        self.assertEqual('arca', stats['share_backend_name'])
        self.assertEqual('Arca Storage', stats['vendor_name'])
        self.assertEqual('NFS', stats['storage_protocol'])
        self.assertFalse(stats['driver_handles_share_servers'])
        for key in ('snapshot_support', 'create_share_from_snapshot_support',
                    'revert_to_snapshot_support', 'mount_snapshot_support'):
            self.assertTrue(stats[key], key)
            self.assertTrue(stats['pools'][0][key], key)
        self.assertTrue(stats['ipv4_support'])
        self.assertFalse(stats['ipv6_support'])
        pool, = stats['pools']
        self.assertEqual({
            'pool_name': 'pool', 'total_capacity_gb': 100.0,
            'free_capacity_gb': 75.0, 'provisioned_capacity_gb': 12.0,
            'allocated_capacity_gb': 25.0, 'reserved_percentage': 5,
            'reserved_snapshot_percentage': 2,
            'reserved_share_extend_percentage': 1,
            'max_over_subscription_ratio': 20.0, 'thin_provisioning': True,
            'dedupe': False, 'compression': False, 'qos': False,
            'snapshot_support': True,
            'create_share_from_snapshot_support': True,
            'revert_to_snapshot_support': True,
            'mount_snapshot_support': True, 'arca_mirrored': False,
            'arca_mirror_state': 'none'}, pool)

    @ddt.data(('Connected', 'UpToDate', '', 'in-sync'),
              ('SyncTarget', 'UpToDate', '3.0', 'syncing'),
              ('WFConnection', 'DUnknown', '', 'degraded'),
              ('Connected', 'Outdated', '', 'degraded'))
    @ddt.unpack
    def test_stats_mirrored(self, cstate, pdsk, percent, state):
        self.vg(row('pool', 100, segtype='thin-pool', pool='', data='25.00'))
        self.executor.on('cat', '/etc/arca/cluster.conf',
                         stdout=test_agent.MIRRORED_CONF)
        disk = 'Inconsistent' if cstate == 'SyncTarget' else 'UpToDate'
        self.executor.on('drbdsetup', 'sh-status', 'arca',
                         stdout=test_drbd.sh_status(
                             cstate, 'Primary', 'Secondary', disk, pdsk,
                             percent=percent, minor=1, name='arca'))
        pool, = self.driver.get_share_stats(refresh=True)['pools']
        self.assertIs(True, pool['arca_mirrored'])
        self.assertEqual(state, pool['arca_mirror_state'])
        self.assertEqual(75.0, pool['free_capacity_gb'])

    @ddt.data({'stdout': '[cluster]\nname = arca\n'},
              {'exit_code': 1, 'stderr': 'cat: /etc/arca/cluster.conf: '
                                         'Permission denied\n'})
    def test_stats_cluster_conf_bad(self, answer):
        self.vg(row('pool', 100, segtype='thin-pool', pool='', data='25.00'))
        self.executor.on('cat', '/etc/arca/cluster.conf', **answer)
        with self.assertLogs('arca_openstack.backend', 'ERROR') as logs:
            pool, = self.driver.get_share_stats(refresh=True)['pools']
        self.assertEqual(100.0, pool['total_capacity_gb'])
        self.assertEqual((False, 'unknown'), (pool['arca_mirrored'],
                                              pool['arca_mirror_state']))
        self.assertIn('/etc/arca/cluster.conf', logs.output[0])

    def test_stats_node_down(self):
        self.executor.on('lvs', timeout=True)
        self.assertRaises(exception.ShareBackendException,
                          self.driver.get_share_stats, True)

    @ddt.data(([fakes.POOL], [4]),
              (['mode=macvlan,parent=eth1,cidr=fd00::/64'], [6]),
              (['mode=veth,bridge=br0,cidr=10.1.0.0/24,cidr6=fd00:1::/64'],
               [4, 6]))
    @ddt.unpack
    def test_ip_versions_from_pools(self, pools, versions):
        drv = self.make_driver(fakes.FakeConf(arca_address_pools=pools))
        self.assertEqual(versions, drv.get_configured_ip_versions())

    @ddt.data((('fd00::10/64',), [6]), (None, [4]))
    @ddt.unpack
    def test_ip_versions_of_shared_svm(self, addresses, versions):
        drv = self.make_driver(fakes.FakeConf(arca_svm_mapping='shared',
                                              arca_address_pools=[]))
        if addresses:
            self.svm_exists('arca_shared', addresses, ())
        else:
            self.no_svm('arca_shared')
        self.assertEqual(versions, drv.get_configured_ip_versions())

    def test_usage(self):
        self.mounted(LV)
        self.used(int(1.5 * GiB))
        self.not_mounted(fakes.LV2)
        result = self.driver.update_share_usage_size(
            None, [fakes.share(), fakes.share(SHARE2),
                   fakes.share('not-a-uuid')])
        self.assertEqual(1, len(result))
        self.assertEqual(SHARE, result[0]['id'])
        self.assertEqual(1.5, result[0]['used_size'])
        self.assertIsNotNone(result[0]['gathered_at'])

    def test_usage_quota_failure_skipped(self):
        self.mounted(LV)
        self.executor.on('xfs_quota', exit_code=1, stderr='boom')
        self.assertEqual([], self.driver.update_share_usage_size(
            None, [fakes.share()]))

    def test_svm_name(self):
        self.assertEqual(SVM, self.driver.svm_pools.svm_name(fakes.PROJECT))
