"""Unit tests of the per-SVM NFS-Ganesha module.

Log lines and D-Bus replies below were captured from nfs-ganesha 4.3 on
Debian 12 (a real ganesha.nfsd in a test namespace, a private system bus).
"""

import os
from unittest import mock

import ddt

from arca_openstack import exception
from arca_openstack.node import ganesha
from arca_openstack.node import ganesha_config
from arca_openstack.node import ganesha_files
from tests.unit import base
from tests.unit import fake_executor
from tests.unit import fake_node
from tests.unit import rootwrap_check

SVM = 'svm_a'
PID = 4242
CONF = '/var/lib/arca/svm/svm_a/ganesha.conf'
EXPORTS = '/var/lib/arca/svm/svm_a/exports'
INDEX = '/var/lib/arca/svm/svm_a/exports.index'
PIDFILE = '/run/arca/ganesha-svm_a.pid'
BINDREC = '/run/arca/ganesha-svm_a.bind'
LOGFILE = '/var/log/arca/ganesha-svm_a.log'
MNT = '/var/lib/arca/mnt/'
CMDLINE = '\0'.join(['/usr/bin/ganesha.nfsd', '-f', CONF, '-L', LOGFILE,
                     '-p', PIDFILE, '-N', 'NIV_EVENT', ''])
DEST = '--dest=svm_a.org.ganesha.nfsd'
DBUS = ('dbus-send', '--system', '--print-reply', DEST,
        '/org/ganesha/nfsd/ExportMgr')
IFACE = 'org.ganesha.nfsd.exportmgr.'
# Pids the patched KillFilter takes for ganesha.nfsd.
FAKE_GANESHA_PIDS = (PID, 4243)

_P = '22/11/2026 18:10:44 : epoch 6b033023 : vm : ganesha.nfsd-4242'
LOG_START = '\n'.join([
    '22/11/2026 18:10:08 : epoch 6b033000 : vm : ganesha.nfsd-4241[main] '
    'main :MAIN :EVENT :ganesha.nfsd Starting: Ganesha Version 4.3',
    _P + '[main] nfs_set_param_from_conf :NFS STARTUP :EVENT :'
    'Configuration file successfully parsed',
    _P + '[main] nfs_start :NFS STARTUP :EVENT :'
    '             NFS SERVER INITIALIZED', ''])
LOG_FATAL = '\n'.join([
    _P + '[main] Bind_sockets_V6 :DISP :WARN :Cannot bind NFS tcp6 socket, '
    'error 99 (Cannot assign requested address)',
    _P + '[main] Bind_sockets :DISP :FATAL :Error binding to V6 interface. '
    'Cannot continue.', ''])
LOG_HUP = _P + ('[sigmgr] sigmgr_thread :MAIN :EVENT :SIGHUP_HANDLER: '
                'Received SIGHUP.... initiating export list reload\n')
LOG_DONE = _P + '[sigmgr] reread_exports :CONFIG :EVENT :Reread exports ' \
    'complete\n'
LOG_DUP = LOG_HUP + '\n'.join([
    _P + '[sigmgr] export_commit_common :CONFIG :CRIT :Pseudo path '
    '(/vol1) is a duplicate',
    _P + '[sigmgr] export_commit_common :CONFIG :CRIT :Duplicate export '
    'id = 2', LOG_DONE.rstrip('\n'),
    _P + '[sigmgr] config_errs_to_log :CONFIG :CRIT :Config File '
    '(/var/lib/arca/svm/svm_a/exports/2.conf:3): 1 validation errors in '
    'block EXPORT', ''])
LOG_SYNTAX = LOG_HUP + '\n'.join([
    _P + '[sigmgr] ganesha_yyerror :CONFIG :CRIT :Config file '
    '(/var/lib/arca/svm/svm_a/ganesha.conf:23) error: syntax error', '',
    LOG_DONE.rstrip('\n'), ''])
LOG_MISSING_INCLUDE = LOG_HUP + _P + (
    '[sigmgr] reread_config :CONFIG :CRIT :Error while parsing new '
    'configuration file /var/lib/arca/svm/svm_a/ganesha.conf\n')

NOT_FOUND = ('Error org.freedesktop.DBus.Error.InvalidArgs: lookup_export '
             'failed with Export id not found\n')
NO_BUS = ('Failed to open connection to "system" message bus: Failed to '
          'connect to socket /run/dbus/system_bus_socket: No such file or '
          'directory\n')
NO_NAME = ('Error org.freedesktop.DBus.Error.ServiceUnknown: The name '
           'svm_a.org.ganesha.nfsd was not provided by any .service files\n')
ADDED = ('method return time=1795371008.367748 sender=:1.32 -> '
         'destination=:1.34 serial=5 reply_serial=2\n'
         '   string "1 exports added"\n')
ADDED_WITH_ERRORS = ('method return time=1795370777.242379 sender=:1.0 -> '
                     'destination=:1.25 serial=85 reply_serial=2\n'
                     '   string "1 exports added. Errors found:\n'
                     'Config File (/tmp/bad5.conf:3): Syntax error in '
                     'statement\n"\n')
UPDATED = ('method return time=1795370772.193068 sender=:1.0 -> '
           'destination=:1.15 serial=70 reply_serial=2\n'
           '   string "1 exports updated"\n')
REMOVED = ('method return time=1795371010.660781 sender=:1.46 -> '
           'destination=:1.48 serial=5 reply_serial=2\n')
DUP_PSEUDO_DBUS = (
    'Error org.freedesktop.DBus.Error.InvalidFileContent: 0 export entries '
    'in /var/lib/arca/svm/svm_a/exports/3.conf added because (invalid '
    'param value) errors. Details:\nConfig File (/var/lib/arca/svm/svm_a/'
    'exports/3.conf:3): 1 validation errors in block EXPORT\n')


def _client(network, access_code):
    return ('      struct {\n'
            '         string "%s"\n'
            '         int32 0\n'
            '         byte %d\n'
            '         byte 255\n'
            '         int32 1\n'
            '         uint32 4294967294\n'
            '         uint32 4294967294\n'
            '         uint32 0\n'
            '         uint32 52441568\n'
            '         uint32 7340519\n'
            '      }\n' % (network, access_code))


def display(eid, path, *networks):
    """A DisplayExport reply as ganesha 4.3 gives it."""
    return ('method return time=1795371008.525642 sender=:1.32 -> '
            'destination=:1.39 serial=10 reply_serial=2\n'
            '   uint16 %d\n   string "%s"\n   string "%s"\n   string ""\n'
            '   array [\n%s   ]\n' % (eid, path, path, ''.join(
                _client(n, 0) for n in networks)))


def exp1(**kw):
    values = dict(export_id=1, path=MNT + 'vol1', pseudo='/vol1',
                  clients=(ganesha_config.ClientRule('10.0.0.0/24', 'rw'),
                           ganesha_config.ClientRule('fd00::5', 'ro',
                                                     'root_squash')))
    values.update(kw)
    return ganesha_config.Export(**values)


EXPORT1_TEXT = """# Managed by arca-openstack: do not edit.
# read_only = false
EXPORT {
    Export_Id = 1;
    Path = "/var/lib/arca/mnt/vol1";
    Pseudo = "/vol1";
    Protocols = 4;
    Access_Type = None;
    SecType = sys;
    FSAL {
        Name = VFS;
    }
    CLIENT {
        Clients = 10.0.0.0/24;
        Protocols = 4;
        Access_Type = RW;
        Squash = no_root_squash;
    }
    CLIENT {
        Clients = fd00::5;
        Protocols = 4;
        Access_Type = RO;
        Squash = root_squash;
    }
}
"""

CONFIG_TEXT = """# Managed by arca-openstack: do not edit.
# SVM svm_a, addresses: 10.0.0.5
NFS_CORE_PARAM {
    Protocols = 4;
    Bind_addr = 10.0.0.5;
    Enable_UDP = false;
    Enable_NLM = false;
    Enable_RQUOTA = false;
    Dbus_Name_Prefix = svm_a;
}
NFSV4 {
    Minor_Versions = 1, 2;
    RecoveryBackend = fs;
    RecoveryRoot = "/var/lib/arca/svm/svm_a/recovery";
}
NFS_KRB5 {
    Active_krb5 = false;
}
EXPORT_DEFAULTS {
    Access_Type = None;
    Attr_Expiration_Time = 0;
}
# Exports
%include "/var/lib/arca/svm/svm_a/exports/1.conf"
%include "/var/lib/arca/svm/svm_a/exports/7.conf"
"""


class Named(str):
    """A str with a short ddt test name."""

    def __new__(cls, name, value):
        obj = super().__new__(cls, value)
        obj.__name__ = name
        return obj


