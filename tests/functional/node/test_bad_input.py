"""Bad input through the public API issues no command on the node."""

from arca_openstack import exception
from arca_openstack.node import drbd
from arca_openstack.node import export
from arca_openstack.node import ganesha
from arca_openstack.node import ganesha_config
from arca_openstack.node import lvm
from arca_openstack.node import netns
from arca_openstack.node import svm
from arca_openstack.node import xfs
from tests.functional import base

GOOD_NET = dict(mode='vlan', addresses=['10.100.0.50/24'], parent='eth0',
                vlan=100)


def _calls(ex):
    pool = lvm.ThinPool(ex, base.VG, base.POOL)
    fs = xfs.XFS(ex)
    svms = svm.SVMManager(ex)
    exports = export.ExportManager(ex, pool)
    ns = netns.Netns(ex)
    gan = ganesha.Ganesha(ex)
    mirror = drbd.DRBD(ex)
    peer = drbd.Peer('s2', '10.97.0.2', '/dev/arca/x')
    return {
        'lv name with ..': lambda: pool.create('../../etc', 1),
        'lv size 0': lambda: pool.create('ok', 0),
        'lv size text': lambda: pool.extend('ok', '10G; reboot'),
        'snapshot of itself': lambda: pool.snapshot('ok', 'ok'),
        'tag with space': lambda: pool.create('ok', 1, tags=['a b']),
        'mkfs outside /dev': lambda: fs.mkfs('/etc/passwd'),
        'mount outside mnt': lambda: fs.mount('/dev/arca/ok', '/etc'),
        'svm name': lambda: svms.create('Tenant-A', svm.make_network(
            **GOOD_NET)),
        'vlan 4095': lambda: svms.create('ok', svm.make_network(
            **dict(GOOD_NET, vlan=4095))),
        'vlan 0 plug': lambda: ns.plug('ok', 'vlan', parent='eth0', vlan=0),
        'mtu 10': lambda: ns.plug('ok', 'vlan', parent='eth0', vlan=5,
                                  mtu=10),
        'address': lambda: ns.set_addresses('ok', 'asv0', ['10.0.0.300/24']),
        'gateway off-subnet': lambda: svms.create('ok', svm.make_network(
            **dict(GOOD_NET, gateways=['10.1.0.1']))),
        'client CIDR host bits': lambda: exports.publish(
            'ok', 'ok', [('10.0.0.1/24', 'rw')]),
        'client access level': lambda: exports.publish(
            'ok', 'ok', [('10.0.0.1', 'all')]),
        'export id 0': lambda: gan.add_export('ok', ganesha_config.Export(
            0, '/var/lib/arca/mnt/ok', '/ok')),
        'export path escape': lambda: gan.add_export(
            'ok', ganesha_config.Export(
                1, '/var/lib/arca/mnt/../../../etc', '/ok')),
        'drbd port': lambda: mirror.write_resource('r0', 1, 70000, peer,
                                                   peer),
        'drbd resource all': lambda: mirror.down('all'),
    }


class BadInputTestCase(base.FunctionalTestCase):

    def _node_state(self, node):
        return self.sh(node, 'lvs --noheadings -o lv_name,lv_size,lv_tags; '
                       'ip netns list; ip -br link; '
                       'find /var/lib/arca /etc/drbd.d | sort').stdout

    def test_bad_input_touches_nothing(self):
        s1 = self.lab.node('s1')
        counting = base.CountingExecutor(self.node_executor(s1))
        before = self._node_state(s1)
        for label, call in sorted(_calls(counting).items()):
            try:
                call()
            except exception.InvalidInput as err:
                self.assertTrue(str(err), label)
            else:
                self.fail('%s: no error raised' % label)
            self.assertEqual([], counting.commands, label)
        self.assertEqual(before, self._node_state(s1))
