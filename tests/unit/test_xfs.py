import ddt

from arca_openstack import exception
from arca_openstack.node import xfs
from tests.unit import base
from tests.unit import fake_node
from tests.unit import rootwrap_check

DEV = '/dev/arca/vol-1'
MAPPER = '/dev/mapper/arca-vol--1'
MNT = '/var/lib/arca/mnt/vol-1'
FINDMNT = ('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET', '--mountpoint')
BLKID = ('blkid', '-p', '-o', 'value', '-s', 'TYPE')
UUID = 'b2e1f0c3-9d8a-4b7c-8e6f-5a4b3c2d1e0f'

DIRTY_LOG = fake_node.DIRTY_LOG
NEW_UUID = '''\
Clearing log and setting UUID
writing all SBs
new UUID = %s
''' % UUID


@ddt.ddt
class XFSTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.xfs = xfs.XFS(self.executor)

    def mounted(self, mountpoint=MNT, source=MAPPER, times=None):
        self.executor.on(*(FINDMNT + (mountpoint,)),
                         stdout='%s %s\n' % (source, mountpoint), times=times)

    def not_mounted(self, mountpoint=MNT, times=None):
        self.executor.on(*(FINDMNT + (mountpoint,)), exit_code=1,
                         times=times)

    # -- validation --

    @ddt.data('/dev/sda', '/dev/mapper/arca-vol', '/dev/disk/by-id/x',
              '/dev/arca/../sda', '/dev/arca/vol/x', 'arca/vol', '/dev/arca/',
              '/dev/arca/-vol', '/dev/drbd', '/dev/drbdx', '/etc/passwd',
              '/dev/arca/snapshot', None, '/dev/arca/vol\n')
    def test_bad_devices_issue_no_command(self, device):
        for call in (self.xfs.mkfs, self.xfs.regenerate_uuid,
                     lambda d: self.xfs.mount(d, MNT)):
            self.assertRaises(exception.InvalidInput, call, device)
        self.assertEqual([], self.executor.commands)

    @ddt.data('/var/lib/arca/mnt', '/var/lib/arca/mnt/', '/etc',
              '/var/lib/arca/mnt/../../../etc', '/var/lib/arca/mnt/./x',
              '/var/lib/arca/mnt/.hidden', '/var/lib/arca/mntx/y',
              'var/lib/arca/mnt/x', '/var/lib/arca/mnt//x',
              '/var/lib/arca/mnt/a b', '/var/lib/arca/mnt/x;y', None)
    def test_bad_mountpoints_issue_no_command(self, mountpoint):
        calls = (
            lambda: self.xfs.mount(DEV, mountpoint),
            lambda: self.xfs.unmount(mountpoint),
            lambda: self.xfs.is_mounted(mountpoint),
            lambda: self.xfs.grow(mountpoint),
            lambda: self.xfs.freeze(mountpoint),
            lambda: self.xfs.unfreeze(mountpoint),
            lambda: self.xfs.usage(mountpoint),
            lambda: self.xfs.set_project_limit(mountpoint, 1, 1),
            lambda: self.xfs.project_usage(mountpoint, 1),
        )
        for call in calls:
            self.assertRaises(exception.InvalidInput, call)
        self.assertEqual([], self.executor.commands)

    @ddt.data(['rw'], ['exec'], ['ro,exec'], ['suid'], 'ro', ['remount'],
              [None], ['prjquota=1'])
    def test_bad_options_issue_no_command(self, options):
        self.assertRaises(exception.InvalidInput, self.xfs.mount, DEV, MNT,
                          options)
        self.assertEqual([], self.executor.commands)

    @ddt.data(0, -1, 2 ** 32, '5; x', True, None)
    def test_bad_project_issue_no_command(self, project_id):
        self.assertRaises(exception.InvalidInput,
                          self.xfs.set_project_limit, MNT, project_id, 1)
        self.assertRaises(exception.InvalidInput, self.xfs.project_usage,
                          MNT, project_id)
        self.assertEqual([], self.executor.commands)

    @ddt.data(-1, 1.5, '1g', True, 2 ** 61, None)
    def test_bad_limit_issue_no_command(self, size):
        self.assertRaises(exception.InvalidInput,
                          self.xfs.set_project_limit, MNT, 5, size)
        self.assertEqual([], self.executor.commands)

    # -- mkfs --

    MKFS = ('mkfs.xfs', '-q', '-K', DEV)
    EXISTING = ('mkfs.xfs: /dev/arca/vol-1 appears to contain an existing '
                'filesystem (%s).\nmkfs.xfs: Use the -f option to force '
                'overwrite.\n')

    def refused(self, fstype='xfs'):
        self.executor.on('mkfs.xfs', exit_code=1,
                         stderr=self.EXISTING % fstype)

    def test_mkfs(self):
        self.xfs.mkfs(DEV)
        # mkfs.xfs (no -f) refuses any signature itself: no look first.
        self.assertCommands(self.MKFS)

    def test_mkfs_drbd(self):
        self.xfs.mkfs('/dev/drbd7')
        self.assertCommands(('mkfs.xfs', '-q', '-K', '/dev/drbd7'))

    def test_mkfs_already_xfs(self):
        self.refused()
        self.executor.on(*BLKID, stdout='xfs\n')
        self.xfs.mkfs(DEV)
        self.assertCommands(self.MKFS, BLKID + (DEV,))

    def test_mkfs_already_xfs_mounted(self):
        self.executor.on('mkfs.xfs', exit_code=1, stderr=(
            'mkfs.xfs: /dev/arca/vol-1 contains a mounted filesystem\n'))
        self.executor.on(*BLKID, stdout='xfs\n')
        self.xfs.mkfs(DEV)
        self.assertCommands(self.MKFS, BLKID + (DEV,))

    @ddt.data('ext4\n', 'LVM2_member\n', 'crypto_LUKS\n', '\n')
    def test_mkfs_other_signature(self, stdout):
        self.refused(stdout.strip())
        self.executor.on(*BLKID, stdout=stdout)
        self.assertRaises(exception.Conflict, self.xfs.mkfs, DEV)
        self.assertCommands(self.MKFS, BLKID + (DEV,))

    def test_mkfs_ambivalent(self):
        self.refused('ext4')
        self.executor.on(*BLKID, exit_code=8)
        self.assertRaises(exception.Conflict, self.xfs.mkfs, DEV)
        self.assertCommands(self.MKFS, BLKID + (DEV,))

    def test_mkfs_probe_error(self):
        self.refused('ext4')
        self.executor.on(*BLKID, exit_code=4)
        self.assertRaises(exception.CommandFailed, self.xfs.mkfs, DEV)
        self.assertCommands(self.MKFS, BLKID + (DEV,))

    def test_mkfs_device_missing(self):
        self.executor.on('mkfs.xfs', exit_code=1, stderr=(
            'mkfs.xfs: cannot open /dev/arca/vol-1: No such file or '
            'directory\n'))
        self.assertRaises(exception.NotFound, self.xfs.mkfs, DEV)
        self.assertCommands(self.MKFS)

    def test_mkfs_refuses_what_blkid_does_not_see(self):
        self.refused('ext4')
        self.executor.on(*BLKID, exit_code=2)
        self.assertRaises(exception.Conflict, self.xfs.mkfs, DEV)

    def test_mkfs_other_failure(self):
        self.executor.on('mkfs.xfs', exit_code=1, stderr='mkfs.xfs: I/O\n')
        self.executor.on(*BLKID, exit_code=2)
        self.assertRaises(exception.CommandFailed, self.xfs.mkfs, DEV)

    # -- mount --

    def test_mount(self):
        self.not_mounted()
        self.xfs.mount(DEV, MNT, ['prjquota', 'noatime', 'prjquota'])
        self.assertCommands(
            FINDMNT + (MNT,), ('mkdir', '-p', MNT),
            ('mount', '-t', 'xfs', '-o', 'prjquota,noatime', DEV, MNT))

    def test_mount_no_options(self):
        self.not_mounted()
        self.xfs.mount('/dev/drbd3', MNT)
        self.assertCommands(FINDMNT + (MNT,), ('mkdir', '-p', MNT),
                            ('mount', '-t', 'xfs', '/dev/drbd3', MNT))

    @ddt.data(MAPPER, DEV)
    def test_mount_already(self, source):
        self.mounted(source=source)
        self.xfs.mount(DEV, MNT, ['nouuid'])
        self.assertCommands(FINDMNT + (MNT,))

    def test_mount_already_drbd(self):
        self.mounted(source='/dev/drbd3')
        self.xfs.mount('/dev/drbd3', MNT)
        self.assertCommands(FINDMNT + (MNT,))

    @ddt.data('/dev/mapper/arca-vol--10', '/dev/mapper/arca-vol-1',
              '/dev/drbd3', '/dev/sda1', 'tmpfs')
    def test_mount_other_there(self, source):
        self.mounted(source=source)
        self.assertRaises(exception.Conflict, self.xfs.mount, DEV, MNT)
        self.assertCommands(FINDMNT + (MNT,))

    def test_mount_stacked_uses_topmost(self):
        self.executor.on(*(FINDMNT + (MNT,)), stdout='%s %s\n%s %s\n' % (
            '/dev/sda1', MNT, MAPPER, MNT))
        self.xfs.mount(DEV, MNT)
        self.assertCommands(FINDMNT + (MNT,))

    def test_mount_findmnt_garbage(self):
        self.executor.on(*(FINDMNT + (MNT,)), stdout='%s /elsewhere\n'
                         % MAPPER)
        self.assertRaises(exception.ParseError, self.xfs.mount, DEV, MNT)

    def test_mount_device_missing(self):
        self.not_mounted()
        self.executor.on('mount', exit_code=32, stderr=(
            'mount: /var/lib/arca/mnt/vol-1: special device /dev/arca/vol-1 '
            'does not exist.\n'))
        self.assertRaises(exception.NotFound, self.xfs.mount, DEV, MNT)

    def test_is_mounted(self):
        self.mounted()
        self.assertTrue(self.xfs.is_mounted(MNT))
        self.not_mounted()
        self.assertFalse(self.xfs.is_mounted(MNT))

    # -- unmount --

    def test_unmount(self):
        self.xfs.unmount(MNT)
        # umount refuses a path that is no mountpoint: no look first.
        self.assertCommands(('umount', MNT))

    @ddt.data('umount: /var/lib/arca/mnt/vol-1: not mounted.\n',
              'umount: /var/lib/arca/mnt/vol-1: no mount point specified.\n',
              'umount: /var/lib/arca/mnt/vol-1: not found\n')
    def test_unmount_not_mounted(self, stderr):
        self.executor.on('umount', exit_code=32, stderr=stderr)
        self.xfs.unmount(MNT)
        self.assertCommands(('umount', MNT))

    def test_unmount_fails(self):
        self.executor.on('umount', exit_code=32, stderr='umount: odd\n')
        self.assertRaises(exception.CommandFailed, self.xfs.unmount, MNT)

    def test_unmount_busy(self):
        self.mounted()
        self.executor.on('umount', exit_code=32, stderr=(
            'umount: /var/lib/arca/mnt/vol-1: target is busy.\n'))
        self.assertRaises(exception.InUse, self.xfs.unmount, MNT)

    def test_unmount_raced(self):
        self.mounted()
        self.executor.on('umount', exit_code=32, stderr=(
            'umount: /var/lib/arca/mnt/vol-1: not mounted.\n'))
        self.xfs.unmount(MNT)

    # -- grow, freeze --

    def test_grow(self):
        self.mounted()
        self.xfs.grow(MNT)
        self.assertCommands(FINDMNT + (MNT,), ('xfs_growfs', '-d', MNT))

    def test_grow_just_mounted(self):
        self.xfs.grow(MNT, mounted=True)
        self.assertCommands(('xfs_growfs', '-d', MNT))

    @ddt.data('grow', 'freeze', 'usage')
    def test_needs_mounted(self, method):
        self.not_mounted()
        self.assertRaises(exception.NotFound, getattr(self.xfs, method), MNT)
        self.assertCommands(FINDMNT + (MNT,))

    def test_freeze(self):
        self.mounted()
        self.xfs.freeze(MNT)
        self.assertCommands(FINDMNT + (MNT,), ('xfs_freeze', '-f', MNT))

    def test_freeze_already_frozen(self):
        self.mounted()
        self.executor.on('xfs_freeze', exit_code=1, stderr=(
            'xfs_freeze: cannot freeze filesystem at %s: Device or resource '
            'busy\n' % MNT))
        self.xfs.freeze(MNT)

    def test_freeze_error(self):
        self.mounted()
        self.executor.on('xfs_freeze', exit_code=1, stderr='I/O error\n')
        self.assertRaises(exception.CommandFailed, self.xfs.freeze, MNT)

    def test_unfreeze(self):
        self.mounted()
        self.xfs.unfreeze(MNT)
        self.assertCommands(FINDMNT + (MNT,), ('xfs_freeze', '-u', MNT))

    def test_unfreeze_not_frozen(self):
        self.mounted()
        self.executor.on('xfs_freeze', exit_code=1, stderr=(
            'xfs_freeze: cannot unfreeze filesystem mounted at %s: Invalid '
            'argument\n' % MNT))
        self.xfs.unfreeze(MNT)

    def test_unfreeze_not_mounted(self):
        self.not_mounted()
        self.xfs.unfreeze(MNT)
        self.assertCommands(FINDMNT + (MNT,))

    def test_frozen(self):
        self.mounted()
        with self.xfs.frozen(MNT):
            self.assertEqual(('xfs_freeze', '-f', MNT),
                             self.executor.commands[-1])
        self.assertEqual(('xfs_freeze', '-u', MNT),
                         self.executor.commands[-1])

    def test_frozen_unfreezes_on_error(self):
        self.mounted()

        def body():
            with self.xfs.frozen(MNT):
                raise RuntimeError('boom')

        self.assertRaises(RuntimeError, body)
        self.assertEqual(('xfs_freeze', '-u', MNT),
                         self.executor.commands[-1])

    def test_frozen_unfreezes_after_freeze_timeout(self):
        self.mounted()
        self.executor.on('xfs_freeze', '-f', timeout=True)

        def body():
            with self.xfs.frozen(MNT):
                pass

        self.assertRaises(exception.CommandTimeout, body)
        self.assertEqual(('xfs_freeze', '-u', MNT),
                         self.executor.commands[-1])

    # -- UUID --

    def test_regenerate_uuid(self):
        self.executor.on('xfs_admin', stdout=NEW_UUID)
        self.assertEqual(UUID, self.xfs.regenerate_uuid(DEV))
        self.assertCommands(('xfs_admin', '-U', 'generate', DEV))

    def test_regenerate_uuid_dirty_log(self):
        tmp = '/var/lib/arca/mnt/_uuid/arca.vol-1'
        self.executor.on('xfs_admin', stdout=NEW_UUID)
        self.executor.on('xfs_admin', stdout=DIRTY_LOG, times=1)
        self.not_mounted(tmp, times=1)
        self.assertEqual(UUID, self.xfs.regenerate_uuid(DEV))
        self.assertCommands(
            ('xfs_admin', '-U', 'generate', DEV),
            FINDMNT + (tmp,), ('mkdir', '-p', tmp),
            ('mount', '-t', 'xfs', '-o', 'nouuid', DEV, tmp),
            ('umount', tmp),
            ('xfs_admin', '-U', 'generate', DEV))

    def test_mount_copy(self):
        self.executor.on('xfs_admin', stdout=NEW_UUID)
        self.not_mounted()
        self.assertEqual(UUID, self.xfs.mount_copy(DEV, MNT, ['noatime']))
        # The log is replayed where it is to live; after the new UUID the
        # mountpoint is known to exist and to be empty.
        self.assertCommands(
            FINDMNT + (MNT,), ('mkdir', '-p', MNT),
            ('mount', '-t', 'xfs', '-o', 'nouuid', DEV, MNT),
            ('umount', MNT),
            ('xfs_admin', '-U', 'generate', DEV),
            ('mount', '-t', 'xfs', '-o', 'noatime', DEV, MNT))

    def test_mount_copy_mounted_already(self):
        # An earlier attempt's mount: unmounted, then as a new one.
        self.executor.on('xfs_admin', stdout=NEW_UUID)
        self.mounted()
        self.xfs.mount_copy(DEV, MNT)
        self.assertCommands(
            FINDMNT + (MNT,), ('umount', MNT),
            ('xfs_admin', '-U', 'generate', DEV),
            ('mount', '-t', 'xfs', DEV, MNT))

    def test_mount_copy_other_mounted_there(self):
        self.mounted(source='/dev/mapper/arca-other')
        self.assertRaises(exception.Conflict, self.xfs.mount_copy, DEV, MNT)
        self.assertCommands(FINDMNT + (MNT,))

    def test_mount_copy_still_dirty(self):
        self.executor.on('xfs_admin', stdout=DIRTY_LOG)
        self.not_mounted()
        self.assertRaises(exception.CommandFailed, self.xfs.mount_copy, DEV,
                          MNT)
        self.assertEqual(('xfs_admin', '-U', 'generate', DEV),
                         self.executor.commands[-1])

    def test_mount_copy_bad_input(self):
        for args in (('/dev/sda', MNT), (DEV, '/etc'), (DEV, MNT, ['rw'])):
            self.assertRaises(exception.InvalidInput, self.xfs.mount_copy,
                              *args)
        self.assertEqual([], self.executor.commands)

    def test_regenerate_uuid_drbd_dirty_still(self):
        tmp = '/var/lib/arca/mnt/_uuid/drbd2'
        self.executor.on('xfs_admin', stdout=DIRTY_LOG)
        self.not_mounted(tmp)
        self.mounted(tmp, source='/dev/drbd2', times=1)
        self.not_mounted(tmp, times=1)
        self.assertRaises(exception.CommandFailed, self.xfs.regenerate_uuid,
                          '/dev/drbd2')
        self.assertNotIn('xfs_repair', str(self.executor.commands))

    def test_regenerate_uuid_mounted(self):
        self.executor.on('xfs_admin', exit_code=1, stderr=(
            'xfs_admin: /dev/arca/vol-1 contains a mounted filesystem\n\n'
            'fatal error -- couldn\'t initialize XFS library\n'))
        self.assertRaises(exception.InUse, self.xfs.regenerate_uuid, DEV)
        self.assertCommands(('xfs_admin', '-U', 'generate', DEV))

    # -- usage --

    def test_usage(self):
        self.mounted()
        self.executor.on('df', stdout=(' 1B-blocks     Used     Avail\n'
                                       '1006632960 40865792 965767168\n'))
        self.assertEqual({'total_bytes': 1006632960, 'used_bytes': 40865792,
                          'free_bytes': 965767168}, self.xfs.usage(MNT))
        self.assertCommands(FINDMNT + (MNT,), ('df', '-B1',
                                               '--output=size,used,avail',
                                               MNT))

    @ddt.data('', ' 1B-blocks Used Avail\n', '1B-blocks Used Avail\n1 2\n',
              ' 1B-blocks Used Avail\n1 2 x\n')
    def test_usage_bad_output(self, stdout):
        self.mounted()
        self.executor.on('df', stdout=stdout)
        self.assertRaises(exception.ParseError, self.xfs.usage, MNT)

    # -- project quotas --

    def test_set_project_limit(self):
        self.mounted()
        self.xfs.set_project_limit(MNT, 42, 10 * 1024 ** 3)
        self.assertCommands(
            FINDMNT + (MNT,),
            ('xfs_quota', '-x', '-c', 'limit -p bhard=10737418240 42', MNT))

    def test_set_project_limit_zero(self):
        self.mounted()
        self.xfs.set_project_limit(MNT, 42, 0)
        self.assertEqual(('xfs_quota', '-x', '-c', 'limit -p bhard=0 42',
                          MNT), self.executor.commands[-1])

    def test_quota_error_on_stderr(self):
        self.mounted()
        self.executor.on('xfs_quota', stderr=(
            'xfs_quota: cannot set limits: Function not implemented\n'))
        self.assertRaises(exception.CommandFailed,
                          self.xfs.set_project_limit, MNT, 42, 1)

    @ddt.data('set_project_limit', 'project_usage')
    def test_quota_needs_mounted(self, method):
        self.not_mounted()
        args = {'set_project_limit': (MNT, 1, 1),
                'project_usage': (MNT, 1)}[method]
        self.assertRaises(exception.NotFound, getattr(self.xfs, method),
                          *args)
        self.assertCommands(FINDMNT + (MNT,))

    @ddt.data(
        # device name longer than 15 characters: numbers on the next line
        ('/dev/mapper/arca-vol--1\n'
         '                   524288          0   10485760   00 [--------] '
         '/var/lib/arca/mnt/vol-1\n', 524288 * 1024),
        ('/dev/drbd2          2048          0    1048576   00 [--------] '
         '/var/lib/arca/mnt/vol-1\n', 2048 * 1024),
        ('/dev/mapper/arca-vol--1\n'
         '                 10485764          0   10485760   00  [7 days] '
         '/var/lib/arca/mnt/vol-1\n', 10485764 * 1024),
        ('', 0))
    @ddt.unpack
    def test_project_usage(self, stdout, used):
        self.mounted()
        self.executor.on('xfs_quota', stdout=stdout)
        self.assertEqual(used, self.xfs.project_usage(MNT, 42))
        self.assertCommands(
            FINDMNT + (MNT,),
            ('xfs_quota', '-x', '-c', 'quota -p -v -N -n -b 42', MNT))

    def test_project_usage_bad_output(self):
        self.mounted()
        self.executor.on('xfs_quota', stdout='/dev/x 1.5M 0 0\n')
        self.assertRaises(exception.ParseError, self.xfs.project_usage,
                          MNT, 42)


