"""Unit tests: what one project's actions can do to another's volumes.

* managing (volume or snapshot) an LV Cinder still knows is refused with
  ManageExistingAlreadyManaged before any change on the node;
* a connector address is one host address, at attach and when
  ensure_export restores Cinder's attachment records;
* a transferred volume's export moves to its new project's SVM, crash
  safe and idempotent, and the old SVM goes when nothing uses it.
"""

import ast
import inspect
import json
import re
from unittest import mock

from cinder import context
from cinder import exception
from cinder import objects
from cinder.tests.unit import fake_snapshot
from cinder.tests.unit import fake_volume
import ddt

from arca_openstack.cinder import driver
from arca_openstack import exception as arca_exception
from arca_openstack.node import executor as executor_mod
from arca_openstack.node import ganesha_config
from arca_openstack.node import lvm
from arca_openstack.node import svm
from tests.unit import base
from tests.unit.cinder import test_driver
from tests.unit import fake_ganesha
from tests.unit import fake_node

objects.register_all()

GiB = 1024 ** 3
PROJECT_A = test_driver.PROJECT
PROJECT_B = 'fedcba9876543210fedcba9876543210'
SVM_A = 'cinder_' + PROJECT_A
SVM_B = 'cinder_' + PROJECT_B
VOL = test_driver.VOL
VOL2 = test_driver.VOL2
OTHER = '99999999-2222-3333-4444-555555555555'
SNAP = test_driver.SNAP
SNAP2 = '88888888-2222-3333-4444-555555555555'
LV = test_driver.LV
LV2 = test_driver.LV2
SNAP_LV = test_driver.SNAP_LV
MNT = test_driver.MNT
row = test_driver.row
# Project A's attached volume VOL2, as the node has it.
TAGS_A2 = 'arca.id=%s,arca.kind=volume,arca.project=%s,arca.svm=%s' % (
    VOL2, PROJECT_A, SVM_A)
HOST_A = '10.9.0.1'
HOST_B = '10.9.0.2'
MUTATING = ('lvrename', 'lvchange', 'lvextend', 'lvremove', 'lvcreate',
            'mount', 'umount', 'tee', 'mv', 'rm', 'truncate', 'xfs_admin')


def _not_found(exc, kind):
    def get(ctxt, oid, *args, **kwargs):
        raise exc(**{kind: oid})
    return get


class CinderRecords(object):
    """What Cinder's database knows, behind its objects' look-ups."""

    def __init__(self, test):
        self.volumes = {}
        self.name_ids = {}
        self.snapshots = {}
        test.patch(objects.Volume, 'get_by_id', self._volume)
        test.patch(objects.VolumeList, 'get_all', self._volume_list)
        test.patch(objects.Snapshot, 'get_by_id', self._snapshot)
        self.asked = []

    def _volume(self, ctxt, oid, *args, **kwargs):
        self.asked.append(('volume', oid, ctxt.is_admin))
        if oid not in self.volumes:
            raise exception.VolumeNotFound(volume_id=oid)
        return self.volumes[oid]

    def _volume_list(self, ctxt, filters=None, **kwargs):
        self.asked.append(('name_id', filters['_name_id'], ctxt.is_admin))
        found = self.name_ids.get(filters['_name_id'])
        return [found] if found else []

    def _snapshot(self, ctxt, oid, *args, **kwargs):
        self.asked.append(('snapshot', oid, ctxt.is_admin))
        if oid not in self.snapshots:
            raise exception.SnapshotNotFound(snapshot_id=oid)
        return self.snapshots[oid]


