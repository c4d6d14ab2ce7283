import ddt

from arca_openstack import exception
from arca_openstack.node import quota
from tests.unit import base

MNT = '/var/lib/arca/mnt/share-1'
FINDMNT = ('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET', '--mountpoint', MNT)


@ddt.ddt
class FilesystemQuotaTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.quota = quota.FilesystemQuota(self.executor)

    def mounted(self):
        self.executor.on(*FINDMNT,
                         stdout='/dev/mapper/arca-share--1 %s\n' % MNT)

    def test_enable_root_directory(self):
        self.mounted()
        self.quota.enable(MNT)
        self.assertCommands(FINDMNT, (
            'xfs_quota', '-x', '-c', 'project -s -p %s 1' % MNT, MNT))

    def test_enable_other_id(self):
        self.mounted()
        self.quota.enable(MNT, 42)
        self.assertEqual(('xfs_quota', '-x', '-c',
                          'project -s -p %s 42' % MNT, MNT),
                         self.executor.commands[-1])

    def test_enable_not_mounted(self):
        self.executor.on(*FINDMNT, exit_code=1)
        self.assertRaises(exception.NotFound, self.quota.enable, MNT)
        self.assertCommands(FINDMNT)

    @ddt.data((1, ''), (0, 'xfs_quota: cannot set project on /x'))
    @ddt.unpack
    def test_enable_failure(self, exit_code, stderr):
        self.mounted()
        self.executor.on('xfs_quota', exit_code=exit_code, stderr=stderr)
        self.assertRaises(exception.CommandFailed, self.quota.enable, MNT)

    def test_enable_skips_links_and_special_files(self):
        """The walk skips what a tenant planted: not an error.

        xfs_quota says so on stderr for each link, FIFO, socket or device
        node, and exits 0.
        """
        self.mounted()
        self.executor.on('xfs_quota', stderr=''.join(
            'xfs_quota: skipping special file %s/%s\n' % (MNT, name)
            for name in ('l', 'sub/deeper/up', 'fifo', 'a b')))
        self.quota.enable(MNT)

    @ddt.data(
        # An error among skipped files: the error is what is reported.
        ('xfs_quota: skipping special file %s/l\n'
         'xfs_quota: cannot set project on %s/d: Operation not permitted\n'
         % (MNT, MNT),
         'xfs_quota: cannot set project on %s/d: Operation not permitted'
         % MNT),
        ('xfs_quota: cannot stat file %s/x\n' % MNT,
         'xfs_quota: cannot stat file %s/x' % MNT),
        # A skip outside this filesystem's tree.
        ('xfs_quota: skipping special file /var/lib/arca/mnt/share-2/l\n',
         'xfs_quota: skipping special file /var/lib/arca/mnt/share-2/l'),
        ('xfs_quota: skipping special file %s\n' % MNT,
         'xfs_quota: skipping special file %s' % MNT),
        # A name with a line break: its second part is no skip.
        ('xfs_quota: skipping special file %s/a\nb\n' % MNT, 'b'))
    @ddt.unpack
    def test_enable_other_stderr_fails(self, stderr, reported):
        self.mounted()
        self.executor.on('xfs_quota', stderr=stderr)
        err = self.assertRaises(exception.CommandFailed, self.quota.enable,
                                MNT)
        self.assertEqual(reported, err.stderr)

    @ddt.data('/var/lib/arca/mnt', '/etc', '/var/lib/arca/mnt/../x',
              '/var/lib/arca/mnt/-x', '/var/lib/arca/mnt/a b', None)
    def test_bad_mountpoint_no_command(self, mountpoint):
        self.assertRaises(exception.InvalidInput, self.quota.enable,
                          mountpoint)
        self.assertCommands()

    @ddt.data(0, -1, 2 ** 32, 'x', True)
    def test_bad_project_no_command(self, project_id):
        self.assertRaises(exception.InvalidInput, self.quota.enable, MNT,
                          project_id)
        self.assertCommands()

    def test_limit_and_used(self):
        self.mounted()
        self.executor.on('xfs_quota', '-x', '-c', 'quota -p -v -N -n -b 1',
                         stdout='/dev/mapper/arca-share--1 2048 0 4096 00 '
                         '[--------] %s\n' % MNT)
        self.quota.set_limit(MNT, 4 * 1024 ** 2)
        self.assertEqual(2048 * 1024, self.quota.used(MNT))
        self.assertIn(('xfs_quota', '-x', '-c',
                       'limit -p bhard=%d 1' % (4 * 1024 ** 2), MNT),
                      self.executor.commands)
