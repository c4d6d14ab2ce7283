"""Restart, manage/unmanage and usage through real Manila.

* a storage node fault (Ganesha killed, the share unmounted) and a
  manila-share restart: the API's ensure-shares action serves the shares
  again with their access rules (per share server);
* unmanage a share and its snapshot, manage them back from what is left
  on the node (per-project SVMs);
* the used space Manila's usage task gathers (per-project SVMs).
"""

from unittest import mock

from manila.common import constants
from manila import db
from manila import exception
from manila.tests import db_utils
from manila.tests import fake_notifier

from arca_openstack.node import export
from arca_openstack.node import lvm
from tests.functional.manila import base as mbase
from tests.functional.manila import test_shares

GiB = mbase.GiB
MiB = 1024 ** 2
C1, C2 = mbase.C1, mbase.C2
RW, RO = constants.ACCESS_LEVEL_RW, constants.ACCESS_LEVEL_RO
# c3 on VLAN 100 for a while: a client the rules do not list.
C3_VLAN100 = '10.100.0.23'


class RestartTestCase(test_shares.ServerMixin, mbase.ManilaLabTestCase):

    def _add_unlisted_client(self):
        """c3 on the share's VLAN too: reaches the SVM, is not listed."""
        self.sh(self.c3, 'ip link add link eth0 name eth0.100 type vlan '
                'id 100 && ip addr add %s/24 dev eth0.100 && '
                'ip link set eth0.100 up' % C3_VLAN100)
        self.addCleanup(self.sh, self.c3, 'ip link del eth0.100',
                        check=False)

    def test_node_fault_restart_and_ensure_shares(self):
        share = self.create_share(share_network=self.share_network())
        path = self.export_path(share)
        address = path.split(':')[0]
        rules = [self.allow(share, C1, RW), self.allow(share, C2, RO)]
        self.mount(self.c1, path, 'a')
        digest = self.write_random(self.c1, '/mnt/a/data', 8)
        svm = self.server_of(share)['backend_details']['svm_name']
        mountpoint = export.mountpoint('share-' + share.instance['id'])
        ganesha = self.view.ganesha

        self.step('node fault')
        # The SVM's Ganesha dies and the share's filesystem is unmounted
        # on the node; c1 keeps its mount.
        pid = ganesha.status(svm)['pid']
        self.sh(self.s1, 'kill -9 %d' % pid)
        self.wait_for(lambda: not ganesha.status(svm)['running'],
                      timeout=30, what='Ganesha to die')
        self.sh(self.s1, 'umount %s' % mountpoint)
        self.assertFalse(self.can_connect(self.c1, address))

        self.step('restart')
        # manila-share restarts. Its backend information is unchanged,
        # so Manila skips ensure_shares: the share stays down, and Manila
        # still believes it available.
        self.restart()
        self.assertFalse(ganesha.status(svm)['running'])
        self.assertEqual(constants.STATUS_AVAILABLE, db.share_get(
            self.ctxt, share['id']).instance['status'])

        self.step('ensure shares')
        # The API's ensure-shares action for the backend (what the doc
        # tells operators to run after a storage node fault).
        service = db.service_create(self.ctxt, {
            'host': self.manager.host, 'binary': 'manila-share',
            'topic': 'manila-share', 'availability_zone': 'nova'})
        with mock.patch.object(self.driver, 'update_access',
                               wraps=self.driver.update_access) as spy:
            self.manager.ensure_driver_resources(
                self.ctxt, skip_backend_info_check=True)
        status = ganesha.status(svm)
        self.assertTrue(status['running'])
        self.assertNotEqual(pid, status['pid'])
        self.assertTrue(self.view.xfs.is_mounted(mountpoint))
        # Manila: the share available at the same place, and, as the
        # driver asked (reapply_access_rules), every rule re-applied in
        # one call and active again.
        instance = db.share_instance_get(self.ctxt, share.instance['id'])
        self.assertEqual(
            (constants.STATUS_AVAILABLE, constants.STATUS_ACTIVE),
            (instance['status'], instance['access_rules_status']))
        self.assertEqual(path, self.export_path(share))
        self.assertFalse(db.service_get(self.ctxt, service['id'])['ensuring'])
        spy.assert_called_once()
        applied = spy.call_args[0][2]
        self.assertEqual({(C1, RW), (C2, RO)}, set(
            (r['access_to'], r['access_level']) for r in applied))
        for rule in rules:
            self.assertEqual(constants.ACCESS_STATE_ACTIVE,
                             self.rule_state(share, rule))

        self.step('served again')
        # c1's mount carries on: it reads what it wrote and writes.
        self.assertEqual(digest, self.sha256(self.c1, '/mnt/a/data'))
        self.write_random(self.c1, '/mnt/a/new', 1)
        # c2 mounts read-only; a client not listed cannot mount.
        self.mount(self.c2, path, 'b')
        self.assertEqual(digest, self.sha256(self.c2, '/mnt/b/data'))
        denied = self.sh(self.c2, 'echo x > /mnt/b/c2', check=False)
        self.assertIn('Read-only', denied.stderr)
        self._add_unlisted_client()
        self.assertTrue(self.can_connect(self.c3, address))
        self.assert_mount_refused(self.c3, path, 'c3')

        self.step('delete')
        self.umount(self.c1, 'a')
        self.umount(self.c2, 'b')
        server = self.server_of(share)
        self.delete_share(share)
        self.finish(server)


