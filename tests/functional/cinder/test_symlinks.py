"""Links planted in a volume's filesystem: no Cinder operation follows them.

A volume's XFS holds one file, ``volume.raw``, the disk image; the
filesystem is exported to the hosts the volume is attached to, and root
on such a host can replace the file by a symbolic link (or plant
anything else next to it). Root on client c3, through its os-brick-like
mount of an attached volume, plants links beside the image and replaces
the image by a link to a file of the storage node. Later the link is
pointed (on the node, as root: what the attached host could do as well)
at another canary before each operation, at another project's
``volume.raw``, at /etc, at a missing file of an existing directory,
and into a loop. Every operation of the driver then runs through the
real Cinder API and volume service: extend (in use and not), detach,
attach (create_export, initialize_connection), ensure (a volume service
restart with the volume in use), snapshot, volume from snapshot, clone,
revert, snapshot delete, delete, unmanage and manage.

Each either succeeds or fails with an error naming the image file, and
after each one nothing outside the tenant's volume changed (see
tests/functional/symlinks.py): the node's canaries, one raw canary per
operation (4 MiB, mode 640: a volume is larger), and the other project's
volume, whose image holds data. Every operation runs whatever an earlier
one did; the test fails at its end with the list of all that went wrong.
"""

import uuid

from arca_openstack.cinder import driver as arca_driver
from arca_openstack.node import export
from arca_openstack.node import rawfile
from tests.functional.cinder import test_volumes
from tests.functional import symlinks

CLIENTS = test_volumes.CLIENTS
# One raw canary per operation that is given a link to one.
RAWS = {op: '/root/canary-%s.raw' % op for op in (
    'extend', 'attach', 'ensure', 'snapshot', 'clone', 'manage',
    'delete')}
# Driver methods whose errors are recorded.
METHODS = ('extend_volume', 'create_export', 'initialize_connection',
           'terminate_connection', 'ensure_export', 'create_snapshot',
           'delete_snapshot', 'create_volume_from_snapshot',
           'create_cloned_volume', 'revert_to_snapshot',
           'manage_existing_get_size', 'manage_existing', 'unmanage',
           'delete_volume')
# Planted beside the image through the client's mount.
PLANT = '''set -e
cd {where}
ln -s /etc l
ln -s {canary_dir} x
ln -s {victim} other
ln -s {canary_dir}/new dangling
ln -s loop2 loop1
ln -s loop1 loop2
mkdir -p sub
ln -s ../.. sub/up
ln -sf {raw} {name}
sync
'''


