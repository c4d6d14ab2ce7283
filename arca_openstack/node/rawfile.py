"""The sparse raw image file inside a volume's filesystem.

A Cinder volume is a thin LV whose XFS filesystem holds exactly one file,
:data:`FILE_NAME`, the disk image clients attach over NFS. It lives at
``/var/lib/arca/mnt/<lv>/volume.raw`` while the LV is mounted (see
:mod:`arca_openstack.node.export`). Its size is the volume's size; it is
sparse, so making or growing it costs nothing until data is written.

Sizes only ever grow here: ``truncate -s >N`` never shrinks a file, so a
retried or misordered call cannot cut data off.
"""

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


class RawFile(object):
    """The image file of mounted volume LVs on one node."""

    def __init__(self, executor):
        self.executor = executor

    def size(self, lv_name):
        """Size of the LV's image file in bytes, or None if it has none.

        The LV must be mounted at its mountpoint (the caller checks).
        """
        target = path(lv_name)
        result = self.executor.execute('stat', '-c', '%s', target,
                                       check_exit_code=False)
        if result.exit_code != 0:
            if 'No such file' in (result.stderr or ''):
                return None
            raise exception.CommandFailed(('stat', '-c', '%s', target),
                                          result.exit_code, result.stdout,
                                          result.stderr)
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
        self.executor.execute('truncate', '-s', '>%d' % size_bytes, target)
        self.executor.execute('chmod', MODE, target)

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
            self.executor.execute('truncate', '-s', '>%d' % size_bytes,
                                  path(lv_name))
        return max(current, size_bytes)