@ddt.ddt
class ManageLiveTestCase(test_driver.DriverTestCase):
    """Item 1 and 2: an LV Cinder still knows is never taken over."""

    def setUp(self):
        super().setUp()
        self.records = CinderRecords(self)
        # Project A's volume VOL2 is alive (attached, exported to A).
        ctx_a = context.RequestContext('a', PROJECT_A, is_admin=False)
        self.vol_a = fake_volume.fake_volume_obj(
            ctx_a, id=VOL2, project_id=PROJECT_A, status='in-use')
        self.records.volumes[VOL2] = self.vol_a
        self.snap_a = fake_snapshot.fake_snapshot_obj(
            ctx_a, id=SNAP, volume_id=VOL2, project_id=PROJECT_A)
        self.records.snapshots[SNAP] = self.snap_a
        self.exported(LV2, clients=[HOST_A])
        self.mounted(LV2)
        self.svm_exists()
        # The volume project B's admin request made (status managing).
        ctx_b = context.RequestContext('b', PROJECT_B, is_admin=False)
        self.vol_b = fake_volume.fake_volume_obj(ctx_b, id=VOL,
                                                 project_id=PROJECT_B)

    def assert_untouched(self):
        """Only look-ups reached the node; A's export is as it was."""
        self.assertEqual({'lvs'}, {c[0] for c in self.executor.commands})
        self.ganesha.serve.assert_not_called()
        self.ganesha.withdraw.assert_not_called()
        self.assertEqual([HOST_A], self.clients_of(LV2))

    @ddt.data(({'source-name': LV2}, LV2, TAGS_A2),
              ({'source-id': VOL2}, LV2, TAGS_A2),
              # By its tag: renamed on the node by hand, still VOL2.
              ({'source-name': 'legacy'}, 'legacy', TAGS_A2),
              # A volume's id named as a snapshot, or tagged as one.
              ({'source-name': 'vol-' + SNAP}, 'vol-' + SNAP,
               'arca.kind=volume'),
              ({'source-name': 'legacy'}, 'legacy',
               'arca.kind=volume,arca.id=' + SNAP))
    @ddt.unpack
    def test_manage_live_volume_refused(self, ref, name, tags):
        self.lv(name, row(name, 2, tags))
        for call in (self.driver.manage_existing_get_size,
                     self.driver.manage_existing):
            err = self.assertRaises(exception.ManageExistingAlreadyManaged,
                                    call, self.vol_b, ref)
            self.assertIn(name, str(err))
        self.assert_untouched()
        self.assertIn(True, {admin for _k, _i, admin in self.records.asked})

    def test_manage_migrated_volume_refused(self):
        # Volume OTHER lives on LV vol-VOL2 since a migration (name id).
        del self.records.volumes[VOL2]
        self.records.name_ids[VOL2] = fake_volume.fake_volume_obj(
            self.ctx, id=OTHER, project_id=PROJECT_A)
        self.lv(LV2, row(LV2, 2, TAGS_A2))
        err = self.assertRaises(exception.ManageExistingAlreadyManaged,
                                self.driver.manage_existing, self.vol_b,
                                {'source-name': LV2})
        self.assertIn(OTHER, str(err))
        self.assert_untouched()

    def test_manage_forgotten_volume_allowed(self):
        # Cinder deleted its record of VOL2 (the LV was kept): it may be
        # managed again.
        del self.records.volumes[VOL2]
        self.ganesha.exports.clear()
        self.executor.reset()
        self.found((LV2, LV), row(LV2, 2, TAGS_A2))
        self.lv(LV2, row(LV2, 2, TAGS_A2))
        self.lv(LV, row(LV, 2, 'arca.kind=volume'))
        self.executor.on('stat', stdout='%d\n' % GiB)
        self.mounted_later(LV)
        self.executor.on('cat', '/var/lib/arca/svm/%s/svm.json' % SVM_B,
                         stdout=_record(SVM_B, '10.0.0.11', PROJECT_B))
        self.vg()
        svms = self.driver.node_client.agent.svms
        with mock.patch.object(svms, 'delete', base.FakeSVMDelete()) as delete:
            result = self.driver.manage_existing(self.vol_b,
                                                 {'source-name': LV2})
        self.assertEqual([test_driver.SVM], delete.removed)
        self.assertEqual({'provider_location': '10.0.0.11:/' + LV}, result)
        self.ran('lvrename', 'arca', LV2, LV)

    @ddt.data(({'source-name': SNAP_LV}, SNAP_LV, ''),
              ({'source-id': SNAP}, SNAP_LV, ''),
              ({'source-name': 'old-snap'}, 'old-snap', 'arca.id=' + SNAP))
    @ddt.unpack
    def test_manage_live_snapshot_refused(self, ref, name, tag):
        tags = ','.join(t for t in ('arca.kind=snapshot,arca.size=1,'
                                    'arca.volume=' + VOL, tag) if t)
        self.lv(name, row(name, 2, tags, origin=LV))
        snap_b = fake_snapshot.fake_snapshot_obj(
            self.ctx, id=SNAP2, volume_id=VOL, volume=self.volume,
            project_id=PROJECT_B)
        for call in (self.driver.manage_existing_snapshot_get_size,
                     self.driver.manage_existing_snapshot):
            err = self.assertRaises(exception.ManageExistingAlreadyManaged,
                                    call, snap_b, ref)
            self.assertIn(SNAP, str(err))
        self.assert_untouched()

    def test_manage_snapshot_of_other_volume_by_origin(self):
        # Untagged, but a snapshot of another volume's LV.
        self.lv('s', row('s', 2, '', origin=LV2))
        self.assertRaises(exception.ManageExistingInvalidReference,
                          self.driver.manage_existing_snapshot,
                          self._snapshot(), {'source-name': 's'})
        self.assert_untouched()

    def test_manageable_listing_knows_tagged_ids(self):
        self.vg(row('legacy', 3, 'arca.kind=volume,arca.id=' + VOL2))
        result = self.driver.get_manageable_volumes(
            [self.vol_a], None, 10, 0, ['size'], ['asc'])
        self.assertFalse(result[0]['safe_to_manage'])
        self.assertEqual(VOL2, result[0]['cinder_id'])


