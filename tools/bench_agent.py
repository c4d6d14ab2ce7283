#!/usr/bin/env python3
"""Each driver operation through the node agent, against its bare commands.

Runs the lab (tests/lab, needs root): one storage node. Each Cinder (or
Manila) driver operation is run, in the same run, two ways:

* ``agent``: as deployed, the driver holds an agent client; the node's
  ``arca-node serve`` sessions run the operation's commands;
* ``bare``: the same driver code and the same operations, whose exact
  commands are sent one by one over SSH as root (one SSH channel per
  command, no root helper): the bare commands the operation needs.

The two alternate in every round (``--repeat`` rounds, a new project per
round and way), and the median of each is printed with their ratio; the
goal is ``agent`` <= 1.5 x ``bare`` for every operation. Also printed:
a clone against one bare ``lvcreate -s`` of the same run (goal <= 3 x),
and how many SSH round trips each way took.

    python tools/bench_agent.py cinder|manila [--repeat 3]
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

from oslo_concurrency import lockutils  # noqa: E402

from tests.functional import base  # noqa: E402
from tests.lab import backends  # noqa: E402
from tests.lab import harness  # noqa: E402

POOLS = ['mode=vlan,parent=eth0,vlan=100,cidr=10.100.0.0/24,'
         'range=10.100.0.10-10.100.0.99']
CLIENT = '10.100.0.200'
MAX_RATIO = 1.5
MAX_CLONE = 3.0


class Counting(base.CountingExecutor):
    """The bare way: commands over SSH, counted (one channel each)."""


class CountingClient(object):
    """The agent way: an agent client, its requests counted."""

    def __init__(self, client):
        self.client = client
        self.calls = 0

    def call(self, op, args=None, timeout=None):
        self.calls += 1
        return self.client.call(op, args, timeout)


def timed(func, *args):
    started = time.monotonic()
    result = func(*args)
    return time.monotonic() - started, result


class CinderBench(object):

    OPS = ('first volume', 'create', 'snapshot', 'clone', 'from snapshot',
           'attach', 'detach', 'extend', 'revert', 'delete', 'last delete')

    def __init__(self, node, workdir):
        from cinder import context
        from cinder import objects
        objects.register_all()
        self.objects = objects
        self.ctx = context.get_admin_context()
        self.node = node
        options = {'volume_backend_name': 'arca', 'arca_address_pools':
                   POOLS, 'arca_svm_name_prefix': 'bench_',
                   'arca_command_timeout': 1800,
                   'max_over_subscription_ratio': 20}
        self.bare = Counting(node.executor)
        self.agent = CountingClient(node.agent_client())
        self.driver, _conf = backends.cinder_driver(
            self.agent, workdir, 'arca-bench', options)

    def startup(self, pools):
        """do_setup + check_for_setup_error with ``pools`` address pools.

        A new agent client (its sessions start too), as at a service
        start.
        """
        drv = self.driver
        entries = ['mode=vlan,parent=eth0,vlan=%d,cidr=10.%d.0.0/24'
                   % (300 + i, 100 + i) for i in range(pools)]
        backends.CONF.set_override('arca_address_pools', entries,
                                   group='arca-bench')
        kept, self.node._agent = self.node._agent, None
        drv.executor, drv.node_client = None, self.node.agent_client()
        self.node._agent = kept
        try:
            started = time.monotonic()
            drv.do_setup(self.ctx)
            drv.check_for_setup_error()
            return time.monotonic() - started
        finally:
            backends.CONF.clear_override('arca_address_pools',
                                         group='arca-bench')

    def use(self, way):
        """Drive the node the ``way`` given (set-up again, no command)."""
        drv = self.driver
        drv.executor, drv.node_client = (
            (self.bare, None) if way == 'bare' else (None, self.agent))
        drv.do_setup(self.ctx)
        return drv

    def volume(self, project, size=1):
        return self.objects.Volume(
            self.ctx, id=str(uuid.uuid4()), _name_id=None, size=size,
            project_id=project, status='creating', multiattach=False,
            provider_location=None, display_name='bench',
            volume_attachment=self.objects.VolumeAttachmentList(objects=[]))

    def snapshot(self, vol):
        return self.objects.Snapshot(
            self.ctx, id=str(uuid.uuid4()), volume_id=vol.id, volume=vol,
            volume_size=vol.size, project_id=vol.project_id,
            status='creating', display_name='bench')

    def round(self, way):
        """Every operation once, for a new project; {op: seconds}."""
        drv = self.use(way)
        project = uuid.uuid4().hex
        times = {}
        first = self.volume(project)
        times['first volume'], _r = timed(drv.create_volume, first)
        vol = self.volume(project)
        times['create'], _r = timed(drv.create_volume, vol)
        snap = self.snapshot(vol)
        times['snapshot'], _r = timed(drv.create_snapshot, snap)
        clone = self.volume(project)
        times['clone'], _r = timed(drv.create_cloned_volume, clone, vol)
        copy = self.volume(project)
        times['from snapshot'], _r = timed(
            drv.create_volume_from_snapshot, copy, snap)
        connector = {'ip': CLIENT, 'host': 'bench'}

        def attach():
            drv.create_export(self.ctx, vol, connector)
            return drv.initialize_connection(vol, connector)
        times['attach'], _r = timed(attach)
        times['detach'], _r = timed(drv.terminate_connection, vol,
                                    connector)
        times['extend'], _r = timed(drv.extend_volume, vol, 2)
        vol.size = 2
        times['revert'], _r = timed(drv.revert_to_snapshot, self.ctx, vol,
                                    snap)
        times['delete'], _r = timed(drv.delete_volume, clone)
        drv.delete_volume(copy)
        drv.delete_snapshot(snap)
        drv.delete_volume(vol)
        # The project's last volume: its SVM goes too (the default
        # arca_svm_delete_unused = true).
        times['last delete'], _r = timed(drv.delete_volume, first)
        return times

    def bare_snapshot(self):
        """One bare ``lvcreate -s`` over SSH (and its removal)."""
        name = 'bench-%s' % uuid.uuid4().hex[:8]
        self.node.run('lvcreate', '-T', 'arca/pool', '-V', '1g', '-n', name)
        took, _r = timed(self.node.run, 'lvcreate', '-s', '-kn', '-n',
                         name + '-s', 'arca/' + name)
        self.node.run('lvremove', '-f', 'arca/%s-s' % name, 'arca/' + name)
        return took


def report(bench, results, clone_base, trips):
    rows = []
    worst = 0.0
    print('\n%-16s %9s %9s %7s' % ('operation', 'agent s', 'bare s',
                                   'ratio'))
    for op in bench.OPS:
        agent = statistics.median(results['agent'][op])
        bare = statistics.median(results['bare'][op])
        ratio = agent / bare
        worst = max(worst, ratio)
        rows.append((op, agent, bare, ratio))
        print('%-16s %9.2f %9.2f %7.2f' % (op, agent, bare, ratio))
    clone = statistics.median(results['agent']['clone'])
    lvc = statistics.median(clone_base)
    print('\nclone through the agent %.2fs; one bare lvcreate -s %.2fs: '
          '%.2fx (goal <= %.1f)' % (clone, lvc, clone / lvc, MAX_CLONE))
    print('round trips per round: agent %d requests, bare %d SSH commands'
          % (trips['agent'], trips['bare']))
    agent = {op: statistics.median(results['agent'][op]) for op in bench.OPS}
    # What a project pays that deletes its last volume and makes the next
    # one a moment later, and what a grace before removing would save.
    build = agent['first volume'] - agent['create']
    removal = agent['last delete'] - agent['delete']
    print('SVM build (first volume - create) %.2fs; SVM removal (last '
          'delete - delete) %.2fs' % (build, removal))
    print('worst ratio %.2f (goal <= %.1f)' % (worst, MAX_RATIO))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('service', choices=('cinder',))
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix='arca-bench-')
    # The bare way runs the agent's operations here, with their locks.
    lockutils.set_defaults(os.path.join(workdir, 'locks'))
    with harness.Lab([harness.NodeSpec('s1', role='storage', disk_gib=8)]
                     ) as lab:
        node = lab.node('s1')
        node.ensure_thin_pool()
        node.sh('ip link set eth0 up')
        bench = CinderBench(node, workdir)
        results = {'agent': {op: [] for op in bench.OPS},
                   'bare': {op: [] for op in bench.OPS}}
        trips = {}
        clone_base = []
        for i in range(args.repeat):
            for way in (('agent', 'bare') if i % 2 == 0
                        else ('bare', 'agent')):
                bench.bare.commands = []
                bench.agent.calls = 0
                for op, secs in bench.round(way).items():
                    results[way][op].append(secs)
                trips[way] = (bench.agent.calls if way == 'agent'
                              else len(bench.bare.commands))
            clone_base.append(bench.bare_snapshot())
            print('round %d done' % (i + 1), flush=True)
        report(bench, results, clone_base, trips)
        for pools in (1, 40):
            print('service start-up (do_setup + check_for_setup_error) '
                  'with %d address pool(s): %.2fs'
                  % (pools, bench.startup(pools)))


if __name__ == '__main__':
    main()
