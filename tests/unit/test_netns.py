"""Unit tests of arca_openstack.node.netns.

JSON outputs are those of iproute2 6.1 (Debian 12), captured from real
namespaces, veth pairs and macvlans; the VLAN linkinfo follows the same
format (the capture host had no 8021q module).
"""

import json

import ddt

from arca_openstack import exception
from arca_openstack.node import netns
from tests.unit import base
from tests.unit import rootwrap_check

SVM = 'svm_a'
INNER = 'asv26a815513069'
HOST = 'ash26a815513069'
VLAN_IF = netns.vlan_interface_name('eth1', 100)

LIST = ('ip', '-j', 'netns', 'list')
ADDR = ('ip', '-n', SVM, '-j', 'addr', 'show', 'dev', INNER)

# Real outputs (iproute2 6.1).
REAL_NETNS_LIST = '[{"name":"svm_ab","id":1},{"name":"svm_a","id":0}]\n'
REAL_NETNS_LIST_NO_ID = '[{"name":"arcatest_nx1"}]\n'
REAL_VETH_HOST = (
    '[{"ifindex":7,"link_index":2,"ifname":"arcatst_h2","flags":["BROADCAST'
    '","MULTICAST"],"mtu":1500,"qdisc":"noop","master":"arcatst_br","operst'
    'ate":"DOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_'
    'type":"ether","address":"fe:c6:71:97:39:01","broadcast":"ff:ff:ff:ff:f'
    'f:ff","link_netnsid":0,"promiscuity":1,"allmulti":1,"min_mtu":68,"max_'
    'mtu":65535,"linkinfo":{"info_kind":"veth","info_slave_kind":"bridge","'
    'info_slave_data":{"state":"disabled","priority":32,"cost":2,"hairpin":'
    'false,"guard":false,"root_block":false,"fastleave":false,"learning":tr'
    'ue,"flood":true,"id":"0x8001","no":"0x1","designated_port":32769,"desi'
    'gnated_cost":0,"bridge_id":"8000.fe:c6:71:97:39:1","root_id":"8000.fe:'
    'c6:71:97:39:1","hold_timer":0.00,"message_age_timer":0.00,"forward_del'
    'ay_timer":0.00,"topology_change_ack":0,"config_pending":0,"proxy_arp":'
    'false,"proxy_arp_wifi":false,"multicast_router":1,"mcast_flood":true,"'
    'bcast_flood":true,"mcast_to_unicast":false,"neigh_suppress":false,"gro'
    'up_fwd_mask":"0","group_fwd_mask_str":"0x0","vlan_tunnel":false,"isola'
    'ted":false,"locked":false}},"inet6_addr_gen_mode":"eui64","num_tx_queu'
    'es":2,"num_rx_queues":2,"gso_max_size":65536,"gso_max_segs":65535,"tso'
    '_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536}]\n')
REAL_MACVLAN = (
    '[{"ifindex":3,"link_index":8,"ifname":"arcatst_m","flags":["BROADCAST"'
    ',"MULTICAST"],"mtu":1500,"qdisc":"noop","operstate":"DOWN","linkmode":'
    '"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address'
    '":"4e:23:40:4a:d1:5e","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0'
    ',"promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":'
    '{"info_kind":"macvlan","info_data":{"mode":"bridge","bcqueuelen":1000,'
    '"usedbcqueuelen":1000}},"inet6_addr_gen_mode":"eui64","num_tx_queues":'
    '1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"tso_max'
    '_size":524280,"tso_max_segs":65535,"gro_max_size":65536}]\n')
REAL_ADDR = (
    '[{"ifindex":5,"link_index":6,"ifname":"arca0","flags":["NO-CARRIER","B'
    'ROADCAST","MULTICAST","UP"],"mtu":1400,"qdisc":"noqueue","operstate":"'
    'LOWERLAYERDOWN","group":"default","txqlen":1000,"link_type":"ether","a'
    'ddress":"e6:26:5e:10:26:a0","broadcast":"ff:ff:ff:ff:ff:ff","link_netn'
    'sid":0,"addr_info":[{"family":"inet","local":"10.0.0.5","prefixlen":24'
    ',"scope":"global","label":"arca0","valid_life_time":4294967295,"prefer'
    'red_life_time":4294967295},{"family":"inet6","local":"fd00::5","prefix'
    'len":64,"scope":"global","nodad":true,"valid_life_time":4294967295,"pr'
    'eferred_life_time":4294967295}]}]\n')
REAL_ROUTE4 = ('[{"dst":"default","gateway":"10.0.0.1","dev":"arca0",'
               '"flags":["linkdown"]}]\n')
REAL_ROUTE6 = ('[{"dst":"default","gateway":"fe80::1","dev":"arca0",'
               '"metric":1024,"flags":["linkdown"],"pref":"medium"}]\n')


def link_json(name, kind=None, ifindex=5, mtu=1500, up=True, vlan=None,
              master=None, link_index=None, link=None):
    """``ip -j -d link show`` output in iproute2 6.1's shape.

    iproute2 prints a parent in the same namespace by name (``link``), one
    in another namespace by ifindex (``link_index``, ``link_netnsid``).
    """
    d = {'ifindex': ifindex}
    if link is not None:
        d['link'] = link
    if link_index is not None:
        d['link_index'] = link_index
    d.update({'ifname': name,
              'flags': ['BROADCAST', 'MULTICAST'] + (
                  ['UP', 'LOWER_UP'] if up else []),
              'mtu': mtu, 'qdisc': 'noqueue'})
    if master:
        d['master'] = master
    d.update({'operstate': 'UP' if up else 'DOWN', 'linkmode': 'DEFAULT',
              'group': 'default', 'txqlen': 1000, 'link_type': 'ether',
              'address': '52:54:00:12:34:56',
              'broadcast': 'ff:ff:ff:ff:ff:ff', 'promiscuity': 0,
              'allmulti': 0, 'min_mtu': 68, 'max_mtu': 65535})
    if link_index is not None:
        d['link_netnsid'] = 0
    if kind:
        info = {'info_kind': kind}
        if kind == 'vlan':
            info['info_data'] = {'protocol': '802.1Q', 'id': vlan,
                                 'flags': ['REORDER_HDR']}
        elif kind == 'macvlan':
            info['info_data'] = {'mode': 'bridge', 'bcqueuelen': 1000,
                                 'usedbcqueuelen': 1000}
        if master:
            info['info_slave_kind'] = 'bridge'
        d['linkinfo'] = info
    d.update({'inet6_addr_gen_mode': 'eui64', 'num_tx_queues': 1,
              'num_rx_queues': 1, 'gso_max_size': 65536})
    return json.dumps([d])


def addr_json(name, addrs, up=True):
    """``ip -j addr show`` output; addrs: (cidr, scope[, extra dict])."""
    info = []
    for entry in addrs:
        cidr, scope = entry[0], entry[1]
        local, prefix = cidr.split('/')
        a = {'family': 'inet6' if ':' in local else 'inet', 'local': local,
             'prefixlen': int(prefix), 'scope': scope}
        if len(entry) > 2:
            a.update(entry[2])
        a.update({'valid_life_time': 4294967295,
                  'preferred_life_time': 4294967295})
        info.append(a)
    return json.dumps([{
        'ifindex': 5, 'link_index': 2, 'ifname': name,
        'flags': ['BROADCAST', 'MULTICAST'] + (['UP', 'LOWER_UP']
                                               if up else []),
        'mtu': 1500, 'qdisc': 'noqueue', 'operstate': 'UP',
        'group': 'default', 'txqlen': 1000, 'link_type': 'ether',
        'address': '52:54:00:12:34:56', 'broadcast': 'ff:ff:ff:ff:ff:ff',
        'link_netnsid': 0, 'addr_info': info}])


