"""Exact size limits of whole XFS filesystems, with a project quota.

A filesystem that must hold exactly N bytes (a Manila share) is made a
little larger than N, so XFS's own log and metadata never eat into it,
mounted with ``prjquota``, and its root directory with everything below
it becomes XFS project :data:`PROJECT_ID` with a hard block limit of
exactly N bytes. Growing and shrinking the limit is then instant, needs
no filesystem shrink, and clients see the limit as the filesystem size
(XFS reports a project-inherit directory's quota through statfs).

The filesystem is a tenant's: clients write it, as root if their access
allows it, and may plant symbolic links, FIFOs and device nodes in it.
The only command here that looks inside it is the project walk of
:meth:`FilesystemQuota.enable`; every other one names the mountpoint,
the filesystem's root, which no client can replace.
"""

import re

from arca_openstack import exception
from arca_openstack.node import validate
from arca_openstack.node import xfs

# Each filesystem has its own quota files, so one id serves all of them.
PROJECT_ID = 1
_XFS_QUOTA = 'xfs_quota'

_COMPONENT = re.compile(r'^[A-Za-z0-9_]')


def _mountpoint(value):
    validate.abs_path(value, base=xfs.MOUNT_BASE, what='mountpoint')
    for part in value[len(xfs.MOUNT_BASE) + 1:].split('/'):
        if not _COMPONENT.match(part):
            raise exception.InvalidInput(
                what='mountpoint', value=value,
                reason='path components must start with A-Z a-z 0-9 _')
    return value


def _project_id(value):
    return validate.integer(value, 'project id', 1, xfs.MAX_PROJECT_ID)


def _walk_errors(stderr, mountpoint):
    """The lines of the project walk's stderr that are errors.

    xfs_quota (xfsprogs 6.1, Debian 12's, and earlier) reports each entry
    that is neither a regular file nor a directory (a link, FIFO, socket
    or device node) as ``xfs_quota: skipping special file PATH`` on
    stderr, and exits 0: those are a tenant's files, left as they are.
    Its errors begin with ``xfs_quota: cannot``, at the start of a line,
    so no file name can pass one off as a skip; a name holding a line
    break makes an extra line, which counts as an error (a clear
    failure).
    """
    skipped = '%s: skipping special file %s/' % (_XFS_QUOTA, mountpoint)
    return [line for line in (stderr or '').splitlines()
            if line.strip() and not line.startswith(skipped)]


class FilesystemQuota(object):
    """The whole-filesystem project quota of XFS mounts under MOUNT_BASE."""

    def __init__(self, executor):
        self.executor = executor
        self.xfs = xfs.XFS(executor)

    def enable(self, mountpoint, project_id=PROJECT_ID):
        """Make the whole filesystem project ``project_id`` (idempotent).

        Every existing file is included (a walk of the tree: instant on a
        new filesystem, proportional to the file count on an old one); new
        files inherit the project. The filesystem must be mounted with
        ``prjquota``.

        The walk (xfs_quota's, nftw with FTW_PHYS and FTW_MOUNT) never
        follows a link it finds: it lstat()s each entry, skips links,
        FIFOs, sockets and device nodes, and stays on this filesystem.
        But it then opens each file and directory it found again by its
        whole path, without O_NOFOLLOW: a client that swaps a directory
        for a link between the two makes it set the project of the link's
        target, anywhere on the node (seen in the lab with a renameat2
        exchange loop), or open a device node or FIFO. So it must only run
        while no client can write the filesystem: a new one, or one no
        SVM exports (the Manila driver's create and manage).
        """
        mountpoint = _mountpoint(mountpoint)
        project_id = _project_id(project_id)
        if not self.xfs.is_mounted(mountpoint):
            raise exception.NotFound(what='mounted filesystem at',
                                     name=mountpoint)
        cmd = (_XFS_QUOTA, '-x', '-c',
               'project -s -p %s %d' % (mountpoint, project_id), mountpoint)
        result = self.executor.execute(*cmd, check_exit_code=False)
        # xfs_quota reports some failures only on stderr, exiting 0.
        errors = _walk_errors(result.stderr, mountpoint)
        if result.exit_code != 0 or errors:
            raise exception.CommandFailed(
                cmd, result.exit_code, result.stdout,
                '\n'.join(errors) or result.stderr)

    def set_limit(self, mountpoint, size_bytes, project_id=PROJECT_ID):
        """Hard limit of the filesystem's data in bytes (0: unlimited)."""
        self.xfs.set_project_limit(mountpoint, project_id, size_bytes)

    def used(self, mountpoint, project_id=PROJECT_ID):
        """Bytes the filesystem's files use (what the limit counts)."""
        return self.xfs.project_usage(mountpoint, project_id)
