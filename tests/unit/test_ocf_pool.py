import io
import os
from unittest import mock
from xml.etree import ElementTree

import ddt

from arca_openstack.agent import operations
from arca_openstack.cmd import ocf_pool
from arca_openstack import exception
from arca_openstack.node import ganesha_config
from tests.unit import base

STATE = '/var/lib/arca/pools/arca1'
MOUNTED = '/dev/mapper/arca1-arca--state %s\n' % STATE
MOUNT_TABLE = ('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET')
FIND_STATE = MOUNT_TABLE + ('--mountpoint', STATE)
MNT = '/var/lib/arca/mnt/vol-a'
LV_MOUNTED = '/dev/mapper/arca1-vol--a %s\n' % MNT
RECORD = ('{"name": "svm_a", "owner": null, "network": {"mode": "vlan", '
          '"addresses": ["10.0.0.5/24"], "gateways": [], "parent": "eth0", '
          '"vlan": 100, "bridge": null, "mtu": null}}')


@ddt.ddt
class OCFPoolTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.node = operations.Node(self.executor,
                                    pools=('arca1/pool', 'arca/pool'))
        self.useFixture_env({'OCF_RESKEY_thin_pool': 'arca1/pool'})

    def useFixture_env(self, values):
        patcher = mock.patch.dict(os.environ, values)
        patcher.start()
        self.addCleanup(patcher.stop)

    def run_action(self, action):
        return ocf_pool.run(action, make_node=lambda: self.node)

    def test_meta_data(self):
        with mock.patch('sys.stdout', new_callable=io.StringIO) as out:
            self.assertEqual(0, self.run_action('meta-data'))
        root = ElementTree.fromstring(out.getvalue().encode())
        self.assertEqual('pool', root.get('name'))
        self.assertEqual(['thin_pool'], [p.get('name') for p in
                                         root.iter('parameter')])
        actions = {a.get('name'): a for a in root.iter('action')}
        self.assertEqual({'start', 'stop', 'monitor', 'validate-all',
                          'meta-data'}, set(actions))
        self.assertEqual('20s', actions['monitor'].get('interval'))
        self.assertCommands()

    def test_unknown_action(self):
        self.assertEqual(3, self.run_action('promote'))
        self.assertCommands()

    @ddt.data(None, '', 'arca1', 'arca1/pool/x', '../x/pool', 'arca1/ bad')
    def test_bad_parameter(self, value):
        env = dict(os.environ)
        env.pop('OCF_RESKEY_thin_pool', None)
        if value is not None:
            env['OCF_RESKEY_thin_pool'] = value
        with mock.patch.dict(os.environ, env, clear=True):
            self.assertEqual(6, self.run_action('start'))
        self.assertCommands()

    def test_pool_not_configured(self):
        self.useFixture_env({'OCF_RESKEY_thin_pool': 'other/pool'})
        self.assertEqual(6, self.run_action('start'))
        # A probe where the agent may not serve the pool: not running.
        self.assertEqual(7, self.run_action('monitor'))
        self.assertCommands()

    def test_validate_all(self):
        self.assertEqual(0, self.run_action('validate-all'))
        self.assertCommands()

    def test_monitor_not_running(self):
        self.executor.on(*FIND_STATE, exit_code=1)
        self.assertEqual(7, self.run_action('monitor'))
        self.assertCommands(FIND_STATE)

    def _serving(self, running=True):
        self.executor.on('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET',
                         stdout='')
        self.executor.on(*FIND_STATE, stdout=MOUNTED)
        self.executor.on('ls', '-1A', STATE + '/svm', stdout='svm_a\n')
        self.executor.on('cat', '/var/lib/arca/svm/svm_a/svm.json',
                         stdout=RECORD)
        status = {'running': running, 'pid': 42 if running else None}
        self.node.svms.ganesha = mock.Mock(**{
            'status.return_value': status, 'export_ids.return_value': []})

    def test_monitor_running(self):
        self._serving()
        self.assertEqual(0, self.run_action('monitor'))

    def test_monitor_dead_ganesha(self):
        self._serving(running=False)
        with self.assertLogs('arca-ocf-pool', 'ERROR') as logs:
            self.assertEqual(1, self.run_action('monitor'))
        self.assertIn('svm_a: NFS server not running', logs.output[0])

    def _serving_export(self, tables):
        """svm_a serves one export; the mount tables read one by one."""
        self._serving()
        exp = ganesha_config.Export(
            export_id=7, path=MNT, pseudo='/vol-a', read_only=False,
            clients=())
        self.node.svms.ganesha.export_ids.return_value = [7]
        self.node.svms.ganesha.get_export.return_value = exp
        for table in reversed(tables):
            self.executor.on(*MOUNT_TABLE, stdout=table, times=1)
        # The state's own look-up is not one of the tables.
        self.executor.on(*FIND_STATE, stdout=MOUNTED)

    def test_monitor_export_mounted(self):
        self._serving_export([LV_MOUNTED])
        self.assertEqual(0, self.run_action('monitor'))
        self.assertEqual(1, self.executor.commands.count(MOUNT_TABLE))

    def test_monitor_export_made_while_looking(self):
        # Mounted and exported between the first table and the exports:
        # the second table shows it mounted, no failure.
        self._serving_export(['', LV_MOUNTED])
        self.assertEqual(0, self.run_action('monitor'))
        self.assertEqual(2, self.executor.commands.count(MOUNT_TABLE))

    def test_monitor_export_not_mounted(self):
        self._serving_export(['', ''])
        with self.assertLogs('arca-ocf-pool', 'ERROR') as logs:
            self.assertEqual(1, self.run_action('monitor'))
        self.assertIn('svm_a: export 7: %s is not mounted' % MNT,
                      logs.output[0])

    def test_start(self):
        with mock.patch.object(self.node.pool_state, 'start',
                               return_value=['svm_a']) as start, \
                mock.patch('arca_openstack.agent.report.ensure',
                           return_value={'svms': [
                               {'svm': 'svm_a', 'result': 'rebuilt',
                                'error': None}]}) as ensure:
            self.assertEqual(0, self.run_action('start'))
        start.assert_called_once_with('arca1')
        ensure.assert_called_once_with(self.node, names=['svm_a'])

    def test_start_tickles_the_clients_of_each_svm(self):
        self.executor.on('cat', '/var/lib/arca/svm/svm_a/svm.json',
                         stdout=RECORD)
        with mock.patch.object(self.node.pool_state, 'start',
                               return_value=['svm_a']), \
                mock.patch('arca_openstack.agent.report.ensure',
                           return_value={'svms': [
                               {'svm': 'svm_a', 'result': 'rebuilt',
                                'error': None}]}), \
                mock.patch('arca_openstack.node.tickle.recorded_clients',
                           return_value=['10.0.0.21']), \
                mock.patch('arca_openstack.node.tickle.tickle',
                           return_value=359) as send:
            self.assertEqual(0, self.run_action('start'))
        send.assert_called_once_with('svm_a', ['10.0.0.5'], ['10.0.0.21'])

    def test_start_succeeds_when_tickles_fail(self):
        self.executor.on('cat', '/var/lib/arca/svm/svm_a/svm.json',
                         stdout=RECORD)
        with mock.patch.object(self.node.pool_state, 'start',
                               return_value=['svm_a']), \
                mock.patch('arca_openstack.agent.report.ensure',
                           return_value={'svms': [
                               {'svm': 'svm_a', 'result': 'ok',
                                'error': None}]}), \
                mock.patch('arca_openstack.node.tickle.recorded_clients',
                           return_value=['10.0.0.21']), \
                mock.patch('arca_openstack.node.tickle.tickle',
                           side_effect=exception.ArcaError('EPERM')), \
                self.assertLogs('arca-ocf-pool', 'WARNING') as logs:
            self.assertEqual(0, self.run_action('start'))
        self.assertIn('no tickle ACKs', logs.output[0])

    def test_start_fails_when_an_svm_is_not_served(self):
        with mock.patch.object(self.node.pool_state, 'start',
                               return_value=['svm_a']), \
                mock.patch('arca_openstack.agent.report.ensure',
                           return_value={'svms': [
                               {'svm': 'svm_a', 'result': 'failed',
                                'error': 'LV share-1 is in no configured '
                                         'pool'}]}):
            self.assertEqual(1, self.run_action('start'))

    def test_start_fails_without_the_vg(self):
        self.executor.on('vgchange', exit_code=5,
                         stderr='  Volume group "arca1" not found\n')
        self.assertEqual(1, self.run_action('start'))
        self.assertCommands(('vgchange', '-ay', 'arca1'))

    def test_stop(self):
        with mock.patch.object(self.node.pool_state, 'stop',
                               return_value=['svm_a']) as stop:
            self.assertEqual(0, self.run_action('stop'))
        stop.assert_called_once_with('arca1')

    def test_stop_failure_is_reported(self):
        # Pacemaker then fences the node: the pool must not be started
        # elsewhere while this node may still write it.
        with mock.patch.object(self.node.pool_state, 'stop',
                               side_effect=exception.InUse(
                                   what='filesystem', name='x',
                                   reason='busy')):
            self.assertEqual(1, self.run_action('stop'))

    def test_main_usage(self):
        with mock.patch('sys.stderr', new_callable=io.StringIO):
            self.assertEqual(2, ocf_pool.main([]))