@ddt.ddt
class XfsFiltersTestCase(base.TestCase):
    """Commands the XFS filters must refuse."""

    @ddt.data(
        ('mkfs.xfs', '-f', '/dev/sda'),
        ('mkfs.xfs', '-q', '-K', '/dev/sda'),
        ('mkfs.xfs', '-q', '-K', '-f', '/dev/arca/vol'),
        ('mkfs.xfs', '-q', '-K', '/dev/mapper/root'),
        ('mkfs.xfs', '-q', '-K', '/dev/disk/by-id/x'),
        ('mkfs.xfs', '-q', '-K', '/dev/arca/../sda'),
        ('mount', '-t', 'xfs', '/dev/arca/vol', '/etc'),
        ('mount', '-t', 'xfs', '/dev/arca/vol', '/var/lib/arca/mnt/../../x'),
        ('mount', '-t', 'xfs', '/dev/arca/vol', '/var/lib/arca/mnt/./x'),
        ('mount', '-t', 'xfs', '/dev/arca/vol', '/var/lib/arca/mnt'),
        ('mount', '--bind', '/etc', '/var/lib/arca/mnt/x'),
        ('mount', '-t', 'xfs', '-o', 'exec,suid', '/dev/arca/vol',
         '/var/lib/arca/mnt/x'),
        ('mount', '-t', 'xfs', '-o', 'ro,remount', '/dev/arca/vol',
         '/var/lib/arca/mnt/x'),
        ('mount', '-t', 'ext4', '/dev/arca/vol', '/var/lib/arca/mnt/x'),
        ('umount', '/'),
        ('umount', '-l', '/var/lib/arca/mnt/x'),
        ('xfs_admin', '-U', 'nil', '/dev/arca/vol'),
        ('xfs_admin', '-L', 'x', '/dev/arca/vol'),
        ('xfs_freeze', '-f', '/'),
        ('xfs_growfs', '-d', '/var/lib/arca/mnt/..'),
        ('xfs_quota', '-x', '-c', 'limit -p bhard=1 42; rm -rf /',
         '/var/lib/arca/mnt/x'),
        ('xfs_quota', '-x', '-c', 'limit -p bhard=1 42',
         '-c', 'off', '/var/lib/arca/mnt/x'),
        ('xfs_quota', '-x', '-c', 'limit -u bhard=1 root',
         '/var/lib/arca/mnt/x'),
        ('xfs_quota', '-x', '-c', 'project -s -p /etc 42',
         '/var/lib/arca/mnt/x'),
        ('xfs_quota', '-x', '-c', 'project -s -p /var/lib/arca/mnt/../x 42',
         '/var/lib/arca/mnt/x'),
        ('xfs_quota', '-x', '-c', 'quota -p -v -N -n -b 42', '/'),
        ('df', '-B1', '--output=size,used,avail', '/etc'),
        ('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET', '--mountpoint', '/'),
        ('blkid', '-p', '-o', 'value', '-s', 'TYPE', '/dev/sda'),
        ('xfs_repair', '-L', '/dev/arca/vol'),
    )
    def test_refused(self, cmd):
        self.assertFalse(rootwrap_check.allowed(cmd))
