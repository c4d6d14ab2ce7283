import os
import socket
import subprocess
import threading
import time
from unittest import mock

import ddt
import fixtures
from oslo_concurrency import processutils

from arca_openstack import exception
from arca_openstack.node import executor
from arca_openstack.wire import client
from arca_openstack.wire import connection
from tests.unit import base


@ddt.ddt
class LocalExecutorTestCase(base.TestCase):
    """Runs harmless real commands without a root helper."""

    def test_success(self):
        result = executor.LocalExecutor('').execute('echo', 'a b')
        self.assertEqual(executor.Result(0, 'a b\n', ''), result)

    @mock.patch.object(processutils, 'execute', return_value=('o', 'e'))
    def test_root_helper_passed_to_processutils(self, mock_execute):
        result = executor.LocalExecutor('sudo x-rootwrap /c').execute(
            'lvs', timeout=7)
        self.assertEqual(executor.Result(0, 'o', 'e'), result)
        args, kwargs = mock_execute.call_args
        self.assertEqual(('lvs',), args)
        self.assertEqual('sudo x-rootwrap /c', kwargs['root_helper'])
        self.assertTrue(kwargs['run_as_root'])
        self.assertEqual(7, kwargs['timeout'])

    def test_failure_raises_with_details(self):
        err = self.assertRaises(
            exception.CommandFailed, executor.LocalExecutor('').execute,
            'sh', '-c', 'echo out; echo err >&2; exit 3')
        self.assertEqual(3, err.exit_code)
        self.assertEqual('out\n', err.stdout)
        self.assertEqual('err\n', err.stderr)
        self.assertIn('exit code 3', str(err))

    @ddt.data(False, (0, 3), 3)
    def test_accepted_exit_codes(self, accepted):
        result = executor.LocalExecutor('').execute(
            'sh', '-c', 'exit 3', check_exit_code=accepted)
        self.assertEqual(3, result.exit_code)

    def test_stdin(self):
        result = executor.LocalExecutor('').execute('cat',
                                                    process_input='x\ny')
        self.assertEqual('x\ny', result.stdout)

    def test_timeout_kills_the_command(self):
        start = time.monotonic()
        err = self.assertRaises(exception.CommandTimeout,
                                executor.LocalExecutor('').execute,
                                'sleep', '30', timeout=0.5)
        self.assertLess(time.monotonic() - start, 10)
        self.assertIn('timed out', str(err))

    def test_missing_binary(self):
        self.assertRaises(exception.CommandFailed,
                          executor.LocalExecutor('').execute,
                          'arca-no-such-binary')

    @ddt.data((), ('echo', None), ('echo', 'a\0b'), (5,))
    def test_bad_argv(self, cmd):
        self.assertRaises(exception.InvalidInput,
                          executor.LocalExecutor('').execute, *cmd)


class SSHExecutorTestCase(base.TestCase):

    def test_remote_command_quotes_every_word(self):
        ssh = executor.SSHExecutor('192.0.2.10', 'arca', '/k',
                                   root_helper='sudo arca-rootwrap /e/r.conf')
        self.assertEqual(
            "sudo arca-rootwrap /e/r.conf lvs 'a b' "
            "'$(reboot)' ';' ''\"'\"''",
            ssh.remote_command(['lvs', 'a b', '$(reboot)', ';', "'"]))

    def test_unreachable(self):
        # Port 9 on loopback: nothing listens, the connect fails at once.
        ssh = executor.SSHExecutor('127.0.0.1', 'arca', '/nonexistent',
                                   port=9, connect_timeout=2)
        self.assertRaises(exception.NodeUnreachable, ssh.execute, 'true')


class MakeClientTestCase(base.TestCase):

    class Conf(object):
        arca_node_address = None
        arca_ssh_port = 2222
        arca_ssh_user = 'arca'
        arca_ssh_private_key = '/etc/arca/id'
        arca_ssh_known_hosts_file = '/etc/arca/known_hosts'
        arca_ssh_root_helper = 'sudo'
        arca_node_agent = 'arca-node'
        arca_command_timeout = 30
        arca_volume_group = 'arca'
        arca_thin_pool = 'pool'

    @mock.patch.object(client, 'ProcessSession')
    def test_local_runs_agent_through_root_helper(self, session):
        agent = connection.make_client(self.Conf(), 'sudo cinder-rootwrap x')
        self.assertEqual(30, agent.timeout)
        agent._open()
        session.assert_called_once_with(
            ['sudo', 'cinder-rootwrap', 'x', 'arca-node', 'serve'])

    @mock.patch.object(client, 'SSHSession')
    def test_remote_runs_agent_through_sudo(self, session):
        conf = self.Conf()
        conf.arca_node_address = '192.0.2.10'
        agent = connection.make_client(conf, 'sudo cinder-rootwrap x')
        agent._open()
        ssh, command = session.call_args[0]
        self.assertEqual(('192.0.2.10', 2222, 'arca', '/etc/arca/id'),
                         (ssh.host, ssh.port, ssh.username,
                          ssh.key_filename))
        self.assertEqual('sudo arca-node serve', command)

    def test_executor_runs_operations_in_process(self):
        agent = connection.make_client(self.Conf(), 'x',
                                       executor=mock.Mock())
        self.assertEqual(frozenset(['arca/pool']), agent.agent.pools)


