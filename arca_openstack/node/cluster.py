"""What an HA pair runs on, rendered from its checked configuration.

From a :class:`~arca_openstack.node.cluster_config.Cluster`:

* :func:`render_corosync`: ``/etc/corosync/corosync.conf`` (knet, crypto,
  ``two_node``), the same bytes on both nodes;
* :func:`render_pool_resource`: a pool's DRBD resource file, through
  :func:`arca_openstack.node.drbd.render_resource` with fencing on;
* :func:`render_cib`: the Pacemaker configuration, one ``<configuration>``
  document for ``cibadmin --modify --allow-create -o configuration``, so
  resources and their constraints appear in one transaction;
* :func:`render_move`: the location constraint of a planned move.

Every Pacemaker id is derived from names the configuration has validated
(pools: VG and DRBD resource names; nodes: host names; fence parameters:
``[a-z][a-z0-9_-]*``), all of them valid XML ids once prefixed. The XML
is built with ElementTree, which escapes every value.

Per pool ``POOL`` (see the design of the HA pair):

* ``ms-POOL``: promotable clone of ``drbd-POOL`` (``ocf:linbit:drbd``);
* ``g-POOL``: group of ``pool-POOL`` (``ocf:arca:pool``) then ``ip-POOL``
  (``ocf:heartbeat:IPaddr2``, the floating management address);
* ``col-POOL`` (g-POOL with the Promoted ms-POOL), ``ord-POOL`` (promote
  then start), ``loc-POOL`` (g-POOL prefers the preferred node, 50).

Every operation has an explicit timeout of at least 120 s: agents are
slow on small or loaded nodes, and a monitor that times out is a failure
Pacemaker recovers from by stopping the pool.
"""

import ipaddress
from xml.etree import ElementTree as ET

from arca_openstack.node import cluster_config
from arca_openstack.node import drbd

COROSYNC_CONF = '/etc/corosync/corosync.conf'
COROSYNC_LOG = '/var/log/corosync/corosync.log'

STICKINESS = 100
PREFERENCE = 50
OP_TIMEOUT = '120s'
FENCE_MONITOR = '60s'
MOVE_SCORE = 'INFINITY'

# (name, interval, timeout, role)
DRBD_OPS = (
    ('monitor', '15s', '120s', 'Promoted'),
    ('monitor', '20s', '120s', 'Unpromoted'),
    ('start', '0s', '240s', None),
    ('promote', '0s', '120s', None),
    ('demote', '0s', '120s', None),
    ('notify', '0s', '120s', None),
    ('stop', '0s', '120s', None),
)
POOL_OPS = (
    ('monitor', '30s', '120s', None),
    ('start', '0s', '600s', None),
    ('stop', '0s', '600s', None),
)
IP_OPS = (
    ('monitor', '10s', '120s', None),
    ('start', '0s', '120s', None),
    ('stop', '0s', '120s', None),
)
FENCE_OPS = (
    ('monitor', FENCE_MONITOR, '120s', None),
)


def ms_id(pool):
    return 'ms-%s' % pool


def group_id(pool):
    return 'g-%s' % pool


def move_id(pool):
    return 'arca-move-%s' % pool


def fence_id(node):
    return 'fence-%s' % node


# -- Corosync ---------------------------------------------------------------

def render_corosync(cluster):
    """corosync.conf: the same bytes on both nodes."""
    lines = [
        '# Managed by arca-openstack (arca-node cluster setup): do not edit.',
        'totem {',
        '    version: 2',
        '    cluster_name: %s' % cluster.name,
        '    transport: knet',
        '    crypto_cipher: aes256',
        '    crypto_hash: sha256',
        '}',
        'nodelist {',
    ]
    for node in cluster.nodes:
        lines += [
            '    node {',
            '        ring0_addr: %s' % node.address,
            '        name: %s' % node.name,
            '        nodeid: %d' % node.nodeid,
            '    }',
        ]
    lines += [
        '}',
        'quorum {',
        '    provider: corosync_votequorum',
        '    two_node: 1',
        '}',
        'logging {',
        '    to_logfile: yes',
        '    logfile: %s' % COROSYNC_LOG,
        '    to_stderr: no',
        '    to_syslog: no',
        '    timestamp: on',
        '}',
    ]
    return '\n'.join(lines) + '\n'


# -- DRBD -------------------------------------------------------------------

def drbd_peers(cluster, pool):
    """The two :class:`drbd.Peer` of a pool (any order: the file sorts)."""
    return tuple(drbd.Peer(node.name, node.address, pool.disk)
                 for node in cluster.nodes)


def render_pool_resource(cluster, pool):
    first, second = drbd_peers(cluster, pool)
    return drbd.render_resource(pool.name, pool.minor, pool.port, first,
                                second, fencing=True)


def drbd_device(pool):
    return '/dev/drbd%d' % pool.minor


# -- Pacemaker --------------------------------------------------------------

def _nvpairs(parent, tag, set_id, pairs):
    attrs = ET.SubElement(parent, tag, id=set_id)
    for name, value in pairs:
        ET.SubElement(attrs, 'nvpair', id='%s-%s' % (set_id, name),
                      name=name, value=value)
    return attrs


