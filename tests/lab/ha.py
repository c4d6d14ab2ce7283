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
import os
import re
import time

from tests.lab import harness

ARCA_NODE = ('env', 'PYTHONPATH=/run/arcalab/src', '/usr/bin/python3', '-m',
             'arca_openstack.cmd.arca_node')
# Where a pool's DRBD backing disk is in the guests (NodeSpec ha_disk_gib).
HA_DISK = '/dev/ubdb'


class Pool(object):
    def __init__(self, name, minor, port, address, preferred):
        self.name = name
        self.minor = minor
        self.port = port
        self.address = address          # floating management address
        self.preferred = preferred

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
                  'disk = %s' % HA_DISK,
                  'minor = %d' % pool.minor,
                  'port = %d' % pool.port,
                  'management_address = %s/24' % pool.address,
                  'management_nic = eth0',
                  'preferred_node = %s' % pool.preferred, '']
    return '\n'.join(lines)


class Pair(object):
    """The two storage nodes of ``lab`` and their pools."""

    def __init__(self, lab, names, pools):
        self.lab = lab
        self.nodes = [lab.node(n) for n in names]
        self.pools = list(pools)
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
        pools = ', '.join(p.thin_pool for p in self.pools)
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
            self.wait_pool_on(pool, self.node(pool.preferred), timeout=900)
        self.timings['resources'] = time.monotonic() - started

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
             timeout, 'pool %s served by %s' % (pool.name, node.name))

    def logs(self, node, lines=200):
        return node.sh('tail -n %d /var/log/pacemaker/pacemaker.log' % lines,
                       check=False).stdout


def wait(predicate, timeout, what, interval=1.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except Exception:   # a node busy or rebooting: look again
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise harness.LabError('timed out after %ss waiting for %s'
                                   % (timeout, what))
        time.sleep(interval)
