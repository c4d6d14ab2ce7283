"""Links a tenant plants in its share: no Manila operation follows them.

A share is exported whole, and a client with a rw rule writes anywhere in
it as root (no_root_squash). Through its NFS mount, client c1 plants
symbolic links to the node's /etc, /etc/passwd and /root, to an XFS
directory of the node with another project id, to another project's
share (its mountpoint, a directory, a file), a dangling link, a loop,
links in subdirectories (one climbing out with ``..``), a link named
``volume.raw`` to a file of the node, and a FIFO. Then every operation
of the driver runs through the real ShareManager on that share: access
update, extend, shrink, usage, snapshot and its access, share from
snapshot, revert, ensure, snapshot delete, unmanage and manage (whose
XFS project walk goes through the whole tree), delete. Each must
succeed: the links are the tenant's own data. After each one, nothing
outside the tenant's share changed (see tests/functional/symlinks.py):
the node's canaries, and the other project's share, whose files carry
another XFS project id.
"""

from unittest import mock

from manila.common import constants
from manila import db
from manila.tests import fake_notifier
from oslo_utils import uuidutils

from arca_openstack.node import export
from tests.functional.manila import base as mbase
from tests.functional.manila import test_shares
from tests.functional import symlinks

C1, C2 = mbase.C1, mbase.C2
RW, RO = constants.ACCESS_LEVEL_RW, constants.ACCESS_LEVEL_RO
AVAILABLE = constants.STATUS_AVAILABLE
CANARY_RAW = '/root/canary.raw'
# Another project id for the tenant's own file: the manage walk sets it
# back to the share's (1), which shows the walk ran.
OWN_PROJECT = 7

# Run by root on c1 in the share's NFS mount. {victim}: the other
# project's share mountpoint on the node.
PLANT = '''set -e
ln -s /etc l
ln -s /etc/passwd passwd
ln -s {canary_dir} x
ln -s {canary_raw} volume.raw
ln -s {canary_xfs} xfs
ln -s {victim} other
ln -s {victim}/dir otherdir
ln -s {victim}/dir/secret otherfile
ln -s {canary_dir}/new dangling
ln -s loop2 loop1
ln -s loop1 loop2
mkdir -p sub/deeper data
ln -s ../../.. sub/deeper/up
ln -s /etc sub/deeper/etc
ln -s /root sub/root
mkfifo fifo
echo data > data/f
sync
'''
LINKS = {
    'l': '/etc', 'passwd': '/etc/passwd', 'x': symlinks.CANARY_DIR,
    'volume.raw': CANARY_RAW, 'xfs': symlinks.CANARY_XFS,
    'dangling': symlinks.CANARY_DIR + '/new', 'loop1': 'loop2',
    'loop2': 'loop1', 'sub/deeper/up': '../../..',
    'sub/deeper/etc': '/etc', 'sub/root': '/root',
}


