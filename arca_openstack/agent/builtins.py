"""Commands the agent answers itself, without starting a process.

The node library speaks argv. Most of an operation's commands are small
file and signal steps (read a record, write a Ganesha file and rename it
into place, look at a log, send SIGHUP) that cost little work and a whole
process start each: on a small or loaded node the start is most of an
operation's time. The agent is root already, so it answers the exact forms
below in this process, with the same exit codes and the same kind of
messages as the real commands, which the library parses.

Two forms deliberately differ from the real commands: the volume image
file's ``truncate``, ``chmod`` and ``stat`` never follow a symlink and act
on regular files only. Clients write that file's filesystem; a symlink or
device node they plant in place of the file must not make root act on
what it points to (the real commands follow symlinks).

The operator's ``/etc/arca/cluster.conf`` is read here too (every pool's
capacity asks whether the pool is mirrored); it is never written.

Every other argv (LVM, mount, ip, ganesha.nfsd...) runs as a process.
"""

import errno
import os
import re
import shutil
import signal
import stat

from arca_openstack.node import executor
from arca_openstack.node import export
from arca_openstack.node import files
from arca_openstack.node import rawfile

# Files in Arca's own directories: root-owned, never writable by a
# tenant (the mounted filesystems under /var/lib/arca/mnt are not among
# them). No component can be '..'.
_COMPONENT = r'/[A-Za-z0-9_][A-Za-z0-9_.+=:@-]*'
_BASE = r'/(?:var/lib/arca|run/arca|var/log/arca)'
_STATE = (r'(?:/var/lib/arca(?!/mnt(?:/|\Z))|/run/arca|/var/log/arca|'
          r'/etc/drbd\.d)(?:%s)+' % _COMPONENT)
# An LV's mountpoint (the directory, root's), and the image file of a
# volume in it: the only tenant-writable path handled here.
_MOUNT = re.escape(export.MOUNT_BASE) + r'/[A-Za-z0-9][A-Za-z0-9+_.-]*'
_IMAGE = _MOUNT + '/' + re.escape(rawfile.FILE_NAME)
# A mirrored pool's state filesystem (root's, see pool_state).
_POOL_STATE = re.escape(files.POOLS_DIR) + r'/[A-Za-z0-9][A-Za-z0-9+_.-]*'

_SIGNALS = {'-0': 0, '-HUP': signal.SIGHUP, '-TERM': signal.SIGTERM,
            '-KILL': signal.SIGKILL}
_FORMS = []


class _Many(str):
    """A pattern for one or more trailing words."""


def _form(*patterns):
    """Register a builtin for argv whose words match ``patterns``."""
    def register(func):
        _FORMS.append((patterns, func))
        return func
    return register


def _matches(patterns, argv):
    words = list(argv)
    for i, pattern in enumerate(patterns):
        if isinstance(pattern, _Many):
            rest = words[i:]
            return bool(rest) and all(re.fullmatch(pattern, w) for w in rest)
        if i >= len(words) or not re.fullmatch(pattern, words[i]):
            return False
    return len(words) == len(patterns)


def find(argv):
    """The builtin answering ``argv``, or None if it must run."""
    for patterns, func in _FORMS:
        if _matches(patterns, argv):
            return func
    return None


def _fail(name, path, err, code=1):
    return executor.Result(code, '', '%s: %s: %s\n'
                           % (name, path, err.strerror))


def _ok(stdout=''):
    return executor.Result(0, stdout, '')


def _read(path):
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NOCTTY |
                 os.O_CLOEXEC)
    with os.fdopen(fd, 'rb') as f:
        return f.read()


def _text(data):
    return data.decode('utf-8', 'replace')


@_form('cat', _Many(_STATE))
@_form('cat', r'/proc/[1-9][0-9]*/cmdline')
def cat(argv, stdin):
    out, errors = [], []
    for path in argv[1:]:
        try:
            out.append(_read(path))
        except OSError as err:
            errors.append('cat: %s: %s\n' % (path, os.strerror(err.errno)))
    return executor.Result(1 if errors else 0, _text(b''.join(out)),
                           ''.join(errors))


@_form('cat', re.escape(files.CLUSTER_CONF))
def cat_config(argv, stdin):
    """The operator's cluster.conf (read at every pool's capacity).

    Root's file in root's directory: a symlink there is followed, as the
    real cat and ``arca-node cluster`` follow it.
    """
    path = argv[1]
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as err:
        return executor.Result(1, '', 'cat: %s: %s\n'
                               % (path, os.strerror(err.errno)))
    return _ok(_text(data))


