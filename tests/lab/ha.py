"""An HA pair in the lab: two storage guests, Corosync, Pacemaker, DRBD.

Everything on the nodes is done the documented way: the operator's
/etc/arca/cluster.conf and /etc/arca/arca-node.conf, a shared Corosync
key, then ``arca-node cluster setup`` and ``create-pool`` on both nodes,
the daemons, and ``arca-node cluster cib --apply`` on one. The guests'
/etc and /var are fresh at every boot, so :meth:`Pair.prepare` is what a
rebooted node needs before it joins again.

Fencing is real: the lab's ``fence_arcalab`` asks the harness to kill
the guest's UML process (Lab(..., fencing=True)).
"""

import base64
import json
import os
import re
import time

from arca_openstack.node import lvm
from tests.lab import harness

ARCA_NODE = ('env', 'PYTHONPATH=/run/arcalab/src', '/usr/bin/python3', '-m',
             'arca_openstack.cmd.arca_node')
# Where a pool's DRBD backing disk is in the guests (NodeSpec ha_disk_gib).
HA_DISK = '/dev/ubdb'


class Pool(object):
    def __init__(self, name, minor, port, address, preferred,
                 disk=HA_DISK):
        self.name = name
        self.minor = minor
        self.port = port
        self.address = address          # floating management address
        self.preferred = preferred
        self.disk = disk                # DRBD backing disk in the guests

    @property
    def thin_pool(self):
        return '%s/pool' % self.name


def cluster_conf(nodes, pools, cluster='arcalab'):
    lines = ['[cluster]', 'name = %s' % cluster,
             'nodes = %s' % ', '.join('%s=%s' % (n.name, n.address)
                                      for n in nodes), '']
    for node in nodes:
        lines += ['[fence %s]' % node.name, 'agent = fence_arcalab', '']
    for pool in pools:
        lines += ['[pool %s]' % pool.name,
                  'thin_pool = %s' % pool.thin_pool,
                  'disk = %s' % pool.disk,
                  'minor = %d' % pool.minor,
                  'port = %d' % pool.port,
                  'management_address = %s/24' % pool.address,
                  'management_nic = eth0',
                  'preferred_node = %s' % pool.preferred, '']
    return '\n'.join(lines)


