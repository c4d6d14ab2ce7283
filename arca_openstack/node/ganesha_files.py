"""The files of each SVM's NFS-Ganesha on the node, through the executor.

The main config, the export files, the pid file and the bind record:
read (the config, pid file and index at once; then only the export file
that an index names for the path that changes) and written atomically,
then read back byte for byte, since Ganesha has no offline check. Their text
is :mod:`arca_openstack.node.ganesha_config`'s; running the daemon and
telling it of changes is :mod:`arca_openstack.node.ganesha`'s.
"""

import collections

from oslo_log import log as logging

from arca_openstack import exception
from arca_openstack.node import files
from arca_openstack.node import ganesha_config

LOG = logging.getLogger(__name__)

State = collections.namedtuple(
    'State', ['config', 'exports', 'pid', 'paths', 'index'],
    defaults=(None, None))
State.__doc__ = """What :func:`read_state` gives.

The config's text (None if there is none), {export id: text} of the
export files read, the pid in the pid file or None; from the index (if
it was used): {export id: path or None} of every export file present,
and the index's text."""


def makedirs(executor, svm):
    """The SVM's directories, and the base ones (:func:`make_base_dirs`)."""
    for path in (ganesha_config.svm_dir(svm),
                 ganesha_config.exports_dir(svm),
                 ganesha_config.recovery_dir(svm)):
        files.makedirs(executor, path)
    make_base_dirs(executor)


def make_base_dirs(executor):
    # /run/arca vanishes at every reboot.
    for path in (files.RUN_DIR, files.LOG_DIR):
        files.makedirs(executor, path)


# ------------------------------------------------------------- writing

def write_checked(executor, path, content):
    """Write atomically, then read back and compare byte for byte."""
    files.write_atomic(executor, path, content)
    verify(executor, [(path, content)])


def verify(executor, written):
    """Read back the (path, content) files just written, in one cat.

    The files come back concatenated and are compared byte for byte
    with what was written, in that order.
    """
    if not written:
        return
    paths = [path for path, _content in written]
    result = executor.execute('cat', *paths, check_exit_code=False)
    if result.exit_code != 0 or result.stdout != ''.join(
            content for _path, content in written):
        raise exception.ConfigInvalid(
            path=' '.join(paths),
            reason='read back differs from what was written')


def write_config(executor, svm, addrs, ids, old_text=None):
    """Write the main config unless its text is ``old_text``.

    :returns: True if it was written.
    """
    text = ganesha_config.format_config(
        svm, addrs, ganesha_config.sorted_export_ids(ids))
    if text == old_text:
        return False
    write_checked(executor, ganesha_config.config_path(svm), text)
    return True


def _export_text(svm, exp):
    text = ganesha_config.format_export(exp)
    if ganesha_config.parse_export(text) != exp:
        raise exception.ConfigInvalid(
            path=ganesha_config.export_path(svm, exp.export_id),
            reason='does not parse back')
    return text


def write_export(executor, svm, exp):
    write_checked(executor, ganesha_config.export_path(svm, exp.export_id),
                  _export_text(svm, exp))


def write_export_and_config(executor, svm, state, exp, addrs, ids):
    """Write what differs of the export file and config, check both.

    The export file first: the config includes only files that exist.
    One read-back checks both before Ganesha is told; then the index.
    """
    written = []
    eid = exp.export_id
    paths = paths_of(svm, state)
    moved = eid in paths and paths[eid] != exp.path
    paths[eid] = exp.path
    text = _export_text(svm, exp)
    if text != state.exports.get(eid):
        if moved:
            # The index must never name a wrong path for a file: gone
            # until it is rewritten below, it makes readers read all.
            invalidate_index(executor, svm)
        path = ganesha_config.export_path(svm, eid)
        files.write_atomic(executor, path, text)
        written.append((path, text))
    text = ganesha_config.format_config(
        svm, addrs, ganesha_config.sorted_export_ids(ids))
    if text != state.config:
        path = ganesha_config.config_path(svm)
        files.write_atomic(executor, path, text)
        written.append((path, text))
    if written:
        verify(executor, written)
        write_index(executor, svm, paths, state.index)


def remove_export_file(executor, svm, state, eid):
    """Delete export file ``eid`` (not included any more), and index it."""
    files.remove(executor, ganesha_config.export_path(svm, eid))
    paths = paths_of(svm, state)
    paths.pop(eid, None)
    write_index(executor, svm, paths, state.index)


# --------------------------------------------------------------- index
#
# Which path each export file serves, so that a change of one export
# reads one file. It is trusted only while its ids are those of the
# export files present: a file added or removed without it (a crash
# before it was rewritten) makes readers read every file. A file whose
# path changes in place would not show, so the index goes first.

def write_index(executor, svm, paths, old_text=None):
    """Write the index of ``paths`` unless its text is ``old_text``."""
    text = ganesha_config.format_index(paths)
    if text != old_text:
        files.write_atomic(executor, ganesha_config.index_path(svm), text)


def invalidate_index(executor, svm):
    files.remove(executor, ganesha_config.index_path(svm))


def paths_of(svm, state):
    """{export id: path or None} of every export file in ``state``."""
    if state.paths is not None:
        return dict(state.paths)
    paths = {}
    for eid, text in state.exports.items():
        exp = lenient_export(svm, eid, text)
        paths[eid] = exp.path if exp else None
    return paths


# ------------------------------------------------------------- reading

def read_config(executor, svm):
    """(addresses, export ids) of the SVM's main config.

    :raises NotFound: there is no config.
    """
    text = files.read(executor, ganesha_config.config_path(svm))
    if text is None:
        raise exception.NotFound(what='Ganesha config of SVM', name=svm)
    return ganesha_config.parse_config(svm, text)


