"""The files of each SVM's NFS-Ganesha on the node, through the executor.

The main config, the export files, the pid file and the bind record:
read (all at once when an export changes) and written atomically, then
read back byte for byte, since Ganesha has no offline check. Their text
is :mod:`arca_openstack.node.ganesha_config`'s; running the daemon and
telling it of changes is :mod:`arca_openstack.node.ganesha`'s.
"""

import collections

from oslo_log import log as logging

from arca_openstack import exception
from arca_openstack.node import files
from arca_openstack.node import ganesha_config

LOG = logging.getLogger(__name__)

State = collections.namedtuple('State', ['config', 'exports', 'pid'])
State.__doc__ = """What :func:`read_state` gives.

The config's text (None if there is none), {export id: text} of the
export files, the pid in the pid file or None."""


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
    One read-back checks both before Ganesha is told.
    """
    written = []
    eid = exp.export_id
    text = _export_text(svm, exp)
    if text != state.exports.get(eid):
        path = ganesha_config.export_path(svm, eid)
        files.write_atomic(executor, path, text)
        written.append((path, text))
    text = ganesha_config.format_config(
        svm, addrs, ganesha_config.sorted_export_ids(ids))
    if text != state.config:
        path = ganesha_config.config_path(svm)
        files.write_atomic(executor, path, text)
        written.append((path, text))
    verify(executor, written)


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


def read_state(executor, svm):
    """The SVM's config, export files and pid file, in one command.

    grep prints every line (``-e ^`` matches all) of the config, of each
    file under the exports directory and of the pid file, after its
    file's name and a NUL (``-Z``); ``-a`` passes any byte. A missing
    file is reported and skipped; an empty one prints nothing, so it
    counts as absent (it holds no export). Every file this package writes
    ends with a newline, which grep gives back.

    :returns: a :class:`State`.
    """
    config_path = ganesha_config.config_path(svm)
    exports_dir = ganesha_config.exports_dir(svm)
    pid_path = ganesha_config.pid_path(svm)
    cmd = ('grep', '-r', '-H', '-Z', '-a', '-e', '^', config_path,
           exports_dir, pid_path)
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
    exports = {}
    for path, text in texts.items():
        head, _sep, name = path.rpartition('/')
        eid = ganesha_config.export_file_id(name)
        if head == exports_dir and eid is not None:
            exports[eid] = text
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
    used = set(state.exports) | set(state_config(svm, state)[1])
    for candidate in range(ganesha_config.MIN_EXPORT_ID,
                           ganesha_config.MAX_EXPORT_ID + 1):
        if candidate not in used:
            return candidate
    raise exception.CapacityExceeded(where='SVM %s' % svm,
                                     reason='no free export id')
