"""The HA pair's configuration: /etc/arca/cluster.conf, strictly read.

The same file on both nodes of a pair. It names the two nodes (each one's
``uname -n`` and its ring0 address, used by Corosync and DRBD), how to
fence each node, and the pools mirrored between them::

    [cluster]
    name = arca
    nodes = s1=10.97.0.1, s2=10.97.0.2

    [fence s1]
    agent = fence_ipmilan
    ip = 192.0.2.11
    username = admin
    password = secret

    [fence s2]
    agent = fence_ipmilan
    ip = 192.0.2.12
    username = admin
    password = secret

    [pool arca1]
    thin_pool = arca1/pool
    disk = /dev/sdb
    minor = 1
    port = 7789
    management_address = 10.97.0.101/24
    management_nic = eth0
    preferred_node = s1

Every key of a ``[fence NODE]`` section but ``agent`` is passed to the
agent as a stonith parameter; ``pcmk_host_list`` is set from the section
name. A pool's ``thin_pool`` defaults to ``POOL/pool``. No interpolation,
no ``[DEFAULT]`` section, no unknown section or key: a typo is an error
naming its section and key, never a silently ignored setting.
"""

import collections
import configparser
import ipaddress

from arca_openstack import exception
from arca_openstack.node import files
from arca_openstack.node import validate

CONFIG_FILE = files.CLUSTER_CONF

Cluster = collections.namedtuple('Cluster', ['name', 'nodes', 'fences',
                                             'pools'])
#: ``nodeid`` is 1 or 2, by node name, so both nodes agree on it.
Node = collections.namedtuple('Node', ['name', 'address', 'nodeid'])
#: ``params``: ((name, value), ...) sorted by name.
Fence = collections.namedtuple('Fence', ['node', 'agent', 'params'])
#: ``address`` is the floating management address with its prefix
#: (``10.97.0.101/24``), ``nic`` the interface it is added to.
Pool = collections.namedtuple('Pool', [
    'name', 'thin_pool', 'disk', 'minor', 'port', 'address', 'nic',
    'preferred_node'])

_CLUSTER_KEYS = ('name', 'nodes')
_POOL_REQUIRED = ('disk', 'minor', 'port', 'management_address',
                  'management_nic', 'preferred_node')
_POOL_KEYS = _POOL_REQUIRED + ('thin_pool',)
# Set by arca-node from the section, never by the operator.
_FENCE_RESERVED = ('pcmk_host_list', 'pcmk_host_map', 'pcmk_host_check')


def _error(source, where, value, reason):
    return exception.InvalidInput(what='%s %s' % (source, where),
                                  value=value, reason=reason)


class _Reader(object):

    def __init__(self, source):
        self.source = source

    def fail(self, where, value, reason):
        raise _error(self.source, where, value, reason)

    def check(self, where, func, value, *args):
        """``func(value, *args)``, its InvalidInput named by ``where``."""
        try:
            return func(value, *args)
        except exception.InvalidInput as err:
            raise _error(self.source, where, err.kwargs.get('value', value),
                         err.kwargs.get('reason', str(err))) from None

    def missing(self, where, reason='is required'):
        raise exception.InvalidInput(
            'Invalid %s %s: %s' % (self.source, where, reason),
            what='%s %s' % (self.source, where), value=None, reason=reason)

    def keys(self, section, items, allowed, required):
        for key in items:
            if key not in allowed:
                self.fail('[%s]' % section, key, 'unknown key (known: %s)'
                          % ', '.join(sorted(allowed)))
        for key in required:
            if key not in items or not items[key].strip():
                self.missing('[%s] %s' % (section, key))


def _pool_name(value):
    validate.vg_name(value)
    return validate.resource_name(value)


def _thin_pool(value, pool):
    vg, sep, thin = value.partition('/')
    if not sep or vg != pool:
        raise exception.InvalidInput(
            what='thin pool', value=value,
            reason='must be %s/THIN (the pool name is its VG)' % pool)
    validate.lv_name(thin, what='thin pool name')
    return value