class Pair(object):
    """The two storage nodes of ``lab`` and their pools."""

    def __init__(self, lab, names, pools, local_pools=()):
        self.lab = lab
        self.nodes = [lab.node(n) for n in names]
        self.pools = list(pools)
        # Unmirrored thin pools (VG/THIN) of each node, served as well.
        self.local_pools = list(local_pools)
        self.authkey = base64.b64encode(os.urandom(256)).decode()
        self.timings = {}

    def node(self, name):
        return self.lab.node(name)

    def arca_node(self, node, *args, timeout=600, check=True):
        return node.run(*(ARCA_NODE + args), timeout=timeout, check=check)

    def prepare(self, node):
        """What a (re)booted node needs: config, key, ``cluster setup``."""
        node.run('mkdir', '-p', '/etc/arca', '/etc/corosync')
        node.run('tee', '/etc/arca/cluster.conf',
                 input=cluster_conf(self.nodes, self.pools))
        pools = ', '.join([p.thin_pool for p in self.pools] +
                          self.local_pools)
        node.run('tee', '/etc/arca/arca-node.conf',
                 input='[agent]\npools = %s\n' % pools)
        node.sh('echo %s | base64 -d > /etc/corosync/authkey && '
                'chmod 400 /etc/corosync/authkey' % self.authkey)
        self.arca_node(node, 'cluster', 'setup')

    def create_pools(self):
        """``create-pool`` of every pool, on both nodes at once."""
        for pool in self.pools:
            harness.Lab._parallel(
                lambda n: self.arca_node(n, 'cluster', 'create-pool',
                                         pool.name),
                self.nodes)

    def start_daemons(self, node):
        node.sh('setsid corosync -f </dev/null '
                '>/var/log/corosync/stdout.log 2>&1 &')
        wait(lambda: 'Quorate:          Yes' in node.sh(
            'corosync-quorumtool -s', check=False).stdout or
            self._joined(node), 120, '%s: corosync quorate' % node.name)
        node.sh('setsid pacemakerd </dev/null '
                '>/var/log/pacemaker/pacemakerd.out 2>&1 &')

    def _joined(self, node):
        return 'Members' in node.sh('corosync-quorumtool -s',
                                    check=False).stdout

    def start(self):
        """Both nodes prepared, pools made, cluster up, resources in."""
        started = time.monotonic()
        harness.Lab._parallel(self.prepare, self.nodes)
        self.create_pools()
        self.timings['pools'] = time.monotonic() - started
        harness.Lab._parallel(self.start_daemons, self.nodes)
        self.wait_online(self.nodes)
        self.timings['cluster'] = time.monotonic() - started
        self.arca_node(self.nodes[0], 'cluster', 'cib', '--apply')
        for pool in self.pools:
            self.place(pool, timeout=900)
        self.timings['resources'] = time.monotonic() - started

    def place(self, pool, timeout=900):
        """Wait until the pool serves, and on its preferred node.

        On a loaded lab host an operation of the first start may time
        out (each resource agent call takes seconds under UML); Pacemaker
        then starts the pool on the other node, as it should. The pool is
        then moved to where the tests expect it, the documented way
        (``cluster move``/``unmove``), after its failures are cleared;
        what failed is printed.
        """
        wait(lambda: self.where(pool) is not None, timeout,
             'pool %s served by a node' % pool.name, on_timeout=self.state)
        node = self.where(pool)
        if node.name == pool.preferred:
            return
        print('pool %s first started on %s, not %s:\n%s' % (
            pool.name, node.name, pool.preferred, self.state()))
        node.sh('crm_resource --cleanup', check=False)
        self.wait_in_sync(pool, node)
        self.arca_node(node, 'cluster', 'move', pool.name, pool.preferred)
        self.wait_pool_on(pool, self.node(pool.preferred), timeout=timeout)
        self.arca_node(node, 'cluster', 'unmove', pool.name)

    def where(self, pool):
        """The node serving the pool now, or None."""
        return next((node for node in self.nodes
                     if self.serving(pool, node) and
                     self.located(pool, node) == node.name), None)

    def wait_in_sync(self, pool, via, timeout=600):
        def in_sync():
            status = json.loads(self.arca_node(
                via, 'cluster', 'status', '--format', 'json',
                check=False).stdout or '{}')
            drbd = next((p.get('drbd') for p in status.get('pools', [])
                         if p.get('name') == pool.name), None) or {}
            return (drbd.get('disk'), drbd.get('peer_disk')) == (
                'UpToDate', 'UpToDate')
        wait(in_sync, timeout, 'pool %s in sync' % pool.name, interval=3)

    def state(self):
        """What Pacemaker shows, with fail counts and failed actions."""
        return self.nodes[0].sh('crm_mon -1 -f 2>&1 | tail -n 40',
                                check=False, timeout=60).stdout

    def fail_count(self, pool, node):
        """How often the pool's resource failed on ``node``.

        A failed monitor counts: Pacemaker then restarts the pool in place.
        """
        out = self.nodes[0].sh(
            'crm_failcount --query -r pool-%s -N %s' % (pool.name,
                                                        node.name),
            timeout=60).stdout
        match = re.search(r'value=(\d+|INFINITY)', out)
        if not match:
            raise AssertionError('crm_failcount said: %r' % out)
        return match.group(1)

    def wait_online(self, nodes, timeout=300):
        names = sorted(n.name for n in nodes)
        pattern = 'Online: [ %s ]' % ' '.join(names)

        def online():
            out = nodes[0].sh('crm_mon -1', check=False).stdout
            return pattern in out and 'partition with quorum' in out
        wait(online, timeout, 'nodes %s online' % ', '.join(names))

    def located(self, pool, via):
        """Where Pacemaker runs the pool's group, as ``via`` sees it."""
        out = via.sh('crm_resource --locate -r g-%s' % pool.name,
                     check=False).stdout
        match = re.search(r'is running on: (\S+)', out)
        return match and match.group(1)

    def serving(self, pool, node):
        """The pool's state is mounted on ``node`` and its address up."""
        out = node.sh('findmnt -n /var/lib/arca/pools/%s; '
                      'ip -4 -br addr show dev eth0' % pool.name,
                      check=False).stdout
        return ('/var/lib/arca/pools/' in out and
                pool.address + '/' in out)

    def wait_pool_on(self, pool, node, timeout=600):
        wait(lambda: self.serving(pool, node) and
             self.located(pool, node) == node.name,
             timeout, 'pool %s served by %s' % (pool.name, node.name),
             on_timeout=self.state)

    def logs(self, node, lines=200):
        return node.sh('tail -n %d /var/log/pacemaker/pacemaker.log' % lines,
                       check=False).stdout


