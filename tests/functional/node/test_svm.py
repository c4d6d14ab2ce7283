"""SVMs on tenant VLANs serving exports to real NFS v4.2 clients."""

from arca_openstack import exception
from arca_openstack.node import export
from arca_openstack.node import ganesha
from arca_openstack.node import lvm
from arca_openstack.node import svm
from arca_openstack.node import xfs
from tests.functional import base

SVM_A = 'ft_tenant_a'
SVM_B = 'ft_tenant_b'
ADDR_A = base.TENANT_A['svm'].split('/')[0]
ADDR_B = base.TENANT_B['svm'].split('/')[0]
C1 = base.CLIENTS['c1'][1].split('/')[0]
C2 = base.CLIENTS['c2'][1].split('/')[0]
C3 = base.CLIENTS['c3'][1].split('/')[0]


def tenant_network(tenant):
    return svm.make_network('vlan', [tenant['svm']], [tenant['gateway']],
                            parent='eth0', vlan=tenant['vlan'])


class SVMTestBase(base.FunctionalTestCase):
    """Two tenants' SVMs on s1, each with an export of its own LV."""

    def setUp(self):
        super().setUp()
        self.s1 = self.lab.node('s1')
        self.c1, self.c2, self.c3 = (self.lab.node(n)
                                     for n in ('c1', 'c2', 'c3'))
        ex = self.node_executor(self.s1)
        self.pool = lvm.ThinPool(ex, base.VG, base.POOL)
        self.fs = xfs.XFS(ex)
        self.svms = svm.SVMManager(ex)
        self.exports = export.ExportManager(ex, self.pool)
        self.ganesha = ganesha.Ganesha(ex)

    def make_volume(self, name, size_gib=1):
        self.addCleanup(self.pool.remove, name)
        self.pool.create(name, size_gib)
        self.fs.mkfs(self.pool.device_path(name))

    def make_svm(self, name, tenant):
        self.addCleanup(self.svms.delete, name)
        self.svms.create(name, tenant_network(tenant))

    def publish(self, svm_name, lv, clients):
        self.addCleanup(self.exports.unpublish, svm_name, lv)
        return self.exports.publish(svm_name, lv, clients)

    def mount_on(self, client, address, lv, check=True):
        where = '/mnt/%s' % lv
        self.addCleanup(self.nfs_umount, client, where)
        return self.nfs_mount(client, address, '/' + lv, where, check=check)

    def assert_mount_refused(self, client, address, lv):
        result = self.mount_on(client, address, lv, check=False)
        self.assertNotEqual(0, result.exit_code, result)
        self.assertNotIn(' /mnt/%s ' % lv, self.sh(
            client, 'cat /proc/mounts').stdout)
        return result


class TenantIsolationTestCase(SVMTestBase):

    def test_access_rules_and_isolation(self):
        self.make_volume('ft-a1')
        self.make_volume('ft-a2')
        self.make_volume('ft-b1')
        self.make_svm(SVM_A, base.TENANT_A)
        self.make_svm(SVM_B, base.TENANT_B)
        self.publish(SVM_A, 'ft-a1', [(C1, 'rw'), (C2, 'ro')])
        self.publish(SVM_A, 'ft-a2', [(C1, 'rw')])
        self.publish(SVM_B, 'ft-b1', [(C3, 'rw')])

        # Ganesha runs inside each SVM's namespace, bound to its address.
        for name in (SVM_A, SVM_B):
            self.assertTrue(self.ganesha.status(name)['running'])
        ns = self.sh(self.s1, 'ip netns list').stdout
        self.assertIn(SVM_A, ns)
        self.assertIn(SVM_B, ns)

        # c1 (rw) mounts with NFS v4.2 and writes.
        self.mount_on(self.c1, ADDR_A, 'ft-a1')
        mounts = self.sh(self.c1, 'grep " /mnt/ft-a1 " /proc/mounts').stdout
        self.assertIn('nfs4', mounts)
        self.assertIn('vers=4.2', mounts)
        digest = self.write_random(self.c1, '/mnt/ft-a1/data', 8)
        self.assertEqual(digest, self.sha256(
            self.s1, export.mountpoint('ft-a1') + '/data'))

        # c2 (ro) mounts and reads, but cannot write.
        self.mount_on(self.c2, ADDR_A, 'ft-a1')
        self.assertEqual(digest, self.sha256(self.c2, '/mnt/ft-a1/data'))
        denied = self.sh(self.c2, 'echo x > /mnt/ft-a1/c2-was-here',
                         check=False)
        self.assertNotEqual(0, denied.exit_code)
        self.assertIn('Read-only', denied.stderr)

        # c2 is not listed on ft-a2: refused.
        self.assert_mount_refused(self.c2, ADDR_A, 'ft-a2')

        # Tenant B's client reaches its own SVM...
        self.mount_on(self.c3, ADDR_B, 'ft-b1')
        self.write_random(self.c3, '/mnt/ft-b1/data', 1)
        # ...but neither tenant reaches the other's SVM address, not even
        # by taking an address in the other tenant's subnet on its VLAN.
        self.assertFalse(self.can_connect(self.c1, ADDR_B))
        self.assertFalse(self.can_connect(self.c3, ADDR_A))
        self.sh(self.c1, 'ip addr add 10.200.0.99/24 dev eth0.100')
        self.addCleanup(self.sh, self.c1,
                        'ip addr del 10.200.0.99/24 dev eth0.100', False)
        self.assertFalse(self.can_connect(self.c1, ADDR_B))
        self.assertTrue(self.can_connect(self.c1, ADDR_A))
        # The storage node's own namespace has no route into the SVMs.
        self.assertFalse(self.can_connect(self.s1, ADDR_A))