class ShareSymlinkTestCase(test_shares.FlatMixin, mbase.ManilaLabTestCase):

    def setUp(self):
        super().setUp()
        symlinks.make_canaries(self.s1, [CANARY_RAW])
        self.addCleanup(symlinks.remove_canaries, self.s1, [CANARY_RAW])

    def planted(self, mnt):
        """{relative path: target} of the links in a share, on the node."""
        state = symlinks.read_state(self.s1, [symlinks.tree(mnt)])
        return {path[len(mnt) + 1:]: rec['target']
                for path, rec in state.items() if 'target' in rec}

    def projid(self, path):
        state = symlinks.read_state(self.s1, [path])
        return state[path]['fsxattr']['projid']

    def assert_share(self, share, size=None):
        """The share is available (and of ``size`` GiB)."""
        share = db.share_get(self.ctxt, share['id'])
        self.assertEqual(AVAILABLE, share.instance['status'])
        if size is not None:
            self.assertEqual(size, share['size'])
        return share

    def driver_errors(self, name):
        """Patch a driver method to record what it raises (the list)."""
        errors = []
        real = getattr(self.driver, name)

        def spy(*args, **kwargs):
            try:
                return real(*args, **kwargs)
            except Exception as err:
                errors.append(err)
                raise

        patcher = mock.patch.object(self.driver, name, side_effect=spy)
        patcher.start()
        self.addCleanup(patcher.stop)
        return errors

    def test_operations_do_not_follow_planted_links(self):
        # Another project's share: a directory and a file of another
        # XFS project id, which a project walk through a link would set.
        project, self.project_id = (
            self.project_id, uuidutils.generate_uuid(dashed=False))
        victim = self.create_share(size=1)
        victim_owner = self.owner(victim)
        self.project_id = project
        victim_mnt = export.mountpoint('share-' + victim.instance['id'])
        self.sh(self.s1, 'mkdir {m}/dir && echo secret > {m}/dir/secret && '
                'xfs_io -c "chproj {p}" {m}/dir {m}/dir/secret'.format(
                    m=victim_mnt, p=symlinks.PROJECT))

        share = self.create_share(size=1)
        path = self.export_path(share)
        owner = self.owner(share)
        mnt = export.mountpoint('share-' + share.instance['id'])
        canaries = symlinks.Canaries(
            self, self.s1, symlinks.node_canaries() + [
                CANARY_RAW, symlinks.tree(victim_mnt)], raws=[CANARY_RAW])

        self.step('plant')
        # As the tenant: root on c1, through the share's NFS mount.
        self.allow(share, C1, RW)
        self.mount(self.c1, path, 'h')
        self.sh(self.c1, 'cd /mnt/h && ' + PLANT.format(
            canary_dir=symlinks.CANARY_DIR, canary_raw=CANARY_RAW,
            canary_xfs=symlinks.CANARY_XFS, victim=victim_mnt))
        self.umount(self.c1, 'h')
        links = dict(LINKS, other=victim_mnt, otherdir=victim_mnt + '/dir',
                     otherfile=victim_mnt + '/dir/secret')
        self.assertEqual(links, self.planted(mnt))
        self.assertIn('fifo', self.sh(self.s1, 'find %s -type p' % mnt)
                      .stdout)
        self.sh(self.s1, 'xfs_io -c "chproj %d" %s/data/f'
                % (OWN_PROJECT, mnt))
        canaries.check('planting through NFS')

        self.step('access')
        self.allow(share, C2, RO)
        canaries.check('update_access')

        self.step('extend')
        self.manager.extend_share(self.ctxt, share['id'], 2, [])
        self.assert_share(share, 2)
        canaries.check('extend_share')

        self.step('shrink')
        self.manager.shrink_share(self.ctxt, share['id'], 1)
        self.assert_share(share, 1)
        canaries.check('shrink_share')

        self.step('usage')
        fake_notifier.reset()
        self.manager.update_share_usage_size(self.ctxt)
        self.assertIn(share['id'], [
            n['payload']['share_id'] for n in fake_notifier.NOTIFICATIONS
            if n['event_type'] == 'share.consumed.size'])
        canaries.check('update_share_usage_size')

        self.step('snapshot')
        snapshot = self.create_snapshot(share)
        canaries.check('create_snapshot')
        # Mountable: the snapshot's LV is mounted on the node (read-only).
        self.allow_snapshot(snapshot, C2)
        canaries.check('snapshot_update_access')

        self.step('share from snapshot')
        clone = self.create_share(size=1, snapshot=snapshot)
        clone_mnt = export.mountpoint('share-' + clone.instance['id'])
        self.assertEqual(links, self.planted(clone_mnt))
        canaries.check('create_share_from_snapshot')
        self.delete_share(clone)
        canaries.check('delete_share (of the share from snapshot)')

        self.step('revert')
        self.manager.revert_to_snapshot(self.ctxt, snapshot['id'], [])
        self.assert_share(share)
        canaries.check('revert_to_snapshot')

        self.step('ensure')
        # The API's ensure-shares action (see test_lifecycle).
        db.service_create(self.ctxt, {
            'host': self.manager.host, 'binary': 'manila-share',
            'topic': 'manila-share', 'availability_zone': 'nova'})
        self.manager.ensure_driver_resources(self.ctxt,
                                             skip_backend_info_check=True)
        self.assert_share(share)
        self.assertEqual(path, self.export_path(share))
        canaries.check('ensure_shares')

        self.step('delete snapshot')
        self.manager.delete_snapshot(self.ctxt, snapshot['id'])
        canaries.check('delete_snapshot')

        self.step('unmanage')
        db.share_update(self.ctxt, share['id'], {
            'status': constants.STATUS_UNMANAGING})
        self.manager.unmanage_share(self.ctxt, share['id'])
        canaries.check('unmanage')

        self.step('manage')
        # Manage walks the whole tree to give every file the share's XFS
        # project: the links must be skipped, not followed, and must not
        # make the walk fail.
        errors = self.driver_errors('manage_existing')
        managed = self.share_row(status=constants.STATUS_MANAGING,
                                 size=None)
        db.export_locations_update(self.ctxt, managed.instance['id'], path)
        try:
            self.manager.manage_share(self.ctxt, managed['id'], {})
        except Exception:
            pass    # (the driver's error is in ``errors``)
        canaries.check('manage (XFS project walk)')
        managed = db.share_get(self.ctxt, managed['id'])
        # 2 GiB: its LV's size (a shrink only lowers the quota).
        self.assertEqual((AVAILABLE, 2, []), (
            managed['status'], managed['size'], [str(e) for e in errors]))
        mnt = export.mountpoint('share-' + managed.instance['id'])
        self.assertEqual(links, self.planted(mnt))
        self.assertEqual(1, self.projid(mnt + '/data/f'))

        self.step('delete')
        self.delete_share(managed)
        canaries.check('delete_share')
        self.finish(owner)
        self.delete_share(victim)
        self.finish(victim_owner)
