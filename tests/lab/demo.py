"""The lab demo: the Arca flow end to end on real kernels.

Three flows, each in its own lab of User-Mode Linux nodes:

* ``cinder`` (demo_cinder.py): the Cinder volume driver, configured from a
  cinder.conf section, serves two projects' volumes;
* ``manila`` (demo_manila.py): the Manila share driver, configured from a
  manila.conf section, serves a project's shares with access rules;
* ``node``: the node library alone (an SVM on a tenant VLAN, a volume, a
  snapshot and a clone), as the drivers drive it.

The drivers start the storage node's agent (``arca-node serve``) over
SSH, exactly as on a remote storage node; the ``node`` flow runs the node
library's commands over SSH through rootwrap with its command catalogue.
"""

import logging
import tempfile
import time
import warnings

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
FLOWS = ('cinder', 'manila', 'node')
DEFAULT_FLOWS = ('cinder', 'manila')


class DemoFailed(harness.LabError):
    pass


class _Held(logging.Handler):
    """Keeps the drivers' log records to print them after their step."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


class Demo(object):
    """Boots the lab, runs :meth:`flow` step by step, tears down."""

    TITLE = 'the node library'
    # (name, role, disk GiB) of the lab's nodes
    NODES = (('s1', 'storage', 32), ('c1', 'client', 0))
    # client node: (VLAN, address/prefix on it)
    CLIENT_VLANS = {}

    def __init__(self, mem=512, keep_logs=False):
        self.mem = mem
        self.keep_logs = keep_logs
        self.started = time.monotonic()
        self.step_no = 0
        self.workdir = tempfile.mkdtemp(prefix='arca-demo-')
        # The services' own deprecation warnings (eventlet) are not news.
        warnings.simplefilter('ignore', DeprecationWarning)
        self.log = _Held()
        logging.getLogger().addHandler(self.log)

    def step(self, text, func, *args, **kwargs):
        self.step_no += 1
        print('%2d. %-58s' % (self.step_no, text), end='', flush=True)
        began = time.monotonic()
        result = func(*args, **kwargs)
        print('%7.2fs' % (time.monotonic() - began), flush=True)
        for record in self.log.records:
            self.note('log %s: %s' % (record.levelname.lower(),
                                      record.getMessage()))
        del self.log.records[:]
        return result

    def note(self, text):
        for line in str(text).splitlines():
            print('      %s' % line, flush=True)

    def check(self, ok, what):
        """A claim of the demo: printed, and the demo fails if false."""
        self.note('%s %s' % ('ok:' if ok else 'FAILED:', what))
        if not ok:
            raise DemoFailed(what)

    def check_soon(self, read, want, what, timeout=90, interval=2.0):
        """:meth:`check` that ``read()`` becomes ``want`` within a while.

        NFS clients cache attributes (sizes) for up to a minute.
        """
        deadline = time.monotonic() + timeout
        seen = read()
        while seen != want and time.monotonic() < deadline:
            time.sleep(interval)
            seen = read()
        self.check(seen == want, '%s (%s)' % (what, seen))

    def run(self):
        lockutils.set_defaults(tempfile.mkdtemp(prefix='arca-demo-locks-'))
        harness.Lab.cleanup_stale()
        specs = [harness.NodeSpec(name, role, disk_gib=disk or 8)
                 for name, role, disk in self.NODES]
        print('Arca lab demo through %s: %s in User-Mode Linux\n' % (
            self.TITLE, ', '.join('%s (%s)' % (name, role)
                                  for name, role, _d in self.NODES)))
        with harness.Lab(specs, mem=self.mem,
                         keep_logs=self.keep_logs) as lab:
            self.note('lab booted in %.1fs' % lab.timings['up'])
            for name, (vlan, cidr) in self.CLIENT_VLANS.items():
                lab.node(name).add_vlan(vlan, cidr)
            self.flow(lab)
        print('\ndemo through %s: PASS in %.1fs (lab torn down)' %
              (self.TITLE, time.monotonic() - self.started))
        return 0

    def flow(self, lab):
        raise NotImplementedError()


class NodeDemo(Demo):

    def flow(self, lab):
        s1, c1 = lab.node('s1'), lab.node('c1')
        ex = s1.node_executor  # SSH + rootwrap with the command catalogue
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
            raise DemoFailed('clone does not hold the snapshot data')
        current = c1.run('sha256sum', '/mnt/vol/data').stdout.split()[0]
        if current == digest:
            raise DemoFailed('volume was not overwritten')
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


def run(flow, args):
    """Run one flow: node, cinder or manila (imports only its service)."""
    if flow == 'cinder':
        from tests.lab import demo_cinder
        demo_class = demo_cinder.CinderDemo
    elif flow == 'manila':
        from tests.lab import demo_manila
        demo_class = demo_manila.ManilaDemo
    else:
        demo_class = NodeDemo
    return demo_class(mem=args.mem, keep_logs=args.keep_logs).run()