def show_ns(ifname, ns=SVM):
    return ('ip', '-n', ns, '-j', '-d', 'link', 'show', 'dev', ifname)


def show_root(ifname):
    return ('ip', '-j', '-d', 'link', 'show', 'dev', ifname)


class NetnsTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.netns = netns.Netns(self.executor)
        self.executor.on(*LIST, stdout='[{"name":"svm_a","id":0}]\n')
        self.executor.on('ip', '-j', '-d', 'link', 'show', 'dev',
                         exit_code=1, stderr='Device does not exist.\n')
        self.executor.on('ip', '-n', SVM, '-j', '-d', 'link', 'show', 'dev',
                         exit_code=1, stderr='Device does not exist.\n')
        self.executor.on('ip', '-j', '-d', 'link', 'show', 'dev', 'eth1',
                         stdout=link_json('eth1', ifindex=2))
        self.executor.on('ip', '-j', '-d', 'link', 'show', 'dev', 'br0',
                         stdout=link_json('br0', kind='bridge', ifindex=8))

    def all_links(self, *links):
        """Script ``ip -j -d link show`` (every root interface)."""
        self.executor.on('ip', '-j', '-d', 'link', 'show', stdout='[%s]' % (
            ','.join(link[1:-1] for link in links)))
        # The list's rule is a prefix of these: add them again after it.
        self.executor.on('ip', '-j', '-d', 'link', 'show', 'dev',
                         exit_code=1, stderr='Device does not exist.\n')
        self.executor.on('ip', '-j', '-d', 'link', 'show', 'dev', 'eth1',
                         stdout=link_json('eth1', ifindex=2))

    def no_namespaces(self):
        self.executor.on(*LIST, stdout='')

    def inner(self, times=None, **kwargs):
        self.executor.on(*show_ns(INNER), stdout=link_json(INNER, **kwargs),
                         times=times)

    def root(self, ifname, times=None, **kwargs):
        self.executor.on(*show_root(ifname),
                         stdout=link_json(ifname, **kwargs), times=times)

    def root_missing(self, ifname, times=None):
        self.executor.on(*show_root(ifname), exit_code=1, times=times,
                         stderr='Device "%s" does not exist.\n' % ifname)

    def addrs(self, *addrs, times=None):
        self.executor.on(*ADDR, stdout=addr_json(INNER, addrs), times=times)


class TestNames(NetnsTestCase):

    def test_stable_scheme(self):
        # The names are a persistent on-node record: never change them.
        self.assertEqual((INNER, HOST), netns.interface_names(SVM))

    def test_fit_ifnamsiz_and_differ(self):
        names = set()
        for svm in ('a', 'svm_a', 'svm_b', 'svm_a1', 'a' * 40, 'z_9'):
            inner, host = netns.interface_names(svm)
            self.assertLessEqual(len(inner), 15)
            self.assertLessEqual(len(host), 15)
            names.update((inner, host))
        self.assertEqual(12, len(names))

    def test_invalid(self):
        self.assertRaises(exception.InvalidInput, netns.interface_names,
                          'Bad-Name')


class TestParsing(NetnsTestCase):

    def test_netns_list(self):
        self.assertEqual(['svm_a', 'svm_ab'],
                         netns.parse_netns_list(REAL_NETNS_LIST))
        self.assertEqual(['arcatest_nx1'],
                         netns.parse_netns_list(REAL_NETNS_LIST_NO_ID))
        # iproute2 prints nothing at all when there is no namespace.
        self.assertEqual([], netns.parse_netns_list(''))

    def test_netns_list_garbage(self):
        for out in ('arcatest_nx1\n', '{"name": "x"}', '[{"id": 0}]'):
            self.assertRaises(exception.ParseError, netns.parse_netns_list,
                              out)

    def test_veth_host_end(self):
        link = netns.parse_link(REAL_VETH_HOST)
        self.assertEqual(netns.Link('arcatst_h2', 7, 'veth', None, 1500,
                                    'DOWN', False, 'arcatst_br', 2), link)

    def test_macvlan(self):
        link = netns.parse_link(REAL_MACVLAN)
        self.assertEqual(('macvlan', 8, None), (link.kind, link.link_index,
                                                link.master))

    def test_parent_in_same_namespace_by_name(self):
        link = netns.parse_link(link_json('avl1', kind='vlan', vlan=100,
                                          link='eth1'))
        self.assertEqual(('eth1', None), (link.link, link.link_index))

    def test_vlan(self):
        link = netns.parse_link(link_json('x', kind='vlan', vlan=100,
                                          link_index=2, mtu=9000))
        self.assertEqual(('vlan', 100, 9000, True, 'UP'),
                         (link.kind, link.vlan, link.mtu, link.up,
                          link.state))

    def test_plain_nic(self):
        self.assertIsNone(netns.parse_link(link_json('eth1')).kind)

    def test_link_garbage(self):
        for out in ('', '[]', 'Device', '[{"ifname": "x"}]',
                    link_json('a')[:-1] + ',' + link_json('b')[1:]):
            self.assertRaises(exception.ParseError, netns.parse_link, out)

    def test_addresses(self):
        self.assertEqual(
            [('10.0.0.5/24', 'global', False),
             ('fd00::5/64', 'global', False)],
            [(str(i), s, f) for i, s, f in netns.parse_addresses(REAL_ADDR)])


