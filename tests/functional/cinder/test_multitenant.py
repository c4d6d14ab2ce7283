"""Projects against each other, through real Cinder, in the UML lab.

* an admin's ``manage`` of project A's attached volume on behalf of
  project B (by ``source-name`` and by ``source-id``) fails and leaves
  A's volume attached, readable and exported to A's host only;
* after a volume transfer from A to B, B's attach hands out B's SVM, B's
  client mounts it from there, A's client reaches neither SVM, and A's
  SVM is gone once nothing uses it.

Same lab and harness as test_volumes (pool ``a``, VLAN 100, holds one
address: the first project's SVM; the next one lands on VLAN 200).
"""

import time
import uuid

from cinder import context as cinder_context
from cinder import objects

from arca_openstack.node import ganesha
from arca_openstack.node import lvm
from tests.functional.cinder import test_volumes

CLIENTS = test_volumes.CLIENTS
SVM_A_ADDR = test_volumes.SVM_A_ADDR
SVM_B_ADDR = test_volumes.SVM_B_ADDR
VG, POOL = test_volumes.VG, test_volumes.POOL


class MultiTenantTestCase(test_volumes.ArcaCinderTestCase):

    def setUp(self):
        super().setUp()
        self.timings = {}
        self.project_a = uuid.uuid4().hex
        self.project_b = uuid.uuid4().hex
        self.svm_a = 'cinder_' + self.project_a
        self.svm_b = 'cinder_' + self.project_b
        # Cinder's default RPC timeout (the harness's is 15 s): the first
        # attach after a transfer makes the new owner's SVM, about as long
        # as a new project's first volume, in the same call.
        self.messaging_conf.response_timeout = 60

    def timed(self, name, func, *args, **kwargs):
        started = time.monotonic()
        try:
            return func(*args, **kwargs)
        finally:
            self.timings[name] = time.monotonic() - started

    def print_timings(self, what):
        print('%s timings (s): %s' % (what, ', '.join(
            '%s %.1f' % kv for kv in sorted(self.timings.items()))))

    def tags(self, lv):
        info = lvm.ThinPool(self.s1.executor, VG, POOL).get(lv)
        return lvm.parse_tags(info['tags'])

    def export_clients(self, svm, lv):
        """Client addresses of the SVM's export of ``lv`` (None: none)."""
        exp = ganesha.Ganesha(self.s1.executor).find_export(
            svm, '/var/lib/arca/mnt/' + lv)
        return None if exp is None else [c.network for c in exp.clients]

    def remount(self, node, info, image):
        """A fresh mount (no client cache): the export still admits it."""
        self.umount(node, image)
        image, _r = self.mount(node, info)
        return image

    def owned_by(self, kind, res_id, project):
        self.created = [(k, r, project if r == res_id else p)
                        for k, r, p in self.created]


class ManageLiveVolumeTestCase(MultiTenantTestCase):

    def test_manage_attached_volume_of_other_project_fails(self):
        self.api.update_project(self.project_a)
        vol = self.create_volume(1)
        lv = 'vol-' + vol['id']
        info = self.attach(vol['id'], self.c1)
        self.assert_connection_info(info, vol['id'], SVM_A_ADDR)
        image, _r = self.mount(self.c1, info)
        data = self.write_regions(self.c1, image)
        host = self.api.get_volume(vol['id'])['os-vol-host-attr:host']
        tags = self.tags(lv)
        c1_ip = CLIENTS['c1'][1]
        self.assertEqual([c1_ip], self.export_clients(self.svm_a, lv))

        for form, ref in (('source-name', {'source-name': lv}),
                          ('source-id', {'source-id': vol['id']})):
            # The admin manages it on behalf of project B.
            self.api.update_project(self.project_b)
            started = time.monotonic()
            managed = self.api.post_manage_volume(host=host,
                                                  ref=ref)['volume']
            self.created.append(('volume', managed['id'], self.project_b))
            # Refused by manage_existing_get_size: Cinder's flow sets
            # 'error' (by manage_existing: 'error_managing').
            self.wait_for(lambda: self.api.get_volume(managed['id'])[
                'status'] in ('error', 'error_managing'), timeout=180,
                interval=0.5, what='the manage request to fail')
            self.timings['manage by ' + form] = time.monotonic() - started

            # Nothing changed for A: attached, same LV and tags, exported
            # by A's SVM to c1 alone; B got no SVM.
            self.api.update_project(self.project_a)
            self.assertEqual('in-use',
                             self.api.get_volume(vol['id'])['status'])
            self.assertEqual({lv}, self.lvs())
            self.assertEqual(tags, self.tags(lv))
            self.assertEqual({self.svm_a}, self.svm_records())
            self.assertEqual([c1_ip], self.export_clients(self.svm_a, lv))
            # c1 still reads its data through a fresh mount; c2 (same
            # VLAN, not attached) is refused.
            image = self.timed('remount after ' + form, self.remount,
                               self.c1, info, image)
            self.assertEqual(data, self.read_regions(self.c1, image))
            self.assert_refused(self.c2, info)

        self.umount(self.c1, image)
        self.detach(vol['id'], self.c1)
        self.delete('volume', vol['id'])
        self.api.update_project(self.project_b)
        for kind, res_id, project in list(self.created):
            if project == self.project_b:
                self.delete(kind, res_id)
        self.assertEqual(set(), self.lvs())
        self.assertEqual(set(), self.svm_records())
        self.print_timings('manage attempts')


