"""Unit tests of arca-rootwrap-install."""

import os
import stat
from unittest import mock

import ddt
import fixtures

from arca_openstack.cmd import install_rootwrap
from tests.unit import base

SOURCE = install_rootwrap.shipped_dir()


@ddt.ddt
class InstallTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.shipped = sorted(n for n in os.listdir(SOURCE[1])
                              if n.endswith('.filters'))

    def listing(self, rel):
        return sorted(os.listdir(os.path.join(self.root, rel)))

    def test_shipped_from_the_source_tree(self):
        self.assertEqual(['arca-cinder-host.filters', 'arca-node.filters'],
                         self.shipped)
        self.assertTrue(os.path.exists(os.path.join(SOURCE[0],
                                                    'rootwrap.conf')))

    @ddt.data(('cinder', 'etc/cinder/rootwrap.d', True),
              ('manila', 'etc/manila/rootwrap.d', False),
              ('node', 'etc/arca/rootwrap.d', False))
    @ddt.unpack
    def test_filters(self, target, rel, host_filter):
        install_rootwrap.install(target, root=self.root)
        expected = [n for n in self.shipped
                    if host_filter or n != install_rootwrap.HOST_ONLY]
        self.assertEqual(expected, self.listing(rel))
        for name in expected:
            path = os.path.join(self.root, rel, name)
            self.assertEqual(0o644, stat.S_IMODE(os.stat(path).st_mode))
            with open(path) as got, open(os.path.join(SOURCE[1],
                                                      name)) as want:
                self.assertEqual(want.read(), got.read())
        conf = os.path.join(self.root, install_rootwrap.CONF)
        self.assertEqual(target == 'node', os.path.exists(conf))

    def test_stale_arca_filters_removed_others_kept(self):
        dest = os.path.join(self.root, 'etc/manila/rootwrap.d')
        os.makedirs(dest)
        for name in ('arca-old.filters', 'share.filters'):
            with open(os.path.join(dest, name), 'w') as f:
                f.write('[Filters]\n')
        install_rootwrap.install('manila', root=self.root)
        listing = self.listing('etc/manila/rootwrap.d')
        self.assertNotIn('arca-old.filters', listing)
        self.assertIn('share.filters', listing)

    def test_sudoers(self):
        agent = os.path.join(self.root, 'bin', 'arca-node')
        self.patch(install_rootwrap, 'agent_path', lambda: agent)
        self.patch(install_rootwrap.shutil, 'which', lambda name: None)
        install_rootwrap.install('node', root=self.root,
                                 sudoers_user='arca')
        path = os.path.join(self.root, install_rootwrap.SUDOERS)
        with open(path) as f:
            # Exactly the agent serving: no other argument, no other
            # command.
            self.assertEqual('arca ALL = (root) NOPASSWD: %s serve\n'
                             % agent, f.read())
        self.assertEqual(0o440, stat.S_IMODE(os.stat(path).st_mode))

    @ddt.data('root ALL=(ALL) ALL', 'arca\n', 'a b', '-arca', 'A' * 40, '')
    def test_bad_sudoers_user_writes_nothing(self, user):
        self.assertRaises(install_rootwrap.InstallError,
                          install_rootwrap.install, 'node', root=self.root,
                          sudoers_user=user)
        self.assertEqual([], os.listdir(self.root))

    def test_sudoers_user_only_for_node(self):
        self.assertRaises(install_rootwrap.InstallError,
                          install_rootwrap.install, 'cinder', root=self.root,
                          sudoers_user='arca')
        self.assertEqual([], os.listdir(self.root))

    def test_never_writes_through_a_symlink(self):
        dest = os.path.join(self.root, 'etc/arca/rootwrap.d')
        os.makedirs(dest)
        victim = os.path.join(self.root, 'victim')
        with open(victim, 'w') as f:
            f.write('keep')
        os.symlink(victim, os.path.join(dest, 'arca-node.filters'))
        self.assertRaises(install_rootwrap.InstallError,
                          install_rootwrap.install, 'node', root=self.root)
        with open(victim) as f:
            self.assertEqual('keep', f.read())

    def test_main_reports_errors(self):
        stderr = self.useFixture(fixtures.StringStream('stderr')).stream
        with mock.patch('sys.stderr', stderr):
            rc = install_rootwrap.main(['node', '--root', self.root,
                                        '--sudoers-user', 'bad user'])
        self.assertEqual(1, rc)
        stderr.seek(0)
        self.assertIn('invalid user name', stderr.read())

    def test_main_prints_paths(self):
        stdout = self.useFixture(fixtures.StringStream('stdout')).stream
        with mock.patch('sys.stdout', stdout):
            self.assertEqual(0, install_rootwrap.main(
                ['cinder', '--root', self.root]))
        stdout.seek(0)
        self.assertIn(os.path.join(self.root, 'etc/cinder/rootwrap.d',
                                   'arca-node.filters'), stdout.read())
