"""DRBD: synchronous mirroring of one LV to a peer node.

One DRBD resource per replicated volume or share, one volume (volume 0)
per resource, internal meta data, two nodes. The resource file is written
in the syntax shared by DRBD 8.4 and DRBD 9 (no ``node-id``, no
``connection-mesh``, no ``options { auto-promote; quorum }``), so the same
file works with Debian's in-kernel 8.4.11 and drbd-utils 9.22, which runs
``drbdadm-84``/``drbdsetup-84`` by itself when the loaded module is 8.4.
Both nodes get byte-identical files: the two ``on`` sections are sorted
by host name whichever node renders them.

A resource managed by Pacemaker (an HA pool) is rendered with
``fencing=True``: ``disk { fencing resource-and-stonith; }`` and the
``crm-fence-peer.sh``/``crm-unfence-peer.sh`` handlers. That placement of
``fencing`` is DRBD 8.4's (DRBD 9 moved it to ``net``); drbd-utils runs
the 8.4 tools for the 8.4 module, as above.

Status source: ``drbdsetup sh-status <resource>``. On 8.4 it prints one
block of shell variables per minor (``_minor``, ``_res_name``, ``_known``,
``_cstate``, ``_role``, ``_peer``, ``_disk``, ``_pdsk``,
``_resynced_percent``), made for scripts (the linbit OCF agent evals it);
it carries the resource name (``/proc/drbd`` only has minors), the resync
percentage, needs no configuration file, and exits 0 with no output for a
resource the kernel does not know (``missing_ok`` in drbdsetup-84), which
is exactly "not up". ``drbdsetup events2 --now`` exists on 8.4 only as a
translation into DRBD 9 vocabulary and ``--json`` does not exist there.

Meta data safety: :meth:`DRBD.create_md` never passes ``--force``. It first
asks ``drbdadm get-gi`` whether valid meta data exist; if not, it runs
``drbdadm create-md`` with stdin closed. drbdmeta asks for confirmation
before overwriting existing meta data or a device that holds data (a
file system signature), and with stdin not a TTY it does not wait: it
answers no and exits 1 ("Operation cancelled."). A file system that
would be truncated is refused outright (exit 40). With ``--force`` every
one of those questions would be answered yes, and meta data found at the
last-known location after an offline resize would be re-initialised
instead of moved: ``--force`` is therefore never used.
"""

import collections
import re
import time

from oslo_log import log as logging

from arca_openstack import exception
from arca_openstack.node import files
from arca_openstack.node import locks
from arca_openstack.node import validate

LOG = logging.getLogger(__name__)

DRBDADM = 'drbdadm'
DRBDSETUP = 'drbdsetup'

PROTOCOLS = ('A', 'B', 'C')

#: Handlers of a fenced resource (drbd-utils' Pacemaker scripts).
FENCE_PEER = '/usr/lib/drbd/crm-fence-peer.sh'
UNFENCE_PEER = '/usr/lib/drbd/crm-unfence-peer.sh'

#: Peer of a resource: ``hostname`` must equal ``uname -n`` on that node
#: (drbdadm picks its own ``on`` section by it), ``address`` is the
#: replication address (IPv4 or IPv6) and ``disk`` the backing LV path.
Peer = collections.namedtuple('Peer', ['hostname', 'address', 'disk'])

# Connection states (8.4 names) in which the two nodes talk to each other.
CONNECTED_STATES = frozenset([
    'Connected', 'StartingSyncS', 'StartingSyncT', 'WFBitMapS', 'WFBitMapT',
    'WFSyncUUID', 'SyncSource', 'SyncTarget', 'PausedSyncS', 'PausedSyncT',
    'VerifyS', 'VerifyT', 'Ahead', 'Behind'])
SYNCING_STATES = frozenset([
    'StartingSyncS', 'StartingSyncT', 'WFBitMapS', 'WFBitMapT',
    'WFSyncUUID', 'SyncSource', 'SyncTarget', 'PausedSyncS', 'PausedSyncT'])