class GaneshaTestCase(base.TestCase):

    def setUp(self):
        fake_node.patch_kill_filter(self, FAKE_GANESHA_PIDS)
        super().setUp()
        self.executor = fake_node.FakeFiles()
        self.g = ganesha.Ganesha(self.executor, start_timeout=1,
                                 stop_timeout=1, reload_timeout=1,
                                 poll_interval=0.25)
        sleeper = mock.patch.object(ganesha.Ganesha, '_sleep')
        self.sleep = sleeper.start()
        self.addCleanup(sleeper.stop)

    # helpers
    def configured(self, ids=(), addrs=('10.0.0.5',)):
        self.executor.fs[CONF] = ganesha_config.render_config(SVM, addrs, ids)

    def with_export(self, exp):
        self.executor.fs['%s/%d.conf' % (EXPORTS, exp.export_id)] = (
            ganesha_config.render_export(exp))

    def running(self, pid=PID):
        self.executor.fs[PIDFILE] = '%d\n' % pid
        self.executor.on('cat', '/proc/%d/cmdline' % pid, stdout=CMDLINE)

    def no_dbus(self, stderr=NO_BUS):
        self.executor.on('dbus-send', stderr=stderr, exit_code=1)

    def hup_log(self, text):
        self.executor.on('stat', '-c', '%s', LOGFILE, stdout='1000\n')
        self.executor.on('tail', '-c', '+1001', LOGFILE, stdout=text)

    def write_cmds(self, path):
        return [('tee', path + '.tmp'), ('mv', '-f', path + '.tmp', path),
                ('cat', path)]

    def state_cmd(self):
        return ('grep', '-r', '-H', '-Z', '-a', '-e', '^', CONF, EXPORTS,
                PIDFILE)

    def path_state_cmds(self, *read, indexed=False):
        """Commands reading the state for one path.

        Through the index if it holds the ids present (then the export
        files ``read``), else every file.
        """
        cmds = [('grep', '-r', '-H', '-Z', '-a', '-e', '^', CONF, INDEX,
                 PIDFILE)]
        if not indexed:
            return cmds + [self.state_cmd()]
        cmds.append(('ls', '-1A', EXPORTS))
        return cmds + [('cat', '%s/%d.conf' % (EXPORTS, eid))
                       for eid in read]

    def index_cmds(self):
        return [('tee', INDEX + '.tmp'), ('mv', '-f', INDEX + '.tmp', INDEX)]

    def indexed(self, *exps):
        self.executor.fs[INDEX] = ganesha_config.format_index(
            {e.export_id: e.path for e in exps})

    def add_cmds(self, eid=1):
        """Write export file and config including it, check both, index."""
        path = '%s/%d.conf' % (EXPORTS, eid)
        return [('tee', path + '.tmp'), ('mv', '-f', path + '.tmp', path),
                ('tee', CONF + '.tmp'), ('mv', '-f', CONF + '.tmp', CONF),
                ('cat', path, CONF)] + self.index_cmds()

    def running_cmds(self):
        return [('cat', PIDFILE), ('cat', '/proc/%d/cmdline' % PID)]

    def add_cmd(self, eid):
        return DBUS + (IFACE + 'AddExport',
                       'string:%s/%d.conf' % (EXPORTS, eid),
                       'string:EXPORT(Export_Id=%d)' % eid)

    def display_cmd(self, eid):
        return DBUS + (IFACE + 'DisplayExport', 'uint16:%d' % eid)

    def hup_cmds(self, polls=2):
        return ([('stat', '-c', '%s', LOGFILE), ('kill', '-HUP', str(PID))]
                + [('tail', '-c', '+1001', LOGFILE)] * polls)


@ddt.ddt
class RenderTestCase(GaneshaTestCase):

    def test_render_config(self):
        self.assertEqual(CONFIG_TEXT,
                         self.g.render_config(SVM, ['10.0.0.5'], [7, 1, 7]))
        self.assertEqual([], self.executor.commands)

    @ddt.data((['10.0.0.5'], '10.0.0.5'),
              (['fd00::5'], 'fd00::5'),
              (['FD00:0::5'], 'fd00::5'),
              ('10.0.0.5', '10.0.0.5'),
              (['10.0.0.5', 'fd00::5'], '::'),
              (['fd00::5', 'fd00::6'], '::'),
              (['10.0.0.5', '10.0.0.6'], '0.0.0.0'))
    @ddt.unpack
    def test_bind_addr(self, addrs, bind):
        text = ganesha_config.render_config(SVM, addrs)
        self.assertIn('    Bind_addr = %s;\n' % bind, text)
        self.assertTrue(text.endswith('# Exports\n'))
        self.assertEqual((tuple(ganesha_config.addresses(addrs)), ()),
                         ganesha_config.parse_config(SVM, text))

    def test_render_export(self):
        self.assertEqual(EXPORT1_TEXT, self.g.render_export(exp1()))
        self.assertEqual(exp1(), ganesha_config.parse_export(EXPORT1_TEXT))

    def test_render_export_read_only_forces_ro(self):
        text = ganesha_config.render_export(exp1(read_only=True))
        self.assertNotIn('RW', text)
        self.assertEqual(2, text.count('Access_Type = RO;'))
        self.assertIn('# read_only = true\n', text)
        parsed = ganesha_config.parse_export(text)
        self.assertTrue(parsed.read_only)
        self.assertEqual(['ro', 'ro'], [c.access for c in parsed.clients])

    def test_render_export_no_clients(self):
        text = ganesha_config.render_export(exp1(clients=()))
        self.assertNotIn('CLIENT', text)
        self.assertIn('    Access_Type = None;\n', text)
        self.assertEqual(exp1(clients=()), ganesha_config.parse_export(text))

    def test_client_rules_normalised(self):
        exp = ganesha_config.export(exp1(clients=[('10.0.0.7/32', 'rw')]))
        self.assertEqual((ganesha_config.ClientRule('10.0.0.7', 'rw'),),
                         exp.clients)

    @ddt.data('', 'EXPORT { Export_Id = 1; }',
              EXPORT1_TEXT.replace('Protocols = 4;', 'Protocols = 3;'),
              EXPORT1_TEXT.replace('"/vol1"', '/vol1'),
              EXPORT1_TEXT + '# extra\n',
              EXPORT1_TEXT.replace('Clients = fd00::5', 'Clients = x'),
              EXPORT1_TEXT.replace('Export_Id = 1', 'Export_Id = 0'))
    def test_parse_export_rejects_foreign(self, text):
        self.assertRaises(exception.ParseError, ganesha_config.parse_export,
                          text)

    @ddt.data('', CONFIG_TEXT.replace('svm_a', 'svm_b'),
              CONFIG_TEXT.replace('Enable_NLM = false;', 'Enable_NLM = '
                                  'false'),
              CONFIG_TEXT + '%include "/etc/passwd"\n')
    def test_parse_config_rejects_foreign(self, text):
        self.assertRaises(exception.ParseError, ganesha_config.parse_config,
                          SVM, text)

    def test_parse_config_of_an_earlier_release(self):
        # Before Attr_Expiration_Time = 0 was written.
        legacy = CONFIG_TEXT.replace('    Attr_Expiration_Time = 0;\n', '')
        self.assertNotEqual(CONFIG_TEXT, legacy)
        self.assertEqual(ganesha_config.parse_config(SVM, CONFIG_TEXT),
                         ganesha_config.parse_config(SVM, legacy))

    @ddt.data('Attr_Expiration_Time = 60;', 'Attr_Expiration_Time = -1;')
    def test_parse_config_rejects_other_attr_expiration(self, line):
        self.assertRaises(
            exception.ParseError, ganesha_config.parse_config, SVM,
            CONFIG_TEXT.replace('Attr_Expiration_Time = 0;', line))

    def test_parse_log(self):
        lines = ganesha_config.parse_log(LOG_DUP)
        self.assertEqual(5, len(lines))
        self.assertEqual({'pid': 4242, 'thread': 'sigmgr',
                          'func': 'export_commit_common', 'comp': 'CONFIG',
                          'level': 'CRIT',
                          'text': 'Pseudo path (/vol1) is a duplicate'},
                         {k: v for k, v in lines[1].items() if k != 'line'})
        self.assertEqual('NFS STARTUP',
                         ganesha_config.parse_log(LOG_START)[1]['comp'])

    def test_parse_display_export(self):
        self.assertEqual(
            (3, MNT + 'vol1', ['10.0.0.8/32', 'fd00::/64']),
            ganesha_config.parse_display_export(
                display(3, MNT + 'vol1', '10.0.0.8/32', 'fd00::/64')))
        self.assertRaises(exception.ParseError,
                          ganesha_config.parse_display_export, ADDED)


BAD_SVMS = ('', 'Svm', '1svm', 'svm-a', 'svm.a', 'svm a', '../x', 'a' * 41,
            None, 3, 'svm\n')
BAD_EXPORTS = (
    None, (1, MNT + 'v', '/v'), 'export',
    exp1(export_id=0), exp1(export_id=65536), exp1(export_id=-1),
    exp1(export_id=True), exp1(export_id='1x'), exp1(export_id=1.0),
    exp1(path='/etc'), exp1(path=MNT + '../etc'), exp1(path='vol1'),
    exp1(path=MNT.rstrip('/')), exp1(path=MNT + 'v/'),
    exp1(path=MNT + 'v;x'), exp1(path=MNT + 'v"x'), exp1(path=MNT + 'v x'),
    exp1(pseudo='/'), exp1(pseudo='vol1'), exp1(pseudo='/a/../b'),
    exp1(pseudo='/v"; Path = "/'), exp1(pseudo='/v}'),
    exp1(clients=[('10.0.0.1/24', 'rw')]),
    exp1(clients=[('*', 'rw')]), exp1(clients=[('host.example', 'rw')]),
    exp1(clients=[('10.0.0.1; Access_Type = RW', 'rw')]),
    exp1(clients=[('224.0.0.1', 'rw')]),
    exp1(clients=[('10.0.0.1', 'rx')]), exp1(clients=[('10.0.0.1', 'RW')]),
    exp1(clients=[('10.0.0.1', 'rw', 'squash_all')]),
    exp1(clients=[('10.0.0.1', 'rw'), ('10.0.0.1/32', 'ro')]),
    exp1(clients=ganesha_config.ClientRule('10.0.0.1', 'rw')),
    exp1(clients='10.0.0.1'), exp1(clients=[('10.0.0.1',)]),
    exp1(read_only='yes'), exp1(read_only=None))