@_form('tee', _STATE)
def tee(argv, stdin):
    """Write stdin to the file (created 0644, as tee under umask 022)."""
    path = argv[1]
    data = (stdin or '').encode('utf-8') if isinstance(
        stdin, str) or stdin is None else stdin
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC |
                     os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as err:
        return _fail('tee', path, err)
    with os.fdopen(fd, 'wb') as f:
        f.write(data)
        f.flush()
        # The rename that follows must not publish an empty file after
        # a crash.
        os.fsync(f.fileno())
    return _ok(_text(data))


@_form('mv', '-f', _STATE, _STATE)
def mv(argv, stdin):
    source, target = argv[2], argv[3]
    try:
        os.rename(source, target)
    except OSError as err:
        return _fail('mv', "cannot move '%s' to '%s'" % (source, target),
                     err)
    return _ok()


def _remove(path, tree):
    """``rm -f`` (``tree``: ``rm -rf``); gone already is done.

    shutil.rmtree walks by directory fd and never follows a link.
    """
    try:
        if tree and os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        return _fail('rm', "cannot remove '%s'" % path, err)
    return _ok()


@_form('rm', '-f', _STATE)
def rm(argv, stdin):
    return _remove(argv[2], tree=False)


@_form('rm', '-rf', _STATE)
def rm_tree(argv, stdin):
    return _remove(argv[2], tree=True)


@_form('mkdir', '-p', _STATE)
@_form('mkdir', '-p', _BASE)
@_form('mkdir', '-p', _MOUNT)
def mkdir(argv, stdin):
    path = argv[2]
    try:
        os.makedirs(path, mode=0o755, exist_ok=True)
    except OSError as err:
        return _fail('mkdir', "cannot create directory '%s'" % path, err)
    return _ok()


@_form('ln', '-sfnT', _STATE, _STATE)
def ln(argv, stdin):
    """``ln -sfnT``: the link replaced atomically; never a directory."""
    target, link = argv[2], argv[3]
    tmp = link + '.tmp'
    try:
        _remove(tmp, tree=False)
        os.symlink(target, tmp)
        if os.path.isdir(link) and not os.path.islink(link):
            os.unlink(tmp)
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        os.rename(tmp, link)
    except OSError as err:
        return _fail('ln', "cannot overwrite '%s'" % link, err)
    return _ok()


@_form('readlink', _STATE)
def readlink(argv, stdin):
    """Exit 1 with no output unless the path is a symlink (as readlink)."""
    try:
        return _ok(os.readlink(argv[1]) + '\n')
    except OSError:
        return executor.Result(1, '', '')


@_form('ls', '-1A', _STATE)
@_form('ls', '-1A', _BASE)
def ls(argv, stdin):
    path = argv[2]
    try:
        names = sorted(os.listdir(path))
    except OSError as err:
        return _fail('ls', "cannot access '%s'" % path, err, code=2)
    return _ok(''.join(name + '\n' for name in names))


@_form('stat', '-c', '%s', _STATE)
def stat_size(argv, stdin):
    path = argv[3]
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError as err:
        return _fail('stat', "cannot statx '%s'" % path, err)
    return _ok('%d\n' % st.st_size)


@_form('tail', '-c', r'\+[1-9][0-9]*', _STATE)
def tail_from(argv, stdin):
    """The file from byte N (1-based), as ``tail -c +N``."""
    offset = int(argv[2][1:]) - 1
    path = argv[3]
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as err:
        return _fail('tail', "cannot open '%s' for reading" % path, err)
    with os.fdopen(fd, 'rb') as f:
        f.seek(offset)
        return _ok(_text(f.read()))


@_form('tail', '-n', r'[1-9][0-9]*', _STATE)
def tail_lines(argv, stdin):
    count = int(argv[2])
    path = argv[3]
    try:
        data = _read(path)
    except OSError as err:
        return _fail('tail', "cannot open '%s' for reading" % path, err)
    lines = data.splitlines(keepends=True)
    return _ok(_text(b''.join(lines[-count:])))


@_form('kill', '|'.join(re.escape(s) for s in _SIGNALS), r'[1-9][0-9]*')
def kill(argv, stdin):
    try:
        os.kill(int(argv[2]), _SIGNALS[argv[1]])
    except OSError as err:
        return _fail('kill', '(%s)' % argv[2], err)
    return _ok()


