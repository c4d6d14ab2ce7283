import json
import threading
from unittest import mock

import ddt

from arca_openstack import exception
from arca_openstack.node import svm
from arca_openstack import svm_pools
from tests.unit import base

V4 = ('mode=vlan,parent=eth1,vlan=100,cidr=10.0.0.0/24,'
      'range=10.0.0.10-10.0.0.12,gateway=10.0.0.1')
V6 = 'mode=macvlan,parent=eth2,cidr=fd00:2::/64,gateway=fd00:2::1'
DUAL = ('mode=veth,bridge=br-arca,cidr=10.1.0.0/30,cidr6=fd00:1::/64,'
        'range6=fd00:1::10-fd00:1::20,gateway6=fd00:1::1,mtu=1500')
PROJECT = '0123456789abcdef0123456789abcdef'


class Conf(object):
    def __init__(self, **kwargs):
        self.arca_svm_mapping = 'per_project'
        self.arca_svm_name_prefix = 'cinder_'
        self.arca_shared_svm_name = 'arca_shared'
        self.arca_svm_delete_unused = True
        self.arca_address_pools = [V4]
        self.__dict__.update(kwargs)


def record(name, *addresses, mode='vlan', parent='eth1', vlan=100,
           bridge=None):
    net = svm.make_network(mode, list(addresses), parent=parent, vlan=vlan,
                           bridge=bridge)
    return json.dumps({'name': name, 'owner': None,
                       'network': net._asdict()})


