"""Run argv lists as root on a storage node.

Two executors share one interface:

* :class:`LocalExecutor` runs on this host through the service's root
  helper (``sudo cinder-rootwrap /etc/cinder/rootwrap.conf``).
* :class:`SSHExecutor` runs on a remote storage node over one reused SSH
  connection; the remote side applies its own root helper.

Neither ever builds a shell string from unquoted input: commands are argv
lists, and the SSH executor quotes every word for the remote shell.
"""

import collections
import hmac
import shlex
import threading
import time

from oslo_concurrency import processutils
from oslo_log import log as logging

from arca_openstack import exception

LOG = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 120

Result = collections.namedtuple('Result', ['exit_code', 'stdout', 'stderr'])


def is_timeout(err):
    """``err`` is subprocess's TimeoutExpired.

    Under eventlet (Cinder, Manila) Popen comes from a copy of the
    subprocess module whose TimeoutExpired is another class than the one
    importable here: it is matched by name.
    """
    return type(err).__name__ == 'TimeoutExpired'


def _check_argv(cmd):
    if not cmd:
        raise exception.InvalidInput(what='command', value=cmd,
                                     reason='is empty')
    for word in cmd:
        if not isinstance(word, str) or '\0' in word:
            raise exception.InvalidInput(
                what='command word', value=word,
                reason='must be a string without NUL bytes')


class Executor(object):
    """Interface: run one command as root and return a :class:`Result`."""

    def __init__(self, timeout=DEFAULT_TIMEOUT):
        self.timeout = timeout

    def execute(self, *cmd, check_exit_code=(0,), process_input=None,
                timeout=None):
        """Run ``cmd`` as root.

        :param check_exit_code: exit codes that count as success; any other
            raises :class:`CommandFailed`. ``False`` accepts every code.
        :param process_input: text written to the command's stdin.
        :param timeout: seconds before the command is abandoned and
            :class:`CommandTimeout` raised; defaults to the executor's.
        """
        _check_argv(cmd)
        timeout = timeout or self.timeout
        result = self._run(list(cmd), process_input, timeout)
        if check_exit_code is not False:
            if isinstance(check_exit_code, int) and not isinstance(
                    check_exit_code, bool):
                check_exit_code = (check_exit_code,)
            if result.exit_code not in tuple(check_exit_code):
                raise exception.CommandFailed(cmd, result.exit_code,
                                              result.stdout, result.stderr)
        return result

    def _run(self, cmd, process_input, timeout):
        raise NotImplementedError()

    def close(self):
        """Release connections; the executor may be used again later."""


class LocalExecutor(Executor):
    """Run commands on this host through a root helper."""

    def __init__(self, root_helper, timeout=DEFAULT_TIMEOUT):
        super().__init__(timeout)
        self.root_helper = root_helper

    def _run(self, cmd, process_input, timeout):
        started = []
        try:
            stdout, stderr = processutils.execute(
                *cmd, process_input=process_input,
                run_as_root=bool(self.root_helper),
                root_helper=self.root_helper, check_exit_code=[0],
                timeout=timeout, on_execute=started.append)
            return Result(0, stdout, stderr)
        except processutils.ProcessExecutionError as err:
            return Result(err.exit_code, err.stdout or '', err.stderr or '')
        except OSError as err:
            raise exception.CommandFailed(cmd, 127, '', str(err))
        except Exception as err:
            if not is_timeout(err):
                raise
            for proc in started:
                proc.kill()
                proc.wait()
            raise exception.CommandTimeout(cmd, timeout)


# Host key algorithms, and those a known_hosts key type stands for (an
# RSA key signs with SHA-2, "ssh-rsa" is its type in the file).
_HOST_KEY_ALGORITHMS = (
    'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
    'ssh-dss')
_ALGORITHMS_OF_TYPE = {'ssh-rsa': ('rsa-sha2-512', 'rsa-sha2-256',
                                   'ssh-rsa')}


def _host_matches(name, pattern):
    if pattern == name:
        return True
    if not pattern.startswith('|1|'):
        return False
    import paramiko
    return hmac.compare_digest(
        paramiko.HostKeys.hash_host(name, pattern), pattern)


def known_host_keys(path, name):
    """Every key ``path`` (a known_hosts file) lists for host ``name``.

    ``name`` is the address, or ``[address]:port`` for a port other than
    22; hashed names are matched too.
    """
    import paramiko
    keys = []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            try:
                entry = paramiko.hostkeys.HostKeyEntry.from_line(line,
                                                                 lineno)
            except paramiko.SSHException:
                continue
            if entry is not None and entry.key is not None and any(
                    _host_matches(name, h) for h in entry.hostnames):
                keys.append(entry.key)
    return keys