class RuntimeExportChangesTestCase(SVMTestBase):

    def test_changes_leave_other_mounts_alone(self):
        self.make_volume('ft-r1')
        self.make_volume('ft-r2')
        self.make_svm(SVM_A, base.TENANT_A)
        # Every change below goes over D-Bus (the lab runs a system bus
        # with the project's policy): no SIGHUP reload of the SVM's
        # exports, and Ganesha itself answers for each export.
        offset = self.ganesha_log_size(self.s1, SVM_A)
        self.publish(SVM_A, 'ft-r1', [(C1, 'rw')])
        self.mount_on(self.c1, ADDR_A, 'ft-r1')
        digest = self.write_random(self.c1, '/mnt/ft-r1/data', 4)

        def c1_still_works(step):
            # Same mount, no remount: reads old data, writes new.
            self.assertEqual(digest, self.sha256(self.c1,
                                                 '/mnt/ft-r1/data'), step)
            self.sh(self.c1, 'echo %s > /mnt/ft-r1/%s' % (step, step))

        # Add an export: c2 can mount it at once.
        r2 = self.publish(SVM_A, 'ft-r2', [(C2, 'rw')]).export_id
        c1_still_works('after-add')
        served = self.display_export(self.s1, SVM_A, r2)
        self.assertEqual(0, served.exit_code, served)
        self.assertIn(export.mountpoint('ft-r2'), served.stdout)
        self.assertIn(C2, served.stdout)
        self.mount_on(self.c2, ADDR_A, 'ft-r2')
        self.nfs_umount(self.c2, '/mnt/ft-r2')

        # Change its rules: c2 loses access, c1 gains it.
        self.exports.set_clients(SVM_A, 'ft-r2', [(C1, 'ro')])
        c1_still_works('after-change')
        served = self.display_export(self.s1, SVM_A, r2).stdout
        self.assertIn(C1, served)
        self.assertNotIn(C2, served)
        self.assert_mount_refused(self.c2, ADDR_A, 'ft-r2')
        self.mount_on(self.c1, ADDR_A, 'ft-r2')
        self.nfs_umount(self.c1, '/mnt/ft-r2')

        # Remove it: nobody can mount it, c1's other mount is untouched.
        self.exports.unpublish(SVM_A, 'ft-r2')
        c1_still_works('after-remove')
        self.assert_mount_refused(self.c1, ADDR_A, 'ft-r2')
        gone = self.display_export(self.s1, SVM_A, r2)
        self.assertNotEqual(0, gone.exit_code)
        self.assertIn('Export id not found', gone.stderr)
        self.assert_no_reload_since(self.s1, SVM_A, offset)
        self.assertEqual([e.pseudo for e in map(
            lambda i: self.ganesha.get_export(SVM_A, i),
            self.ganesha.export_ids(SVM_A))], ['/ft-r1'])