@ddt.ddt
class ParseTestCase(base.TestCase):

    def test_vlan_pool(self):
        pool = svm_pools.parse_pool(V4)
        self.assertEqual(('pool0', 'vlan', 'eth1', 100, None, None),
                         pool[:6])
        subnet = pool.subnets[0]
        self.assertEqual('10.0.0.10', str(subnet.first))
        self.assertEqual('10.0.0.12', str(subnet.last))
        self.assertEqual('10.0.0.1', str(subnet.gateway))

    def test_dual_stack(self):
        pool = svm_pools.parse_pool(DUAL + ',name=lab')
        self.assertEqual('lab', pool.name)
        self.assertEqual([4, 6], [s.network.version for s in pool.subnets])
        self.assertEqual(1500, pool.mtu)

    def test_v6_only(self):
        pool = svm_pools.parse_pool(V6)
        self.assertEqual('fd00:2::1', str(pool.subnets[0].first))

    @ddt.data(
        '', 'mode=vlan', 'mode=vlan,parent=eth1,vlan=100',
        'mode=vlan,parent=eth1,cidr=10.0.0.0/24',
        'mode=vlan,parent=eth1,vlan=5000,cidr=10.0.0.0/24',
        'mode=bond,parent=eth1,cidr=10.0.0.0/24',
        'mode=veth,parent=eth1,cidr=10.0.0.0/24',
        'mode=veth,bridge=br0,cidr=10.0.0.1/24',
        'mode=veth,bridge=br0,cidr=10.0.0.0/32',
        'mode=veth,bridge=br0,cidr=10.0.0.0/24,range=10.0.1.1-10.0.1.5',
        'mode=veth,bridge=br0,cidr=10.0.0.0/24,range=10.0.0.9-10.0.0.5',
        'mode=veth,bridge=br0,cidr=10.0.0.0/24,range=10.0.0.9',
        'mode=veth,bridge=br0,cidr=10.0.0.0/24,gateway=10.9.0.1',
        'mode=veth,bridge=br0,cidr=10.0.0.0/24,colour=red',
        'mode=veth,bridge=br0,cidr=10.0.0.0/24,cidr=10.0.1.0/24',
        'mode=veth,bridge=br0,cidr=10.0.0.0/24,mtu=9x',
        'mode=veth,bridge=br0,cidr=fd00::/64,mtu=1000',
        'mode=veth,bridge=br0,cidr=fd00::/64,cidr6=fd01::/64',
        'mode=veth,bridge=br0,cidr=10.0.0.0/24,cidr6=10.1.0.0/24',
        'mode=veth,bridge=br0,cidr=10.0.0.0/24,gateway6=fd00::1',
        'mode=veth,bridge=br 0,cidr=10.0.0.0/24',
        'mode=veth,bridge=br0,cidr=10.0.0.0/24,name=a b',
        'mode=veth;bridge=br0;cidr=10.0.0.0/24',
    )
    def test_bad_entry_names_option(self, entry):
        err = self.assertRaises(svm_pools.PoolConfigError,
                                svm_pools.parse_pool, entry)
        self.assertIn('arca_address_pools', str(err))

    def test_overlapping_pools(self):
        self.assertRaises(svm_pools.PoolConfigError, svm_pools.parse_pools,
                          [V4, 'mode=veth,bridge=br0,cidr=10.0.0.128/25'])

    def test_duplicate_names(self):
        self.assertRaises(svm_pools.PoolConfigError, svm_pools.parse_pools,
                          [V4 + ',name=a', V6 + ',name=a'])

    @ddt.data(dict(arca_svm_mapping='nope'),
              dict(arca_svm_name_prefix='Cinder'),
              dict(arca_svm_name_prefix='toolongprefix'),
              dict(arca_shared_svm_name='Bad-Name'),
              dict(arca_address_pools=[]))
    def test_bad_settings(self, kwargs):
        err = self.assertRaises(svm_pools.PoolConfigError,
                                svm_pools.settings_from_conf, Conf(**kwargs))
        self.assertIn(list(kwargs)[0], str(err))

    def test_shared_needs_no_pool(self):
        s = svm_pools.settings_from_conf(Conf(arca_svm_mapping='shared',
                                              arca_address_pools=[]))
        self.assertEqual((), s.pools)

    @ddt.data(PROJECT, 'abc', '0')
    def test_project_key_keystone_id_kept(self, project):
        self.assertEqual(project, svm_pools.project_key(project))

    @ddt.data('fake', '01234567-89ab-cdef-0123-456789abcdef',
              PROJECT.upper(), 'x' + PROJECT[1:], PROJECT + '0',
              'abc\n')
    def test_project_key_other_ids_hashed(self, project):
        key = svm_pools.project_key(project)
        self.assertRegex(key, '^x[0-9a-f]{31}$')
        self.assertEqual(key, svm_pools.project_key(project))

    @ddt.data(('abc', 'a-b-c'), ('abcdef', 'ABCDEF'), ('abcdef', 'abcDEF'),
              (PROJECT, '%s-%s-%s-%s-%s' % (PROJECT[:8], PROJECT[8:12],
                                            PROJECT[12:16], PROJECT[16:20],
                                            PROJECT[20:])))
    @ddt.unpack
    def test_distinct_ids_never_share_an_svm(self, one, other):
        pools = svm_pools.SVMPools(None, None, svm_pools.settings_from_conf(
            Conf()))
        self.assertNotEqual(svm_pools.project_key(one),
                            svm_pools.project_key(other))
        self.assertNotEqual(pools.svm_name(one), pools.svm_name(other))
        self.assertNotEqual(pools.owner(one), pools.owner(other))

    def test_project_key_bad(self):
        self.assertRaises(exception.InvalidInput, svm_pools.project_key, '')

    def test_nfs_host(self):
        self.assertEqual('[fd00::5]', svm_pools.nfs_host('fd00::5'))
        self.assertEqual('10.0.0.5', svm_pools.nfs_host('10.0.0.5'))


class SVMPoolsTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.svms = svm.SVMManager(self.executor)
        self.svms.netns = base.mock_netns()
        self.svms.ganesha = mock.Mock()
        self.svms.ganesha.export_ids.return_value = []
        self.svms.ganesha.status.return_value = {'running': True}
        self.pool = mock.Mock()
        self.pool.list.return_value = []
        self.settings = svm_pools.settings_from_conf(
            Conf(arca_address_pools=[V4, V6]))
        self.pools = svm_pools.SVMPools(self.svms, self.pool, self.settings)
        self.name = 'cinder_' + PROJECT

    def _records(self, **records):
        self.executor.on('ls', '-1A', '/var/lib/arca/svm',
                         stdout='\n'.join(sorted(records)) + '\n')
        for name, text in records.items():
            self.executor.on('cat', '/var/lib/arca/svm/%s/svm.json' % name,
                             stdout=text)

    def _no_record(self, name):
        self.executor.on('cat', '/var/lib/arca/svm/%s/svm.json' % name,
                         exit_code=1, stderr='No such file or directory')

    def test_allocate_first_free(self):
        self._records(a=record('a', '10.0.0.10/24'),
                      b=record('b', '10.0.0.12/24'))
        net = self.pools.allocate()
        self.assertEqual(('10.0.0.11/24',), net.addresses)
        self.assertEqual(('10.0.0.1',), net.gateways)

    def test_allocate_next_pool_when_full(self):
        self._records(a=record('a', '10.0.0.10/24'),
                      b=record('b', '10.0.0.11/24'),
                      c=record('c', '10.0.0.12/24'))
        net = self.pools.allocate()
        self.assertEqual('macvlan', net.mode)
        self.assertEqual(('fd00:2::2/64',), net.addresses)

    def test_allocate_skips_network_broadcast_gateway(self):
        pools = svm_pools.SVMPools(self.svms, self.pool,
                                   svm_pools.settings_from_conf(Conf(
                                       arca_address_pools=[DUAL])))
        self._records(a=record('a', '10.1.0.2/30', mode='veth', parent=None,
                               vlan=None, bridge='br-arca'))
        net = pools.allocate()
        self.assertEqual(('10.1.0.1/30', 'fd00:1::10/64'), net.addresses)
        self._records(a=record('a', '10.1.0.2/30'),
                      b=record('b', '10.1.0.1/30'))
        self.assertRaises(exception.CapacityExceeded, pools.allocate)

    def test_allocate_exhausted(self):
        settings = self.settings._replace(pools=self.settings.pools[:1])
        pools = svm_pools.SVMPools(self.svms, self.pool, settings)
        self._records(a=record('a', '10.0.0.10/24'),
                      b=record('b', '10.0.0.11/24'),
                      c=record('c', '10.0.0.12/24'))
        err = self.assertRaises(exception.CapacityExceeded, pools.allocate)
        self.assertIn('arca_address_pools', str(err))

    def test_svm_name(self):
        self.assertEqual(self.name, self.pools.svm_name(PROJECT))
        shared = svm_pools.SVMPools(self.svms, self.pool,
                                    self.settings._replace(mapping='shared'))
        self.assertEqual('arca_shared', shared.svm_name(PROJECT))

    def test_ensure_svm_creates(self):
        self._records(a=record('a', '10.0.0.10/24'))
        self._no_record(self.name)
        self.svms.create = mock.Mock()
        self.pools.ensure_svm(PROJECT)
        net = self.svms.create.call_args[0][1]
        self.assertEqual(('10.0.0.11/24',), net.addresses)
        self.assertEqual('arca.project=' + PROJECT,
                         self.svms.create.call_args[1]['owner'])

    def test_ensure_svm_existing_running(self):
        self._records(**{self.name: record(self.name, '10.0.0.10/24')})
        self.svms.create = mock.Mock()
        self.svms.ensure = mock.Mock()
        rec = self.pools.ensure_svm(PROJECT)
        self.assertEqual(('10.0.0.10/24',), rec['network'].addresses)
        self.svms.create.assert_not_called()
        self.svms.ensure.assert_not_called()

    def test_ensure_svm_rebuilds_when_down(self):
        self._records(**{self.name: record(self.name, '10.0.0.10/24')})
        self.svms.ganesha.status.return_value = {'running': False}
        self.svms.ensure = mock.Mock()
        prepare = mock.Mock()
        self.pools.ensure_svm(PROJECT, prepare_exports=prepare)
        self.svms.ensure.assert_called_once_with(self.name,
                                                 prepare_exports=prepare)

    def test_ensure_svm_may_skip_the_running_check(self):
        self._records(**{self.name: record(self.name, '10.0.0.10/24')})
        self.svms.ganesha.status.return_value = {'running': False}
        self.svms.ensure = mock.Mock()
        rec = self.pools.ensure_svm(PROJECT, check_running=False)
        self.assertEqual(self.name, rec['name'])
        self.svms.ganesha.status.assert_not_called()
        self.svms.ensure.assert_not_called()

    def test_shared_without_record_or_pool(self):
        pools = svm_pools.SVMPools(self.svms, self.pool,
                                   self.settings._replace(mapping='shared',
                                                          pools=()))
        self._no_record('arca_shared')
        self.assertRaises(exception.NotFound, pools.ensure_svm, PROJECT)

    def test_release_unused(self):
        self._records(**{self.name: record(self.name, '10.0.0.10/24')})
        self.svms.delete = base.FakeSVMDelete()
        self.assertTrue(self.pools.release_if_unused(self.name))
        self.assertEqual([self.name], self.svms.delete.removed)
        self.pool.list.assert_called_once_with(
            tags=['arca.svm=' + self.name])

    def test_release_leaves_allocation_free(self):
        # While an unused SVM is checked and removed, another project's
        # SVM can be allocated (the allocation lock is not held).
        self._records(**{self.name: record(self.name, '10.0.0.10/24')})
        self.svms.delete = base.FakeSVMDelete()
        allocated = threading.Event()

        def allocate_meanwhile(tags):
            def take():
                with self.pools._lock():
                    allocated.set()
            thread = threading.Thread(target=take)
            thread.start()
            thread.join(10)
            return []
        self.pool.list.side_effect = allocate_meanwhile
        self.assertTrue(self.pools.release_if_unused(self.name))
        self.assertTrue(allocated.is_set())

    def test_release_keeps_used(self):
        self._records(**{self.name: record(self.name, '10.0.0.10/24')})
        self.svms.delete = base.FakeSVMDelete()
        self.pool.list.return_value = [{'name': 'vol-x'}]
        self.assertFalse(self.pools.release_if_unused(self.name))
        self.pool.list.return_value = []
        self.svms.ganesha.export_ids.return_value = [1]
        self.executor.reset()
        self.assertFalse(self.pools.release_if_unused(self.name))
        self.assertEqual([], self.svms.delete.removed)
        # An SVM with exports needs no further look (record, LVs).
        self.assertEqual([], self.executor.commands)

    def test_release_disabled_or_shared(self):
        self.svms.delete = base.FakeSVMDelete()
        for settings in (self.settings._replace(delete_unused=False),
                         self.settings._replace(mapping='shared')):
            pools = svm_pools.SVMPools(self.svms, self.pool, settings)
            self.assertFalse(pools.release_if_unused(self.name))
        self.assertEqual([], self.svms.delete.removed)
        self.assertEqual([], self.executor.commands)

    def test_release_without_record(self):
        self._no_record(self.name)
        self.assertFalse(self.pools.release_if_unused(self.name))

    def test_address_of(self):
        rec = {'network': svm.make_network(
            'veth', ['10.0.0.5/24', 'fd00::5/64'], bridge='br0')}
        self.assertEqual('10.0.0.5', svm_pools.address_of(rec))
        self.assertEqual('fd00::5', svm_pools.address_of(rec, 6))
        self.assertEqual('10.0.0.5', svm_pools.address_of(
            {'network': svm.make_network('veth', ['10.0.0.5/24'],
                                         bridge='br0')}, 6))