class TestNamespaces(NetnsTestCase):

    def test_list(self):
        self.executor.on(*LIST, stdout=REAL_NETNS_LIST)
        self.assertEqual(['svm_a', 'svm_ab'], self.netns.list())
        self.assertCommands(LIST)

    def test_exists_is_exact(self):
        self.executor.on(*LIST, stdout=REAL_NETNS_LIST)
        self.assertTrue(self.netns.exists('svm_a'))
        self.assertTrue(self.netns.exists('svm_ab'))
        self.assertFalse(self.netns.exists('svm'))
        self.assertFalse(self.netns.exists('svm_abc'))

    def test_exists_none(self):
        self.no_namespaces()
        self.assertFalse(self.netns.exists(SVM))

    def test_create(self):
        self.no_namespaces()
        self.netns.create(SVM)
        self.assertCommands(LIST, ('ip', 'netns', 'add', SVM),
                            ('ip', '-n', SVM, 'link', 'set', 'dev', 'lo',
                             'up'))

    def test_create_exists(self):
        self.netns.create(SVM)
        self.assertCommands(LIST, ('ip', '-n', SVM, 'link', 'set', 'dev',
                                   'lo', 'up'))

    def test_create_raced(self):
        self.no_namespaces()
        self.executor.on('ip', 'netns', 'add', exit_code=1, stderr=(
            'Cannot create namespace file "/run/netns/svm_a": File exists'))
        self.netns.create(SVM)
        self.assertEqual(3, len(self.executor.commands))

    def test_create_fails(self):
        self.no_namespaces()
        self.executor.on('ip', 'netns', 'add', exit_code=1,
                         stderr='mount --make-shared /run/netns failed')
        self.assertRaises(exception.CommandFailed, self.netns.create, SVM)

    def test_delete_with_interface(self):
        self.inner(kind='veth', link_index=9)
        self.netns.delete(SVM)
        self.assertCommands(
            LIST, show_ns(INNER),
            ('ip', '-n', SVM, 'link', 'del', 'dev', INNER),
            show_root(INNER), show_root(HOST),
            ('ip', 'netns', 'delete', SVM))

    def test_delete_empty(self):
        self.netns.delete(SVM)
        self.assertCommands(LIST, show_ns(INNER), show_root(INNER),
                            show_root(HOST), ('ip', 'netns', 'delete', SVM))

    def test_delete_gone(self):
        self.no_namespaces()
        self.netns.delete(SVM)
        self.assertCommands(LIST, show_root(INNER), show_root(HOST))

    def test_delete_gone_cleans_root_leftovers(self):
        self.no_namespaces()
        self.root(INNER, kind='vlan', vlan=100, link_index=2)
        self.root(HOST, kind='veth', link_index=3)
        self.netns.delete(SVM)
        self.assertCommands(LIST, show_root(INNER),
                            ('ip', 'link', 'del', 'dev', INNER),
                            show_root(HOST),
                            ('ip', 'link', 'del', 'dev', HOST))

    def test_delete_stale_namespace_file(self):
        self.executor.on(*show_ns(INNER), exit_code=255, stderr=(
            'Cannot open network namespace "svm_a": Invalid argument'))
        self.netns.delete(SVM)
        self.assertCommands(LIST, show_ns(INNER), show_root(INNER),
                            show_root(HOST), ('ip', 'netns', 'delete', SVM))

    def test_delete_raced(self):
        self.executor.on('ip', 'netns', 'delete', exit_code=1, stderr=(
            'Cannot remove namespace file "/run/netns/svm_a": No such file '
            'or directory'))
        self.netns.delete(SVM)

    def test_delete_refuses_foreign_device(self):
        self.no_namespaces()
        self.root(HOST, kind='bridge')
        self.assertRaises(exception.Conflict, self.netns.delete, SVM)
        self.assertNotIn(('ip', 'link', 'del', 'dev', HOST),
                         self.executor.commands)


