"""The sparse raw image file inside a volume's filesystem.

A Cinder volume is a thin LV whose XFS filesystem holds exactly one file,
:data:`FILE_NAME`, the disk image clients attach over NFS. It lives at
``/var/lib/arca/mnt/<lv>/volume.raw`` while the LV is mounted (see
:mod:`arca_openstack.node.export`). Its size is the volume's size; it is
sparse, so making or growing it costs nothing until data is written.

Sizes only ever grow here: ``truncate -s >N`` never shrinks a file, so a
retried or misordered call cannot cut data off.

Clients write this filesystem and may replace the file by a symbolic
link, a FIFO or a device node. The node agent answers these commands
itself without following a link and on regular files only (see
:mod:`arca_openstack.agent.builtins`); what it refuses is reported here
as :class:`Conflict`, and nothing is changed.
"""

import errno
import os

from arca_openstack import exception
from arca_openstack.node import export
from arca_openstack.node import validate

FILE_NAME = 'volume.raw'
MODE = '0660'
MAX_BYTES = validate.MAX_SIZE_GIB * 1024 ** 3


def path(lv_name):
    return '%s/%s' % (export.mountpoint(lv_name), FILE_NAME)


def _bytes(value):
    return validate.integer(value, 'file size in bytes', 1, MAX_BYTES)


# What the agent says of an image file that is a link (ELOOP) or not a
# regular file (its own words).
NOT_REGULAR = 'not a regular file'
_REFUSED = (os.strerror(errno.ELOOP), NOT_REGULAR)


class RawFile(object):
    """The image file of mounted volume LVs on one node."""

    def __init__(self, executor):
        self.executor = executor

    def _run(self, *cmd):
        """Run ``cmd`` on the image file; a non-file is a Conflict."""
        result = self.executor.execute(*cmd, check_exit_code=False)
        if result.exit_code != 0:
            if any(text in (result.stderr or '') for text in _REFUSED):
                raise exception.Conflict(
                    what='volume image file', name=cmd[-1],
                    reason='it is a symbolic link or not a regular file '
                    '(replaced by a client?); it is left as it is')
            raise exception.CommandFailed(cmd, result.exit_code,
                                          result.stdout, result.stderr)
        return result

    def size(self, lv_name):
        """Size of the LV's image file in bytes, or None if it has none.

        The LV must be mounted at its mountpoint (the caller checks).
        """
        try:
            result = self._run('stat', '-c', '%s', path(lv_name))
        except exception.CommandFailed as err:
            if 'No such file' in (err.stderr or ''):
                return None
            raise
        text = result.stdout.strip()
        if not text.isdigit():
            raise exception.ParseError(what='stat',
                                       reason='unexpected output %r'
                                       % result.stdout)
        return int(text)

    def create(self, lv_name, size_bytes):
        """Make the file (or grow it) to at least ``size_bytes``.

        Idempotent; an existing larger file is left as it is.
        """
        target = path(lv_name)
        size_bytes = _bytes(size_bytes)
        self._run('truncate', '-s', '>%d' % size_bytes, target)
        self._run('chmod', MODE, target)

    def grow(self, lv_name, size_bytes):
        """Grow an existing file to at least ``size_bytes``.

        :raises NotFound: the LV's filesystem holds no image file.
        """
        size_bytes = _bytes(size_bytes)
        current = self.size(lv_name)
        if current is None:
            raise exception.NotFound(what='volume image file',
                                     name=path(lv_name))
        if current < size_bytes:
            self._run('truncate', '-s', '>%d' % size_bytes, path(lv_name))
        return max(current, size_bytes)
