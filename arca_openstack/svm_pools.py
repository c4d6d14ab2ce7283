"""SVMs from configured address pools, shared by the Cinder and Manila drivers.

A backend either gives every project its own SVM (``per_project``) or
serves everything from one named SVM (``shared``). New SVMs take their
network from the first configured pool with a free address.

Nothing is remembered here: the addresses in use are read back from the
SVM records on the node (under one lock per node), so an address is free
again as soon as the record of the SVM that held it is gone.

Pool entry format (one ``arca_address_pools`` value per pool)::

    mode=vlan,parent=eth1,vlan=100,cidr=10.0.100.0/24,
        range=10.0.100.10-10.0.100.99,gateway=10.0.100.1,mtu=9000
    mode=veth,bridge=br-arca,cidr=10.1.0.0/24,cidr6=fd00:1::/64,
        gateway6=fd00:1::1
    mode=macvlan,parent=eth2,cidr=fd00:2::/64

(each entry on one line). Keys: ``name`` (optional label), ``mode``
(vlan, macvlan or veth), ``parent`` (vlan and macvlan), ``vlan`` (vlan),
``bridge`` (veth), ``mtu``, ``cidr`` (IPv4 or IPv6 subnet, required),
``range`` (first-last address handed out; default the whole subnet),
``gateway``, and for a dual-stack pool whose ``cidr`` is IPv4: ``cidr6``,
``range6``, ``gateway6``.
"""

import collections
import hashlib
import ipaddress
import re

from oslo_config import cfg
from oslo_log import log as logging

from arca_openstack import exception
from arca_openstack.node import locks
from arca_openstack.node import lvm
from arca_openstack.node import svm as svm_mod
from arca_openstack.node import validate

LOG = logging.getLogger(__name__)

PER_PROJECT = 'per_project'
SHARED = 'shared'
POOLS_OPTION = 'arca_address_pools'
MAX_PREFIX = 8

_PREFIX = re.compile(r'^[a-z][a-z0-9_]{0,%d}$' % (MAX_PREFIX - 1))
_HEX_ID = re.compile(r'^[0-9a-f]{1,32}$')
_KEYS = ('name', 'mode', 'parent', 'vlan', 'bridge', 'mtu', 'cidr', 'range',
         'gateway', 'cidr6', 'range6', 'gateway6')
_NAME = re.compile(r'^[A-Za-z0-9_.-]{1,64}$')

Subnet = collections.namedtuple('Subnet', ['network', 'first', 'last',
                                           'gateway'])
Pool = collections.namedtuple('Pool', ['name', 'mode', 'parent', 'vlan',
                                       'bridge', 'mtu', 'subnets'])
Settings = collections.namedtuple('Settings', ['mapping', 'prefix',
                                               'shared_name',
                                               'delete_unused', 'pools'])


def svm_opts(default_prefix):
    """The SVM options of a driver; ``default_prefix`` names its SVMs."""
    return [
        cfg.StrOpt(
            'arca_svm_mapping', default=PER_PROJECT,
            choices=[(PER_PROJECT, 'every project gets its own SVM, made '
                      'on first use'),
                     (SHARED, 'one SVM, arca_shared_svm_name, serves '
                      'every project')],
            help='How projects map to SVMs (storage virtual machines: a '
                 'network namespace with its own address and NFS '
                 'server).'),
        cfg.StrOpt(
            'arca_svm_name_prefix', default=default_prefix,
            help='Prefix of per-project SVM names; the rest of the name '
                 'is the project id. 1-%d characters of a-z 0-9 _, '
                 'starting with a letter. Use a different prefix per '
                 'backend sharing one storage node.' % MAX_PREFIX),
        cfg.StrOpt(
            'arca_shared_svm_name', default='arca_shared',
            help='SVM used for every project when arca_svm_mapping is '
                 'shared. Made from the address pools if the node has no '
                 'record of it.'),
        cfg.BoolOpt(
            'arca_svm_delete_unused', default=True,
            help='Remove a per-project SVM (and free its addresses) when '
                 'the last volume, share or snapshot using it is gone.'),
        cfg.MultiStrOpt(
            POOLS_OPTION, default=[],
            help='Address pool for new SVMs; repeat the option for several '
                 'pools (tried in order). Each value is a comma-separated '
                 'list of key=value: mode=vlan|macvlan|veth, '
                 'parent=NIC (vlan, macvlan), vlan=ID (vlan), bridge=BRIDGE '
                 '(veth), cidr=SUBNET (IPv4 or IPv6), range=FIRST-LAST '
                 '(default: the whole subnet), gateway=ADDRESS, mtu=N, '
                 'name=LABEL, and for a dual-stack pool whose cidr is '
                 'IPv4: cidr6, range6, gateway6. Example: '
                 'mode=vlan,parent=eth1,vlan=100,cidr=10.0.100.0/24,'
                 'range=10.0.100.10-10.0.100.99,gateway=10.0.100.1'),
    ]