_GI = re.compile(r'^[0-9A-Fa-f]{16}(:[0-9A-Fa-f]{16}){3}(:[01]){7}\s*$',
                 re.MULTILINE)
_MD_PRESENT = re.compile(r'There appears to be a v0[6-9] .*meta data block')
_PERCENT = re.compile(r'^[0-9]{1,3}(\.[0-9]+)?$')

# Kernel and drbdsetup messages, checked in order; the first match decides
# the exception type. Unmatched failures raise CommandFailed.
_ERRORS = (
    ('Device is held open by someone', exception.InUse),
    ('Lower device already in use', exception.InUse),
    ('Lower device is already claimed', exception.InUse),
    ('Resource still in use', exception.InUse),
    ('Unknown resource', exception.NotFound),
    ('not defined in your config', exception.NotFound),
    ('Can not open backing device', exception.NotFound),
    ('Open of lower device failed', exception.NotFound),
    ('No such file or directory', exception.NotFound),
    ('is not a block device', exception.NotFound),
    ('Need access to UpToDate data', exception.Conflict),
    ('Multiple primaries not allowed', exception.Conflict),
    ('Refusing to be Primary while peer is not outdated',
     exception.Conflict),
    ('State change was refused by peer node', exception.Conflict),
    ('No valid meta-data signature found', exception.Conflict),
    ('Unclean meta-data found', exception.Conflict),
    ('Local address(port) already in use', exception.Conflict),
    ('Minor or volume exists already', exception.Conflict),
    ('Need one Primary node to resize', exception.Conflict),
    ('Resize not allowed during resync', exception.Conflict),
    ('Device is diskless', exception.Conflict),
    ('Low.dev. smaller than requested', exception.CapacityExceeded),
)


class StateTimeout(exception.CommandTimeout):
    """A resource did not reach the awaited state in time."""

    def __init__(self, name, what, timeout, last):
        super().__init__(('wait-for', name, what), timeout)
        self.msg = ('DRBD resource %s did not become %s within %ss; last '
                    'state: %s' % (name, what, timeout, last))
        self.args = (self.msg,)
        self.last_status = last


resource_name = validate.resource_name


def resource_path(name):
    return '%s/arca-%s.res' % (files.DRBD_DIR, resource_name(name))


def _peer(value, what):
    if not isinstance(value, Peer):
        if isinstance(value, (tuple, list)) and len(value) == 3:
            value = Peer(*value)
        else:
            raise exception.InvalidInput(
                what=what, value=value,
                reason='must be a Peer(hostname, address, disk)')
    disk = validate.abs_path(value.disk, base='/dev', what='%s disk' % what)
    return Peer(validate.hostname(value.hostname),
                validate.ip_address(value.address), disk)


def _check_pair(local, peer):
    local = _peer(local, 'local node')
    peer = _peer(peer, 'peer node')
    if local.hostname == peer.hostname:
        raise exception.InvalidInput(
            what='peer host name', value=peer.hostname,
            reason='must differ from the local host name')
    if local.address == peer.address:
        raise exception.InvalidInput(
            what='peer address', value=peer.address,
            reason='must differ from the local address')
    if (':' in local.address) != (':' in peer.address):
        raise exception.InvalidInput(
            what='peer address', value=peer.address,
            reason='must be of the same IP version as the local address '
                   '%s' % local.address)
    return local, peer


def _address(address, port):
    if ':' in address:
        return 'ipv6 [%s]:%d' % (address, port)
    return 'ipv4 %s:%d' % (address, port)


# The resync controller of a Pacemaker-managed (pool) resource. DRBD
# 8.4's default starts a resync at 250 KiB/s: a node coming back after a
# crash resyncs its activity log's hot extents (a few hundred MiB on a
# busy pool) and took over ten minutes at that rate in the lab. The
# dynamic controller keeps c-fill-target in flight, between c-min-rate
# (resync never starves) and c-max-rate (application I/O keeps the rest
# of the link and disk).
RESYNC_CONTROLLER = (('resync-rate', '100M'), ('c-plan-ahead', '20'),
                     ('c-fill-target', '1M'), ('c-min-rate', '10M'),
                     ('c-max-rate', '1G'))


