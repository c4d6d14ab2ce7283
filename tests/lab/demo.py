"""The lab demo: the Arca flow end to end on real kernels.

A storage node and a client node boot in User-Mode Linux; the node
library, driven over SSH through rootwrap exactly as the drivers drive a
remote storage node, builds a project's SVM on a tenant VLAN and a volume;
the client mounts it over NFS v4.2, and a snapshot and a clone follow.
"""

import tempfile
import time

from oslo_concurrency import lockutils

from arca_openstack.node import export
from arca_openstack.node import lvm
from arca_openstack.node import svm
from arca_openstack.node import xfs
from tests.lab import harness

PROJECT = 'demo'
SVM = 'p_demo'
VLAN = 100
SVM_CIDR = '10.100.0.10/24'
CLIENT_CIDR = '10.100.0.21/24'
VOLUME_GIB = 20


class Demo(object):

    def __init__(self, mem=512, keep_logs=False):
        self.mem = mem
        self.keep_logs = keep_logs
        self.started = time.monotonic()
        self.step_no = 0

    def step(self, text, func, *args, **kwargs):
        self.step_no += 1
        print('%2d. %-58s' % (self.step_no, text), end='', flush=True)
        began = time.monotonic()
        result = func(*args, **kwargs)
        print('%7.2fs' % (time.monotonic() - began), flush=True)
        return result

    def note(self, text):
        print('      %s' % text, flush=True)

    def run(self):
        lockutils.set_defaults(tempfile.mkdtemp(prefix='arca-demo-locks-'))
        harness.Lab.cleanup_stale()
        specs = [harness.NodeSpec('s1', 'storage', disk_gib=32),
                 harness.NodeSpec('c1', 'client')]
        print('Arca lab demo: a storage node and a client node in '
              'User-Mode Linux\n')
        with harness.Lab(specs, mem=self.mem,
                         keep_logs=self.keep_logs) as lab:
            self.note('lab booted in %.1fs' % lab.timings['up'])
            self.flow(lab)
        print('\ndemo: PASS in %.1fs (lab torn down)' %
              (time.monotonic() - self.started))
        return 0

    def flow(self, lab):
        s1, c1 = lab.node('s1'), lab.node('c1')
        ex = s1.node_executor  # SSH + rootwrap with the shipped filters
        pool = lvm.ThinPool(ex, 'arca', 'pool')
        fs = xfs.XFS(ex)
        svms = svm.SVMManager(ex)
        exports = export.ExportManager(ex, pool)
        client_ip = CLIENT_CIDR.split('/')[0]
        svm_ip = SVM_CIDR.split('/')[0]

        self.step('storage node: VG arca with thin pool "pool"',
                  s1.ensure_thin_pool)
        cap = pool.capacity()
        self.note('thin pool: %.1f GiB, %.1f%% used' %
                  (cap['total_bytes'] / 2 ** 30, cap['data_percent']))
        self.step('client node: interface on tenant VLAN %d' % VLAN,
                  c1.add_vlan, VLAN, CLIENT_CIDR)

        network = svm.make_network('vlan', [SVM_CIDR], parent='eth0',
                                   vlan=VLAN)
        self.step('SVM %s for project %s (netns, VLAN, Ganesha)' %
                  (SVM, PROJECT), svms.create, SVM, network,
                  owner='arca.project=' + PROJECT)
        self.note('Ganesha serves NFS v4.1/4.2 on %s inside netns %s' %
                  (svm_ip, SVM))

        tags = lvm.make_tags(kind='volume', project=PROJECT, svm=SVM)
        self.step('volume: thin LV of %d GiB' % VOLUME_GIB, pool.create,
                  'vol-demo', VOLUME_GIB, tags=tags)
        self.step('volume: XFS', fs.mkfs, pool.device_path('vol-demo'))
        self.step('export it to the client (%s rw)' % client_ip,
                  exports.publish, SVM, 'vol-demo', [(client_ip, 'rw')])

        def mount(lv, where):
            c1.run('mkdir', '-p', where)
            c1.run('mount', '-t', 'nfs4', '-o', 'vers=4.2,proto=tcp',
                   '%s:/%s' % (svm_ip, lv), where, timeout=90)
            line = [m for m in c1.run('cat', '/proc/mounts').stdout
                    .splitlines() if ' %s ' % where in m][0]
            return line.split(',rsize')[0]

        self.note(self.step('client: mount %s:/vol-demo over NFS v4.2' %
                            svm_ip, mount, 'vol-demo', '/mnt/vol'))

        def write():
            c1.run('dd', 'if=/dev/urandom', 'of=/mnt/vol/data', 'bs=1M',
                   'count=64', 'conv=fsync', 'status=none', timeout=300)
            return c1.run('sha256sum', '/mnt/vol/data').stdout.split()[0]

        digest = self.step('client: write 64 MiB', write)
        self.note('sha256 %s' % digest)

        self.step('snapshot (thin, constant time)', pool.snapshot,
                  'vol-demo', 'snap-demo',
                  tags=lvm.make_tags(kind='snapshot', project=PROJECT))
        c1.run('dd', 'if=/dev/urandom', 'of=/mnt/vol/data', 'bs=1M',
               'count=8', 'conv=notrunc,fsync', 'status=none', timeout=120)
        self.note('client overwrote the start of the volume after the '
                  'snapshot')

        def clone():
            pool.snapshot('snap-demo', 'vol-clone', tags=tags)
            fs.regenerate_uuid(pool.device_path('vol-clone'))

        self.step('clone from the snapshot (thin, new XFS UUID)', clone)
        self.step('export the clone to the client', exports.publish, SVM,
                  'vol-clone', [(client_ip, 'rw')])
        self.note(self.step('client: mount the clone', mount, 'vol-clone',
                            '/mnt/clone'))
        cloned = self.step('client: read the data back from the clone',
                           lambda: c1.run('sha256sum', '/mnt/clone/data')
                           .stdout.split()[0])
        self.note('sha256 %s: %s' % (cloned, 'identical to the data at '
                                     'snapshot time' if cloned == digest
                                     else 'DIFFERENT'))
        if cloned != digest:
            raise harness.LabError('clone does not hold the snapshot data')
        current = c1.run('sha256sum', '/mnt/vol/data').stdout.split()[0]
        if current == digest:
            raise harness.LabError('volume was not overwritten')
        self.note('the volume itself has moved on (sha256 %s...)' %
                  current[:16])

        def teardown():
            for where in ('/mnt/clone', '/mnt/vol'):
                c1.run('umount', where, timeout=60)
            for lv in ('vol-clone', 'vol-demo'):
                exports.unpublish(SVM, lv)
            svms.delete(SVM)
            for lv in ('vol-clone', 'snap-demo', 'vol-demo'):
                pool.remove(lv)

        self.step('tear down: unmount, unexport, delete SVM and LVs',
                  teardown)
        cap = pool.capacity()
        self.note('thin pool back to %d LVs, %.1f%% used' %
                  (cap['lv_count'], cap['data_percent']))


def run(args):
    return Demo(mem=args.mem, keep_logs=args.keep_logs).run()