BAD_ADDRESSES = ([], (), None, '10.0.0.0/24', ['10.0.0.5/24'], ['x'],
                 ['0.0.0.0'], ['::'], ['224.0.0.1'], ['10.0.0.5', '10.0.0.5'],
                 ['fe80::1%eth0'], [5])


@ddt.ddt
class ValidationTestCase(GaneshaTestCase):
    """Bad input raises before any command is issued."""

    def _calls(self, svm=SVM, exp=None, eid=1, addrs=('10.0.0.5',)):
        exp = exp if exp is not None else exp1()
        return [lambda: self.g.status(svm),
                lambda: self.g.configure(svm, addrs),
                lambda: self.g.start(svm),
                lambda: self.g.stop(svm),
                lambda: self.g.export_ids(svm),
                lambda: self.g.get_export(svm, eid),
                lambda: self.g.add_export(svm, exp),
                lambda: self.g.update_export(svm, exp),
                lambda: self.g.remove_export(svm, eid),
                lambda: self.g.ensure(svm, addrs, [exp])]

    @ddt.data(*BAD_SVMS)
    def test_bad_svm(self, svm):
        for call in self._calls(svm=svm):
            self.assertRaises(exception.InvalidInput, call)
        self.assertEqual([], self.executor.commands)

    @ddt.data(*BAD_EXPORTS)
    def test_bad_export(self, exp):
        for call in (lambda: self.g.add_export(SVM, exp),
                     lambda: self.g.update_export(SVM, exp),
                     lambda: self.g.ensure(SVM, ['10.0.0.5'], [exp]),
                     lambda: ganesha_config.render_export(exp)):
            self.assertRaises(exception.InvalidInput, call)
        self.assertEqual([], self.executor.commands)

    @ddt.data(0, 65536, -1, None, '1x', True, '', '01x', 1.5)
    def test_bad_export_id(self, eid):
        for call in (lambda: self.g.get_export(SVM, eid),
                     lambda: self.g.remove_export(SVM, eid),
                     lambda: ganesha_config.render_config(
                         SVM, ['10.0.0.5'], [eid])):
            self.assertRaises(exception.InvalidInput, call)
        self.assertEqual([], self.executor.commands)

    @ddt.data(*BAD_ADDRESSES)
    def test_bad_addresses(self, addrs):
        for call in (lambda: self.g.configure(SVM, addrs),
                     lambda: self.g.ensure(SVM, addrs, []),
                     lambda: ganesha_config.render_config(SVM, addrs)):
            self.assertRaises(exception.InvalidInput, call)
        self.assertEqual([], self.executor.commands)

    @ddt.data([exp1(), exp1()],
              [exp1(), exp1(export_id=2)],
              [exp1(), None], exp1(), 'x', None)
    def test_bad_ensure_lists(self, exports):
        self.assertRaises(exception.InvalidInput, self.g.ensure, SVM,
                          ['10.0.0.5'], exports)
        self.assertEqual([], self.executor.commands)


@ddt.ddt
class LifeCycleTestCase(GaneshaTestCase):

    def test_status_not_running(self):
        self.assertEqual({'running': False, 'pid': None, 'stale': False},
                         self.g.status(SVM))
        self.assertCommands(('cat', PIDFILE))

    def test_status_running(self):
        self.running()
        self.assertEqual({'running': True, 'pid': PID, 'stale': False},
                         self.g.status(SVM))
        self.assertCommands(*self.running_cmds())

    @ddt.data(
        # process gone
        dict(stdout='', stderr='cat: /proc/4242/cmdline: No such file or '
             'directory', exit_code=1),
        # zombie: empty cmdline
        dict(stdout=''),
        # pid reused by another program
        dict(stdout='/usr/sbin/sshd\0-D\0'),
        # pid reused by another SVM's ganesha
        dict(stdout=CMDLINE.replace('svm_a/', 'svm_b/')))
    def test_status_stale(self, answer):
        self.executor.fs[PIDFILE] = '4242\n'
        self.executor.on('cat', '/proc/4242/cmdline', **answer)
        self.assertEqual({'running': False, 'pid': None, 'stale': True},
                         self.g.status(SVM))

    def test_status_garbage_pid_file(self):
        self.executor.fs[PIDFILE] = 'x\n'
        self.assertEqual({'running': False, 'pid': None, 'stale': True},
                         self.g.status(SVM))
        self.assertCommands(('cat', PIDFILE))

    def test_configure(self):
        self.executor.fs[EXPORTS + '/7.conf'] = 'x'
        self.executor.fs[EXPORTS + '/7.conf.tmp'] = 'x'
        self.executor.fs[EXPORTS + '/notes'] = 'x'
        self.assertTrue(self.g.configure(SVM, ['10.0.0.5']))
        self.assertCommands(
            ('mkdir', '-p', '/var/lib/arca/svm/svm_a'),
            ('mkdir', '-p', EXPORTS),
            ('mkdir', '-p', '/var/lib/arca/svm/svm_a/recovery'),
            ('mkdir', '-p', '/run/arca'), ('mkdir', '-p', '/var/log/arca'),
            ('cat', CONF), ('ls', '-1A', EXPORTS),
            *self.write_cmds(CONF))
        self.assertEqual(ganesha_config.render_config(SVM, ['10.0.0.5'], [7]),
                         self.executor.fs[CONF])
        self.executor.reset()
        self.assertFalse(self.g.configure(SVM, ['10.0.0.5']))
        self.assertNotIn(('tee', CONF + '.tmp'), self.executor.commands)

    def test_configure_readback_mismatch(self):
        self.executor.corrupt.add(CONF)
        self.assertRaises(exception.ConfigInvalid, self.g.configure, SVM,
                          ['10.0.0.5'])

    def test_start_already_running(self):
        self.running()
        self.assertEqual(PID, self.g.start(SVM))
        self.assertCommands(*self.running_cmds())

    def _start_cmds(self):
        return [('nsenter', '--net=/run/netns/svm_a',
                 '/usr/bin/ganesha.nfsd', '-f', CONF, '-L', LOGFILE, '-p',
                 PIDFILE, '-N', 'NIV_EVENT')]

    def test_start(self):
        self.configured()
        self.executor.on('stat', '-c', '%s', LOGFILE, stdout='500\n')
        self.executor.on('tail', '-c', '+501', LOGFILE, stdout=LOG_START)
        self.executor.on('cat', '/proc/4242/cmdline', stdout=CMDLINE)

        def daemonize(*args, **kwargs):
            self.executor.fs[PIDFILE] = '4242\n'
            return fake_executor.executor.Result(0, '', '')

        real_run = self.executor._run
        self.executor._run = lambda cmd, i, t: (
            real_run(cmd, i, t) and daemonize()
            if cmd[0] == 'nsenter' else real_run(cmd, i, t))
        self.assertEqual(PID, self.g.start(SVM))
        self.assertCommands(
            ('cat', PIDFILE), ('cat', CONF),
            ('mkdir', '-p', '/run/arca'), ('mkdir', '-p', '/var/log/arca'),
            ('stat', '-c', '%s', LOGFILE),
            *self._start_cmds(),
            ('cat', PIDFILE), ('tail', '-c', '+501', LOGFILE),
            ('cat', '/proc/4242/cmdline'),
            ('cat', CONF), ('tee', BINDREC + '.tmp'),
            ('mv', '-f', BINDREC + '.tmp', BINDREC))
        self.assertEqual('10.0.0.5\n', self.executor.fs[BINDREC])
        self.assertEqual([], self.sleep.call_args_list)

    def test_start_removes_stale_pid_file_and_reports_fatal(self):
        self.configured()
        self.executor.fs[PIDFILE] = '4243\n'
        self.executor.on('cat', '/proc/4243/cmdline', exit_code=1)
        self.executor.on('tail', '-c', '+1', LOGFILE, stdout=LOG_FATAL)
        err = self.assertRaises(ganesha.GaneshaError, self.g.start, SVM)
        self.assertIn('Error binding to V6 interface', str(err))
        self.assertEqual([('cat', PIDFILE), ('cat', '/proc/4243/cmdline'),
                          ('cat', CONF), ('mkdir', '-p', '/run/arca'),
                          ('mkdir', '-p', '/var/log/arca'),
                          ('rm', '-f', PIDFILE),
                          ('stat', '-c', '%s', LOGFILE)] +
                         self._start_cmds() +
                         [('cat', PIDFILE), ('tail', '-c', '+1', LOGFILE)],
                         self.executor.commands)

    def test_start_times_out(self):
        self.configured()
        err = self.assertRaises(ganesha.GaneshaError, self.g.start, SVM)
        self.assertIn('did not start', str(err))
        # the status check, then 8 looks in start_timeout (1 s): pauses
        # from 10 ms doubling up to poll_interval (0.25 s)
        self.assertEqual(9, self.executor.commands.count(('cat', PIDFILE)))
        self.assertEqual([mock.call(p) for p in (
            0.01, 0.02, 0.04, 0.08, 0.16, 0.25, 0.25)],
            self.sleep.call_args_list)
        self.assertEqual(('tail', '-n', '20', LOGFILE),
                         self.executor.commands[-1])

    def test_start_without_namespace(self):
        self.configured()
        self.executor.on('nsenter', exit_code=1,
                         stderr='nsenter: cannot open /run/netns/svm_a: No '
                         'such file or directory\n')
        self.assertRaises(exception.NotFound, self.g.start, SVM)

    def test_start_without_config(self):
        self.assertRaises(exception.NotFound, self.g.start, SVM)
        self.assertCommands(('cat', PIDFILE), ('cat', CONF))

    def test_stop_not_running(self):
        self.g.stop(SVM)
        self.assertCommands(('cat', PIDFILE), ('rm', '-f', PIDFILE),
                            ('rm', '-f', BINDREC))

    def test_stop(self):
        self.running()
        self.executor.on('cat', '/proc/4242/cmdline', exit_code=1, times=1)
        self.executor.on('cat', '/proc/4242/cmdline', stdout=CMDLINE,
                         times=2)
        self.g.stop(SVM)
        self.assertCommands(*self.running_cmds(),
                            ('kill', '-TERM', '4242'),
                            ('cat', '/proc/4242/cmdline'),
                            ('cat', '/proc/4242/cmdline'),
                            ('rm', '-f', PIDFILE), ('rm', '-f', BINDREC))
        self.assertEqual(1, self.sleep.call_count)

    def test_stop_falls_back_to_sigkill(self):
        self.running()
        self.executor.on('cat', '/proc/4242/cmdline', exit_code=1, times=1)
        self.executor.on('cat', '/proc/4242/cmdline', stdout=CMDLINE,
                         times=9)
        self.g.stop(SVM)
        self.assertEqual([('kill', '-TERM', '4242'),
                          ('kill', '-KILL', '4242')],
                         [c for c in self.executor.commands
                          if c[0] == 'kill'])
        self.assertEqual(('rm', '-f', BINDREC), self.executor.commands[-1])

    def test_stop_survives_sigkill(self):
        self.running()
        self.assertRaises(ganesha.GaneshaError, self.g.stop, SVM)
        self.assertIn(PIDFILE, self.executor.fs)