@ddt.ddt
class TestPlug(NetnsTestCase):

    def test_vlan_new(self):
        self.assertEqual(INNER, self.netns.plug(SVM, 'vlan', parent='eth1',
                                                vlan=100, mtu=1400))
        self.assertCommands(
            LIST, show_root('eth1'), show_ns(INNER), show_root(INNER),
            show_root(VLAN_IF),
            ('ip', 'link', 'add', 'link', 'eth1', 'name', VLAN_IF, 'type',
             'vlan', 'id', '100'),
            ('ip', 'link', 'set', 'dev', VLAN_IF, 'mtu', '1400', 'up'),
            ('ip', 'link', 'add', 'link', VLAN_IF, 'name', INNER, 'netns',
             SVM, 'type', 'macvlan', 'mode', 'private'),
            ('ip', '-n', SVM, 'link', 'set', 'dev', INNER, 'mtu', '1400',
             'up'))

    def test_vlan_name(self):
        # A persistent on-node name: never change the scheme.
        self.assertEqual('avlf27dd9fbea9e', VLAN_IF)
        self.assertNotEqual(VLAN_IF, netns.vlan_interface_name('eth1', 101))
        self.assertNotEqual(VLAN_IF, netns.vlan_interface_name('eth2', 100))

    def test_vlan_shared_interface_exists(self):
        # A second SVM on the VLAN: the shared interface is reused.
        self.root(VLAN_IF, kind='vlan', vlan=100, link='eth1', ifindex=30,
                  mtu=9000)
        self.netns.plug(SVM, 'vlan', parent='eth1', vlan=100, mtu=1500)
        self.assertCommands(
            LIST, show_root('eth1'), show_ns(INNER), show_root(INNER),
            show_root(VLAN_IF),
            ('ip', 'link', 'add', 'link', VLAN_IF, 'name', INNER, 'netns',
             SVM, 'type', 'macvlan', 'mode', 'private'),
            ('ip', '-n', SVM, 'link', 'set', 'dev', INNER, 'mtu', '1500',
             'up'))

    def test_vlan_shared_interface_raced(self):
        self.root_missing(VLAN_IF, times=1)
        self.root(VLAN_IF, kind='vlan', vlan=100, link='eth1', ifindex=30)
        self.executor.on('ip', 'link', 'add', 'link', 'eth1', exit_code=2,
                         stderr='RTNETLINK answers: File exists\n')
        self.netns.plug(SVM, 'vlan', parent='eth1', vlan=100)
        self.assertIn(('ip', 'link', 'add', 'link', VLAN_IF, 'name', INNER,
                       'netns', SVM, 'type', 'macvlan', 'mode', 'private'),
                      self.executor.commands)

    def vlan_taken(self, holder_vlan):
        """VLAN 100 of eth1 is taken; the root namespace has eth1.N."""
        self.executor.on('ip', 'link', 'add', 'link', 'eth1', exit_code=2,
                         stderr='Error: 8021q: VLAN device already '
                                'exists.\n')
        self.all_links(link_json('eth1', ifindex=2),
                       link_json('eth1.%d' % holder_vlan, kind='vlan',
                                 vlan=holder_vlan, link='eth1', ifindex=31))

    def test_vlan_operator_interface_used(self):
        # The operator's own eth1.100 holds the VLAN id: SVMs share it.
        self.vlan_taken(100)
        self.netns.plug(SVM, 'vlan', parent='eth1', vlan=100)
        self.assertEqual(
            [('ip', '-j', '-d', 'link', 'show'),
             ('ip', 'link', 'add', 'link', 'eth1.100', 'name', INNER,
              'netns', SVM, 'type', 'macvlan', 'mode', 'private')],
            self.executor.commands[6:8])

    def test_vlan_held_in_other_namespace(self):
        self.vlan_taken(200)
        err = self.assertRaises(netns.VlanInUse, self.netns.plug, SVM,
                                'vlan', parent='eth1', vlan=100)
        self.assertEqual(('eth1', 100), (err.parent, err.vlan))
        self.assertIsInstance(err, exception.Conflict)
        self.assertNotIn('macvlan', self.executor.commands[-1])

    def test_vlan_shared_interface_wrong_vlan(self):
        self.root(VLAN_IF, kind='vlan', vlan=200, link='eth1', ifindex=30)
        self.assertRaises(exception.Conflict, self.netns.plug, SVM, 'vlan',
                          parent='eth1', vlan=100)
        self.assertEqual(5, len(self.executor.commands))

    def test_vlan_legacy_interface_replaced(self):
        # An earlier release's SVM: its own VLAN interface in the
        # namespace holds the VLAN id; it becomes a macvlan on the shared
        # interface.
        self.inner(kind='vlan', vlan=100, link_index=2, times=1)
        self.netns.plug(SVM, 'vlan', parent='eth1', vlan=100)
        self.assertCommands(
            LIST, show_root('eth1'), show_ns(INNER),
            ('ip', '-n', SVM, 'link', 'del', 'dev', INNER),
            show_root(VLAN_IF),
            ('ip', 'link', 'add', 'link', 'eth1', 'name', VLAN_IF, 'type',
             'vlan', 'id', '100'),
            ('ip', 'link', 'set', 'dev', VLAN_IF, 'up'),
            ('ip', 'link', 'add', 'link', VLAN_IF, 'name', INNER, 'netns',
             SVM, 'type', 'macvlan', 'mode', 'private'),
            ('ip', '-n', SVM, 'link', 'set', 'dev', INNER, 'up'))

    def test_macvlan_new(self):
        self.netns.plug(SVM, 'macvlan', parent='eth1')
        self.assertCommands(
            LIST, show_root('eth1'), show_ns(INNER), show_root(INNER),
            ('ip', 'link', 'add', 'link', 'eth1', 'name', INNER, 'netns',
             SVM, 'type', 'macvlan', 'mode', 'private'),
            ('ip', '-n', SVM, 'link', 'set', 'dev', INNER, 'up'))

    def test_veth_new(self):
        self.root(HOST, kind='veth', up=False, link_index=5)
        self.root_missing(HOST, times=1)
        self.netns.plug(SVM, 'veth', bridge='br0', mtu=9000)
        self.assertCommands(
            LIST, show_root('br0'), show_ns(INNER), show_root(INNER),
            show_root(HOST),
            ('ip', 'link', 'add', HOST, 'type', 'veth', 'peer', 'name',
             INNER, 'netns', SVM),
            show_root(HOST),
            ('ip', 'link', 'set', 'dev', HOST, 'master', 'br0'),
            ('ip', 'link', 'set', 'dev', HOST, 'mtu', '9000', 'up'),
            ('ip', '-n', SVM, 'link', 'set', 'dev', INNER, 'mtu', '9000',
             'up'))

    def vlan_if(self, **kwargs):
        self.root(VLAN_IF, kind='vlan', vlan=100, link='eth1', ifindex=30,
                  **kwargs)

    def test_vlan_already_plugged(self):
        self.vlan_if(mtu=1400)
        self.inner(kind='macvlan', link_index=30, mtu=1400)
        self.assertEqual(INNER, self.netns.plug(SVM, 'vlan', parent='eth1',
                                                vlan='100', mtu=1400))
        self.assertCommands(LIST, show_root('eth1'), show_ns(INNER),
                            show_root(VLAN_IF))

    def test_vlan_plugged_but_down(self):
        self.vlan_if(up=False)
        self.inner(kind='macvlan', link_index=30, up=False)
        self.netns.plug(SVM, 'vlan', parent='eth1', vlan=100)
        self.assertCommands(LIST, show_root('eth1'), show_ns(INNER),
                            show_root(VLAN_IF),
                            ('ip', 'link', 'set', 'dev', VLAN_IF, 'up'),
                            ('ip', '-n', SVM, 'link', 'set', 'dev', INNER,
                             'up'))

    def test_vlan_mtu_raised_never_lowered(self):
        self.vlan_if(mtu=1500)
        self.netns.plug(SVM, 'vlan', parent='eth1', vlan=100, mtu=9000)
        self.assertIn(('ip', 'link', 'set', 'dev', VLAN_IF, 'mtu', '9000',
                       'up'), self.executor.commands)

    def test_mtu_fixed(self):
        self.inner(kind='macvlan', link_index=2, mtu=1500)
        self.netns.plug(SVM, 'macvlan', parent='eth1', mtu=1450)
        self.assertEqual(('ip', '-n', SVM, 'link', 'set', 'dev', INNER,
                          'mtu', '1450', 'up'), self.executor.commands[-1])

    def test_veth_already_plugged(self):
        self.inner(kind='veth', link_index=11)
        self.root(HOST, kind='veth', link_index=5, master='br0', ifindex=11)
        self.netns.plug(SVM, 'veth', bridge='br0')
        self.assertCommands(LIST, show_root('br0'), show_ns(INNER),
                            show_root(HOST))

    def test_veth_host_end_not_in_bridge(self):
        self.inner(kind='veth', link_index=11)
        self.root(HOST, kind='veth', link_index=5, up=False, ifindex=11)
        self.netns.plug(SVM, 'veth', bridge='br0')
        self.assertCommands(
            LIST, show_root('br0'), show_ns(INNER), show_root(HOST),
            ('ip', 'link', 'set', 'dev', HOST, 'master', 'br0'),
            ('ip', 'link', 'set', 'dev', HOST, 'up'))

    def test_half_made_vlan_in_root(self):
        self.vlan_if()
        self.root(INNER, kind='macvlan', link_index=30, up=False)
        self.netns.plug(SVM, 'vlan', parent='eth1', vlan=100)
        self.assertCommands(
            LIST, show_root('eth1'), show_ns(INNER), show_root(INNER),
            show_root(VLAN_IF),
            ('ip', 'link', 'set', 'dev', INNER, 'netns', SVM),
            ('ip', '-n', SVM, 'link', 'set', 'dev', INNER, 'up'))

    def test_legacy_half_made_vlan_in_root(self):
        self.root(INNER, kind='vlan', vlan=100, link='eth1', times=1)
        self.netns.plug(SVM, 'vlan', parent='eth1', vlan=100)
        self.assertEqual(('ip', 'link', 'del', 'dev', INNER),
                         self.executor.commands[4])
        self.assertEqual(('ip', 'link', 'add', 'link', VLAN_IF, 'name',
                          INNER, 'netns', SVM, 'type', 'macvlan', 'mode',
                          'private'), self.executor.commands[-2])

    def test_half_made_veth_in_root(self):
        self.root(INNER, kind='veth', link_index=12)
        self.root(HOST, kind='veth', link_index=13, up=False)
        self.netns.plug(SVM, 'veth', bridge='br0')
        self.assertCommands(
            LIST, show_root('br0'), show_ns(INNER), show_root(INNER),
            ('ip', 'link', 'set', 'dev', INNER, 'netns', SVM),
            show_root(HOST),
            ('ip', 'link', 'set', 'dev', HOST, 'master', 'br0'),
            ('ip', 'link', 'set', 'dev', HOST, 'up'),
            ('ip', '-n', SVM, 'link', 'set', 'dev', INNER, 'up'))

    def test_half_made_wrong_vlan_in_root(self):
        self.vlan_if()
        self.root(INNER, kind='vlan', vlan=200, link_index=2)
        self.assertRaises(exception.Conflict, self.netns.plug, SVM, 'vlan',
                          parent='eth1', vlan=100)
        self.assertCommands(LIST, show_root('eth1'), show_ns(INNER),
                            show_root(INNER), show_root(VLAN_IF))

    @ddt.data(
        # (what is there, what is asked)
        (dict(kind='vlan', vlan=200, link_index=2),
         dict(mode='vlan', parent='eth1', vlan=100)),
        (dict(kind='vlan', vlan=100, link_index=3),
         dict(mode='vlan', parent='eth1', vlan=100)),
        (dict(kind='macvlan', link_index=2),
         dict(mode='vlan', parent='eth1', vlan=100)),
        (dict(kind='vlan', vlan=100, link_index=2),
         dict(mode='macvlan', parent='eth1')),
        (dict(kind='veth', link_index=11),
         dict(mode='macvlan', parent='eth1')),
        (dict(kind='macvlan', link_index=2),
         dict(mode='veth', bridge='br0')),
        (dict(kind='dummy'), dict(mode='veth', bridge='br0')),
    )
    @ddt.unpack
    def test_conflicting_interface(self, there, asked):
        self.vlan_if()
        self.inner(**there)
        self.assertRaises(exception.Conflict, self.netns.plug, SVM, **asked)
        self.assertEqual(4 if asked['mode'] == 'vlan' else 3,
                         len(self.executor.commands))
        self.assertNotIn('del', self.executor.commands[-1])

    def test_veth_host_end_on_other_bridge(self):
        self.inner(kind='veth', link_index=11)
        self.root(HOST, kind='veth', link_index=5, master='br9')
        self.assertRaises(exception.Conflict, self.netns.plug, SVM, 'veth',
                          bridge='br0')
        self.assertCommands(LIST, show_root('br0'), show_ns(INNER),
                            show_root(HOST))

    def test_veth_peer_missing(self):
        self.inner(kind='veth', link_index=11)
        self.assertRaises(exception.Conflict, self.netns.plug, SVM, 'veth',
                          bridge='br0')

    def test_foreign_host_end(self):
        self.root(HOST, kind='veth', link_index=40)
        self.assertRaises(exception.Conflict, self.netns.plug, SVM, 'veth',
                          bridge='br0')
        self.assertCommands(LIST, show_root('br0'), show_ns(INNER),
                            show_root(INNER), show_root(HOST))

    def test_no_namespace(self):
        self.no_namespaces()
        self.assertRaises(exception.NotFound, self.netns.plug, SVM,
                          'macvlan', parent='eth1')
        self.assertCommands(LIST)

    def test_no_parent(self):
        self.assertRaises(exception.NotFound, self.netns.plug, SVM, 'vlan',
                          parent='eth7', vlan=5)
        self.assertCommands(LIST, show_root('eth7'))

    def test_bridge_not_a_bridge(self):
        self.assertRaises(exception.Conflict, self.netns.plug, SVM, 'veth',
                          bridge='eth1')
        self.assertCommands(LIST, show_root('eth1'))

    def test_create_fails(self):
        self.executor.on('ip', 'link', 'add', exit_code=2,
                         stderr='Error: Unknown device type.\n')
        err = self.assertRaises(exception.CommandFailed, self.netns.plug,
                                SVM, 'vlan', parent='eth1', vlan=100)
        self.assertIn('Unknown device type', str(err))

    def test_link_show_error(self):
        self.executor.on(*show_root('eth1'), exit_code=1,
                         stderr='Cannot send dump request: Bad address')
        self.assertRaises(exception.CommandFailed, self.netns.plug, SVM,
                          'vlan', parent='eth1', vlan=100)


