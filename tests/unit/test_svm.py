import json
from unittest import mock

import ddt

from arca_openstack import exception
from arca_openstack.node import files
from arca_openstack.node import ganesha_config
from arca_openstack.node import netns
from arca_openstack.node import svm
from tests.unit import base

RECORD = '/var/lib/arca/svm/svm_a/svm.json'


@ddt.ddt
class MakeNetworkTestCase(base.TestCase):

    def test_vlan(self):
        net = svm.make_network('vlan', ['10.0.0.5/24', 'fd00::5/64'],
                               gateways=['10.0.0.1', 'fd00::1'],
                               parent='eth0', vlan='100', mtu=9000)
        self.assertEqual(svm.Network('vlan', ('10.0.0.5/24', 'fd00::5/64'),
                                     ('10.0.0.1', 'fd00::1'), 'eth0', 100,
                                     None, 9000), net)

    def test_veth(self):
        net = svm.make_network('veth', ['10.0.0.5/24'], bridge='br-arca')
        self.assertEqual('br-arca', net.bridge)

    @ddt.data(
        dict(mode='bond', addresses=['10.0.0.5/24'], parent='eth0'),
        dict(mode='vlan', addresses=['10.0.0.5/24'], parent='eth0'),
        dict(mode='vlan', addresses=['10.0.0.5/24'], parent='eth0',
             vlan=4095),
        dict(mode='vlan', addresses=[], parent='eth0', vlan=5),
        dict(mode='vlan', addresses='10.0.0.5/24', parent='eth0', vlan=5),
        dict(mode='vlan', addresses=['10.0.0.5'], parent='eth0', vlan=5),
        dict(mode='macvlan', addresses=['10.0.0.5/24']),
        dict(mode='macvlan', addresses=['10.0.0.5/24'], parent='eth0',
             vlan=5),
        dict(mode='veth', addresses=['10.0.0.5/24']),
        dict(mode='veth', addresses=['10.0.0.5/24'], bridge='br0',
             parent='eth0'),
        dict(mode='veth', addresses=['10.0.0.5/24'], bridge='br0',
             gateways=['10.1.0.1']),
        dict(mode='veth', addresses=['10.0.0.5/24'], bridge='br0',
             gateways=['10.0.0.1', '10.0.0.2']),
        dict(mode='veth', addresses=['fd00::5/64'], bridge='br0', mtu=1000),
        dict(mode='veth', addresses=['10.0.0.5/24'], bridge='br 0'),
    )
    def test_bad(self, kwargs):
        self.assertRaises(exception.InvalidInput, svm.make_network, **kwargs)