@ddt.ddt
class ExportTestCase(GaneshaTestCase):

    def test_export_ids(self):
        for name in ('1.conf', '12.conf', '7.conf.tmp', '0.conf', 'x.conf',
                     '65536.conf', '01.conf'):
            self.executor.fs['%s/%s' % (EXPORTS, name)] = ''
        self.assertEqual([1, 12], self.g.export_ids(SVM))
        self.assertCommands(('ls', '-1A', EXPORTS))

    def test_get_export(self):
        self.with_export(exp1())
        self.assertEqual(exp1(), self.g.get_export(SVM, 1))
        self.assertIsNone(self.g.get_export(SVM, 2))

    def test_get_export_foreign(self):
        self.executor.fs[EXPORTS + '/1.conf'] = EXPORT1_TEXT.replace(
            'Squash = root_squash', 'Squash = none')
        self.assertRaises(exception.ParseError, self.g.get_export, SVM, 1)
        self.executor.fs[EXPORTS + '/2.conf'] = EXPORT1_TEXT
        self.assertRaises(exception.ParseError, self.g.get_export, SVM, 2)

    def test_add_without_config(self):
        self.assertRaises(exception.NotFound, self.g.add_export, SVM, exp1())
        self.assertCommands(self.state_cmd())

    def test_add_not_running(self):
        self.configured()
        self.assertTrue(self.g.add_export(SVM, exp1()))
        # Not running (no pid file): the files are all it takes.
        self.assertCommands(self.state_cmd(), *self.add_cmds())
        self.assertEqual(EXPORT1_TEXT, self.executor.fs[EXPORTS + '/1.conf'])
        self.assertEqual(ganesha_config.render_config(SVM, ['10.0.0.5'], [1]),
                         self.executor.fs[CONF])

    def test_add_identical_not_running_is_noop(self):
        self.configured([1])
        self.with_export(exp1())
        self.assertFalse(self.g.add_export(SVM, exp1()))
        self.assertCommands(self.state_cmd())

    def test_add_identical_running_is_noop(self):
        self.configured([1])
        self.with_export(exp1())
        self.running()
        self.executor.on(*self.display_cmd(1), stdout=display(
            1, MNT + 'vol1', '10.0.0.0/24', 'fd00::5/128'))
        self.assertFalse(self.g.add_export(SVM, exp1()))
        self.assertCommands(self.state_cmd(), self.display_cmd(1))

    def test_add_identical_but_not_served_is_applied(self):
        self.configured([1])
        self.with_export(exp1())
        self.running()
        self.executor.on(*self.display_cmd(1), stdout=display(
            1, MNT + 'vol1', '10.0.0.0/24', 'fd00::5/128'))
        self.executor.on(*self.display_cmd(1), stderr=NOT_FOUND,
                         exit_code=1, times=2)
        self.executor.on(*DBUS, IFACE + 'AddExport', stdout=ADDED)
        self.assertTrue(self.g.add_export(SVM, exp1()))
        # Nothing to write; the running instance gets it.
        self.assertEqual(['grep', 'dbus-send', 'dbus-send', 'dbus-send',
                          'dbus-send'],
                         [c[0] for c in self.executor.commands])

    def test_add_identical_without_dbus_trusts_files(self):
        self.configured([1])
        self.with_export(exp1())
        self.running()
        self.no_dbus(NO_NAME)
        self.assertFalse(self.g.add_export(SVM, exp1()))
        self.assertNotIn('kill', [c[0] for c in self.executor.commands])

    def test_add_dbus(self):
        self.configured()
        self.running()
        self.executor.on(*self.display_cmd(1), stdout=display(
            1, MNT + 'vol1', '10.0.0.0/24', 'fd00::5/128'))
        self.executor.on(*DBUS, IFACE + 'AddExport', stdout=ADDED)
        self.assertTrue(self.g.add_export(SVM, exp1()))
        # A new export (no file, not included) is served by nothing: it
        # is added without a look first. D-Bus answering tells that it
        # runs: no pid check.
        self.assertCommands(
            self.state_cmd(), *self.add_cmds(), self.add_cmd(1),
            self.display_cmd(1))

    def test_add_new_refused_is_made_as_any_change(self):
        # Served although no file says so (changed by hand): the add is
        # refused, and the export is looked at and updated instead.
        self.configured()
        self.running()
        self.executor.on(*DBUS, IFACE + 'AddExport', exit_code=1,
                         stderr='Error org.freedesktop.DBus.Error.'
                         'InvalidArgs: export id 1 exists\n', times=1)
        self.executor.on(*self.display_cmd(1), stdout=display(
            1, MNT + 'vol1', '10.0.0.0/24', 'fd00::5/128'))
        self.executor.on(*self.display_cmd(1), stdout=display(
            1, MNT + 'vol1', '10.0.0.9/32'), times=1)
        self.executor.on(*DBUS, IFACE + 'UpdateExport', stdout=UPDATED)
        self.assertTrue(self.g.add_export(SVM, exp1()))
        self.assertEqual(
            ['AddExport', 'DisplayExport', 'UpdateExport', 'DisplayExport'],
            [c[5].rsplit('.', 1)[1] for c in self.executor.commands
             if c[0] == 'dbus-send'])

    def test_update_dbus_clients(self):
        self.configured([1])
        self.with_export(exp1())
        self.running()
        new = exp1(clients=(ganesha_config.ClientRule('10.0.0.9', 'rw'),))
        self.executor.on(*self.display_cmd(1), stdout=display(
            1, MNT + 'vol1', '10.0.0.9/32'))
        self.executor.on(*self.display_cmd(1), stdout=display(
            1, MNT + 'vol1', '10.0.0.0/24', 'fd00::5/128'), times=1)
        self.executor.on(*DBUS, IFACE + 'UpdateExport', stdout=UPDATED)
        self.assertTrue(self.g.update_export(SVM, new))
        path = EXPORTS + '/1.conf'
        # The config is unchanged: only the export file is written (and
        # the index, unknown: the state was read without it).
        self.assertCommands(
            self.state_cmd(), *self.write_cmds(path), *self.index_cmds(),
            self.display_cmd(1),
            DBUS + (IFACE + 'UpdateExport',
                    'string:/var/lib/arca/svm/svm_a/exports/1.conf',
                    'string:EXPORT(Export_Id=1)'),
            self.display_cmd(1))
        self.assertEqual(new, self.g.get_export(SVM, 1))

    def test_update_dbus_path_change_is_remove_then_add(self):
        self.configured([1])
        self.with_export(exp1())
        self.running()
        new = exp1(path=MNT + 'vol2')
        self.executor.on(*self.display_cmd(1), stdout=display(
            1, MNT + 'vol2', '10.0.0.0/24', 'fd00::5/128'))
        self.executor.on(*self.display_cmd(1), stderr=NOT_FOUND,
                         exit_code=1, times=1)
        self.executor.on(*self.display_cmd(1), stdout=display(
            1, MNT + 'vol1', '10.0.0.0/24', 'fd00::5/128'), times=1)
        self.executor.on(*DBUS, IFACE + 'RemoveExport', stdout=REMOVED)
        self.executor.on(*DBUS, IFACE + 'AddExport', stdout=ADDED)
        self.assertTrue(self.g.update_export(SVM, new))
        # Once removed (and that confirmed), it is added without a look.
        self.assertEqual(
            ['DisplayExport', 'RemoveExport', 'DisplayExport',
             'AddExport', 'DisplayExport'],
            [c[5].rsplit('.', 1)[1] for c in self.executor.commands
             if c[0] == 'dbus-send'])
        self.assertEqual(new, self.g.get_export(SVM, 1))
        self.assertEqual(ganesha_config.render_config(SVM, ['10.0.0.5'], [1]),
                         self.executor.fs[CONF])

    def test_add_dbus_reply_with_errors(self):
        self.configured()
        self.running()
        self.executor.on(*self.display_cmd(1), stderr=NOT_FOUND,
                         exit_code=1)
        self.executor.on(*DBUS, IFACE + 'AddExport',
                         stdout=ADDED_WITH_ERRORS)
        self.hup_log(LOG_HUP + LOG_DONE)
        self.assertRaises(exception.ConfigInvalid, self.g.add_export, SVM,
                          exp1())
        # rolled back: not included, no file
        self.assertEqual(ganesha_config.render_config(SVM, ['10.0.0.5']),
                         self.executor.fs[CONF])
        self.assertNotIn(EXPORTS + '/1.conf', self.executor.fs)

    def test_add_dbus_rejected(self):
        self.configured()
        self.running()
        self.executor.on(*self.display_cmd(1), stderr=NOT_FOUND,
                         exit_code=1)
        self.executor.on(*DBUS, IFACE + 'AddExport', stderr=DUP_PSEUDO_DBUS,
                         exit_code=1)
        self.hup_log(LOG_HUP + LOG_DONE)
        err = self.assertRaises(exception.ConfigInvalid, self.g.add_export,
                                SVM, exp1())
        self.assertIn('invalid param value', str(err))
        self.assertNotIn(EXPORTS + '/1.conf', self.executor.fs)

    def test_add_dbus_not_confirmed(self):
        self.configured()
        self.running()
        self.executor.on(*self.display_cmd(1), stdout=display(
            1, MNT + 'vol1', '10.0.0.0/24'))
        self.executor.on(*self.display_cmd(1), stderr=NOT_FOUND,
                         exit_code=1, times=1)
        self.executor.on(*DBUS, IFACE + 'AddExport', stdout=ADDED)
        self.hup_log(LOG_HUP + LOG_DONE)
        err = self.assertRaises(ganesha.GaneshaError, self.g.add_export,
                                SVM, exp1())
        self.assertIn('not confirmed', str(err))

    @ddt.data(Named('no_bus', NO_BUS), Named('no_name', NO_NAME),
              Named('denied', 'Error org.freedesktop.DBus.Error.'
                    'AccessDenied: Rejected send message\n'))
    def test_add_sighup_when_dbus_unusable(self, stderr):
        self.configured()
        self.running()
        self.no_dbus(stderr)
        self.hup_log(LOG_HUP + LOG_DONE)
        self.assertTrue(self.g.add_export(SVM, exp1()))
        # A new export is added at once; that failing, D-Bus is asked
        # what it serves, which tells it unusable: SIGHUP.
        self.assertCommands(
            self.state_cmd(), *self.add_cmds(), self.add_cmd(1),
            self.display_cmd(1), ('cat', '/proc/%d/cmdline' % PID),
            *self.hup_cmds())
        self.assertEqual(1, self.sleep.call_count)

    def test_no_dbus_remembered_per_pid(self):
        self.configured()
        self.running()
        self.no_dbus(NO_NAME)
        self.hup_log(LOG_HUP + LOG_DONE)
        self.g.add_export(SVM, exp1())
        self.executor.reset()
        self.g.add_export(SVM, exp1(export_id=2, pseudo='/vol2',
                                    path=MNT + 'vol2'))
        # Its bus name is taken at start: no D-Bus now, none later.
        self.assertCommands(
            self.state_cmd(), *self.add_cmds(2),
            ('cat', '/proc/%d/cmdline' % PID), *self.hup_cmds())
        # A new instance (pid) is asked again.
        self.executor.reset()
        self.running(4243)
        self.executor.on('kill', '-HUP', '4243')
        self.executor.on('tail', '-c', '+1001', LOGFILE, stdout=(
            LOG_HUP + LOG_DONE).replace('nfsd-4242', 'nfsd-4243'))
        self.g.remove_export(SVM, 2)
        self.assertIn(self.display_cmd(2), self.executor.commands)

    def test_in_sync_without_dbus_asks_nothing_more(self):
        self.configured()
        self.running()
        self.no_dbus(NO_NAME)
        self.hup_log(LOG_HUP + LOG_DONE)
        self.g.add_export(SVM, exp1())
        self.executor.reset()
        self.assertFalse(self.g.add_export(SVM, exp1()))
        self.assertCommands(self.state_cmd())

    @ddt.data(Named('dup', LOG_DUP), Named('syntax', LOG_SYNTAX),
              Named('missing_include', LOG_MISSING_INCLUDE))
    def test_add_sighup_errors_roll_back(self, log):
        self.configured([7])
        self.with_export(exp1(export_id=7, pseudo='/vol7'))
        self.running()
        self.no_dbus()
        self.hup_log(log)
        self.assertRaises(exception.ConfigInvalid, self.g.add_export, SVM,
                          exp1())
        self.assertEqual(ganesha_config.render_config(SVM, ['10.0.0.5'], [7]),
                         self.executor.fs[CONF])
        self.assertNotIn(EXPORTS + '/1.conf', self.executor.fs)
        # one SIGHUP for the change, one after the roll-back
        self.assertEqual(2, self.executor.commands.count(
            ('kill', '-HUP', '4242')))

    def test_update_sighup_error_restores_old_file(self):
        self.configured([1])
        self.with_export(exp1())
        self.running()
        self.no_dbus()
        self.hup_log(LOG_DUP)
        self.assertRaises(exception.ConfigInvalid, self.g.update_export,
                          SVM, exp1(pseudo='/other'))
        self.assertEqual(EXPORT1_TEXT, self.executor.fs[EXPORTS + '/1.conf'])

    def test_sighup_ignores_other_pids_and_threads(self):
        self.configured()
        self.running()
        self.no_dbus()
        other = LOG_DUP.replace('nfsd-4242', 'nfsd-999')
        dbus_thread = _P + ('[dbus_heartbeat] dbus_message_entrypoint :DBUS '
                            ':MAJ :Method (DisplayExport) failed\n')
        self.hup_log(other + LOG_HUP + dbus_thread + LOG_DONE)
        self.assertTrue(self.g.add_export(SVM, exp1()))

    def test_sighup_not_confirmed(self):
        self.configured()
        self.running()
        self.no_dbus()
        self.hup_log(LOG_HUP)
        err = self.assertRaises(ganesha.GaneshaError, self.g.add_export,
                                SVM, exp1())
        self.assertIn('reload not confirmed', str(err))
        # 8 looks in 1 s (pauses of 10, 20, 40, 80, 160, 250, 250 ms)
        # for the change, 8 for the reload after the roll-back
        self.assertEqual(16, self.executor.commands.count(
            ('tail', '-c', '+1001', LOGFILE)))
        self.assertNotIn(EXPORTS + '/1.conf', self.executor.fs)

    def test_stale_pid_file_is_not_running(self):
        self.configured()
        self.executor.fs[PIDFILE] = '4242\n'
        self.executor.on('cat', '/proc/4242/cmdline', exit_code=1)
        self.no_dbus(NO_NAME)
        self.assertTrue(self.g.add_export(SVM, exp1()))
        self.assertNotIn('kill', [c[0] for c in self.executor.commands])

    @ddt.data(EXPORTS + '/1.conf', CONF)
    def test_readback_mismatch_before_reload(self, corrupt):
        self.configured()
        self.running()
        self.executor.corrupt.add(corrupt)
        self.assertRaises(exception.ConfigInvalid, self.g.add_export, SVM,
                          exp1())
        self.assertNotIn('kill', [c[0] for c in self.executor.commands])
        self.assertNotIn('dbus-send', [c[0] for c in self.executor.commands])
        # Rolled back (Ganesha was never told, so no reload): the config
        # is rewritten without the export (a config that keeps reading
        # back wrong stops the roll-back there).
        self.assertEqual(ganesha_config.render_config(SVM, ['10.0.0.5']),
                         self.executor.fs[CONF])
        if corrupt != CONF:
            self.assertNotIn(EXPORTS + '/1.conf', self.executor.fs)

    def test_remove_dbus(self):
        self.configured([1, 7])
        self.with_export(exp1())
        self.running()
        self.executor.on(*self.display_cmd(1), stderr=NOT_FOUND,
                         exit_code=1)
        self.executor.on(*self.display_cmd(1), stdout=display(
            1, MNT + 'vol1', '10.0.0.0/24'), times=1)
        self.executor.on(*DBUS, IFACE + 'RemoveExport', stdout=REMOVED)
        self.assertTrue(self.g.remove_export(SVM, 1))
        self.assertCommands(
            self.state_cmd(), *self.write_cmds(CONF), self.display_cmd(1),
            DBUS + (IFACE + 'RemoveExport', 'uint16:1'),
            self.display_cmd(1), ('rm', '-f', EXPORTS + '/1.conf'),
            *self.index_cmds())
        self.assertEqual(ganesha_config.render_config(SVM, ['10.0.0.5'], [7]),
                         self.executor.fs[CONF])

    def test_remove_sighup(self):
        self.configured([1])
        self.with_export(exp1())
        self.running()
        self.no_dbus()
        self.hup_log(LOG_HUP + LOG_DONE)
        self.assertTrue(self.g.remove_export(SVM, 1))
        self.assertCommands(
            self.state_cmd(), *self.write_cmds(CONF), self.display_cmd(1),
            ('cat', '/proc/%d/cmdline' % PID), *self.hup_cmds(),
            ('rm', '-f', EXPORTS + '/1.conf'), *self.index_cmds())

    def test_remove_absent_is_noop(self):
        self.configured()
        self.running()
        self.executor.on(*self.display_cmd(1), stderr=NOT_FOUND,
                         exit_code=1)
        self.assertFalse(self.g.remove_export(SVM, 1))
        self.assertCommands(self.state_cmd(), self.display_cmd(1))

    def test_remove_not_running(self):
        self.configured([1])
        self.with_export(exp1())
        self.assertTrue(self.g.remove_export(SVM, 1))
        self.assertCommands(self.state_cmd(), *self.write_cmds(CONF),
                            ('rm', '-f', EXPORTS + '/1.conf'),
                            *self.index_cmds())

    # -- by path: find, serve, withdraw --

    def test_read_state(self):
        self.configured([1, 7])
        self.with_export(exp1())
        self.executor.fs[EXPORTS + '/7.conf.tmp'] = 'half\n'
        self.executor.fs[EXPORTS + '/notes'] = 'x\n'
        self.executor.fs[EXPORTS + '/0.conf'] = 'x\n'
        self.running()
        state = ganesha_files.read_state(self.executor, SVM)
        self.assertEqual((self.executor.fs[CONF], {1: EXPORT1_TEXT}, PID,
                          None, None), tuple(state))
        self.assertCommands(self.state_cmd())

    @ddt.data('', 'x\n', '0\n', '-1\n')
    def test_read_state_no_pid(self, text):
        if text:
            self.executor.fs[PIDFILE] = text
        state = ganesha_files.read_state(self.executor, SVM)
        self.assertEqual((None, {}, None, None, None), tuple(state))

    def test_read_state_fails(self):
        self.executor.on('grep', exit_code=2,
                         stderr='grep: /var/lib/arca/svm: Input/output '
                         'error\n')
        self.executor._run = fake_executor.FakeExecutor._run.__get__(
            self.executor)
        self.assertRaises(exception.CommandFailed, ganesha_files.read_state,
                          self.executor, SVM)

    def test_find_export(self):
        self.configured([1, 2])
        self.with_export(exp1(export_id=2, path=MNT + 'vol2',
                              pseudo='/vol2'))
        self.with_export(exp1())
        self.assertEqual(exp1(), self.g.find_export(SVM, MNT + 'vol1'))
        self.assertIsNone(self.g.find_export(SVM, MNT + 'vol3'))
        # No index: every file is read.
        self.assertCommands(*self.path_state_cmds() * 2)
        self.executor.reset()
        self.indexed(exp1(), exp1(export_id=2, path=MNT + 'vol2'))
        self.assertEqual(exp1(), self.g.find_export(SVM, MNT + 'vol1'))
        self.assertIsNone(self.g.find_export(SVM, MNT + 'vol3'))
        # With one: the file of the path only, none for a path it lacks.
        self.assertCommands(*self.path_state_cmds(1, indexed=True) +
                            self.path_state_cmds(indexed=True))

    def test_find_export_foreign_file(self):
        self.executor.fs[EXPORTS + '/1.conf'] = EXPORT1_TEXT.replace(
            'Squash = root_squash', 'Squash = none')
        self.assertRaises(exception.ParseError, self.g.find_export, SVM,
                          MNT + 'vol1')
        self.executor.fs[EXPORTS + '/1.conf'] = EXPORT1_TEXT
        self.executor.fs[EXPORTS + '/2.conf'] = EXPORT1_TEXT
        self.assertRaises(exception.ParseError, self.g.find_export, SVM,
                          MNT + 'vol2')

    @ddt.data('/etc', MNT, MNT + '../x', None)
    def test_by_path_bad_path(self, path):
        for call in (lambda: self.g.find_export(SVM, path),
                     lambda: self.g.withdraw(SVM, path),
                     lambda: self.g.serve(SVM, path, '/v', [])):
            self.assertRaises(exception.InvalidInput, call)
        self.assertEqual([], self.executor.commands)

    def test_serve_new_takes_lowest_free_id(self):
        # 2 is taken by a file, 3 by an include (its file lost).
        self.configured([2, 3])
        self.with_export(exp1(export_id=2, path=MNT + 'vol2',
                              pseudo='/vol2'))
        exp = self.g.serve(SVM, MNT + 'vol5', '/vol5',
                           [('10.0.0.7', 'rw')])
        self.assertEqual(ganesha_config.Export(
            1, MNT + 'vol5', '/vol5',
            (ganesha_config.ClientRule('10.0.0.7', 'rw'),), False), exp)
        self.assertCommands(*self.path_state_cmds(), *self.add_cmds(1))
        self.assertEqual(exp, self.g.get_export(SVM, 1))
        self.assertEqual(ganesha_config.format_index(
            {1: MNT + 'vol5', 2: MNT + 'vol2'}), self.executor.fs[INDEX])

    def test_serve_no_free_id(self):
        self.configured([1, 2])
        with mock.patch.object(ganesha_config, 'MAX_EXPORT_ID', 2):
            self.assertRaises(exception.CapacityExceeded, self.g.serve, SVM,
                              MNT + 'vol5', '/vol5', [])
        self.assertCommands(*self.path_state_cmds())

    def test_serve_existing_keeps_id_and_pseudo(self):
        self.configured([4])
        self.with_export(exp1(export_id=4))
        exp = self.g.serve(SVM, MNT + 'vol1', '/ignored', [], read_only=True)
        self.assertEqual((4, '/vol1', (), True),
                         (exp.export_id, exp.pseudo, exp.clients,
                          exp.read_only))
        self.assertCommands(*self.path_state_cmds(),
                            *self.write_cmds(EXPORTS + '/4.conf'),
                            *self.index_cmds())
        # The index now holds the ids present: the next change of the
        # export reads its file only, and writes no index.
        self.executor.reset()
        self.g.serve(SVM, MNT + 'vol1', '/ignored', [], read_only=False)
        self.assertCommands(*self.path_state_cmds(4, indexed=True),
                            *self.write_cmds(EXPORTS + '/4.conf'))

    def test_serve_clients_function(self):
        self.configured([1])
        self.with_export(exp1())
        seen = []

        def add(current):
            seen.append(current)
            return list(current) + [('10.0.0.9', 'rw')]

        exp = self.g.serve(SVM, MNT + 'vol1', '/vol1', add, read_only=None)
        self.assertEqual([exp1().clients], seen)
        self.assertEqual(exp1().clients + (
            ganesha_config.ClientRule('10.0.0.9', 'rw'),), exp.clients)
        # No index yet: every file read once.
        self.assertEqual(2, [c[0] for c in self.executor.commands].count(
            'grep'))

    def test_serve_function_gets_none_when_new(self):
        self.configured()
        exp = self.g.serve(SVM, MNT + 'vol1', '/vol1',
                           lambda current: [] if current is None else None)
        self.assertEqual((), exp.clients)

    def test_serve_function_result_checked(self):
        self.configured([1])
        self.with_export(exp1())
        self.assertRaises(exception.InvalidInput, self.g.serve, SVM,
                          MNT + 'vol1', '/vol1',
                          lambda current: [('x', 'rw')])
        self.assertEqual(EXPORT1_TEXT, self.executor.fs[EXPORTS + '/1.conf'])

    def test_serve_no_create(self):
        self.configured()
        self.assertIsNone(self.g.serve(SVM, MNT + 'vol1', '/vol1', [],
                                       create=False))
        self.assertCommands(*self.path_state_cmds())

    @ddt.data([('10.0.0.1/24', 'rw')], [('10.0.0.1', 'RW')], 'x')
    def test_serve_bad_clients_touch_nothing(self, clients):
        self.assertRaises(exception.InvalidInput, self.g.serve, SVM,
                          MNT + 'vol1', '/vol1', clients)
        self.assertEqual([], self.executor.commands)

    def test_withdraw(self):
        self.configured([1])
        self.with_export(exp1())
        self.assertTrue(self.g.withdraw(SVM, MNT + 'vol1'))
        self.assertCommands(*self.path_state_cmds(), *self.write_cmds(CONF),
                            ('rm', '-f', EXPORTS + '/1.conf'),
                            *self.index_cmds())
        self.assertEqual(ganesha_config.format_index({}),
                         self.executor.fs[INDEX])
        self.executor.reset()
        self.assertFalse(self.g.withdraw(SVM, MNT + 'vol1'))
        self.assertCommands(*self.path_state_cmds(indexed=True))