def render_resource(name, minor, port, local, peer, protocol='C',
                    fencing=False):
    """The text of the resource file: same bytes on both nodes.

    ``fencing``: the resource is a Pacemaker-managed one; a Primary that
    loses its peer freezes I/O and has the cluster fence the peer (and
    keeps it from being promoted) before it goes on.
    """
    name = resource_name(name)
    minor = validate.minor(minor)
    port = validate.port(port)
    protocol = validate.choice(protocol, 'DRBD protocol', PROTOCOLS)
    if not isinstance(fencing, bool):
        raise exception.InvalidInput(what='fencing', value=fencing,
                                     reason='must be a boolean')
    local, peer = _check_pair(local, peer)
    lines = [
        '# Managed by arca-openstack: do not edit.',
        'resource %s {' % name,
        '    net {',
        '        protocol %s;' % protocol,
        '    }',
    ]
    if fencing:
        lines += [
            '    disk {',
            '        fencing resource-and-stonith;',
        ] + ['        %s %s;' % option for option in RESYNC_CONTROLLER] + [
            '    }',
            '    handlers {',
            '        fence-peer "%s";' % FENCE_PEER,
            '        after-resync-target "%s";' % UNFENCE_PEER,
            '    }',
        ]
    for node in sorted((local, peer), key=lambda n: n.hostname):
        lines += [
            '    on %s {' % node.hostname,
            '        device /dev/drbd%d minor %d;' % (minor, minor),
            '        disk %s;' % node.disk,
            '        meta-disk internal;',
            '        address %s;' % _address(node.address, port),
            '    }',
        ]
    lines.append('}')
    return '\n'.join(lines) + '\n'


def _value(raw):
    value = raw.split('#', 1)[0].strip().strip('\'"').replace('\\', '')
    return value or None


def parse_sh_status(text, name):
    """The state of volume 0 of ``name`` from ``drbdsetup sh-status``.

    Returns None when the output holds no block for the resource.
    """
    for block in text.split('_sh_status_process'):
        fields = {}
        for line in block.splitlines():
            line = line.strip()
            if not line.startswith('_') or '=' not in line:
                continue
            key, _sep, raw = line.partition('=')
            fields[key[1:]] = _value(raw)
        if not fields:
            continue
        if fields.get('res_name') != name or fields.get('volume') not in (
                None, '0'):
            continue
        try:
            minor = int(fields['minor'])
        except (KeyError, TypeError, ValueError):
            raise exception.ParseError(
                what='drbdsetup sh-status %s' % name,
                reason='no _minor in %r' % block.strip()[:200])
        percent = fields.get('resynced_percent')
        if percent is not None:
            if not _PERCENT.match(percent):
                raise exception.ParseError(
                    what='drbdsetup sh-status %s' % name,
                    reason='bad _resynced_percent %r' % percent)
            percent = float(percent)
        known = fields.get('known')
        return {
            'name': name,
            'minor': minor,
            'configured': known == 'Configured',
            'connection': fields.get('cstate'),
            'role': fields.get('role'),
            'peer_role': fields.get('peer'),
            'disk': fields.get('disk'),
            'peer_disk': fields.get('pdsk') or fields.get('pdisk'),
            'suspended': bool(fields.get('flags_susp')),
            'sync_percent': percent,
        }
    return None


def is_connected(status):
    return bool(status) and status['connection'] in CONNECTED_STATES


def is_syncing(status):
    return bool(status) and status['connection'] in SYNCING_STATES


def is_synced(status):
    """Connected, no resync running, both disks UpToDate."""
    return (bool(status) and status['connection'] == 'Connected'
            and status['disk'] == 'UpToDate'
            and status['peer_disk'] == 'UpToDate')


