"""One NFS-Ganesha instance per SVM, inside the SVM's network namespace.

Layout on the node (all written through :mod:`arca_openstack.node.files`)::

    /var/lib/arca/svm/SVM/ganesha.conf         main config (ours only)
    /var/lib/arca/svm/SVM/exports/ID.conf      one EXPORT block per file,
                                               pulled in by %include lines
    /var/lib/arca/svm/SVM/recovery             NFSv4 RecoveryRoot (fs)
    /run/arca/ganesha-SVM.pid                  pid file
    /var/log/arca/ganesha-SVM.log              log (level NIV_EVENT)

Facts checked against nfs-ganesha 4.3 (Debian 12), which shape this code:

* There is no offline configuration check (``-T`` only dumps defaults and
  then starts a server). Configs are therefore rendered only from
  validated values, parsed back and compared with what was meant, written
  atomically and read back byte for byte before any reload.
* ``%include "FILE"`` is followed at start and on every SIGHUP. An include
  of a missing file aborts the whole reload ("Error while parsing new
  configuration file"), so a file is always written before it is included
  and un-included (and reloaded) before it is deleted.
* SIGHUP re-reads only LOG and EXPORT blocks. It logs
  ``SIGHUP_HANDLER: Received SIGHUP.... initiating export list reload``
  then ``Reread exports complete`` -- the latter even when the config had
  errors, which are logged just after it by ``config_errs_to_log`` (or
  before it by ``ganesha_yyerror`` / ``export_commit_common``). An
  unbalanced brace removed every export; a bad value dropped only its
  export. A reload counts as confirmed only with the completion line and
  no CONFIG error from the ``sigmgr`` thread.
* A changed ``Path`` cannot be applied in place (UpdateExport and SIGHUP
  both refuse it with "Path for export update N ... doesn't match" and a
  SIGHUP then drops the export): a path change is a removal, then an add.
* D-Bus ``AddExport`` of a file with errors replies "1 exports added.
  Errors found: ..." and adds nothing, so every D-Bus change is confirmed
  with ``DisplayExport`` (whose reply lists the id, the path and one entry
  per client; 4.3 does not return the pseudo path there).
* ``Bind_addr`` takes one address. An IPv4 address gives a v4-only
  listener (``[::ffff:a.b.c.d]:2049``), an IPv6 one a v6-only listener;
  ``::`` listens dual-stack. Since the SVM's namespace holds only the
  SVM's own addresses, an SVM with several addresses binds the wildcard
  (``0.0.0.0`` when all are IPv4, else ``::``).
* Every ``CLIENT`` block carries ``Protocols = 4``; without it Ganesha
  warns "A protocol is specified for a CLIENT block that is not enabled in
  NFS_CORE_PARAM, fixing up" on every load. ``Enable_UDP = false`` avoids
  a UDP listener that NFSv4 never uses.
* Ganesha closes its standard streams when it daemonizes, so the starting
  command returns at once; the pid file appears a little later and stays
  behind if the daemon dies (FATAL), hence the stale-pid checks.
"""

import collections
import ipaddress
import os
import re
import time

from oslo_log import log as logging
from oslo_utils import excutils

from arca_openstack import exception
from arca_openstack.node import files
from arca_openstack.node import locks
from arca_openstack.node import validate

LOG = logging.getLogger(__name__)

GANESHA_BIN = '/usr/bin/ganesha.nfsd'
NETNS_DIR = '/run/netns'
SVM_BASE = files.STATE_DIR + '/svm'
MOUNT_BASE = files.STATE_DIR + '/mnt'
LOG_LEVEL = 'NIV_EVENT'
DBUS_PATH = '/org/ganesha/nfsd/ExportMgr'
DBUS_IFACE = 'org.ganesha.nfsd.exportmgr'
MIN_EXPORT_ID = 1
MAX_EXPORT_ID = 65535
ACCESS = ('rw', 'ro')
SQUASH = ('no_root_squash', 'root_squash', 'all_squash')
HEADER = '# Managed by arca-openstack: do not edit.\n'

ClientRule = collections.namedtuple('ClientRule',
                                    ['network', 'access', 'squash'],
                                    defaults=('no_root_squash',))
ClientRule.__doc__ = """One CLIENT entry: who (address or CIDR), 'rw' or 'ro'.

An export's rules form an ordered ACL."""

Export = collections.namedtuple('Export', ['export_id', 'path', 'pseudo',
                                           'clients', 'read_only'],
                                defaults=((), False))
Export.__doc__ = """One Ganesha export of an SVM.

``path`` is the mounted filesystem (under /var/lib/arca/mnt), ``pseudo``
the NFSv4 path clients mount, ``clients`` a sequence of
:class:`ClientRule`. A read-only export serves every client read-only."""

_EXPORT_FILE = re.compile(r'^([1-9][0-9]{0,4})\.conf$')
_PID = re.compile(r'[1-9][0-9]{0,9}')
# What _read_state() gives: the config's text (None if there is none),
# {export id: text} of the export files, the pid in the pid file or None.
_State = collections.namedtuple('_State', ['config', 'exports', 'pid'])
# "DATE : epoch E : HOST : PROG-PID[THREAD] FUNC :COMPONENT :LEVEL :TEXT"
_LOG_LINE = re.compile(r'^.* : epoch \S+ : \S+ : \S+-(?P<pid>[0-9]+)'
                       r'\[(?P<thread>[^\]]+)\] (?P<func>\S+) '
                       r':(?P<comp>[^:]+?) ?:(?P<level>[A-Z_]+) :'
                       r'(?P<text>.*)$')
