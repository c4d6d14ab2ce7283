"""What the Cinder and Manila drivers share about their storage node.

The thin pool options, the start-up checks of the node, the operator
hints attached to node errors and the pool's mirror capabilities. Each
driver maps the typed errors raised here onto its own service's
exceptions.
"""

import math

from oslo_config import cfg
from oslo_log import log as logging

from arca_openstack import exception
from arca_openstack.node import lvm
from arca_openstack.node import validate
from arca_openstack import svm_pools

LOG = logging.getLogger(__name__)

# arca_mirror_state of a pool no HA pair mirrors, and of one whose node
# could not tell (its cluster.conf unreadable or bad).
MIRROR_NONE = 'none'
MIRROR_UNKNOWN = 'unknown'


def pool_opts(noun, headroom_help):
    """The thin pool options, worded for ``noun`` (volume or share)."""
    return [
        cfg.StrOpt(
            'arca_volume_group', default='arca',
            help='LVM volume group on the storage node holding the thin '
                 'pool.'),
        cfg.StrOpt(
            'arca_thin_pool', default='pool',
            help='Thin pool (LV name inside arca_volume_group) every %s '
                 'and snapshot of this backend is a thin LV of. It is also '
                 'the name of the backend\'s one pool.' % noun),
        cfg.IntOpt(
            'arca_fs_headroom_gib', default=1, min=1, max=64,
            help='GiB added to each %s\'s LV beyond its size, %s Thin: '
                 'costs nothing until used.' % (noun, headroom_help)),
    ]


def unmanageable_reason(pool, name, info, kind):
    """Why LV ``name`` cannot be managed as a ``kind``; None if it can.

    ``info`` is the LV as looked up (None: missing). It must exist, be a
    thin volume of ``pool``, not be a temporary LV of a revert and not be
    tagged as something else.
    """
    if info is None:
        return 'no LV %s/%s' % (pool.vg, name)
    if info['segtype'] != 'thin' or info['pool'] != pool.pool:
        return '%s is not a thin volume of pool %s' % (name, pool.pool)
    if name.endswith(lvm.REVERT_SUFFIXES):
        return '%s is a temporary LV of a revert in progress' % name
    tagged = lvm.parse_tags(info['tags']).get('kind')
    if tagged not in (None, kind):
        return '%s holds a %s, not a %s' % (name, tagged, kind)
    return None


def gib_up(size_bytes):
    """Whole GiB holding ``size_bytes`` (at least 1)."""
    return max(1, int(math.ceil(size_bytes / float(lvm.GiB))))


class SetupError(exception.ArcaError):
    """A start-up check failed because of the value of an option."""

    message = 'Invalid value %(value)r of option %(option)s: %(reason)s'

    def __init__(self, option, value, reason):
        super().__init__(option=option, value=value, reason=reason)
        self.option = option


class NodeCheckFailed(exception.ArcaError):
    """A start-up check failed for a reason that is not one option."""

    message = '%(reason)s'


def check_names(conf):
    """Validate the thin pool options before any command runs."""
    for option, check in (('arca_volume_group', validate.vg_name),
                          ('arca_thin_pool', validate.lv_name)):
        value = conf.safe_get(option)
        try:
            check(value)
        except exception.InvalidInput as err:
            raise SetupError(option, value, err)


def hint(err):
    """What an operator can do about a node error, or ''."""
    if isinstance(err, exception.NodeUnreachable):
        return 'Check arca_node_address and the arca_ssh_* options.'
    if (isinstance(err, exception.CapacityExceeded)
            and str(err.kwargs.get('where', '')).startswith('thin pool')):
        return 'Grow the thin pool or lower max_over_subscription_ratio.'
    return ''


def describe(action, err, node_name):
    """One line for the operator: what failed, where, and what to do."""
    text = '%s on storage node %s: %s' % (action, node_name, err)
    extra = hint(err)
    return '%s. %s' % (text, extra) if extra else text


