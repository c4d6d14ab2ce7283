import ddt

from arca_openstack import exception
from arca_openstack.node import probe
from arca_openstack.node import rawfile
from tests.unit import base
from tests.unit import rootwrap_check

FILE = '/var/lib/arca/mnt/vol-1/volume.raw'


@ddt.ddt
class RawFileTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.raw = rawfile.RawFile(self.executor)

    def test_create(self):
        self.raw.create('vol-1', 1024 ** 3)
        self.assertCommands(('truncate', '-s', '>1073741824', FILE),
                            ('chmod', '0660', FILE))

    def test_size(self):
        self.executor.on('stat', stdout='1073741824\n')
        self.assertEqual(1024 ** 3, self.raw.size('vol-1'))
        self.assertCommands(('stat', '-c', '%s', FILE))

    def test_size_missing(self):
        self.executor.on('stat', exit_code=1, stderr='stat: No such file')
        self.assertIsNone(self.raw.size('vol-1'))

    @ddt.data(dict(exit_code=1, stderr='Permission denied'),
              dict(stdout='big'))
    def test_size_errors(self, kwargs):
        self.executor.on('stat', **kwargs)
        self.assertRaises((exception.CommandFailed, exception.ParseError),
                          self.raw.size, 'vol-1')

    def test_grow(self):
        self.executor.on('stat', stdout='10\n')
        self.assertEqual(20, self.raw.grow('vol-1', 20))
        self.assertCommands(('stat', '-c', '%s', FILE),
                            ('truncate', '-s', '>20', FILE))

    def test_grow_never_shrinks(self):
        self.executor.on('stat', stdout='30\n')
        self.assertEqual(30, self.raw.grow('vol-1', 20))
        self.assertCommands(('stat', '-c', '%s', FILE))

    def test_grow_missing(self):
        self.executor.on('stat', exit_code=1, stderr='No such file')
        self.assertRaises(exception.NotFound, self.raw.grow, 'vol-1', 20)

    @ddt.data('../x', '.hidden', 'a/b', '', None)
    def test_bad_lv_names(self, name):
        self.assertRaises(exception.InvalidInput, self.raw.create, name, 1)
        self.assertEqual([], self.executor.commands)

    @ddt.data(0, -1, 'x', True, 2 * 1024 ** 5)
    def test_bad_sizes(self, size):
        self.assertRaises(exception.InvalidInput, self.raw.create, 'vol-1',
                          size)
        self.assertEqual([], self.executor.commands)


class ProbeTestCase(base.TestCase):

    def test_all_present(self):
        self.assertEqual([], probe.missing_tools(self.executor))
        self.assertEqual(len(probe.TOOLS), len(self.executor.commands))

    def test_missing(self):
        self.executor.on('ganesha.nfsd', exit_code=127)
        self.assertEqual(['NFS-Ganesha (ganesha.nfsd)'],
                         probe.missing_tools(self.executor))


@ddt.ddt
class NewFiltersTestCase(base.TestCase):

    @ddt.data(('truncate', '-s', '-5', FILE),
              ('truncate', '-s', '5', FILE),
              ('truncate', '-s', '>5', '/var/lib/arca/mnt/../volume.raw'),
              ('truncate', '-s', '>5', '/var/lib/arca/mnt/.x/volume.raw'),
              ('truncate', '-s', '>5', '/etc/shadow'),
              ('chmod', '0777', FILE),
              ('stat', '-c', '%s', '/etc/shadow'),
              ('ganesha.nfsd', '-f', '/tmp/x.conf'),
              ('umount', '/'),
              ('umount', '/var/lib/cinder/mnt/../etc/' + 'a' * 32),
              ('umount', '-l', '/var/lib/cinder/mnt/arca/' + 'a' * 32))
    def test_refused(self, cmd):
        self.assertFalse(rootwrap_check.allowed(cmd))


@ddt.ddt
class NotARegularFileTestCase(base.TestCase):
    """What the agent refuses (a link, a FIFO) is a clear Conflict."""

    @ddt.data('stat: cannot statx \'x\': Too many levels of symbolic links',
              'truncate: cannot open \'x\' for writing: not a regular file')
    def test_refused_image_is_a_conflict(self, stderr):
        self.executor.on('stat', exit_code=1, stderr=stderr)
        self.executor.on('truncate', exit_code=1, stderr=stderr)
        raw = rawfile.RawFile(self.executor)
        for call in (lambda: raw.size('vol-1'),
                     lambda: raw.create('vol-1', 1024),
                     lambda: raw.grow('vol-1', 1024)):
            err = self.assertRaises(exception.Conflict, call)
            self.assertIn('volume.raw', str(err))
            self.assertIn('symbolic link', str(err))
        self.assertNotIn('chmod', [c[0] for c in self.executor.commands])
