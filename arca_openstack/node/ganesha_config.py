"""The text of an SVM's NFS-Ganesha, with no executor: nothing here runs.

Paths on the node, the validated values of exports, the main config and
export files rendered from them (and parsed back, accepting only what
this module renders), and the daemon's output: its log lines and the
replies of D-Bus ``DisplayExport``. :mod:`arca_openstack.node.ganesha_files`
reads and writes these files through the executor and
:mod:`arca_openstack.node.ganesha` runs the daemon.
"""

import collections
import ipaddress
import re

from arca_openstack import exception
from arca_openstack.node import files
from arca_openstack.node import validate

SVM_BASE = files.STATE_DIR + '/svm'
MOUNT_BASE = files.STATE_DIR + '/mnt'
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
_INDEX_LINE = re.compile(r'^([1-9][0-9]{0,4}) (-|/\S+)$')
_PID = re.compile(r'[1-9][0-9]{0,9}')
# "DATE : epoch E : HOST : PROG-PID[THREAD] FUNC :COMPONENT :LEVEL :TEXT"
_LOG_LINE = re.compile(r'^.* : epoch \S+ : \S+ : \S+-(?P<pid>[0-9]+)'
                       r'\[(?P<thread>[^\]]+)\] (?P<func>\S+) '
                       r':(?P<comp>[^:]+?) ?:(?P<level>[A-Z_]+) :'
                       r'(?P<text>.*)$')
# Logged once the daemon serves.
STARTED = 'NFS SERVER INITIALIZED'
_SIGHUP_MARK = 'Received SIGHUP'
_RELOAD_DONE = 'Reread exports complete'
_RELOAD_ABORTED = 'Error while parsing new configuration file'
_BAD_LEVELS = ('CRIT', 'MAJ', 'FATAL')
# Ganesha keeps a file's attributes for 60 s by default, but the node
# changes files under it (a volume image grown by extend, a revert), and a
# client must see the new size at its next open. Configs written before
# this line was added parse too; the next write adds it.
ATTR_EXPIRATION = '    Attr_Expiration_Time = 0;'


# --------------------------------------------------------------- paths

def svm_dir(svm):
    return '%s/%s' % (SVM_BASE, svm)


def config_path(svm):
    return '%s/ganesha.conf' % svm_dir(svm)


def exports_dir(svm):
    return '%s/exports' % svm_dir(svm)


def export_path(svm, export_id):
    return '%s/%d.conf' % (exports_dir(svm), export_id)


def index_path(svm):
    """Which path each export file serves: see :func:`format_index`."""
    return '%s/exports.index' % svm_dir(svm)


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


def sorted_export_ids(value):
    """Export ids, validated, as a sorted tuple without duplicates."""
    ids = sorted(set(export_id(i) for i in value))
    return tuple(ids)


def exports(value):
    """The exports of one SVM, validated, as {export id: Export}.

    No export id and no pseudo path may be listed twice.
    """
    if isinstance(value, (str, Export)) or not isinstance(
            value, (list, tuple)):
        _invalid('exports', value, 'must be a sequence of Export')
    wanted = {}
    pseudos = set()
    for exp in value:
        exp = export(exp)
        if exp.export_id in wanted:
            _invalid('export id', exp.export_id, 'is listed twice')
        if exp.pseudo in pseudos:
            _invalid('pseudo path', exp.pseudo, 'is listed twice')
        pseudos.add(exp.pseudo)
        wanted[exp.export_id] = exp
    return wanted


# ----------------------------------------------------------- rendering

def bind_addr(addrs):
    """The one Bind_addr for the SVM's (validated) addresses."""
    if len(addrs) == 1:
        return addrs[0]
    if all(ipaddress.ip_address(a).version == 4 for a in addrs):
        return '0.0.0.0'
    return '::'