@ddt.ddt
class IndexTestCase(GaneshaTestCase):
    """The index of export files: a change of one export reads one file."""

    def two(self):
        self.configured([1, 2])
        self.with_export(exp1())
        self.with_export(exp1(export_id=2, path=MNT + 'vol2',
                              pseudo='/vol2'))

    def test_round_trip(self):
        paths = {7: MNT + 'vol7', 1: MNT + 'vol1', 3: None}
        text = ganesha_config.format_index(paths)
        self.assertEqual(ganesha_config.HEADER + '1 %svol1\n3 -\n7 %svol7\n'
                         % (MNT, MNT), text)
        self.assertEqual(paths, ganesha_config.parse_index(text))

    @ddt.data('', '1 %svol1\n' % MNT,
              ganesha_config.HEADER + '1 /etc\n',
              ganesha_config.HEADER + '1 %s../x\n' % MNT,
              ganesha_config.HEADER + '0 %svol1\n' % MNT,
              ganesha_config.HEADER + '1 %svol1\n1 %svol2\n' % (MNT, MNT),
              ganesha_config.HEADER + '2 %svol2\n1 %svol1\n' % (MNT, MNT),
              ganesha_config.HEADER + '1 %svol1 x\n' % MNT)
    def test_foreign_index_is_not_used(self, text):
        self.assertRaises(exception.ParseError, ganesha_config.parse_index,
                          text)
        self.two()
        self.executor.fs[INDEX] = text
        self.assertEqual(exp1(), self.g.find_export(SVM, MNT + 'vol1'))
        # Every file read.
        self.assertCommands(*self.path_state_cmds())

    def test_other_ids_present_read_every_file(self):
        # A file added (or removed) without the index, as after a crash
        # between the two: the index is not trusted.
        self.two()
        self.indexed(exp1())
        self.assertEqual(2, self.g.find_export(SVM, MNT + 'vol2').export_id)
        self.assertCommands(
            *self.path_state_cmds(indexed=True)[:2], self.state_cmd())
        self.executor.reset()
        self.indexed(exp1(), exp1(export_id=2, path=MNT + 'vol2'),
                     exp1(export_id=3, path=MNT + 'vol3'))
        self.assertIsNone(self.g.find_export(SVM, MNT + 'vol3'))
        self.assertIn(self.state_cmd(), self.executor.commands)

    def test_foreign_file_is_read_for_every_path(self):
        self.two()
        self.executor.fs[EXPORTS + '/2.conf'] = 'EXPORT { Path = "/"; }\n'
        self.executor.fs[INDEX] = ganesha_config.format_index(
            {1: MNT + 'vol1', 2: None})
        self.assertRaises(exception.ParseError, self.g.find_export, SVM,
                          MNT + 'vol9')
        self.assertCommands(*self.path_state_cmds(2, indexed=True))

    def test_new_export_reads_no_export_file(self):
        self.two()
        self.indexed(exp1(), exp1(export_id=2, path=MNT + 'vol2'))
        exp = self.g.serve(SVM, MNT + 'vol3', '/vol3', [('10.0.0.7', 'rw')])
        self.assertEqual(3, exp.export_id)
        self.assertCommands(*self.path_state_cmds(indexed=True),
                            *self.add_cmds(3))
        self.assertEqual(ganesha_config.format_index(
            {1: MNT + 'vol1', 2: MNT + 'vol2', 3: MNT + 'vol3'}),
            self.executor.fs[INDEX])

    def test_path_changed_in_place_drops_the_index_first(self):
        self.two()
        self.indexed(exp1(), exp1(export_id=2, path=MNT + 'vol2'))
        self.g.update_export(SVM, exp1(path=MNT + 'vol9'))
        kinds = self.executor.commands
        self.assertLess(kinds.index(('rm', '-f', INDEX)),
                        kinds.index(('tee', EXPORTS + '/1.conf.tmp')))
        self.assertEqual(ganesha_config.format_index(
            {1: MNT + 'vol9', 2: MNT + 'vol2'}), self.executor.fs[INDEX])

    def test_clients_changed_keeps_the_index(self):
        self.two()
        self.indexed(exp1(), exp1(export_id=2, path=MNT + 'vol2'))
        before = self.executor.fs[INDEX]
        self.g.serve(SVM, MNT + 'vol2', '/vol2', [('10.0.0.8', 'ro')])
        self.assertNotIn('rm', [c[0] for c in self.executor.commands])
        self.assertNotIn(('tee', INDEX + '.tmp'), self.executor.commands)
        self.assertEqual(before, self.executor.fs[INDEX])

    def test_roll_back_drops_the_index(self):
        self.configured([7])
        self.with_export(exp1(export_id=7, pseudo='/vol7'))
        self.indexed(exp1(export_id=7))
        self.running()
        self.no_dbus()
        self.hup_log(LOG_DUP)
        self.assertRaises(exception.ConfigInvalid, self.g.serve, SVM,
                          MNT + 'vol2', '/vol2', [])
        self.assertNotIn(INDEX, self.executor.fs)
        # The next change reads every file and writes it again.
        self.executor.reset()
        self.hup_log(LOG_HUP + LOG_DONE)
        self.g.serve(SVM, MNT + 'vol2', '/vol2', [])
        self.assertIn(self.state_cmd(), self.executor.commands)
        self.assertEqual(ganesha_config.format_index(
            {1: MNT + 'vol2', 7: MNT + 'vol1'}), self.executor.fs[INDEX])