class TestUnplug(NetnsTestCase):

    def test_unplug(self):
        self.inner(kind='vlan', vlan=100, link_index=2)
        self.netns.unplug(SVM)
        self.assertCommands(
            LIST, show_ns(INNER),
            ('ip', '-n', SVM, 'link', 'del', 'dev', INNER),
            show_root(INNER), show_root(HOST))

    def test_unplug_gone(self):
        self.netns.unplug(SVM)
        self.netns.unplug(SVM)
        self.assertCommands(*[LIST, show_ns(INNER), show_root(INNER),
                              show_root(HOST)] * 2)

    def test_unplug_half_made(self):
        self.root(INNER, kind='macvlan', link_index=2)
        self.netns.unplug(SVM)
        self.assertCommands(LIST, show_ns(INNER), show_root(INNER),
                            ('ip', 'link', 'del', 'dev', INNER),
                            show_root(HOST))

    def test_link(self):
        self.inner(kind='vlan', vlan=7, link_index=2, mtu=1400)
        link = self.netns.link(SVM, INNER)
        self.assertEqual((INNER, 'vlan', 7, 1400, 'UP'),
                         (link.name, link.kind, link.vlan, link.mtu,
                          link.state))
        self.assertIsNone(self.netns.link(SVM, 'eth0'))

    def test_link_no_namespace(self):
        self.executor.on('ip', '-n', 'svm_x', exit_code=255, stderr=(
            'Cannot open network namespace "svm_x": No such file or '
            'directory'))
        self.assertRaises(exception.NotFound, self.netns.link, 'svm_x',
                          INNER)


class TestAddresses(NetnsTestCase):

    def add(self, cidr, *extra):
        return ('ip', '-n', SVM, 'addr', 'add', cidr, 'dev', INNER) + extra

    def delete(self, cidr):
        return ('ip', '-n', SVM, 'addr', 'del', cidr, 'dev', INNER)

    def test_addresses(self):
        self.executor.on(*ADDR, stdout=REAL_ADDR)
        self.assertEqual(['10.0.0.5/24', 'fd00::5/64'],
                         self.netns.addresses(SVM, INNER))

    def test_add_to_empty(self):
        self.addrs(('fe80::5054:ff:fe12:3456/64', 'link'))
        self.netns.set_addresses(SVM, INNER, ['10.0.0.5/24',
                                              'FD00:0::5/64'])
        self.assertCommands(ADDR, self.add('10.0.0.5/24'),
                            self.add('fd00::5/64', 'nodad'))

    def test_already_exact(self):
        self.executor.on(*ADDR, stdout=REAL_ADDR)
        self.netns.set_addresses(SVM, INNER, ['fd00::5/64', '10.0.0.5/24'])
        self.assertCommands(ADDR)

    def test_extras_removed_link_local_kept(self):
        self.addrs(('10.0.0.5/24', 'global'), ('fd00::9/64', 'global'),
                   ('fe80::1/64', 'link'))
        self.netns.set_addresses(SVM, None, ['10.0.0.5/24'])
        self.assertCommands(ADDR, self.delete('fd00::9/64'))

    def test_remove_all(self):
        self.executor.on(*ADDR, stdout=REAL_ADDR)
        self.addrs(times=1)
        self.addrs(('10.0.0.5/24', 'global'), ('fd00::5/64', 'global'),
                   times=1)
        self.netns.set_addresses(SVM, INNER, [])
        self.assertCommands(ADDR, self.delete('10.0.0.5/24'),
                            self.delete('fd00::5/64'), ADDR)

    def test_ipv4_delete_rereads(self):
        # Deleting the primary 10.0.0.5 took the secondary 10.0.0.6 with it.
        self.addrs(('10.0.0.7/24', 'global'))
        self.addrs(('10.0.0.5/24', 'global'), ('10.0.0.6/24', 'global'),
                   times=1)
        self.netns.set_addresses(SVM, INNER, ['10.0.0.6/24', '10.0.0.7/24'])
        self.assertCommands(ADDR, self.delete('10.0.0.5/24'), ADDR,
                            self.add('10.0.0.6/24'))

    def test_prefix_change(self):
        self.addrs()
        self.addrs(('10.0.0.5/16', 'global'), times=1)
        self.netns.set_addresses(SVM, INNER, ['10.0.0.5/24'])
        self.assertCommands(ADDR, self.delete('10.0.0.5/16'), ADDR,
                            self.add('10.0.0.5/24'))

    def test_dad_failed_readded(self):
        self.addrs(('fd00::5/64', 'global',
                    {'tentative': True, 'dadfailed': True}))
        self.netns.set_addresses(SVM, INNER, ['fd00::5/64'])
        self.assertCommands(ADDR, self.delete('fd00::5/64'),
                            self.add('fd00::5/64', 'nodad'))

    def test_races_tolerated(self):
        self.addrs(('fd00::9/64', 'global'))
        self.executor.on('ip', '-n', SVM, 'addr', 'del', exit_code=2,
                         stderr='Error: ipv6: address not found.')
        self.executor.on('ip', '-n', SVM, 'addr', 'add', exit_code=2,
                         stderr='Error: ipv4: Address already assigned.')
        self.netns.set_addresses(SVM, INNER, ['10.0.0.5/24'])
        self.assertEqual(3, len(self.executor.commands))

    def test_add_fails(self):
        self.addrs()
        self.executor.on('ip', '-n', SVM, 'addr', 'add', exit_code=2,
                         stderr='RTNETLINK answers: Permission denied')
        self.assertRaises(exception.CommandFailed, self.netns.set_addresses,
                          SVM, INNER, ['10.0.0.5/24'])

    def test_no_interface(self):
        self.executor.on(*ADDR, exit_code=1,
                         stderr='Device "%s" does not exist.' % INNER)
        self.assertRaises(exception.NotFound, self.netns.set_addresses,
                          SVM, INNER, ['10.0.0.5/24'])
        self.assertCommands(ADDR)

    def test_no_namespace(self):
        self.executor.on(*ADDR, exit_code=255, stderr=(
            'Cannot open network namespace "svm_a": No such file or '
            'directory'))
        err = self.assertRaises(exception.NotFound, self.netns.addresses,
                                SVM, INNER)
        self.assertIn('namespace', str(err))