class CinderOwnerDBTestCase(base.TestCase):
    """The look-up against a real (sqlite) Cinder database."""

    def setUp(self):
        super().setUp()
        from cinder.tests.unit import test as cinder_test
        from cinder.tests.unit import utils as cinder_utils
        self.utils = cinder_utils
        # Cinder's own test fixture: a fresh database and configuration.
        holder = type('Holder', (cinder_test.TestCase,),
                      {'runTest': lambda self: None})()
        holder.setUp()
        self.addCleanup(holder.doCleanups)
        self.ctx = context.get_admin_context()

    def test_lookups(self):
        owner = driver.ArcaNFSDriver._cinder_owner
        vol = self.utils.create_volume(self.ctx)
        self.assertIn(vol.id, owner(vol.id, ()))
        self.assertIsNone(owner(vol.id, {vol.id}))
        vol._name_id = OTHER
        vol.save()
        self.assertIn(vol.id, owner(OTHER, ()))
        snap = self.utils.create_snapshot(self.ctx, vol.id)
        self.assertIn(snap.id, owner(snap.id, ()))
        gone = self.utils.create_volume(self.ctx)
        gone.destroy()
        self.assertIsNone(owner(gone.id, ()))
        self.assertIsNone(owner(SNAP2, ()))


@ddt.ddt
class ConnectorAddressTestCase(test_driver.DriverTestCase):
    """Item 3: one rule for attach and for restored attachments."""

    NETWORKS = ('0.0.0.0/0', '10.9.0.0/24', '10.9.0.5/32', '::/0',
                'fd00::/64', '0.0.0.0', '224.0.0.1', 'example.com', '')

    def setUp(self):
        super().setUp()
        self.lv(LV, row(LV, 2, test_driver.TAGS))
        self.svm_exists()
        self.mounted(LV)

    @ddt.data(*NETWORKS)
    def test_ensure_export_restores_host_addresses_only(self, bad):
        self.ganesha.status.return_value = {'running': False}
        atts = [objects.VolumeAttachment(attach_status='attached',
                                         connector={'ip': ip})
                for ip in (bad, '10.9.0.5', 'fd00::5')]
        self.volume.volume_attachment = objects.VolumeAttachmentList(
            objects=atts)
        svms = self.driver.node_client.agent.svms
        with mock.patch.object(svms, 'ensure', return_value=None):
            self.driver.ensure_export(self.ctx, self.volume)
        self.assertEqual(['10.9.0.5', 'fd00::5'], self.clients_of())

    @ddt.data(*NETWORKS)
    def test_initialize_connection_same_rule(self, bad):
        self.exported()
        self.assertRaises(exception.InvalidConnectorException,
                          self.driver.initialize_connection, self.volume,
                          {'ip': bad})
        self.assertRaises(exception.InvalidConnectorException,
                          driver.connector_address, {'ip': bad})
        self.assertEqual([], self.clients_of())

    def test_one_function(self):
        with mock.patch.object(driver, 'connector_address',
                               wraps=driver.connector_address) as rule:
            self.exported()
            att = objects.VolumeAttachment(attach_status='attached',
                                           connector={'ip': '10.9.0.5'})
            self.volume.volume_attachment = objects.VolumeAttachmentList(
                objects=[att])
            self.driver.ensure_export(self.ctx, self.volume)
            self.driver.initialize_connection(self.volume,
                                              {'ip': '10.9.0.6'})
        self.assertEqual([mock.call({'ip': '10.9.0.5'}),
                          mock.call({'ip': '10.9.0.6'})], rule.call_args_list)


