"""The remote storage node's set-up, as the install guide writes it.

On a lab storage node: the SSH user made with ``useradd`` (locked) cannot
log in even with its key (sshd without PAM); after ``usermod -p '*'`` it
can; ``arca-rootwrap-install node --sudoers-user arca`` puts the sudoers
line in place, and a driver's agent client, logged in as that user, then
starts ``sudo arca-node serve`` exactly as a driver configured with the
default ``arca_ssh_root_helper`` (sudo) does. sudo admits that and
nothing else.

The files are laid out in the guest as a system-wide ``pip install``
lays them out (tests/lab/guest_install.py).
"""

import functools

from arca_openstack import exception
from arca_openstack.node import executor as node_executor
from arca_openstack.wire import client
from arca_openstack.wire import connection
from tests.functional import base
from tests.lab import guest_install
from tests.lab import harness

BIN = guest_install.BIN
USER = 'arca'


class InstallGuideTestCase(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.node = self.lab.node('s2')
        site = guest_install.purelib(self.node)
        self.addCleanup(self.sh, self.node, guest_install.uninstall_script(
            site, USER), False)
        guest_install.install(self.node)

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
        self.assertIn('/etc/sudoers.d/arca', out)
        sudoers = self.sh(self.node, 'cat /etc/sudoers.d/arca').stdout
        self.assertEqual('%s ALL = (root) NOPASSWD: %s/arca-node serve\n'
                         % (USER, BIN), sudoers)
        self.assertEqual('arca-node.filters', self.sh(
            self.node, 'ls /etc/arca/rootwrap.d').stdout.strip())

        plain = self.login()
        self.assertEqual(USER, plain.execute('id', '-un').stdout.strip())
        # sudo admits the agent serving, nothing else.
        for argv in (('id',), ('%s/arca-node' % BIN, 'ensure'),
                     ('%s/arca-node' % BIN, '--config-file', '/tmp/x',
                      'serve'), ('lvs',)):
            denied = plain.execute('sudo', '-n', *argv,
                                   check_exit_code=False)
            self.assertNotEqual(0, denied.exit_code, argv)

        # A driver's client, with the default root helper and agent.
        conf = Conf()
        ssh = client.SSHConnection(
            self.node.address, USER, self.lab.key_file,
            known_hosts_file=self.lab.known_hosts, connect_timeout=30,
            sock_factory=functools.partial(harness.netns_connect,
                                           self.lab.netns,
                                           self.node.address, 22, 30))
        self.addCleanup(ssh.close)
        agent = client.ssh_client(ssh, connection.agent_command(
            'sudo -n', conf.arca_node_agent))
        self.addCleanup(agent.close)
        # Root: it lists the SVM records and finds every tool.
        self.assertEqual([], agent.call('svms.list'))
        self.assertEqual([], agent.call('node.check'))
        # An LV outside the node's pools is refused by the agent.
        err = self.assertRaises(exception.InvalidInput, agent.call,
                                'pool.remove', {'vg': 'arca',
                                                'thin': 'arca-state',
                                                'name': 'x'})
        self.assertIn('not one of the pools', str(err))


class Conf(object):
    """The node options' defaults, as a driver reads them."""

    def __init__(self):
        for opt in connection.node_opts:
            setattr(self, opt.dest, opt.default)