def read_export(executor, svm, eid):
    """(text, :func:`lenient_export` of it) of export file ``eid``."""
    text = files.read(executor, ganesha_config.export_path(svm, eid))
    return text, lenient_export(svm, eid, text)


def lenient_export(svm, eid, text):
    """The Export of an export file's text; None if absent or foreign."""
    if text is None:
        return None
    try:
        exp = ganesha_config.parse_export(
            text, ganesha_config.export_path(svm, eid))
    except exception.ParseError as err:
        LOG.warning('Ignoring unreadable export file: %s', err)
        return None
    if exp.export_id != eid:
        LOG.warning('Export file %s holds export %d',
                    ganesha_config.export_path(svm, eid), exp.export_id)
        return None
    return exp


def read_bind(executor, svm):
    """The Bind_addr the running instance was started with, or None."""
    text = files.read(executor, ganesha_config.bind_record_path(svm))
    return text.strip() if text else None


def list_ids(executor, svm):
    """Ids of the export files in the SVM's exports directory, sorted."""
    ids = []
    for name in files.list_dir(executor, ganesha_config.exports_dir(svm)):
        eid = ganesha_config.export_file_id(name)
        if eid is not None:
            ids.append(eid)
    return tuple(sorted(ids))


def _grep(executor, svm, paths):
    """{path: text} of the files (and trees) ``paths``, in one command.

    grep prints every line (``-e ^`` matches all) of each file, after its
    name and a NUL (``-Z``); ``-a`` passes any byte. A missing file is
    reported and skipped; an empty one prints nothing, so it counts as
    absent (it holds no export). Every file this package writes ends
    with a newline, which grep gives back.
    """
    cmd = ('grep', '-r', '-H', '-Z', '-a', '-e', '^') + tuple(paths)
    result = executor.execute(*cmd, check_exit_code=False)
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    if result.exit_code not in (0, 1) and (not errors or any(
            'No such file' not in line for line in errors)):
        raise exception.CommandFailed(cmd, result.exit_code,
                                      result.stdout, result.stderr)
    texts = {}
    for line in result.stdout.split('\n')[:-1]:
        path, sep, text = line.partition('\0')
        if not sep:
            raise exception.ParseError(what='grep of SVM %s' % svm,
                                       reason='line %r' % line[:100])
        texts[path] = texts.get(path, '') + text + '\n'
    return texts


def _exports(svm, texts):
    """{export id: text} of the export files among ``texts``."""
    exports_dir = ganesha_config.exports_dir(svm)
    exports = {}
    for path, text in texts.items():
        head, _sep, name = path.rpartition('/')
        eid = ganesha_config.export_file_id(name)
        if head == exports_dir and eid is not None:
            exports[eid] = text
    return exports


def _read_index(svm, text):
    """The index's {export id: path or None}; None if absent or bad."""
    if text is None:
        return None
    try:
        return ganesha_config.parse_index(
            text, ganesha_config.index_path(svm))
    except exception.ParseError as err:
        LOG.warning('Ignoring the export index: %s', err)
        return None


def read_state(executor, svm, path=None):
    """The SVM's config, export files and pid file.

    :param path: only the export of this path is wanted. With an index
        whose ids are those of the export files present, only the files
        that may serve ``path`` are read (the index's entry for it, and
        any file not of Arca's form); without, every file is.
    :returns: a :class:`State`.
    """
    config_path = ganesha_config.config_path(svm)
    pid_path = ganesha_config.pid_path(svm)
    index_path = ganesha_config.index_path(svm)
    if path is not None:
        texts = _grep(executor, svm, (config_path, index_path, pid_path))
        paths = _read_index(svm, texts.get(index_path))
        if paths is not None and set(paths) == set(list_ids(executor,
                                                            svm)):
            exports = {}
            for eid in sorted(paths):
                if paths[eid] in (path, None):
                    text = files.read(executor,
                                      ganesha_config.export_path(svm, eid))
                    if text:
                        exports[eid] = text
            return State(texts.get(config_path), exports,
                         ganesha_config.parse_pid(texts.get(pid_path) or ''),
                         paths, texts.get(index_path))
    texts = _grep(executor, svm, (config_path,
                                  ganesha_config.exports_dir(svm), pid_path))
    exports = _exports(svm, texts)
    return State(texts.get(config_path), exports,
                 ganesha_config.parse_pid(texts.get(pid_path) or ''))


# ----------------------------------------------------- reading a State

def state_config(svm, state):
    """(addresses, export ids) of the config in ``state``.

    :raises NotFound: there is no config.
    """
    if state.config is None:
        raise exception.NotFound(what='Ganesha config of SVM', name=svm)
    return ganesha_config.parse_config(svm, state.config)


def find(svm, state, path):
    """The export of ``path`` in ``state``; foreign files raise."""
    for eid in sorted(state.exports):
        exp = ganesha_config.parse_export(
            state.exports[eid], ganesha_config.export_path(svm, eid))
        if exp.export_id != eid:
            raise exception.ParseError(
                what=ganesha_config.export_path(svm, eid),
                reason='holds export %d' % exp.export_id)
        if exp.path == path:
            return exp
    return None


def free_id(svm, state):
    """The lowest export id neither a file nor the config uses."""
    used = (set(state.exports) | set(state.paths or ()) |
            set(state_config(svm, state)[1]))
    for candidate in range(ganesha_config.MIN_EXPORT_ID,
                           ganesha_config.MAX_EXPORT_ID + 1):
        if candidate not in used:
            return candidate
    raise exception.CapacityExceeded(where='SVM %s' % svm,
                                     reason='no free export id')
