"""arca-node status, audit and ensure: the reports of a node's records."""

import io
import json
from unittest import mock

import ddt

from arca_openstack.agent import operations
from arca_openstack.agent import report
from arca_openstack.cmd import node as node_cmd
from arca_openstack.node import executor
from arca_openstack.node import ganesha_config
from arca_openstack.node import netns
from arca_openstack.node import svm
from arca_openstack.node import xfs
from tests.unit import base
from tests.unit import fake_ganesha
from tests.unit import fake_node

GiB = 1024 ** 3
MNT = '/var/lib/arca/mnt/'
PROJECT = '0123456789abcdef0123456789abcdef'
VOL = 'vol-11111111-2222-3333-4444-555555555555'
SHARE = 'share-22222222-2222-3333-4444-555555555555'
SSNAP = 'ssnap-33333333-2222-3333-4444-555555555555'
SVM_A = 'svm_a'
SVM_B = 'svm_b'
PID_A = 4242
POOL_ROW = fake_node.lv_row('pool', size=100 * GiB, attr='twi-aotz--',
                            pool='', segtype='thin-pool', data='12.50')
LIST = ('ip', '-j', 'netns', 'list')
# Commands that only read.
READS = ('lvs', 'cat', 'ls', 'findmnt', 'stat', 'tail')


def _is_read(cmd):
    if cmd[0] == 'ip':
        return cmd[-1] == 'list' or 'show' in cmd
    if cmd[0] == 'kill':
        return cmd[1] == '-0'
    return cmd[0] in READS


def _tags(kind, svm_name, project=PROJECT):
    return ['arca.kind=%s' % kind, 'arca.project=%s' % project,
            'arca.svm=%s' % svm_name]


def _record(name, address):
    return json.dumps({'name': name, 'owner': 'arca.project=' + PROJECT,
                       'network': svm.make_network(
                           'veth', [address + '/24'],
                           bridge='br0')._asdict()})


def _export(eid, lv, clients=(('10.0.0.9', 'rw'),), read_only=False):
    return ganesha_config.Export(
        eid, MNT + lv, '/' + lv,
        tuple(ganesha_config.ClientRule(*c) for c in clients), read_only)


def _link(ifname):
    return json.dumps([{'ifindex': 3, 'ifname': ifname, 'mtu': 1500,
                        'flags': ['UP'], 'operstate': 'UP',
                        'linkinfo': {'info_kind': 'veth'}}])


class Node(fake_node.FakeNode):
    """FakeNode with more of a node's reads.

    The whole mount table, the thin pool's own row in the VG's report,
    inactive LVs, and directory listings of names (not paths).
    """

    def _row(self, name):
        lv = self.lvs[name]
        return fake_node.lv_row(name, size=lv['size'],
                                tags=','.join(lv['tags']),
                                attr=lv.get('attr', 'Vwi-a-tz--'),
                                data='' if 'attr' in lv else '25.00')

    def _do_lvs(self, cmd):
        if cmd[-1] == 'arca' and '-S' not in cmd:
            return executor.Result(0, fake_node.rows_report(*(
                [self._row(n) for n in sorted(self.lvs)] + [POOL_ROW])), '')
        return super()._do_lvs(cmd)

    def _do_lvchange(self, cmd):
        if cmd[1] == '-ay':
            self.lvs[cmd[-1].split('/')[1]].pop('attr', None)
            return fake_node.OK
        return super()._do_lvchange(cmd)

    def _do_findmnt(self, cmd):
        if '--mountpoint' in cmd:
            return super()._do_findmnt(cmd)
        lines = ['/dev/sda1 /', 'proc /proc'] + [
            '/dev/mapper/arca-%s %s' % (name.replace('-', '--'), target)
            for target, name in sorted(self.mounts.items())]
        return executor.Result(0, ''.join(x + '\n' for x in lines), '')

    def _fs(self, cmd, data):
        if cmd[0] == 'ls':
            prefix = cmd[2] + '/'
            names = sorted({p[len(prefix):].split('/')[0] for p in self.fs
                            if p.startswith(prefix)})
            return executor.Result(0, ''.join(n + '\n' for n in names), '')
        return super()._fs(cmd, data)