_SIGHUP_MARK = 'Received SIGHUP'
_RELOAD_DONE = 'Reread exports complete'
_RELOAD_ABORTED = 'Error while parsing new configuration file'
_STARTED = 'NFS SERVER INITIALIZED'
_BAD_LEVELS = ('CRIT', 'MAJ', 'FATAL')
_NOT_FOUND = 'Export id not found'


class GaneshaError(exception.ServiceFailed):
    """Ganesha did not start, stop or apply a change as asked."""

    message = 'Ganesha of SVM %(svm)s: %(reason)s'


# --------------------------------------------------------------- paths

def svm_dir(svm):
    return '%s/%s' % (SVM_BASE, svm)


def config_path(svm):
    return '%s/ganesha.conf' % svm_dir(svm)


def exports_dir(svm):
    return '%s/exports' % svm_dir(svm)


def export_path(svm, export_id):
    return '%s/%d.conf' % (exports_dir(svm), export_id)


def recovery_dir(svm):
    return '%s/recovery' % svm_dir(svm)


def pid_path(svm):
    return '%s/ganesha-%s.pid' % (files.RUN_DIR, svm)


def bind_record_path(svm):
    """Bind_addr the running instance was started with."""
    return '%s/ganesha-%s.bind' % (files.RUN_DIR, svm)


def log_path(svm):
    return '%s/ganesha-%s.log' % (files.LOG_DIR, svm)


def bus_name(svm):
    return '%s.org.ganesha.nfsd' % svm


# ---------------------------------------------------------- validation

def _invalid(what, value, reason):
    raise exception.InvalidInput(what=what, value=value, reason=reason)


def export_id(value):
    return validate.integer(value, 'export id', MIN_EXPORT_ID,
                            MAX_EXPORT_ID)


def addresses(value):
    """One or more bind addresses, returned as a tuple in canonical form."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        _invalid('bind addresses', value, 'must list at least one address')
    result = tuple(validate.ip_address(a) for a in value)
    if len(set(result)) != len(result):
        _invalid('bind addresses', value, 'lists an address twice')
    return result


def client_rule(rule):
    if not isinstance(rule, (tuple, list)) or len(rule) not in (2, 3):
        _invalid('client rule', rule,
                 'must be ClientRule(network, access, squash)')
    rule = ClientRule(*rule)
    return ClientRule(validate.ip_network(rule.network),
                      validate.choice(rule.access, 'access level', ACCESS),
                      validate.choice(rule.squash, 'squash', SQUASH))


def export(value):
    """The canonical, validated form of an :class:`Export`.

    A read-only export gets every rule forced to 'ro', so two exports that
    serve the same thing compare equal.
    """
    if not isinstance(value, Export):
        _invalid('export', value, 'must be a ganesha.Export')
    if not isinstance(value.read_only, bool):
        _invalid('read_only', value.read_only, 'must be True or False')
    pseudo = validate.abs_path(value.pseudo, what='pseudo path')
    if pseudo == '/':
        _invalid('pseudo path', pseudo, 'must not be the pseudo root')
    clients = value.clients
    if isinstance(clients, (str, ClientRule)) or not isinstance(
            clients, (list, tuple)):
        _invalid('clients', clients, 'must be a sequence of ClientRule')
    rules = []
    for rule in clients:
        rule = client_rule(rule)
        if value.read_only:
            rule = rule._replace(access='ro')
        if any(r.network == rule.network for r in rules):
            _invalid('client', rule.network, 'is listed twice')
        rules.append(rule)
    return Export(export_id(value.export_id),
                  validate.abs_path(value.path, base=MOUNT_BASE,
                                    what='export path'),
                  pseudo, tuple(rules), value.read_only)


# ----------------------------------------------------------- rendering

def _bind_addr(addrs):
    if len(addrs) == 1:
        return addrs[0]
    if all(ipaddress.ip_address(a).version == 4 for a in addrs):
        return '0.0.0.0'
    return '::'


def _render_config(svm, addrs, ids):
    lines = [HEADER.rstrip('\n'),
             '# SVM %s, addresses: %s' % (svm, ' '.join(addrs)),
             'NFS_CORE_PARAM {',
             '    Protocols = 4;',
             '    Bind_addr = %s;' % _bind_addr(addrs),
             '    Enable_UDP = false;',
             '    Enable_NLM = false;',
             '    Enable_RQUOTA = false;',
             '    Dbus_Name_Prefix = %s;' % svm,
             '}',
             'NFSV4 {',
             '    Minor_Versions = 1, 2;',
             '    RecoveryBackend = fs;',
             '    RecoveryRoot = "%s";' % recovery_dir(svm),
             '}',
             'NFS_KRB5 {',
             '    Active_krb5 = false;',
             '}',
             'EXPORT_DEFAULTS {',
             '    Access_Type = None;',
             '}',
             '# Exports']
    lines += ['%%include "%s"' % export_path(svm, i) for i in ids]
    return '\n'.join(lines) + '\n'


def _render_export(exp):
    lines = [HEADER.rstrip('\n'),
             '# read_only = %s' % ('true' if exp.read_only else 'false'),
             'EXPORT {',
             '    Export_Id = %d;' % exp.export_id,
             '    Path = "%s";' % exp.path,
             '    Pseudo = "%s";' % exp.pseudo,
             '    Protocols = 4;',
             '    Access_Type = None;',
             '    SecType = sys;',
             '    FSAL {',
             '        Name = VFS;',
             '    }']
    for rule in exp.clients:
        lines += ['    CLIENT {',
                  '        Clients = %s;' % rule.network,
                  '        Protocols = 4;',
                  '        Access_Type = %s;' % rule.access.upper(),
                  '        Squash = %s;' % rule.squash,
                  '    }']
    lines.append('}')
    return '\n'.join(lines) + '\n'


def _export_ids(value):
    ids = sorted(set(export_id(i) for i in value))
    return tuple(ids)


def render_config(svm, addrs, export_ids=()):
    """The main config of an SVM's Ganesha (deterministic)."""
    return _render_config(validate.svm_name(svm), addresses(addrs),
                          _export_ids(export_ids))