class TestGateways(NetnsTestCase):

    def route(self, version, gw):
        return ('ip', '-n', SVM, '-%d' % version, 'route', 'replace',
                'default', 'via', gw, 'dev', INNER)

    def test_ipv4(self):
        self.executor.on(*ADDR, stdout=REAL_ADDR)
        self.netns.set_gateway(SVM, '10.0.0.1')
        self.assertCommands(ADDR, self.route(4, '10.0.0.1'))

    def test_ipv6(self):
        self.executor.on(*ADDR, stdout=REAL_ADDR)
        self.netns.set_gateway(SVM, 'fd00:0::1', ifname=INNER)
        self.assertCommands(ADDR, self.route(6, 'fd00::1'))

    def test_ipv6_link_local_router(self):
        self.executor.on(*ADDR, stdout=REAL_ADDR)
        self.netns.set_gateway(SVM, 'fe80::1')
        self.assertCommands(ADDR, self.route(6, 'fe80::1'))

    def test_outside_subnet(self):
        self.executor.on(*ADDR, stdout=REAL_ADDR)
        for gw in ('10.0.1.1', 'fd01::1', '10.0.0.5'):
            self.assertRaises(exception.InvalidInput, self.netns.set_gateway,
                              SVM, gw)
        self.assertCommands(ADDR, ADDR, ADDR)

    def test_no_address_of_that_version(self):
        self.addrs(('10.0.0.5/24', 'global'), ('fe80::5/64', 'link'))
        self.assertRaises(exception.InvalidInput, self.netns.set_gateway,
                          SVM, 'fd00::1')

    def test_gateways(self):
        self.executor.on('ip', '-n', SVM, '-j', '-4', stdout=REAL_ROUTE4)
        self.executor.on('ip', '-n', SVM, '-j', '-6', stdout='[]\n')
        self.assertEqual({4: '10.0.0.1', 6: None}, self.netns.gateways(SVM))
        self.executor.on('ip', '-n', SVM, '-j', '-6', stdout=REAL_ROUTE6)
        self.assertEqual({4: '10.0.0.1', 6: 'fe80::1'},
                         self.netns.gateways(SVM))

    def test_clear(self):
        self.netns.clear_gateway(SVM, 6)
        self.executor.on('ip', '-n', SVM, '-4', 'route', 'del', exit_code=2,
                         stderr='RTNETLINK answers: No such process')
        self.netns.clear_gateway(SVM, 4)
        self.assertCommands(
            ('ip', '-n', SVM, '-6', 'route', 'del', 'default'),
            ('ip', '-n', SVM, '-4', 'route', 'del', 'default'))


class TestSetMtu(NetnsTestCase):

    def test_veth(self):
        self.inner(kind='veth', link_index=11, mtu=1500)
        self.root(HOST, kind='veth', link_index=5, master='br0', mtu=1500)
        self.netns.set_mtu(SVM, 9000)
        self.assertCommands(
            show_ns(INNER), show_root(HOST),
            ('ip', 'link', 'set', 'dev', HOST, 'mtu', '9000'),
            ('ip', '-n', SVM, 'link', 'set', 'dev', INNER, 'mtu', '9000'))

    def test_unchanged(self):
        self.inner(kind='vlan', vlan=3, link_index=2, mtu=1400)
        self.netns.set_mtu(SVM, 1400, ifname=INNER)
        self.assertCommands(show_ns(INNER))

    def test_missing(self):
        self.assertRaises(exception.NotFound, self.netns.set_mtu, SVM, 1400)


