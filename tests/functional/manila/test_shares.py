"""Shares, access, size, snapshots and share servers through real Manila.

Two flows (access and exact size; snapshots) run in both share server
modes; the per-server mode adds a second share server on another VLAN and
checks the two are isolated.

* driver_handles_share_servers=False: each project's SVM comes from an
  address pool on VLAN 100 (the tenant network of clients c1 and c2);
* driver_handles_share_servers=True: each share server is an SVM on the
  VLAN of its share network's subnet (100 or 200), its address allocated
  by Manila's network plugin.
"""

from manila.common import constants
from manila import db
from manila import exception
from manila.message import message_field
from manila.tests import db_utils
from oslo_utils import uuidutils

from arca_openstack.node import export
from arca_openstack.node import svm as svm_mod
from tests.functional.manila import base as mbase

GiB = mbase.GiB
MiB = 1024 ** 2
C1, C2, C3 = mbase.C1, mbase.C2, mbase.C3


class FlatMixin(object):
    """driver_handles_share_servers=False: SVMs from an address pool."""

    BACKEND = 'arca_flat'
    DHSS = False
    PREFIX = 'mftf_'

    def backend_options(self):
        return {'arca_address_pools': [
            'mode=vlan,parent=eth0,vlan=100,cidr=10.100.0.0/24,'
            'range=10.100.0.40-10.100.0.49,gateway=10.100.0.1']}

    def share_network(self, vlan=100):
        return None

    def check_isolation(self, share, path):
        """One SVM per project here: see the per-server test."""

    def owner(self, share):
        """What serves the share: its project's SVM."""
        return self.driver.svm_pools.svm_name(share['project_id'])

    def finish(self, svm):
        """After the owner's last share is deleted: the SVM is gone."""
        self.assertIsNone(svm_mod.SVMManager(self.s1.executor).get(svm))


class ServerMixin(object):
    """driver_handles_share_servers=True: one SVM per share server."""

    BACKEND = 'arca_dhss'
    DHSS = True
    PREFIX = 'mfts_'

    def backend_options(self):
        return {'arca_share_server_network_mode': 'vlan',
                'arca_share_server_parent_interface': 'eth0'}

    def share_network(self, vlan=100):
        net = db_utils.create_share_network(
            id=uuidutils.generate_uuid(), project_id=self.project_id,
            name='net%d' % vlan)
        db_utils.create_share_network_subnet(
            id=uuidutils.generate_uuid(), share_network_id=net['id'],
            network_type='vlan', segmentation_id=vlan,
            cidr='10.%d.0.0/24' % vlan, gateway=None,
            availability_zone_id=None, ip_version=4, mtu=1500)
        return net

    def server_of(self, share):
        instance = db.share_instance_get(self.ctxt, share.instance['id'])
        self.assertIsNotNone(instance['share_server_id'])
        return db.share_server_get(self.ctxt, instance['share_server_id'])

    def check_isolation(self, share1, path1):
        """A second share server on VLAN 200: the two are isolated.

        Neither reaches the other's clients, even with access rules that
        would admit them.
        """
        project, self.project_id = (
            self.project_id, uuidutils.generate_uuid(dashed=False))
        share2 = self.create_share(share_network=self.share_network(200))
        self.project_id = project
        server1, server2 = self.server_of(share1), self.server_of(share2)
        self.assertNotEqual(server1['id'], server2['id'])
        svm1 = server1['backend_details']['svm_name']
        svm2 = server2['backend_details']['svm_name']
        self.assertEqual(self.PREFIX + server1['id'].replace('-', ''), svm1)
        path2 = self.export_path(share2)
        addr1, addr2 = path1.split(':')[0], path2.split(':')[0]
        self.assertEqual(('10.100.0.50', '10.200.0.50'), (addr1, addr2))

        self.allow(share2, C3, constants.ACCESS_LEVEL_RW)
        self.allow(share2, C1, constants.ACCESS_LEVEL_RW)
        self.mount(self.c3, path2, 's2')
        self.write_random(self.c3, '/mnt/s2/data', 1)
        self.assertFalse(self.can_connect(self.c1, addr2))
        self.assertFalse(self.can_connect(self.c3, addr1))
        self.assertTrue(self.can_connect(self.c2, addr1))
        # Each SVM is a namespace of its own, with only its own address.
        for svm, mine, other in ((svm1, addr1, addr2),
                                 (svm2, addr2, addr1)):
            addrs = self.sh(self.s1, 'ip -n %s -4 -o addr' % svm).stdout
            self.assertIn(mine + '/24', addrs)
            self.assertNotIn(other, addrs)
        self.umount(self.c3, 's2')
        self.delete_share(share2)
        self.finish(server2)

    def owner(self, share):
        """What serves the share: its share server."""
        return self.server_of(share)

    def finish(self, server):
        """After its last share is deleted: delete the server, SVM gone."""
        svm = server['backend_details']['svm_name']
        self.manager.delete_share_server(self.ctxt, server)
        self.assertIsNone(svm_mod.SVMManager(self.s1.executor).get(svm))
        self.assertEqual([], db.network_allocations_get_for_share_server(
            self.ctxt, server['id']))