class ChangesUnderGaneshaTestCase(SVMTestBase):

    def test_client_sees_node_side_change_at_next_open(self):
        """A file grown on the node, as Cinder's extend grows an image.

        Ganesha must not answer from attributes it cached (for 60 s by
        default): the client's next open revalidates them, and must see
        the new size at once.
        """
        self.make_volume('ft-g1')
        self.make_svm(SVM_A, base.TENANT_A)
        self.publish(SVM_A, 'ft-g1', [(C1, 'rw')])
        self.mount_on(self.c1, ADDR_A, 'ft-g1')
        image = '/mnt/ft-g1/volume.raw'
        stat = ('dd if=%s of=/dev/null count=0 status=none && '
                'stat -c %%s %s' % (image, image))
        self.sh(self.c1, 'truncate -s 1M %s && sync' % image)
        self.assertEqual('1048576', self.sh(self.c1, stat).stdout.strip())
        self.sh(self.s1, 'truncate -s 3M %s/volume.raw' %
                export.mountpoint('ft-g1'))
        self.assertEqual('3145728', self.sh(self.c1, stat).stdout.strip())


class AddressServedTwiceTestCase(SVMTestBase):

    def test_second_svm_with_an_address_is_refused(self):
        # An SVM's MAC comes from its first address, and the kernel does
        # not bring up a macvlan with a sibling's MAC: the second SVM is
        # refused, naming the first, which keeps serving.
        self.make_volume('ft-a1')
        self.make_svm(SVM_A, base.TENANT_A)
        self.publish(SVM_A, 'ft-a1', [(C1, 'rw')])
        self.addCleanup(self.svms.delete, 'ft_tenant_dup')
        err = self.assertRaises(exception.Conflict, self.svms.create,
                                'ft_tenant_dup',
                                tenant_network(base.TENANT_A))
        self.assertIn('%s is served by SVM %s' % (ADDR_A, SVM_A), str(err))
        self.assertTrue(self.ganesha.status(SVM_A)['running'])
        self.mount_on(self.c1, ADDR_A, 'ft-a1')
        self.svms.delete('ft_tenant_dup')
        self.assertNotIn('ft_tenant_dup', self.svms.list())
        self.assertNotIn('ft_tenant_dup', self.sh(
            self.s1, 'ip netns list').stdout)
        # The first SVM still serves after the other's clean-up.
        self.assertTrue(self.can_connect(self.c1, ADDR_A))


class IPv6TestCase(SVMTestBase):
    """A dual-stack SVM: NFS v4.2 over IPv6, rules by IPv6 address."""

    SVM = 'ft_dual'
    SVM_V6 = 'fd00:100::10'
    C1_V6 = 'fd00:100::21'
    C2_V6 = 'fd00:100::22'

    def add_v6(self, client, address):
        self.sh(client, 'ip -6 addr replace %s/64 dev eth0.100 nodad'
                % address)
        self.addCleanup(self.sh, client, 'ip -6 addr del %s/64 dev '
                        'eth0.100' % address, False)

    def test_dual_stack_svm_serves_ipv6_clients(self):
        self.add_v6(self.c1, self.C1_V6)
        self.add_v6(self.c2, self.C2_V6)
        self.make_volume('ft-v6')
        network = svm.make_network(
            'vlan', [base.TENANT_A['svm'], self.SVM_V6 + '/64'],
            [base.TENANT_A['gateway']], parent='eth0',
            vlan=base.TENANT_A['vlan'])
        self.addCleanup(self.svms.delete, self.SVM)
        self.svms.create(self.SVM, network)
        # Only c1's IPv6 address is a client; c2 is rw by its IPv4 one.
        self.publish(self.SVM, 'ft-v6', [(self.C1_V6, 'rw'), (C2, 'rw')])
        v6_host = '[%s]' % self.SVM_V6

        self.mount_on(self.c1, v6_host, 'ft-v6')
        mounts = self.sh(self.c1, 'grep " /mnt/ft-v6 " /proc/mounts').stdout
        self.assertIn('vers=4.2', mounts)
        self.assertIn('proto=tcp6', mounts)
        self.assertIn('addr=' + self.SVM_V6, mounts)
        digest = self.write_random(self.c1, '/mnt/ft-v6/data', 4)
        self.assertEqual(digest, self.sha256(
            self.s1, export.mountpoint('ft-v6') + '/data'))
        self.nfs_umount(self.c1, '/mnt/ft-v6')

        # A rule is per address: c1 over IPv4 is not listed, c2 over IPv6
        # is not either; c2 over IPv4 is.
        self.assert_mount_refused(self.c1, ADDR_A, 'ft-v6')
        self.assert_mount_refused(self.c2, v6_host, 'ft-v6')
        self.mount_on(self.c2, ADDR_A, 'ft-v6')
        self.assertEqual(digest, self.sha256(self.c2, '/mnt/ft-v6/data'))