@ddt.ddt
class SVMManagerTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.mgr = svm.SVMManager(self.executor)
        self.mgr.netns = base.mock_netns()
        self.mgr.ganesha = mock.Mock()
        self.net = svm.make_network('vlan', ['10.0.0.5/24'], ['10.0.0.1'],
                                    parent='eth0', vlan=100)

    def _record(self, net=None):
        return json.dumps({'name': 'svm_a', 'owner': 'arca.project=p1',
                           'network': (net or self.net)._asdict()})

    def test_create_new(self):
        self.executor.on('cat', exit_code=1, stderr='No such file')
        self.mgr.create('svm_a', self.net, owner='arca.project=p1')
        self.assertCommands(
            ('cat', RECORD),
            ('mkdir', '-p', '/var/lib/arca/svm/svm_a'),
            ('tee', RECORD + '.tmp'),
            ('mv', '-f', RECORD + '.tmp', RECORD))
        written = json.loads(self.executor.input_for('tee'))
        self.assertEqual(self.net._asdict(),
                         dict(written['network'], addresses=tuple(
                             written['network']['addresses']),
                             gateways=tuple(written['network']['gateways'])))
        self.mgr.netns.setup.assert_called_once_with(
            'svm_a', 'vlan', ['10.0.0.5/24'], gateways=[],
            parent='eth0', vlan=100, bridge=None, mtu=None)
        self.mgr.ganesha.configure.assert_called_once_with('svm_a',
                                                           ['10.0.0.5'])
        self.mgr.ganesha.start.assert_called_once_with('svm_a')
        self.mgr.netns.set_gateway.assert_called_once_with(
            'svm_a', '10.0.0.1', self.mgr.netns.setup.return_value)

    def _order(self):
        """The order of the netns and Ganesha steps, as a list."""
        order = []
        self.mgr.netns.setup.side_effect = (
            lambda name, *a, **k: order.append(('setup', k['gateways'])))
        self.mgr.netns.set_gateway.side_effect = (
            lambda name, gw, ifname: order.append(('gateway', gw)))
        for step in ('start', 'ensure'):
            getattr(self.mgr.ganesha, step).side_effect = (
                lambda *a, step=step: order.append(step))
        return order

    def test_create_gateways_after_ganesha_started(self):
        # Ganesha's start-up DNS look-ups of the node's name must not go
        # through a tenant's gateway (each would wait for its timeout).
        net = svm.make_network('vlan', ['10.0.0.5/24', 'fd00::5/64'],
                               ['10.0.0.1', 'fd00::1'], parent='eth0',
                               vlan=100)
        self.executor.on('cat', exit_code=1, stderr='No such file')
        order = self._order()
        self.mgr.create('svm_a', net)
        self.assertEqual([('setup', []), 'start', ('gateway', '10.0.0.1'),
                          ('gateway', 'fd00::1')], order)

    def test_create_without_gateway(self):
        net = svm.make_network('vlan', ['10.0.0.5/24'], parent='eth0',
                               vlan=100)
        self.executor.on('cat', exit_code=1, stderr='No such file')
        self.mgr.create('svm_a', net)
        self.mgr.ganesha.start.assert_called_once_with('svm_a')
        self.mgr.netns.set_gateway.assert_not_called()

    def test_create_start_fails_no_gateway(self):
        self.executor.on('cat', exit_code=1, stderr='No such file')
        self.mgr.ganesha.start.side_effect = exception.ServiceFailed(
            service='ganesha', reason='x')
        self.assertRaises(exception.ServiceFailed, self.mgr.create, 'svm_a',
                          self.net)
        self.mgr.netns.set_gateway.assert_not_called()

    def test_create_refuses_foreign_namespace(self):
        # A namespace of that name without Arca's record is someone
        # else's: nothing is recorded, plugged or started.
        self.executor.on('cat', exit_code=1, stderr='No such file')
        self.mgr.netns.exists.return_value = True
        err = self.assertRaises(exception.Conflict, self.mgr.create,
                                'svm_a', self.net)
        self.assertIn('not an Arca SVM', str(err))
        self.assertCommands(('cat', RECORD))
        self.mgr.netns.setup.assert_not_called()
        self.mgr.ganesha.start.assert_not_called()

    def test_create_existing_same_is_idempotent(self):
        self.executor.on('cat', stdout=self._record())
        self.mgr.create('svm_a', self.net)
        self.assertCommands(('cat', RECORD))
        self.mgr.netns.setup.assert_called_once()
        self.mgr.ganesha.start.assert_called_once_with('svm_a')

    def test_create_existing_other_network_conflicts(self):
        other = svm.make_network('vlan', ['10.0.0.6/24'], parent='eth0',
                                 vlan=100)
        self.executor.on('cat', stdout=self._record(other))
        self.assertRaises(exception.Conflict, self.mgr.create, 'svm_a',
                          self.net)
        self.mgr.netns.setup.assert_not_called()

    def _on_records(self, records):
        """Serve ``records`` ({name: network or None}) as the node's SVMs.

        By reference: a test may change them between calls. Nothing is
        written.
        """
        self.mgr.get = lambda name: records[name] and {
            'name': name, 'network': records[name]}
        self.mgr.list = lambda: sorted(records)
        self.patch(files, 'makedirs', mock.Mock())
        self.patch(files, 'write_atomic', mock.Mock())

    def test_create_moves_legacy_vlan_holders(self):
        # svm_old (earlier release) holds VLAN 100 of eth0 in its own
        # namespace; svm_other is on another VLAN and is left alone.
        old = svm.make_network('vlan', ['10.0.0.7/24'], parent='eth0',
                               vlan=100)
        other = svm.make_network('vlan', ['10.0.9.7/24'], parent='eth0',
                                 vlan=9)
        records = {'svm_a': None, 'svm_old': old, 'svm_other': other}
        self._on_records(records)
        self.mgr.netns.setup.side_effect = [netns.VlanInUse('eth0', 100),
                                            None, None]
        self.mgr.create('svm_a', self.net)
        self.assertEqual(['svm_a', 'svm_old', 'svm_a'],
                         [c[0][0] for c in
                          self.mgr.netns.setup.call_args_list])
        self.mgr.ganesha.start.assert_called_once_with('svm_a')

    def test_create_vlan_held_by_no_record(self):
        self._on_records({'svm_a': None})
        self.mgr.netns.setup.side_effect = netns.VlanInUse('eth0', 100)
        err = self.assertRaises(netns.VlanInUse, self.mgr.create, 'svm_a',
                                self.net)
        self.assertIn('100 on eth0', str(err))
        self.mgr.netns.setup.assert_called_once()
        self.mgr.ganesha.start.assert_not_called()

    def test_create_address_served_by_another_svm(self):
        # Only on this failure are the other SVMs' records read, to name
        # the one that serves the address.
        same = svm.make_network('vlan', ['10.0.0.5/24'], parent='eth0',
                                vlan=100)
        other = svm.make_network('vlan', ['10.0.0.9/24'], parent='eth0',
                                 vlan=100)
        records = {'svm_a': None, 'svm_b': other, 'svm_held': same}
        self._on_records(records)
        self.mgr.netns.setup.side_effect = netns.AddressInUse(
            'svm_a', '02:e8:c7:80:4a:b8', 'avlf27dd9fbea9e')
        err = self.assertRaises(exception.Conflict, self.mgr.create,
                                'svm_a', self.net)
        self.assertIn('10.0.0.5 is served by SVM svm_held', str(err))
        self.mgr.ganesha.start.assert_not_called()
        # No record holds it (made by hand): the interface's own error.
        records['svm_held'] = None
        err = self.assertRaises(netns.AddressInUse, self.mgr.create,
                                'svm_a', self.net)
        self.assertIn('02:e8:c7:80:4a:b8', str(err))

    def test_create_bad_input_issues_nothing(self):
        self.assertRaises(exception.InvalidInput, self.mgr.create, 'svm-a',
                          self.net)
        self.assertRaises(exception.InvalidInput, self.mgr.create, 'svm_a',
                          {'mode': 'vlan'})
        self.assertRaises(exception.InvalidInput, self.mgr.create, 'svm_a',
                          self.net, owner='a b')
        self.assertEqual([], self.executor.commands)
        self.mgr.netns.setup.assert_not_called()

    def test_get_corrupt_record(self):
        self.executor.on('cat', stdout='{"name": ')
        self.assertRaises(exception.ParseError, self.mgr.get, 'svm_a')

    def test_list(self):
        self.executor.on('ls', stdout='svm_a\nsvm_b\nbad-name\n')
        self.assertEqual(['svm_a', 'svm_b'], self.mgr.list())

    def test_ensure_mounts_before_serving(self):
        self.executor.on('cat', stdout=self._record())
        exp = ganesha_config.Export(1, '/var/lib/arca/mnt/vol-1', '/vol-1')
        self.mgr.ganesha.export_ids.return_value = [1]
        self.mgr.ganesha.get_export.return_value = exp
        order = []
        self.mgr.ganesha.ensure.side_effect = (
            lambda *a: order.append('ensure'))
        self.mgr.ensure('svm_a',
                        prepare_exports=lambda e: order.append(('mount', e)))
        self.assertEqual([('mount', [exp]), 'ensure'], order)
        self.mgr.ganesha.ensure.assert_called_once_with('svm_a',
                                                        ['10.0.0.5'], [exp])
        self.mgr.netns.setup.assert_called_once()
        self.mgr.netns.set_gateway.assert_called_once_with(
            'svm_a', '10.0.0.1', self.mgr.netns.setup.return_value)

    def test_ensure_gateways_after_ganesha(self):
        self.executor.on('cat', stdout=self._record())
        self.mgr.ganesha.export_ids.return_value = []
        order = self._order()
        self.mgr.ensure('svm_a')
        self.assertEqual([('setup', []), 'ensure', ('gateway', '10.0.0.1')],
                         order)

    def test_ensure_unknown(self):
        self.executor.on('cat', exit_code=1, stderr='No such file')
        self.assertRaises(exception.NotFound, self.mgr.ensure, 'svm_a')

    def test_delete(self):
        self.mgr.ganesha.export_ids.return_value = []
        self.mgr.delete('svm_a')
        self.mgr.ganesha.stop.assert_called_once_with('svm_a')
        self.mgr.netns.delete.assert_called_once_with('svm_a')
        self.assertCommands(('readlink', '/var/lib/arca/svm/svm_a'),
                            ('rm', '-rf', '/var/lib/arca/svm/svm_a'))

    def test_create_homed_on_a_pool(self):
        self.executor.on('cat', exit_code=1, stderr='No such file')
        home = mock.Mock(return_value='/var/lib/arca/pools/arca1')
        self.mgr.create('svm_a', self.net, home=home)
        target = '/var/lib/arca/pools/arca1/svm/svm_a'
        self.assertCommands(
            ('cat', RECORD),
            ('mkdir', '-p', target),
            ('mkdir', '-p', '/var/lib/arca/svm'),
            ('ln', '-sfnT', target, '/var/lib/arca/svm/svm_a'),
            ('tee', RECORD + '.tmp'),
            ('mv', '-f', RECORD + '.tmp', RECORD))

    def test_existing_svm_stays_where_it_is(self):
        # home is asked only for a new record.
        self.executor.on('cat', stdout=self._record())
        home = mock.Mock()
        self.mgr.create('svm_a', self.net, home=home)
        home.assert_not_called()
        self.assertCommands(('cat', RECORD))

    def test_delete_homed(self):
        target = '/var/lib/arca/pools/arca1/svm/svm_a'
        self.executor.on('readlink', stdout=target + '\n')
        self.mgr.ganesha.export_ids.return_value = []
        self.mgr.delete('svm_a')
        self.assertCommands(('readlink', '/var/lib/arca/svm/svm_a'),
                            ('rm', '-rf', target),
                            ('rm', '-f', '/var/lib/arca/svm/svm_a'))

    @ddt.data('/etc', '/var/lib/arca/pools/arca1/svm/other',
              '/var/lib/arca/pools/arca1/x/svm_a', '/var/lib/arca/pools/')
    def test_delete_refuses_a_foreign_link(self, target):
        self.executor.on('readlink', stdout=target + '\n')
        self.mgr.ganesha.export_ids.return_value = []
        self.assertRaises(exception.Conflict, self.mgr.delete, 'svm_a')
        self.assertNotIn('rm', [c[0] for c in self.executor.commands])

    def test_stop_keeps_the_record(self):
        self.mgr.stop('svm_a')
        self.mgr.ganesha.stop.assert_called_once_with('svm_a')
        self.mgr.netns.delete.assert_called_once_with('svm_a')
        self.assertCommands()

    def test_delete_refuses_while_exporting(self):
        self.mgr.ganesha.export_ids.return_value = [1, 2]
        err = self.assertRaises(exception.InUse, self.mgr.delete, 'svm_a')
        self.assertIn('1, 2', str(err))
        self.mgr.ganesha.stop.assert_not_called()
        self.assertEqual([], self.executor.commands)