def render_export(exp):
    """One export file (deterministic)."""
    return _render_export(export(exp))


# ------------------------------------------------------------- parsing

_CFG_HEAD = re.compile(r'^# SVM ([a-z][a-z0-9_]*), addresses: (.+)$')
_INCLUDE = re.compile(r'^%include "(.*)"$')
_EXP = {
    'read_only': re.compile(r'^# read_only = (true|false)$'),
    'export_id': re.compile(r'^    Export_Id = ([0-9]+);$'),
    'path': re.compile(r'^    Path = "([^"]*)";$'),
    'pseudo': re.compile(r'^    Pseudo = "([^"]*)";$'),
    'clients': re.compile(r'^        Clients = ([^;]+);$'),
    'access': re.compile(r'^        Access_Type = (RW|RO);$'),
    'squash': re.compile(r'^        Squash = ([a-z_]+);$'),
}


def parse_config(svm, text):
    """(addresses, export ids) of a main config this module wrote.

    The text must be exactly what :func:`render_config` gives for them;
    anything else raises :class:`exception.ParseError`.
    """
    lines = text.split('\n')
    try:
        head = _CFG_HEAD.match(lines[1])
        if not head or head.group(1) != svm:
            raise ValueError('no SVM header')
        addrs = addresses(head.group(2).split(' '))
        ids = []
        for line in lines[lines.index('# Exports') + 1:]:
            match = _INCLUDE.match(line)
            if match:
                name = match.group(1).rsplit('/', 1)[-1]
                ids.append(int(_EXPORT_FILE.match(name).group(1)))
        ids = _export_ids(ids)
    except (IndexError, ValueError, AttributeError,
            exception.InvalidInput) as err:
        raise exception.ParseError(what=config_path(svm), reason=err)
    if _render_config(svm, addrs, ids) != text:
        raise exception.ParseError(what=config_path(svm),
                                   reason='not a config rendered by Arca')
    return addrs, ids


def parse_export(text, what='export file'):
    """The :class:`Export` an export file this module wrote describes."""
    values = collections.defaultdict(list)
    for line in text.split('\n'):
        for key, regex in _EXP.items():
            match = regex.match(line)
            if match:
                values[key].append(match.group(1))
    try:
        if not (len(values['read_only']) == len(values['export_id']) ==
                len(values['path']) == len(values['pseudo']) == 1):
            raise ValueError('not exactly one export')
        nets = values['clients']
        if not len(nets) == len(values['access']) == len(values['squash']):
            raise ValueError('incomplete CLIENT block')
        rules = tuple(ClientRule(n, a.lower(), s) for n, a, s in zip(
            nets, values['access'], values['squash']))
        exp = export(Export(int(values['export_id'][0]), values['path'][0],
                            values['pseudo'][0], rules,
                            values['read_only'][0] == 'true'))
    except (ValueError, exception.InvalidInput) as err:
        raise exception.ParseError(what=what, reason=err)
    if _render_export(exp) != text:
        raise exception.ParseError(what=what,
                                   reason='not an export rendered by Arca')
    return exp


def parse_log(text):
    """Log lines as dicts (pid int, thread, func, comp, level, text)."""
    lines = []
    for line in text.splitlines():
        match = _LOG_LINE.match(line)
        if match:
            entry = match.groupdict()
            entry['pid'] = int(entry['pid'])
            entry['line'] = line
            lines.append(entry)
    return lines


def parse_display_export(text):
    """(export id, path, [client networks]) from a DisplayExport reply."""
    ident = None
    strings = []
    clients = []
    in_array = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith('uint16 ') and ident is None:
            ident = int(line.split()[1])
        elif line.startswith('array ['):
            in_array = True
        elif line.startswith('string "') and line.endswith('"'):
            (clients if in_array else strings).append(line[8:-1])
    if ident is None or not strings:
        raise exception.ParseError(what='DisplayExport reply',
                                   reason=text.strip()[:200])
    return ident, strings[0], clients


def _same_networks(shown, rules):
    try:
        return ([ipaddress.ip_network(n, strict=False) for n in shown] ==
                [ipaddress.ip_network(r.network) for r in rules])
    except ValueError:
        return False


