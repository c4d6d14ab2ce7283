"""Thin LVs and XFS on a real kernel: snapshots, clones, revert, grow."""

from arca_openstack.node import lvm
from arca_openstack.node import xfs
from tests.functional import base

MNT = '/var/lib/arca/mnt/'


class ThinStorageTestBase(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.s1 = self.lab.node('s1')
        ex = self.node_executor(self.s1)
        self.pool = lvm.ThinPool(ex, base.VG, base.POOL)
        self.fs = xfs.XFS(ex)
        self.addCleanup(self._remove, 'ft-vol', 'ft-snap', 'ft-clone')

    def _remove(self, *names):
        for name in names:
            self.fs.unmount(MNT + name)
            self.pool.remove(name)

    def _mount(self, name):
        self.fs.mount(self.pool.device_path(name), MNT + name)
        return MNT + name


class ThinStorageTestCase(ThinStorageTestBase):
    """The whole flow, every command checked against the catalogue."""

    def test_snapshot_clone_revert_extend(self):
        before = self.pool.capacity()
        self.pool.create('ft-vol', 2, tags=lvm.make_tags(kind='volume'))
        dev = self.pool.device_path('ft-vol')
        self.fs.mkfs(dev)
        vol = self._mount('ft-vol')
        original = self.write_random(self.s1, vol + '/data', 32)

        # Snapshot of the mounted volume (device-mapper freezes it).
        self.pool.snapshot('ft-vol', 'ft-snap',
                           tags=lvm.make_tags(kind='snapshot'))
        overwritten = self.write_random(self.s1, vol + '/data', 32)
        self.assertNotEqual(original, overwritten)

        # The snapshot, mounted read-only beside its origin (nouuid: it
        # keeps its origin's filesystem UUID), still holds the old data.
        self.fs.mount(self.pool.device_path('ft-snap'), MNT + 'ft-snap',
                      options=('ro', 'nouuid'))
        self.assertEqual(original, self.sha256(self.s1,
                                               MNT + 'ft-snap/data'))
        self.fs.unmount(MNT + 'ft-snap')

        # A writable clone of the snapshot gets a new UUID, mounts beside
        # its origin and diverges on its own.
        uuid = 'blkid -p -s UUID -o value %s'
        vol_uuid = self.sh(self.s1, uuid % dev).stdout.strip()
        self.pool.snapshot('ft-snap', 'ft-clone')
        self.fs.regenerate_uuid(self.pool.device_path('ft-clone'))
        self.assertNotEqual(vol_uuid, self.sh(
            self.s1, uuid % self.pool.device_path('ft-clone')).stdout)
        clone = self._mount('ft-clone')
        self.assertEqual(original, self.sha256(self.s1, clone + '/data'))
        diverged = self.write_random(self.s1, clone + '/data', 8)
        self.assertNotEqual(original, diverged)
        self.assertEqual(overwritten, self.sha256(self.s1, vol + '/data'))

        # Revert the volume to the snapshot; the snapshot stays.
        self.fs.unmount(vol)
        self.pool.revert('ft-vol', 'ft-snap')
        self.pool.revert('ft-vol', 'ft-snap')  # a retry converges
        vol = self._mount('ft-vol')
        self.assertEqual(original, self.sha256(self.s1, vol + '/data'))
        # Same filesystem UUID as before: NFS file handles stay valid.
        self.assertEqual(vol_uuid, self.sh(self.s1, uuid % dev).stdout.strip())
        self.assertIsNotNone(self.pool.get('ft-snap'))
        self.assertEqual(['arca.kind=volume'], self.pool.get('ft-vol')['tags'])

        # Extend online: LV then filesystem, while mounted.
        size_before = self.fs.usage(vol)['total_bytes']
        self.pool.extend('ft-vol', 4)
        self.fs.grow(vol)
        size_after = self.fs.usage(vol)['total_bytes']
        self.assertGreater(size_after, size_before + (1 << 30))
        df = self.sh(self.s1, 'df -B1 --output=size %s | tail -n 1' % vol)
        self.assertEqual(size_after, int(df.stdout))
        self.assertEqual(original, self.sha256(self.s1, vol + '/data'))

        # Remove everything: the pool's usage comes back.
        self._remove('ft-vol', 'ft-snap', 'ft-clone')
        after = self.pool.capacity()
        self.assertEqual(before['lv_count'], after['lv_count'])
        self.assertLessEqual(after['used_bytes'],
                             before['used_bytes'] + (8 << 20))


class RepeatTestCase(ThinStorageTestBase):

    def test_operations_repeat_safely(self):
        for _ in range(2):
            self.pool.create('ft-vol', 1)
            self.fs.mkfs(self.pool.device_path('ft-vol'))
            vol = self._mount('ft-vol')
        data = self.write_random(self.s1, vol + '/data', 4)
        for _ in range(2):
            self.pool.snapshot('ft-vol', 'ft-snap')
            self.pool.extend('ft-vol', 2)
            self.fs.grow(vol)
        # Freeze and thaw work (and thaw twice is harmless).
        with self.fs.frozen(vol):
            self.assertEqual(data, self.sha256(self.s1, vol + '/data'))
        self.fs.unfreeze(vol)
        # mkfs never reformats: the data survives a repeated mkfs.
        self.fs.mkfs(self.pool.device_path('ft-vol'))
        self.assertEqual(data, self.sha256(self.s1, vol + '/data'))
        for _ in range(2):
            self._remove('ft-vol', 'ft-snap')
        self.assertIsNone(self.pool.get('ft-vol'))
