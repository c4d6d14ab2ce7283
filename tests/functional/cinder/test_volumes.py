"""The Cinder driver inside real Cinder services, against the UML lab.

Cinder's own in-process functional harness runs the real API (on
127.0.0.1), scheduler and volume service with sqlite and the fake
transport; the volume service loads ``ArcaNFSDriver`` whose agent client is
the lab storage node's (``connection.make_client`` is patched, nothing
else of the driver is). Every step goes through the REST API; the client
nodes mount what the API hands out exactly as os-brick does.

Address pools: pool ``a`` (VLAN 100) holds one address, pool ``b`` (VLAN
200) ten, so the first project's SVM lands on VLAN 100 and the next one's
on VLAN 200 (new SVMs take the first pool with a free address).

This folder runs in its own stestr process (Cinder monkey-patches eventlet
and cannot share a process with Manila)::

    stestr --test-path=./tests/functional/cinder run --concurrency 1
"""

import hashlib
import os
import sys
import time
from unittest import mock
import uuid

from cinder import service
from cinder.tests.functional.api import client as api_client
from cinder.tests.functional import functional_helpers
from oslo_config import cfg
from oslo_service import wsgi

from arca_openstack.cinder import opts as arca_opts
from arca_openstack.node import ganesha
from arca_openstack.node import lvm
from arca_openstack.node import svm as svm_mod
from arca_openstack.wire import connection
from tests.functional import base

CONF = cfg.CONF
GiB = 1024 ** 3
MiB = 1024 ** 2
VG, POOL = base.VG, base.POOL
SVM_A_ADDR = '10.100.0.10'
SVM_B_ADDR = '10.200.0.10'
POOLS = [
    'name=a,mode=vlan,parent=eth0,vlan=100,cidr=10.100.0.0/24,'
    'range=10.100.0.10-10.100.0.10',
    'name=b,mode=vlan,parent=eth0,vlan=200,cidr=10.200.0.0/24,'
    'range=10.200.0.10-10.200.0.19',
]
# client node: (VLAN, address on it)
CLIENTS = {'c1': (100, '10.100.0.21'), 'c2': (100, '10.100.0.22'),
           'c3': (200, '10.200.0.23')}
# Offsets (MiB) of the two 8 MiB regions written into an image file: its
# start and near the end of a 1 GiB volume.
REGIONS = (0, 1000)
REGION_MIB = 8

_lab = None


def lab():
    """One storage node and three clients, booted on first use."""
    global _lab
    if _lab is None:
        _lab = base.boot_lab([('s1', 8)], {
            name: (vlan, addr + '/24')
            for name, (vlan, addr) in CLIENTS.items()})
    return _lab


def _cinder_etc(name):
    """A file of Cinder's etc/cinder, wherever the wheel put it."""
    site = os.path.dirname(os.path.dirname(os.path.abspath(
        functional_helpers.__file__)))
    for folder in (os.path.join(sys.prefix, 'etc', 'cinder'),
                   os.path.join(os.path.dirname(os.path.dirname(
                       os.path.dirname(site))), 'etc', 'cinder'),
                   os.path.join(os.path.dirname(os.path.dirname(site)),
                                'etc', 'cinder')):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    raise RuntimeError('Cinder\'s %s not found' % name)


def scrub(node):
    """Remove what an earlier, failed run left on the storage node."""
    ex = node.executor
    svms = svm_mod.SVMManager(ex)
    gan = ganesha.Ganesha(ex)
    for name in svms.list():
        if not name.startswith('cinder_'):
            continue
        for export_id in gan.export_ids(name):
            gan.remove_export(name, export_id)
        svms.delete(name)
    node.run('sh', '-c',
             'for m in $(findmnt -rn -o TARGET | grep /var/lib/arca/mnt/);'
             ' do umount -l $m; done; '
             'for lv in $(lvs --noheadings -o lv_name %s); do case $lv in '
             'vol-*|snap-*) lvremove -f %s/$lv >/dev/null;; esac; done'
             % (VG, VG), timeout=300)


