"""The lab's fence device: power control of the guests for fence_arcalab.

A lab started with ``Lab(..., fencing=True)`` runs a :class:`FenceService`:
a small threaded TCP server inside the lab's own network namespace, bound
to the host side of the lab bridge (``harness.HOST_ADDRESS``) on a port
the kernel picks. Only the lab's guests can reach it. Every guest gets
the agent ``fence_arcalab`` (beside this file) as /usr/sbin/fence_arcalab
and a root-only /run/arcalab/fence.conf::

    address=10.97.0.254
    port=PORT
    lab=arcalab<pid>
    token=<64 hex digits, random per lab>

A request is one JSON line, ``{"v": 1, "lab": LAB, "token": TOKEN,
"action": ACTION, "node": NAME}``, and its answer one JSON line:
``{"ok": true, ...}`` or ``{"ok": false, "error": REASON}``. Actions:

- ``ping``: the service is up and the token is right;
- ``list``: ``nodes``, the lab's guest names;
- ``status``: ``status`` "on" or "off" from the guest's UML process;
- ``off``: ``Node.kill()``; answered only after the process (and every
  process of its group) has exited, with ``pid`` the killed process's id;
- ``on``: ``Node.start(wait=False)`` then, in the background,
  ``wait_ready()`` so the test's handles work again; refused unless the
  lab was made with ``fence_power_on=True`` (by default a test boots a
  fenced node itself, when its scenario says so).

A request without this lab's name and token, or for a name that is not
one of this lab's guests, is refused and changes nothing.
"""

import collections
import hmac
import json
import os
import secrets
import socket
import threading

MAX_REQUEST = 4096
ACTIONS = ('ping', 'list', 'status', 'off', 'on')
HERE = os.path.dirname(os.path.abspath(__file__))
AGENT = os.path.join(HERE, 'fence_arcalab')
# Where the guests find the service (written by guest-init.sh).
GUEST_CONFIG = '/run/arcalab/fence.conf'
GUEST_AGENT = '/usr/sbin/fence_arcalab'


# One handled request: who sent it (guest name, or address), the action,
# the node named, whether it was carried out, and the state or the reason.
Request = collections.namedtuple('Request', 'requester action node ok '
                                 'detail')


class Refused(Exception):
    """A request the service does not carry out; the message says why."""


def render_config(address, port, lab, token):
    """The guests' fence.conf (what fence_arcalab reads)."""
    return 'address=%s\nport=%d\nlab=%s\ntoken=%s\n' % (
        address, port, lab, token)


def check_request(line, lab, token, names):
    """The (action, node) of one request line, or raise :class:`Refused`.

    ``lab`` and ``token`` are this lab's; ``names`` its guests' names.
    Pure: no node is looked at or touched.
    """
    try:
        request = json.loads(line)
    except ValueError:
        raise Refused('bad request: not JSON')
    if not isinstance(request, dict):
        raise Refused('bad request: not a JSON object')
    if request.get('v') != 1:
        raise Refused('bad request: unknown protocol version %r'
                      % request.get('v'))
    given = request.get('token')
    if not isinstance(given, str) or not hmac.compare_digest(
            given.encode(), token.encode()):
        raise Refused('bad token')
    if request.get('lab') != lab:
        raise Refused('wrong lab %r: this is lab %s'
                      % (request.get('lab'), lab))
    action = request.get('action')
    if action not in ACTIONS:
        raise Refused('unknown action %r' % (action,))
    node = request.get('node')
    if action in ('ping', 'list'):
        return action, None
    if not isinstance(node, str) or node not in names:
        raise Refused('no node %r in lab %s (nodes: %s)' % (
            node, lab, ', '.join(sorted(names))))
    return action, node


