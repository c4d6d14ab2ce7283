"""The services' end of the wire: sessions with a node's agent.

A session is one ``arca-node serve`` process on the storage node, reached
over one SSH channel (:class:`SSHSession`) or started on this host
through the service's root helper (:class:`ProcessSession`); it answers
one request at a time. :class:`AgentClient` keeps a few sessions open and
hands each request to an idle one, so operations of different volumes
and shares run in parallel on the node (where the agent's own locks order
what must be ordered). Starting a session costs one process start on the
node; every request after that costs one round trip.

Every operation is idempotent, so a request whose session broke (the
node rebooted, the connection dropped) is sent once more on a new
session. Idle sessions known to have ended (their connection broke: the
node went away, or the other node of an HA pair took over its address)
are replaced before a request is handed to one, so that a request is not
failed for having met two of them in a row. A request that outlives its
timeout is abandoned with its session and reported as
:class:`AgentTimeout`; the agent finishes or fails it on its own, and the
node's locks keep a retry from interleaving with it.
"""

import os
import select
import shlex
import subprocess
import threading
import time

from oslo_log import log as logging

from arca_openstack import exception
from arca_openstack.node import executor as node_executor
from arca_openstack.wire import protocol

LOG = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 600
MAX_SESSIONS = 8
AGENT_ARGS = ('serve',)


class SessionLost(exception.ArcaError):
    """The session ended before it answered (retried on a new one)."""

    message = 'Agent session to %(node)s ended: %(reason)s'


class AgentTimeout(exception.CommandTimeout):
    """The agent did not answer a request in time."""

    def __init__(self, op, timeout):
        super().__init__(('arca-node', op), timeout)


class _LineReader(object):
    """Lines from a byte source with a deadline; stderr drained aside."""

    def __init__(self, node):
        self.node = node
        self._buffer = b''

    def _read_some(self, remaining):
        """Up to 64 KiB, b'' at EOF, None if nothing came in time."""
        raise NotImplementedError()

    def readline(self, deadline, op):
        while b'\n' not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AgentTimeout(op, round(deadline - self._started, 1))
            data = self._read_some(min(remaining, 1.0))
            if data is None:
                continue
            if not data:
                raise SessionLost(node=self.node, reason='end of output')
            self._buffer += data
            if len(self._buffer) > protocol.MAX_LINE:
                raise protocol.ProtocolError(reason='answer too long')
        line, _sep, self._buffer = self._buffer.partition(b'\n')
        return line


class Session(_LineReader):
    """One agent process: requests in, answers out, one at a time."""

    def __init__(self, node):
        super().__init__(node)
        self._next_id = 0
        self._started = time.monotonic()

    def start(self, timeout):
        self._started = time.monotonic()
        self.check_hello(protocol.loads(self.readline(
            self._started + timeout, 'start')))

    @staticmethod
    def check_hello(doc):
        protocol.check_hello(doc)

    def request(self, op, args, timeout):
        self._next_id += 1
        self._started = time.monotonic()
        self._send(protocol.dumps({'id': self._next_id, 'op': op,
                                   'args': args}))
        doc = protocol.loads(self.readline(self._started + timeout, op))
        if doc.get('id') != self._next_id:
            raise protocol.ProtocolError(reason='answer %r to request %d'
                                         % (doc.get('id'), self._next_id))
        if 'error' in doc:
            raise protocol.error_from(doc['error'])
        return doc.get('result')

    def _send(self, data):
        raise NotImplementedError()

    def alive(self):
        """False if the session is known to have ended (it is idle).

        Cheap, no round trip: only what the transport already knows.
        """
        return True

    def close(self):
        pass


class SSHSession(Session):
    """``sudo arca-node serve`` on a channel of an SSH connection."""

    def __init__(self, connection, command):
        super().__init__(connection.host)
        self.command = command
        try:
            transport = connection.transport()
            self.channel = transport.open_session(
                timeout=connection.connect_timeout)
            self.channel.exec_command(command)
        except exception.ArcaError:
            raise
        except Exception as err:
            raise SessionLost(node=self.node, reason=err)
        self.channel.settimeout(0.0)
        self._stderr = b''

    def _read_some(self, remaining):
        deadline = time.monotonic() + remaining
        while True:
            self._drain_stderr()
            if self.channel.recv_ready():
                return self.channel.recv(65536)
            if self.channel.eof_received or self.channel.closed:
                if not self.channel.recv_ready():
                    self._drain_stderr()
                    LOG.warning('Agent on %s ended: %s', self.node,
                                self._stderr.decode('utf-8', 'replace')
                                [-2000:])
                    return b''
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.002)

    def _drain_stderr(self):
        while self.channel.recv_stderr_ready():
            data = self.channel.recv_stderr(65536)
            self._stderr = (self._stderr + data)[-8192:]
            for line in data.decode('utf-8', 'replace').splitlines():
                LOG.debug('%s agent: %s', self.node, line)

    def _send(self, data):
        try:
            self.channel.sendall(data)
        except Exception as err:
            raise SessionLost(node=self.node, reason=err)

    def alive(self):
        # Every session of a connection ends with it: the node went away,
        # or another node took over its address (an HA pair's takeover).
        transport = self.channel.get_transport()
        return not (self.channel.closed or self.channel.eof_received or
                    transport is None or not transport.is_active())

    def close(self):
        self.channel.close()