class VolumeSymlinkTestCase(test_volumes.ArcaCinderTestCase):

    def setUp(self):
        # Last of all: whatever a failed operation left on the node (an
        # LV no volume row knows after a failed manage).
        self.addCleanup(test_volumes.scrub, test_volumes.lab().node('s1'))
        super().setUp()
        # Cinder's default RPC timeout (the harness's is 15 s): an attach
        # on a loaded node takes longer.
        self.messaging_conf.response_timeout = 60
        self.errors = []
        self.outcomes = []
        self.addCleanup(lambda: print('\n'.join(self.outcomes)))
        for name in METHODS:
            self._record_errors(name)
        symlinks.make_canaries(self.s1, RAWS.values())
        self.addCleanup(symlinks.remove_canaries, self.s1, RAWS.values())

    def _get_flags(self):
        f = super()._get_flags()
        # A failed create is not rescheduled: its error is the driver's
        # first, and no retry runs into the next operation.
        test_volumes.CONF.import_opt('scheduler_max_attempts',
                                     'cinder.scheduler.driver')
        f['scheduler_max_attempts'] = {'v': 1}
        return f

    def _record_errors(self, name):
        """Wrap a driver method to record what it raises in self.errors.

        On the class: the volume service restart makes a new driver.
        """
        real = getattr(arca_driver.ArcaNFSDriver, name)
        errors = self.errors

        def spy(drv, *args, **kwargs):
            try:
                return real(drv, *args, **kwargs)
            except Exception as err:
                errors.append('%s: %s' % (name, err))
                raise

        self.patch('arca_openstack.cinder.driver.ArcaNFSDriver.' + name,
                   spy)

    # ------------------------------------------------------------ steps

    def point(self, lv, target):
        """The image of ``lv`` becomes a link to ``target`` (on the node)."""
        self.sh(self.s1, 'ln -sfn %s %s/%s' % (
            target, export.mountpoint(lv), rawfile.FILE_NAME))

    def settle(self, volume_id, busy):
        """Wait until the volume leaves status ``busy``; it, or None."""
        def done():
            try:
                return self.api.get_volume(volume_id)['status'] != busy
            except test_volumes.api_client.OpenStackApiException404:
                return True
        self.wait_for(done, timeout=180, interval=0.5,
                      what='volume %s to leave %s' % (volume_id, busy))
        try:
            return self.api.get_volume(volume_id)
        except test_volumes.api_client.OpenStackApiException404:
            return None

    def judge(self, operation, succeeded):
        """The operation succeeded, or failed with a clear error.

        Clear: the driver raised, naming the image file. A bad verdict is
        recorded with the canaries' changes: later operations still run.
        """
        errors, self.errors[:] = list(self.errors), []
        self.outcomes.append('%-60s %s' % (operation, '; '.join(
            errors) if errors else 'succeeded' if succeeded else 'failed'))
        clear = errors and all(rawfile.FILE_NAME in e for e in errors)
        if (succeeded and errors) or not (succeeded or clear):
            self.canaries.record('%s %s, driver errors: %s' % (
                operation, 'succeeded' if succeeded else 'failed', errors))
        return succeeded

    def reset(self, volume_id, status='available'):
        self.action(volume_id, 'os-reset_status', {'status': status})

    def extend(self, volume_id, new_size):
        """os-extend; True if the volume has the new size, else reset."""
        before = self.api.get_volume(volume_id)['status']
        self.action(volume_id, 'os-extend', {'new_size': new_size},
                    version='3.42')
        vol = self.settle(volume_id, 'extending')
        if vol['status'] == before and vol['size'] == new_size:
            return True
        self.reset(volume_id, before)
        return False

    def create(self, **body):
        """A volume from a snapshot or a clone, available or in error."""
        vol = self.api.post_volume({'volume': body})
        self.created.append(('volume', vol['id'], self.api.project_id))
        return self.settle(vol['id'], 'creating')

    def test_operations_do_not_follow_planted_links(self):
        # Another project's volume, its image holding data.
        self.api.update_project(uuid.uuid4().hex)
        victim = self.create_volume(1)
        victim_mnt = export.mountpoint('vol-' + victim['id'])
        self.sh(self.s1, 'dd if=/dev/urandom of=%s/%s bs=1M count=1 '
                'conv=notrunc,fsync status=none' % (victim_mnt,
                                                    rawfile.FILE_NAME))
        project = uuid.uuid4().hex
        self.api.update_project(project)
        vol = self.create_volume(1)
        vid, lv = vol['id'], 'vol-' + vol['id']
        self.canaries = canaries = symlinks.Canaries(
            self, self.s1, symlinks.node_canaries() + list(RAWS.values()) +
            [symlinks.tree(victim_mnt)], raws=RAWS.values())

        # Root on the attached host c3 (on this second project's VLAN)
        # replaces the image by a link, through its mount.
        info = self.attach(vid, self.c3)
        image, _r = self.mount(self.c3, info)
        self.sh(self.c3, PLANT.format(
            where=image.rpartition('/')[0], canary_dir=symlinks.CANARY_DIR,
            victim=victim_mnt, raw=RAWS['extend'], name=rawfile.FILE_NAME))
        self.assertEqual(RAWS['extend'], self.sh(
            self.s1, 'readlink %s/%s' % (export.mountpoint(lv),
                                         rawfile.FILE_NAME)).stdout.strip())
        canaries.check('planting through NFS')

        # In use: extend, then detach.
        self.judge('extend_volume (in use)', self.extend(vid, 2))
        canaries.check('extend_volume (volume.raw -> %s)' % RAWS['extend'])
        self.umount(self.c3, image)
        self.detach(vid, self.c3)
        self.judge('terminate_connection', True)
        canaries.check('terminate_connection')

        # Attach; ensure: the volume service restarts, the volume in use.
        self.point(lv, RAWS['attach'])
        self.attach(vid, self.c3)
        self.judge('attach', True)
        canaries.check('create_export, initialize_connection')
        self.point(lv, RAWS['ensure'])
        host = self.volume.host
        self.volume.stop()
        self.volume = self.start_service('volume', host=host)
        self.judge('ensure_export',
                   self.api.get_volume(vid)['status'] == 'in-use')
        canaries.check('ensure_export (volume service restart)')
        self.detach(vid, self.c3)
        self.errors[:] = []     # (a detach was judged above)

        # Snapshot; a volume from it and a clone, each larger.
        self.point(lv, RAWS['snapshot'])
        snap = self.create_snapshot(vid)
        self.judge('create_snapshot', True)
        canaries.check('create_snapshot')
        from_snap = self.create(size=3, snapshot_id=snap['id'])
        self.judge('create_volume_from_snapshot',
                   from_snap['status'] == 'available')
        canaries.check('create_volume_from_snapshot (volume.raw -> %s)'
                       % RAWS['snapshot'])
        self.point(lv, RAWS['clone'])
        clone = self.create(size=3, source_volid=vid)
        self.judge('create_cloned_volume', clone['status'] == 'available')
        canaries.check('create_cloned_volume (volume.raw -> %s)'
                       % RAWS['clone'])

        # Revert: the image is the snapshot's link again.
        self.action(vid, 'revert', {'snapshot_id': snap['id']},
                    version='3.40')
        reverted = self.settle(vid, 'reverting')
        self.judge('revert_to_snapshot', reverted['status'] == 'available')
        if reverted['status'] != 'available':
            self.reset(vid)
        canaries.check('revert_to_snapshot (volume.raw -> %s)'
                       % RAWS['snapshot'])

        # Extend with the image a link to another project's image, to a
        # directory, to nothing yet, into a loop.
        for what, target in (
                ('another project\'s image', '%s/%s' % (
                    victim_mnt, rawfile.FILE_NAME)),
                ('a directory', '/etc'),
                # A dangling link into an existing directory: following
                # it would make a file there.
                ('nowhere', symlinks.CANARY_DIR + '/new'),
                ('a loop', rawfile.FILE_NAME)):
            self.point(lv, target)
            size = self.api.get_volume(vid)['size']
            self.judge('extend_volume (volume.raw -> %s)' % what,
                       self.extend(vid, size + 1))
            canaries.check('extend_volume (volume.raw -> %s)' % target)

        # With the snapshot, the one Cinder keeps of a failed revert.
        for other in self.api.api_get('/snapshots/detail')['snapshots']:
            if other['volume_id'] == vid:
                self.delete('snapshot', other['id'])
        self.judge('delete_snapshot', True)
        canaries.check('delete_snapshot')

        # Delete the volume from the snapshot and the clone (available,
        # or in error if refused): their images are links too.
        for other in (from_snap, clone):
            self.delete('volume', other['id'])
        self.judge('delete_volume', True)
        canaries.check('delete_volume (volume.raw -> %s, %s)' % (
            RAWS['snapshot'], RAWS['clone']))

        # Unmanage, manage back: the image is measured, then grown.
        now = self.api.get_volume(vid)
        self.assertEqual(('available', []), (now['status'],
                                             now['attachments']), now)
        self.point(lv, RAWS['manage'])
        self.action(vid, 'os-unmanage')
        self.settle(vid, 'unmanaging')
        self.judge('unmanage', True)
        canaries.check('unmanage')
        managed = self.api.post_manage_volume(
            host=vol['os-vol-host-attr:host'],
            ref={'source-name': lv})['volume']
        self.created.append(('volume', managed['id'], project))
        managed = self.settle(managed['id'], 'creating')
        self.judge('manage_existing', managed['status'] == 'available')
        canaries.check('manage_existing (volume.raw -> %s)' % RAWS['manage'])

        # Delete it (or the row a refused manage left; its LV goes with
        # the cleanup's scrub).
        if managed['status'] == 'available':
            self.point('vol-' + managed['id'], RAWS['delete'])
        else:
            self.reset(managed['id'])
        self.delete('volume', managed['id'])
        self.judge('delete_volume', True)
        canaries.check('delete_volume (volume.raw -> %s)' % RAWS['delete'])