class ReportTestCase(base.TestCase):
    """A node with two SVMs.

    svm_a runs and exports VOL (mounted); svm_b is stopped and exports
    SHARE and SSNAP (neither mounted, SSNAP inactive).
    """

    def setUp(self):
        super().setUp()
        self.node = self.executor = Node()
        self.agent = operations.Node(self.node, pools=['arca/pool'])
        self.add_svm(SVM_A, '10.0.0.5', _export(1, VOL, (
            ('10.0.0.9', 'rw'), ('10.0.1.0/24', 'ro'))))
        self.add_svm(SVM_B, '10.0.0.6', _export(1, SHARE),
                     _export(2, SSNAP, read_only=True))
        self.node.start_ganesha(SVM_A, PID_A)
        self.add_lv(VOL, 'volume', SVM_A)
        self.add_lv(SHARE, 'share', SVM_B)
        self.add_lv(SSNAP, 'share_snapshot', SVM_B, attr='Vwi---tz--')
        self.node.mounts[MNT + VOL] = VOL
        self.node.on(*LIST, stdout='[{"name":"svm_a"},{"name":"svm_b"}]\n')

    def _check_rootwrap(self):
        # The whole mount table is read by the reports alone (the node
        # library reads one mountpoint at a time).
        self.node.commands = [c for c in self.node.commands
                              if c != xfs.MOUNT_TABLE]
        super()._check_rootwrap()

    def add_svm(self, name, address, *exports):
        base_dir = '/var/lib/arca/svm/' + name
        self.node.fs[base_dir + '/svm.json'] = _record(name, address)
        for exp in exports:
            self.node.fs['%s/exports/%d.conf' % (base_dir, exp.export_id)] = (
                ganesha_config.render_export(exp))

    def add_lv(self, name, kind, svm_name, **extra):
        self.node.lvs[name] = dict(
            size=10 * GiB, origin='', fs='xfs', dirty=False, uuid='u-' + name,
            image=None,
            tags=_tags(kind, svm_name), **extra)

    def assertReadOnly(self):
        self.assertEqual([], [c for c in self.node.commands
                              if not _is_read(c)])

    def run_main(self, *argv):
        out = io.StringIO()
        with mock.patch('os.geteuid', return_value=0), \
                mock.patch.object(node_cmd, 'make_node',
                                  return_value=self.agent), \
                mock.patch('sys.stdout', out):
            code = node_cmd.main(['--config-file', '/nonexistent'] +
                                 list(argv))
        return code, out.getvalue()


@ddt.ddt
class StatusTestCase(ReportTestCase):

    def test_data(self):
        data = report.status(self.agent)
        a, b = data['svms']
        self.assertEqual(
            {'name': SVM_A, 'owner': 'arca.project=' + PROJECT,
             'addresses': ['10.0.0.5/24'], 'running': True,
             'stale_pid': False, 'error': None,
             'exports': [{'id': 1, 'pseudo': '/' + VOL, 'path': MNT + VOL,
                          'lv': VOL, 'mounted': True, 'read_only': False,
                          'clients': [
                              {'network': '10.0.0.9', 'access': 'rw',
                               'squash': 'no_root_squash'},
                              {'network': '10.0.1.0/24', 'access': 'ro',
                               'squash': 'no_root_squash'}]}]}, a)
        self.assertFalse(b['running'])
        self.assertEqual([(SHARE, False), (SSNAP, False)],
                         [(e['lv'], e['mounted']) for e in b['exports']])
        pool, = data['pools']
        self.assertEqual('arca/pool', pool['pool'])
        self.assertEqual(12.5, pool['capacity']['data_percent'])
        self.assertEqual(
            [(SHARE, 'share', 'project=' + PROJECT, SVM_B, False),
             (SSNAP, 'share_snapshot', 'project=' + PROJECT, SVM_B, False),
             (VOL, 'volume', 'project=' + PROJECT, SVM_A, True)],
            [(lv['name'], lv['kind'], lv['owner'], lv['svm'], lv['mounted'])
             for lv in pool['lvs']])
        self.assertEqual([25.0, None, 25.0],
                         [lv['data_percent'] for lv in pool['lvs']])
        self.assertReadOnly()

    def test_table(self):
        code, out = self.run_main('status')
        self.assertEqual(0, code)
        lines = out.splitlines()
        self.assertEqual(['SVM', 'OWNER', 'ADDRESSES', 'NFS', 'EXPORTS'],
                         lines[0].split())
        self.assertEqual([SVM_A, 'arca.project=' + PROJECT, '10.0.0.5/24',
                          'running', '1'], lines[1].split())
        self.assertEqual('stopped', lines[2].split()[3])
        # Columns are aligned.
        self.assertEqual(lines[0].index('NFS'), lines[1].index('running'))
        export_line, = [x for x in lines if x.startswith(SVM_A + '/1')]
        self.assertEqual([SVM_A + '/1', '/' + VOL, VOL, 'yes', '10.0.0.9',
                          'rw,', '10.0.1.0/24', 'ro'], export_line.split())
        self.assertIn('10.0.0.9 ro (read-only)', out)
        self.assertIn('POOL arca/pool: 12.5 GiB of 100.0 GiB used (12.5%, '
                      'metadata 0.0%), 3 LVs, 30.0 GiB provisioned', out)
        vol_line, = [x for x in lines if x.startswith(VOL + ' ')]
        self.assertEqual([VOL, 'volume', 'project=' + PROJECT, SVM_A, '10.0',
                          'GiB', '25.0%', 'yes'], vol_line.split())
        ssnap_line, = [x for x in lines if x.startswith(SSNAP)]
        self.assertEqual(['-', 'no'], ssnap_line.split()[-2:])
        self.assertReadOnly()

    def test_json(self):
        code, out = self.run_main('status', '--format', 'json')
        self.assertEqual(0, code)
        self.assertEqual(json.loads(json.dumps(report.status(self.agent))),
                         json.loads(out))
        self.assertReadOnly()

    def test_missing_pool(self):
        self.node.on('lvs', exit_code=5,
                     stderr='  Volume group "arca" not found\n')
        self.node._do_lvs = None  # answered by the rules
        pool, = report.status(self.agent)['pools']
        self.assertIn('does not exist', pool['error'])
        self.assertIn('POOL arca/pool: Thin pool arca/pool not found',
                      report.render('status', report.status(self.agent)))

    @ddt.data('status', 'audit', 'ensure')
    def test_failure_exits_2(self, command):
        self.node.on('findmnt', exit_code=1, stderr='findmnt: boom\n')
        self.node._do_findmnt = None
        with mock.patch('sys.stderr', io.StringIO()) as err:
            code, out = self.run_main(command)
        self.assertEqual(2, code)
        self.assertEqual('', out)
        self.assertIn('arca-node %s: ' % command, err.getvalue())
        self.assertIn('findmnt: boom', err.getvalue())


