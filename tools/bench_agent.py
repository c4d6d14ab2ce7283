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

``exports``: one SVM brought to N exports for each N of ``--counts``,
and export N+1 added (and removed) through the agent ``--repeat`` times
at each N; the goal is a flat add time, t(largest N) <= 1.5 x t(smallest
N). Where the add spends its time at each N is printed too (the agent's
own code, timed step by step in the guest), with the guest's memory.
The lab's guests run a D-Bus system bus, so exports change over D-Bus;
``--no-dbus`` stops it first, to time the SIGHUP reloads a node without
one (or without the project's D-Bus policy) falls back to.

``all`` runs the three, each in its own process (``tox -e bench``).

    python tools/bench_agent.py cinder|manila|all [--repeat 3]
    python tools/bench_agent.py exports [--counts 10,100,500] [--repeat 3]
                                        [--no-dbus]
"""

import argparse
import atexit
import json
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


class DriverBench(object):
    """A driver that runs each operation both ways on one node."""

    def __init__(self, node, make_driver, workdir, options):
        self.node = node
        self.bare = Counting(node.executor)
        self.agent = CountingClient(node.agent_client())
        self.driver, _conf = make_driver(self.agent, workdir, 'arca-bench',
                                         options)

    def use(self, way):
        """Drive the node the ``way`` given (set-up again, no command)."""
        drv = self.driver
        drv.executor, drv.node_client = (
            (self.bare, None) if way == 'bare' else (None, self.agent))
        drv.do_setup(self.ctx)
        return drv


class CinderBench(DriverBench):

    OPS = ('first volume', 'create', 'snapshot', 'clone', 'from snapshot',
           'attach', 'detach', 'extend', 'revert', 'delete', 'last delete')
    # A project's first volume builds its SVM, its last one removes it.
    SVM_OPS = ('first volume', 'last delete')

    def __init__(self, node, workdir):
        from cinder import context
        from cinder import objects
        objects.register_all()
        self.objects = objects
        self.ctx = context.get_admin_context()
        options = {'volume_backend_name': 'arca', 'arca_address_pools':
                   POOLS, 'arca_svm_name_prefix': 'bench_',
                   'arca_command_timeout': 1800,
                   'max_over_subscription_ratio': 20}
        super().__init__(node, backends.cinder_driver, workdir, options)

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


class ManilaBench(DriverBench):
    """The Manila driver as manila-share calls it.

    driver_handles_share_servers=False, per-project SVMs from an address
    pool, with share, snapshot and rule records shaped as the share
    manager passes them (as the lab demo does).
    """

    OPS = ('first share', 'create', 'access update', 'snapshot',
           'from snapshot', 'revert', 'delete', 'last delete')
    SVM_OPS = ('first share', 'last delete')

    def __init__(self, node, workdir):
        from manila import context
        self.ctx = context.get_admin_context()
        options = {'share_backend_name': 'arca-bench',
                   'driver_handles_share_servers': False,
                   'arca_volume_group': 'arca', 'arca_thin_pool': 'pool',
                   'arca_svm_mapping': 'per_project',
                   'arca_address_pools': POOLS,
                   'arca_svm_name_prefix': 'mbench_',
                   'arca_command_timeout': 1800,
                   'max_over_subscription_ratio': 20}
        super().__init__(node, backends.manila_driver, workdir, options)

    @staticmethod
    def share(project, size=1):
        return {'id': str(uuid.uuid4()), 'share_id': str(uuid.uuid4()),
                'size': size, 'project_id': project, 'share_proto': 'NFS',
                'mount_snapshot_support': True, 'export_locations': []}

    snapshot = staticmethod(backends.share_snapshot)

    @staticmethod
    def rule(address):
        return {'id': str(uuid.uuid4()), 'access_id': str(uuid.uuid4()),
                'access_type': 'ip', 'access_to': address,
                'access_level': 'rw'}

    def round(self, way):
        """Every operation once, for a new project; {op: seconds}."""
        drv = self.use(way)
        ctx = self.ctx
        project = uuid.uuid4().hex
        times = {}
        first = self.share(project)
        times['first share'], _r = timed(drv.create_share, ctx, first)
        share = self.share(project)
        times['create'], _r = timed(drv.create_share, ctx, share)
        rule = self.rule(CLIENT)
        times['access update'], _r = timed(
            drv.update_access, ctx, share, [rule], [rule], [], [])
        # Mountable (the share type's mount_snapshot_support): the
        # snapshot is exported too.
        snap = self.snapshot(share)
        times['snapshot'], _r = timed(drv.create_snapshot, ctx, snap)
        copy = self.share(project)
        times['from snapshot'], _r = timed(
            drv.create_share_from_snapshot, ctx, copy, snap)
        times['revert'], _r = timed(drv.revert_to_snapshot, ctx, snap,
                                    [rule], [])
        times['delete'], _r = timed(drv.delete_share, ctx, copy)
        drv.delete_snapshot(ctx, snap)
        drv.delete_share(ctx, share)
        # The project's last share: its SVM goes too.
        times['last delete'], _r = timed(drv.delete_share, ctx, first)
        return times


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
    agent = {op: statistics.median(results['agent'][op]) for op in bench.OPS}
    if clone_base:
        lvc = statistics.median(clone_base)
        clone = agent['clone']
        print('\nclone through the agent %.2fs; one bare lvcreate -s %.2fs: '
              '%.2fx (goal <= %.1f)' % (clone, lvc, clone / lvc, MAX_CLONE))
    else:
        print()
    print('round trips per round: agent %d requests, bare %d SSH commands'
          % (trips['agent'], trips['bare']))
    # What a project pays that deletes its last volume (share) and makes
    # the next one a moment later, and what a grace before removing would
    # save.
    first, last = bench.SVM_OPS
    build = agent[first] - agent['create']
    removal = agent[last] - agent['delete']
    print('SVM build (%s - create) %.2fs; SVM removal (%s - '
          'delete) %.2fs' % (first, build, last, removal))
    print('worst ratio %.2f (goal <= %.1f)' % (worst, MAX_RATIO))
    return rows


# ------------------------------------------------------------ export N

EXPORT_SVM = 'xbench_0'
EXPORT_ADDRESS = '10.100.0.10/24'
ADD_LV = 'xadd-0'
FILL_BATCH = 25
# The fillers' XFS log. mkfs.xfs zeroes the whole log, 64 MiB at 1 GiB,
# the least xfsprogs 6.1 allows (xfs_admin -U clears it too, so thin
# snapshots cost as much), and the thin pool allocates it: 500 would take
# 32 GiB of pool and of the host's disk. The fillers get 8 MiB through
# the switch xfsprogs keeps for fstests' small filesystems; the log's
# size changes nothing of what an export costs Ganesha or a mount the
# kernel (log buffers are sized by logbsize).
FILL_MKFS = ('TEST_DIR=/tmp TEST_DEV=/dev/null QA_CHECK_FS=xfs '
             'mkfs.xfs -q -K -l size=8m')
MAX_GROWTH = 1.5
# The agent's own code in the guest, profiled: adding and removing export
# N+1 as exports.publish and exports.unpublish do, with the time of each
# step and each command (no SSH in between). Run as root in the guest
# with the copy of the package the agent runs.
PROBE = r'''
import json, os, signal, subprocess, sys, time
sys.modules.setdefault('eventlet', None)
from oslo_concurrency import lockutils
from arca_openstack.agent import operations, root_executor
from arca_openstack.node import export, ganesha, ganesha_config
from arca_openstack.node import ganesha_files, lvm
args = json.loads(sys.argv[1])
spent = {}


def add(kind, key, took):
    entry = spent.setdefault(kind, {}).setdefault(key, [0, 0.0])
    entry[0] += 1
    entry[1] += took


def wrap(owner, name, key):
    func = getattr(owner, name)

    def timed(*a, **k):
        started = time.monotonic()
        try:
            return func(*a, **k)
        finally:
            add('steps', key, time.monotonic() - started)
    setattr(owner, name, timed)


class Timed(root_executor.RootExecutor):
    def _run(self, cmd, process_input, timeout):
        started = time.monotonic()
        try:
            return super()._run(cmd, process_input, timeout)
        finally:
            add('commands', cmd[0], time.monotonic() - started)


wrap(lvm.ThinPool, 'get', 'LV look-up (lvs)')
wrap(export.ExportManager, 'mount', 'mount (findmnt, mkdir, mount)')
wrap(ganesha_files, 'read_state', 'read_state (grep of every file)')
wrap(ganesha_files, 'find', 'find (parse every export file)')
wrap(ganesha_files, 'free_id', 'free_id')
wrap(ganesha_files, 'write_export_and_config',
     'write export + config, read back')
wrap(ganesha_files, 'write_config', 'write config, read back')
wrap(ganesha.Ganesha, '_live', 'D-Bus probe')
wrap(ganesha.Ganesha, '_reload', 'SIGHUP, reload confirmed in log')
lockutils.set_defaults('/run/lock/arca')
node = operations.Node(Timed(timeout=1800), pools=['arca/pool'])
out = {}
for op, call in (('add', {'svm': args['svm'], 'name': args['lv'],
                          'clients': [[args['client'], 'rw']],
                          'mount_options': ['prjquota']}),
                 ('remove', {'svm': args['svm'], 'name': args['lv']})):
    spent.clear()
    started = time.monotonic()
    node.call('exports.%s' % ('publish' if op == 'add' else 'unpublish'),
              dict(call, vg='arca', thin='pool'))
    out[op] = dict(spent, total=time.monotonic() - started)
# Ganesha's own reload of the SVM's N exports: SIGHUP to its completion
# line, looked for every 10 ms.
log = ganesha_config.log_path(args['svm'])
with open(ganesha_config.pid_path(args['svm'])) as f:
    pid = int(f.read())
offset = os.path.getsize(log)
started = time.monotonic()
os.kill(pid, signal.SIGHUP)
while time.monotonic() - started < 600:
    with open(log) as f:
        f.seek(offset)
        if 'Reread exports complete' in f.read():
            break
    time.sleep(0.01)
out['reload'] = time.monotonic() - started


def took(*argv):
    started = time.monotonic()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


# The LV look-up as the library runs it (the lab's LVM looks only at its
# PV disk), and with LVM looking at every device but DRBD's, as LVM does
# by default: what a node without a filter pays for its thin LVs.
every = 'devices { global_filter = [ "r|^/dev/drbd|" ] }'
lv = 'arca/' + args['lv']
subprocess.run(('vgcfgbackup', '-f', '/run/arcalab/vg-bench.txt', 'arca'),
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
out['lvs'] = {'plain': min(took(*lvm._LVS, lv) for _i in range(3)),
              'every device': min(took(*lvm._LVS, '--config', every, lv)
                                  for _i in range(3)),
              'devices': len(os.listdir('/dev/mapper')) - 1,
              'metadata': os.path.getsize('/run/arcalab/vg-bench.txt')}
print(json.dumps(out))
'''


class ExportsBench(object):
    """Adding export N+1 to one SVM of N exports, for several N.

    The add measured is what the drivers do to serve a new share or
    volume: exports.publish of a thin LV with XFS, not mounted yet, for
    one client, through the agent. The N exports before it are the same
    objects (thin LV, XFS mounted with prjquota, an export file the node
    library renders, one client; only the XFS log is smaller, see
    :data:`FILL_MKFS`), made in batches of bare commands over SSH and
    served with one Ganesha reload: making 500 through the agent one by
    one would cost 500 reloads of a growing SVM.
    """

    def __init__(self, node):
        from arca_openstack.node import ganesha
        from arca_openstack.wire import remote
        self.node = node
        self.remote = remote.Node(node.agent_client(), 'arca', 'pool')
        # The fillers' reload, over SSH; generous: it is not what is
        # measured.
        self.ganesha = ganesha.Ganesha(node.executor, reload_timeout=1800)
        self.filled = 0

    def setup(self):
        """The SVM, and the LV whose export is added and removed."""
        from arca_openstack.node import svm as svm_mod
        network = svm_mod.make_network('vlan', [EXPORT_ADDRESS],
                                       parent='eth0', vlan=100)
        self.remote.svms.create(EXPORT_SVM, network)
        self.remote.pool.create(ADD_LV, 1, tags=self._tags())
        self.remote.fs.mkfs(ADD_LV)

    @staticmethod
    def _tags():
        """The tags of a share's LV (LVM metadata as large as Manila's)."""
        from arca_openstack.node import lvm
        return lvm.make_tags(kind='share', id=str(uuid.uuid4()),
                             project=uuid.uuid4().hex, svm=EXPORT_SVM)

    def fill(self, count):
        """Bring the SVM to ``count`` exports.

        :returns: seconds (LVs made and mounted, exports served).
        """
        from arca_openstack.node import export
        from arca_openstack.node import ganesha_config
        from arca_openstack.node import ganesha_files
        wanted = range(self.filled, count)
        names = ['xfill-%04d' % i for i in wanted]
        started = time.monotonic()
        for at in range(0, len(names), FILL_BATCH):
            script = ['set -e']
            for name in names[at:at + FILL_BATCH]:
                script += [
                    'lvcreate -q -T arca/pool -V 1g -n %s %s >/dev/null'
                    % (name, ' '.join('--addtag ' + t for t in
                                      self._tags())),
                    '%s /dev/arca/%s' % (FILL_MKFS, name),
                    'mkdir -p %s' % export.mountpoint(name),
                    'mount -t xfs -o prjquota /dev/arca/%s %s'
                    % (name, export.mountpoint(name))]
            self.node.run('sh', '-s', input='\n'.join(script) + '\n',
                          timeout=3600)
        lvs = time.monotonic() - started
        started = time.monotonic()
        addrs, ids = ganesha_files.read_config(self.node.executor,
                                               EXPORT_SVM)
        # Exports 1..filled are the fillers (the measured one is removed
        # after each add): the fillers take the next ids.
        script = []
        new = []
        for index, name in zip(wanted, names):
            eid = index + 1
            text = ganesha_config.render_export(ganesha_config.Export(
                eid, export.mountpoint(name), export.pseudo_path(name),
                (ganesha_config.ClientRule(CLIENT, 'rw'),), False))
            script += ["cat > %s <<'ARCA_EOF'" % ganesha_config.export_path(
                EXPORT_SVM, eid), text + 'ARCA_EOF']
            new.append(eid)
        text = ganesha_config.render_config(EXPORT_SVM, addrs,
                                            tuple(ids) + tuple(new))
        script += ["cat > %s.new <<'ARCA_EOF'" % ganesha_config.config_path(
            EXPORT_SVM), text + 'ARCA_EOF',
            'mv %s.new %s' % ((ganesha_config.config_path(EXPORT_SVM),) * 2)]
        self.node.run('sh', '-s', input='\n'.join(script) + '\n',
                      timeout=600)
        pid = self.ganesha.status(EXPORT_SVM)['pid']
        self.ganesha._reload(EXPORT_SVM, pid)
        self.filled = count
        return lvs, time.monotonic() - started

    def add(self):
        """Add export N+1 through the agent, then remove it; seconds."""
        add, _r = timed(self.remote.exports.publish, EXPORT_SVM, ADD_LV,
                        [(CLIENT, 'rw')], False, ('prjquota',))
        remove, _r = timed(self.remote.exports.unpublish, EXPORT_SVM,
                           ADD_LV)
        return add, remove

    def profile(self):
        """The agent's add and remove of export N+1, step by step.

        Timed in the guest by :data:`PROBE`, without SSH in between.
        """
        argv = ('env', 'PYTHONPATH=/run/arcalab/src', '/usr/bin/python3',
                '-c', PROBE, json.dumps({'svm': EXPORT_SVM, 'lv': ADD_LV,
                                         'client': CLIENT}))
        return json.loads(self.node.run(*argv, timeout=1800).stdout)

    def memory(self):
        """MiB used in the guest, of which slab; Ganesha's RSS MiB."""
        pid = self.ganesha.status(EXPORT_SVM)['pid']
        out = self.node.sh('cat /proc/meminfo; grep VmRSS /proc/%d/status'
                           % pid).stdout
        kib = {}
        for line in out.splitlines():
            key, _sep, value = line.partition(':')
            if value.split():
                kib[key] = int(value.split()[0])
        return {'used': (kib['MemTotal'] - kib['MemAvailable']) / 1024.0,
                'total': kib['MemTotal'] / 1024.0,
                'slab': kib['Slab'] / 1024.0,
                'ganesha': kib['VmRSS'] / 1024.0}


