"""The agent's builtins against the real commands they stand in for.

Each builtin runs on files in a temporary directory, and so does the real
command (coreutils, grep) on a copy of the same files: exit code and
output must be the same, and a failure must name the same cause. The
image-file forms are checked for what they must do differently: never
follow a symlink, act on regular files only.
"""

import os
import signal
import subprocess
import tempfile

import ddt

from arca_openstack.agent import builtins
from arca_openstack.agent import root_executor
from arca_openstack import exception
from tests.unit import base

SVM = '/var/lib/arca/svm/arca_p1'
IMAGE = '/var/lib/arca/mnt/volume-1/volume.raw'


def real(argv, stdin=None):
    proc = subprocess.run(argv, input=stdin and stdin.encode(),
                          capture_output=True, env=dict(os.environ,
                                                        LC_ALL='C'))
    return (proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@ddt.ddt
class FindTestCase(base.TestCase):
    """Which argv the agent answers itself; everything else runs."""

    @ddt.data(
        ('cat', SVM + '/record.json'),
        ('cat', SVM + '/exports/1.conf', SVM + '/ganesha.conf'),
        ('cat', '/proc/4242/cmdline'),
        ('cat', '/etc/drbd.d/arca-r1.res'),
        ('cat', '/etc/arca/cluster.conf'),
        ('tee', SVM + '/ganesha.conf.tmp'),
        ('mv', '-f', SVM + '/ganesha.conf.tmp', SVM + '/ganesha.conf'),
        ('rm', '-f', SVM + '/exports/3.conf'),
        ('rm', '-rf', SVM),
        ('mkdir', '-p', '/var/lib/arca'),
        ('mkdir', '-p', SVM + '/exports'),
        ('ls', '-1A', SVM + '/exports'),
        ('stat', '-c', '%s', '/var/log/arca/ganesha-arca_p1.log'),
        ('tail', '-c', '+17', '/var/log/arca/ganesha-arca_p1.log'),
        ('tail', '-n', '20', '/var/log/arca/ganesha-arca_p1.log'),
        ('kill', '-HUP', '4242'),
        ('kill', '-0', '4242'),
        ('grep', '-r', '-H', '-Z', '-a', '-e', '^', SVM + '/ganesha.conf',
         SVM + '/exports', '/run/arca/ganesha-arca_p1.pid'),
        ('truncate', '-s', '>1073741824', IMAGE),
        ('chmod', '0660', IMAGE),
        ('stat', '-c', '%s', IMAGE),
        ('mkdir', '-p', '/var/lib/arca/mnt/volume-1'),
        ('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET', '--mountpoint',
         '/var/lib/arca/mnt/volume-1'),
        ('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET', '--mountpoint',
         '/var/lib/arca/pools/arca1'),
        ('ln', '-sfnT', '/var/lib/arca/pools/arca1/svm/arca_p1', SVM),
        ('readlink', SVM),
    )
    def test_answered(self, argv):
        self.assertIsNotNone(builtins.find(argv))

    @ddt.data(
        # Inside a tenant's filesystem: only the image file forms.
        ('cat', '/var/lib/arca/mnt/volume-1/volume.raw'),
        ('cat', '/var/lib/arca/mnt/share-1/l/passwd'),
        ('tee', '/var/lib/arca/mnt/share-1/x.tmp'),
        ('rm', '-rf', '/var/lib/arca/mnt/share-1'),
        ('rm', '-rf', '/var/lib/arca/mnt'),
        ('mkdir', '-p', '/var/lib/arca/mnt/share-1/l'),
        ('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET', '--mountpoint',
         '/var/lib/arca/mnt/share-1/l'),
        ('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET', '--mountpoint', '/'),
        ('truncate', '-s', '>1', '/var/lib/arca/mnt/volume-1/l/volume.raw'),
        ('truncate', '-s', '1', IMAGE),
        ('chmod', '0660', '/var/lib/arca/mnt/volume-1/other'),
        ('stat', '-c', '%s', '/var/lib/arca/mnt/volume-1/other'),
        # Outside Arca's directories, or out of them by '..'.
        ('cat', '/etc/shadow'),
        ('cat', '/etc/arca/arca-node.conf'),
        ('cat', '/etc/arca/cluster.conf', '/etc/shadow'),
        ('tee', '/etc/arca/cluster.conf'),
        ('cat', '/var/lib/arca/../../etc/shadow'),
        ('cat', '/var/lib/arca/svm/./../../../etc/shadow'),
        ('tee', '/etc/cron.d/x'),
        ('mv', '-f', SVM + '/a.tmp', '/etc/passwd'),
        ('rm', '-f', '/etc/passwd'),
        ('ls', '-1A', '/root'),
        ('cat', '/proc/self/environ'),
        ('cat', '/proc/0/cmdline'),
        # Other signals, other shapes.
        ('kill', '-STOP', '4242'),
        ('kill', '-HUP', '-1'),
        ('kill', '-HUP', '0'),
        ('kill', '-HUP', '4242', '4343'),
        ('cat',),
        ('mv', SVM + '/a', SVM + '/b'),
        ('grep', '-r', '-e', '^', SVM),
        ('lvs', '--version'),
    )
    def test_not_answered(self, argv):
        self.assertIsNone(builtins.find(argv))


@ddt.ddt
class SameAsCommandTestCase(base.TestCase):
    """Each builtin gives what the real command gives."""

    def setUp(self):
        super().setUp()
        self.dirs = [tempfile.mkdtemp(), tempfile.mkdtemp()]
        for top in self.dirs:
            self.addCleanup(subprocess.run, ['rm', '-rf', top])
            self._files(top)

    @staticmethod
    def _files(top):
        os.makedirs(os.path.join(top, 'exports', 'sub'))
        for name, text in (('a', 'one\ntwo\n'), ('b', 'no newline'),
                           ('empty', ''), ('exports/1.conf', 'x\n'),
                           ('exports/sub/2.conf', 'y\nz\n'),
                           ('log', ''.join('line %d\n' % i
                                           for i in range(40)))):
            with open(os.path.join(top, name), 'w') as f:
                f.write(text)

    def compare(self, func, argv, paths_at, stdin=None):
        """argv with {} in each path, run both ways; results compared."""
        results = []
        for top in self.dirs:
            words = [w.replace('{}', top) for w in argv]
            if func is None:
                results.append(real(words, stdin))
            else:
                results.append(tuple(func(words, stdin)))
        builtin, command = results
        builtin = (builtin[0], builtin[1].replace(self.dirs[0], 'T'),
                   builtin[2].replace(self.dirs[0], 'T'))
        command = (command[0], command[1].replace(self.dirs[1], 'T'),
                   command[2].replace(self.dirs[1], 'T'))
        self.assertEqual(command[:2], builtin[:2])
        if command[2]:
            # Same cause named (wording of the rest may differ).
            self.assertIn(command[2].rsplit(': ', 1)[-1], builtin[2])
        else:
            self.assertEqual('', builtin[2])
        return builtin

    def both(self, func, *argv, stdin=None):
        self.compare(func, argv, None, stdin)
        return self.compare(None, argv, None, stdin)

    @ddt.data(('{}/a',), ('{}/b',), ('{}/a', '{}/b'), ('{}/missing',),
              ('{}/a', '{}/missing', '{}/b'), ('{}/empty',))
    def test_cat(self, paths):
        self.both(builtins.cat, 'cat', *paths)

    @ddt.data('{}/a', '{}/missing', '{}/exports', '{}/link')
    def test_cat_config(self, path):
        # cluster.conf is root's: a symlink to it is followed, as cat does.
        for top in self.dirs:
            os.symlink(os.path.join(top, 'a'), os.path.join(top, 'link'))
        self.both(builtins.cat_config, 'cat', path)

    def test_cat_config_form(self):
        self.assertIs(builtins.cat_config,
                      builtins.find(('cat', '/etc/arca/cluster.conf')))

    def test_cat_cmdline(self):
        pid = os.getpid()
        self.assertEqual(real(['cat', '/proc/%d/cmdline' % pid]),
                         tuple(builtins.cat(
                             ['cat', '/proc/%d/cmdline' % pid], None)))

    @ddt.data('{}/new', '{}/a', '{}/nodir/x')
    def test_tee(self, path):
        self.both(builtins.tee, 'tee', path, stdin='text\nmore\n')
        for top in self.dirs:
            target = path.replace('{}', top)
            if os.path.exists(os.path.dirname(target)):
                with open(target) as f:
                    self.assertEqual('text\nmore\n', f.read())
                self.assertEqual(0o644, os.stat(target).st_mode & 0o777)

    @ddt.data(('{}/a', '{}/c'), ('{}/a', '{}/b'), ('{}/missing', '{}/c'))
    def test_mv(self, paths):
        self.both(builtins.mv, 'mv', '-f', *paths)
        self.assertEqual(*[sorted(os.listdir(t)) for t in self.dirs])

    @ddt.data('{}/a', '{}/missing', '{}/exports')
    def test_rm(self, path):
        self.both(builtins.rm, 'rm', '-f', path)
        self.assertEqual(*[sorted(os.listdir(t)) for t in self.dirs])

    @ddt.data('{}/exports', '{}/a', '{}/missing')
    def test_rm_tree(self, path):
        self.both(builtins.rm_tree, 'rm', '-rf', path)
        self.assertEqual(*[sorted(os.listdir(t)) for t in self.dirs])

    def test_rm_tree_leaves_link_targets(self):
        outside = tempfile.mkdtemp()
        self.addCleanup(subprocess.run, ['rm', '-rf', outside])
        with open(os.path.join(outside, 'keep'), 'w') as f:
            f.write('k')
        os.symlink(outside, os.path.join(self.dirs[0], 'exports', 'l'))
        builtins.rm_tree(['rm', '-rf', self.dirs[0] + '/exports'], None)
        self.assertEqual(['keep'], os.listdir(outside))

    @ddt.data('{}/x/y/z', '{}/exports', '{}/a/b')
    def test_mkdir(self, path):
        self.both(builtins.mkdir, 'mkdir', '-p', path)

    @ddt.data('{}/exports', '{}/missing')
    def test_ls(self, path):
        self.both(builtins.ls, 'ls', '-1A', path)

    @ddt.data('{}/log', '{}/empty', '{}/missing')
    def test_stat_size(self, path):
        self.both(builtins.stat_size, 'stat', '-c', '%s', path)

    @ddt.data(('+1', '{}/log'), ('+17', '{}/log'), ('+100000', '{}/log'),
              ('+3', '{}/missing'))
    def test_tail_from(self, args):
        self.both(builtins.tail_from, 'tail', '-c', *args)

    @ddt.data(('1', '{}/log'), ('20', '{}/log'), ('100', '{}/log'),
              ('2', '{}/b'), ('3', '{}/missing'), ('1', '{}/empty'))
    def test_tail_lines(self, args):
        self.both(builtins.tail_lines, 'tail', '-n', *args)

    @ddt.data(('{}/a',), ('{}/a', '{}/b', '{}/empty', '{}/missing'),
              ('{}/exports', '{}/a'), ('{}/empty',), ('{}/missing',))
    def test_grep_all(self, paths):
        argv = ('grep', '-r', '-H', '-Z', '-a', '-e', '^') + paths
        for top in self.dirs:
            # Directory order is the filesystem's: compare as sets.
            words = [w.replace('{}', top) for w in argv]
            got = builtins.grep_all(words, None)
            want = real(words)
            self.assertEqual(want[0], got.exit_code)
            self.assertEqual(sorted(want[1].split('\n')),
                             sorted(got.stdout.split('\n')))
            self.assertEqual(bool(want[2]), bool(got.stderr))

    @ddt.data('/', '/proc', '/sys', '/proc/self', '/nonexistent')
    def test_findmnt(self, path):
        argv = ['findmnt', '-n', '-r', '-o', 'SOURCE,TARGET', '--mountpoint',
                path]
        self.assertEqual(real(argv), tuple(builtins.findmnt(argv, None)))

    @ddt.data('{}/new', '{}/link', '{}/a', '{}/exports', '{}/nodir/x')
    def test_ln(self, path):
        for top in self.dirs:
            os.symlink(top + '/gone', top + '/link')
        self.both(builtins.ln, 'ln', '-sfnT', '{}/exports/sub', path)
        for top in self.dirs:
            target = path.replace('{}', top)
            if os.path.islink(target):
                self.assertEqual(top + '/exports/sub', os.readlink(target))
        self.assertEqual(*[sorted(os.listdir(t)) for t in self.dirs])

    @ddt.data('{}/link', '{}/a', '{}/exports', '{}/missing')
    def test_readlink(self, path):
        for top in self.dirs:
            os.symlink(top + '/exports', top + '/link')
        self.both(builtins.readlink, 'readlink', path)

    def test_kill(self):
        self.assertEqual(0, builtins.kill(
            ['kill', '-0', str(os.getpid())], None).exit_code)
        proc = subprocess.Popen(['sleep', '30'])
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        self.assertEqual(0, builtins.kill(
            ['kill', '-TERM', str(proc.pid)], None).exit_code)
        self.assertEqual(-signal.SIGTERM, proc.wait(timeout=10))
        gone = builtins.kill(['kill', '-HUP', str(proc.pid)], None)
        self.assertEqual(1, gone.exit_code)
        self.assertIn('No such process', gone.stderr)


@ddt.ddt
class ImageFileTestCase(base.TestCase):
    """The volume's image file: its forms never act through a link."""

    def setUp(self):
        super().setUp()
        self.top = tempfile.mkdtemp()
        self.addCleanup(subprocess.run, ['rm', '-rf', self.top])
        self.mnt = os.path.join(self.top, 'mnt')
        os.mkdir(self.mnt)
        self.image = os.path.join(self.mnt, 'volume.raw')
        self.canary = os.path.join(self.top, 'canary')
        with open(self.canary, 'w') as f:
            f.write('canary')
        os.chmod(self.canary, 0o600)

    def run_all(self):
        return [builtins.image_grow(['truncate', '-s', '>4096',
                                     self.image], None),
                builtins.image_chmod(['chmod', '0660', self.image], None),
                builtins.image_size(['stat', '-c', '%s', self.image], None)]

    def canary_untouched(self):
        with open(self.canary) as f:
            self.assertEqual('canary', f.read())
        self.assertEqual(0o600, os.stat(self.canary).st_mode & 0o777)

    def test_regular_file(self):
        grow, chmod, size = self.run_all()
        self.assertEqual((0, 0, 0, '4096\n'), (
            grow.exit_code, chmod.exit_code, size.exit_code, size.stdout))
        self.assertEqual(0o660, os.stat(self.image).st_mode & 0o777)

    def test_never_shrinks(self):
        with open(self.image, 'wb') as f:
            f.truncate(8192)
        self.assertEqual(0, builtins.image_grow(
            ['truncate', '-s', '>4096', self.image], None).exit_code)
        self.assertEqual(8192, os.stat(self.image).st_size)

    @ddt.data('canary', 'dangling', 'loop', 'dir')
    def test_symlink_refused(self, kind):
        target = {'canary': self.canary, 'dangling': self.top + '/none',
                  'loop': self.image, 'dir': self.top}[kind]
        os.symlink(target, self.image)
        for result in self.run_all():
            self.assertNotEqual(0, result.exit_code)
            self.assertIn('symbolic links', result.stderr)
        self.canary_untouched()
        self.assertFalse(os.path.exists(self.top + '/none'))
        self.assertTrue(os.path.islink(self.image))

    @ddt.data('fifo', 'dir')
    def test_not_regular_refused(self, kind):
        if kind == 'fifo':
            os.mkfifo(self.image)
        else:
            os.mkdir(self.image)
        for result in self.run_all():
            self.assertNotEqual(0, result.exit_code)
            self.assertIn('not a regular file', result.stderr)

    def test_mountpoint_link_refused(self):
        os.rename(self.mnt, self.top + '/elsewhere')
        os.symlink(self.top + '/elsewhere', self.mnt)
        for result in self.run_all():
            self.assertNotEqual(0, result.exit_code)
        self.assertEqual([], os.listdir(self.top + '/elsewhere'))


class RootExecutorTestCase(base.TestCase):
    """Commands as child processes of the agent (harmless ones)."""

    def setUp(self):
        super().setUp()
        self.root = root_executor.RootExecutor(timeout=10)

    def test_output_and_exit_code(self):
        result = self.root.execute('sh', '-c', 'echo out; echo err >&2; '
                                   'exit 3', check_exit_code=False)
        self.assertEqual((3, 'out\n', 'err\n'), tuple(result))

    def test_input(self):
        self.assertEqual('a\nb', self.root.execute(
            'cat', process_input='a\nb').stdout)

    def test_stdin_is_not_inherited(self):
        # Without input a command reads an empty stdin, never the
        # protocol's channel.
        self.assertEqual('', self.root.execute('cat').stdout)

    def test_failure_raises(self):
        self.assertRaises(exception.CommandFailed, self.root.execute,
                          'false')

    def test_missing_command(self):
        err = self.assertRaises(exception.CommandFailed, self.root.execute,
                                'arca-no-such-command')
        self.assertEqual(127, err.exit_code)

    def test_timeout(self):
        self.assertRaises(exception.CommandTimeout, self.root.execute,
                          'sleep', '20', timeout=0.5)

    def test_builtin_runs_no_process(self):
        with open('/proc/%d/cmdline' % os.getpid(), 'rb') as f:
            want = f.read().decode('utf-8', 'replace')
        self.assertEqual(want, self.root.execute(
            'cat', '/proc/%d/cmdline' % os.getpid()).stdout)