# --------------------------------------------------------------- driver

class Ganesha(object):
    """Configure, run and change the Ganesha instance of each SVM.

    :param start_timeout, stop_timeout, reload_timeout: seconds to wait
        for the daemon to come up, go away, or confirm a reload.
    :param poll_interval: seconds between checks while waiting.
    """

    def __init__(self, executor, start_timeout=20, stop_timeout=20,
                 reload_timeout=10, poll_interval=0.25):
        self.executor = executor
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.reload_timeout = reload_timeout
        self.poll_interval = poll_interval
        # {svm: pid} of running instances that do not answer on D-Bus.
        self._no_dbus = {}

    # ----------------------------------------------------- pure renders

    render_config = staticmethod(render_config)
    render_export = staticmethod(render_export)

    # ------------------------------------------------------- small steps

    def _attempts(self, timeout):
        return max(1, int(round(timeout / self.poll_interval)))

    def _sleep(self):
        time.sleep(self.poll_interval)

    def _write_checked(self, path, content):
        """Write atomically, then read back and compare byte for byte."""
        files.write_atomic(self.executor, path, content)
        self._verify([(path, content)])

    def _verify(self, written):
        """Read back the (path, content) files just written, in one cat.

        The files come back concatenated and are compared byte for byte
        with what was written, in that order.
        """
        if not written:
            return
        paths = [path for path, _content in written]
        result = self.executor.execute('cat', *paths, check_exit_code=False)
        if result.exit_code != 0 or result.stdout != ''.join(
                content for _path, content in written):
            raise exception.ConfigInvalid(
                path=' '.join(paths),
                reason='read back differs from what was written')

    def _read_config(self, svm):
        text = files.read(self.executor, config_path(svm))
        if text is None:
            raise exception.NotFound(what='Ganesha config of SVM', name=svm)
        return parse_config(svm, text)

    def _write_config(self, svm, addrs, ids, old_text=None):
        text = _render_config(svm, addrs, _export_ids(ids))
        if text == old_text:
            return False
        self._write_checked(config_path(svm), text)
        return True

    def _read_export(self, svm, eid):
        text = files.read(self.executor, export_path(svm, eid))
        return text, self._lenient_export(svm, eid, text)

    @staticmethod
    def _lenient_export(svm, eid, text):
        """The Export of an export file's text; None if absent or foreign."""
        if text is None:
            return None
        try:
            exp = parse_export(text, export_path(svm, eid))
        except exception.ParseError as err:
            LOG.warning('Ignoring unreadable export file: %s', err)
            return None
        if exp.export_id != eid:
            LOG.warning('Export file %s holds export %d',
                        export_path(svm, eid), exp.export_id)
            return None
        return exp

    def _write_export(self, svm, exp):
        self._write_checked(export_path(svm, exp.export_id),
                            self._export_text(svm, exp))

    @staticmethod
    def _export_text(svm, exp):
        text = _render_export(exp)
        if parse_export(text) != exp:
            raise exception.ConfigInvalid(path=export_path(svm,
                                                           exp.export_id),
                                          reason='does not parse back')
        return text

    def _pid_alive(self, svm, pid):
        """True if ``pid`` is this SVM's ganesha.nfsd."""
        result = self.executor.execute('cat', '/proc/%d/cmdline' % pid,
                                       check_exit_code=False)
        if result.exit_code != 0:
            return False
        argv = result.stdout.split('\0')
        return (os.path.basename(argv[0]) == 'ganesha.nfsd' and
                '-f' in argv[:-1] and
                argv[argv.index('-f') + 1] == config_path(svm))

    def _status(self, svm):
        text = files.read(self.executor, pid_path(svm))
        if text is None:
            return {'running': False, 'pid': None, 'stale': False}
        text = text.strip()
        if _PID.fullmatch(text) and self._pid_alive(
                svm, int(text)):
            return {'running': True, 'pid': int(text), 'stale': False}
        return {'running': False, 'pid': None, 'stale': True}

    def _log_size(self, svm):
        result = self.executor.execute('stat', '-c', '%s', log_path(svm),
                                       check_exit_code=False)
        text = result.stdout.strip()
        if result.exit_code == 0 and text.isdigit():
            return int(text)
        return 0

    def _log_since(self, svm, offset):
        result = self.executor.execute('tail', '-c', '+%d' % (offset + 1),
                                       log_path(svm), check_exit_code=False)
        return result.stdout if result.exit_code == 0 else ''

    def _log_tail(self, svm, lines=20):
        result = self.executor.execute('tail', '-n', str(lines),
                                       log_path(svm), check_exit_code=False)
        return result.stdout.strip() if result.exit_code == 0 else ''

    def _kill(self, signal, pid):
        return self.executor.execute('kill', signal, str(pid),
                                     check_exit_code=False)

    def _dbus(self, svm, method, *args):
        return self.executor.execute(
            'dbus-send', '--system', '--print-reply',
            '--dest=%s' % bus_name(svm), DBUS_PATH,
            '%s.%s' % (DBUS_IFACE, method), *args, check_exit_code=False)

    def _dbus_display(self, svm, eid):
        """What the running instance serves as ``eid``, over D-Bus.

        :returns: (path, client networks) if served, False if D-Bus answers
            that it is not served, None if D-Bus cannot be used (no system
            bus, name not owned, policy denial): the caller falls back to
            SIGHUP.
        """
        try:
            result = self._dbus(svm, 'DisplayExport', 'uint16:%d' % eid)
        except exception.CommandTimeout:
            return None
        if result.exit_code == 0:
            _ident, path, clients = parse_display_export(result.stdout)
            return path, clients
        if _NOT_FOUND in result.stderr:
            return False
        LOG.debug('D-Bus of SVM %s unusable, using SIGHUP: %s', svm,
                  result.stderr.strip())
        return None

    # ------------------------------------------------------ life cycle

    def status(self, svm):
        """The SVM's Ganesha: dict(running=bool, pid=int|None, stale=bool).

        ``stale`` when a pid file names a process that is gone or is not
        this SVM's Ganesha.
        """
        return self._status(validate.svm_name(svm))

    def configure(self, svm, addrs):
        """Write the SVM's main config and make its directories.

        Keeps the export files already present. Returns True if the main
        config changed; a running instance only sees a new address after
        a restart (SIGHUP does not re-read NFS_CORE_PARAM), which
        :meth:`ensure` does.
        """
        validate.svm_name(svm)
        addrs = addresses(addrs)
        with locks.svm(svm):
            return self._configure(svm, addrs)

    def _makedirs(self, svm):
        for path in (svm_dir(svm), exports_dir(svm), recovery_dir(svm)):
            files.makedirs(self.executor, path)
        self._make_base_dirs()

    def _make_base_dirs(self):
        # /run/arca vanishes at every reboot.
        for path in (files.RUN_DIR, files.LOG_DIR):
            files.makedirs(self.executor, path)

    def _configure(self, svm, addrs):
        self._makedirs(svm)
        old = files.read(self.executor, config_path(svm))
        ids = self._list_ids(svm)
        return self._write_config(svm, addrs, ids, old)

    def _started_bind(self, svm):
        text = files.read(self.executor, bind_record_path(svm))
        return text.strip() if text else None

    def start(self, svm):
        """Start the SVM's Ganesha in its namespace; no-op if it runs.

        :returns: the pid.
        """
        validate.svm_name(svm)
        with locks.svm(svm):
            return self._start(svm)

    def _start(self, svm):
        state = self._status(svm)
        if state['running']:
            return state['pid']
        self._read_config(svm)
        self._make_base_dirs()
        if state['stale']:
            files.remove(self.executor, pid_path(svm))
        offset = self._log_size(svm)
        cmd = ('nsenter', '--net=%s/%s' % (NETNS_DIR, svm), GANESHA_BIN,
               '-f', config_path(svm), '-L', log_path(svm),
               '-p', pid_path(svm), '-N', LOG_LEVEL)
        try:
            self.executor.execute(*cmd)
        except exception.CommandFailed as err:
            if 'No such file' in (err.stderr or '') and NETNS_DIR in (
                    err.stderr or ''):
                raise exception.NotFound(what='Network namespace', name=svm)
            raise
        pid = None
        log = []
        for attempt in range(self._attempts(self.start_timeout)):
            if attempt:
                self._sleep()
            if pid is None:
                text = files.read(self.executor, pid_path(svm))
                if text and text.strip().isdigit():
                    pid = int(text.strip())
            log = [e for e in parse_log(self._log_since(svm, offset))
                   if pid is None or e['pid'] == pid]
            if any(e['level'] == 'FATAL' for e in log):
                break
            if pid is None:
                continue
            if not self._pid_alive(svm, pid):
                break
            if any(_STARTED in e['text'] for e in log):
                files.write_atomic(self.executor, bind_record_path(svm),
                                   _bind_addr(self._read_config(svm)[0]) +
                                   '\n')
                LOG.info('Ganesha of SVM %s started, pid %d', svm, pid)
                return pid
        tail = '\n'.join(e['line'] for e in log[-20:])
        raise GaneshaError(svm=svm, reason='did not start; log: %s' %
                           (tail or self._log_tail(svm)))

    def stop(self, svm):
        """Stop the SVM's Ganesha (SIGTERM, then SIGKILL).

        No-op if it is not running. Removes the pid file.
        """
        validate.svm_name(svm)
        with locks.svm(svm):
            self._stop(svm)

    def _stop(self, svm):
        state = self._status(svm)
        pid = state['pid']
        if state['running']:
            self._kill('-TERM', pid)
            if not self._wait_gone(svm, pid, self.stop_timeout):
                LOG.warning('Ganesha of SVM %s (pid %d) ignored SIGTERM; '
                            'killing it', svm, pid)
                self._kill('-KILL', pid)
                if not self._wait_gone(svm, pid, 5):
                    raise GaneshaError(svm=svm, reason='pid %d survived '
                                       'SIGKILL' % pid)
        files.remove(self.executor, pid_path(svm))
        files.remove(self.executor, bind_record_path(svm))

    def _wait_gone(self, svm, pid, timeout):
        for attempt in range(self._attempts(timeout)):
            if attempt:
                self._sleep()
            if not self._pid_alive(svm, pid):
                return True
        return False

    # --------------------------------------------------------- exports

    def _list_ids(self, svm):
        ids = []
        for name in files.list_dir(self.executor, exports_dir(svm)):
            match = _EXPORT_FILE.match(name)
            if match and int(match.group(1)) <= MAX_EXPORT_ID:
                ids.append(int(match.group(1)))
        return tuple(sorted(ids))

    def export_ids(self, svm):
        """Ids of the export files of the SVM, sorted."""
        return list(self._list_ids(validate.svm_name(svm)))

    def get_export(self, svm, eid):
        """The :class:`Export` recorded in the SVM's export file, or None.

        :raises ParseError: the file is not one this module wrote.
        """
        validate.svm_name(svm)
        eid = export_id(eid)
        text = files.read(self.executor, export_path(svm, eid))
        if text is None:
            return None
        exp = parse_export(text, export_path(svm, eid))
        if exp.export_id != eid:
            raise exception.ParseError(what=export_path(svm, eid),
                                       reason='holds export %d' %
                                       exp.export_id)
        return exp

    def _read_state(self, svm):
        """The SVM's config, export files and pid file, in one command.

        grep prints every line (``-e ^`` matches all) of the config, of
        each file under the exports directory and of the pid file, after
        its file's name and a NUL (``-Z``); ``-a`` passes any byte. A
        missing file is reported and skipped; an empty one prints nothing,
        so it counts as absent (it holds no export). Every file this
        module writes ends with a newline, which grep gives back.
        """
        paths = (config_path(svm), exports_dir(svm), pid_path(svm))
        cmd = ('grep', '-r', '-H', '-Z', '-a', '-e', '^') + paths
        result = self.executor.execute(*cmd, check_exit_code=False)
        errors = [line for line in result.stderr.splitlines()
                  if line.strip()]
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
            match = _EXPORT_FILE.match(name)
            if (head == exports_dir(svm) and match and
                    int(match.group(1)) <= MAX_EXPORT_ID):
                exports[int(match.group(1))] = text
        pid = (texts.get(pid_path(svm)) or '').strip()
        return _State(texts.get(config_path(svm)), exports,
                      int(pid) if _PID.fullmatch(pid) else None)

    def _config(self, svm, state):
        if state.config is None:
            raise exception.NotFound(what='Ganesha config of SVM', name=svm)
        return parse_config(svm, state.config)

    @staticmethod
    def _find(svm, state, path):
        """The export of ``path`` in ``state``; foreign files raise."""
        for eid in sorted(state.exports):
            exp = parse_export(state.exports[eid], export_path(svm, eid))
            if exp.export_id != eid:
                raise exception.ParseError(what=export_path(svm, eid),
                                           reason='holds export %d' %
                                           exp.export_id)
            if exp.path == path:
                return exp
        return None

    def find_export(self, svm, path):
        """The SVM's export of ``path`` (a mountpoint), or None.

        :raises ParseError: an export file is not one this module wrote.
        """
        validate.svm_name(svm)
        path = validate.abs_path(path, base=MOUNT_BASE, what='export path')
        return self._find(svm, self._read_state(svm), path)

    def serve(self, svm, path, pseudo, clients, read_only=False,
              create=True):
        """Serve ``path`` to exactly ``clients``: one look, one change.

        The export of ``path`` gets the clients (and ``read_only``, unless
        None: kept as it is); if there is none, a new export with the
        lowest free id and pseudo path ``pseudo`` is made, unless
        ``create`` is False.

        :param clients: :class:`ClientRule` (or (network, access)) list, or
            a function given the current export's rules (None if there is
            no export yet) that returns it, called under the SVM's lock so
            that concurrent changes of one export never lose each other's.
        :returns: the :class:`Export` served, or None if there was none
            and ``create`` is False.
        """
        validate.svm_name(svm)
        export(Export(MIN_EXPORT_ID, path, pseudo,
                      () if callable(clients) else tuple(clients),
                      False if read_only is None else read_only))
        with locks.svm(svm):
            state = self._read_state(svm)
            current = self._find(svm, state, path)
            if current is None and not create:
                return None
            rules = clients(current.clients if current else None) if (
                callable(clients)) else clients
            if current is None:
                exp = Export(self._free_id(svm, state), path, pseudo,
                             tuple(rules), bool(read_only))
            elif read_only is None:
                exp = current._replace(clients=tuple(rules))
            else:
                exp = current._replace(clients=tuple(rules),
                                       read_only=read_only)
            exp = export(exp)
            self._ensure_export(svm, exp, state)
            return exp

    def _free_id(self, svm, state):
        used = set(state.exports) | set(self._config(svm, state)[1])
        for candidate in range(MIN_EXPORT_ID, MAX_EXPORT_ID + 1):
            if candidate not in used:
                return candidate
        raise exception.CapacityExceeded(where='SVM %s' % svm,
                                         reason='no free export id')

    def withdraw(self, svm, path):
        """Stop serving ``path`` and delete its export file (idempotent).

        :returns: True if something changed.
        """
        validate.svm_name(svm)
        path = validate.abs_path(path, base=MOUNT_BASE, what='export path')
        with locks.svm(svm):
            state = self._read_state(svm)
            current = self._find(svm, state, path)
            if current is None:
                return False
            return self._remove_locked(svm, current.export_id, state)

    def add_export(self, svm, exp):
        """Make the SVM serve ``exp`` exactly (same as update_export).

        :returns: True if something changed, False if it was already so.
        """
        return self.update_export(svm, exp)

    def update_export(self, svm, exp):
        """Make the SVM serve ``exp`` exactly; see :meth:`add_export`."""
        validate.svm_name(svm)
        exp = export(exp)
        with locks.svm(svm):
            return self._ensure_export(svm, exp, self._read_state(svm))

    def _ensure_export(self, svm, exp, state):
        eid = exp.export_id
        addrs, ids = self._config(svm, state)
        old_text = state.exports.get(eid)
        old = self._lenient_export(svm, eid, old_text)
        included = eid in ids
        if old == exp and included:
            live = self._live(svm, state.pid, eid)
            if live is None or (live and live[0] == exp.path and
                                _same_networks(live[1], exp.clients)):
                return False
        if (old_text is not None and included and
                (old is None or old.path != exp.path) and
                self._running(svm, state.pid)):
            # A path cannot change in place: take the export down first.
            self._remove_locked(svm, eid, state)
            ids = tuple(i for i in ids if i != eid)
            old_text = old = None
            state = state._replace(
                config=_render_config(svm, addrs, ids),
                exports={i: t for i, t in state.exports.items()
                         if i != eid})
            included = False
        applying = False
        try:
            self._write_files(svm, state, exp, addrs,
                              ids if included else ids + (eid,))
            applying = True
            self._apply(svm, state.pid, exp)
        except exception.ArcaError:
            with excutils.save_and_reraise_exception():
                self._rollback(svm, addrs, ids, eid,
                               old_text if included else None, old,
                               reload=applying)
        return True

    def _write_files(self, svm, state, exp, addrs, ids):
        """Write what differs of the export file and config, check both.

        The export file first: the config includes only files that exist.
        One read-back checks both before Ganesha is told.
        """
        written = []
        eid = exp.export_id
        text = self._export_text(svm, exp)
        if text != state.exports.get(eid):
            files.write_atomic(self.executor, export_path(svm, eid), text)
            written.append((export_path(svm, eid), text))
        text = _render_config(svm, addrs, _export_ids(ids))
        if text != state.config:
            files.write_atomic(self.executor, config_path(svm), text)
            written.append((config_path(svm), text))
        self._verify(written)

    def _rollback(self, svm, addrs, ids, eid, old_text, old, reload=True):
        """Put the files back as they were; reload (best effort).

        So that a rejected export does not make every later reload fail.
        Without ``reload`` (Ganesha was not told yet) the files suffice.
        """
        try:
            if old is not None and eid in ids:
                self._write_checked(export_path(svm, eid), old_text)
                self._write_config(svm, addrs, ids)
            else:
                self._write_config(svm, addrs,
                                   tuple(i for i in ids if i != eid))
                files.remove(self.executor, export_path(svm, eid))
            if reload:
                state = self._status(svm)
                if state['running']:
                    self._reload(svm, state['pid'])
        except exception.ArcaError as err:
            LOG.error('Could not roll back export %d of SVM %s: %s',
                      eid, svm, err)

    def _running(self, svm, pid):
        return pid is not None and self._pid_alive(svm, pid)

    def _live(self, svm, pid, eid):
        """:meth:`_dbus_display` of a running instance; None if unknown.

        None without asking when no pid file names a running instance, or
        when this instance (by pid) is known not to answer on D-Bus: its
        bus name is taken once at start, so that does not change.
        """
        if pid is None or self._no_dbus.get(svm) == pid:
            return None
        return self._dbus_display(svm, eid)

    def _reload_running(self, svm, pid):
        """SIGHUP the instance ``pid`` if it runs; it has no D-Bus."""
        if not self._running(svm, pid):
            return
        self._no_dbus[svm] = pid
        self._reload(svm, pid)

    def _apply(self, svm, pid, exp):
        """Tell a running instance: D-Bus if it answers, else SIGHUP."""
        eid = exp.export_id
        live = self._live(svm, pid, eid)
        if live is None:
            self._reload_running(svm, pid)
            return
        if live and live[0] != exp.path:
            self._dbus_remove(svm, eid)
            live = False
        method = 'UpdateExport' if live else 'AddExport'
        result = self._dbus(svm, method,
                            'string:%s' % export_path(svm, eid),
                            'string:EXPORT(Export_Id=%d)' % eid)
        if result.exit_code != 0 or 'Errors found' in result.stdout:
            raise exception.ConfigInvalid(
                path=export_path(svm, eid), reason='%s failed: %s' % (
                    method, (result.stderr or result.stdout).strip()))
        live = self._dbus_display(svm, eid)
        if not (live and live[0] == exp.path and
                _same_networks(live[1], exp.clients)):
            raise GaneshaError(svm=svm, reason='%s of export %d not '
                               'confirmed by DisplayExport: %r' %
                               (method, eid, live))

    def _dbus_remove(self, svm, eid):
        result = self._dbus(svm, 'RemoveExport', 'uint16:%d' % eid)
        if result.exit_code != 0 and _NOT_FOUND not in result.stderr:
            raise GaneshaError(svm=svm, reason='RemoveExport %d failed: %s'
                               % (eid, result.stderr.strip()))
        if self._dbus_display(svm, eid) is not False:
            raise GaneshaError(svm=svm, reason='export %d still served '
                               'after RemoveExport' % eid)

    def remove_export(self, svm, eid):
        """Stop serving export ``eid`` and delete its file (idempotent).

        :returns: True if something changed.
        """
        validate.svm_name(svm)
        eid = export_id(eid)
        with locks.svm(svm):
            return self._remove_locked(svm, eid, self._read_state(svm))

    def _remove_locked(self, svm, eid, state):
        addrs, ids = self._config(svm, state)
        changed = False
        if eid in ids:
            self._write_config(svm, addrs, tuple(i for i in ids
                                                 if i != eid))
            changed = True
        live = self._live(svm, state.pid, eid)
        if live:
            self._dbus_remove(svm, eid)
            changed = True
        elif live is None and changed:
            self._reload_running(svm, state.pid)
        if eid in state.exports:
            files.remove(self.executor, export_path(svm, eid))
            changed = True
        return changed

    def _reload(self, svm, pid):
        """SIGHUP, then confirm from the log that the reload was clean."""
        offset = self._log_size(svm)
        self._kill('-HUP', pid)
        done = False
        for attempt in range(self._attempts(self.reload_timeout) + 1):
            if attempt:
                self._sleep()
            lines = [e for e in parse_log(self._log_since(svm, offset))
                     if e['pid'] == pid]
            marks = [i for i, e in enumerate(lines)
                     if _SIGHUP_MARK in e['text']]
            if not marks:
                continue
            lines = [e for e in lines[marks[0]:]
                     if e['thread'] == 'sigmgr']
            errors = [e['line'] for e in lines
                      if e['func'] == 'config_errs_to_log' or
                      e['level'] in _BAD_LEVELS or
                      _RELOAD_ABORTED in e['text']]
            if errors:
                raise exception.ConfigInvalid(
                    path=config_path(svm),
                    reason='reload reported: %s' % ' | '.join(errors)[-800:])
            if done:
                # Errors are logged just after the completion line: one
                # more look before calling it clean.
                LOG.debug('Ganesha of SVM %s reloaded', svm)
                return
            done = any(_RELOAD_DONE in e['text'] for e in lines)
        raise GaneshaError(svm=svm, reason='reload not confirmed in its log '
                           'within %ss' % self.reload_timeout)

    # ---------------------------------------------------------- ensure

    def ensure(self, svm, addrs, exports):
        """Converge the SVM's Ganesha on exactly ``exports``, running.

        For use after a crash or reboot: rewrites what differs, removes
        export files not listed, starts the daemon if it is down, restarts
        it if its addresses changed, otherwise reloads it if anything
        changed (a changed path first takes the export down).

        :returns: dict(started=bool, reloaded=bool, changed=bool).
        """
        validate.svm_name(svm)
        addrs = addresses(addrs)
        if isinstance(exports, (str, Export)) or not isinstance(
                exports, (list, tuple)):
            _invalid('exports', exports, 'must be a sequence of Export')
        wanted = {}
        pseudos = set()
        for exp in exports:
            exp = export(exp)
            if exp.export_id in wanted:
                _invalid('export id', exp.export_id, 'is listed twice')
            if exp.pseudo in pseudos:
                _invalid('pseudo path', exp.pseudo, 'is listed twice')
            pseudos.add(exp.pseudo)
            wanted[exp.export_id] = exp
        with locks.svm(svm):
            return self._ensure(svm, addrs, wanted)

    def _ensure(self, svm, addrs, wanted):
        result = {'started': False, 'reloaded': False, 'changed': False}
        self._makedirs(svm)
        old_text = files.read(self.executor, config_path(svm))
        old_ids = ()
        if old_text is not None:
            try:
                old_ids = parse_config(svm, old_text)[1]
            except exception.ParseError as err:
                LOG.warning('Rewriting foreign Ganesha config: %s', err)
        present = self._list_ids(svm)
        current = {eid: self._read_export(svm, eid)[1] for eid in present}
        state = self._status(svm)
        running = state['running']
        restart = running and self._started_bind(svm) not in (
            None, _bind_addr(addrs))
        gone = [i for i in present if i not in wanted]
        moved = [i for i in present if i in wanted and
                 (current[i] is None or current[i].path != wanted[i].path)]
        if running and not restart and (gone or moved):
            # Take these down first: a path cannot change in place.
            keep = tuple(i for i in old_ids if i in present and
                         i not in gone and i not in moved)
            if self._write_config(svm, addrs, keep, old_text):
                self._reload(svm, state['pid'])
                result['reloaded'] = True
            old_text = _render_config(svm, addrs, keep)
        # Reload again only for what the first reload did not apply.
        changed = bool(gone or moved) and not result['reloaded']
        for eid in sorted(wanted):
            if current.get(eid) != wanted[eid]:
                self._write_export(svm, wanted[eid])
                changed = True
        if self._write_config(svm, addrs, tuple(sorted(wanted)), old_text):
            changed = True
        for eid in gone:
            files.remove(self.executor, export_path(svm, eid))
        result['changed'] = changed or result['reloaded']
        if not running:
            self._start(svm)
            result['started'] = True
        elif restart:
            self._stop(svm)
            self._start(svm)
            result['started'] = True
        elif changed:
            self._reload(svm, state['pid'])
            result['reloaded'] = True
        return result
