"""Repeat, crash and reboot: the node converges from its own record."""

from arca_openstack.node import export
from arca_openstack.node import files
from tests.functional import base
from tests.functional.node import test_svm

SVM = 'ft_recover'
LV = 'ft-rec1'
C1 = test_svm.C1
ADDR = test_svm.ADDR_A


class RecoveryTestCase(test_svm.SVMTestBase):

    def setUp(self):
        super().setUp()
        self.network = test_svm.tenant_network(base.TENANT_A)
        self.addCleanup(self.pool.remove, LV)
        self.addCleanup(self.svms.delete, SVM)
        self.addCleanup(self.exports.unpublish, SVM, LV)
        self.addCleanup(self.nfs_umount, self.c1, '/mnt/rec')

    def _serve(self):
        self.pool.create(LV, 1)
        self.fs.mkfs(self.pool.device_path(LV))
        self.svms.create(SVM, self.network, owner='arca.project=p1')
        return self.exports.publish(SVM, LV, [(C1, 'rw')])

    def _client_reads(self, digest):
        self.nfs_umount(self.c1, '/mnt/rec')
        self.nfs_mount(self.c1, ADDR, '/' + LV, '/mnt/rec')
        self.assertEqual(digest, self.sha256(self.c1, '/mnt/rec/data'))

    def _state(self):
        """What the node holds for this SVM, byte for byte."""
        svm_dir = files.STATE_DIR + '/svm/' + SVM
        return self.sh(self.s1, 'cat %s/svm.json %s/ganesha.conf '
                       '%s/exports/*.conf; ip -n %s -br addr' %
                       (svm_dir, svm_dir, svm_dir, SVM)).stdout

    def test_everything_twice_changes_nothing(self):
        first = self._serve()
        state = self._state()
        pid = self.ganesha.status(SVM)['pid']
        again = self._serve()
        self.assertEqual(first, again)
        self.assertEqual(state, self._state())
        self.assertEqual(pid, self.ganesha.status(SVM)['pid'])
        self.nfs_mount(self.c1, ADDR, '/' + LV, '/mnt/rec')
        # Unpublish and delete twice as well.
        self.nfs_umount(self.c1, '/mnt/rec')
        for _ in range(2):
            self.exports.unpublish(SVM, LV)
            self.svms.delete(SVM)
            self.pool.remove(LV)
        self.assertIsNone(self.svms.get(SVM))
        self.assertNotIn(SVM, self.sh(self.s1, 'ip netns list').stdout)

    def test_ganesha_killed_then_ensured(self):
        self._serve()
        self.nfs_mount(self.c1, ADDR, '/' + LV, '/mnt/rec')
        digest = self.write_random(self.c1, '/mnt/rec/data', 4)
        pid = self.ganesha.status(SVM)['pid']
        self.sh(self.s1, 'kill -9 %d' % pid)
        self.wait_for(lambda: not self.ganesha.status(SVM)['running'],
                      timeout=30, what='ganesha to die')
        self.assertFalse(self.can_connect(self.c1, ADDR))
        self.svms.ensure(SVM, prepare_exports=self.exports.mount_exports)
        status = self.ganesha.status(SVM)
        self.assertTrue(status['running'])
        self.assertNotEqual(pid, status['pid'])
        self._client_reads(digest)

    def test_node_reboot_then_ensured(self):
        self._serve()
        self.nfs_mount(self.c1, ADDR, '/' + LV, '/mnt/rec')
        digest = self.write_random(self.c1, '/mnt/rec/data', 4)
        record = self.svms.get(SVM)
        self.nfs_umount(self.c1, '/mnt/rec')

        self.s1.stop()
        self.s1.start()
        # After the reboot: no namespace, no Ganesha, nothing mounted, but
        # the record and the LV are there.
        self.assertNotIn(SVM, self.sh(self.s1, 'ip netns list').stdout)
        self.assertFalse(self.ganesha.status(SVM)['running'])
        self.assertFalse(self.fs.is_mounted(export.mountpoint(LV)))
        self.assertEqual(record, self.svms.get(SVM))
        self.assertIsNotNone(self.pool.get(LV))

        self.svms.ensure(SVM, prepare_exports=self.exports.mount_exports)
        self.assertTrue(self.fs.is_mounted(export.mountpoint(LV)))
        self._client_reads(digest)
        # Repeating ensure is harmless.
        pid = self.ganesha.status(SVM)['pid']
        self.svms.ensure(SVM, prepare_exports=self.exports.mount_exports)
        self.assertEqual(pid, self.ganesha.status(SVM)['pid'])