def format_config(svm, addrs, ids):
    """:func:`render_config` of values already validated (no checks).

    ``ids`` must be sorted, each once (see :func:`sorted_export_ids`).
    """
    lines = [HEADER.rstrip('\n'),
             '# SVM %s, addresses: %s' % (svm, ' '.join(addrs)),
             'NFS_CORE_PARAM {',
             '    Protocols = 4;',
             '    Bind_addr = %s;' % bind_addr(addrs),
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
             ATTR_EXPIRATION,
             '}',
             '# Exports']
    lines += ['%%include "%s"' % export_path(svm, i) for i in ids]
    return '\n'.join(lines) + '\n'


def format_export(exp):
    """:func:`render_export` of an Export already validated (no checks)."""
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


def format_index(paths):
    """The index of an SVM's export files: ``ID PATH`` lines, by id.

    :param paths: {export id: the path its file serves, or None for a
        file that is not an export this module rendered ('-')}; already
        validated. The index lets a change of one export read one file,
        not every file of the SVM.
    """
    lines = [HEADER.rstrip('\n')]
    lines += ['%d %s' % (eid, paths[eid] or '-') for eid in sorted(paths)]
    return '\n'.join(lines) + '\n'


def render_config(svm, addrs, export_ids=()):
    """The main config of an SVM's Ganesha (deterministic)."""
    return format_config(validate.svm_name(svm), addresses(addrs),
                         sorted_export_ids(export_ids))


def render_export(exp):
    """One export file (deterministic)."""
    return format_export(export(exp))


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
        ids = sorted_export_ids(ids)
    except (IndexError, ValueError, AttributeError,
            exception.InvalidInput) as err:
        raise exception.ParseError(what=config_path(svm), reason=err)
    rendered = format_config(svm, addrs, ids)
    if text not in (rendered, rendered.replace(ATTR_EXPIRATION + '\n', '')):
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
    if format_export(exp) != text:
        raise exception.ParseError(what=what,
                                   reason='not an export rendered by Arca')
    return exp


def parse_index(text, what='export index'):
    """{export id: path or None} of an index :func:`format_index` wrote."""
    paths = {}
    try:
        for line in text.split('\n')[1:-1]:
            match = _INDEX_LINE.match(line)
            if not match:
                raise ValueError('line %r' % line[:100])
            path = match.group(2)
            paths[export_id(int(match.group(1)))] = None if path == '-' else (
                validate.abs_path(path, base=MOUNT_BASE, what='export path'))
    except (ValueError, exception.InvalidInput) as err:
        raise exception.ParseError(what=what, reason=err)
    if format_index(paths) != text:
        raise exception.ParseError(what=what,
                                   reason='not an index rendered by Arca')
    return paths


def export_file_id(name):
    """The export id of an export file's name (``ID.conf``), or None."""
    match = _EXPORT_FILE.match(name)
    if match and int(match.group(1)) <= MAX_EXPORT_ID:
        return int(match.group(1))
    return None


def parse_pid(text):
    """The pid a pid file's text names, or None if it names none."""
    text = text.strip()
    return int(text) if _PID.fullmatch(text) else None


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


def parse_reload(text, pid):
    """How far the SIGHUP reload of instance ``pid`` got, from its log.

    :returns: None while ``Received SIGHUP`` is not logged, else (error
        lines, done): the lines of the ``sigmgr`` thread from that mark on
        that report a CONFIG error, a bad level or an aborted reload, and
        whether the completion line is among them. Errors are logged just
        after the completion line, so a reload is clean only if a later
        look still finds none.
    """
    lines = [e for e in parse_log(text) if e['pid'] == pid]
    marks = [i for i, e in enumerate(lines) if _SIGHUP_MARK in e['text']]
    if not marks:
        return None
    lines = [e for e in lines[marks[0]:] if e['thread'] == 'sigmgr']
    errors = [e['line'] for e in lines
              if e['func'] == 'config_errs_to_log' or
              e['level'] in _BAD_LEVELS or
              _RELOAD_ABORTED in e['text']]
    return errors, any(_RELOAD_DONE in e['text'] for e in lines)


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


def same_networks(shown, rules):
    """True if DisplayExport's client networks are those of ``rules``."""
    try:
        return ([ipaddress.ip_network(n, strict=False) for n in shown] ==
                [ipaddress.ip_network(r.network) for r in rules])
    except ValueError:
        return False