class EnsureTestCase(GaneshaTestCase):

    def _started(self):
        """Make the nsenter call 'start' a daemon with PID."""
        self.executor.on('tail', '-c', '+1', LOGFILE, stdout=LOG_START)
        real_run = self.executor._run

        def run(cmd, data, timeout):
            result = real_run(cmd, data, timeout)
            if cmd[0] == 'nsenter':
                self.running()
            return result

        self.executor._run = run

    def test_ensure_from_nothing_starts(self):
        self._started()
        result = self.g.ensure(SVM, ['10.0.0.5'], [exp1()])
        self.assertEqual({'started': True, 'reloaded': False,
                          'changed': True}, result)
        self.assertEqual(EXPORT1_TEXT, self.executor.fs[EXPORTS + '/1.conf'])
        self.assertEqual(ganesha_config.render_config(SVM, ['10.0.0.5'], [1]),
                         self.executor.fs[CONF])
        self.assertIn(('nsenter', '--net=/run/netns/svm_a',
                       '/usr/bin/ganesha.nfsd', '-f', CONF, '-L', LOGFILE,
                       '-p', PIDFILE, '-N', 'NIV_EVENT'),
                      self.executor.commands)

    def test_ensure_running_unchanged_does_nothing(self):
        self.configured([1])
        self.with_export(exp1())
        self.indexed(exp1())
        self.running()
        self.executor.fs[BINDREC] = '10.0.0.5\n'
        result = self.g.ensure(SVM, ['10.0.0.5'], [exp1()])
        self.assertEqual({'started': False, 'reloaded': False,
                          'changed': False}, result)
        self.assertEqual([], [c for c in self.executor.commands
                              if c[0] in ('tee', 'kill', 'nsenter', 'rm')])

    def test_ensure_upgrades_a_config_without_attr_expiration(self):
        # Written by a release before Attr_Expiration_Time = 0: read as
        # before, rewritten with it, and Ganesha reloaded to apply it.
        legacy = ganesha_config.render_config(SVM, ['10.0.0.5'], [1]).replace(
            ganesha_config.ATTR_EXPIRATION + '\n', '')
        self.executor.fs[CONF] = legacy
        self.with_export(exp1())
        self.indexed(exp1())
        self.running()
        self.executor.fs[BINDREC] = '10.0.0.5\n'
        self.hup_log(LOG_HUP + LOG_DONE)
        result = self.g.ensure(SVM, ['10.0.0.5'], [exp1()])
        self.assertEqual({'started': False, 'reloaded': True,
                          'changed': True}, result)
        self.assertEqual(ganesha_config.render_config(SVM, ['10.0.0.5'], [1]),
                         self.executor.fs[CONF])
        self.assertEqual(1, self.executor.commands.count(
            ('kill', '-HUP', '4242')))

    def test_ensure_writes_a_missing_or_wrong_index(self):
        self.configured([1])
        self.with_export(exp1())
        self.running()
        self.executor.fs[BINDREC] = '10.0.0.5\n'
        for index in (None, ganesha_config.format_index({1: MNT + 'x'})):
            if index:
                self.executor.fs[INDEX] = index
            self.g.ensure(SVM, ['10.0.0.5'], [exp1()])
            self.assertEqual(ganesha_config.format_index({1: MNT + 'vol1'}),
                             self.executor.fs[INDEX])

    def test_ensure_removes_stray_and_takes_moved_down_first(self):
        self.configured([1, 7])
        self.with_export(exp1())
        self.with_export(exp1(export_id=7, pseudo='/vol7'))
        self.running()
        self.executor.fs[BINDREC] = '10.0.0.5\n'
        self.hup_log(LOG_HUP + LOG_DONE)
        moved = exp1(path=MNT + 'vol9')
        result = self.g.ensure(SVM, ['10.0.0.5'], [moved])
        self.assertEqual({'started': False, 'reloaded': True,
                          'changed': True}, result)
        self.assertEqual(2, self.executor.commands.count(
            ('kill', '-HUP', '4242')))
        # first reload with neither export, then with the moved one only
        writes = [d for c, d in zip(self.executor.commands,
                                    self.executor.inputs)
                  if c == ('tee', CONF + '.tmp')]
        self.assertEqual(
            [ganesha_config.render_config(SVM, ['10.0.0.5']),
             ganesha_config.render_config(SVM, ['10.0.0.5'], [1])], writes)
        self.assertNotIn(EXPORTS + '/7.conf', self.executor.fs)
        self.assertEqual(moved, self.g.get_export(SVM, 1))

    def test_ensure_new_address_restarts(self):
        self.configured([], addrs=['10.0.0.5'])
        self.running()
        self.executor.fs[BINDREC] = '10.0.0.5\n'
        self.executor.on('cat', '/proc/4242/cmdline', exit_code=1, times=1)
        self.executor.on('cat', '/proc/4242/cmdline', stdout=CMDLINE,
                         times=2)
        self._started()
        result = self.g.ensure(SVM, ['10.0.0.6', 'fd00::6'], [])
        self.assertEqual({'started': True, 'reloaded': False,
                          'changed': True}, result)
        kinds = [c[0] for c in self.executor.commands]
        self.assertLess(kinds.index('kill'), kinds.index('nsenter'))
        self.assertEqual('::\n', self.executor.fs[BINDREC])