def _grep_file(path, out):
    data = _read(path)
    if not data:
        return
    if not data.endswith(b'\n'):
        data += b'\n'
    name = path.encode('utf-8')
    for line in data.splitlines(keepends=True):
        out.append(name + b'\0' + line)


@_form('grep', '-r', '-H', '-Z', '-a', '-e', r'\^', _Many(_STATE))
def grep_all(argv, stdin):
    """Every line of the files and trees given, after ``name\\0``.

    As ``grep -r``: a directory is walked without following the links in
    it; exit 0 if a line was printed, 1 if none, 2 on an error.
    """
    out, errors = [], []
    for top in argv[7:]:
        try:
            if os.path.isdir(top):
                for root, dirs, names in os.walk(top):
                    for name in names:
                        path = os.path.join(root, name)
                        if not os.path.islink(path):
                            _grep_file(path, out)
            else:
                _grep_file(top, out)
        except OSError as err:
            errors.append('grep: %s: %s\n' % (top, os.strerror(err.errno)))
    code = 2 if errors else (0 if out else 1)
    return executor.Result(code, _text(b''.join(out)), ''.join(errors))


def _unescape(field):
    """A mountinfo field: space, tab, newline and backslash are octal."""
    return re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)),
                  field)


@_form('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET', '--mountpoint', _MOUNT)
@_form('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET', '--mountpoint',
       _POOL_STATE)
def findmnt(argv, stdin):
    """``SOURCE TARGET`` of each mount exactly at the path, in mount order.

    From this process's mount table, as findmnt reads it; exit 1 if none.
    """
    target = argv[6]
    out = []
    with open('/proc/self/mountinfo') as f:
        for line in f:
            fields = line.split()
            sep = fields.index('-')
            if _unescape(fields[4]) == target:
                out.append('%s %s\n' % (_unescape(fields[sep + 2]),
                                        _unescape(fields[4])))
    return executor.Result(0 if out else 1, ''.join(out), '')


# ------------------------------------------------------ the image file


def _image(path, create=False):
    """An ``O_PATH`` fd of the volume's image file, and whether it is new.

    The filesystem's root is opened first (Arca's mountpoint, root-owned
    above it); the file is then looked up in it without following a
    symlink, and must be a regular file (:class:`OSError` ``ELOOP`` or
    ``EINVAL`` otherwise). ``create`` makes a missing file, exclusively:
    nothing can be slipped in between.
    """
    directory, name = os.path.split(path)
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW |
                  os.O_CLOEXEC)
    try:
        try:
            fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC,
                         dir_fd=dfd)
        except FileNotFoundError:
            if not create:
                raise
            os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                             os.O_NOFOLLOW | os.O_CLOEXEC, 0o660,
                             dir_fd=dfd))
            return _image(path)
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            if stat.S_ISLNK(mode):
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
            raise OSError(errno.EINVAL, rawfile.NOT_REGULAR)
        return fd
    finally:
        os.close(dfd)


def _inode(fd):
    """A path to exactly the inode ``fd`` holds.

    Whatever its name is now: a rename or a symlink put in its place
    changes nothing.
    """
    return '/proc/self/fd/%d' % fd


@_form('truncate', '-s', r'>[1-9][0-9]*', _IMAGE)
def image_grow(argv, stdin):
    """Grow (never shrink) the image file, making it if missing."""
    size, path = int(argv[2][1:]), argv[3]
    try:
        fd = _image(path, create=True)
    except OSError as err:
        return _fail('truncate', "cannot open '%s' for writing" % path, err)
    try:
        if os.fstat(fd).st_size < size:
            os.truncate(_inode(fd), size)
    except OSError as err:
        return _fail('truncate', "failed to truncate '%s'" % path, err)
    finally:
        os.close(fd)
    return _ok()


@_form('chmod', r'0[0-7]{3}', _IMAGE)
def image_chmod(argv, stdin):
    mode, path = int(argv[1], 8), argv[2]
    try:
        fd = _image(path)
    except OSError as err:
        return _fail('chmod', "cannot access '%s'" % path, err)
    try:
        os.chmod(_inode(fd), mode)
    except OSError as err:
        return _fail('chmod', "changing permissions of '%s'" % path, err)
    finally:
        os.close(fd)
    return _ok()


@_form('stat', '-c', '%s', _IMAGE)
def image_size(argv, stdin):
    path = argv[3]
    try:
        fd = _image(path)
    except OSError as err:
        return _fail('stat', "cannot statx '%s'" % path, err)
    try:
        return _ok('%d\n' % os.fstat(fd).st_size)
    finally:
        os.close(fd)