@ddt.ddt
class TestSetup(NetnsTestCase):

    def test_mac_from_the_first_address(self):
        # A persistent choice: an address keeps its MAC across SVMs.
        self.assertEqual('02:e8:c7:80:4a:b8', netns.mac_address('10.0.0.5'))
        self.assertEqual(netns.mac_address('fd00::5'),
                         netns.mac_address('FD00:0::5'))
        self.assertNotEqual(netns.mac_address('10.0.0.5'),
                            netns.mac_address('10.0.0.6'))

    @ddt.data(('ip', '-n', SVM, 'link', 'set', 'dev', INNER),
              ('ip', 'link', 'add', 'link', 'eth1', 'name', INNER))
    def test_address_served_by_another_macvlan(self, refused):
        # The kernel refuses a macvlan whose MAC a sibling has (as it is
        # made or brought up): with MACs from addresses, another SVM has
        # the address.
        self.executor.on(*LIST, stdout='', times=1)
        self.executor.on(*refused, exit_code=2, stderr='RTNETLINK answers: '
                                                       'Address already in '
                                                       'use\n')
        err = self.assertRaises(netns.AddressInUse, self.netns.setup, SVM,
                                'macvlan', ['10.0.0.5/24'], parent='eth1')
        self.assertIsInstance(err, exception.Conflict)
        self.assertIn('02:e8:c7:80:4a:b8', str(err))
        self.assertIn('in use on eth1', str(err))
        self.assertFalse([c for c in self.executor.commands
                          if 'addr' in c and 'add' in c])

    def test_other_up_failure_of_a_macvlan_is_not_an_address(self):
        self.executor.on(*LIST, stdout='', times=1)
        self.executor.on('ip', '-n', SVM, 'link', 'set', 'dev', INNER,
                         exit_code=2, stderr='RTNETLINK answers: Invalid '
                                             'argument\n')
        err = self.assertRaises(exception.CommandFailed, self.netns.setup,
                                SVM, 'macvlan', ['10.0.0.5/24'],
                                parent='eth1')
        self.assertNotIsInstance(err, netns.AddressInUse)

    def test_veth_gets_the_address_mac(self):
        self.root(HOST, kind='veth', up=False, link_index=5)
        self.root_missing(HOST, times=1)
        self.addrs()
        self.netns.setup(SVM, 'veth', ['10.0.0.5/24'], bridge='br0')
        self.assertIn(('ip', 'link', 'add', HOST, 'type', 'veth', 'peer',
                       'name', INNER, 'address', '02:e8:c7:80:4a:b8',
                       'netns', SVM), self.executor.commands)

    def test_fresh(self):
        # Absent at first, present once "ip netns add" ran.
        self.executor.on(*LIST, stdout='', times=1)
        self.addrs(('fe80::1:2/64', 'link'))
        name = self.netns.setup(SVM, 'vlan', ['10.0.0.5/24', 'fd00::5/64'],
                                gateways=['10.0.0.1', 'fd00::1'],
                                parent='eth1', vlan=100, mtu=1500)
        self.assertEqual(INNER, name)
        self.assertCommands(
            LIST, ('ip', 'netns', 'add', SVM),
            ('ip', '-n', SVM, 'link', 'set', 'dev', 'lo', 'up'),
            LIST, show_root('eth1'), show_ns(INNER), show_root(INNER),
            show_root(VLAN_IF),
            ('ip', 'link', 'add', 'link', 'eth1', 'name', VLAN_IF, 'type',
             'vlan', 'id', '100'),
            ('ip', 'link', 'set', 'dev', VLAN_IF, 'mtu', '1500', 'up'),
            ('ip', 'link', 'add', 'link', VLAN_IF, 'name', INNER,
             'address', '02:e8:c7:80:4a:b8', 'netns', SVM, 'type',
             'macvlan', 'mode', 'private'),
            ('ip', '-n', SVM, 'link', 'set', 'dev', INNER, 'mtu', '1500',
             'up'),
            ADDR,
            ('ip', '-n', SVM, 'addr', 'add', '10.0.0.5/24', 'dev', INNER),
            ('ip', '-n', SVM, 'addr', 'add', 'fd00::5/64', 'dev', INNER,
             'nodad'),
            ('ip', '-n', SVM, '-4', 'route', 'replace', 'default', 'via',
             '10.0.0.1', 'dev', INNER),
            ('ip', '-n', SVM, '-6', 'route', 'replace', 'default', 'via',
             'fd00::1', 'dev', INNER))

    def test_converged(self):
        self.inner(kind='macvlan', link_index=2)
        self.executor.on(*ADDR, stdout=REAL_ADDR)
        self.netns.setup(SVM, 'macvlan', ['10.0.0.5/24', 'fd00::5/64'],
                         gateways='10.0.0.1', parent='eth1')
        self.assertCommands(
            LIST, ('ip', '-n', SVM, 'link', 'set', 'dev', 'lo', 'up'),
            LIST, show_root('eth1'), show_ns(INNER), ADDR,
            ('ip', '-n', SVM, '-4', 'route', 'replace', 'default', 'via',
             '10.0.0.1', 'dev', INNER))


@ddt.ddt
class TestValidation(NetnsTestCase):
    """Bad input raises InvalidInput before any command."""

    def check(self, method, *args, **kwargs):
        self.assertRaises(exception.InvalidInput,
                          getattr(self.netns, method), *args, **kwargs)
        self.assertEqual([], self.executor.commands)

    @ddt.data(None, '', 'A', 'Svm', '1svm', '_svm', 'svm-a', 'svm.a',
              'svm a', 'svm_a\n', '../x', '-force', 'a' * 41, 'svm/a',
              b'svm_a', 42, ['svm_a'])
    def test_bad_svm_name(self, name):
        for method in ('exists', 'create', 'delete', 'unplug', 'gateways'):
            self.check(method, name)
        self.check('plug', name, 'macvlan', parent='eth1')
        self.check('set_addresses', name, None, ['10.0.0.5/24'])
        self.check('set_gateway', name, '10.0.0.1')
        self.check('set_mtu', name, 1500)
        self.check('link', name, 'eth1')
        self.check('addresses', name, 'eth1')
        self.check('clear_gateway', name, 4)
        self.check('setup', name, 'macvlan', ['10.0.0.5/24'],
                   parent='eth1')

    @ddt.data(
        dict(mode='bogus', parent='eth1'),
        dict(mode=None, parent='eth1'),
        dict(mode='VLAN', parent='eth1', vlan=5),
        dict(mode='vlan', parent='eth1'),
        dict(mode='vlan', vlan=5),
        dict(mode='vlan', parent='eth1', vlan=0),
        dict(mode='vlan', parent='eth1', vlan=4095),
        dict(mode='vlan', parent='eth1', vlan=-1),
        dict(mode='vlan', parent='eth1', vlan='1 0'),
        dict(mode='vlan', parent='eth1', vlan=True),
        dict(mode='vlan', parent='eth1', vlan=5.0),
        dict(mode='vlan', parent='eth1', vlan=5, bridge='br0'),
        dict(mode='vlan', parent='-force', vlan=5),
        dict(mode='vlan', parent='eth1 x', vlan=5),
        dict(mode='vlan', parent='a' * 16, vlan=5),
        dict(mode='vlan', parent='..', vlan=5),
        dict(mode='vlan', parent='eth/1', vlan=5),
        dict(mode='vlan', parent='', vlan=5),
        dict(mode='macvlan'),
        dict(mode='macvlan', parent='eth1', vlan=5),
        dict(mode='macvlan', parent='eth1', bridge='br0'),
        dict(mode='macvlan', parent='eth1\n'),
        dict(mode='veth'),
        dict(mode='veth', bridge='br0', parent='eth1'),
        dict(mode='veth', bridge='br0', vlan=5),
        dict(mode='veth', bridge='-b'),
        dict(mode='veth', bridge='br0', mtu=67),
        dict(mode='veth', bridge='br0', mtu=65536),
        dict(mode='veth', bridge='br0', mtu='9000 up'),
        dict(mode='veth', bridge='br0', mtu=False),
    )
    def test_bad_plug(self, kwargs):
        self.check('plug', SVM, **kwargs)

    @ddt.data('10.0.0.5', '10.0.0.5/33', '10.0.0.0/24', '10.0.0.255/24',
              '10.0.0.5/24 dev eth0', '-10.0.0.5/24', 'fd00::5/129',
              'fe80::1%eth0/64', 'ff02::1/64', '224.0.0.1/24', '0.0.0.0/0',
              '::/0', 'host/24', '', None, 5)
    def test_bad_cidr(self, cidr):
        self.check('set_addresses', SVM, INNER, [cidr])
        self.check('setup', SVM, 'macvlan', [cidr], parent='eth1')

    @ddt.data('10.0.0.5/24', None, 7, {'10.0.0.5/24': 1}.keys(),
              ['10.0.0.5/24', '10.0.0.5/25'])
    def test_bad_cidr_list(self, cidrs):
        self.check('set_addresses', SVM, INNER, cidrs)

    @ddt.data('eth0', 'lo', 'asvb1d4df8e7021', '-dev', 'x' * 16, '', 5)
    def test_not_own_interface(self, ifname):
        self.check('set_addresses', SVM, ifname, ['10.0.0.5/24'])
        self.check('set_gateway', SVM, '10.0.0.1', ifname=ifname)
        self.check('set_mtu', SVM, 1500, ifname=ifname)

    @ddt.data('10.0.0.1/24', '10.0.0.256', 'fe80::1%eth0', '0.0.0.0', '::',
              '255.255.255.255', 'ff02::1', 'gw', '', None, 167772161,
              '10.0.0.1 dev eth0')
    def test_bad_gateway(self, gw):
        self.check('set_gateway', SVM, gw)
        self.check('setup', SVM, 'macvlan', ['10.0.0.5/24'], gateways=[gw],
                   parent='eth1')

    @ddt.data(
        # Gateway outside the addresses, wrong family, or one of our own.
        (['10.0.0.5/24'], ['10.0.1.1']),
        (['10.0.0.5/24'], ['fd00::1']),
        (['fd00::5/64'], ['10.0.0.1']),
        (['10.0.0.5/24'], ['10.0.0.5']),
        (['10.0.0.5/24', '10.1.0.5/24'], ['10.0.0.1', '10.1.0.1']),
        ([], []),
    )
    @ddt.unpack
    def test_setup_gateway_checked_first(self, cidrs, gateways):
        self.check('setup', SVM, 'macvlan', cidrs, gateways=gateways,
                   parent='eth1')

    def test_setup_small_mtu_with_ipv6(self):
        self.check('setup', SVM, 'macvlan', ['fd00::5/64'], parent='eth1',
                   mtu=1279)

    @ddt.data(0, 67, 65536, '1500b', None, 1.5, True)
    def test_bad_mtu(self, mtu):
        self.check('set_mtu', SVM, mtu)

    @ddt.data(0, 5, '4', None, True)
    def test_bad_version(self, version):
        self.check('clear_gateway', SVM, version)

    @ddt.data('eth 0', '', '-j', None, 'a' * 16)
    def test_bad_read_interface(self, ifname):
        self.check('link', SVM, ifname)
        self.check('addresses', SVM, ifname)