class ShareFlowTests(object):
    """The flows every mode runs (mixed into a ManilaLabTestCase)."""

    def served_by(self, share):
        """(SVM, ganesha_config.Export) serving the share on s1."""
        where = export.mountpoint('share-' + share.instance['id'])
        svms = svm_mod.SVMManager(self.s1.executor)
        found = [(name, self.view.ganesha.find_export(name, where))
                 for name in svms.list()]
        found = [(name, exp) for name, exp in found if exp is not None]
        self.assertEqual(1, len(found), found)
        return found[0]

    def test_access_and_exact_size(self):
        share = self.create_share(size=1, share_network=self.share_network())
        path = self.export_path(share)
        self.assertTrue(path.startswith('10.100.0.'), path)
        svm, served = self.served_by(share)
        offset = self.ganesha_log_size(self.s1, svm)

        self.step('allow c1 rw, c2 refused')
        # Only listed clients mount: c1 rw; c2 is not listed yet.
        rule_a = self.allow(share, C1, constants.ACCESS_LEVEL_RW)
        self.assert_mount_refused(self.c2, path, 'refused')
        self.mount(self.c1, path, 'a')
        self.assertIn('vers=4.2', self.sh(
            self.c1, 'grep " /mnt/a " /proc/mounts').stdout)
        digest = self.write_random(self.c1, '/mnt/a/data', 8)

        self.step('allow c2 ro')
        # c2 read-only: reads what c1 wrote, cannot write.
        self.allow(share, C2, constants.ACCESS_LEVEL_RO)
        self.mount(self.c2, path, 'b')
        self.assertEqual(digest, self.sha256(self.c2, '/mnt/b/data'))
        denied = self.sh(self.c2, 'echo x > /mnt/b/c2', check=False)
        self.assertNotEqual(0, denied.exit_code)
        self.assertIn('Read-only', denied.stderr)
        # Both rules reached Ganesha over D-Bus, without a SIGHUP reload of
        # the SVM's exports.
        answer = self.display_export(self.s1, svm, served.export_id)
        self.assertEqual(0, answer.exit_code, answer)
        self.assertIn(C1, answer.stdout)
        self.assertIn(C2, answer.stdout)
        self.assert_no_reload_since(self.s1, svm, offset)
        self.step('isolation')
        # A client of another tenant network does not even reach the SVM.
        self.assertFalse(self.can_connect(self.c3, path.split(':')[0]))
        self.check_isolation(share, path)

        self.step('exact size')
        # Exactly 1 GiB: df says so, and writing past it fails. The share
        # is filled on the storage node (fast), then c1 writes. An XFS
        # project quota reports ENOSPC, not EDQUOT: to clients a full
        # share looks like a full filesystem of its size.
        self.assertEqual(1 * GiB, self.df_bytes(self.c1, '/mnt/a')[0])
        mnt = export.mountpoint('share-' + share.instance['id'])
        self.sh(self.s1, 'fallocate -l %d %s/fill' % (GiB - 24 * MiB, mnt))
        full = self.write(self.c1, '/mnt/a/more', 32, check=False)
        self.assertNotEqual(0, full.exit_code)
        self.assertIn('No space left on device', full.stderr)
        self.step('quota usage')
        # The limit stopped it (the LV has 1 GiB + headroom more).
        used = self.view.quota.used(mnt)
        self.assertTrue(GiB - 8 * MiB < used <= GiB, used)
        self.sh(self.c1, 'rm -f /mnt/a/more')

        self.step('extend')
        # Extend: 2 GiB seen at once on the same mount, the write fits.
        self.manager.extend_share(self.ctxt, share['id'], 2, [])
        share = db.share_get(self.ctxt, share['id'])
        self.assertEqual((2, constants.STATUS_AVAILABLE),
                         (share['size'], share['status']))
        self.assertEqual(2 * GiB, self.df_bytes(self.c1, '/mnt/a')[0])
        self.write(self.c1, '/mnt/a/more', 32)

        self.step('shrink refused')
        # Shrink below the data: refused by the driver, nothing changes.
        self.assertRaises(exception.ShareShrinkingError,
                          self.manager.shrink_share, self.ctxt,
                          share['id'], 1)
        share = db.share_get(self.ctxt, share['id'])
        self.assertEqual((2, constants.STATUS_AVAILABLE),
                         (share['size'], share['status']))
        messages = db.message_get_all(self.ctxt, sort_key='created_at',
                                      sort_dir='asc')
        self.assertIn(message_field.Detail.DRIVER_REFUSED_SHRINK[0],
                      [m['detail_id'] for m in messages])
        self.assertEqual(2 * GiB, self.df_bytes(self.c1, '/mnt/a')[0])

        self.step('shrink')
        # Shrink once the data fits: accepted, 1 GiB again.
        self.sh(self.c1, 'rm -f /mnt/a/more; rm -f /mnt/a/fill; sync')
        self.manager.shrink_share(self.ctxt, share['id'], 1)
        share = db.share_get(self.ctxt, share['id'])
        self.assertEqual((1, constants.STATUS_AVAILABLE),
                         (share['size'], share['status']))
        self.assertEqual(1 * GiB, self.df_bytes(self.c1, '/mnt/a')[0])
        self.assertEqual(digest, self.sha256(self.c1, '/mnt/a/data'))

        self.step('deny')
        # Deny c1: it can no longer mount the share; c2 keeps its read
        # access on the same mount.
        self.umount(self.c1, 'a')
        self.deny(share, rule_a)
        self.assert_mount_refused(self.c1, path, 'a2')
        self.assertEqual(digest, self.sha256(self.c2, '/mnt/b/data'))

        self.step('delete')
        self.umount(self.c2, 'b')
        owner = self.owner(share)
        self.delete_share(share)
        self.finish(owner)

    def test_snapshots(self):
        net = self.share_network()
        share = self.create_share(size=1, share_network=net)
        path = self.export_path(share)
        self.allow(share, C1, constants.ACCESS_LEVEL_RW)
        self.mount(self.c1, path, 'a')
        before = self.write_random(self.c1, '/mnt/a/data', 4)

        snapshot = self.create_snapshot(share)
        after = self.write_random(self.c1, '/mnt/a/data', 4)
        self.assertNotEqual(before, after)

        self.step('share from snapshot')
        # A share from the snapshot holds the data of the snapshot and is
        # independent of its origin (both mounted at once: own XFS UUID).
        clone = self.create_share(size=1, share_network=net,
                                  snapshot=snapshot)
        clone_path = self.export_path(clone)
        self.allow(clone, C2, constants.ACCESS_LEVEL_RW)
        self.mount(self.c2, clone_path, 'clone')
        self.assertEqual(before, self.sha256(self.c2, '/mnt/clone/data'))
        self.write_random(self.c2, '/mnt/clone/data', 1)
        self.assertEqual(after, self.sha256(self.c1, '/mnt/a/data'))
        self.assertEqual(1 * GiB, self.df_bytes(self.c2, '/mnt/clone')[0])

        self.step('mountable snapshot')
        # The snapshot, mounted read-only with its own access rule.
        snap_path = self.snapshot_export_path(snapshot)
        self.assertTrue(snap_path.startswith(path.split(':')[0] + ':'))
        self.allow_snapshot(snapshot, C2)
        self.mount(self.c2, snap_path, 'snap')
        self.assertEqual(before, self.sha256(self.c2, '/mnt/snap/data'))
        denied = self.sh(self.c2, 'echo x > /mnt/snap/x', check=False)
        self.assertNotEqual(0, denied.exit_code)
        self.assertIn('Read-only', denied.stderr)
        self.assert_mount_refused(self.c1, snap_path, 'snap-refused')

        self.step('revert')
        # Revert: the share holds the snapshot's data again, its access
        # rules still apply.
        self.umount(self.c1, 'a')
        self.manager.revert_to_snapshot(self.ctxt, snapshot['id'], [])
        share = db.share_get(self.ctxt, share['id'])
        self.assertEqual(constants.STATUS_AVAILABLE, share['status'])
        self.mount(self.c1, path, 'a')
        self.assertEqual(before, self.sha256(self.c1, '/mnt/a/data'))
        self.write_random(self.c1, '/mnt/a/new', 1)
        self.assertEqual(before, self.sha256(self.c2, '/mnt/snap/data'))

        self.step('delete')
        # Delete everything; the clone outlives its snapshot.
        self.umount(self.c2, 'snap')
        self.manager.delete_snapshot(self.ctxt, snapshot['id'])
        self.assertRaises(exception.ShareSnapshotNotFound,
                          db.share_snapshot_get, self.ctxt, snapshot['id'])
        self.assertIsNone(self.driver.pool.get(
            'ssnap-' + snapshot.instance['id']))
        self.assertNotEqual(before, self.sha256(self.c2,
                                                '/mnt/clone/data'))
        self.umount(self.c2, 'clone')
        self.umount(self.c1, 'a')
        owner = self.owner(share)
        self.delete_share(clone)
        self.delete_share(share)
        self.finish(owner)


class FlatShareTestCase(FlatMixin, ShareFlowTests,
                        mbase.ManilaLabTestCase):
    pass


class ServerShareTestCase(ServerMixin, ShareFlowTests,
                          mbase.ManilaLabTestCase):
    pass
