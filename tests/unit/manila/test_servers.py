"""Unit tests of the Manila driver: share servers (DHSS=True)."""

import json
from unittest import mock

import ddt
from manila import exception

from arca_openstack.node import ganesha
from arca_openstack.node import ganesha_config
from arca_openstack.node import svm as svm_mod
from tests.unit.manila import fakes
from tests.unit.manila.fakes import LV
from tests.unit.manila.fakes import row
from tests.unit.manila.fakes import SERVER
from tests.unit.manila.fakes import SERVER_SVM

RECORD = '/var/lib/arca/svm/%s/svm.json' % SERVER_SVM


def alloc(ip='10.1.0.5', cidr='10.1.0.0/24', gateway='10.1.0.1',
          network_type='vlan', segmentation_id=200, mtu=1500):
    return {'id': 'alloc-' + ip, 'ip_address': ip, 'cidr': cidr,
            'ip_version': 6 if ':' in ip else 4, 'gateway': gateway,
            'network_type': network_type,
            'segmentation_id': segmentation_id, 'mtu': mtu,
            'label': 'user'}


def info(*allocations, **fields):
    entry = {'server_id': SERVER, 'segmentation_id': None, 'cidr': None,
             'network_type': None, 'neutron_net_id': 'net',
             'neutron_subnet_id': 'subnet', 'security_services': [],
             'network_allocations': list(allocations),
             'admin_network_allocations': [], 'backend_details': {}}
    entry.update(fields)
    return entry


