"""Canaries for the symlink tests of both drivers (no Cinder, no Manila).

Clients write the filesystems of their shares and volumes, as root if
their access allows it: they can plant symbolic links (to the node's own
files, to another tenant's mountpoint, dangling, in a loop), FIFOs and
directories of links. The tests plant them, run every driver operation
and check after each one that nothing outside the tenant's own objects
changed: the canaries below, on the storage node's root filesystem, on
an XFS filesystem of the node that is no share (so that an XFS project
id set through a link shows), and another tenant's share or volume.

The state of a canary is read on the node by :data:`_STATE`, which never
follows a link itself: type, mode, owner, size, inode, link count, mtime
and ctime, a digest of a regular file's first 16 MiB, a link's target,
and the XFS project id and flags (the FS_IOC_FSGETXATTR ioctl, which
tmpfs and overlayfs answer with zeros).
"""

import json
import shlex

# Canaries on the node: a directory and files on its root filesystem
# (/root is a tmpfs in the lab, /etc an overlay), and a directory on the
# node's own XFS (its state LV) whose files have project id PROJECT.
CANARY_DIR = '/root/canary-dir'
CANARY_FILE = '/etc/arca-canary'
CANARY_XFS = '/var/lib/arca/canary-xfs'
PROJECT = 4242
RAW_BYTES = 4 * 1024 ** 2
RAW_MODE = '640'

_STATE = r'''
import fcntl, hashlib, json, os, stat, struct, sys
FS_IOC_FSGETXATTR = 0x801c581f
FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY


def fsxattr(path):
    try:
        fd = os.open(path, FLAGS)
    except OSError as err:
        return 'open: ' + err.strerror
    try:
        data = fcntl.ioctl(fd, FS_IOC_FSGETXATTR, bytes(28))
        xflags, _size, _extents, projid = struct.unpack('IIII', data[:16])
        return {'projid': projid, 'xflags': '%#x' % xflags}
    except OSError as err:
        return 'ioctl: ' + err.strerror
    finally:
        os.close(fd)


def digest(path):
    fd = os.open(path, FLAGS)
    with os.fdopen(fd, 'rb') as f:
        return hashlib.sha256(f.read(16 << 20)).hexdigest()


def one(path):
    try:
        st = os.lstat(path)
    except OSError as err:
        return {'error': err.strerror}
    rec = {'mode': '%o' % st.st_mode, 'owner': '%d:%d' % (st.st_uid,
                                                          st.st_gid),
           'size': st.st_size, 'ino': st.st_ino, 'nlink': st.st_nlink,
           'mtime': st.st_mtime_ns, 'ctime': st.st_ctime_ns}
    if stat.S_ISLNK(st.st_mode):
        rec['target'] = os.readlink(path)
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        rec['fsxattr'] = fsxattr(path)
    if stat.S_ISREG(st.st_mode):
        rec['sha256'] = digest(path)
    return rec


state = {}
for arg in sys.argv[1:]:
    tree = arg.endswith('/**')
    root = arg[:-3] if tree else arg
    state[root] = one(root)
    if tree and stat.S_ISDIR(int(state[root].get('mode', '0'), 8)):
        for top, dirs, files, _fd in os.fwalk(root):
            for name in dirs + files:
                path = os.path.join(top, name)
                state[path] = one(path)
print(json.dumps(state, sort_keys=True))
'''


def tree(path):
    """A canary argument: ``path`` and everything below it."""
    return path + '/**'


def node_canaries():
    """Canaries of the node itself (see :func:`make_canaries`)."""
    return [tree(CANARY_DIR), CANARY_FILE, '/etc', '/etc/passwd',
            tree(CANARY_XFS)]


def make_canaries(node, raws=()):
    """Make the node's canaries; ``raws``: image-like files to make.

    Each raw canary is RAW_BYTES of random data, mode RAW_MODE: smaller
    than any volume, so that growing it to a volume's size shows.
    """
    script = [
        'set -e',
        'mkdir -p {d}/sub',
        'echo canary > {d}/f',
        'chmod 700 {d}',
        'chmod 600 {d}/f',
        'echo canary > {f}',
        'mkdir -p {x}/sub',
        'echo canary > {x}/f',
        'xfs_io -c "chproj {p}" {x} {x}/f {x}/sub',
    ]
    for raw in raws:
        script.append('head -c %d /dev/urandom > %s' % (RAW_BYTES,
                                                        shlex.quote(raw)))
        script.append('chmod %s %s' % (RAW_MODE, shlex.quote(raw)))
    node.sh('\n'.join(script).format(d=CANARY_DIR, f=CANARY_FILE,
                                     x=CANARY_XFS, p=PROJECT))


def remove_canaries(node, raws=()):
    node.sh('rm -rf %s' % ' '.join(shlex.quote(p) for p in (
        CANARY_DIR, CANARY_FILE, CANARY_XFS) + tuple(raws)), check=False)


def read_state(node, paths):
    """{path: lstat-like record} of every canary path (see _STATE)."""
    result = node.run('python3', '-c', _STATE, *paths, timeout=300)
    return json.loads(result.stdout)


def changes(before, after):
    """{path: {field: (before, after)}} of what differs."""
    diff = {}
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        if old is None or new is None:
            diff[path] = {'entry': (old, new)}
            continue
        diff[path] = {key: (old.get(key), new.get(key))
                      for key in sorted(set(old) | set(new))
                      if old.get(key) != new.get(key)}
    return diff


def restore_raw(node, path):
    """Give a raw canary a tampered operation grew its size and mode back.

    Its content below RAW_BYTES is left as it is (an operation that wrote
    it is reported by the digest).
    """
    node.sh('truncate -s %d %s && chmod %s %s' % (
        RAW_BYTES, shlex.quote(path), RAW_MODE, shlex.quote(path)))


class Canaries(object):
    """The canaries' state before, compared after every operation.

    A change is recorded (the test goes on, and fails at its end: one run
    tells every operation that changed something); the canary is then put
    back (raw canaries: their size and mode) and its new state becomes
    the reference, so that the next operation is judged on its own.

    Not testtools' expectThat: the Cinder and Manila test bases delete
    the test's attributes in a cleanup, its pending failure with them.
    The failures are raised by a cleanup of this object's own, which runs
    before theirs.
    """

    def __init__(self, test, node, paths, raws=()):
        self.test = test
        self.node = node
        self.paths = list(paths)
        self.raws = tuple(raws)
        self.reference = read_state(node, self.paths)
        self.failures = []
        test.addCleanup(self.verify)

    def record(self, failure):
        """Record a failure, raised when the test ends."""
        self.failures.append(failure)

    def check(self, operation):
        """Compare the canaries with their reference; the changes."""
        after = read_state(self.node, self.paths)
        diff = changes(self.reference, after)
        if diff:
            self.record('%s changed the node outside Arca\'s objects: %s'
                        % (operation, json.dumps(diff, sort_keys=True)))
            for raw in self.raws:
                if raw in diff:
                    restore_raw(self.node, raw)
            self.reference = read_state(self.node, self.paths)
        return diff

    def verify(self):
        if self.failures:
            self.test.fail('\n'.join(self.failures))