def _nodes(reader, value):
    where = '[cluster] nodes'
    nodes = []
    for item in value.split(','):
        name, sep, address = item.strip().partition('=')
        if not sep:
            reader.fail(where, item.strip(), 'must be NAME=ADDRESS')
        name = reader.check(where, validate.hostname, name.strip())
        address = reader.check(where, validate.ip_address, address.strip())
        nodes.append((name, address))
    if len(nodes) != 2:
        reader.fail(where, value, 'must name exactly two nodes')
    (name1, addr1), (name2, addr2) = sorted(nodes)
    if name1 == name2:
        reader.fail(where, value, 'names the same node twice')
    if addr1 == addr2:
        reader.fail(where, value, 'gives both nodes the same address')
    if (':' in addr1) != (':' in addr2):
        reader.fail(where, value, 'must give both nodes addresses of the '
                    'same IP version')
    return (Node(name1, addr1, 1), Node(name2, addr2, 2))


def _fence(reader, section, node, items):
    where = '[%s]' % section
    if 'agent' not in items or not items['agent'].strip():
        reader.missing(where + ' agent')
    agent = reader.check(where + ' agent', validate.fence_agent,
                         items['agent'].strip())
    params = []
    for key, value in sorted(items.items()):
        if key == 'agent':
            continue
        reader.check(where, validate.parameter_name, key)
        if key in _FENCE_RESERVED:
            reader.fail(where, key, 'is set by arca-node from the section '
                        'name; remove it')
        params.append((key, reader.check('%s %s' % (where, key),
                                         validate.text, value.strip(),
                                         'value')))
    return Fence(node, agent, tuple(params))


def _pool(reader, section, name, items, node_names):
    where = '[%s]' % section
    reader.keys(section, items, _POOL_KEYS, _POOL_REQUIRED)

    def value(key, func, *args):
        return reader.check('%s %s' % (where, key), func,
                            items[key].strip(), *args)

    thin_pool = ('%s/pool' % name if not items.get('thin_pool', '').strip()
                 else value('thin_pool', _thin_pool, name))
    preferred = value('preferred_node', validate.hostname)
    if preferred not in node_names:
        reader.fail(where + ' preferred_node', preferred,
                    'must be one of the nodes (%s)' % ', '.join(node_names))
    return Pool(
        name=name, thin_pool=thin_pool,
        disk=value('disk', validate.abs_path, '/dev', 'disk'),
        minor=value('minor', validate.minor),
        port=value('port', validate.port),
        address=value('management_address', validate.ip_interface),
        nic=value('management_nic', validate.interface_name),
        preferred_node=preferred)


def _distinct(reader, pools, nodes):
    for field, key in (('minor', 'minor'), ('port', 'port'),
                       ('address', 'management_address')):
        seen = {}
        for pool in pools:
            item = getattr(pool, field)
            if field == 'address':
                item = str(ipaddress.ip_interface(item).ip)
            if item in seen:
                reader.fail('[pool %s] %s' % (pool.name, key),
                            getattr(pool, field),
                            'is also the %s of pool %s' % (key, seen[item]))
            seen[item] = pool.name
    addresses = {node.address: node.name for node in nodes}
    for pool in pools:
        ip = str(ipaddress.ip_interface(pool.address).ip)
        if ip in addresses:
            reader.fail('[pool %s] management_address' % pool.name,
                        pool.address, 'is the address of node %s'
                        % addresses[ip])


