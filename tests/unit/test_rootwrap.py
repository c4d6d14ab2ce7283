"""Rootwrap filters: what the project ships, and the command catalogue.

The shipped filters (``etc/rootwrap.d``) admit ``arca-node serve`` and
nothing else of the storage node. The node library's command catalogue
(``tests/unit/commands.d``, see rootwrap_check) stays well-formed and
closed to hostile forms, as a guard on what the library issues.
"""

import configparser
import glob
import os

import ddt
from oslo_rootwrap import filters as rw_filters
from oslo_rootwrap import wrapper

from tests.unit import base
from tests.unit import rootwrap_check

HOSTILE = [
    ('sh', '-c', 'id'),
    ('bash',),
    ('python3', '-c', 'import os'),
    ('env', 'lvs'),
    ('tee', '/etc/shadow'),
    ('tee', '/var/lib/arca/../../etc/shadow.tmp'),
    ('tee', '/var/lib/arca/x'),
    ('tee', '-a', '/var/lib/arca/x.tmp'),
    ('tee', '/etc/drbd.d/global_common.conf.tmp'),
    ('mv', '-f', '/var/lib/arca/x.tmp', '/etc/passwd'),
    ('mv', '-f', '/etc/shadow', '/var/lib/arca/x'),
    ('mv', '/var/lib/arca/x.tmp', '/var/lib/arca/x', '/etc'),
    ('cat', '/etc/shadow'),
    ('cat', '/var/lib/arca/../../etc/shadow'),
    ('cat', '/var/lib/arca/x', '/etc/shadow'),
    ('rm', '-rf', '/'),
    ('rm', '-rf', '/var/lib/arca'),
    ('rm', '-rf', '/var/lib/arca/svm'),
    ('rm', '-rf', '/var/lib/arca/../..'),
    ('rm', '-f', '/etc/passwd'),
    ('rm', '-rf', '--no-preserve-root', '/'),
    ('mkdir', '-p', '/etc/cron.d/x'),
    ('mkdir', '-p', '/var/lib/arca/../../root/.ssh'),
    ('ls', '-1A', '/root'),
    ('ip', 'netns', 'exec', 'svm_a', 'sh'),
    ('ip', 'netns', 'exec', 'svm_a', 'ip', 'link'),
    ('nsenter', '--net=/run/netns/svm_a', 'sh'),
    ('nsenter', '--target', '1', '--mount', 'sh'),
    ('dd', 'if=/dev/zero', 'of=/dev/sda'),
    ('chmod', '4755', '/bin/sh'),
    ('kill', '-9', '1'),
]


@ddt.ddt
class RootwrapFiltersTestCase(base.TestCase):

    def test_every_filter_file_parses(self):
        paths = glob.glob(os.path.join(rootwrap_check.FILTERS_DIR,
                                       '*.filters'))
        self.assertTrue(paths)
        for path in paths:
            parser = configparser.RawConfigParser(strict=True)
            parser.read(path)
            entries = parser.items('Filters')
            self.assertTrue(entries, path)
            for name, value in entries:
                definition = [s.strip() for s in value.split(',')]
                built = wrapper.build_filter(*definition)
                self.assertIsNotNone(built, '%s: %s' % (path, name))
                self.assertEqual('root', built.run_as,
                                 '%s: %s' % (path, name))

    def test_no_unrestricted_filters(self):
        # A bare CommandFilter lets any argument through: every filter we
        # ship pins its arguments (RegExpFilter) or its target (KillFilter).
        for f in rootwrap_check.filters():
            if f.name == 'privsep-helper':
                continue
            self.assertIsInstance(
                f, (rw_filters.RegExpFilter, rw_filters.KillFilter),
                '%s is not a restricted filter' % f.name)

    @ddt.data(*HOSTILE)
    def test_hostile_command_rejected(self, cmd):
        self.assertFalse(rootwrap_check.allowed(cmd), cmd)

    def test_shipped_filters_admit_the_agent_alone(self):
        shipped = wrapper.load_filters(
            [os.path.abspath(rootwrap_check.SHIPPED_DIR)])

        def admitted(cmd):
            try:
                wrapper.match_filter(shipped, list(cmd),
                                     exec_dirs=rootwrap_check.EXEC_DIRS)
            except wrapper.FilterMatchNotExecutable:
                return True
            except wrapper.NoFilterMatched:
                return False
            return True

        self.assertTrue(admitted(('arca-node', 'serve')))
        # cinder-volume's own clean-up of its image-copy NFS mounts (on
        # the service host, never the storage node).
        self.assertTrue(admitted(('umount', '/var/lib/cinder/mnt/' +
                                  'a' * 32)))
        refused = list(HOSTILE) + [
            ('arca-node', 'serve', '--config-file', '/tmp/x'),
            ('arca-node', '--config-file', '/tmp/x', 'serve'),
            ('arca-node', 'ensure'), ('arca-node',),
            ('umount', '/'), ('umount', '/var/lib/arca/mnt/vol-1'),
            ('arca-rootwrap', '/etc/arca/rootwrap.conf', 'lvs')]
        # Every command form of the node library: each one was a filter
        # line of the earlier release, none is admitted now.
        for path in glob.glob(os.path.join(rootwrap_check.FILTERS_DIR,
                                           '*.filters')):
            parser = configparser.RawConfigParser(strict=True)
            parser.read(path)
            for _name, value in parser.items('Filters'):
                refused.append((value.split(',')[1].strip(), '--version'))
        for cmd in refused:
            self.assertFalse(admitted(cmd), cmd)
        self.assertGreater(len(refused), 60)

    def test_allowed_command_accepted(self):
        # The checker itself can say yes.
        self.assertTrue(rootwrap_check.allowed(
            ('mkdir', '-p', '/var/lib/arca/svm/a')))
