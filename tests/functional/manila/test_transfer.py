"""Share transfer (API 2.77) through real Manila.

* ``per_project`` SVMs: a share is served by its owner's SVM, on its
  owner's network. The driver refuses to hand it to another project (see
  ``ArcaShareDriver.transfer_accept``): Manila's transfer API rolls the
  accept back, the share stays with its owner, nothing on the storage
  node changes, and the owner's clients keep exactly their access;
* the ``shared`` SVM: the transfer is accepted, the share stays where it
  is, and the new owner's rules apply;
* share servers: Manila itself transfers no share of a share network.

Manila's transfer API calls the share service over RPC; here that call
runs the ShareManager in this process, as the service would.
"""

from unittest import mock

from manila.common import constants
from manila import context as manila_context
from manila import db
from manila import exception
from manila.message import message_field
from manila.share import rpcapi as share_rpcapi
from manila.transfer import api as transfer_api
from oslo_utils import uuidutils

from arca_openstack.node import export
from arca_openstack.node import lvm
from arca_openstack import svm_pools
from tests.functional.manila import base as mbase
from tests.functional.manila import test_shares

C1, C2 = mbase.C1, mbase.C2
RW = constants.ACCESS_LEVEL_RW


class TransferMixin(object):
    """Manila's transfer API with its RPC call run in this process."""

    def setUp(self):
        super().setUp()
        manager = self

        def transfer_accept(rpcapi, ctxt, share, new_user, new_project,
                            clear_rules=False):
            # What the share service does with the RPC call.
            manager.manager.transfer_accept(ctxt, share['id'], new_user,
                                            new_project,
                                            clear_rules=clear_rules)

        self._rpc_patch = mock.patch.object(
            share_rpcapi.ShareAPI, 'transfer_accept', transfer_accept)
        self._rpc_patch.start()
        self.addCleanup(self._rpc_patch.stop)
        self.transfers = transfer_api.API()

    def offer(self, share):
        """The owner offers the share to a new project.

        :returns: the new project's id, the transfer and the new
            project's accept (a callable).
        """
        transfer = self.transfers.create(self.ctxt, share['id'], 'to-b')
        new_project = uuidutils.generate_uuid(dashed=False)
        ctxt_b = manila_context.RequestContext(
            user_id='ftuser-b', project_id=new_project, is_admin=False)
        return new_project, transfer, lambda: self.transfers.accept(
            ctxt_b, transfer['id'], transfer['auth_key'])


class FlatTransferTestCase(TransferMixin, test_shares.FlatMixin,
                           mbase.ManilaLabTestCase):

    def _node_state(self, share, svm):
        """What serves the share on the storage node, and to whom."""
        lv = 'share-' + share.instance['id']
        ganesha = self.view.ganesha
        exports = sorted(
            (exp.pseudo, exp.clients, exp.read_only)
            for exp in (ganesha.get_export(svm, i)
                        for i in ganesha.export_ids(svm)) if exp)
        files = self.sh(self.s1, 'cd /var/lib/arca/svm && sha256sum '
                        '*/svm.json */ganesha.conf */exports/*.conf').stdout
        return {
            'tags': sorted(self.driver.pool.get(lv)['tags']),
            'svms': sorted(self.driver.svms.list()),
            'exports': exports,
            'files': files,
            'ganesha': ganesha.status(svm)['pid'],
            'mounted': self.view.xfs.is_mounted(export.mountpoint(lv)),
        }

    def test_transfer_to_another_project_refused(self):
        share = self.create_share(size=1)
        path = self.export_path(share)
        svm = self.owner(share)
        self.allow(share, C1, RW)
        self.mount(self.c1, path, 'a')
        digest = self.write_random(self.c1, '/mnt/a/data', 4)
        before = self._node_state(share, svm)

        self.step('transfer')
        # The owner offers the share; project B accepts it (with the
        # rules kept): refused, rolled back by Manila.
        new_project, transfer, accept = self.offer(share)
        self.assertRaises(exception.DriverCannotTransferShareWithRules,
                          accept)

        self.step('still the owner\'s')
        # Manila: the share is still the owner's, awaiting its transfer,
        # at the same place with the same rule; B was told why.
        share = db.share_get(self.ctxt, share['id'])
        self.assertEqual(
            (self.project_id, 'ftuser', constants.STATUS_AWAITING_TRANSFER),
            (share['project_id'], share['user_id'], share['status']))
        self.assertFalse(db.transfer_get(self.ctxt, transfer['id'])[
            'accepted'])
        self.assertEqual(path, self.export_path(share))
        rules = db.share_access_get_all_for_share(self.ctxt, share['id'])
        self.assertEqual([(C1, RW, constants.ACCESS_STATE_ACTIVE)],
                         [(r['access_to'], r['access_level'], r['state'])
                          for r in rules])
        messages = db.message_get_all(self.ctxt, sort_key='created_at',
                                      sort_dir='asc')
        self.assertIn(
            (new_project,
             message_field.Detail.DRIVER_FAILED_TRANSFER_ACCEPT[0]),
            [(m['project_id'], m['detail_id']) for m in messages])
        # The node: nothing changed, no SVM for project B.
        self.assertEqual(before, self._node_state(share, svm))
        self.assertNotIn(self.driver.svm_pools.svm_name(new_project),
                         self.driver.svms.list())

        self.step('owner\'s access unchanged')
        # c1 reads and writes on its mount and mounts again; c2 (not
        # listed) still cannot mount.
        self.assertEqual(digest, self.sha256(self.c1, '/mnt/a/data'))
        self.write_random(self.c1, '/mnt/a/more', 1)
        self.mount(self.c1, path, 'again')
        self.assertEqual(digest, self.sha256(self.c1, '/mnt/again/data'))
        self.assert_mount_refused(self.c2, path, 'refused')

        self.step('transfer withdrawn')
        # The owner withdraws the offer: the share is available again.
        self.transfers.delete(self.ctxt, transfer['id'])
        share = db.share_get(self.ctxt, share['id'])
        self.assertEqual(constants.STATUS_AVAILABLE, share['status'])

        self.step('delete')
        self.umount(self.c1, 'again')
        self.umount(self.c1, 'a')
        self.delete_share(share)
        self.finish(svm)