@ddt.ddt
class ShareServerTestCase(fakes.DriverTestCase):

    DHSS = True

    def _setup(self, *entries):
        svms = self.driver.node_client.agent.svms
        with mock.patch.object(svms, 'create', return_value=None) as create:
            details = self.driver._setup_server(list(entries))
        create.assert_called_once_with(SERVER_SVM, mock.ANY,
                                       owner='arca.share_server=' + SERVER,
                                       home=mock.ANY)
        network = create.call_args[0][1]
        # The identifier Manila shows is the SVM's name.
        self.assertEqual({'svm_name': SERVER_SVM,
                          'svm_network': json.dumps(network._asdict(),
                                                    sort_keys=True),
                          'identifier': SERVER_SVM},
                         details)
        return network

    def test_allocations_number(self):
        self.assertEqual(1, self.driver.get_network_allocations_number())
        self.assertEqual(0,
                         self.driver.get_admin_network_allocations_number())

    def test_setup_vlan_ipv4(self):
        network = self._setup(info(alloc()))
        self.assertEqual(svm_mod.make_network(
            'vlan', ['10.1.0.5/24'], ['10.1.0.1'], parent='eth1', vlan=200,
            mtu=1500), network)

    def test_setup_vlan_ipv6(self):
        network = self._setup(info(alloc('fd00:1::5', 'fd00:1::/64',
                                         'fd00:1::1', mtu=9000)))
        self.assertEqual(svm_mod.make_network(
            'vlan', ['fd00:1::5/64'], ['fd00:1::1'], parent='eth1',
            vlan=200, mtu=9000), network)

    def test_setup_dual_stack_subnets(self):
        network = self._setup(
            info(alloc()),
            info(alloc('fd00:1::5', 'fd00:1::/64', 'fd00:1::1', mtu=1400)))
        self.assertEqual(('10.1.0.5/24', 'fd00:1::5/64'), network.addresses)
        self.assertEqual(('10.1.0.1', 'fd00:1::1'), network.gateways)
        self.assertEqual(1400, network.mtu)

    @ddt.data(None, 'flat')
    def test_setup_flat_is_macvlan_on_parent(self, net_type):
        network = self._setup(info(alloc(network_type=net_type,
                                         segmentation_id=None, gateway=None,
                                         mtu=None)))
        self.assertEqual(svm_mod.make_network(
            'macvlan', ['10.1.0.5/24'], parent='eth1'), network)

    def test_setup_flat_veth_into_bridge(self):
        drv = self.make_driver(fakes.FakeConf(
            dhss=True, arca_share_server_network_mode='veth',
            arca_share_server_bridge='br-arca'))
        self.driver = drv
        network = self._setup(info(alloc(network_type='flat',
                                         segmentation_id=None)))
        self.assertEqual('veth', network.mode)
        self.assertEqual('br-arca', network.bridge)

    def test_setup_cidr_from_entry(self):
        allocation = alloc()
        allocation['cidr'] = None
        network = self._setup(info(allocation, cidr='10.1.0.0/16'))
        self.assertEqual(('10.1.0.5/16',), network.addresses)

    @ddt.data(
        [info()],
        [info(alloc(network_type='vxlan', segmentation_id=5000))],
        [info(alloc(network_type='gre', segmentation_id=7))],
        [info(alloc(network_type='vlan', segmentation_id=None))],
        [info(alloc(network_type='flat', segmentation_id=7))],
        [info(alloc(ip='10.1.0.0'))],
        [info(alloc(ip='not-an-ip'))],
        [info(alloc(cidr=None))],
        [info(alloc(gateway='10.9.9.1'))],
        [info(alloc()), info(alloc('10.2.0.5', '10.2.0.0/24', '10.2.0.1',
                                   segmentation_id=201))])
    def test_setup_bad_network(self, entries):
        self.assertRaises(exception.NetworkBadConfigurationException,
                          self.driver._setup_server, entries)
        self.assertEqual([], self.executor.commands)

    def test_setup_vlan_needs_vlan_mode(self):
        self.driver = self.make_driver(fakes.FakeConf(
            dhss=True, arca_share_server_network_mode='macvlan'))
        err = self.assertRaises(exception.NetworkBadConfigurationException,
                                self.driver._setup_server, [info(alloc())])
        self.assertIn('arca_share_server_network_mode', str(err))

    def test_setup_real_create(self):
        self.executor.on('cat', RECORD, exit_code=1,
                         stderr='cat: No such file or directory')
        details = self.driver._setup_server([info(alloc())])
        record = json.loads(self.executor.input_for('tee', RECORD + '.tmp'))
        self.assertEqual(SERVER_SVM, record['name'])
        self.assertEqual('arca.share_server=' + SERVER, record['owner'])
        self.assertEqual(json.loads(details['svm_network']),
                         record['network'])
        netns = self.driver.node_client.agent.svms.netns
        # The gateway once Ganesha runs (see SVMManager._plumb).
        netns.setup.assert_called_once_with(
            SERVER_SVM, 'vlan', ['10.1.0.5/24'], gateways=[],
            parent='eth1', vlan=200, bridge=None, mtu=1500)
        self.ganesha.start.assert_called_once_with(SERVER_SVM)
        netns.set_gateway.assert_called_once_with(
            SERVER_SVM, '10.1.0.1', netns.setup.return_value)

    def test_setup_failure_keeps_details_and_cleans_up(self):
        # No record before the set-up; the one it writes after.
        self.svm_exists(SERVER_SVM, ('10.1.0.5/24',), ('10.1.0.1',))
        self.executor.on('cat', RECORD, exit_code=1, times=1,
                         stderr='cat: No such file or directory')
        self.ganesha.start.side_effect = ganesha.GaneshaError(
            svm=SERVER_SVM, reason='did not start')
        err = self.assertRaises(exception.ShareBackendException,
                                self.driver._setup_server, [info(alloc())])
        self.assertEqual(SERVER_SVM,
                         err.detail_data['server_details']['svm_name'])
        self.ganesha.stop.assert_called_once_with(SERVER_SVM)
        self.ran('rm', '-rf', '/var/lib/arca/svm/' + SERVER_SVM)

    def test_setup_bad_server_id(self):
        self.assertRaises(exception.InvalidShareServer,
                          self.driver._setup_server,
                          [info(alloc(), server_id='x;rm')])

    def test_teardown(self):
        self.svm_exists(SERVER_SVM, ('10.1.0.5/24',), ('10.1.0.1',))
        self.ganesha.put(SERVER_SVM, ganesha_config.Export(
            3, '/var/lib/arca/mnt/' + LV, '/' + LV))
        self.driver._teardown_server({'svm_name': SERVER_SVM,
                                      'svm_network': '{}'})
        self.assertEqual([(SERVER_SVM, 3)], self.ganesha.removed)
        self.ganesha.stop.assert_called_once_with(SERVER_SVM)
        svms = self.driver.node_client.agent.svms
        svms.netns.delete.assert_called_once_with(SERVER_SVM)
        self.ran('rm', '-rf', '/var/lib/arca/svm/' + SERVER_SVM)
        self.not_ran('lvremove')

    def test_teardown_without_record_touches_nothing(self):
        # A namespace of that name without an Arca record is not Arca's.
        self.no_svm(SERVER_SVM)
        self.driver._teardown_server({'svm_name': SERVER_SVM,
                                      'svm_network': '{}'})
        self.ganesha.stop.assert_not_called()
        svms = self.driver.node_client.agent.svms
        svms.netns.delete.assert_not_called()
        self.not_ran('rm')

    @ddt.data(None, {}, {'security_service_ldap': '{}'})
    def test_teardown_without_svm(self, details):
        self.driver._teardown_server(details)
        self.assertEqual([], self.executor.commands)
        self.ganesha.stop.assert_not_called()

    def test_teardown_bad_name(self):
        self.assertRaises(exception.InvalidInput,
                          self.driver._teardown_server,
                          {'svm_name': '../etc'})

    @ddt.data(SERVER_SVM, SERVER)
    def test_manage_server(self, given):
        # By the SVM's name, or by the share server id that Manila showed
        # as identifier for servers set up by earlier releases.
        self.svm_exists(SERVER_SVM, ('10.1.0.5/24', 'fd00:1::5/64'), (),
                        owner='arca.share_server=' + SERVER)
        self.vg()
        server = fakes.share_server()
        self.assertEqual(['10.1.0.5', 'fd00:1::5'],
                         self.driver.get_share_server_network_info(
                             None, server, given, {}))
        identifier, details = self.driver.manage_server(None, server,
                                                        given, {})
        self.assertEqual(SERVER_SVM, identifier)
        self.assertEqual(SERVER_SVM, details['svm_name'])
        self.assertEqual(['10.1.0.5/24', 'fd00:1::5/64'],
                         json.loads(details['svm_network'])['addresses'])

    @ddt.data('Bad-Name', '', None)
    def test_manage_server_bad_identifier(self, identifier):
        self.assertRaises(exception.ManageShareServerError,
                          self.driver.manage_server, None,
                          fakes.share_server(), identifier, {})

    def test_manage_server_unknown(self):
        self.no_svm(SERVER_SVM)
        self.assertRaises(exception.ManageShareServerError,
                          self.driver.get_share_server_network_info, None,
                          fakes.share_server(), SERVER_SVM, {})

    def test_unmanage_server_keeps_svm(self):
        self.driver.unmanage_server({'svm_name': SERVER_SVM})
        self.assertEqual([], self.executor.commands)
        self.ganesha.stop.assert_not_called()

    def test_create_share_on_server(self):
        tags = ('arca.id=%s,arca.kind=share,arca.project=%s,arca.svm=%s'
                % (fakes.SHARE, fakes.PROJECT, SERVER_SVM))
        self.lv(LV, row(LV, 3, tags))
        self.svm_exists(SERVER_SVM, ('10.1.0.5/24',), ('10.1.0.1',))
        self.executor.on('blkid', exit_code=2)
        self.mounted_later(LV)
        result = self.driver.create_share(None, self.share,
                                          share_server=fakes.share_server())
        self.assertEqual('10.1.0.5:/' + LV, result[0]['path'])
        self.ran('lvcreate', '-T', 'arca/pool', '-V', '3g', '-n', LV,
                 '--addtag', 'arca.id=' + fakes.SHARE, '--addtag',
                 'arca.kind=share', '--addtag',
                 'arca.project=' + fakes.PROJECT, '--addtag',
                 'arca.svm=' + SERVER_SVM)
        self.assertEqual(SERVER_SVM, self.ganesha.added[-1][0])

    def test_server_svm_from_id_when_details_lack_it(self):
        server = fakes.share_server(svm_name=None)
        self.assertEqual(SERVER_SVM, self.driver._server_svm(server))

    def test_delete_share_on_server_keeps_svm(self):
        tags = 'arca.id=%s,arca.kind=share,arca.svm=%s' % (fakes.SHARE,
                                                           SERVER_SVM)
        self.lv(LV, row(LV, 3, tags))
        self.driver.delete_share(None, self.share,
                                 share_server=fakes.share_server())
        self.ran('lvremove', '-f', 'arca/' + LV)
        # The server's SVM lives until Manila tears the server down.
        self.ganesha.stop.assert_not_called()

    def test_ip_versions(self):
        self.assertEqual([4, 6], self.driver.get_configured_ip_versions())
        self.network_api.return_value.enabled_ip_versions = {4}
        self.vg(row('pool', 100, segtype='thin-pool', pool=''))
        stats = self.driver.get_share_stats(refresh=True)
        self.assertTrue(stats['ipv4_support'])
        self.assertFalse(stats['ipv6_support'])
        self.assertTrue(stats['driver_handles_share_servers'])