class ArcaCinderTestCase(functional_helpers._FunctionalTestBase):
    """Real Cinder services driving ArcaNFSDriver on the lab."""

    _osapi_version = '3.0'
    # Adjustment 2: the wheel installs etc/cinder under the venv.
    RESOURCE_FILTER_PATH = _cinder_etc('resource_filters.json')

    # Test-side helpers shared with the node tests (they only use sh()).
    sh = base.FunctionalTestCase.sh
    can_connect = base.FunctionalTestCase.can_connect
    wait_for = base.FunctionalTestCase.wait_for

    def setUp(self):
        self.lab = lab()
        self.addOnException(base.mark_failed)
        self.s1 = self.lab.node('s1')
        self.c1, self.c2, self.c3 = (self.lab.node(n)
                                     for n in ('c1', 'c2', 'c3'))
        scrub(self.s1)
        # The driver reads its options from backend_defaults (the harness
        # starts the volume service without a backend section).
        CONF.register_opts(arca_opts.all_opts(), group='backend_defaults')
        # The one hook into the driver: its agent client is the lab
        # node's (the agent started over SSH as root).
        patcher = mock.patch.object(connection, 'make_client',
                                    return_value=self.s1.agent_client())
        self.make_client = patcher.start()
        self.addCleanup(patcher.stop)
        self.mounts = []
        super().setUp()
        # Cleanups run last-in first-out: mounts go before API deletes.
        self.addCleanup(self._delete_leftovers)
        self.created = []
        self.addCleanup(self._unmount_all)

    def _get_flags(self):
        f = super()._get_flags()
        f['volume_driver'] = {
            'v': 'arca_openstack.cinder.driver.ArcaNFSDriver',
            'g': 'backend_defaults'}
        # Adjustment 3: the scheduler sleeps this long (not mocked).
        CONF.import_opt('scheduler_driver_init_wait_time',
                        'cinder.scheduler.manager')
        f['scheduler_driver_init_wait_time'] = {'v': 1}
        # In this in-process harness the volume service's heartbeat
        # (report_state) stopped after its first beat while the
        # scheduler's went on (seen with the stock fake driver's timings
        # too long to tell): without this, a request scheduled a minute
        # after start (extend) fails as "volume service is down".
        f['service_down_time'] = {'v': 3600}
        f['arca_address_pools'] = {'v': POOLS, 'g': 'backend_defaults'}
        f['arca_svm_name_prefix'] = {'v': 'cinder_',
                                     'g': 'backend_defaults'}
        return f

    def _start_api_service(self):
        # Adjustment 1: api-paste.ini of the wheel.
        wsgi.register_opts(CONF)
        self.override_config('api_paste_config', _cinder_etc(
            'api-paste.ini'))
        self.osapi = service.WSGIService('osapi_volume')
        self.osapi.start()
        self.auth_url = 'http://%s:%s/v%s' % (
            self.osapi.host, self.osapi.port, self.osapi_version_major)

    # ------------------------------------------------------------- API

    def _get(self, kind, res_id):
        if kind == 'volume':
            return self.api.get_volume(res_id)
        return self.api.get_snapshot(res_id)

    def wait_status(self, kind, res_id, want, timeout=180,
                    field='status'):
        deadline = time.monotonic() + timeout
        while True:
            try:
                res = self._get(kind, res_id)
            except api_client.OpenStackApiException404:
                res = None
                if want is None:
                    return None
            if res is not None:
                if res[field] == want:
                    return res
                if res[field].startswith('error'):
                    self.fail('%s %s went to %s (wanted %s)' % (
                        kind, res_id, res[field], want))
            if time.monotonic() > deadline:
                self.fail('%s %s still %s after %ss (wanted %s)' % (
                    kind, res_id, res and res[field], timeout, want))
            time.sleep(0.5)

    def create_volume(self, size, **extra):
        body = dict(size=size, **extra)
        vol = self.api.post_volume({'volume': body})
        self.created.append(('volume', vol['id'], self.api.project_id))
        return self.wait_status('volume', vol['id'], 'available')

    def create_snapshot(self, volume_id):
        snap = self.api.post_snapshot({'snapshot': {
            'volume_id': volume_id, 'force': True}})
        self.created.append(('snapshot', snap['id'], self.api.project_id))
        return self.wait_status('snapshot', snap['id'], 'available')

    def action(self, volume_id, name, body=None, version=None):
        old = self.api.api_version
        if version:
            self.api.api_version = version
        try:
            return self.api.api_post('/volumes/%s/action' % volume_id,
                                     {name: body or {}})
        finally:
            self.api.api_version = old

    @staticmethod
    def connector(node, ip):
        return {'ip': ip, 'host': node.name, 'initiator': None,
                'multipath': False, 'platform': 'x86_64',
                'os_type': 'linux', 'do_local_attach': False}

    def attach(self, volume_id, node):
        """Reserve, os-initialize_connection, os-attach: connection info."""
        connector = self.connector(node, CLIENTS[node.name][1])
        self.action(volume_id, 'os-reserve')
        info = self.action(volume_id, 'os-initialize_connection',
                           {'connector': connector})['connection_info']
        self.action(volume_id, 'os-attach', {
            'host_name': node.name, 'mountpoint': '/dev/vdb',
            'mode': 'rw'})
        self.wait_status('volume', volume_id, 'in-use')
        return info

    def detach(self, volume_id, node):
        """Unmount, os-terminate_connection, os-detach."""
        connector = self.connector(node, CLIENTS[node.name][1])
        self.action(volume_id, 'os-begin_detaching')
        self.action(volume_id, 'os-terminate_connection',
                    {'connector': connector})
        self.action(volume_id, 'os-detach')
        self.wait_status('volume', volume_id, 'available')

    def revert(self, volume_id, snapshot_id):
        self.action(volume_id, 'revert', {'snapshot_id': snapshot_id},
                    version='3.40')
        # The API set 'reverting' before it answered.
        self.wait_for(lambda: self.api.get_volume(volume_id)['status'] !=
                      'reverting', timeout=180, interval=0.5,
                      what='the revert of %s' % volume_id)
        self.wait_status('volume', volume_id, 'available', timeout=1)

    def extend(self, volume_id, new_size):
        status = self.api.get_volume(volume_id)['status']
        self.action(volume_id, 'os-extend', {'new_size': new_size},
                    version='3.42')
        self.wait_for(lambda: self.api.get_volume(volume_id)['size'] ==
                      new_size, timeout=180, interval=0.5,
                      what='volume %s to grow' % volume_id)
        self.wait_status('volume', volume_id, status)

    def delete(self, kind, res_id):
        if kind == 'volume':
            self.api.delete_volume(res_id)
        else:
            self.api.delete_snapshot(res_id)
        self.wait_status(kind, res_id, None)

    def _delete_leftovers(self):
        for kind in ('snapshot', 'volume'):
            for k, res_id, project in reversed(self.created):
                if k != kind:
                    continue
                try:
                    self.api.update_project(project)
                    if kind == 'volume':
                        res = self.api.get_volume(res_id)
                        if res['status'] == 'in-use':
                            self.api.api_post(
                                '/volumes/%s/action' % res_id,
                                {'os-force_detach': {}})
                            self.wait_status('volume', res_id, 'available')
                    self.delete(kind, res_id)
                except Exception:
                    pass

    # ---------------------------------------------------------- clients

    @staticmethod
    def _mountpoint(export):
        # os-brick: mount_point_base/<md5 of the export>
        return '/mnt/cinder/' + hashlib.md5(
            export.encode(), usedforsecurity=False).hexdigest()

    def mount(self, node, info, check=True, extra=''):
        """Mount the export as os-brick's NFS connector does.

        ``mount -t nfs <data['options']> EXPORT MOUNTPOINT``; the image is
        MOUNTPOINT/data['name']. ``extra`` adds mount options (retry=0
        for a mount expected to be refused, so it fails at once).
        """
        data = info['data']
        where = self._mountpoint(data['export'])
        options = data['options']
        if extra:
            options += ',' + extra
        result = self.sh(node, 'mkdir -p %s && timeout 90 mount -t nfs %s '
                         '%s %s' % (where, options, data['export'], where),
                         check=check, timeout=120)
        if result.exit_code == 0:
            self.mounts.append((node, where))
        return '%s/%s' % (where, data['name']), result

    def umount(self, node, image):
        where = os.path.dirname(image)
        self.sh(node, 'umount %s' % where, timeout=60)
        self.mounts.remove((node, where))

    def _unmount_all(self):
        for node, where in reversed(self.mounts):
            self.sh(node, 'umount -f %s 2>/dev/null; umount -l %s '
                    '2>/dev/null; true' % (where, where), check=False,
                    timeout=60)
        self.mounts = []

    def assert_refused(self, node, info):
        _image, result = self.mount(node, info, check=False,
                                    extra='retry=0')
        self.assertNotEqual(0, result.exit_code, result)

    def write_regions(self, node, image, source='/dev/urandom'):
        for offset in REGIONS:
            self.sh(node, 'dd if=%s of=%s bs=1M count=%d seek=%d '
                    'conv=notrunc,fsync status=none'
                    % (source, image, REGION_MIB, offset))
        return self.read_regions(node, image)

    def read_regions(self, node, image):
        script = ' '.join('dd if=%s bs=1M count=%d skip=%d status=none;'
                          % (image, REGION_MIB, offset)
                          for offset in REGIONS)
        return self.sh(node, '{ %s } | sha256sum' % script,
                       timeout=180).stdout.split()[0]

    def file_size(self, node, image):
        # Opening the file revalidates its attributes (close-to-open).
        return int(self.sh(node, "python3 -c 'import os,sys; "
                           "f=os.open(sys.argv[1], os.O_RDONLY); "
                           "print(os.fstat(f).st_size)' %s" % image)
                   .stdout.strip())

    # ------------------------------------------------------- node side

    def lvs(self):
        out = self.s1.run('lvs', '--noheadings', '-o', 'lv_name',
                          VG).stdout
        return {n.strip() for n in out.split()
                if n.startswith(('vol-', 'snap-'))}

    def svm_records(self):
        out = self.s1.run('sh', '-c', 'ls -1 /var/lib/arca/svm 2>/dev/null;'
                          ' true').stdout
        return {n for n in out.split() if n.startswith('cinder_')}

    def assert_connection_info(self, info, volume_id, svm_address):
        self.assertEqual('nfs', info['driver_volume_type'])
        data = info['data']
        self.assertEqual('-o vers=4.2', data['options'])
        self.assertEqual('raw', data['format'])
        self.assertEqual('volume.raw', data['name'])
        self.assertEqual('%s:/vol-%s' % (svm_address, volume_id),
                         data['export'])