def wait(predicate, timeout, what, interval=1.0, on_timeout=None):
    """Poll ``predicate``; LabError after ``timeout`` seconds.

    ``on_timeout`` gives text (the cluster's state) for the error.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except Exception:   # a node busy or rebooting: look again
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            detail = ''
            if on_timeout is not None:
                try:
                    detail = ':\n' + on_timeout()
                except Exception as err:
                    detail = ' (no state: %s)' % err
            raise harness.LabError('timed out after %ss waiting for %s%s'
                                   % (timeout, what, detail))
        time.sleep(interval)


# -- DRBD as the kernel sees it, and a cut of the replication link ----------

def drbd_state(node, pool):
    """The pool's DRBD device from ``/proc/drbd`` on ``node`` (8.4).

    ``{'cs': 'Connected', 'role': 'Primary', 'peer_role': 'Secondary',
    'disk': 'UpToDate', 'peer_disk': 'UpToDate', 'oos_kib': 0,
    'sync': "sync'ed: ..." or None}``; ``{}`` when the minor is not
    configured there (DRBD down).
    """
    text = node.sh('cat /proc/drbd', check=False).stdout
    return parse_proc_drbd(text, pool.minor)


def parse_proc_drbd(text, minor):
    lines = text.splitlines()
    state = {}
    for at, line in enumerate(lines):
        head = re.match(r'\s*(\d+): cs:(\S+) ro:(\S+)/(\S+) ds:(\S+)/(\S+)',
                        line)
        if not head or int(head.group(1)) != minor:
            continue
        state = {'cs': head.group(2), 'role': head.group(3),
                 'peer_role': head.group(4), 'disk': head.group(5),
                 'peer_disk': head.group(6), 'oos_kib': None, 'sync': None}
        for more in lines[at + 1:]:
            if re.match(r'\s*\d+: ', more):
                break
            oos = re.search(r'\boos:(\d+)', more)
            if oos:
                state['oos_kib'] = int(oos.group(1))
            if "sync'ed:" in more:
                state['sync'] = more.strip()
        break
    return state


def cut_replication(nodes, pool):
    """Drop the pool's DRBD traffic, only it, on both nodes.

    In the lab Corosync, DRBD, the clients and the drivers share eth0, as
    they share the ring0 address in ``cluster.conf``. A policy rule per
    direction makes every packet to or from the pool's DRBD port
    unroutable on each node (``blackhole``), so the replication link is
    cut while Corosync, the clients and SSH carry on: a split brain of
    the replication alone. Established connections are rerouted at once
    (a rule change invalidates the sockets' cached routes).
    """
    for node in nodes:
        node.sh('ip rule add pref 90 ipproto tcp dport {p} blackhole && '
                'ip rule add pref 91 ipproto tcp sport {p} blackhole'.format(
                    p=pool.port))


def restore_replication(nodes, pool):
    """Undo :func:`cut_replication`."""
    for node in nodes:
        node.sh('while ip rule del pref 90 2>/dev/null; do :; done; '
                'while ip rule del pref 91 2>/dev/null; do :; done')
        out = node.sh('ip rule show', check=False).stdout
        if 'blackhole' in out:
            raise harness.LabError('%s: rules left: %s' % (node.name, out))


def kernel_log(node, pattern):
    """Lines of the guest's kernel log matching ``pattern``."""
    out = node.sh('dmesg', check=False).stdout
    return [line for line in out.splitlines() if re.search(pattern, line)]


# -- a client writing through NFS ---------------------------------------------

# Runs on the client: writes record N at offset N*4096 of FILE, fsyncs,
# and only then appends "N time" to LOG (the client's own disk), until
# STOP exists. The records acknowledged are exactly the lines of LOG.
WRITER = r'''
import os, sys, time
path, log, stop = sys.argv[1:4]
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
out = open(log, 'a')
seq = 0
while not os.path.exists(stop):
    seq += 1
    record = ('%08d %.3f ' % (seq, time.time())).encode().ljust(4095, b'.')
    os.pwrite(fd, record + b'\n', seq * 4096)
    os.fsync(fd)
    out.write('%d %.3f\n' % (seq, time.time()))
    out.flush()
    time.sleep(0.05)
'''


class Writer(object):
    """One :data:`WRITER` on a client guest, writing to ``target``.

    ``name`` names its files on the client: /root/NAME.log (the records
    acknowledged), NAME.stop, NAME.out (its errors).
    """

    def __init__(self, client, name, target):
        self.client = client
        self.name = name
        self.target = target

    def start(self):
        self.client.run('tee', '/root/arca-writer.py', input=WRITER)
        self.client.sh(
            'rm -f /root/{n}.log /root/{n}.stop; setsid /usr/bin/python3 '
            '/root/arca-writer.py {t} /root/{n}.log /root/{n}.stop '
            '</dev/null >/root/{n}.out 2>&1 &'.format(n=self.name,
                                                      t=self.target))

    def stop(self):
        self.client.sh('touch /root/%s.stop' % self.name)

    def acked(self):
        """``[(seq, time)]`` the client logged after each fsync."""
        out = self.client.sh('cat /root/%s.log 2>/dev/null' % self.name,
                             check=False).stdout
        return [(int(s), float(t)) for s, t in
                (line.split() for line in out.splitlines()
                 if len(line.split()) == 2)]

    def errors(self):
        return self.client.sh('cat /root/%s.out' % self.name,
                              check=False).stdout

    def wait_records(self, count, timeout=120):
        wait(lambda: len(self.acked()) >= count, timeout,
             '%d records by %s' % (count, self.name))

    def max_gap(self, since=None, until=None):
        """The longest time between two acknowledged records (s).

        Only records acknowledged in [since, until] (client's clock)
        count, with ``since`` itself as the first point if given.
        """
        times = [t for _s, t in self.acked()
                 if (since is None or t >= since) and
                 (until is None or t <= until)]
        if since is not None:
            times.insert(0, since)
        return max((b - a for a, b in zip(times, times[1:])), default=None)

    def lost(self, node, path):
        """Acknowledged records not intact in ``path`` on ``node``."""
        acked = self.acked()
        if not acked:
            return []
        on_disk = intact_records(node, path, max(s for s, _t in acked))
        return [s for s, _t in acked if s not in on_disk]


def intact_records(node, path, last):
    """Sequence numbers whose :data:`WRITER` record is intact in ``path``."""
    script = ('import sys\n'
              'f = open(%r, "rb")\n'
              'for seq in range(1, %d + 1):\n'
              '    f.seek(seq * 4096)\n'
              '    rec = f.read(4096)\n'
              '    if rec[:9] == b"%%08d " %% seq and rec.endswith('
              'b"\\n"):\n'
              '        print(seq)\n' % (path, last))
    out = node.run('/usr/bin/python3', '-c', script, timeout=300).stdout
    return {int(x) for x in out.split()}


def trust_address(lab, address):
    """The guests' host key under a pool's floating address (known_hosts).

    Every guest has the same host key in the lab.
    """
    with open(lab.known_hosts) as f:
        key = f.readline().split(None, 1)[1]
    with open(lab.known_hosts, 'a') as f:
        f.write('%s %s' % (address, key))


def pool_agent(lab, pool):
    """The drivers' way in: the agent behind the pool's address."""
    return harness.connect_agent({
        'address': pool.address, 'netns': lab.netns,
        'key_file': lab.key_file, 'known_hosts': lab.known_hosts})


def serve_share(client, pool, svm, prefix, address_pool, share, project,
                client_address):
    """An SVM of ``pool`` and a 1 GiB share in it, rw for one client.

    ``client`` is :func:`pool_agent`'s; ``prefix`` the SVM name prefix
    and ``address_pool`` the address range of the pool's backends (their
    own, disjoint from every other pool's). Returns the SVM's address.
    """
    vg, _sep, thin = pool.thin_pool.partition('/')

    def call(op, **args):
        return client.call(op, dict(args, vg=vg, thin=thin))
    svm_record = call('svm_pools.ensure', name=svm,
                      owner='arca.project=%s' % project,
                      settings={'mapping': 'per_project', 'prefix': prefix,
                                'shared_name': prefix + 'shared',
                                'delete_unused': True,
                                'pools': [address_pool]})
    network = svm_record['network']
    addresses = getattr(network, 'addresses', None) or network['addresses']
    call('pool.create', name=share, size_gib=1,
         tags=lvm.make_tags(kind='share', project=project, svm=svm))
    call('exports.format_and_publish', svm=svm, name=share,
         clients=[[client_address, 'rw']], mount_options=['prjquota'],
         quota_bytes=1 << 30, image_bytes=None)
    return addresses[0].split('/')[0]


def nfs_mount(client, address, name):
    """Mount export /NAME of ``address`` on /mnt/NAME as a hard v4.2 mount."""
    client.sh('mkdir -p /mnt/{n} && timeout 120 mount -t nfs4 -o '
              'vers=4.2,proto=tcp,hard {a}:/{n} /mnt/{n}'.format(
                  n=name, a=address), timeout=180)
