"""The lab demo through the Cinder volume driver.

``ArcaNFSDriver`` is configured from a cinder.conf backend section and
called as cinder-volume calls it, with Cinder's own versioned objects for
volumes and snapshots. Client nodes use what ``initialize_connection``
returns exactly as os-brick's NFS connector does: mount the export with
the options given and open the ``volume.raw`` file in it.

Two projects: project A's hosts c1 and c2 are on VLAN 100, project B's
host c3 on VLAN 200. Address pool ``a`` (VLAN 100) holds one address, so
project A's SVM takes it and project B's SVM comes from pool ``b``.
"""

import uuid

from cinder import context
from cinder import objects

from tests.lab import backends
from tests.lab import demo

GiB = 1024 ** 3
BACKEND = 'arca-1'
OPTIONS = {
    'volume_backend_name': 'arca',
    'arca_volume_group': 'arca',
    'arca_thin_pool': 'pool',
    'arca_svm_mapping': 'per_project',
    'arca_svm_name_prefix': 'cinder_',
    'arca_address_pools': [
        'name=a,mode=vlan,parent=eth0,vlan=100,cidr=10.100.0.0/24,'
        'range=10.100.0.10-10.100.0.10',
        'name=b,mode=vlan,parent=eth0,vlan=200,cidr=10.200.0.0/24,'
        'range=10.200.0.10-10.200.0.19',
    ],
    'max_over_subscription_ratio': 20,
    'arca_command_timeout': 300,
}
CLIENTS = {'c1': (100, '10.100.0.21/24'), 'c2': (100, '10.100.0.22/24'),
           'c3': (200, '10.200.0.23/24')}
DATA_MIB = 64
RAW = 'volume.raw'


def _ip(client):
    return CLIENTS[client][1].split('/')[0]