@ddt.ddt
class TestRootwrapFilters(base.TestCase):

    @ddt.data(
        'ip netns exec svm_a sh',
        'ip netns exec svm_a ip link',
        'ip netns exec svm_a ganesha.nfsd',
        'ip -n svm_a netns exec svm_a sh',
        'ip link set eth0 down',
        'ip link set dev eth0 down',
        'ip link set dev eth0 up',
        'ip link set dev eth0 mtu 9000',
        'ip link set dev eth0 netns svm_a',
        'ip link set dev eth0 master br0',
        'ip link del dev eth0',
        'ip link del dev br0',
        'ip link delete dev asv26a815513069',
        'ip -n svm_a link del dev lo',
        'ip -n svm_a link set dev eth0 up',
        'ip -n svm_a link set dev lo down',
        'ip -n svm_a addr add 10.0.0.5/24 dev eth0',
        'ip -n svm_a addr flush dev asv26a815513069',
        'ip link add link eth0 name eth0.5 netns svm_a type vlan id 5',
        'ip link add link eth0 name asvx netns svm_a type vlan id 5',
        'ip link add link eth0 name asv26a815513069 netns svm_a type vlan '
        'id 0x5',
        'ip link add link -force name asv26a815513069 netns svm_a type '
        'vlan id 5',
        'ip link add link eth0 name asv26a815513069 netns ../x type vlan '
        'id 5',
        'ip link add link eth0 name asv26a815513069 netns svm_a type vlan '
        'id 5 protocol 802.1ad',
        'ip link add link eth0 name asv26a815513069 netns svm_a type '
        'macvlan mode passthru',
        'ip link add asv26a815513069 type veth peer name eth0 netns svm_a',
        'ip -n svm_a link add link eth0 name asv26a815513069 type vlan '
        'id 5',
        'ip -n svm_a link add name foo$ type vlan id 5',
        'ip netns delete ../x',
        'ip netns delete svm_a/../../etc',
        'ip netns add -force',
        'ip netns add Svm',
        'ip netns del svm_a',
        'ip netns attach svm_a 1',
        'ip netns set svm_a 5',
        'ip -n -force link set dev asv26a815513069 up',
        'ip -n ../x link set dev asv26a815513069 up',
        'ip -b /tmp/x',
        'ip -batch /tmp/x',
        'ip -force -b /tmp/x',
        'ip -j netns list -b /tmp/x',
        'ip -j -d link show dev -b',
        'ip -j -d link show all',
        'ip -n svm_a -j -d link show dev eth0 -b /tmp/x',
        'ip -n svm_a route add default via 10.0.0.1',
        'ip -n svm_a -4 route replace default via 10.0.0.1 dev eth0',
        'ip -n svm_a -4 route replace 0.0.0.0/0 via 10.0.0.1 dev '
        'asv26a815513069',
        'ip -n svm_a -4 route del 10.0.0.0/8',
        'ip -n svm_a -4 route flush table main',
        'ip -n svm_a addr add 10.0.0.5/24 dev asv26a815513069 nodad',
        'ip -n svm_a addr add 10.0.0.5/24 dev asv26a815513069 label x',
        'ip -n svm_a -j addr show dev asv26a815513069 -b x',
        'ip rule add from all lookup 100',
        'ip route replace default via 10.0.0.1',
        'nsenter --net=/run/netns/svm_a sh',
        # The shared VLAN interface: only avl<hex>, only created and
        # brought up.
        'ip link add link eth1 name eth1.100 type vlan id 100',
        'ip link add link eth1 name avl1 type vlan id 100 protocol 802.1ad',
        'ip link add link eth1 name avl1 netns svm_a type vlan id 100',
        'ip link set dev avl1 down',
        'ip link set dev avl1 netns svm_a',
        'ip link set dev eth1 mtu 9000 up',
        'ip link del dev avl1',
        # Macvlans: private mode only, a locally administered MAC only.
        'ip link add link eth1 name asv26a815513069 netns svm_a type '
        'macvlan mode bridge',
        'ip link add link eth1 name asv26a815513069 address '
        '00:11:22:33:44:55 netns svm_a type macvlan mode private',
        'ip link add link eth1 name asv26a815513069 address '
        '02:11:22:33:44 netns svm_a type macvlan mode private',
        'ip link add ash26a815513069 type veth peer name asv26a815513069 '
        'address 04:11:22:33:44:55 netns svm_a',
        'ip -j -d link show -b /tmp/x',
    )
    def test_hostile_rejected(self, cmd):
        self.assertFalse(rootwrap_check.allowed(cmd.split(' ')), cmd)

    @ddt.data(
        'ip -j netns list',
        'ip netns add svm_a',
        'ip netns delete svm_a',
        'ip -n svm_a link set dev lo up',
        'ip -n svm_a -j -6 route show default',
        'ip link del dev ash26a815513069',
        'ip -j -d link show',
        'ip link add link eth1 name avlf27dd9fbea9e type vlan id 100',
        'ip link set dev avlf27dd9fbea9e mtu 9000 up',
        'ip link add link avlf27dd9fbea9e name asv26a815513069 address '
        '02:e8:c7:80:4a:b8 netns svm_a type macvlan mode private',
    )
    def test_expected_allowed(self, cmd):
        self.assertTrue(rootwrap_check.allowed(cmd.split(' ')), cmd)