#: What :func:`mirror_state` says of a mirror, best first.
IN_SYNC = 'in-sync'
SYNCING = 'syncing'
DEGRADED = 'degraded'
MIRROR_STATES = (IN_SYNC, SYNCING, DEGRADED)
# An online verify compares the two disks while both stay UpToDate.
_VERIFY_STATES = frozenset(['VerifyS', 'VerifyT'])


def mirror_state(status):
    """How well ``status`` (or None: not up) mirrors the data.

    ``in-sync``: connected, both disks UpToDate (an online verify
    included). ``syncing``: a resync runs (paused included): the peer
    catches up, or this node does. ``degraded``: anything else, the
    data on one node only: the peer disconnected or unknown, its disk
    Outdated or Inconsistent without a resync, or the resource not up.
    """
    if not status:
        return DEGRADED
    if (status['connection'] == 'Connected'
            or status['connection'] in _VERIFY_STATES) and (
            status['disk'] == 'UpToDate'
            and status['peer_disk'] == 'UpToDate'):
        return IN_SYNC
    if is_syncing(status):
        return SYNCING
    return DEGRADED


def mirror(name, status):
    """The mirror of resource ``name`` as the drivers' stats show it.

    ``{resource, role, connection, disk, peer_disk, resync_percent,
    state}``; ``resync_percent`` only while a resync runs, every other
    value None when the resource is not up (``status`` None).
    """
    status = status or {}
    state = mirror_state(status)
    return {
        'resource': name,
        'role': status.get('role'),
        'connection': status.get('connection'),
        'disk': status.get('disk'),
        'peer_disk': status.get('peer_disk'),
        'resync_percent': (status.get('sync_percent') if state == SYNCING
                           else None),
        'state': state,
    }


def _attached(status):
    return status['configured'] and status['disk'] not in (
        None, 'Diskless', 'Failed')


_SH_STATUS_NOT_UP = 19


class StatusWaits(object):
    """Waiting for a resource's state, by polling :meth:`status`.

    Shared by the node library and the agent's client, whose ``status``
    is one request to the node.
    """

    def status(self, name):
        raise NotImplementedError()

    def wait_for(self, name, predicate=None, timeout=60, interval=1.0,
                 what=None, **expected):
        """Poll the status until the resource is in the wanted state.

        Wanted: ``predicate(status)`` holds and every ``expected`` key
        (e.g. ``connection='Connected'``) matches.

        ``status`` is None while the resource is not up. Returns the last
        status; raises :class:`StateTimeout` after ``timeout`` seconds.
        """
        resource_name(name)
        validate.timeout(timeout)
        validate.timeout(interval)
        unknown = set(expected) - {
            'minor', 'configured', 'connection', 'role', 'peer_role',
            'disk', 'peer_disk', 'suspended', 'sync_percent'}
        if unknown:
            raise exception.InvalidInput(
                what='expected DRBD state', value=sorted(unknown),
                reason='unknown keys')
        if predicate is None and not expected:
            raise exception.InvalidInput(
                what='wait condition', value=None,
                reason='give a predicate or expected state values')
        what = what or ', '.join(
            ['%s=%s' % kv for kv in sorted(expected.items())]
            + ([getattr(predicate, '__name__', 'predicate')]
               if predicate else []))

        def done(status):
            if expected and (status is None or any(
                    status.get(k) != v for k, v in expected.items())):
                return False
            return predicate is None or bool(predicate(status))

        deadline = time.monotonic() + timeout
        while True:
            status = self.status(name)
            if done(status):
                return status
            if time.monotonic() >= deadline:
                raise StateTimeout(name, what, timeout, status)
            time.sleep(interval)

    def wait_connected(self, name, timeout=60, interval=1.0):
        return self.wait_for(name, is_connected, timeout, interval,
                             what='connected')

    def wait_synced(self, name, timeout=3600, interval=5.0):
        return self.wait_for(name, is_synced, timeout, interval,
                             what='in sync (UpToDate/UpToDate)')


