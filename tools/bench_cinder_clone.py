#!/usr/bin/env python3
"""Time the Cinder driver's snapshot and clones on a UML storage node.

Runs the lab (tests/lab, needs root): one storage node. For a small and a
large volume holding the same amount of written data (default: a 3 GiB
volume and a 20 GiB volume, 2 GiB written into each), it times the
driver's own methods, called with fake Cinder objects:

* create_snapshot,
* create_cloned_volume (a clone of the volume),
* create_volume_from_snapshot,

each the median of ``--repeat`` rounds (alternating between the two
volumes, so neither gains from going second), and compares them with a
full copy of the same image file into a new volume on the node
(``cp --sparse=always``, what a copying driver such as Cinder's generic
NFS driver does for a clone).
The large/small ratio of each thin operation should stay <= 1.3: their
cost does not depend on the volume's size or on its data.

Prints a table; keeps nothing (the lab and its disk go at exit).

    python tools/bench_cinder_clone.py [--small 3] [--large 20]
        [--written-gib 2] [--repeat 3] [--profile]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from cinder import context  # noqa: E402
from cinder import objects  # noqa: E402
from cinder.tests.unit import fake_snapshot  # noqa: E402
from cinder.tests.unit import fake_volume  # noqa: E402
from oslo_concurrency import lockutils  # noqa: E402

from arca_openstack.node import rawfile  # noqa: E402
from tests.functional import base  # noqa: E402
from tests.lab import backends  # noqa: E402
from tests.lab import harness  # noqa: E402

GiB = 1024 ** 3
PROJECT = uuid.uuid4().hex
OPTIONS = {
    'volume_backend_name': 'arca',
    'arca_address_pools': ['mode=vlan,parent=eth0,vlan=100,'
                           'cidr=10.100.0.0/24,range=10.100.0.10-10.100.0.19'],
    'arca_svm_name_prefix': 'bench_',
    'arca_command_timeout': 1800,
    'max_over_subscription_ratio': 20,
}
CHUNK_MIB = 64
MAX_RATIO = 1.3


class Bench(object):

    def __init__(self, node, repeat, profile=False):
        self.node = node
        self.repeat = repeat
        self.profile = profile
        self.ctx = context.RequestContext('bench', PROJECT, is_admin=True)
        # Through the node's agent, as in a deployment; --profile runs the
        # agent's operations here instead, to see each command's time.
        self.driver, _conf = backends.cinder_driver(
            base.CountingExecutor(node.executor) if profile
            else node.agent_client(),
            tempfile.mkdtemp(prefix='arca-bench-'), 'arca-bench', OPTIONS)
        self.volumes = []

    def volume(self, size):
        vol = fake_volume.fake_volume_obj(
            self.ctx, id=str(uuid.uuid4()), size=size, project_id=PROJECT)
        self.volumes.append(vol)
        return vol

    def snapshot(self, vol):
        return fake_snapshot.fake_snapshot_obj(
            self.ctx, id=str(uuid.uuid4()), volume_id=vol.id, volume=vol,
            volume_size=vol.size, project_id=PROJECT)

    def sh(self, script, timeout=1800):
        return self.node.run('sh', '-c', script, timeout=timeout).stdout

    def settle(self):
        """Nothing cached or in flight before a timed step."""
        self.sh('sync; echo 3 > /proc/sys/vm/drop_caches')

    def timed(self, func, *args):
        self.settle()
        if self.profile:
            counting = self.driver.executor.commands = []
        started = time.monotonic()
        func(*args)
        took = time.monotonic() - started
        if self.profile:
            print('%s: %.2fs, %d node commands:' % (
                getattr(func, '__name__', func), took, len(counting)))
            for cmd, secs in sorted(counting, key=lambda c: -c[1])[:8]:
                print('    %6.2fs  %s' % (secs, ' '.join(cmd)[:90]))
        return took

    def fill(self, vol, gib):
        """Write ``gib`` GiB of incompressible data into the image file."""
        target = rawfile.path(self.driver._lv(vol))
        count = gib * 1024 // CHUNK_MIB
        self.sh('dd if=/dev/urandom of=/dev/shm/chunk bs=1M count=%d '
                'status=none' % CHUNK_MIB)
        self.sh('for i in $(seq 0 %d); do dd if=/dev/shm/chunk of=%s '
                'bs=1M seek=$((i*%d)) conv=notrunc status=none; done; '
                'rm -f /dev/shm/chunk; sync' % (count - 1, target,
                                                CHUNK_MIB))

    def source(self, size, written):
        vol = self.volume(size)
        self.driver.create_volume(vol)
        self.fill(vol, written)
        return vol

    def measure_thin(self, vol, times):
        """One round of the three thin operations on ``vol``."""
        drv = self.driver
        snap = self.snapshot(vol)
        times['snapshot'].append(self.timed(drv.create_snapshot, snap))
        clone = self.volume(vol.size)
        times['clone'].append(self.timed(drv.create_cloned_volume, clone,
                                         vol))
        new = self.volume(vol.size)
        times['from snapshot'].append(self.timed(
            drv.create_volume_from_snapshot, new, snap))
        for done in (clone, new):
            drv.delete_volume(done)
        drv.delete_snapshot(snap)

    def measure_copy(self, vol, times):
        """The copying way: a new volume, then the image copied into it."""
        drv = self.driver
        copy = self.volume(vol.size)
        drv.create_volume(copy)
        src = rawfile.path(drv._lv(vol))
        dst = rawfile.path(drv._lv(copy))
        times['full copy'].append(self.timed(
            self.sh, 'cp --sparse=always %s %s && sync' % (src, dst)))
        drv.delete_volume(copy)

    def measure(self, sizes, written):
        """Median times per size; rounds alternate between the sizes."""
        vols = [self.source(size, written) for size in sizes]
        times = [{'snapshot': [], 'clone': [], 'from snapshot': [],
                  'full copy': []} for _ in sizes]
        for round_no in range(self.repeat):
            order = list(range(len(sizes)))
            if round_no % 2:
                order.reverse()
            for i in order:
                self.measure_thin(vols[i], times[i])
            for i in order:
                self.measure_copy(vols[i], times[i])
        for vol in vols:
            self.driver.delete_volume(vol)
        return [{k: statistics.median(v) for k, v in t.items()}
                for t in times]

    def cleanup(self):
        for vol in self.volumes:
            try:
                self.driver.delete_volume(vol)
            except Exception:
                pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--small', type=int, default=3,
                        help='GiB of the small volume')
    parser.add_argument('--large', type=int, default=20,
                        help='GiB of the large volume')
    parser.add_argument('--written-gib', type=int, default=2,
                        help='GiB written into each volume')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--profile', action='store_true',
                        help='print the slowest node commands of each '
                        'timed step')
    args = parser.parse_args()
    if args.written_gib > args.small:
        parser.error('--written-gib must fit in the small volume')
    objects.register_all()
    lockutils.set_defaults(tempfile.mkdtemp(prefix='arca-bench-locks-'))
    disk = max(16, 4 * args.written_gib + 8)
    with harness.Lab([harness.NodeSpec('s1', 'storage', disk_gib=disk,
                                       mem_mib=768)]) as lab:
        node = lab.node('s1')
        node.ensure_thin_pool('arca', 'pool')
        bench = Bench(node, args.repeat, args.profile)
        try:
            small, large = bench.measure((args.small, args.large),
                                         args.written_gib)
        finally:
            bench.cleanup()
    head = '%-26s %12s %12s %12s' % (
        'operation (median of %d)' % args.repeat,
        '%d GiB vol' % args.small, '%d GiB vol' % args.large,
        'large/small')
    print('\n%d GiB written into each volume; UML storage node, times '
          'in seconds\n' % args.written_gib)
    print(head)
    print('-' * len(head))
    ok = True
    for op in ('snapshot', 'clone', 'from snapshot', 'full copy'):
        ratio = large[op] / small[op]
        thin = op != 'full copy'
        ok &= not thin or ratio <= MAX_RATIO
        print('%-26s %12.2f %12.2f %11.2f%s' % (
            op, small[op], large[op], ratio,
            ('' if not thin else ' ok' if ratio <= MAX_RATIO else ' HIGH')))
    print()
    for label, res in (('%d GiB' % args.small, small),
                       ('%d GiB' % args.large, large)):
        print('speed-up of a clone over a full copy (%s): %.1fx clone, '
              '%.1fx from snapshot' % (
                  label, res['full copy'] / res['clone'],
                  res['full copy'] / res['from snapshot']))
    print('\nlarge/small <= %.1f for every thin operation: %s'
          % (MAX_RATIO, 'yes' if ok else 'NO'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