def check_node(node, conf, node_name):
    """The thin pool exists and the node has every tool the drivers run.

    :param node: the backend's :class:`arca_openstack.wire.remote.Node`.
    """
    try:
        node.pool.capacity()
    except exception.NotFound as err:
        raise SetupError('arca_volume_group/arca_thin_pool', '%s/%s' % (
            conf.arca_volume_group, conf.arca_thin_pool),
            '%s on storage node %s' % (err, node_name))
    except exception.ArcaError as err:
        raise NodeCheckFailed(reason=describe('Reading the thin pool', err,
                                              node_name))
    try:
        missing = node.missing_tools()
    except exception.ArcaError as err:
        raise NodeCheckFailed(reason=describe('Checking the tools', err,
                                              node_name))
    if missing:
        raise NodeCheckFailed(
            reason='Storage node %s lacks %s.' % (node_name,
                                                  ', '.join(missing)))


def check_links(node, wanted, node_name):
    """The NICs (or Linux bridges) options name, in one request.

    :param wanted: (option, interface name, must be a bridge) triples.
    """
    if not wanted:
        return
    try:
        links = node.links(sorted({name for _o, name, _b in wanted}))
    except exception.ArcaError as err:
        raise NodeCheckFailed(reason=describe(
            'Inspecting the interfaces of %s' % ', '.join(
                sorted({option for option, _n, _b in wanted})), err,
            node_name))
    for option, name, bridge in wanted:
        link = links.get(name)
        if link is None or (bridge and link['kind'] != 'bridge'):
            raise SetupError(option, name, '%s %s on storage node %s' % (
                'bridge' if bridge else 'interface',
                'is not a Linux bridge' if link else 'does not exist',
                node_name))


def check_pool_links(node, settings, node_name):
    """The NIC or bridge of every configured address pool."""
    wanted = []
    for pool in settings.pools:
        bridge = pool.mode == 'veth'
        wanted.append(('%s (pool %s)' % (svm_pools.POOLS_OPTION, pool.name),
                       pool.bridge if bridge else pool.parent, bridge))
    check_links(node, wanted, node_name)


class MirrorReport(object):
    """A pool's mirror capabilities, logged when they change.

    ``arca_mirrored``: True if the node's HA pair mirrors the pool (a
    volume or share type can require ``<is> True``). ``arca_mirror_state``:
    ``in-sync``, ``syncing`` or ``degraded`` for a mirrored pool,
    ``none`` for another, ``unknown`` when the node could not tell (the
    pool is then not claimed mirrored). From the ``mirror`` and
    ``mirror_error`` of the agent's ``pool.capacity``; an agent without
    them reports an unmirrored pool.
    """

    def __init__(self, pool_name, node_name):
        self.pool_name = pool_name
        self.node_name = node_name
        self.state = None

    def capabilities(self, capacity):
        mirror = capacity.get('mirror')
        error = capacity.get('mirror_error')
        if error:
            # At every report: the capability is withheld until fixed.
            LOG.error('Storage node %(node)s: %(error)s',
                      {'node': self.node_name, 'error': error})
        if mirror is None:
            state = MIRROR_UNKNOWN if error else MIRROR_NONE
        else:
            state = mirror['state']
        if state != self.state:
            self._log_change(mirror, state)
        self.state = state
        return {'arca_mirrored': mirror is not None,
                'arca_mirror_state': state}

    def _log_change(self, mirror, state):
        if mirror is None:
            return
        values = dict(mirror, pool=self.pool_name, node=self.node_name)
        if state == 'in-sync':
            LOG.info('Thin pool %(pool)s on storage node %(node)s is '
                     'mirrored by DRBD resource %(resource)s, in sync.',
                     values)
        elif state == 'syncing':
            LOG.warning('Thin pool %(pool)s on storage node %(node)s: DRBD '
                        'resource %(resource)s is resynchronising '
                        '(%(connection)s, %(resync_percent)s%% done); the '
                        'peer\'s copy is not complete yet.', values)
        else:
            LOG.warning('Thin pool %(pool)s on storage node %(node)s is '
                        'degraded: DRBD resource %(resource)s is '
                        '%(connection)s, disks %(disk)s/%(peer_disk)s. The '
                        'data are on one node only until the peer is back '
                        '(arca-node cluster status on the node).', values)