def stop_bus(node):
    """Stop the guest's system bus (before the SVM's Ganesha starts).

    Every lab guest runs one with the project's policy, so the node
    library changes exports with D-Bus AddExport and RemoveExport; with
    none it falls back to SIGHUP reloads of all the SVM's exports, as on a
    node without dbus or without the policy.
    """
    node.sh('pid=$(cat /run/dbus/pid) && kill "$pid" && '
            'while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; '
            'rm -f /run/dbus/system_bus_socket /run/dbus/pid', timeout=30)


def exports_report(counts, results, profiles):
    print('\n%-8s %9s %9s %7s %8s %8s %8s %13s' % (
        'exports', 'add s', 'remove s', 'adds', 'mem MiB', 'slab',
        'ganesha', 'fill (LVs+exp)'))
    for n in counts:
        r = results[n]
        print('%-8d %9.2f %9.2f %7d %8.0f %8.0f %8.0f %6.0fs+%.0fs' % (
            n, statistics.median(r['add']), statistics.median(r['remove']),
            len(r['add']), r['mem']['used'], r['mem']['slab'],
            r['mem']['ganesha'], r['fill'][0], r['fill'][1]))
    first, last = counts[0], counts[-1]
    growth = (statistics.median(results[last]['add']) /
              statistics.median(results[first]['add']))
    print('add t(%d)/t(%d) = %.2f (goal <= %.1f)' % (last, first, growth,
                                                     MAX_GROWTH))
    print('\nwhere the agent\'s add (and remove) of export N+1 spends its '
          'time, in the guest, seconds:')
    print('%-44s' % 'step (seconds/calls)' +
          ''.join('%9d' % n for n in counts))
    for op in ('add', 'remove'):
        for kind in ('steps', 'commands'):
            keys = list(dict.fromkeys(
                k for n in counts for k in profiles[n][op].get(kind, {})))
            for key in keys:
                cells = []
                for n in counts:
                    count, secs = profiles[n][op].get(kind, {}).get(
                        key, (0, 0.0))
                    cells.append('%9s' % ('%.3f/%d' % (secs, count)
                                          if count else '-'))
                label = '%s %s' % (op, key if kind == 'steps'
                                   else 'cmd ' + key)
                print('%-44s' % label[:44] + ''.join(cells))
        print('%-44s' % ('%s total' % op) + ''.join(
            '%9.3f' % profiles[n][op]['total'] for n in counts))
    print('%-44s' % 'Ganesha reload of N exports (SIGHUP to log)' + ''.join(
        '%9.3f' % profiles[n]['reload'] for n in counts))
    print('%-44s' % 'lvs of one LV, LVM looking at the PV only' + ''.join(
        '%9.3f' % profiles[n]['lvs']['plain'] for n in counts))
    print('%-44s' % 'same, LVM looking at every device' + ''.join(
        '%9.3f' % profiles[n]['lvs']['every device'] for n in counts))
    print('%-44s' % 'device-mapper devices' + ''.join(
        '%9d' % profiles[n]['lvs']['devices'] for n in counts))
    print('%-44s' % 'VG metadata text KiB' + ''.join(
        '%9.0f' % (profiles[n]['lvs']['metadata'] / 1024.0)
        for n in counts))
    return growth