class DRBD(StatusWaits):
    """DRBD resources on one node, through its executor."""

    def __init__(self, executor):
        self.executor = executor

    # -- helpers -----------------------------------------------------------

    def _run(self, name, *cmd, **kwargs):
        result = self.executor.execute(*cmd, check_exit_code=False,
                                       **kwargs)
        if result.exit_code != 0:
            self._raise(name, cmd, result)
        return result

    @staticmethod
    def _raise(name, cmd, result):
        text = '%s\n%s' % (result.stderr or '', result.stdout or '')
        for needle, exc_class in _ERRORS:
            if needle in text:
                detail = next(line.strip() for line in text.splitlines()
                              if needle in line)
                raise exc_class('DRBD resource %s: %s failed: %s' % (
                    name, ' '.join(cmd[:2]), detail))
        raise exception.CommandFailed(cmd, result.exit_code, result.stdout,
                                      result.stderr)

    def _status(self, name):
        result = self.executor.execute(DRBDSETUP, 'sh-status', name,
                                       check_exit_code=False)
        # drbdsetup-84 exits 19 with no output for a resource that is not
        # up (seen in the lab with DRBD 8.4.11 and drbd-utils 9.22).
        if (result.exit_code == _SH_STATUS_NOT_UP
                and '_res_name=' not in result.stdout):
            return None
        if result.exit_code != 0:
            self._raise(name, (DRBDSETUP, 'sh-status', name), result)
        return parse_sh_status(result.stdout, name)

    def _require(self, name):
        status = self._status(name)
        if status is None:
            raise exception.NotFound(what='DRBD resource (not up)',
                                     name=name)
        return status

    # -- configuration -----------------------------------------------------

    def render_resource(self, name, minor, port, local, peer,
                        protocol='C', fencing=False):
        return render_resource(name, minor, port, local, peer, protocol,
                               fencing)

    def write_resource(self, name, minor, port, local, peer, protocol='C',
                       fencing=False):
        """Install /etc/drbd.d/arca-<name>.res; True if it changed.

        The new file is checked with ``drbdadm dump <name>``, which parses
        the whole configuration and requires an ``on`` section for this
        node's ``uname -n``; a file that fails is replaced by what was
        there before (or removed) and :class:`ConfigInvalid` raised.
        """
        content = render_resource(name, minor, port, local, peer, protocol,
                                  fencing)
        path = resource_path(name)
        with locks.lock('drbd', name):
            old = files.read(self.executor, path)
            if old == content:
                return False
            files.write_atomic(self.executor, path, content)
            result = self.executor.execute(DRBDADM, 'dump', name,
                                           check_exit_code=False)
            if result.exit_code != 0:
                if old is None:
                    files.remove(self.executor, path)
                else:
                    files.write_atomic(self.executor, path, old)
                raise exception.ConfigInvalid(
                    path=path, reason=(result.stderr or result.stdout
                                       or 'exit code %s' % result.exit_code
                                       ).strip()[-500:])
            if 'not found on this host' in (result.stderr or ''):
                LOG.warning('DRBD resource %s: %s', name,
                            result.stderr.strip())
            return True

    def remove_resource(self, name):
        """Take the resource down and delete its file (idempotent)."""
        path = resource_path(name)
        with locks.lock('drbd', name):
            self._down(name)
            files.remove(self.executor, path)

    # -- meta data ---------------------------------------------------------

    def has_md(self, name):
        """True if the backing disk holds valid DRBD meta data."""
        resource_name(name)
        status = self._status(name)
        if status is not None and _attached(status):
            return True
        result = self.executor.execute(DRBDADM, 'get-gi', name,
                                       check_exit_code=False)
        return result.exit_code == 0 and bool(_GI.search(result.stdout))

    def create_md(self, name):
        """Initialise meta data unless present; True if it was created.

        Never overwrites: no ``--force``, stdin closed, so drbdmeta turns
        down every "overwrite?" question (existing meta data, data on the
        disk). Data found on the disk raises :class:`Conflict`.
        """
        resource_name(name)
        with locks.lock('drbd', name):
            if self.has_md(name):
                return False
            result = self.executor.execute(DRBDADM, 'create-md', name,
                                           process_input='',
                                           check_exit_code=False)
            if result.exit_code == 0:
                return True
            text = '%s\n%s' % (result.stderr, result.stdout)
            if _MD_PRESENT.search(text):
                return False
            if ('Operation refused' in text or 'Operation cancel' in text
                    or 'Device size would be truncated' in text):
                found = re.search(r'Found (.*)', text)
                raise exception.Conflict(
                    what='DRBD resource', name=name,
                    reason='its disk already holds %s; meta data were not '
                           'created' % (found.group(1).strip() if found
                                        else 'data'))
            self._raise(name, (DRBDADM, 'create-md', name), result)

    # -- state -------------------------------------------------------------

    def status(self, name):
        """State of the resource, or None if it is not up on this node."""
        return self._status(resource_name(name))

    def up(self, name):
        """Attach and connect; converge a half-up resource (idempotent)."""
        resource_name(name)
        with locks.lock('drbd', name):
            status = self._status(name)
            if status is None:
                self._run(name, DRBDADM, 'up', name)
            elif (not _attached(status)
                  or status['connection'] in (None, 'StandAlone')):
                self._run(name, DRBDADM, 'adjust', name)

    def down(self, name):
        """Disconnect and detach (idempotent)."""
        resource_name(name)
        with locks.lock('drbd', name):
            self._down(name)

    def _down(self, name):
        if self._status(name) is not None:
            # drbdsetup needs no configuration file, so this works even
            # when the resource file is already gone.
            self._run(name, DRBDSETUP, 'down', name)

    def primary(self, name, force=False):
        """Promote to Primary (nothing to do if it already is).

        ``force`` promotes even without UpToDate data: the first promotion
        of a new pair, or the surviving node in a disaster.
        """
        resource_name(name)
        if not isinstance(force, bool):
            raise exception.InvalidInput(what='force', value=force,
                                         reason='must be a boolean')
        with locks.lock('drbd', name):
            status = self._require(name)
            if status['role'] == 'Primary':
                return
            if force:
                self._run(name, DRBDADM, 'primary', '--force', name)
            else:
                self._run(name, DRBDADM, 'primary', name)

    def secondary(self, name):
        """Demote; nothing to do if not up or already Secondary."""
        resource_name(name)
        with locks.lock('drbd', name):
            status = self._status(name)
            if status is None or status['role'] != 'Primary':
                return
            self._run(name, DRBDADM, 'secondary', name)

    def skip_initial_sync(self, name):
        """Declare both new, empty disks identical: no initial resync.

        Run on ONE node, after create-md and up on both, while they are
        Connected Secondary/Secondary Inconsistent/Inconsistent; then
        promote one and make the file system. Never for disks with data.
        """
        resource_name(name)
        with locks.lock('drbd', name):
            status = self._require(name)
            if is_synced(status):
                return False
            if not (status['connection'] == 'Connected'
                    and status['role'] == 'Secondary'
                    and status['peer_role'] == 'Secondary'
                    and status['disk'] == 'Inconsistent'
                    and status['peer_disk'] == 'Inconsistent'):
                raise exception.Conflict(
                    what='DRBD resource', name=name,
                    reason='skipping the initial sync needs Connected '
                           'Secondary/Secondary Inconsistent/Inconsistent, '
                           'found %s %s/%s %s/%s' % (
                               status['connection'], status['role'],
                               status['peer_role'], status['disk'],
                               status['peer_disk']))
            self._run(name, DRBDADM, 'new-current-uuid', '--clear-bitmap',
                      name)
            return True

    def resize(self, name):
        """Grow the device to its (already grown) backing disks.

        Returns before the peer has learnt the new size: until it has,
        both disks still read UpToDate, and only then does the resync of
        the new area start (the peer Inconsistent). A caller that needs
        the mirror whole waits for the peer's size first, then for
        :func:`is_synced`.
        """
        resource_name(name)
        with locks.lock('drbd', name):
            self._require(name)
            self._run(name, DRBDADM, 'resize', name)