def parse(text, source=CONFIG_FILE):
    """The :class:`Cluster` described by ``text``; InvalidInput if not."""
    reader = _Reader(source)
    parser = configparser.ConfigParser(interpolation=None, strict=True,
                                       default_section='\0',
                                       empty_lines_in_values=False)
    try:
        parser.read_string(text, source=source)
    except configparser.Error as err:
        reason = ' '.join(str(err).split())
        raise exception.InvalidInput('Invalid %s: %s' % (source, reason),
                                     what=source, value=None,
                                     reason=reason) from None
    sections = {}
    for section in parser.sections():
        kind, _sep, name = section.partition(' ')
        if section == 'cluster':
            continue
        if kind not in ('fence', 'pool') or not name.strip() or (
                name != name.strip()):
            reader.fail('section', section, 'must be [cluster], '
                        '[fence NODE] or [pool NAME]')
        sections.setdefault(kind, []).append((section, name))
    if not parser.has_section('cluster'):
        reader.fail('section', 'cluster', 'is required')
    cluster = dict(parser.items('cluster'))
    reader.keys('cluster', cluster, _CLUSTER_KEYS, _CLUSTER_KEYS)
    name = reader.check('[cluster] name', validate.cluster_name,
                        cluster['name'].strip())
    nodes = _nodes(reader, cluster['nodes'])
    node_names = [node.name for node in nodes]

    fences = {}
    for section, node in sections.get('fence', []):
        if node not in node_names:
            reader.fail('section', section, 'names no node of [cluster] '
                        'nodes (%s)' % ', '.join(node_names))
        fences[node] = _fence(reader, section, node,
                              dict(parser.items(section)))
    for node in node_names:
        if node not in fences:
            reader.fail('section', 'fence %s' % node,
                        'is required: every node needs a fence device')

    pools = []
    for section, pool in sections.get('pool', []):
        pool = reader.check('section [%s]' % section, _pool_name, pool)
        pools.append(_pool(reader, section, pool,
                           dict(parser.items(section)), node_names))
    if not pools:
        reader.fail('section', 'pool', 'at least one [pool NAME] is '
                    'required')
    pools.sort(key=lambda p: p.name)
    _distinct(reader, pools, nodes)
    return Cluster(name, nodes, tuple(fences[n] for n in node_names),
                   tuple(pools))


def load(path=CONFIG_FILE):
    """Read and check the file; InvalidInput if it is missing or bad."""
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except OSError as err:
        raise exception.InvalidInput(
            what='cluster configuration', value=path,
            reason=err.strerror or str(err)) from None
    return parse(text, source=path)


def read(executor, path=CONFIG_FILE):
    """The :class:`Cluster` of the file, read through ``executor``.

    None if the node has no such file (it is no HA pair's); InvalidInput
    if the file is bad, CommandFailed if it cannot be read. The agent
    reads it so (one ``cat`` it answers itself, see agent.builtins).
    """
    text = files.read(executor, path)
    if text is None:
        return None
    return parse(text, source=path)


def pool_of(cluster, thin_pool):
    """The :class:`Pool` whose ``thin_pool`` is ``VG/THIN``; None if none."""
    return next((p for p in cluster.pools if p.thin_pool == thin_pool),
                None)


def node(cluster, name):
    """The :class:`Node` called ``name``; InvalidInput if none is."""
    for item in cluster.nodes:
        if item.name == name:
            return item
    raise exception.InvalidInput(
        what='node', value=name, reason='is not a node of cluster %s (%s)'
        % (cluster.name, ', '.join(n.name for n in cluster.nodes)))


def peer(cluster, name):
    """The other node of the pair."""
    node(cluster, name)
    return next(n for n in cluster.nodes if n.name != name)


def pool(cluster, name):
    for item in cluster.pools:
        if item.name == name:
            return item
    raise exception.InvalidInput(
        what='pool', value=name, reason='is not a pool of %s (%s)' % (
            CONFIG_FILE, ', '.join(p.name for p in cluster.pools)))


def vg_and_thin(pool):
    """(VG, thin pool LV) of a :class:`Pool`."""
    vg, _sep, thin = pool.thin_pool.partition('/')
    return vg, thin