def make_workdir():
    """A work folder (driver state, locks), removed when the bench exits."""
    path = tempfile.mkdtemp(prefix='arca-bench-')
    atexit.register(shutil.rmtree, path, True)
    return path


def run_exports(args):
    from arca_openstack.node import export
    counts = sorted(set(int(c) for c in args.counts.split(',')))
    mem = args.mem or 2048
    workdir = make_workdir()
    lockutils.set_defaults(os.path.join(workdir, 'locks'))
    started = time.monotonic()
    with harness.Lab([harness.NodeSpec('s1', role='storage',
                                       disk_gib=args.disk)],
                     mem=mem) as lab:
        node = lab.node('s1')
        node.ensure_thin_pool()
        node.sh('ip link set eth0 up')
        if args.no_dbus:
            stop_bus(node)
        bench = ExportsBench(node)
        bench.setup()
        results, profiles = {}, {}
        for n in counts:
            fill = bench.fill(n)
            adds, removes = [], []
            for _i in range(args.repeat):
                add, remove = bench.add()
                adds.append(add)
                removes.append(remove)
            profiles[n] = bench.profile()
            results[n] = {'add': adds, 'remove': removes, 'fill': fill,
                          'mem': bench.memory()}
            print('%d exports: add %s s, remove %s s (%.0fs so far)' % (
                n, ' '.join('%.2f' % a for a in adds),
                ' '.join('%.2f' % r for r in removes),
                time.monotonic() - started), flush=True)
        exports_report(counts, results, profiles)
        print('guest memory %d MiB; %s; lab run %.0fs' % (
            mem, 'no D-Bus (SIGHUP reloads)' if args.no_dbus
            else 'D-Bus system bus',
            time.monotonic() - started))
        # So that the guest powers off in the lab's time (15 s): hundreds
        # of mounts and LVs would outlast it.
        started = time.monotonic()
        bench.ganesha.stop(EXPORT_SVM)
        node.sh("awk '$2 ~ \"^%s/\" {print $2}' /proc/mounts | "
                "xargs -r -n 50 umount; vgchange -an arca >/dev/null 2>&1"
                % export.MOUNT_BASE, check=False, timeout=1800)
        print('teardown (Ganesha stopped, unmounted, LVs deactivated) '
              '%.0fs' % (time.monotonic() - started))