class Node(fake_node.FakeNode):
    """FakeNode with directories and injected failures.

    ``faults``: predicates on a command; a matching command fails (once
    each predicate is removed, it runs again).
    """

    def __init__(self):
        super().__init__()
        self.faults = []

    def _run(self, cmd, process_input, timeout):
        if any(fault(tuple(cmd)) for fault in self.faults):
            self.commands.append(tuple(cmd))
            self.inputs.append(process_input)
            return executor_mod.Result(5, '', 'injected failure\n')
        return super()._run(cmd, process_input, timeout)

    def _fs(self, cmd, data):
        if cmd[0] == 'ls':
            prefix = cmd[2] + '/'
            names = sorted({p[len(prefix):].split('/')[0] for p in self.fs
                            if p.startswith(prefix)})
            return executor_mod.Result(0, ''.join(n + '\n' for n in names),
                                       '')
        if tuple(cmd[:2]) == ('rm', '-rf'):
            for path in [p for p in self.fs if p.startswith(cmd[2] + '/')]:
                del self.fs[path]
            return fake_node.OK
        return super()._fs(cmd, data)


def _record(name, address, project):
    return json.dumps({'name': name, 'owner': 'arca.project=' + project,
                       'network': svm.make_network(
                           'vlan', [address + '/24'], ['10.0.0.1'],
                           parent='eth1', vlan=100)._asdict()})


def _tags(project, svm_name, **extra):
    fields = dict(project=project, svm=svm_name, **extra)
    return lvm.make_tags(**fields)