class FlatLifecycleTestCase(test_shares.FlatMixin, mbase.ManilaLabTestCase):

    def _not_managed(self, lv):
        """The LV is still there, no SVM's: untagged, not mounted."""
        info = self.driver.pool.get(lv)
        self.assertIsNotNone(info, lv)
        self.assertNotIn('svm', lvm.parse_tags(info['tags']))
        self.assertFalse(self.view.xfs.is_mounted(export.mountpoint(lv)))

    def test_unmanage_and_manage(self):
        share = self.create_share(size=1)
        path = self.export_path(share)
        self.allow(share, C1, RW)
        self.mount(self.c1, path, 'a')
        before = self.write_random(self.c1, '/mnt/a/data', 4)
        snapshot = self.create_snapshot(share)
        after = self.write_random(self.c1, '/mnt/a/data', 4)
        self.umount(self.c1, 'a')
        lv = 'share-' + share.instance['id']
        snap_lv = snapshot.instance['provider_location']
        self.assertEqual('ssnap-' + snapshot.instance['id'], snap_lv)
        svm = self.owner(share)

        self.step('unmanage')
        # The snapshot first (Manila's API refuses to unmanage a share
        # with snapshots), each as the API does it.
        db.share_snapshot_update(self.ctxt, snapshot['id'], {
            'status': constants.STATUS_UNMANAGING})
        self.manager.unmanage_snapshot(self.ctxt, snapshot['id'])
        self.assertRaises(exception.ShareSnapshotNotFound,
                          db.share_snapshot_get, self.ctxt, snapshot['id'])
        db.share_update(self.ctxt, share['id'], {
            'status': constants.STATUS_UNMANAGING})
        self.manager.unmanage_share(self.ctxt, share['id'])
        self.assertRaises(exception.NotFound, db.share_get, self.ctxt,
                          share['id'])
        # Both LVs stay with their data, served by nothing: the project's
        # SVM, left with nothing to serve, is gone.
        self._not_managed(lv)
        self._not_managed(snap_lv)
        self.assertIsNone(self.driver.svms.get(svm))

        self.step('manage share')
        # As the API's manage: a share row in manage_starting with the
        # export path the admin gave, then ShareManager.manage_share.
        managed = self.share_row(status=constants.STATUS_MANAGING,
                                 size=None)
        db.export_locations_update(self.ctxt, managed.instance['id'], path)
        self.manager.manage_share(self.ctxt, managed['id'], {})
        managed = db.share_get(self.ctxt, managed['id'])
        self.assertEqual((constants.STATUS_AVAILABLE, 1),
                         (managed['status'], managed['size']))
        new_lv = 'share-' + managed.instance['id']
        new_path = self.export_path(managed)
        self.assertTrue(new_path.endswith(':/' + new_lv), new_path)
        self.assertIsNone(self.driver.pool.get(lv))
        fields = lvm.parse_tags(self.driver.pool.get(new_lv)['tags'])
        self.assertEqual((managed.instance['id'], 'share', svm),
                         (fields['id'], fields['kind'], fields['svm']))

        self.step('manage snapshot')
        # As the API's manage_snapshot: the provider location the driver
        # gave the snapshot before.
        snap = db_utils.create_snapshot(
            share_id=managed['id'], provider_location=snap_lv,
            project_id=self.project_id, user_id='ftuser', size=None,
            share_size=managed['size'], status=constants.STATUS_MANAGING)
        self.manager.manage_snapshot(self.ctxt, snap['id'], {})
        snap = db.share_snapshot_get(self.ctxt, snap['id'])
        self.assertEqual((constants.STATUS_AVAILABLE, 1),
                         (snap['status'], snap['size']))
        self.assertEqual('ssnap-' + snap.instance['id'],
                         snap.instance['provider_location'])
        self.assertIsNone(self.driver.pool.get(snap_lv))

        self.step('access again')
        # Rules again: the share holds the data last written, exactly
        # its size; the snapshot the data before it.
        self.allow(managed, C1, RW)
        self.mount(self.c1, new_path, 'm')
        self.assertEqual(after, self.sha256(self.c1, '/mnt/m/data'))
        self.assertEqual(1 * GiB, self.df_bytes(self.c1, '/mnt/m')[0])
        self.allow_snapshot(snap, C2)
        self.mount(self.c2, self.snapshot_export_path(snap), 'snap')
        self.assertEqual(before, self.sha256(self.c2, '/mnt/snap/data'))

        self.step('delete')
        self.umount(self.c2, 'snap')
        self.umount(self.c1, 'm')
        self.manager.delete_snapshot(self.ctxt, snap['id'])
        self.delete_share(managed)
        self.finish(svm)

    def _usage(self):
        """used_size (GiB) of each share by the manager's usage task."""
        fake_notifier.reset()
        self.manager.update_share_usage_size(self.ctxt)
        return {n['payload']['share_id']: n['payload']['used_size']
                for n in fake_notifier.NOTIFICATIONS
                if n['event_type'] == 'share.consumed.size'}

    def test_usage(self):
        share = self.create_share(size=1)
        other = self.create_share(size=1)
        self.allow(share, C1, RW)
        self.mount(self.c1, self.export_path(share), 'a')
        first = self._usage()
        self.assertEqual({share['id'], other['id']}, set(first))
        self.assertLess(first[share['id']], 1.0 / 1024)

        self.step('write 64 MiB')
        # Each share's own data: only the written one grows, by 64 MiB
        # and the blocks XFS may still hold preallocated past the end of
        # the file (up to its size again while Ganesha keeps it open).
        self.write(self.c1, '/mnt/a/data', 64)
        second = self._usage()
        grown = (second[share['id']] - first[share['id']]) * GiB
        self.assertTrue(64 * MiB <= grown <= 130 * MiB, grown)
        self.assertEqual(first[other['id']], second[other['id']])

        self.step('delete')
        self.umount(self.c1, 'a')
        svm = self.owner(share)
        self.delete_share(share)
        self.delete_share(other)
        self.finish(svm)
