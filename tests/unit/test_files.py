import ddt

from arca_openstack import exception
from arca_openstack.node import files
from tests.unit import base


@ddt.ddt
class FilesTestCase(base.TestCase):

    def test_write_atomic(self):
        files.write_atomic(self.executor, '/var/lib/arca/svm/a/x.conf', 'hi')
        self.assertCommands(
            ('tee', '/var/lib/arca/svm/a/x.conf.tmp'),
            ('mv', '-f', '/var/lib/arca/svm/a/x.conf.tmp',
             '/var/lib/arca/svm/a/x.conf'))
        self.assertEqual('hi', self.executor.input_for('tee'))

    def test_write_atomic_drbd(self):
        files.write_atomic(self.executor, '/etc/drbd.d/arca-r0.res', 'x')
        self.assertEqual(2, len(self.executor.commands))

    @ddt.data('/etc/passwd', '/var/lib/arca/../../etc/passwd',
              '/var/lib/arcade/x', 'var/lib/arca/x', '/var/lib/arca/a b',
              '/etc/drbd.d/../shadow')
    def test_bad_paths_issue_nothing(self, path):
        self.assertRaises(exception.InvalidInput, files.write_atomic,
                          self.executor, path, 'x')
        self.assertRaises(exception.InvalidInput, files.read,
                          self.executor, path)
        self.assertRaises(exception.InvalidInput, files.remove,
                          self.executor, path)
        self.assertEqual([], self.executor.commands)

    def test_read(self):
        self.executor.on('cat', stdout='content')
        self.assertEqual('content',
                         files.read(self.executor, '/var/lib/arca/a'))

    def test_read_missing(self):
        self.executor.on('cat', exit_code=1,
                         stderr='cat: /var/lib/arca/a: No such file or '
                                'directory')
        self.assertIsNone(files.read(self.executor, '/var/lib/arca/a'))

    def test_read_other_error(self):
        self.executor.on('cat', exit_code=1, stderr='Permission denied')
        self.assertRaises(exception.CommandFailed, files.read,
                          self.executor, '/var/lib/arca/a')

    def test_list_dir(self):
        self.executor.on('ls', stdout='b.conf\na.conf\n')
        self.assertEqual(['a.conf', 'b.conf'],
                         files.list_dir(self.executor, '/var/lib/arca/d'))
        self.assertCommands(('ls', '-1A', '/var/lib/arca/d'))

    def test_list_dir_missing(self):
        self.executor.on('ls', exit_code=2, stderr='No such file')
        self.assertEqual([], files.list_dir(self.executor, '/var/lib/arca/d'))

    def test_remove_tree_refuses_base(self):
        for path in files.ALLOWED_BASES:
            self.assertRaises(exception.InvalidInput, files.remove_tree,
                              self.executor, path)
        self.assertEqual([], self.executor.commands)
        files.remove_tree(self.executor, '/var/lib/arca/svm/a')
        self.assertCommands(('rm', '-rf', '/var/lib/arca/svm/a'))

    def test_makedirs_and_remove(self):
        files.makedirs(self.executor, '/run/arca/x')
        files.remove(self.executor, '/var/lib/arca/x')
        self.assertCommands(('mkdir', '-p', '/run/arca/x'),
                            ('rm', '-f', '/var/lib/arca/x'))