class KnownHostsPolicy(object):
    """Accept a host key that is any of the keys listed for the host.

    paramiko's own check keeps one key of each type per host name, so a
    known_hosts file listing both nodes of an HA pair under the pool's
    floating address would turn the second node away after a takeover.
    Here every listed key counts; the connection offers only the key
    types listed (see :meth:`disabled_algorithms`).
    """

    def __init__(self, path, name):
        self.path = path
        self.name = name
        self.keys = known_host_keys(path, name)
        if not self.keys:
            raise exception.ConfigInvalid(
                path=path, reason='no host key of %s' % name)

    def disabled_algorithms(self):
        allowed = set()
        for key in self.keys:
            allowed.update(_ALGORITHMS_OF_TYPE.get(key.get_name(),
                                                   (key.get_name(),)))
        return {'keys': [a for a in _HOST_KEY_ALGORITHMS
                         if a not in allowed]}

    def missing_host_key(self, client, hostname, key):
        import paramiko
        if any(k.get_name() == key.get_name()
               and k.asbytes() == key.asbytes() for k in self.keys):
            return
        raise paramiko.BadHostKeyException(hostname, key, self.keys[0])


class SSHExecutor(Executor):
    """Run commands on a remote storage node over a reused SSH connection.

    :param root_helper: prefix the remote side needs to become root, such
        as ``sudo cinder-rootwrap /etc/cinder/rootwrap.conf``; empty when
        logging in as root (the lab).
    """

    def __init__(self, host, username, key_filename, port=22,
                 root_helper='', known_hosts_file=None,
                 connect_timeout=30, timeout=DEFAULT_TIMEOUT,
                 sock_factory=None):
        super().__init__(timeout)
        # Optional callable returning a connected socket, for nodes reached
        # through something other than a plain TCP connect (a namespace).
        self.sock_factory = sock_factory
        self.host = host
        self.port = port
        self.username = username
        self.key_filename = key_filename
        self.root_helper = root_helper
        self.known_hosts_file = known_hosts_file
        self.connect_timeout = connect_timeout
        self._client = None
        self._lock = threading.Lock()

    def _connect(self):
        import paramiko

        client = paramiko.SSHClient()
        options = {}
        if self.known_hosts_file:
            # Not client.load_host_keys: see KnownHostsPolicy.
            policy = KnownHostsPolicy(
                self.known_hosts_file, self.host if self.port == 22
                else '[%s]:%d' % (self.host, self.port))
            client.set_missing_host_key_policy(policy)
            options['disabled_algorithms'] = policy.disabled_algorithms()
        else:
            LOG.warning('No known_hosts file for %s: accepting its host '
                        'key without verification.', self.host)
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        sock = self.sock_factory() if self.sock_factory else None
        try:
            client.connect(self.host, port=self.port,
                           username=self.username,
                           key_filename=self.key_filename,
                           timeout=self.connect_timeout,
                           banner_timeout=self.connect_timeout,
                           auth_timeout=self.connect_timeout,
                           look_for_keys=False, allow_agent=False,
                           sock=sock, **options)
        except Exception:
            client.close()
            if sock is not None:
                sock.close()
            raise
        client.get_transport().set_keepalive(15)
        return client

    def _transport(self):
        with self._lock:
            transport = self._client and self._client.get_transport()
            if transport is None or not transport.is_active():
                if self._client is not None:
                    self._client.close()
                try:
                    self._client = self._connect()
                except Exception as err:
                    self._client = None
                    raise exception.NodeUnreachable(host=self.host,
                                                    reason=err)
            return self._client.get_transport()

    def remote_command(self, cmd):
        words = shlex.split(self.root_helper) + list(cmd)
        return ' '.join(shlex.quote(w) for w in words)

    def _run(self, cmd, process_input, timeout):
        channel = self._transport().open_session(timeout=self.connect_timeout)
        try:
            channel.settimeout(1.0)
            channel.exec_command(self.remote_command(cmd))
            if process_input is not None:
                data = process_input
                if isinstance(data, str):
                    data = data.encode('utf-8')
                channel.sendall(data)
            channel.shutdown_write()
            stdout, stderr = self._collect(channel, cmd, timeout)
            return Result(channel.recv_exit_status(),
                          stdout.decode('utf-8', 'replace'),
                          stderr.decode('utf-8', 'replace'))
        finally:
            channel.close()

    @staticmethod
    def _collect(channel, cmd, timeout):
        """Read stdout and stderr together, so neither pipe can fill up.

        Reading ends at the channel's EOF, not at its exit status: sshd may
        send the exit status while output is still on its way (seen in the
        lab as truncated ``lvs`` reports).
        """
        deadline = time.monotonic() + timeout
        out, err = [], []
        while True:
            progressed = False
            while channel.recv_ready():
                out.append(channel.recv(65536))
                progressed = True
            while channel.recv_stderr_ready():
                err.append(channel.recv_stderr(65536))
                progressed = True
            if (channel.eof_received and channel.exit_status_ready()
                    and not channel.recv_ready()
                    and not channel.recv_stderr_ready()):
                return b''.join(out), b''.join(err)
            if time.monotonic() > deadline:
                raise exception.CommandTimeout(cmd, timeout)
            if not progressed:
                time.sleep(0.005)

    def close(self):
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