@ddt.ddt
class RootwrapTestCase(GaneshaTestCase):

    START = ['nsenter', '--net=/run/netns/svm_a', '/usr/bin/ganesha.nfsd',
             '-f', CONF, '-L', LOGFILE, '-p', PIDFILE, '-N', 'NIV_EVENT']

    def test_allowed(self):
        for cmd in (self.START,
                    ['kill', '-HUP', '4242'], ['kill', '-TERM', '4242'],
                    ['kill', '-KILL', '4242'],
                    ['cat', '/proc/4242/cmdline'],
                    ['stat', '-c', '%s', LOGFILE],
                    ['tail', '-c', '+1001', LOGFILE],
                    ['tail', '-n', '20', LOGFILE],
                    ['grep', '-r', '-H', '-Z', '-a', '-e', '^', CONF,
                     EXPORTS, PIDFILE],
                    ['cat', EXPORTS + '/7.conf', CONF],
                    list(DBUS) + [IFACE + 'DisplayExport', 'uint16:7'],
                    list(DBUS) + [IFACE + 'RemoveExport', 'uint16:7'],
                    list(DBUS) + [IFACE + 'AddExport',
                                  'string:%s/7.conf' % EXPORTS,
                                  'string:EXPORT(Export_Id=7)']):
            self.assertTrue(rootwrap_check.allowed(cmd), cmd)

    def _swap(self, index, value):
        cmd = list(self.START)
        cmd[index] = value
        return cmd

    @ddt.data(
        ['nsenter', '--net=/run/netns/svm_a', 'sh'],
        ['nsenter', '--net=/run/netns/svm_a', 'ganesha.nfsd', '-f',
         '/etc/shadow', '-L', LOGFILE, '-p', PIDFILE, '-N', 'NIV_EVENT'],
        ['nsenter', '--net=/run/netns/svm_a', '/usr/bin/ganesha.nfsd',
         '-f', '/etc/shadow', '-L', LOGFILE, '-p', PIDFILE, '-N',
         'NIV_EVENT'],
        ['nsenter', '--mount=/proc/1/ns/mnt', '/usr/bin/ganesha.nfsd',
         '-f', CONF, '-L', LOGFILE, '-p', PIDFILE, '-N', 'NIV_EVENT'],
        ['nsenter', '--net=/run/netns/svm_a', '--mount=/proc/1/ns/mnt',
         '/usr/bin/ganesha.nfsd', '-f', CONF, '-L', LOGFILE, '-p', PIDFILE,
         '-N', 'NIV_EVENT'],
        ['nsenter', '--net=/run/netns/../../proc/1/ns/net',
         '/usr/bin/ganesha.nfsd', '-f', CONF, '-L', LOGFILE, '-p', PIDFILE,
         '-N', 'NIV_EVENT'],
        ['nsenter', '--net=/run/netns/svm_a', '/usr/bin/ganesha.nfsd',
         '-f', '/var/lib/arca/svm/../../../etc/ganesha.conf', '-L',
         LOGFILE, '-p', PIDFILE, '-N', 'NIV_EVENT'],
        ['nsenter', '--net=/run/netns/svm_a', '/usr/bin/ganesha.nfsd',
         '-f', CONF, '-L', '/var/log/arca/../../../etc/passwd', '-p',
         PIDFILE, '-N', 'NIV_EVENT'],
        ['nsenter', '--net=/run/netns/svm_a', '/usr/bin/ganesha.nfsd',
         '-f', CONF, '-L', LOGFILE, '-p', '/etc/passwd', '-N', 'NIV_EVENT'],
        ['nsenter', '--net=/run/netns/svm_a', '/usr/bin/ganesha.nfsd',
         '-f', CONF, '-L', LOGFILE, '-p', PIDFILE, '-N', 'NIV_FULL_DEBUG'],
        ['nsenter', '--net=/run/netns/svm_a', '/usr/bin/ganesha.nfsd',
         '-f', CONF, '-L', LOGFILE, '-p', PIDFILE, '-N', 'NIV_EVENT', '-F'],
        ['nsenter', '--net=/run/netns/svm_a', '/tmp/ganesha.nfsd', '-f',
         CONF, '-L', LOGFILE, '-p', PIDFILE, '-N', 'NIV_EVENT'],
        ['kill', '-TERM', str(os.getpid())],
        ['kill', '-KILL', str(os.getpid())],
        ['kill', '-HUP', '1'],
        ['kill', '-STOP', '4242'],
        ['kill', '4242'],
        ['cat', '/proc/self/environ'], ['cat', '/proc/1/environ'],
        ['cat', CONF, '/etc/shadow'], ['cat', CONF, EXPORTS + '/1.conf'],
        ['cat', EXPORTS + '/1.conf', '/var/lib/arca/svm/x/../../../etc/a'],
        ['grep', '-r', '-H', '-Z', '-a', '-e', '^', CONF, '/etc',
         PIDFILE],
        ['grep', '-r', '-H', '-Z', '-a', '-e', '^', '/etc/shadow',
         EXPORTS, PIDFILE],
        ['grep', '-r', '-H', '-Z', '-a', '-e', 'x', CONF, EXPORTS,
         PIDFILE],
        ['grep', '-r', '-H', '-Z', '-a', '-f', '/etc/shadow', CONF,
         EXPORTS, PIDFILE],
        ['grep', '-r', '-H', '-Z', '-a', '-e', '^', CONF,
         EXPORTS + '/../../..', PIDFILE],
        ['cat', '/proc/1/../../etc/shadow'],
        ['stat', '-c', '%s', '/etc/shadow'],
        ['tail', '-c', '+1', '/etc/shadow'],
        ['tail', '-n', '20', '/var/log/arca/../../../etc/shadow'],
        ['tail', '-f', LOGFILE],
        ['dbus-send', '--system', '--print-reply',
         '--dest=org.freedesktop.systemd1', '/org/ganesha/nfsd/ExportMgr',
         IFACE + 'RemoveExport', 'uint16:1'],
        ['dbus-send', '--system', '--print-reply',
         '--dest=org.ganesha.nfsd', '/org/ganesha/nfsd/ExportMgr',
         IFACE + 'RemoveExport', 'uint16:1'],
        list(DBUS) + ['org.ganesha.nfsd.admin.shutdown'],
        list(DBUS) + [IFACE + 'AddExport', 'string:/etc/shadow',
                      'string:EXPORT(Export_Id=1)'],
        list(DBUS) + [IFACE + 'AddExport',
                      'string:%s/../../../../etc/x.conf' % EXPORTS,
                      'string:EXPORT(Export_Id=1)'],
        list(DBUS) + [IFACE + 'AddExport', 'string:%s/1.conf' % EXPORTS,
                      'string:EXPORT(Path=/)'],
        ['dbus-send', '--session', '--print-reply', DEST,
         '/org/ganesha/nfsd/ExportMgr', IFACE + 'RemoveExport', 'uint16:1'])
    def test_hostile_commands_rejected(self, cmd):
        self.assertFalse(rootwrap_check.allowed(cmd))
