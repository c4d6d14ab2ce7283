"""Address pools against real SVMs: many SVMs per pool, as documented.

Every ``arca_address_pools`` value shown in README.md and doc/source is
read from those files and used exactly as written. The lab storage node
has what they name, set up the way an operator would: ``eth1`` (a VLAN
trunk), ``eth2`` (a flat storage network for macvlans) and a bridge
``br-arca`` over ``eth3``, all on the lab bridge. Clients take an address
in each pool's subnet (on the pool's VLAN for a vlan pool).
"""

import glob
import ipaddress
import json
import os
import re
import time

from arca_openstack import exception
from arca_openstack.node import netns
from arca_openstack.node import svm
from arca_openstack import svm_pools
from tests.functional.node import test_svm

ROOT = os.path.join(os.path.dirname(__file__), '..', '..', '..')
POOL_LINE = re.compile(r'^\s*(?:arca_address_pools\s*=\s*)?(mode=\S+)\s*$')
# The storage node's NICs and bridge, as the documented pools name them.
NODE_NETWORK = (
    'set -e\n'
    'for nic in eth1 eth2 eth3; do ip link set $nic up; done\n'
    'if ! ip link show br-arca >/dev/null 2>&1; then\n'
    '  modprobe bridge 2>/dev/null || true\n'
    '  ip link add br-arca type bridge\n'
    'fi\n'
    'ip link set eth3 master br-arca\n'
    'ip link set br-arca up\n')


def documented_pools():
    """{pool value: [files showing it]} from the README and the docs."""
    paths = [os.path.join(ROOT, 'README.md')] + sorted(glob.glob(
        os.path.join(ROOT, 'doc', 'source', '**', '*.rst'), recursive=True))
    found = {}
    for path in paths:
        with open(path) as doc:
            for line in doc:
                match = POOL_LINE.match(line)
                if match:
                    found.setdefault(match.group(1), []).append(
                        os.path.relpath(path, ROOT))
    return found


def client_address(subnet, index):
    """The address of client ``index`` (1-3) in a pool's subnet.

    Above every documented range: .252-.254 of an IPv4 /24, ::ff01-ff03
    of an IPv6 /64.
    """
    net = subnet.network
    offset = 251 + index if net.version == 4 else 0xff00 + index
    return '%s/%d' % (net.network_address + offset, net.prefixlen)


def settings(pool, prefix):
    return svm_pools.Settings(svm_pools.PER_PROJECT, prefix, 'arca_shared',
                              True, (pool,))


class PoolTestBase(test_svm.SVMTestBase):

    def setUp(self):
        super().setUp()
        self.sh(self.s1, NODE_NETWORK)
        self.clients = [self.c1, self.c2, self.c3]

    def join(self, client, pool, index):
        """Give a client an address in each of the pool's subnets."""
        dev = 'eth0'
        if pool.mode == 'vlan':
            dev = 'eth0.%d' % pool.vlan
            self.sh(client, 'ip link show {d} >/dev/null 2>&1 || ip link '
                    'add link eth0 name {d} type vlan id {v}; ip link set '
                    '{d} up'.format(d=dev, v=pool.vlan))
        addresses = []
        for subnet in pool.subnets:
            cidr = client_address(subnet, index)
            extra = ' nodad' if subnet.network.version == 6 else ''
            self.sh(client, 'ip addr replace %s dev %s%s' % (cidr, dev, extra))
            self.addCleanup(self.sh, client, 'ip addr del %s dev %s'
                            % (cidr, dev), False)
            addresses.append(cidr.split('/')[0])
        return addresses

    def pools_for(self, pool, prefix):
        pools = svm_pools.SVMPools(self.svms, self.pool,
                                   settings(pool, prefix))
        return pools

    def new_svm(self, pools, project):
        name = pools.svm_name(project)
        self.addCleanup(self._remove_svm, name)
        record = pools.ensure_svm(project)
        self.assertEqual(name, record['name'])
        return name, record

    def _remove_svm(self, name):
        for export_id in self.ganesha.export_ids(name):
            self.ganesha.remove_export(name, export_id)
        self.svms.delete(name)

    def assert_reachable(self, client, address):
        """The SVM's NFS port answers the client within 90 s.

        Not always at once: an address that moved to a new MAC (reused by
        a new SVM, or an SVM moved onto a macvlan) is reached once the
        client's ARP or neighbour entry of the old MAC is found stale and
        probed again (Linux: 15-45 s reachable, 5 s delay, 3 probes).
        """
        started = time.monotonic()
        self.wait_for(lambda: self.can_connect(client, address),
                      timeout=90, interval=2,
                      what='%s reaching %s' % (client.name, address))
        return time.monotonic() - started

    def inner_link(self, name):
        """``ip -d link`` of an SVM's interface, as JSON."""
        out = self.sh(self.s1, 'ip -n %s -j -d link show dev %s' % (
            name, netns.interface_names(name).inner)).stdout
        return json.loads(out)[0]

    def vlan_interfaces(self, vlan, parent):
        """The root namespace's VLAN interfaces of ``vlan`` on ``parent``.

        Only that parent's: other tests' SVMs leave the shared VLAN
        interface of their own parent behind, by design.
        """
        links = json.loads(self.sh(self.s1, 'ip -j -d link show').stdout)
        return sorted(
            link['ifname'] for link in links
            if (link.get('linkinfo') or {}).get('info_kind') == 'vlan'
            and link['linkinfo']['info_data']['id'] == vlan
            and link.get('link') == parent)


