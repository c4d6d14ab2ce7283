#!/usr/bin/env python3
"""New projects' SVMs built at once, against one built alone.

A project's first volume or share builds its SVM (address, namespace,
VLAN link, Ganesha). Through the API, four new projects' first volumes
made at once took about 3.8 times one; this tells whether the builds
wait for each other (a lock, a timeout) or for the storage node's CPU.

Runs the lab (tests/lab, needs root): one storage node, driven through
its agent as the drivers do (``svm_pools.ensure``, the agent's sessions
already started). Each round builds one new project's SVM alone and
``--at-once`` new projects' SVMs from as many threads, in alternating
order, then removes them. For each it prints the medians of:

* the wall time, and its ratio to the one alone;
* the guest's busy CPU time (``/proc/stat``), per SVM and as a share
  of the wall time: builds that only wait for the CPU show about the
  same CPU time per SVM and a guest near 100% busy, so their wall
  ratio is near their CPU ratio; builds that wait for something else
  show the guest idle for the difference;
* process starts in the guest per SVM (``/proc/stat`` ``processes``),
  the main cost of a build under User-Mode Linux: the guest's CPU time
  of one process start is printed too, and the guest at rest (its own
  background processes and CPU) for comparison.

    python tools/bench_svm_builds.py [--at-once 4] [--repeat 3] [--mem M]
"""

import argparse
import atexit
import concurrent.futures
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from oslo_concurrency import lockutils  # noqa: E402

from arca_openstack import svm_pools  # noqa: E402
from arca_openstack.wire import client as wire_client  # noqa: E402
from arca_openstack.wire import remote  # noqa: E402
from tests.functional import base  # noqa: E402
from tests.lab import harness  # noqa: E402

POOLS = ['mode=vlan,parent=eth0,vlan=100,cidr=10.100.0.0/24,'
         'range=10.100.0.10-10.100.0.99']
PREFIX = 'bsvm_'


class Builds(object):
    """New projects' SVMs through one agent client, as a driver's."""

    def __init__(self, node, at_once):
        self.node = node
        settings = svm_pools.Settings(
            svm_pools.PER_PROJECT, PREFIX, 'unused', True,
            tuple(svm_pools.parse_pools(POOLS)))
        client = node.agent_client()
        if at_once > wire_client.MAX_SESSIONS:
            raise SystemExit('--at-once: at most %d (the agent client\'s '
                             'sessions)' % wire_client.MAX_SESSIONS)
        self.svm_pools = remote.Node(client, base.VG, base.POOL, settings,
                                     POOLS).svm_pools
        # Start the sessions first, as a running service has them.
        with concurrent.futures.ThreadPoolExecutor(at_once) as threads:
            list(threads.map(lambda _i: client.call('svms.list'),
                             range(at_once)))

    def reading_cost(self):
        """Process starts of one counters reading alone."""
        first = self.node.cpu_counters()
        return self.node.cpu_counters().starts - first.starts

    def at_rest(self, seconds=5.0):
        """(share of the CPU busy, process starts a second) at rest."""
        before = self.node.cpu_counters()
        time.sleep(seconds)
        after = self.node.cpu_counters()
        return (harness.busy_share(before, after),
                (after.starts - before.starts) / (after.total - before.total))

    def start_cost(self, count=30):
        """Guest CPU seconds of one process start (``/bin/true``)."""
        before = self.node.cpu_counters()
        self.node.sh('i=0; while [ $i -lt %d ]; do /bin/true; '
                     'i=$((i+1)); done' % count)
        after = self.node.cpu_counters()
        return (after.busy - before.busy) / count

    def build(self, count):
        """Build ``count`` new projects' SVMs at once, then remove them."""
        projects = [uuid.uuid4().hex for _ in range(count)]

        def ensure(project):
            started = time.monotonic()
            self.svm_pools.ensure_svm(project)
            return time.monotonic() - started

        before = self.node.cpu_counters()
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(count) as threads:
            each = list(threads.map(ensure, projects))
        wall = time.monotonic() - started
        after = self.node.cpu_counters()
        for project in projects:
            self.svm_pools.release_if_unused(
                self.svm_pools.svm_name(project))
        if self.node.sh('ls /var/lib/arca/svm | grep -c ^%s || true'
                        % PREFIX).stdout.strip() != '0':
            raise SystemExit('an SVM of the bench was not removed')
        return {'wall': wall, 'slowest': max(each),
                'busy': after.busy - before.busy,
                'share': harness.busy_share(before, after),
                'starts': after.starts - before.starts}


def report(at_once, results, reading, rest, start_cost):
    def median(count, key):
        return statistics.median(r[key] for r in results[count])

    one_wall = median(1, 'wall')
    print('\n%-34s %10s %10s' % ('', '1 alone', '%d at once' % at_once))
    for label, key in (('wall time (s)', 'wall'),
                       ('slowest SVM (s)', 'slowest')):
        print('%-34s %10.2f %10.2f' % (label, median(1, key),
                                       median(at_once, key)))
    print('%-34s %10s %10.2f' % ('wall against one alone', '1.00',
                                 median(at_once, 'wall') / one_wall))
    busy = {n: median(n, 'busy') for n in (1, at_once)}
    print('%-34s %10.2f %10.2f' % ('guest CPU busy per SVM (s)', busy[1],
                                   busy[at_once] / at_once))
    print('%-34s %10s %10.2f' % ('guest CPU busy against one alone', '1.00',
                                 busy[at_once] / busy[1]))
    print('%-34s %9.0f%% %9.0f%%' % ('guest CPU busy (of the wall time)',
                                     100 * median(1, 'share'),
                                     100 * median(at_once, 'share')))
    print('%-34s %10.0f %10.0f' % (
        'process starts per SVM', median(1, 'starts') - reading,
        (median(at_once, 'starts') - reading) / at_once))
    print('(a reading of the counters starts %d processes: taken off)'
          % reading)
    print('guest at rest: %.0f%% busy, %.1f process starts a second (the '
          'lab\'s own)' % (100 * rest[0], rest[1]))
    print('guest CPU of one process start (/bin/true): %.3f s'
          % start_cost)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--at-once', type=int, default=4,
                        help='new projects\' SVMs built at once')
    parser.add_argument('--repeat', type=int, default=3, help='rounds')
    parser.add_argument('--mem', type=int, default=1024,
                        help='MiB of the storage node')
    args = parser.parse_args()
    if args.at_once < 2:
        parser.error('--at-once: 2 or more')
    workdir = tempfile.mkdtemp(prefix='arca-bench-')
    atexit.register(shutil.rmtree, workdir, True)
    lockutils.set_defaults(os.path.join(workdir, 'locks'))
    with harness.Lab([harness.NodeSpec('s1', role='storage', disk_gib=8)],
                     mem=args.mem) as lab:
        node = lab.node('s1')
        node.ensure_thin_pool()
        node.sh('ip link set eth0 up')
        builds = Builds(node, args.at_once)
        reading = builds.reading_cost()
        rest = builds.at_rest()
        start_cost = builds.start_cost()
        results = {1: [], args.at_once: []}
        for i in range(args.repeat):
            order = (1, args.at_once) if i % 2 == 0 else (args.at_once, 1)
            for count in order:
                results[count].append(builds.build(count))
            print('round %d: %s' % (i + 1, ', '.join(
                '%d at once %.2fs' % (n, results[n][-1]['wall'])
                for n in sorted(results))), flush=True)
        report(args.at_once, results, reading, rest, start_cost)


if __name__ == '__main__':
    sys.exit(main())