class CinderDemo(demo.Demo):

    TITLE = 'the Cinder driver'
    NODES = (('s1', 'storage', 16), ('c1', 'client', 0),
             ('c2', 'client', 0), ('c3', 'client', 0))
    CLIENT_VLANS = CLIENTS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        objects.register_all()
        self.ctx = context.get_admin_context()
        self.project_a = uuid.uuid4().hex
        self.project_b = uuid.uuid4().hex

    # -- Cinder's objects, as the volume manager hands them over --------

    def volume(self, size, project):
        return objects.Volume(
            self.ctx, id=str(uuid.uuid4()), _name_id=None, size=size,
            project_id=project, status='creating', multiattach=False,
            provider_location=None, display_name='demo',
            volume_attachment=objects.VolumeAttachmentList(objects=[]))

    def snapshot(self, volume):
        return objects.Snapshot(
            self.ctx, id=str(uuid.uuid4()), volume_id=volume.id,
            volume=volume, volume_size=volume.size,
            project_id=volume.project_id, status='creating',
            display_name='demo-snap')

    def create(self, method, volume, *args):
        """Call a create method; keep its model update on the object."""
        volume.update(method(volume, *args) or {})
        volume.status = 'available'
        return volume

    # -- the host side, as os-brick does it ------------------------------

    def attach(self, volume, client, where):
        info = self.driver.initialize_connection(
            volume, {'ip': _ip(client), 'host': client})
        data = info['data']
        self.lab.node(client).nfs_mount(data['export'], where)
        return data

    def detach(self, volume, client, where):
        self.lab.node(client).nfs_umount(where)
        self.driver.terminate_connection(
            volume, {'ip': _ip(client), 'host': client})

    def region_sha(self, client, where, mib=DATA_MIB):
        return self.lab.node(client).sh(
            'dd if=%s/%s bs=1M count=%d status=none | sha256sum'
            % (where, RAW, mib), timeout=300).stdout.split()[0]

    def write(self, client, where, mib):
        self.lab.node(client).sh(
            'dd if=/dev/urandom of=%s/%s bs=1M count=%d conv=notrunc,fsync '
            'status=none' % (where, RAW, mib), timeout=300)
        return self.region_sha(client, where)

    def file_gib(self, client, where):
        # Opening the file revalidates its attributes (close-to-open).
        out = self.lab.node(client).sh(
            "python3 -c 'import os,sys; f=os.open(sys.argv[1], os.O_RDONLY);"
            " print(os.fstat(f).st_size)' %s/%s" % (where, RAW))
        return int(out.stdout) / GiB

    # -- the flow --------------------------------------------------------

    def flow(self, lab):
        self.lab = lab
        s1, c2, c3 = lab.node('s1'), lab.node('c2'), lab.node('c3')
        self.step('storage node: VG arca with thin pool "pool"',
                  s1.ensure_thin_pool)
        self.driver, conf = self.step(
            'cinder-volume start: do_setup, check_for_setup_error',
            backends.cinder_driver, s1.agent_client(), self.workdir,
            BACKEND, OPTIONS)
        self.note('from this cinder.conf:\n' + backends.conf_text(conf))
        stats = self.driver.get_volume_stats(refresh=True)
        pool = stats['pools'][0]
        self.note('pool %s: %.1f GiB total, %.1f GiB free, thin %s, '
                  'protocol %s' % (pool['pool_name'],
                                   pool['total_capacity_gb'],
                                   pool['free_capacity_gb'],
                                   pool['thin_provisioning_support'],
                                   stats['storage_protocol']))
        drv = self.driver

        vol = self.volume(10, self.project_a)
        self.step('create_volume: 10 GiB for project A (first: its SVM)',
                  self.create, drv.create_volume, vol)
        self.note('provider_location %s; SVMs on s1: %s' % (
            vol.provider_location, ', '.join(drv.svms.list())))
        data = self.step('initialize_connection to c1; c1 mounts it',
                         self.attach, vol, 'c1', '/mnt/vol')
        self.note('connection info: export %(export)s, file %(name)s, '
                  'options "%(options)s", format %(format)s' % data)
        digest = self.step('c1: write %d MiB into %s' % (DATA_MIB, RAW),
                           self.write, 'c1', '/mnt/vol', DATA_MIB)
        self.check(c2.nfs_mount(vol.provider_location, '/mnt/vol',
                                check=False).exit_code != 0,
                   'c2, same VLAN but not attached, cannot mount it')

        snap = self.snapshot(vol)
        self.step('create_snapshot while attached and in use',
                  drv.create_snapshot, snap)
        self.step('c1: overwrite the first 8 MiB after the snapshot',
                  self.write, 'c1', '/mnt/vol', 8)

        copy = self.volume(12, self.project_a)
        self.step('create_volume_from_snapshot: 12 GiB (larger)',
                  self.create, drv.create_volume_from_snapshot, copy, snap)
        self.step('attach it to c1 and mount', self.attach, copy, 'c1',
                  '/mnt/copy')
        self.check(self.region_sha('c1', '/mnt/copy') == digest,
                   'the new volume holds the data as at snapshot time')
        self.check_soon(lambda: self.file_gib('c1', '/mnt/copy'), 12,
                        'its %s is 12 GiB' % RAW)
        current = self.region_sha('c1', '/mnt/vol')
        self.check(current != digest, 'the volume itself has moved on')

        clone = self.volume(10, self.project_a)
        self.step('create_cloned_volume of the attached volume',
                  self.create, drv.create_cloned_volume, clone, vol)
        self.step('attach the clone to c1 and mount', self.attach, clone,
                  'c1', '/mnt/clone')
        self.check(self.region_sha('c1', '/mnt/clone') == current,
                   'the clone holds the volume\'s current data')

        self.step('terminate_connection: c1 unmounts the volume',
                  self.detach, vol, 'c1', '/mnt/vol')
        self.check(lab.node('c1').nfs_mount(
            vol.provider_location, '/mnt/vol', check=False).exit_code != 0,
            'c1 can no longer mount it')
        self.step('revert_to_snapshot', drv.revert_to_snapshot, self.ctx,
                  vol, snap)
        self.step('attach to c1 again and mount', self.attach, vol, 'c1',
                  '/mnt/vol')
        self.check(self.region_sha('c1', '/mnt/vol') == digest,
                   'the volume holds the snapshot\'s data again')
        self.step('extend_volume to 15 GiB while attached',
                  drv.extend_volume, vol, 15)
        vol.size = 15
        self.check_soon(lambda: self.file_gib('c1', '/mnt/vol'), 15,
                        'c1 sees %s grown to 15 GiB, still mounted' % RAW)

        other = self.volume(1, self.project_b)
        self.step('create_volume for project B (its own SVM)',
                  self.create, drv.create_volume, other)
        self.note('provider_location %s; SVMs on s1: %s' % (
            other.provider_location, ', '.join(drv.svms.list())))
        self.step('attach it to c3 (VLAN 200) and mount', self.attach,
                  other, 'c3', '/mnt/b')
        svm_a = vol.provider_location.split(':')[0]
        svm_b = other.provider_location.split(':')[0]
        self.check(not c3.can_connect(svm_a) and
                   not lab.node('c1').can_connect(svm_b),
                   'c3 cannot reach project A\'s SVM, c1 not project B\'s')

        def teardown():
            for volume, client, where in (
                    (other, 'c3', '/mnt/b'), (clone, 'c1', '/mnt/clone'),
                    (copy, 'c1', '/mnt/copy'), (vol, 'c1', '/mnt/vol')):
                self.detach(volume, client, where)
            drv.delete_snapshot(snap)
            for volume in (other, clone, copy, vol):
                drv.delete_volume(volume)

        self.step('detach all, delete the snapshot and the volumes',
                  teardown)
        left = drv.svms.list()
        self.check(not left, 'the projects\' SVMs went with their last '
                   'volume (left: %s)' % (', '.join(left) or 'none'))
        pool = drv.pool.capacity()
        self.note('thin pool back to %d LVs, %.1f%% used' % (
            pool['lv_count'], pool['data_percent']))
