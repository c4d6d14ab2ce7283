"""XFS filesystems on thin LVs (or DRBD devices on top of them).

Devices are ``/dev/VG/LV`` or ``/dev/drbdN``; mountpoints lie under
:data:`MOUNT_BASE`. Everything that acts on a mountpoint first checks
that a filesystem is mounted exactly there: an unmounted mountpoint is a
directory of the node's root filesystem, and freezing, growing, quota
setting or measuring it would act on that root filesystem instead. (umount
needs no such check: it refuses a path that is not a mountpoint.)

No command here names a path inside a mounted filesystem: its clients
write it, as root if their access allows it, and may plant symbolic links
there that a command given such a path would follow. Commands name the
device or the mountpoint, the filesystem's root, which is a directory of
the node's own (under :data:`MOUNT_BASE`) until the filesystem is mounted
on it.

Callers serialise operations on one filesystem with the lock of its LV.
"""

import contextlib
import re

from oslo_log import log as logging

from arca_openstack import exception
from arca_openstack.node import files
from arca_openstack.node import validate

LOG = logging.getLogger(__name__)

MOUNT_BASE = files.STATE_DIR + '/mnt'
# Where regenerate_uuid() mounts a filesystem to replay its log.
UUID_MOUNT_BASE = MOUNT_BASE + '/_uuid'
MOUNT_OPTIONS = frozenset(['prjquota', 'pquota', 'nouuid', 'ro', 'noatime',
                           'discard', 'nodev', 'nosuid', 'noexec'])
MAX_PROJECT_ID = 2 ** 32 - 2
MAX_LIMIT_BYTES = validate.MAX_SIZE_GIB * 1024 ** 3

_DEV_LV = re.compile(r'^/dev/([^/]+)/([^/]+)$')
_DEV_DRBD = re.compile(r'^/dev/drbd([0-9]{1,7})$')
# /dev directories that are not volume groups; LVM cannot create a VG
# whose name already exists in /dev, but the filters refuse these anyway.
_NOT_VGS = frozenset(['mapper', 'disk', 'block', 'char', 'bus', 'cpu', 'fd',
                      'input', 'net', 'pts', 'shm', 'snd', 'dri',
                      'hugepages', 'mqueue'])
_COMPONENT = re.compile(r'^[A-Za-z0-9_]')
# The whole mount table, in one read; or (with --mountpoint) one entry.
MOUNT_TABLE = ('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET')
_FINDMNT = MOUNT_TABLE + ('--mountpoint',)
# umount's word for a path with nothing mounted (util-linux 2.23 to 2.39).
_NOT_MOUNTED = ('not mounted', 'no mount point', 'not found')


def _device(value):
    """``/dev/VG/LV`` or ``/dev/drbdN``, returned unchanged."""
    if isinstance(value, str):
        match = _DEV_DRBD.match(value)
        if match:
            validate.minor(match.group(1))
            return value
        match = _DEV_LV.match(value)
        if match and match.group(1) not in _NOT_VGS:
            validate.vg_name(match.group(1))
            validate.lv_name(match.group(2))
            return value
    raise exception.InvalidInput(what='device', value=value,
                                 reason='must be /dev/VG/LV or /dev/drbdN')


def _path(value, base, what):
    validate.abs_path(value, base=base, what=what)
    for part in value[len(base) + 1:].split('/'):
        if not _COMPONENT.match(part):
            raise exception.InvalidInput(
                what=what, value=value,
                reason='path components must start with A-Z a-z 0-9 _')
    return value


def _mountpoint(value):
    """Under MOUNT_BASE, or a pool's state directory (POOLS_DIR/VG)."""
    if isinstance(value, str) and value.startswith(files.POOLS_DIR + '/'):
        validate.vg_name(value[len(files.POOLS_DIR) + 1:])
        return value
    return _path(value, MOUNT_BASE, 'mountpoint')


def _options(values):
    if isinstance(values, str) or not isinstance(
            values, (list, tuple, set, frozenset)):
        raise exception.InvalidInput(what='mount options', value=values,
                                     reason='must be a list of options')
    result = []
    for value in values:
        validate.choice(value, 'mount option', MOUNT_OPTIONS)
        if value not in result:
            result.append(value)
    return result