def _operations(parent, rsc_id, ops):
    operations = ET.SubElement(parent, 'operations')
    for name, interval, timeout, role in ops:
        op_id = '%s-%s-%s' % (rsc_id, name, interval)
        attrs = {'id': op_id, 'name': name, 'interval': interval,
                 'timeout': timeout}
        if role:
            attrs['id'] = '%s-%s' % (op_id, role.lower())
            attrs['role'] = role
        ET.SubElement(operations, 'op', attrs)


def _primitive(parent, rsc_id, cls, rsc_type, params, ops, provider=None):
    attrs = {'id': rsc_id, 'class': cls}
    if provider:
        attrs['provider'] = provider
    attrs['type'] = rsc_type
    primitive = ET.SubElement(parent, 'primitive', attrs)
    if params:
        _nvpairs(primitive, 'instance_attributes',
                 '%s-instance_attributes' % rsc_id, params)
    _operations(primitive, rsc_id, ops)
    return primitive


def _pool_resources(resources, pool):
    clone = ET.SubElement(resources, 'clone', id=ms_id(pool.name))
    _nvpairs(clone, 'meta_attributes', '%s-meta_attributes' % ms_id(
        pool.name), [('promotable', 'true'), ('promoted-max', '1'),
                     ('promoted-node-max', '1'), ('clone-max', '2'),
                     ('clone-node-max', '1'), ('notify', 'true')])
    _primitive(clone, 'drbd-%s' % pool.name, 'ocf', 'drbd',
               [('drbd_resource', pool.name)], DRBD_OPS, provider='linbit')
    group = ET.SubElement(resources, 'group', id=group_id(pool.name))
    _primitive(group, 'pool-%s' % pool.name, 'ocf', 'pool',
               [('thin_pool', pool.thin_pool)], POOL_OPS, provider='arca')
    iface = ipaddress.ip_interface(pool.address)
    _primitive(group, 'ip-%s' % pool.name, 'ocf', 'IPaddr2',
               [('ip', str(iface.ip)),
                ('cidr_netmask', str(iface.network.prefixlen)),
                ('nic', pool.nic)], IP_OPS, provider='heartbeat')


def _pool_constraints(constraints, pool):
    ET.SubElement(constraints, 'rsc_colocation', {
        'id': 'col-%s' % pool.name, 'rsc': group_id(pool.name),
        'with-rsc': ms_id(pool.name), 'with-rsc-role': 'Promoted',
        'score': 'INFINITY'})
    ET.SubElement(constraints, 'rsc_order', {
        'id': 'ord-%s' % pool.name, 'first': ms_id(pool.name),
        'first-action': 'promote', 'then': group_id(pool.name),
        'then-action': 'start', 'kind': 'Mandatory'})
    ET.SubElement(constraints, 'rsc_location', {
        'id': 'loc-%s' % pool.name, 'rsc': group_id(pool.name),
        'node': pool.preferred_node, 'score': str(PREFERENCE)})


def cib_element(cluster):
    """The ``<configuration>`` element of :func:`render_cib`."""
    config = ET.Element('configuration')
    crm_config = ET.SubElement(config, 'crm_config')
    _nvpairs(crm_config, 'cluster_property_set', 'cib-bootstrap-options',
             [('stonith-enabled', 'true')])
    rsc_defaults = ET.SubElement(config, 'rsc_defaults')
    _nvpairs(rsc_defaults, 'meta_attributes', 'rsc-options',
             [('resource-stickiness', str(STICKINESS))])
    op_defaults = ET.SubElement(config, 'op_defaults')
    _nvpairs(op_defaults, 'meta_attributes', 'op-options',
             [('timeout', OP_TIMEOUT)])
    resources = ET.SubElement(config, 'resources')
    constraints = ET.SubElement(config, 'constraints')
    for fence in cluster.fences:
        rsc_id = fence_id(fence.node)
        _primitive(resources, rsc_id, 'stonith', fence.agent,
                   list(fence.params) + [('pcmk_host_list', fence.node)],
                   FENCE_OPS)
        # A node is never the one to run the device that fences it.
        ET.SubElement(constraints, 'rsc_location', {
            'id': 'loc-%s' % rsc_id, 'rsc': rsc_id, 'node': fence.node,
            'score': '-INFINITY'})
    for pool in cluster.pools:
        _pool_resources(resources, pool)
        _pool_constraints(constraints, pool)
    return config


def _text(element):
    ET.indent(element)
    return ET.tostring(element, encoding='unicode') + '\n'


def render_cib(cluster):
    """The whole configuration, one document for ``cibadmin --modify``."""
    return _text(cib_element(cluster))


def render_move(cluster, pool_name, node_name):
    """``<constraints>`` moving a pool's Promoted DRBD (and so the group).

    One location constraint, id ``arca-move-POOL``: the promoted instance
    of ms-POOL on ``node_name`` at INFINITY (a preference, not a
    requirement: if that node fails the pool still fails over).
    """
    pool = cluster_config.pool(cluster, pool_name)
    node = cluster_config.node(cluster, node_name)
    constraints = ET.Element('constraints')
    ET.SubElement(constraints, 'rsc_location', {
        'id': move_id(pool.name), 'rsc': ms_id(pool.name),
        'role': 'Promoted', 'node': node.name, 'score': MOVE_SCORE})
    return _text(constraints)


def render_unmove(cluster, pool_name):
    """What ``cibadmin --delete`` removes: the move constraint, by id."""
    pool = cluster_config.pool(cluster, pool_name)
    return ET.tostring(ET.Element('rsc_location', id=move_id(pool.name)),
                       encoding='unicode')