class VolumeLifecycleTestCase(ArcaCinderTestCase):

    def test_lifecycle_through_the_api(self):
        timings = {}

        def timed(name, func, *args, **kwargs):
            started = time.monotonic()
            result = func(*args, **kwargs)
            timings[name] = time.monotonic() - started
            return result

        vol = timed('create', self.create_volume, 1)
        lv = 'vol-' + vol['id']
        self.assertEqual({lv}, self.lvs())
        self.assertEqual(1, len(self.svm_records()))

        info = timed('attach', self.attach, vol['id'], self.c1)
        self.assert_connection_info(info, vol['id'], SVM_A_ADDR)
        image, _r = self.mount(self.c1, info)
        self.assertEqual(1 * GiB, self.file_size(self.c1, image))
        original = self.write_regions(self.c1, image)

        # Snapshot of the in-use volume, then change the volume.
        snap = timed('snapshot', self.create_snapshot, vol['id'])
        self.assertIn('snap-' + snap['id'], self.lvs())
        changed = self.write_regions(self.c1, image)
        self.assertNotEqual(original, changed)

        # A larger volume from the snapshot holds the snapshot's data.
        clone = timed('from_snapshot', self.create_volume, 2,
                      snapshot_id=snap['id'])
        clone_info = self.attach(clone['id'], self.c1)
        self.assert_connection_info(clone_info, clone['id'], SVM_A_ADDR)
        clone_image, _r = self.mount(self.c1, clone_info)
        self.assertEqual(2 * GiB, self.file_size(self.c1, clone_image))
        self.assertEqual(original, self.read_regions(self.c1,
                                                     clone_image))
        # Writes to the clone stay in the clone.
        self.write_regions(self.c1, clone_image)
        self.assertEqual(changed, self.read_regions(self.c1, image))

        # Detach: the client can no longer mount the volume.
        self.umount(self.c1, image)
        timed('detach', self.detach, vol['id'], self.c1)
        self.assert_refused(self.c1, info)
        # Another client on the same VLAN never could.
        self.assert_refused(self.c2, clone_info)

        # Revert (3.40) the detached volume to its snapshot.
        timed('revert', self.revert, vol['id'], snap['id'])
        info = self.attach(vol['id'], self.c1)
        image, _r = self.mount(self.c1, info)
        self.assertEqual(original, self.read_regions(self.c1, image))

        # Extend (3.42) while attached and mounted: the file grows.
        timed('extend', self.extend, vol['id'], 2)
        self.assertEqual(2, self.api.get_volume(vol['id'])['size'])
        self.wait_for(lambda: self.file_size(self.c1, image) == 2 * GiB,
                      timeout=60, what='the image file to grow')
        self.assertEqual(original, self.read_regions(self.c1, image))
        self.sh(self.c1, 'dd if=/dev/urandom of=%s bs=1M count=4 seek=2040 '
                'conv=notrunc,fsync status=none' % image)

        # Tear down through the API; nothing stays on the node.
        self.umount(self.c1, image)
        self.umount(self.c1, clone_image)
        self.detach(vol['id'], self.c1)
        self.detach(clone['id'], self.c1)
        timed('delete', self.delete, 'volume', clone['id'])
        self.delete('snapshot', snap['id'])
        self.delete('volume', vol['id'])
        self.assertEqual(set(), self.lvs())
        self.assertEqual(set(), self.svm_records())
        print('API timings (s): ' + ', '.join(
            '%s %.1f' % kv for kv in sorted(timings.items())))