def run_service(args):
    workdir = make_workdir()
    # The bare way runs the agent's operations here, with their locks.
    lockutils.set_defaults(os.path.join(workdir, 'locks'))
    kwargs = {'mem': args.mem} if args.mem else {}
    with harness.Lab([harness.NodeSpec('s1', role='storage', disk_gib=8)],
                     **kwargs) as lab:
        node = lab.node('s1')
        node.ensure_thin_pool()
        node.sh('ip link set eth0 up')
        bench = (CinderBench if args.service == 'cinder'
                 else ManilaBench)(node, workdir)
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
            if args.service == 'cinder':
                clone_base.append(bench.bare_snapshot())
            print('round %d done' % (i + 1), flush=True)
        report(bench, results, clone_base, trips)
        if args.service == 'cinder':
            for pools in (1, 40):
                print('service start-up (do_setup + check_for_setup_error) '
                      'with %d address pool(s): %.2fs'
                      % (pools, bench.startup(pools)))


def run_all(args):
    """Each part in its own process.

    Cinder and Manila cannot share one (both register state_path on the
    global CONF).
    """
    import subprocess
    failed = []
    for service in SERVICES:
        argv = [sys.executable, os.path.abspath(__file__), service,
                '--repeat', str(args.repeat)]
        if service == 'exports':
            argv += ['--counts', args.counts, '--disk', str(args.disk)]
        print('\n===== %s =====' % service, flush=True)
        started = time.monotonic()
        code = subprocess.call(argv)
        print('===== %s: %.0fs%s =====' % (
            service, time.monotonic() - started,
            ', failed (%d)' % code if code else ''), flush=True)
        if code:
            failed.append(service)
    return 1 if failed else 0


SERVICES = ('cinder', 'manila', 'exports')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('service', choices=SERVICES + ('all',))
    parser.add_argument('--repeat', type=int, default=3,
                        help='rounds (exports: adds at each count)')
    parser.add_argument('--counts', default='10,100,500',
                        help='exports: the SVM\'s export counts N')
    parser.add_argument('--mem', type=int, default=None,
                        help='MiB of the storage node (default: the '
                        'lab\'s; exports: 2048)')
    parser.add_argument('--disk', type=int, default=16,
                        help='exports: GiB of the storage node\'s disk')
    parser.add_argument('--no-dbus', action='store_true',
                        help='exports: stop the guest\'s D-Bus system bus '
                        'first, so that exports change by SIGHUP reloads')
    args = parser.parse_args()
    if args.service == 'all':
        return run_all(args)
    if args.service == 'exports':
        return run_exports(args)
    return run_service(args)


if __name__ == '__main__':
    sys.exit(main())
