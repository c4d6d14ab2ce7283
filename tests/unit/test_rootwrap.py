"""The shipped rootwrap filters: well-formed, and closed to hostile use.

That every command the node library issues is allowed is checked by
base.TestCase after every unit test; this module checks the other side.
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

    def test_allowed_command_accepted(self):
        # The checker itself can say yes.
        self.assertTrue(rootwrap_check.allowed(
            ('mkdir', '-p', '/var/lib/arca/svm/a')))
