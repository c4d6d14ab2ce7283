"""Share transfer (API 2.77) through real Manila.

* ``per_project`` SVMs: the transfer is accepted and the share stays on
  the SVM that served it (Manila keeps its export locations); the new
  owner's rules apply there, and that SVM is removed only when it serves
  nothing any more;
* the ``shared`` SVM: the same, on the shared SVM;
* share servers: Manila itself transfers no share of a share network.

Manila's transfer API calls the share service over RPC; here that call
runs the ShareManager in this process, as the service would.
"""

from unittest import mock

from manila.common import constants
from manila import context as manila_context
from manila import db
from manila import exception
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

    def test_transfer_accepted_in_place(self):
        share = self.create_share(size=1)
        path = self.export_path(share)
        svm = self.owner(share)
        self.allow(share, C1, RW)
        self.mount(self.c1, path, 'a')
        digest = self.write_random(self.c1, '/mnt/a/data', 4)
        before = self._node_state(share, svm)

        self.step('transfer')
        # The owner offers the share; project B accepts it, rules kept.
        new_project, _transfer, accept = self.offer(share)
        accept()

        self.step('the new owner\'s')
        # Manila: B's share, at the same place, the rule kept. The node:
        # the same SVM, export and clients; only the LV's project tag
        # changed, and no SVM was made for B.
        share = db.share_get(self.ctxt, share['id'])
        self.assertEqual((new_project, 'ftuser-b', constants.STATUS_AVAILABLE),
                         (share['project_id'], share['user_id'],
                          share['status']))
        self.assertEqual(path, self.export_path(share))
        after = self._node_state(share, svm)
        fields = lvm.parse_tags(after.pop('tags'))
        self.assertEqual((svm_pools.project_key(new_project), svm),
                         (fields['project'], fields['svm']))
        before.pop('tags')
        self.assertEqual(before, after)
        self.assertNotIn(self.driver.svm_pools.svm_name(new_project),
                         self.driver.svms.list())

        self.step('new owner\'s rules')
        # c1 carries on; B's rule for c2 lets c2 mount the same export.
        self.assertEqual(digest, self.sha256(self.c1, '/mnt/a/data'))
        self.allow(share, C2, RW)
        self.mount(self.c2, path, 'b')
        self.assertEqual(digest, self.sha256(self.c2, '/mnt/b/data'))

        self.step('delete')
        # The SVM served only this share: it goes with it.
        self.umount(self.c2, 'b')
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