class PoolConfigError(exception.ArcaError):
    """A configuration value of the SVM options is wrong."""

    message = 'Invalid value %(value)r of option %(option)s: %(reason)s'

    def __init__(self, option, value, reason):
        super().__init__(option=option, value=value, reason=reason)
        self.option = option


# ------------------------------------------------------------- parsing

def _subnet(entry, cidr, rng, gateway, version=None):
    try:
        network = ipaddress.ip_network(validate.ip_network(cidr,
                                                           version=version))
    except exception.InvalidInput as err:
        raise PoolConfigError(POOLS_OPTION, entry, 'cidr: %s' % err)
    if network.prefixlen >= network.max_prefixlen - (
            1 if network.version == 4 else 0):
        raise PoolConfigError(POOLS_OPTION, entry,
                              'subnet %s is too small for SVM addresses'
                              % network)
    if rng:
        first, sep, last = rng.partition('-')
        if not sep:
            raise PoolConfigError(POOLS_OPTION, entry,
                                  'range %r must read FIRST-LAST' % rng)
        try:
            first = ipaddress.ip_address(validate.ip_address(first.strip()))
            last = ipaddress.ip_address(validate.ip_address(last.strip()))
        except exception.InvalidInput as err:
            raise PoolConfigError(POOLS_OPTION, entry, 'range: %s' % err)
        if first not in network or last not in network or first > last:
            raise PoolConfigError(POOLS_OPTION, entry,
                                  'range %s must be ascending and inside %s'
                                  % (rng, network))
    else:
        first, last = network[1], network[-1]
    gw = None
    if gateway:
        try:
            gw = ipaddress.ip_address(validate.ip_address(gateway))
        except exception.InvalidInput as err:
            raise PoolConfigError(POOLS_OPTION, entry, 'gateway: %s' % err)
        if gw not in network:
            raise PoolConfigError(POOLS_OPTION, entry,
                                  'gateway %s is outside %s' % (gw, network))
    return Subnet(network, first, last, gw)


def parse_pool(entry, index=0):
    """One :class:`Pool` from its option value; PoolConfigError if bad."""
    if not isinstance(entry, str) or not entry.strip():
        raise PoolConfigError(POOLS_OPTION, entry, 'is empty')
    fields = {}
    for item in entry.split(','):
        key, sep, value = item.strip().partition('=')
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise PoolConfigError(POOLS_OPTION, entry,
                                  '%r is not key=value' % item.strip())
        if key not in _KEYS:
            raise PoolConfigError(POOLS_OPTION, entry,
                                  'unknown key %r (known: %s)'
                                  % (key, ', '.join(_KEYS)))
        if key in fields:
            raise PoolConfigError(POOLS_OPTION, entry,
                                  'key %r is given twice' % key)
        fields[key] = value
    name = fields.get('name', 'pool%d' % index)
    if not _NAME.match(name):
        raise PoolConfigError(POOLS_OPTION, entry,
                              'name must be 1-64 characters of A-Z a-z '
                              '0-9 _ . -')
    if 'cidr' not in fields:
        raise PoolConfigError(POOLS_OPTION, entry, 'cidr is required')
    subnets = [_subnet(entry, fields['cidr'], fields.get('range'),
                       fields.get('gateway'))]
    if any(k in fields for k in ('cidr6', 'range6', 'gateway6')):
        if 'cidr6' not in fields:
            raise PoolConfigError(POOLS_OPTION, entry,
                                  'range6 and gateway6 need cidr6')
        if subnets[0].network.version != 4:
            raise PoolConfigError(POOLS_OPTION, entry,
                                  'cidr6 needs an IPv4 cidr (a dual-stack '
                                  'pool)')
        subnets.append(_subnet(entry, fields['cidr6'], fields.get('range6'),
                               fields.get('gateway6'), version=6))
    mode = fields.get('mode')
    try:
        vlan = fields.get('vlan')
        mtu = fields.get('mtu')
        # The node library's own check, with sample addresses.
        network = svm_mod.make_network(
            mode, ['%s/%d' % (s.first, s.network.prefixlen)
                   for s in subnets],
            gateways=[str(s.gateway) for s in subnets if s.gateway],
            parent=fields.get('parent'),
            vlan=validate.vlan_id(vlan) if vlan is not None else None,
            bridge=fields.get('bridge'),
            mtu=validate.integer(mtu, 'MTU', 68, 65535)
            if mtu is not None else None)
    except exception.InvalidInput as err:
        raise PoolConfigError(POOLS_OPTION, entry, err)
    return Pool(name, network.mode, network.parent, network.vlan,
                network.bridge, network.mtu, tuple(subnets))