class FenceService(object):
    """Power control of one lab's guests, for the guests' fence agent.

    :param lab: the :class:`harness.Lab` (its ``netns`` and ``nodes``).
    :param address: the address to listen on inside the lab namespace.
    :param power_on: carry out ``on`` requests.
    """

    def __init__(self, lab, address, power_on=False):
        self.lab = lab
        self.address = address
        self.power_on = power_on
        self.token = secrets.token_hex(32)
        self.port = None
        # Every request handled, in order: a Request (who asked, what,
        # the answer), for tests to check who fenced whom.
        self.requests = []
        self._sock = None
        self._thread = None
        self._lock = threading.Lock()   # one power change at a time
        self._stopped = threading.Event()

    def config(self):
        return render_config(self.address, self.port, self.lab.netns,
                             self.token)

    def start(self, make_thread, enter_netns):
        """Listen in the lab namespace and serve in a thread.

        ``enter_netns()`` moves the calling thread into the lab namespace;
        ``make_thread(**kwargs)`` makes an OS thread.
        """
        box = {}

        def bind():
            try:
                enter_netns()
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.address, 0))
                sock.listen(16)
                box['sock'] = sock
            except Exception as err:
                box['err'] = err

        thread = make_thread(target=bind, name='fence-bind', daemon=True)
        thread.start()
        thread.join(30)
        if 'sock' not in box:
            raise box.get('err') or RuntimeError('fence service: no socket')
        self._sock = box['sock']
        self._sock.settimeout(0.5)
        self.port = self._sock.getsockname()[1]
        self._make_thread = make_thread
        self._thread = make_thread(target=self._serve, name='fence-serve',
                                   daemon=True)
        self._thread.start()

    def stop(self):
        """Stop serving; waits (bounded) for a power change under way."""
        self._stopped.set()
        if self._lock.acquire(timeout=60):
            self._lock.release()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _serve(self):
        while not self._stopped.is_set():
            try:
                conn, peer = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                if self._stopped.is_set():
                    return
                continue
            self._make_thread(target=self._handle, args=(conn, peer[0]),
                              name='fence-request', daemon=True).start()

    def _handle(self, conn, peer):
        with conn:
            try:
                conn.settimeout(10)
                data = b''
                while b'\n' not in data and len(data) <= MAX_REQUEST:
                    chunk = conn.recv(1024)
                    if not chunk:
                        break
                    data += chunk
                answer = self.answer(data.split(b'\n', 1)[0].decode(
                    'utf-8', 'replace'), peer)
                conn.settimeout(30)
                conn.sendall(json.dumps(answer).encode() + b'\n')
            except OSError:
                pass

    def answer(self, line, peer=None):
        """The answer (a dict) to one request line; does what it asks.

        ``peer`` is the address the request came from (recorded).
        """
        action = node = None
        try:
            action, node = check_request(line, self.lab.netns, self.token,
                                         set(self.lab.nodes))
            if self._stopped.is_set():
                raise Refused('the lab is shutting down')
            with self._lock:
                answer = self._do(action, node)
        except Refused as err:
            answer = {'ok': False, 'error': str(err)}
        except Exception as err:
            answer = {'ok': False, 'error': 'failed: %s' % (err,)}
        self.requests.append(Request(
            self._name_of(peer), action, node, answer['ok'],
            answer.get('error') or answer.get('status')))
        return answer

    def _do(self, action, node_name):
        if action == 'ping':
            return {'ok': True}
        if action == 'list':
            return {'ok': True, 'nodes': sorted(self.lab.nodes)}
        node = self.lab.nodes[node_name]
        if action == 'status':
            return {'ok': True, 'status': 'on' if node.running else 'off'}
        if action == 'off':
            if node.proc is None:
                return {'ok': True, 'status': 'off',
                        'message': 'already off'}
            pid = node.proc.pid
            node.kill()
            if node.proc is not None or _exists(pid):
                raise RuntimeError('%s: process %d still there' % (
                    node_name, pid))
            return {'ok': True, 'status': 'off', 'pid': pid,
                    'message': 'UML process %d exited' % pid}
        # on
        if not self.power_on:
            raise Refused('power on is disabled in this lab (the test '
                          'boots fenced nodes itself)')
        if node.running:
            return {'ok': True, 'status': 'on', 'message': 'already on'}
        node.start(wait=False)
        self._make_thread(target=self._wait_ready, args=(node,),
                          name='fence-boot', daemon=True).start()
        return {'ok': True, 'status': 'on', 'pid': node.proc.pid,
                'message': 'booting'}

    def _name_of(self, address):
        """The name of the lab's guest at ``address`` (else the address)."""
        for name, node in list(self.lab.nodes.items()):
            if getattr(node, 'address', None) == address:
                return name
        return address

    @staticmethod
    def _wait_ready(node):
        try:
            node.wait_ready()
        except Exception:
            pass    # the test sees it: the node does not answer


def _exists(pid):
    """True if ``pid`` is a process (a zombie counts: not reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