class FakeChannel(object):
    """A channel whose exit status arrives before the last output."""

    def __init__(self, events):
        self.events = list(events)
        self.out = b''
        self.err = b''
        self.status = None
        self.eof_received = False

    def _tick(self):
        if self.events:
            kind, value = self.events.pop(0)
            if kind == 'out':
                self.out += value
            elif kind == 'err':
                self.err += value
            elif kind == 'status':
                self.status = value
            else:
                self.eof_received = True

    def recv_ready(self):
        self._tick()
        return bool(self.out)

    def recv_stderr_ready(self):
        return bool(self.err)

    def recv(self, n):
        data, self.out = self.out[:n], self.out[n:]
        return data

    def recv_stderr(self, n):
        data, self.err = self.err[:n], self.err[n:]
        return data

    def exit_status_ready(self):
        return self.status is not None


class CollectTestCase(base.TestCase):

    def test_output_after_exit_status_is_kept(self):
        channel = FakeChannel([('out', b'{"a": '), ('status', 0),
                               ('none', None), ('out', b'1}'),
                               ('err', b'warn'), ('eof', None)])
        out, err = executor.SSHExecutor._collect(channel, ['lvs'], 5)
        self.assertEqual((b'{"a": 1}', b'warn'), (out, err))

    def test_timeout(self):
        channel = FakeChannel([('out', b'x')])
        self.assertRaises(exception.CommandTimeout,
                          executor.SSHExecutor._collect, channel, ['lvs'],
                          0.05)


class _Server(object):
    """The server side of one in-process SSH connection, key ``host_key``.

    It accepts any public key: what is under test is the client's check
    of the server's host key.
    """

    def __init__(self, host_key):
        import paramiko

        class Interface(paramiko.ServerInterface):
            def get_allowed_auths(self, username):
                return 'publickey'

            def check_auth_publickey(self, username, key):
                return paramiko.AUTH_SUCCESSFUL

        self.client_sock, server_sock = socket.socketpair()
        self.transport = paramiko.Transport(server_sock)
        self.transport.add_server_key(host_key)
        # With an event, negotiation runs in the transport's thread.
        self.transport.start_server(threading.Event(), server=Interface())

    def close(self):
        self.transport.close()
        self.client_sock.close()


@ddt.ddt
class KnownHostsTestCase(base.TestCase):
    """An HA pair's two nodes under one floating address: both accepted."""

    ADDRESS = '10.97.0.101'

    def setUp(self):
        super().setUp()
        import paramiko
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.nodes = [paramiko.Ed25519Key.from_private_key_file(
            self._keygen('node%d' % i)) for i in (1, 2)]
        self.other = paramiko.Ed25519Key.from_private_key_file(
            self._keygen('other'))
        self.rsa = paramiko.RSAKey.generate(2048)
        self.client_key = self._keygen('client')

    def _keygen(self, name):
        path = os.path.join(self.tmp, name)
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '',
                        '-f', path], check=True)
        return path

    def known_hosts(self, *lines):
        path = os.path.join(self.tmp, 'known_hosts')
        with open(path, 'w') as f:
            f.write('# the pool\'s floating address, both nodes\n')
            f.writelines(line + '\n' for line in lines)
        return path

    @staticmethod
    def line(name, key):
        return '%s %s %s' % (name, key.get_name(), key.get_base64())

    def connect(self, server_key, path, port=22):
        server = _Server(server_key)
        self.addCleanup(server.close)
        ssh = executor.SSHExecutor(
            self.ADDRESS, 'arca', self.client_key, port=port,
            known_hosts_file=path, connect_timeout=10,
            sock_factory=lambda: server.client_sock)
        self.addCleanup(ssh.close)
        return ssh._transport()

    @ddt.data(0, 1)
    def test_either_node_accepted(self, index):
        path = self.known_hosts(*[self.line(self.ADDRESS, key)
                                  for key in self.nodes])
        transport = self.connect(self.nodes[index], path)
        self.assertEqual(self.nodes[index].asbytes(),
                         transport.get_remote_server_key().asbytes())

    def test_other_key_refused(self):
        path = self.known_hosts(*[self.line(self.ADDRESS, key)
                                  for key in self.nodes])
        err = self.assertRaises(exception.NodeUnreachable, self.connect,
                                self.other, path)
        self.assertIn('does not match', str(err))

    def test_hashed_names_and_port(self):
        import paramiko
        name = '[%s]:2222' % self.ADDRESS
        path = self.known_hosts(
            self.line(paramiko.HostKeys.hash_host(name), self.nodes[0]),
            self.line(self.ADDRESS, self.other),
            self.line(name, self.nodes[1]))
        self.assertEqual(
            [self.nodes[0].asbytes(), self.nodes[1].asbytes()],
            [k.asbytes() for k in executor.known_host_keys(path, name)])
        self.connect(self.nodes[1], path, port=2222)

    def test_only_listed_key_types_offered(self):
        path = self.known_hosts(self.line(self.ADDRESS, self.rsa))
        policy = executor.KnownHostsPolicy(path, self.ADDRESS)
        disabled = policy.disabled_algorithms()['keys']
        self.assertIn('ssh-ed25519', disabled)
        self.assertNotIn('rsa-sha2-512', disabled)
        # A node with an RSA key is checked by that key.
        self.connect(self.rsa, path)

    def test_no_key_for_the_address(self):
        path = self.known_hosts(self.line('10.97.0.102', self.nodes[0]))
        err = self.assertRaises(exception.NodeUnreachable, self.connect,
                                self.nodes[0], path)
        self.assertIn('no host key of 10.97.0.101', str(err))