def parse_pools(entries):
    pools = [parse_pool(e, i) for i, e in enumerate(entries or ())]
    names = [p.name for p in pools]
    for name in names:
        if names.count(name) > 1:
            raise PoolConfigError(POOLS_OPTION, name,
                                  'pool name is used twice')
    nets = [s.network for p in pools for s in p.subnets]
    for i, a in enumerate(nets):
        for b in nets[i + 1:]:
            if a.version == b.version and a.overlaps(b):
                raise PoolConfigError(POOLS_OPTION, str(b),
                                      'overlaps pool subnet %s' % a)
    return pools


def check_prefix(prefix):
    """An SVM name prefix (arca_svm_name_prefix); PoolConfigError if bad.

    A prefix followed by 32 characters (a project key, or a share server
    id without dashes) is always a valid SVM name.
    """
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise PoolConfigError('arca_svm_name_prefix', prefix,
                              'must be 1-%d characters of a-z 0-9 _ and '
                              'start with a letter' % MAX_PREFIX)
    return prefix


def settings_from_conf(conf):
    """Validated :class:`Settings` from a driver's configuration."""
    mapping = conf.arca_svm_mapping
    if mapping not in (PER_PROJECT, SHARED):
        raise PoolConfigError('arca_svm_mapping', mapping,
                              'must be per_project or shared')
    prefix = check_prefix(conf.arca_svm_name_prefix)
    shared = conf.arca_shared_svm_name
    try:
        validate.svm_name(shared)
    except exception.InvalidInput as err:
        raise PoolConfigError('arca_shared_svm_name', shared, err)
    pools = parse_pools(conf.arca_address_pools)
    if mapping == PER_PROJECT and not pools:
        raise PoolConfigError(POOLS_OPTION, [],
                              'at least one pool is needed when '
                              'arca_svm_mapping is per_project')
    return Settings(mapping, prefix, shared, bool(conf.arca_svm_delete_unused),
                    tuple(pools))


def project_key(project_id):
    """A project id as at most 32 characters of a-z 0-9, one per id.

    An id of 1-32 lowercase hex digits (Keystone's own ids) is kept as it
    is; any other id (with dashes or capitals, from another identity
    back-end) becomes an 'x' and 31 hex digits of its SHA-256. Hex keys
    never start with 'x', so two distinct ids never share a key (and so
    never share an SVM or an owner tag).
    """
    if not isinstance(project_id, str) or not project_id:
        raise exception.InvalidInput(what='project id', value=project_id,
                                     reason='must be a non-empty string')
    if _HEX_ID.fullmatch(project_id):
        return project_id
    return 'x' + hashlib.sha256(project_id.encode('utf-8')).hexdigest()[:31]


def _candidates(subnet):
    """Usable host addresses of a subnet's range, in order (lazily)."""
    net = subnet.network
    addr = subnet.first
    while addr <= subnet.last:
        usable = addr != net.network_address and addr != subnet.gateway
        if net.version == 4 and addr == net.broadcast_address:
            usable = False
        if usable:
            yield addr
        if addr == subnet.last:
            return
        addr += 1


class SVMNames(object):
    """Which SVM serves a project, and the owner tag of what it makes.

    :param settings: :class:`Settings` (see :func:`settings_from_conf`).
    """

    def __init__(self, settings):
        self.settings = settings

    def svm_name(self, project_id):
        """The SVM that serves a project under this backend's mapping."""
        if self.settings.mapping == SHARED:
            return self.settings.shared_name
        return validate.svm_name(self.settings.prefix +
                                 project_key(project_id))

    def owner(self, project_id):
        if self.settings.mapping == SHARED:
            return 'arca.shared=%s' % self.settings.shared_name
        return 'arca.project=%s' % project_key(project_id)