def _project_id(value):
    return validate.integer(value, 'project id', 1, MAX_PROJECT_ID)


def _sources(device):
    """Names a mount of ``device`` may show in the mount table."""
    names = {device}
    match = _DEV_LV.match(device)
    if match:
        vg, lv = (part.replace('-', '--') for part in match.groups())
        names.add('/dev/mapper/%s-%s' % (vg, lv))
    return names


def _uuid_mountpoint(device):
    match = _DEV_LV.match(device)
    if match:
        name = '%s.%s' % match.groups()
    else:
        name = device[len('/dev/'):]
    return '%s/%s' % (UUID_MOUNT_BASE, name)


def _text(result):
    return ' '.join(((result.stdout or '') + ' ' +
                     (result.stderr or '')).split())


class XFS(object):

    def __init__(self, executor):
        self.executor = executor

    def _fail(self, cmd, result):
        return exception.CommandFailed(cmd, result.exit_code, result.stdout,
                                       result.stderr)

    # -- creating --

    def mkfs(self, device):
        """Make an XFS filesystem on an empty device; never reformats.

        An XFS filesystem already there is kept; any other signature
        raises :class:`Conflict`. No ``-f``, so mkfs.xfs itself refuses to
        overwrite any signature it finds (it probes with libblkid, as
        blkid does): it runs first, and only a refusal is looked into.
        ``-K`` skips discarding (a new thin LV holds no blocks). Default
        geometry, which fits every size from 1 GiB up.
        """
        device = _device(device)
        try:
            self.executor.execute('mkfs.xfs', '-q', '-K', device)
            return
        except exception.CommandFailed as err:
            if 'No such file' in (err.stderr or ''):
                raise exception.NotFound(what='device', name=device) from err
            refused = err
        # Something is there (or mounted): only XFS is what we would make.
        probe = ('blkid', '-p', '-o', 'value', '-s', 'TYPE', device)
        result = self.executor.execute(*probe, check_exit_code=False)
        if result.exit_code == 0:
            fstype = result.stdout.strip()
            if fstype == 'xfs':
                return
            raise exception.Conflict(
                what='device', name=device,
                reason='holds %s, not XFS' % (fstype or 'an unknown '
                                              'signature'))
        if result.exit_code == 8:
            raise exception.Conflict(what='device', name=device,
                                     reason='holds several conflicting '
                                     'signatures')
        if result.exit_code != 2:
            raise self._fail(probe, result)
        if 'existing filesystem' in (refused.stderr or ''):
            raise exception.Conflict(what='device', name=device,
                                     reason=refused.stderr.strip())
        raise refused

    def regenerate_uuid(self, device):
        """Give the filesystem on ``device`` a new UUID and return it.

        A thin snapshot keeps its origin's UUID, so it can't be mounted
        beside it (and NFS file handles would collide). If the snapshot
        was taken of a mounted, unfrozen filesystem its log is dirty and
        xfs_admin refuses (exiting 0): the log is then replayed by mounting
        the device once with ``nouuid`` and unmounting it. The log is never
        zeroed (no ``xfs_repair -L``). The device must not be mounted.
        """
        device = _device(device)
        result = self._xfs_admin_generate(device)
        if 'needs to be replayed' in _text(result):
            self._replay_log(device, _uuid_mountpoint(device))
            result = self._xfs_admin_generate(device)
        return self._new_uuid(device, result)

    def mount_copy(self, device, mountpoint, options=()):
        """Mount a copy of a mounted XFS (a thin snapshot) with its own UUID.

        Such a copy has its origin's UUID and a dirty log, which xfs_admin
        refuses: it is mounted at ``mountpoint`` once with ``nouuid``,
        which replays the log, unmounted, given a new UUID (see
        :meth:`regenerate_uuid`) and mounted there for good. So nothing
        may serve ``mountpoint`` yet; a copy already mounted there (by an
        earlier attempt) goes the same way.

        :returns: the new UUID.
        """
        device = _device(device)
        mountpoint = _mountpoint(mountpoint)
        options = _options(options)
        self._replay_log(device, mountpoint)
        uuid = self._new_uuid(device, self._xfs_admin_generate(device))
        # Made and emptied just now (under the caller's LV lock).
        self._mount(device, mountpoint, options)
        return uuid

    def _replay_log(self, device, mountpoint):
        """Mount ``device`` once with nouuid, which replays its log."""
        LOG.info('Replaying the log of %s before changing its UUID.',
                 device)
        self.mount(device, mountpoint, ('nouuid',))
        self._umount(mountpoint)

    def _new_uuid(self, device, result):
        """The UUID xfs_admin -U generate reported, or the error."""
        text = _text(result)
        match = re.search(r'new UUID = ([0-9a-fA-F-]{36})', text)
        if result.exit_code == 0 and match:
            return match.group(1).lower()
        cmd = ('xfs_admin', '-U', 'generate', device)
        if 'mounted filesystem' in text:
            raise exception.InUse(what='device', name=device,
                                  reason='its filesystem is mounted')
        if 'No such file' in text:
            raise exception.NotFound(what='device', name=device)
        raise exception.CommandFailed(cmd, result.exit_code, result.stdout,
                                      result.stderr or text)

    def _xfs_admin_generate(self, device):
        return self.executor.execute('xfs_admin', '-U', 'generate', device,
                                     check_exit_code=False)

    # -- mounting --

    def _source(self, mountpoint):
        """What is mounted exactly at ``mountpoint`` (topmost), or None."""
        cmd = _FINDMNT + (mountpoint,)
        result = self.executor.execute(*cmd, check_exit_code=(0, 1))
        if result.exit_code == 1:
            return None
        source = None
        for line in result.stdout.splitlines():
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2 or fields[1] != mountpoint:
                raise exception.ParseError(what='findmnt',
                                           reason='unexpected line %r'
                                           % line)
            source = fields[0]
        return source

    def _require_mounted(self, mountpoint):
        if self._source(mountpoint) is None:
            raise exception.NotFound(what='mounted filesystem at',
                                     name=mountpoint)

    def mounts(self, base):
        """``{mountpoint: source}`` of every mount below ``base``."""
        lines = self.executor.execute(*MOUNT_TABLE).stdout.splitlines()
        pairs = (line.strip().rpartition(' ') for line in lines)
        return {target: source for source, _sep, target in pairs
                if target.startswith(base + '/')}

    def is_mounted(self, mountpoint):
        return self._source(_mountpoint(mountpoint)) is not None

    def mount(self, device, mountpoint, options=()):
        """Mount ``device`` at ``mountpoint`` (created if needed).

        Already mounted there: nothing to do (options are not compared).
        Something else mounted there: :class:`Conflict`.
        """
        device = _device(device)
        mountpoint = _mountpoint(mountpoint)
        options = _options(options)
        source = self._source(mountpoint)
        if source is not None:
            if source in _sources(device):
                return
            raise exception.Conflict(what='mountpoint', name=mountpoint,
                                     reason='%s is mounted there' % source)
        files.makedirs(self.executor, mountpoint)
        self._mount(device, mountpoint, options)

    def _mount(self, device, mountpoint, options):
        cmd = ['mount', '-t', 'xfs']
        if options:
            cmd += ['-o', ','.join(options)]
        cmd += [device, mountpoint]
        try:
            self.executor.execute(*cmd)
        except exception.CommandFailed as err:
            if 'does not exist' in (err.stderr or ''):
                raise exception.NotFound(what='device', name=device) from err
            raise

    def unmount(self, mountpoint):
        """Unmount; nothing mounted there is not an error.

        umount itself tells (and unmounts whatever is mounted exactly
        there), so no look first.
        """
        self._umount(_mountpoint(mountpoint))

    def _umount(self, mountpoint):
        try:
            self.executor.execute('umount', mountpoint)
        except exception.CommandFailed as err:
            text = (err.stderr or '').lower()
            if 'busy' in text:
                raise exception.InUse(what='filesystem', name=mountpoint,
                                      reason=err.stderr.strip()) from err
            if any(s in text for s in _NOT_MOUNTED):
                return
            raise

    # -- online changes --

    def grow(self, mountpoint, mounted=False):
        """Grow the filesystem to fill its (already extended) device.

        :param mounted: the caller mounted it there in this same operation
            (under the LV's lock), so it is not looked up again.
        """
        mountpoint = _mountpoint(mountpoint)
        if not mounted:
            self._require_mounted(mountpoint)
        self.executor.execute('xfs_growfs', '-d', mountpoint)

    def freeze(self, mountpoint):
        """Freeze the filesystem; one already frozen stays frozen."""
        mountpoint = _mountpoint(mountpoint)
        self._require_mounted(mountpoint)
        result = self.executor.execute('xfs_freeze', '-f', mountpoint,
                                       check_exit_code=False)
        if result.exit_code == 0:
            return
        if 'Device or resource busy' in result.stderr:
            LOG.info('%s was already frozen.', mountpoint)
            return
        raise self._fail(('xfs_freeze', '-f', mountpoint), result)

    def unfreeze(self, mountpoint):
        """Thaw the filesystem; harmless if it is not frozen or mounted."""
        mountpoint = _mountpoint(mountpoint)
        if self._source(mountpoint) is None:
            return
        result = self.executor.execute('xfs_freeze', '-u', mountpoint,
                                       check_exit_code=False)
        if result.exit_code == 0 or 'Invalid argument' in result.stderr:
            # EINVAL: the filesystem was not frozen.
            return
        raise self._fail(('xfs_freeze', '-u', mountpoint), result)

    @contextlib.contextmanager
    def frozen(self, mountpoint):
        """Hold the filesystem frozen; it is thawed however the block ends.

        The thaw is attempted even if the freeze itself failed (it may
        have taken effect before a timeout).

        Not for LVM snapshots: device-mapper suspends the origin with
        lockfs, which flushes and freezes its filesystem for the instant of
        the snapshot, and that suspend fails with EBUSY on a filesystem
        already frozen by hand (seen on kernel 6.1 in the lab).
        """
        try:
            self.freeze(mountpoint)
            yield
        finally:
            self.unfreeze(mountpoint)

    def usage(self, mountpoint):
        mountpoint = _mountpoint(mountpoint)
        self._require_mounted(mountpoint)
        result = self.executor.execute('df', '-B1',
                                       '--output=size,used,avail',
                                       mountpoint)
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        fields = lines[-1].split() if len(lines) >= 2 else []
        if len(fields) != 3 or not all(f.isdigit() for f in fields):
            raise exception.ParseError(what='df',
                                       reason='unexpected output %r'
                                       % result.stdout)
        total, used, free = (int(f) for f in fields)
        return {'total_bytes': total, 'used_bytes': used, 'free_bytes': free}

    # -- project quotas --

    def _quota(self, mountpoint, command):
        """Run one expert xfs_quota command; any error output fails it.

        xfs_quota reports some failures only on stderr, exiting 0.
        """
        cmd = ('xfs_quota', '-x', '-c', command, mountpoint)
        result = self.executor.execute(*cmd, check_exit_code=False)
        if result.exit_code != 0 or result.stderr.strip():
            raise self._fail(cmd, result)
        return result.stdout

    def set_project_limit(self, mountpoint, project_id, size_bytes):
        """Hard block limit of a project in bytes (0 removes the limit)."""
        mountpoint = _mountpoint(mountpoint)
        project_id = _project_id(project_id)
        size_bytes = validate.integer(size_bytes, 'quota limit', 0,
                                      MAX_LIMIT_BYTES)
        self._require_mounted(mountpoint)
        self._quota(mountpoint, 'limit -p bhard=%d %d' % (size_bytes,
                                                          project_id))

    def project_usage(self, mountpoint, project_id):
        """Bytes used by a project."""
        mountpoint = _mountpoint(mountpoint)
        project_id = _project_id(project_id)
        self._require_mounted(mountpoint)
        out = self._quota(mountpoint,
                          'quota -p -v -N -n -b %d' % project_id)
        # "DEVICE USED SOFT HARD WARNS [GRACE] MOUNTPOINT", block counts in
        # KiB; a long device name is followed by a line break.
        fields = out.split()
        if not fields:
            return 0
        if len(fields) < 4 or not all(f.isdigit() for f in fields[1:4]):
            raise exception.ParseError(what='xfs_quota',
                                       reason='unexpected output %r' % out)
        return int(fields[1]) * 1024
