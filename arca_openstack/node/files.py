"""Configuration and state files on a node, written atomically as root.

Only paths under the directories the rootwrap filters allow may be used:
:data:`STATE_DIR` for Arca's own records and Ganesha configs, and
``/etc/drbd.d`` for DRBD resources (so drbdadm and Pacemaker's DRBD agent
find them without extra options). The operator's HA pair configuration,
:data:`CLUSTER_CONF`, may be read, never written.
"""

from arca_openstack import exception
from arca_openstack.node import validate

STATE_DIR = '/var/lib/arca'
RUN_DIR = '/run/arca'
LOG_DIR = '/var/log/arca'
DRBD_DIR = '/etc/drbd.d'
# Mountpoints of the mirrored pools' state filesystems (pool_state).
POOLS_DIR = STATE_DIR + '/pools'
ALLOWED_BASES = (STATE_DIR, RUN_DIR, LOG_DIR, DRBD_DIR)
# The HA pair's configuration (cluster_config): the operator's file.
CLUSTER_CONF = '/etc/arca/cluster.conf'
# Files read here that are not Arca's to write.
READ_ONLY = (CLUSTER_CONF,)


def _checked(path, allow_base=False):
    validate.abs_path(path)
    if allow_base and path in ALLOWED_BASES:
        return path
    if not any(path.startswith(base + '/') for base in ALLOWED_BASES):
        raise exception.InvalidInput(
            what='path', value=path,
            reason='must lie under one of %s' % ', '.join(ALLOWED_BASES))
    return path


def makedirs(executor, path):
    """``mkdir -p``: idempotent; a base directory itself is allowed."""
    executor.execute('mkdir', '-p', _checked(path, allow_base=True))


def write_atomic(executor, path, content):
    """Replace ``path`` with ``content`` atomically.

    Readers see the old or the new file, never half of one: the content
    goes to a sibling temporary file that is then renamed over the path.
    """
    _checked(path)
    tmp = path + '.tmp'
    executor.execute('tee', tmp, process_input=content)
    executor.execute('mv', '-f', tmp, path)


def read(executor, path):
    """Return the file's text, or None if it does not exist."""
    if path not in READ_ONLY:
        _checked(path)
    result = executor.execute('cat', path, check_exit_code=False)
    if result.exit_code == 0:
        return result.stdout
    if 'No such file' in result.stderr:
        return None
    raise exception.CommandFailed(('cat', path), result.exit_code,
                                  result.stdout, result.stderr)


def remove(executor, path):
    """``rm -f``: idempotent."""
    executor.execute('rm', '-f', _checked(path))


def remove_tree(executor, path):
    """``rm -rf`` of one of our own directories (never a base itself)."""
    _checked(path)
    if path in ALLOWED_BASES:
        raise exception.InvalidInput(what='path', value=path,
                                     reason='is a base directory')
    executor.execute('rm', '-rf', path)


def symlink(executor, target, link):
    """Make ``link`` a symlink to ``target``, replacing a link there.

    Both lie in Arca's own directories. ``-T`` keeps ln from creating the
    link inside ``link`` when that is a directory: a real directory there
    makes ln fail instead.
    """
    executor.execute('ln', '-sfnT', _checked(target), _checked(link))


def readlink(executor, path):
    """The target of the symlink ``path``, or None if it is not one."""
    result = executor.execute('readlink', _checked(path),
                              check_exit_code=(0, 1))
    if result.exit_code != 0:
        return None
    return result.stdout.strip() or None


def list_dir(executor, path):
    """Names in a directory (empty if it does not exist), sorted."""
    result = executor.execute('ls', '-1A', _checked(path),
                              check_exit_code=False)
    if result.exit_code != 0:
        if 'No such file' in result.stderr:
            return []
        raise exception.CommandFailed(('ls', '-1A', path), result.exit_code,
                                      result.stdout, result.stderr)
    return sorted(line for line in result.stdout.splitlines() if line)