@ddt.ddt
class TransferTestCase(base.TestCase):
    """Item 4: after a transfer the export follows the new owner."""

    def setUp(self):
        super().setUp()
        self.node = self.executor = Node()
        self.driver = driver.ArcaNFSDriver(
            configuration=test_driver.FakeConf())
        self.driver.executor = self.node
        self.driver.do_setup(None)
        self.ganesha = fake_ganesha.FakeGanesha()
        self.driver.node_client.agent.svms.ganesha = self.ganesha
        self.driver.node_client.agent.svms.netns = base.mock_netns()
        self.node.fs['/var/lib/arca/svm/%s/svm.json' % SVM_A] = _record(
            SVM_A, '10.0.0.10', PROJECT_A)
        # Volume VOL, made in project A, mounted and exported by A's SVM
        # (with a stale rule of A's host), and its snapshot.
        self.node.lvs[LV] = dict(
            size=2 * GiB, origin='', fs='xfs', dirty=False, uuid='u1',
            image=GiB, tags=_tags(PROJECT_A, SVM_A, kind='volume', id=VOL))
        self.node.lvs[SNAP_LV] = dict(
            self.node.lvs[LV], origin=LV, tags=_tags(
                PROJECT_A, SVM_A, kind='snapshot', id=SNAP, size=1,
                volume=VOL))
        self.node.mounts[MNT] = LV
        self.ganesha.put(SVM_A, ganesha_config.Export(
            1, MNT, '/' + LV, (ganesha_config.ClientRule(HOST_A, 'rw'),)))
        # Transferred to project B: Cinder changed the project only.
        self.ctx = context.RequestContext('b', PROJECT_B, is_admin=False)
        self.volume = fake_volume.fake_volume_obj(
            self.ctx, id=VOL, size=1, project_id=PROJECT_B,
            provider_location='10.0.0.10:/' + LV)

    def export(self, svm_name):
        return self.ganesha.find_export(svm_name, MNT)

    def clients(self, svm_name):
        return [c.network for c in self.export(svm_name).clients]

    def assert_moved(self, clients=()):
        self.assertIsNone(self.export(SVM_A))
        self.assertEqual(list(clients), self.clients(SVM_B))
        self.assertEqual(sorted(_tags(PROJECT_B, SVM_B, kind='volume',
                                      id=VOL)),
                         sorted(self.node.lvs[LV]['tags']))
        self.assertEqual(sorted(_tags(PROJECT_B, SVM_B, kind='snapshot',
                                      id=SNAP, size=1, volume=VOL)),
                         sorted(self.node.lvs[SNAP_LV]['tags']))
        # Data and mount untouched.
        self.assertEqual(LV, self.node.mounts[MNT])
        self.assertEqual(GiB, self.node.lvs[LV]['image'])
        for cmd in self.node.commands:
            self.assertNotIn(cmd[0], ('umount', 'mount', 'lvremove',
                                      'lvrename', 'mkfs.xfs'))
        # A's SVM had nothing left: removed.
        self.ganesha.stop.assert_called_with(SVM_A)
        self.assertIsNone(self.driver.svms.get(SVM_A))
        self.assertIsNotNone(self.driver.svms.get(SVM_B))

    def test_create_export_moves(self):
        update = self.driver.create_export(self.ctx, self.volume, {})
        self.assertEqual({'provider_location': '10.0.0.11:/' + LV}, update)
        self.assert_moved()
        # The order: close A's export, publish on B, withdraw from A.
        calls = [(c[0], c[1][0]) for c in self.ganesha.mock_calls
                 if c[0] in ('serve', 'withdraw')]
        self.assertEqual([('serve', SVM_A), ('serve', SVM_B),
                          ('withdraw', SVM_A)], calls)
        self.assertEqual((), self.ganesha.updated[0][1].clients)
        # Then the attach: the new owner's host, at B's address.
        info = self.driver.initialize_connection(self.volume,
                                                 {'ip': HOST_B})
        self.assertEqual('10.0.0.11:/' + LV, info['data']['export'])
        self.assertEqual([HOST_B], self.clients(SVM_B))
        # Done: the next export moves nothing.
        self.node.reset()
        self.volume.provider_location = update['provider_location']
        self.assertIsNone(self.driver.create_export(self.ctx, self.volume,
                                                    {}))
        self.assertNotIn('lvchange', [c[0] for c in self.node.commands])

    def test_initialize_connection_alone_moves(self):
        info = self.driver.initialize_connection(self.volume,
                                                 {'ip': HOST_B})
        self.assertEqual('10.0.0.11:/' + LV, info['data']['export'])
        self.assert_moved([HOST_B])

    def test_ensure_export_moves_with_new_owner_attachments(self):
        att = objects.VolumeAttachment(attach_status='attached',
                                       connector={'ip': HOST_B})
        self.volume.volume_attachment = objects.VolumeAttachmentList(
            objects=[att])
        update = self.driver.ensure_export(self.ctx, self.volume)
        self.assertEqual({'provider_location': '10.0.0.11:/' + LV}, update)
        self.assert_moved([HOST_B])

    def test_old_svm_kept_while_used(self):
        self.ganesha.put(SVM_A, ganesha_config.Export(
            2, '/var/lib/arca/mnt/vol-other', '/vol-other',
            (ganesha_config.ClientRule(HOST_A, 'rw'),)))
        self.driver.create_export(self.ctx, self.volume, {})
        self.assertIsNone(self.export(SVM_A))
        self.assertIsNotNone(self.driver.svms.get(SVM_A))
        self.ganesha.stop.assert_not_called()
        self.assertEqual([HOST_A], [
            c.network for c in self.ganesha.exports[SVM_A][2].clients])

    def test_shared_svm_retags_and_drops_old_rules(self):
        conf = test_driver.FakeConf(arca_svm_mapping='shared',
                                    arca_shared_svm_name=SVM_A)
        self.driver.configuration = conf
        self.driver.do_setup(None)
        self.driver.node_client.agent.svms.ganesha = self.ganesha
        self.driver.node_client.agent.svms.netns = base.mock_netns()
        update = self.driver.create_export(self.ctx, self.volume, {})
        self.assertIsNone(update)
        self.assertEqual([], self.clients(SVM_A))
        self.assertEqual(sorted(_tags(PROJECT_B, SVM_A, kind='volume',
                                      id=VOL)),
                         sorted(self.node.lvs[LV]['tags']))
        self.ganesha.stop.assert_not_called()

    def _fault_cmd(self, *prefix):
        return lambda cmd: cmd[:len(prefix)] == prefix

    def _faults(self, point):
        lvchange = ('lvchange', '--addtag')
        deltag = ('lvchange', '--deltag')
        return {
            'tag_new_svm': ('node', self._fault_cmd(
                *lvchange, 'arca.svm=' + SVM_B)),
            'make_new_svm': ('node', lambda cmd: cmd[0] == 'tee' and
                             cmd[1].startswith('/var/lib/arca/svm/%s/'
                                               % SVM_B)),
            'list_snapshots': ('node', self._fault_cmd(
                *(lvm._LVS + ('arca',)))),
            'retag_snapshot': ('node', self._fault_cmd(
                *deltag, 'arca.project=' + PROJECT_A, 'arca/' + SNAP_LV)),
            'untag_old_svm': ('node', self._fault_cmd(
                *deltag, 'arca.svm=' + SVM_A, 'arca/' + LV)),
            'tag_new_project': ('node', self._fault_cmd(
                *lvchange, 'arca.project=' + PROJECT_B, 'arca/' + LV)),
            'untag_moved_from': ('node', self._fault_cmd(
                *deltag, 'arca.moved_from=' + SVM_A)),
            'close_old': ('serve', SVM_A),
            'publish_new': ('serve', SVM_B),
            'withdraw_old': ('withdraw', SVM_A),
            'release_old': ('stop', SVM_A),
        }[point]

    def _inject(self, point):
        kind, what = self._faults(point)
        if kind == 'node':
            self.node.faults.append(what)
            return lambda: self.node.faults.remove(what)
        method = getattr(self.ganesha, kind)
        real = method.side_effect

        def failing(svm_name, *args, **kwargs):
            if svm_name == what:
                raise arca_exception.CommandFailed(('ganesha',), 1, '',
                                                   'injected failure')
            return real(svm_name, *args, **kwargs) if real else None
        method.side_effect = failing
        return lambda: setattr(method, 'side_effect', real)

    @ddt.data('tag_new_svm', 'make_new_svm', 'close_old', 'publish_new',
              'withdraw_old', 'list_snapshots', 'retag_snapshot',
              'untag_old_svm', 'tag_new_project', 'release_old',
              'untag_moved_from')
    def test_crash_then_retry_converges(self, point):
        heal = self._inject(point)
        err = self.assertRaises(exception.VolumeBackendAPIException,
                                self.driver.create_export, self.ctx,
                                self.volume, {})
        self.assertTrue(str(err).strip())
        # Never lost; never open to A's host through B's SVM; A's host
        # keeps nothing once B serves the volume.
        served = [s for s in (SVM_A, SVM_B) if self.export(s)]
        self.assertTrue(served)
        if self.export(SVM_B):
            self.assertNotIn(HOST_A, self.clients(SVM_B))
            if self.export(SVM_A):
                self.assertEqual([], self.clients(SVM_A))
        self.assertEqual(LV, self.node.mounts[MNT])
        heal()
        # The retry (the next attach) finishes the move.
        update = self.driver.create_export(self.ctx, self.volume, {})
        self.assertEqual({'provider_location': '10.0.0.11:/' + LV}, update)
        self.assert_moved()
        # And once more: nothing left to do.
        self.node.reset()
        self.driver.create_export(self.ctx, self.volume, {})
        self.assertNotIn('lvchange', [c[0] for c in self.node.commands])

    def test_delete_after_interrupted_move(self):
        heal = self._inject('withdraw_old')
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_export, self.ctx, self.volume,
                          {})
        heal()
        del self.node.lvs[SNAP_LV]
        self.driver.delete_volume(self.volume)
        self.assertIsNone(self.export(SVM_A))
        self.assertIsNone(self.export(SVM_B))
        self.assertNotIn(LV, self.node.lvs)
        for name in (SVM_A, SVM_B):
            self.ganesha.stop.assert_any_call(name)


class RaiseMessagesTestCase(base.TestCase):
    """Every Cinder exception the driver raises says what happened."""

    def test_every_raise_carries_a_message(self):
        tree = ast.parse(inspect.getsource(driver))
        found = []
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and
                    isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            if not (isinstance(func, ast.Attribute) and
                    isinstance(func.value, ast.Name) and
                    func.value.id == 'exception'):
                continue
            name = func.attr
            keywords = {k.arg for k in node.exc.keywords}
            found.append(name)
            self.assertFalse(node.exc.args, '%s: positional arguments '
                             'are not its message' % name)
            self.assertTrue(keywords, '%s raised without a message' % name)
            cls = getattr(exception, name)
            if name == 'VolumeBackendAPIException':
                self.assertIn('data', keywords)
            elif 'message' not in keywords:
                # Every placeholder of its message is given.
                wanted = set(re.findall(r'%\((\w+)\)s', cls.message))
                self.assertEqual(wanted, wanted & keywords, name)
        self.assertIn('ManageExistingAlreadyManaged', found)
        self.assertIn('VolumeBackendAPIException', found)