class SVMPools(SVMNames):
    """Find or make the SVM of a project; remove it when unused.

    Runs where the SVMs are (the node agent): its allocation lock is the
    node's, shared by every service and host driving the node, and held
    only while an address is chosen and recorded.

    :param svms: an :class:`arca_openstack.node.svm.SVMManager`.
    :param pool: the backend's :class:`arca_openstack.node.lvm.ThinPool`,
        whose LVs tagged ``arca.svm=NAME`` keep SVM NAME in use.
    :param settings: :class:`Settings` (see :func:`settings_from_conf`).
    :param home: called when a new SVM is recorded: the state directory
        of the mirrored pool it is to live in, or None (see
        ``SVMManager.record``).
    """

    def __init__(self, svms, pool, settings, home=None):
        super().__init__(settings)
        self.svms = svms
        self.pool = pool
        self.home = home

    @staticmethod
    def _lock():
        return locks.lock('svm-pool', 'addresses')

    def used_addresses(self):
        """Every address recorded by any SVM on the node."""
        used = set()
        for name in self.svms.list():
            record = self.svms.get(name)
            if record is None:
                continue
            for cidr in record['network'].addresses:
                used.add(ipaddress.ip_interface(cidr).ip)
        return used

    def allocate(self):
        """A network for a new SVM: first pool with a free address.

        Call under :meth:`_lock` and record the SVM before releasing it.
        """
        used = self.used_addresses()
        for pool in self.settings.pools:
            cidrs = []
            for subnet in pool.subnets:
                addr = next((a for a in _candidates(subnet)
                             if a not in used), None)
                if addr is None:
                    break
                cidrs.append('%s/%d' % (addr, subnet.network.prefixlen))
            else:
                return svm_mod.make_network(
                    pool.mode, cidrs,
                    gateways=[str(s.gateway) for s in pool.subnets
                              if s.gateway],
                    parent=pool.parent, vlan=pool.vlan, bridge=pool.bridge,
                    mtu=pool.mtu)
        raise exception.CapacityExceeded(
            where='the address pools (%s)' % POOLS_OPTION,
            reason='every address is held by an SVM; add a pool or '
                   'widen a range')

    def ensure_svm(self, project_id, prepare_exports=None,
                   check_running=True):
        """Make the project's SVM exist and serve; return its record."""
        return self.ensure_named(self.svm_name(project_id),
                                 self.owner(project_id),
                                 prepare_exports=prepare_exports,
                                 check_running=check_running)

    def ensure_named(self, name, owner, prepare_exports=None,
                     check_running=True):
        """Make SVM ``name`` exist and serve; return its record.

        Idempotent. A new SVM's address is chosen and recorded under the
        node's allocation lock, then the SVM is built under its own lock
        only, so SVMs of different projects are built in parallel. A
        recorded SVM whose Ganesha is down (after a node restart) is
        rebuilt with its exports, which ``prepare_exports`` mounts first
        (see SVMManager.ensure).

        :param check_running: False to skip that check of a recorded SVM,
            for a caller that rebuilds it later anyway, before any client
            needs it (Cinder's create_export): an export added while
            Ganesha is down is kept in its files and served once it runs.
        """
        record = self.svms.get(name)
        if record is None:
            if self.settings.mapping == SHARED and not self.settings.pools:
                raise exception.NotFound(
                    'SVM %s has no record on the node and no %s are '
                    'configured to make it' % (name, POOLS_OPTION))
            with self._lock():
                record = self.svms.get(name)
                if record is None:
                    network = self.allocate()
                    LOG.info('Creating SVM %s with addresses %s', name,
                             ', '.join(network.addresses))
                    self.svms.record(name, network, owner=owner,
                                     home=self.home)
                    record = {'name': name, 'owner': owner,
                              'network': network}
            # Built (or finished, if an earlier build was interrupted)
            # outside the allocation lock.
            self.svms.create(name, record['network'], owner=owner)
            return record
        if check_running and not self.svms.ganesha.status(name)['running']:
            LOG.info('Rebuilding SVM %s: its NFS server is not running',
                     name)
            self.svms.ensure(name, prepare_exports=prepare_exports)
        return record

    def release_if_unused(self, name):
        """Remove a per-project SVM nothing uses any more (if configured).

        :returns: True if the SVM was removed.
        """
        validate.svm_name(name)
        if (self.settings.mapping != PER_PROJECT
                or not self.settings.delete_unused
                or name == self.settings.shared_name):
            return False

        def in_use():
            # While it exports anything (the cheapest look, so first) or
            # an LV tagged with it remains; gone already counts too.
            if (self.svms.ganesha.export_ids(name) or
                    self.svms.get(name) is None or
                    self.pool.list(tags=lvm.make_tags(svm=name))):
                return True
            LOG.info('Removing SVM %s: nothing uses it any more', name)
            return False

        # Under the SVM's lock only: other projects' SVMs are allocated
        # and built meanwhile. Its record goes last, so its addresses are
        # never handed out while it still holds them.
        return self.svms.delete(name, unless=in_use)


def address_of(record, version=None):
    """An SVM's address (of ``version`` if it has one), without prefix."""
    addrs = [ipaddress.ip_interface(a).ip
             for a in record['network'].addresses]
    for addr in addrs:
        if version is None or addr.version == version:
            return str(addr)
    return str(addrs[0])


def nfs_host(address):
    """An address as the host part of an NFS export (IPv6 bracketed)."""
    if ipaddress.ip_address(address).version == 6:
        return '[%s]' % address
    return address