class ProjectsTestCase(ArcaCinderTestCase):

    def test_two_projects_two_svms_and_node_reboot(self):
        project_a, project_b = uuid.uuid4().hex, uuid.uuid4().hex
        self.api.update_project(project_a)
        vol_a = self.create_volume(1)
        info_a = self.attach(vol_a['id'], self.c1)
        self.api.update_project(project_b)
        vol_b = self.create_volume(1)
        info_b = self.attach(vol_b['id'], self.c3)

        svm_a, svm_b = 'cinder_' + project_a, 'cinder_' + project_b
        self.assertEqual({svm_a, svm_b}, self.svm_records())
        self.assert_connection_info(info_a, vol_a['id'], SVM_A_ADDR)
        self.assert_connection_info(info_b, vol_b['id'], SVM_B_ADDR)
        tags = lvm.parse_tags(lvm.ThinPool(self.s1.executor, VG, POOL).get(
            'vol-' + vol_b['id'])['tags'])
        self.assertEqual(svm_b, tags['svm'])

        image_a, _r = self.mount(self.c1, info_a)
        data_a = self.write_regions(self.c1, image_a)
        image_b, _r = self.mount(self.c3, info_b)
        data_b = self.write_regions(self.c3, image_b)

        # Project A's clients cannot reach B's SVM (other VLAN), nor the
        # other way round; a client of A's VLAN not attached is refused.
        self.assertFalse(self.can_connect(self.c1, SVM_B_ADDR))
        self.assertFalse(self.can_connect(self.c3, SVM_A_ADDR))
        self.assertTrue(self.can_connect(self.c2, SVM_A_ADDR))
        self.assert_refused(self.c2, info_a)
        # B's volume is not exported by A's SVM at all.
        foreign = {'data': dict(info_b['data'], export='%s:/vol-%s' % (
            SVM_A_ADDR, vol_b['id']))}
        self.assert_refused(self.c1, foreign)

        # The storage node reboots under the attached volumes (no
        # namespace, Ganesha or mount survives; the LVs and the node's
        # records do), then the volume service restarts: init_host ->
        # ensure_export of the in-use volumes rebuilds both SVMs with
        # their exports and clients.
        self.umount(self.c1, image_a)
        self.umount(self.c3, image_b)
        started = time.monotonic()
        self.s1.stop()
        self.s1.start()
        reboot = time.monotonic() - started
        self.assertNotIn('cinder_', self.sh(self.s1, 'ip netns list').stdout)
        self.assertFalse(self.can_connect(self.c1, SVM_A_ADDR))
        host = self.volume.host
        self.volume.stop()
        started = time.monotonic()
        self.volume = self.start_service('volume', host=host)
        restart = time.monotonic() - started
        self.api.update_project(project_a)
        self.assertEqual('in-use', self.api.get_volume(vol_a['id'])[
            'status'])
        self.assertEqual({svm_a, svm_b}, self.svm_records())
        started = time.monotonic()
        image_a, _r = self.mount(self.c1, info_a)
        self.assertEqual(data_a, self.read_regions(self.c1, image_a))
        image_b, _r = self.mount(self.c3, info_b)
        self.assertEqual(data_b, self.read_regions(self.c3, image_b))
        # Still isolated and still closed to hosts not attached.
        self.assertFalse(self.can_connect(self.c3, SVM_A_ADDR))
        self.assert_refused(self.c2, info_a)
        print('node reboot %.1fs, volume service restart %.1fs, first read '
              'after it %.1fs' % (reboot, restart,
                                  time.monotonic() - started))

        self.umount(self.c1, image_a)
        self.umount(self.c3, image_b)
        self.detach(vol_a['id'], self.c1)
        self.delete('volume', vol_a['id'])
        self.api.update_project(project_b)
        self.detach(vol_b['id'], self.c3)
        self.delete('volume', vol_b['id'])
        self.assertEqual(set(), self.svm_records())
        self.assertEqual(set(), self.lvs())
