"""The remote storage node's set-up, as the install guide writes it.

On a lab storage node: the SSH user made with ``useradd`` (locked) cannot
log in even with its key (sshd without PAM); after ``usermod -p '*'`` it
can; ``arca-rootwrap-install node --sudoers-user arca`` puts the filters,
rootwrap.conf and the sudoers line in place, and the node library then
works through ``sudo arca-rootwrap /etc/arca/rootwrap.conf`` exactly as a
driver configured with ``arca_ssh_root_helper`` uses it.

The files are laid out in the guest as a system-wide ``pip install``
lays them out for the Debian python3 (which has oslo.rootwrap): the
command's module under /usr/local/lib/python3.*/dist-packages, the
package's data_files under /usr/local/etc and the two console scripts in
/usr/local/bin. (The guest cannot use this run's virtualenv or checkout:
it hides /root and /tmp.)
"""

import functools
import os

from arca_openstack import exception
from arca_openstack.node import executor as node_executor
from arca_openstack.node import netns
from tests.functional import base
from tests.lab import harness

BIN = '/usr/local/bin'
USER = 'arca'
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
# (file in this tree, where pip puts it; {site}: the purelib folder)
INSTALLED = [
    ('arca_openstack/__init__.py', '{site}/arca_openstack/__init__.py'),
    ('arca_openstack/cmd/__init__.py',
     '{site}/arca_openstack/cmd/__init__.py'),
    ('arca_openstack/cmd/install_rootwrap.py',
     '{site}/arca_openstack/cmd/install_rootwrap.py'),
    ('etc/arca/rootwrap.conf', '/usr/local/etc/arca/rootwrap.conf'),
] + [('etc/rootwrap.d/' + name, '/usr/local/etc/arca/rootwrap.d/' + name)
     for name in sorted(os.listdir(os.path.join(SOURCE, 'etc',
                                                'rootwrap.d')))]
# What pip writes for the package's console_scripts (setup.cfg).
SCRIPTS = {
    'arca-rootwrap': ('oslo_rootwrap.cmd', 'main'),
    'arca-rootwrap-install': ('arca_openstack.cmd.install_rootwrap',
                              'main'),
}
SCRIPT = """#!/usr/bin/python3
import sys
from %s import %s
if __name__ == '__main__':
    sys.exit(%s())
"""


class InstallGuideTestCase(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.node = self.lab.node('s2')
        self.addCleanup(self.sh, self.node, 'userdel -r %s 2>/dev/null; '
                        'rm -rf /etc/sudoers.d/arca /etc/arca/rootwrap.d '
                        '/etc/arca/rootwrap.conf %s' % (USER, ' '.join(
                            '%s/%s' % (BIN, n) for n in SCRIPTS)), False)
        site = self.node.run('/usr/bin/python3', '-c', 'import sysconfig; '
                             'print(sysconfig.get_path("purelib"))'
                             ).stdout.strip()
        self.addCleanup(self.sh, self.node, 'rm -rf %s/arca_openstack '
                        '/usr/local/etc/arca' % site, False)
        for rel, path in INSTALLED:
            with open(os.path.join(SOURCE, rel)) as src:
                self.node.run('sh', '-c', 'mkdir -p "${1%/*}" && cat > "$1"',
                              'sh', path.format(site=site), input=src.read())
        for name, (module, func) in SCRIPTS.items():
            path = '%s/%s' % (BIN, name)
            self.node.run('tee', path, input=SCRIPT % (module, func, func))
            self.node.run('chmod', '755', path)

    def login(self, root_helper=''):
        """An SSHExecutor logged in as the guide's user."""
        ex = node_executor.SSHExecutor(
            self.node.address, USER, self.lab.key_file,
            known_hosts_file=self.lab.known_hosts, connect_timeout=30,
            root_helper=root_helper,
            sock_factory=functools.partial(harness.netns_connect,
                                           self.lab.netns,
                                           self.node.address, 22, 30))
        self.addCleanup(ex.close)
        return ex

    def test_documented_user_setup(self):
        self.sh(self.node, 'userdel -r %s 2>/dev/null; useradd -m %s'
                % (USER, USER), check=False)
        self.assertTrue(self.sh(self.node, 'getent shadow %s' % USER)
                        .stdout.split(':')[1].startswith('!'))
        # Locked: sshd (no PAM) refuses even a valid key.
        self.assertRaises(exception.NodeUnreachable,
                          self.login().execute, 'true')

        self.sh(self.node, "usermod -p '*' %s" % USER)
        out = self.sh(self.node, '%s/arca-rootwrap-install node '
                      '--sudoers-user %s' % (BIN, USER)).stdout
        self.assertIn('/etc/arca/rootwrap.conf', out)
        self.assertIn('/etc/sudoers.d/arca', out)
        sudoers = self.sh(self.node, 'cat /etc/sudoers.d/arca').stdout
        self.assertEqual('%s ALL = (root) NOPASSWD: %s/arca-rootwrap '
                         '/etc/arca/rootwrap.conf *\n' % (USER, BIN),
                         sudoers)
        self.assertIn('arca-netns.filters', self.sh(
            self.node, 'ls /etc/arca/rootwrap.d').stdout)

        plain = self.login()
        self.assertEqual(USER, plain.execute('id', '-un').stdout.strip())
        # sudo allows the root helper with its configuration, nothing else.
        denied = plain.execute('sudo', '-n', 'id', check_exit_code=False)
        self.assertNotEqual(0, denied.exit_code)
        denied = plain.execute('sudo', '-n', '%s/arca-rootwrap' % BIN,
                               '/tmp/other.conf', 'id',
                               check_exit_code=False)
        self.assertNotEqual(0, denied.exit_code)

        helper = 'sudo -n %s/arca-rootwrap /etc/arca/rootwrap.conf' % BIN
        node = self.login(helper)
        self.assertIn('LVM version',
                      node.execute('lvs', '--version').stdout)
        # The node library through it: listing the SVM namespaces.
        self.assertIsInstance(netns.Netns(node).list(), list)
        # A command no filter admits is refused by rootwrap.
        refused = node.execute('cat', '/etc/shadow', check_exit_code=False)
        self.assertEqual(99, refused.exit_code, refused)
        self.assertNotIn(USER + ':', refused.stdout)