class AuditTestCase(ReportTestCase):

    def findings(self):
        return [(f['kind'], f['object'])
                for f in report.audit(self.agent)['findings']]

    def make_clean(self):
        self.node.start_ganesha(SVM_B, PID_A + 1)
        self.node.mounts[MNT + SHARE] = SHARE
        self.node.mounts[MNT + SSNAP] = SSNAP

    def test_clean_node(self):
        self.make_clean()
        code, out = self.run_main('audit')
        self.assertEqual(0, code)
        self.assertEqual('No findings: every record is backed, and '
                         'everything found is recorded.\n', out)
        self.assertReadOnly()

    def test_clean_node_json(self):
        self.make_clean()
        code, out = self.run_main('audit', '--format', 'json')
        self.assertEqual((0, {'findings': []}), (code, json.loads(out)))

    def test_stopped_svm(self):
        self.node.fs['/run/arca/ganesha-%s.pid' % SVM_B] = '999\n'
        self.assertEqual([('svm-stopped', SVM_B)], self.findings())
        self.assertIn('(stale pid file)', report.render(
            'audit', report.audit(self.agent)))

    def test_export_mounted_while_looking_is_no_finding(self):
        # SHARE is mounted (and would then be exported) just after the
        # first read of the mount table: the second read finds it.
        self.make_clean()
        del self.node.mounts[MNT + SHARE]
        table_reads = []
        first_read = self.node._do_findmnt

        def findmnt(cmd):
            result = first_read(cmd)
            if '--mountpoint' not in cmd:
                table_reads.append(cmd)
                self.node.mounts[MNT + SHARE] = SHARE
            return result
        self.node._do_findmnt = findmnt
        self.assertEqual([], self.findings())
        self.assertEqual(2, len(table_reads))

    def test_export_unmounted_in_both_reads(self):
        self.make_clean()
        del self.node.mounts[MNT + SHARE]
        self.assertEqual([('export-not-mounted', 'svm_b export 1')],
                         self.findings())
        self.assertEqual(2, self.node.commands.count(xfs.MOUNT_TABLE))

    def test_every_kind(self):
        self.make_clean()
        del self.node.ganesha[PID_A + 1]  # svm_b's Ganesha died
        # An export of an LV no pool holds, one of a path that is no LV
        # mountpoint, one whose LV is not mounted, an unreadable one.
        self.add_svm(SVM_A, '10.0.0.5', _export(2, 'vol-gone'),
                     _export(3, '_uuid/arca.' + VOL))
        self.add_svm(SVM_A, '10.0.0.5', _export(4, 'vol-unmounted'))
        self.add_lv('vol-unmounted', 'volume', SVM_A)
        self.node.fs['/var/lib/arca/svm/svm_a/exports/5.conf'] = 'EXPORT {'
        # An SVM directory without its record.
        self.node.fs['/var/lib/arca/svm/svm_c/ganesha.conf'] = '#\n'
        # A volume and a share of an SVM without record; a snapshot's
        # svm tag is no use of the SVM.
        self.add_lv('vol-orphan', 'volume', 'svm_x')
        self.add_lv('share-orphan', 'share', 'svm_x')
        self.add_lv('snap-orphan', 'snapshot', 'svm_x')
        # Mounted, exported by nobody.
        self.node.mounts[MNT + 'vol-orphan'] = 'vol-orphan'
        # Namespaces: svm_x holds an Arca interface, other_ns does not,
        # qrouter-1 is no SVM name.
        self.node.on(*LIST, stdout=json.dumps(
            [{'name': n} for n in (SVM_A, SVM_B, 'svm_x', 'other_ns',
                                   'qrouter-1')]))
        inner = netns.interface_names('svm_x').inner
        self.node.on('ip', '-n', 'svm_x', '-j', '-d', 'link', 'show', 'dev',
                     inner, stdout=_link(inner))
        self.node.on('ip', '-n', 'other_ns', exit_code=1,
                     stderr='Device "%s" does not exist.\n'
                     % netns.interface_names('other_ns').inner)
        data = report.audit(self.agent)
        self.assertEqual([
            ('export-without-lv', 'svm_a export 2'),
            ('export-without-lv', 'svm_a export 3'),
            ('export-not-mounted', 'svm_a export 4'),
            ('export-unreadable', 'svm_a export 5'),
            ('svm-stopped', SVM_B),
            ('svm-unreadable', 'svm_c'),
            ('lv-without-svm', 'arca/share-orphan'),
            ('lv-without-svm', 'arca/vol-orphan'),
            ('mount-not-exported', MNT + 'vol-orphan'),
            ('netns-without-svm', 'svm_x'),
        ], [(f['kind'], f['object']) for f in data['findings']])
        messages = {f['object']: f['message'] for f in data['findings']}
        self.assertEqual('serves LV vol-gone, which no configured pool '
                         '(arca/pool) holds', messages['svm_a export 2'])
        self.assertEqual('tagged arca.svm=svm_x, but that SVM has no record',
                         messages['arca/vol-orphan'])
        self.assertIn(inner, messages['svm_x'])
        self.assertReadOnly()
        code, out = self.run_main('audit')
        self.assertEqual(1, code)
        self.assertIn('10 finding(s).', out)
        self.assertIn('netns-without-svm', out)

    def test_missing_pool(self):
        self.make_clean()
        self.node.lvs = {}
        self.node.on('lvs', stdout=fake_node.EMPTY_REPORT)
        self.node._do_lvs = None
        self.assertEqual([('pool-missing', 'arca/pool'),
                          ('export-without-lv', 'svm_a export 1'),
                          ('export-without-lv', 'svm_b export 1'),
                          ('export-without-lv', 'svm_b export 2')],
                         self.findings())