class SharedTransferTestCase(TransferMixin, test_shares.FlatMixin,
                             mbase.ManilaLabTestCase):
    """arca_svm_mapping = shared: the share stays on the shared SVM."""

    SHARED = mbase.PREFIXES[0] + 'shared'

    def backend_options(self):
        options = super().backend_options()
        options.update(arca_svm_mapping='shared',
                       arca_shared_svm_name=self.SHARED)
        return options

    def test_transfer_accepted_in_place(self):
        share = self.create_share(size=1)
        path = self.export_path(share)
        self.assertEqual(self.SHARED, self.owner(share))
        self.allow(share, C1, RW)
        self.mount(self.c1, path, 'a')
        digest = self.write_random(self.c1, '/mnt/a/data', 4)
        lv = 'share-' + share.instance['id']

        self.step('transfer')
        new_project, transfer, accept = self.offer(share)
        accept()

        self.step('the new owner\'s')
        # Manila: the new owner's share, at the same place, its rule
        # kept. The node: same SVM and export, the LV records its owner.
        share = db.share_get(self.ctxt, share['id'])
        self.assertEqual((new_project, constants.STATUS_AVAILABLE),
                         (share['project_id'], share['status']))
        self.assertEqual(path, self.export_path(share))
        fields = lvm.parse_tags(self.driver.pool.get(lv)['tags'])
        self.assertEqual((svm_pools.project_key(new_project), self.SHARED),
                         (fields['project'], fields['svm']))
        self.assertEqual(digest, self.sha256(self.c1, '/mnt/a/data'))
        # The new owner's rule for c2: c2 mounts the same export.
        self.allow(share, C2, RW)
        self.mount(self.c2, path, 'b')
        self.assertEqual(digest, self.sha256(self.c2, '/mnt/b/data'))

        self.step('delete')
        self.umount(self.c2, 'b')
        self.umount(self.c1, 'a')
        self.delete_share(share)


class ServerTransferTestCase(TransferMixin, test_shares.ServerMixin,
                             mbase.ManilaLabTestCase):
    """driver_handles_share_servers=True: Manila transfers no such share."""

    def test_transfer_of_share_network_share_refused(self):
        share = self.create_share(share_network=self.share_network())
        path = self.export_path(share)
        self.assertRaises(exception.InvalidShare, self.transfers.create,
                          self.ctxt, share['id'], 'to-b')
        share = db.share_get(self.ctxt, share['id'])
        self.assertEqual((self.project_id, constants.STATUS_AVAILABLE),
                         (share['project_id'], share['status']))
        self.assertEqual(path, self.export_path(share))
        server = self.server_of(share)
        self.delete_share(share)
        self.finish(server)