class DocumentedPoolsTestCase(PoolTestBase):
    """Each documented pool gives several projects SVMs, all reachable."""

    def test_every_documented_pool(self):
        found = documented_pools()
        # README and the configuration guide show vlan, macvlan and veth
        # pools; a missing one means this test no longer reads them.
        modes = {svm_pools.parse_pool(value).mode for value in found}
        self.assertEqual({'vlan', 'macvlan', 'veth'}, modes)
        for index, (value, where) in enumerate(sorted(found.items())):
            with self.subTest(pool=value, shown_in=where):
                self.check_pool(svm_pools.parse_pool(value), index)

    def check_pool(self, pool, index):
        pools = self.pools_for(pool, 'ftdoc%d_' % index)
        capacity = sum(1 for _a in zip(range(3), svm_pools._candidates(
            pool.subnets[0])))
        projects = ['%032x' % (index * 16 + p) for p in range(1, 3)]
        names = []
        for project in projects[:capacity]:
            names.append(self.new_svm(pools, project))
        if capacity < len(projects):
            # A full pool refuses the next project clearly.
            self.assertRaises(exception.CapacityExceeded, pools.ensure_svm,
                              projects[capacity])
        for i, client in enumerate(self.clients[:2], start=1):
            self.join(client, pool, i)
        addresses = set()
        for name, record in names:
            link = self.inner_link(name)
            self.assertEqual('veth' if pool.mode == 'veth' else 'macvlan',
                             link['linkinfo']['info_kind'], name)
            for cidr in record['network'].addresses:
                address = cidr.split('/')[0]
                addresses.add(address)
                for client in self.clients[:2]:
                    self.assert_reachable(client, address)
        self.assertEqual(len(names) * len(pool.subnets), len(addresses))
        if pool.mode == 'vlan':
            self.assertEqual([netns.vlan_interface_name(pool.parent,
                                                        pool.vlan)],
                             self.vlan_interfaces(pool.vlan, pool.parent))
        for name, _record in names:
            self._remove_svm(name)