class ProcessSession(Session):
    """The agent started on this host, through the service's root helper."""

    def __init__(self, argv):
        super().__init__('localhost')
        self.argv = list(argv)
        try:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                close_fds=True)
        except OSError as err:
            raise SessionLost(node=self.node, reason=err)

    def _read_some(self, remaining):
        fd = self.proc.stdout.fileno()
        ready, _w, _x = select.select([fd], [], [], remaining)
        if not ready:
            return None
        return os.read(fd, 65536)

    def _send(self, data):
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (OSError, ValueError) as err:
            raise SessionLost(node=self.node, reason=err)

    def alive(self):
        return self.proc.poll() is None

    def close(self):
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class InProcessSession(Session):
    """The agent's operations run in this process (tests, tools).

    Requests and answers still cross :mod:`protocol`'s encoding, so what
    works here works over the wire.
    """

    def __init__(self, node):
        super().__init__('in-process')
        self.agent = node

    def start(self, timeout):
        pass

    def request(self, op, args, timeout):
        from arca_openstack.agent import server
        answer = server.answer(self.agent, protocol.dumps(
            {'id': 1, 'op': op, 'args': args}))
        doc = protocol.loads(answer)
        if 'error' in doc:
            raise protocol.error_from(doc['error'])
        return doc.get('result')


class AgentClient(object):
    """Operations sent to one node's agent over a few sessions.

    :param open_session: callable returning a new :class:`Session`.
    :param node: the node's name, for messages.
    """

    def __init__(self, open_session, node, timeout=DEFAULT_TIMEOUT,
                 max_sessions=MAX_SESSIONS, start_timeout=60):
        self._open = open_session
        self.node = node
        self.timeout = timeout
        self.start_timeout = start_timeout
        self._idle = []
        self._count = 0
        self._max = max_sessions
        self._cond = threading.Condition()

    def _take(self):
        while True:
            with self._cond:
                while not self._idle and self._count >= self._max:
                    self._cond.wait()
                session = self._idle.pop() if self._idle else None
                if session is None:
                    self._count += 1
                    break
            if session.alive():
                return session
            # Ended while idle: its connection broke (then every idle
            # session of it is gone too), its agent exited. Replaced, so
            # that a request is not sent to two dead sessions in a row
            # and failed while a new one would answer.
            LOG.info('Agent session to %s ended while idle: replacing '
                     'it.', self.node)
            self._drop(session)
        try:
            session = self._open()
            session.start(self.start_timeout)
            return session
        except Exception:
            self._drop(None)
            raise

    def _give_back(self, session):
        with self._cond:
            self._idle.append(session)
            self._cond.notify()

    def _drop(self, session):
        if session is not None:
            try:
                session.close()
            except Exception as err:
                LOG.debug('Closing an agent session: %s', err)
        with self._cond:
            self._count -= 1
            self._cond.notify()

    def call(self, op, args=None, timeout=None):
        """Carry out operation ``op`` on the node; its result.

        :raises: the Arca error the agent raised, SessionLost if two
            sessions in a row broke, AgentTimeout.
        """
        if op not in protocol.OPERATIONS:
            raise exception.InvalidInput(what='operation', value=op,
                                         reason='is not an operation')
        timeout = timeout or self.timeout
        for attempt in (1, 2):
            session = self._take()
            try:
                result = session.request(op, args or {}, timeout)
            except (SessionLost, AgentTimeout, protocol.ProtocolError) as err:
                self._drop(session)
                if isinstance(err, SessionLost) and attempt == 1:
                    LOG.info('Agent session to %s broke (%s): sending %s '
                             'again on a new one.', self.node, err, op)
                    continue
                raise
            except exception.ArcaError:
                self._give_back(session)
                raise
            except BaseException:
                self._drop(session)
                raise
            self._give_back(session)
            return result

    def close(self):
        with self._cond:
            idle, self._idle = self._idle, []
        for session in idle:
            self._drop(session)


class SSHConnection(node_executor.SSHExecutor):
    """The reused SSH connection of a node, for agent sessions."""

    def transport(self):
        return self._transport()


def ssh_client(connection, command, timeout=DEFAULT_TIMEOUT):
    """An AgentClient over ``connection`` running argv ``command``."""
    text = ' '.join(shlex.quote(w) for w in command)
    return AgentClient(lambda: SSHSession(connection, text),
                       connection.host, timeout=timeout)


def process_client(argv, timeout=DEFAULT_TIMEOUT):
    """An AgentClient whose sessions are local processes of ``argv``."""
    return AgentClient(lambda: ProcessSession(argv), 'localhost',
                       timeout=timeout)


def in_process_client(node):
    """An AgentClient running :class:`operations.Node` ``node`` here.

    ``agent`` is ``node``, for tests that replace parts of it.
    """
    agent_client = AgentClient(lambda: InProcessSession(node),
                               'in-process', max_sessions=1000)
    agent_client.agent = node
    return agent_client