class TransferTestCase(MultiTenantTestCase):

    def test_transfer_moves_export_to_new_owner_svm(self):
        self.api.update_project(self.project_a)
        vol = self.create_volume(1)
        lv = 'vol-' + vol['id']
        info_a = self.attach(vol['id'], self.c1)
        self.assert_connection_info(info_a, vol['id'], SVM_A_ADDR)
        image, _r = self.mount(self.c1, info_a)
        data = self.write_regions(self.c1, image)
        self.umount(self.c1, image)
        self.detach(vol['id'], self.c1)
        # A snapshot goes with the volume (its tag names A's SVM).
        snap = self.create_snapshot(vol['id'])
        snap_lv = 'snap-' + snap['id']
        self.assertEqual(self.svm_a, self.tags(snap_lv)['svm'])
        self.assertEqual({self.svm_a}, self.svm_records())

        transfer = self.api.api_post('/os-volume-transfer', {
            'transfer': {'volume_id': vol['id'], 'name': 'to-b'}})[
            'transfer']
        self.api.update_project(self.project_b)
        self.timed('transfer accept', self.api.api_post,
                   '/os-volume-transfer/%s/accept' % transfer['id'],
                   {'accept': {'auth_key': transfer['auth_key']}})
        self.owned_by('volume', vol['id'], self.project_b)
        self.owned_by('snapshot', snap['id'], self.project_b)
        self.assertEqual(self.project_b, self.api.get_volume(vol['id'])[
            'os-vol-tenant-attr:tenant_id'])

        # B's attach: B's SVM (made now, on VLAN 200), B's client.
        info_b = self.timed('first attach after transfer', self.attach,
                            vol['id'], self.c3)
        self.assert_connection_info(info_b, vol['id'], SVM_B_ADDR)
        saved = objects.Volume.get_by_id(cinder_context.get_admin_context(),
                                         vol['id'])
        self.assertEqual('%s:/%s' % (SVM_B_ADDR, lv),
                         saved.provider_location)
        image_b, _r = self.mount(self.c3, info_b)
        self.assertEqual(data, self.read_regions(self.c3, image_b))
        self.assertEqual([CLIENTS['c3'][1]],
                         self.export_clients(self.svm_b, lv))

        # The LV and its snapshot follow B; A's SVM had nothing left and
        # is gone: A's client reaches neither SVM.
        for name in (lv, snap_lv):
            tags = self.tags(name)
            self.assertEqual((self.svm_b, self.project_b),
                             (tags['svm'], tags['project']), name)
            self.assertNotIn('moved_from', tags)
        self.assertEqual({self.svm_b}, self.svm_records())
        self.assertFalse(self.can_connect(self.c1, SVM_A_ADDR))
        self.assertFalse(self.can_connect(self.c1, SVM_B_ADDR))
        self.assert_refused(self.c1, info_a)
        # c2 (A's VLAN too) is refused the same way.
        self.assertFalse(self.can_connect(self.c2, SVM_B_ADDR))

        self.umount(self.c3, image_b)
        self.timed('detach', self.detach, vol['id'], self.c3)
        self.delete('snapshot', snap['id'])
        self.delete('volume', vol['id'])
        self.assertEqual(set(), self.lvs())
        self.assertEqual(set(), self.svm_records())
        self.print_timings('transfer')