class SharedVlanTestCase(PoolTestBase):
    """Three projects' SVMs on one VLAN pool, isolated by export rules."""

    def test_three_projects_on_one_vlan(self):
        found = documented_pools()
        cinder_pool = svm_pools.parse_pool(next(
            v for v in found if 'range=10.0.100.10-' in v))
        manila_pool = svm_pools.parse_pool(next(
            v for v in found if 'range=10.0.100.100-' in v))
        self.assertEqual((cinder_pool.parent, cinder_pool.vlan),
                         (manila_pool.parent, manila_pool.vlan))
        cinder = self.pools_for(cinder_pool, 'ftcin_')
        manila = self.pools_for(manila_pool, 'ftman_')

        projects = ['%032x' % p for p in range(0xa1, 0xa4)]
        svms = [self.new_svm(cinder, p) for p in projects]
        # A Manila backend's SVM on the same VLAN, from its own range.
        manila_svm = self.new_svm(manila, projects[0])
        addresses = [svm_pools.address_of(r) for _n, r in svms]
        self.assertEqual(['10.0.100.10', '10.0.100.11', '10.0.100.12'],
                         addresses)
        self.assertEqual('10.0.100.100',
                         svm_pools.address_of(manila_svm[1]))

        # One VLAN interface on eth1, a private macvlan per SVM, each with
        # its own MAC.
        self.assertEqual([netns.vlan_interface_name('eth1', 100)],
                         self.vlan_interfaces(100, 'eth1'))
        macs = set()
        for name, _record in svms + [manila_svm]:
            link = self.inner_link(name)
            self.assertEqual(('macvlan', 'private'),
                             (link['linkinfo']['info_kind'],
                              link['linkinfo']['info_data']['mode']))
            macs.add(link['address'])
        self.assertEqual(4, len(macs))

        clients = []
        for i, client in enumerate(self.clients, start=1):
            clients.append(self.join(client, cinder_pool, i)[0])
        lvs = ['ft-vp%d' % i for i in range(1, 4)]
        digests = []
        for i, ((name, _r), lv) in enumerate(zip(svms, lvs)):
            self.make_volume(lv)
            # "Attached" to its own project's client only.
            self.publish(name, lv, [(clients[i], 'rw')])
        for i, client in enumerate(self.clients):
            self.mount_on(client, addresses[i], lvs[i])
            digests.append(self.write_random(client, '/mnt/%s/d' % lvs[i],
                                             2))
        # Nobody mounts another project's export, through any SVM.
        for i, client in enumerate(self.clients):
            for j in range(3):
                if j != i:
                    self.assert_mount_refused(client, addresses[j], lvs[j])
                    self.assert_mount_refused(client, addresses[i], lvs[j])

        # Project 2 goes: its SVM and macvlan with it; the others serve on.
        self.nfs_umount(self.c2, '/mnt/%s' % lvs[1])
        self.exports.unpublish(svms[1][0], lvs[1])
        self.assertTrue(cinder.release_if_unused(svms[1][0]))
        self.assertIsNone(self.svms.get(svms[1][0]))
        self.assertFalse(self.can_connect(self.c2, addresses[1]))
        for i in (0, 2):
            client = self.clients[i]
            self.assertEqual(digests[i], self.sha256(
                client, '/mnt/%s/d' % lvs[i]))
            self.nfs_umount(client, '/mnt/%s' % lvs[i])
            self.mount_on(client, addresses[i], lvs[i])
            self.assertEqual(digests[i], self.sha256(
                client, '/mnt/%s/d' % lvs[i]))
        self.assertEqual([netns.vlan_interface_name('eth1', 100)],
                         self.vlan_interfaces(100, 'eth1'))


class LegacyVlanTestCase(PoolTestBase):
    """An SVM made by the earlier release holds the VLAN id itself."""

    def test_new_svm_moves_the_legacy_one(self):
        legacy = 'ftlegacy_a'
        inner = netns.interface_names(legacy).inner
        network = svm.make_network('vlan', ['10.0.100.50/24'],
                                   parent='eth1', vlan=100)
        self.addCleanup(self._remove_svm, legacy)
        self.svms.create(legacy, network)
        # Made as the earlier release did: the VLAN interface itself in
        # the namespace (and no shared VLAN interface).
        self.sh(self.s1, 'set -e; ip -n {s} link del dev {i}; ip link del '
                'dev {v}; ip link add link eth1 name {i} netns {s} type vlan '
                'id 100; ip -n {s} link set dev {i} up; ip -n {s} addr add '
                '10.0.100.50/24 dev {i}'.format(
                    s=legacy, i=inner,
                    v=netns.vlan_interface_name('eth1', 100)))
        self.assertEqual('vlan', self.inner_link(legacy)['linkinfo'][
            'info_kind'])
        self.join(self.c1, svm_pools.parse_pool(
            'mode=vlan,parent=eth1,vlan=100,cidr=10.0.100.0/24'), 1)
        self.assert_reachable(self.c1, '10.0.100.50')

        other = 'ftlegacy_b'
        self.addCleanup(self._remove_svm, other)
        self.svms.create(other, svm.make_network(
            'vlan', ['10.0.100.51/24'], parent='eth1', vlan=100))
        for name, address in ((legacy, '10.0.100.50'),
                              (other, '10.0.100.51')):
            self.assertEqual('macvlan', self.inner_link(name)['linkinfo'][
                'info_kind'])
            waited = self.assert_reachable(self.c1, address)
            print('%s reachable again after %.1fs' % (name, waited))
        self.assertEqual(ipaddress.ip_interface('10.0.100.50/24'),
                         ipaddress.ip_interface(
                             self.netns_addresses(legacy)[0]))

    def netns_addresses(self, name):
        return netns.Netns(self.s1.executor).addresses(
            name, netns.interface_names(name).inner)
