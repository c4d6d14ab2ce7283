"""Exact size limits of whole XFS filesystems, with a project quota.

A filesystem that must hold exactly N bytes (a Manila share) is made a
little larger than N, so XFS's own log and metadata never eat into it,
mounted with ``prjquota``, and its root directory with everything below
it becomes XFS project :data:`PROJECT_ID` with a hard block limit of
exactly N bytes. Growing and shrinking the limit is then instant, needs
no filesystem shrink, and clients see the limit as the filesystem size
(XFS reports a project-inherit directory's quota through statfs).

:meth:`arca_openstack.node.xfs.XFS.set_project` only takes directories
below a mountpoint; setting the root directory itself is done here with
the same command (``arca_xfs_quota_project`` in arca-xfs.filters allows
it).
"""

import re

from arca_openstack import exception
from arca_openstack.node import validate
from arca_openstack.node import xfs

# Each filesystem has its own quota files, so one id serves all of them.
PROJECT_ID = 1

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
        """
        mountpoint = _mountpoint(mountpoint)
        project_id = _project_id(project_id)
        if not self.xfs.is_mounted(mountpoint):
            raise exception.NotFound(what='mounted filesystem at',
                                     name=mountpoint)
        cmd = ('xfs_quota', '-x', '-c',
               'project -s -p %s %d' % (mountpoint, project_id), mountpoint)
        result = self.executor.execute(*cmd, check_exit_code=False)
        # xfs_quota reports some failures only on stderr, exiting 0.
        if result.exit_code != 0 or (result.stderr or '').strip():
            raise exception.CommandFailed(cmd, result.exit_code,
                                          result.stdout, result.stderr)

    def set_limit(self, mountpoint, size_bytes, project_id=PROJECT_ID):
        """Hard limit of the filesystem's data in bytes (0: unlimited)."""
        self.xfs.set_project_limit(mountpoint, project_id, size_bytes)

    def used(self, mountpoint, project_id=PROJECT_ID):
        """Bytes the filesystem's files use (what the limit counts)."""
        return self.xfs.project_usage(mountpoint, project_id)