class EnsureTestCase(ReportTestCase):

    def test_dry_run_reads_only(self):
        code, out = self.run_main('ensure', '--dry-run')
        self.assertEqual(0, code)
        self.assertReadOnly()
        self.assertEqual({}, {k: v for k, v in self.node.mounts.items()
                              if v != VOL})
        lines = out.splitlines()
        self.assertEqual('Dry run: nothing was changed.', lines[0])
        self.assertEqual([SVM_A, 'ok', 'NFS', 'server', 'running,', '1',
                          'export(s)'], lines[3].split())
        self.assertEqual(
            '%s  would rebuild  mount %s (arca/pool, -o prjquota); mount %s '
            '(arca/pool, -o ro,nouuid, activated first)'
            % (SVM_B, SHARE, SSNAP), lines[4])

    def test_dry_run_json(self):
        code, out = self.run_main('ensure', '--dry-run', '--format', 'json')
        self.assertEqual(0, code)
        data = json.loads(out)
        self.assertTrue(data['dry_run'])
        self.assertEqual(
            [{'svm': SVM_A, 'result': 'ok', 'error': None, 'mounts': [
                {'lv': VOL, 'pool': 'arca/pool', 'options': [],
                 'mounted': True, 'active': True}]},
             {'svm': SVM_B, 'result': 'would rebuild', 'error': None,
              'mounts': [
                  {'lv': SHARE, 'pool': 'arca/pool', 'options': ['prjquota'],
                   'mounted': False, 'active': True},
                  {'lv': SSNAP, 'pool': 'arca/pool',
                   'options': ['ro', 'nouuid'], 'mounted': False,
                   'active': False}]}], data['svms'])
        self.assertReadOnly()

    def test_dry_run_missing_lv(self):
        del self.node.lvs[SSNAP]
        code, out = self.run_main('ensure', '--dry-run')
        self.assertEqual(1, code)
        self.assertIn('%s  failed  LV %s is in no configured pool'
                      % (SVM_B, SSNAP), out)
        self.assertReadOnly()

    def test_rebuilds_stopped_svm(self):
        ganesha = fake_ganesha.FakeGanesha()
        ganesha.put(SVM_A, _export(1, VOL))
        ganesha.put(SVM_B, _export(1, SHARE))
        ganesha.put(SVM_B, _export(2, SSNAP, read_only=True))
        ganesha.status.side_effect = lambda name: {
            'running': name == SVM_A, 'stale': False}
        self.agent.svms.ganesha = ganesha
        self.agent.svms.netns = base.mock_netns()
        code, out = self.run_main('ensure')
        self.assertEqual(0, code)
        self.assertIn('%s  rebuilt' % SVM_B, out)
        self.agent.svms.netns.setup.assert_called_once_with(
            SVM_B, 'veth', ['10.0.0.6/24'], gateways=[], parent=None,
            vlan=None, bridge='br0', mtu=None)
        ganesha.ensure.assert_called_once_with(
            SVM_B, ['10.0.0.6'], [_export(1, SHARE),
                                  _export(2, SSNAP, read_only=True)])
        self.assertEqual({MNT + VOL: VOL, MNT + SHARE: SHARE,
                          MNT + SSNAP: SSNAP}, self.node.mounts)
        mounts = [c for c in self.node.commands if c[0] in ('mount',
                                                            'lvchange')]
        self.assertEqual([
            ('mount', '-t', 'xfs', '-o', 'prjquota', '/dev/arca/' + SHARE,
             MNT + SHARE),
            ('lvchange', '-ay', '-K', 'arca/' + SSNAP),
            ('mount', '-t', 'xfs', '-o', 'ro,nouuid', '/dev/arca/' + SSNAP,
             MNT + SSNAP)], mounts)

    def test_running_svm_untouched(self):
        self.node.start_ganesha(SVM_B, PID_A + 1)
        self.node.mounts[MNT + SHARE] = SHARE
        self.node.mounts[MNT + SSNAP] = SSNAP
        data = report.ensure(self.agent)
        self.assertEqual(['ok', 'ok'], [s['result'] for s in data['svms']])
        self.assertEqual(0, report.exit_code('ensure', data))
        self.assertReadOnly()

    def test_running_svm_with_unmounted_lv(self):
        self.node.start_ganesha(SVM_B, PID_A + 1)
        self.node.mounts[MNT + SHARE] = SHARE
        code, out = self.run_main('ensure')
        self.assertEqual(1, code)
        self.assertIn('%s  incomplete  LV %s is not mounted' % (SVM_B, SSNAP),
                      out)
        self.assertReadOnly()

    def test_rebuild_failure(self):
        self.agent.svms.ganesha = fake_ganesha.FakeGanesha()
        self.agent.svms.ganesha.status.return_value = {'running': False}
        self.agent.svms.ganesha.put(SVM_B, _export(1, SHARE))
        self.agent.svms.netns = base.mock_netns()
        self.node.lvs[SHARE]['fs'] = None  # mount fails
        data = report.ensure(self.agent)
        self.assertEqual([('rebuilt', None), 'failed'],
                         [(s['result'], s['error']) if s['svm'] == SVM_A
                          else s['result'] for s in data['svms']])
        self.assertIn('wrong fs type', data['svms'][1]['error'])
        self.assertEqual(1, report.exit_code('ensure', data))
        self.agent.svms.ganesha.ensure.assert_called_once_with(
            SVM_A, ['10.0.0.5'], [])
