"""The agent's operations: typed arguments in, the node library's work out.

Each operation of :data:`arca_openstack.wire.protocol.OPERATIONS` has one
handler here. A handler checks every argument (type, then the node
library's own validation) and that what it names is Arca's before it
issues any command:

* a thin pool must be one the node's configuration lists
  (``[agent] pools`` in ``/etc/arca/arca-node.conf``);
* an LV that is changed must be a thin volume of that pool;
* mountpoints and devices are never taken from the caller: they are
  derived from validated LV names;
* SVMs are named, and their namespaces, Ganesha processes and files are
  derived from the validated name;
* client lists are pairs of address and access level, or one of the few
  changes of a current list (:func:`_clients`), never text.

Nothing a caller sends reaches a file unvalidated: every file is rendered
here, on the node, from these values.
"""

import collections
import inspect
import os

from oslo_log import log as logging

from arca_openstack import exception
from arca_openstack.node import drbd
from arca_openstack.node import export
from arca_openstack.node import files
from arca_openstack.node import ganesha_config
from arca_openstack.node import lvm
from arca_openstack.node import netns
from arca_openstack.node import pool_state
from arca_openstack.node import probe
from arca_openstack.node import quota
from arca_openstack.node import rawfile
from arca_openstack.node import svm as svm_mod
from arca_openstack.node import validate
from arca_openstack.node import xfs
from arca_openstack import svm_pools
from arca_openstack.wire import protocol

LOG = logging.getLogger(__name__)

DEFAULT_POOLS = ('arca/pool',)
MAX_LIST = 4096

Handler = collections.namedtuple('Handler', ['func', 'params', 'pooled'])
HANDLERS = {}


def operation(name, pooled=False):
    """Register the handler of operation ``name``.

    :param pooled: the operation acts in a thin pool: the request names it
        (``vg`` and ``thin``) and the handler gets a ``pool`` argument.
    """
    def register(func):
        params = [p for p in inspect.signature(func).parameters
                  if p not in ('node', 'pool')]
        if tuple(params) != protocol.OPERATIONS[name]:
            raise AssertionError('%s: parameters %s differ from the '
                                 'protocol\'s %s' % (
                                     name, params,
                                     protocol.OPERATIONS[name]))
        HANDLERS[name] = Handler(func, tuple(params), pooled)
        return func
    return register


def _bad(what, value, reason):
    return exception.InvalidInput(what=what, value=value, reason=reason)


def _bool(value, what):
    if not isinstance(value, bool):
        raise _bad(what, value, 'must be true or false')
    return value


def _list(value, what, limit=MAX_LIST):
    if not isinstance(value, (list, tuple)) or len(value) > limit:
        raise _bad(what, value, 'must be a list of at most %d items' % limit)
    return value


def _tags(value):
    return tuple(validate.tag(t) for t in _list(value, 'tags', 64))


def _tag_names(value):
    """Names of tag fields (``inherit``): a-z and _ only."""
    names = []
    for name in _list(value, 'tag fields', 16):
        if not isinstance(name, str) or not name.isidentifier():
            raise _bad('tag field', name, 'must be a word')
        names.append(name)
    return tuple(names)


def _tag_fields(value):
    if not isinstance(value, dict) or len(value) > 16:
        raise _bad('tag fields', value, 'must be a map of at most 16')
    _tag_names(list(value))
    lvm.make_tags(**value)  # validates every value
    return dict(value)


def _options(value):
    """XFS mount options: the node library's own list, nothing else."""
    options = _list(value, 'mount options', 8)
    for option in options:
        if option not in xfs.MOUNT_OPTIONS:
            raise _bad('mount option', option,
                       'must be one of %s' % ', '.join(
                           sorted(xfs.MOUNT_OPTIONS)))
    return tuple(options)


def _rule(entry):
    if (not isinstance(entry, (list, tuple)) or len(entry) != 2
            or not all(isinstance(v, str) for v in entry)):
        raise _bad('client', entry, 'must be [address-or-network, access]')
    return tuple(entry)


def _rules(value):
    """Client rules, each checked (and no network twice)."""
    return export.client_rules([_rule(e) for e in _list(value, 'clients')])


def _clients(value):
    """A client list, or a change applied to the export's current list.

    ``[[network, access], ...]``: exactly these clients.
    ``{"keep_or": [...]}``: the current rules if the LV is exported, else
    these. ``{"admit": address}``: the current rules plus ``address``
    read-write. ``{"drop": address}``: the current rules without
    ``address``; ``{"drop": null}``: none.
    """
    if isinstance(value, (list, tuple)):
        return _rules(value)
    if not isinstance(value, dict) or len(value) != 1:
        raise _bad('clients', value, 'must be a list or one change')
    (change, arg), = value.items()
    if change == 'keep_or':
        fresh = _rules(arg)
        return lambda current: fresh if current is None else current
    if change == 'admit':
        address = validate.ip_address(arg)

        def admit(current):
            rules = list(current or ())
            if not any(rule.network == address for rule in rules):
                rules.append((address, 'rw'))
            return rules
        return admit
    if change == 'drop':
        address = None if arg is None else validate.ip_address(arg)
        return lambda current: [rule for rule in current or ()
                                if address is not None and
                                rule.network != address]
    raise _bad('client change', change, 'must be keep_or, admit or drop')


def _settings(value):
    """The SVM pool settings of a backend, parsed and checked here."""
    if not isinstance(value, dict):
        raise _bad('SVM settings', value, 'must be a map')
    mapping = validate.choice(value.get('mapping'), 'SVM mapping',
                              (svm_pools.PER_PROJECT, svm_pools.SHARED))
    shared = validate.svm_name(value.get('shared_name'))
    try:
        prefix = svm_pools.check_prefix(value.get('prefix'))
    except svm_pools.PoolConfigError as err:
        raise _bad('SVM name prefix', value.get('prefix'),
                   err.kwargs.get('reason'))
    entries = _list(value.get('pools'), 'address pools', 256)
    for entry in entries:
        if not isinstance(entry, str) or '\n' in entry:
            raise _bad('address pool', entry, 'must be one line of text')
    try:
        pools = tuple(svm_pools.parse_pools(entries))
    except svm_pools.PoolConfigError as err:
        raise _bad('address pool', err.kwargs.get('value'),
                   err.kwargs.get('reason'))
    return svm_pools.Settings(
        mapping, prefix, shared,
        _bool(value.get('delete_unused'), 'delete_unused'), pools)


def _network(value):
    if isinstance(value, svm_mod.Network):
        value = value._asdict()
    if not isinstance(value, dict):
        raise _bad('network', value, 'must be a map')
    for key in ('vlan', 'mtu'):
        if value.get(key) is not None:
            _int(value[key], key, 0, 2 ** 31)
    try:
        return svm_mod.make_network(**value)
    except TypeError as err:
        raise _bad('network', value, err)


def _int(value, what, minimum, maximum):
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(what, value, 'must be an integer')
    return validate.integer(value, what, minimum, maximum)


def _owner(value):
    return None if value is None else validate.tag(value)


def _interfaces(value):
    return [validate.interface_name(n) for n in _list(value, 'interfaces')]


def _lv_names(value):
    return [validate.lv_name(n) for n in _list(value, 'LV names',
                                               lvm.MAX_LOOKUP)]


# How each argument is checked, by name; an operation of the SVM groups
# names an SVM with ``name``.
_CHECKS = {
    'interfaces': _interfaces,
    'resource': drbd.resource_name,
    'minor': lambda v: _int(v, 'DRBD minor', 0, 1048575),
    'port': lambda v: _int(v, 'port', 1, 65535),
    'lv': validate.lv_name,
    'address': validate.ip_address,
    'peer': validate.hostname,
    'peer_address': validate.ip_address,
    'protocol': lambda v: validate.choice(v, 'DRBD protocol',
                                          drbd.PROTOCOLS),
    'force': lambda v: _bool(v, 'force'),
    'name': validate.lv_name,
    'origin': validate.lv_name,
    'old': validate.lv_name,
    'new': validate.lv_name,
    'snapshot': validate.lv_name,
    'names': _lv_names,
    'svm': validate.svm_name,
    'size_gib': lambda v: _int(v, 'size in GiB', 1, validate.MAX_SIZE_GIB),
    'size_bytes': lambda v: _int(v, 'size in bytes', 0,
                                 validate.MAX_SIZE_GIB * lvm.GiB),
    # Optional parts of exports.format_and_publish (None: not wanted).
    'quota_bytes': lambda v: v if v is None else _int(
        v, 'quota in bytes', 0, validate.MAX_SIZE_GIB * lvm.GiB),
    'image_bytes': lambda v: v if v is None else _int(
        v, 'image size in bytes', 1, rawfile.MAX_BYTES),
    'tags': _tags,
    'inherit': _tag_names,
    'fields': _tag_fields,
    'options': _options,
    'mount_options': _options,
    'prefix_options': lambda v: _prefix_options(v),
    'clients': _clients,
    'read_only': lambda v: _bool(v, 'read_only'),
    'mounted': lambda v: _bool(v, 'mounted'),
    'missing_ok': lambda v: _bool(v, 'missing_ok'),
    'unmount': lambda v: _bool(v, 'unmount'),
    'check_running': lambda v: _bool(v, 'check_running'),
    'owner': _owner,
    'settings': _settings,
    'network': _network,
    'export_id': lambda v: ganesha_config.export_id(
        _int(v, 'export id', 0, 2 ** 31)),
}
_NAME_CHECKS = {'svms': validate.svm_name, 'svm_pools': validate.svm_name,
                'node': validate.interface_name}


class Node(object):
    """The node library on this node, behind the operations' checks.

    :param executor: runs commands as root (the agent's LocalExecutor).
    :param pools: ``VG/THIN`` thin pools the agent may act in.
    """

    def __init__(self, executor, pools=DEFAULT_POOLS):
        self.executor = executor
        self.pools = frozenset(pools)
        self.svms = svm_mod.SVMManager(executor)
        self.xfs = xfs.XFS(executor)
        self.quota = quota.FilesystemQuota(executor)
        self.raw = rawfile.RawFile(executor)
        self.drbd = drbd.DRBD(executor)
        self.pool_state = pool_state.PoolState(executor, self.svms)

    @staticmethod
    def hostname():
        """This node's ``uname -n``: its ``on`` section in DRBD files."""
        return os.uname().nodename

    def pool(self, vg, thin):
        vg = validate.vg_name(vg)
        thin = validate.lv_name(thin, what='thin pool name')
        if '%s/%s' % (vg, thin) not in self.pools:
            raise exception.InvalidInput(
                what='thin pool', value='%s/%s' % (vg, thin),
                reason='is not one of the pools this node serves (%s)' %
                ', '.join(sorted(self.pools)))
        return lvm.ThinPool(self.executor, vg, thin)

    def call(self, op, args):
        """Carry out one request; its result, or the error it raises.

        Every argument is checked (and converted: client changes, pool
        settings, networks) before the handler, and so any command, runs.
        """
        handler = HANDLERS.get(op)
        if handler is None:
            raise _bad('operation', op, 'is not an operation of %s' %
                       protocol.AGENT)
        if not isinstance(args, dict):
            raise _bad('arguments', args, 'must be a map')
        args = dict(args)
        kwargs = {}
        if handler.pooled:
            kwargs['pool'] = self.pool(args.pop('vg', None),
                                       args.pop('thin', None))
        unknown = set(args) - set(handler.params)
        if unknown:
            raise _bad('arguments of %s' % op, sorted(unknown),
                       'are not known')
        group = op.partition('.')[0]
        for key, value in args.items():
            check = _CHECKS[key]
            if key == 'name' and group in _NAME_CHECKS:
                check = _NAME_CHECKS[group]
            kwargs[key] = check(value)
        try:
            inspect.signature(handler.func).bind(self, **kwargs)
        except TypeError as err:
            raise _bad('arguments of %s' % op, sorted(args), err)
        return handler.func(self, **kwargs)


def _thin_lv(pool, name):
    """The LV ``name``, which must be a thin volume of ``pool``."""
    info = pool.get(validate.lv_name(name))
    if info is None:
        raise exception.NotFound(what='Logical volume',
                                 name='%s/%s' % (pool.vg, name))
    if info['segtype'] != 'thin' or info['pool'] != pool.pool:
        raise _bad('logical volume', name, 'is not a thin volume of %s/%s'
                   % (pool.vg, pool.pool))
    return info


def exports_of(node, pool):
    """The node's exports in ``pool``, sharing its Ganesha and XFS."""
    manager = export.ExportManager(node.executor, pool)
    # One Ganesha and one XFS for the whole node.
    manager.ganesha = node.svms.ganesha
    manager.xfs = node.xfs
    return manager


def _prefix_options(value):
    """``[[LV name prefix, mount options], ...]``, checked."""
    rules = []
    for entry in _list(value, 'mount options by prefix', 8):
        if not isinstance(entry, (list, tuple)) or len(entry) != 2:
            raise _bad('mount options by prefix', entry,
                       'must be [prefix, options]')
        prefix, options = entry
        if prefix != '':
            validate.lv_name(prefix, what='LV name prefix')
        rules.append((prefix, _options(options)))
    return tuple(rules)


def _prepare(node, pool, by_prefix):
    """What mounts an SVM's exports before it serves them again.

    :param by_prefix: ``[[LV name prefix, mount options], ...]``: the
        options of the first prefix an export's LV starts with (none if
        no prefix matches).
    """
    rules = _prefix_options(by_prefix)
    manager = exports_of(node, pool)

    def prepare(exports):
        for exp in exports:
            lv = export.lv_name_of(exp)
            options = next((o for p, o in rules if lv.startswith(p)), ())
            manager.mount(lv, options=options)
    return prepare


def _mountpoint(name):
    """The mountpoint of LV ``name``: always Arca's own directory.

    What is mounted there is an LV Arca mounted; the node library checks
    that something is mounted before it acts on it.
    """
    return export.mountpoint(name)


# ---------------------------------------------------------------- node

@operation('node.check')
def node_check(node):
    """Tools the node lacks (empty when it has every one)."""
    return probe.missing_tools(node.executor)


@operation('node.links')
def node_links(node, interfaces):
    """Kind of each root-namespace interface named; None if absent.

    One command, whatever the number of interfaces (a backend checks the
    parent of each of its address pools at start-up).
    """
    links = netns.Netns(node.executor).root_links()
    return {name: ({'name': name, 'kind': links[name].kind}
                   if name in links else None) for name in interfaces}


# ---------------------------------------------------------------- DRBD

def _is_arca_resource(node, resource):
    """True if this package wrote the resource's file.

    Arca's resources each have their own file (written by drbd.write,
    which drbdadm refuses for a name defined elsewhere): without it, the
    name is not Arca's and nothing is done.
    """
    return files.read(node.executor,
                      drbd.resource_path(resource)) is not None


def _require_arca_resource(node, resource):
    if not _is_arca_resource(node, resource):
        raise exception.NotFound(what='Arca DRBD resource', name=resource)


def _on_arca_resource(verb):
    """The handler of ``drbd.<verb>``: the library's method, Arca's only."""
    def handler(node, resource):
        _require_arca_resource(node, resource)
        return getattr(node.drbd, verb)(resource)
    handler.__name__ = 'drbd_' + verb
    return handler


@operation('drbd.write', pooled=True)
def drbd_write(node, pool, resource, minor, port, lv, address, peer,
               peer_address, protocol='C'):
    """Install the resource file mirroring thin LV ``lv`` (True: changed).

    Rendered here from checked values. The backing disk is a thin LV of
    the pool, at the same path on both nodes (a pair has the same pools);
    this node's side is named by its own host name.
    """
    _thin_lv(pool, lv)
    disk = pool.device_path(lv)
    return node.drbd.write_resource(
        resource, minor, port, drbd.Peer(node.hostname(), address, disk),
        drbd.Peer(peer, peer_address, disk), protocol=protocol)


for _verb in ('create_md', 'up', 'down', 'secondary', 'status',
              'skip_initial_sync', 'resize'):
    operation('drbd.' + _verb)(_on_arca_resource(_verb))


@operation('drbd.primary')
def drbd_primary(node, resource, force=False):
    _require_arca_resource(node, resource)
    return node.drbd.primary(resource, force=force)


@operation('drbd.remove')
def drbd_remove(node, resource):
    """Down and delete an Arca resource; done already without its file."""
    if not _is_arca_resource(node, resource):
        return None
    return node.drbd.remove_resource(resource)


# ---------------------------------------------------------------- pool

@operation('pool.capacity', pooled=True)
def pool_capacity(node, pool):
    """Size and use of the pool, and its DRBD mirror.

    ``mirror``: None for a pool no HA pair mirrors, else its resource's
    role, connection, disks, resync progress and ``state`` (in-sync,
    syncing or degraded); ``mirror_error``: why the mirror could not be
    told, or None (see :func:`pool_state.mirror`). The capacity is
    reported either way.
    """
    result = pool.capacity()
    result['mirror'], result['mirror_error'] = pool_state.mirror(
        node.executor, pool.vg, pool.pool, node.drbd)
    if result['mirror_error']:
        LOG.error('%s', result['mirror_error'])
    return result


@operation('pool.get', pooled=True)
def pool_get(node, pool, name):
    return pool.get(name)


@operation('pool.lookup', pooled=True)
def pool_lookup(node, pool, names):
    return pool.lookup(*names)


@operation('pool.list', pooled=True)
def pool_list(node, pool, tags=()):
    return pool.list(tags=tags)


@operation('pool.create', pooled=True)
def pool_create(node, pool, name, size_gib, tags=()):
    return pool.create(name, size_gib, tags=tags)


@operation('pool.extend', pooled=True)
def pool_extend(node, pool, name, size_gib):
    return pool.extend(name, size_gib)


@operation('pool.reduce', pooled=True)
def pool_reduce(node, pool, name, size_gib):
    return pool.reduce(name, size_gib)


@operation('pool.remove', pooled=True)
def pool_remove(node, pool, name):
    return pool.remove(name)


@operation('pool.snapshot', pooled=True)
def pool_snapshot(node, pool, origin, name, tags=(), inherit=()):
    return pool.snapshot(origin, name, tags=tags,
                         inherit=inherit)


@operation('pool.clone', pooled=True)
def pool_clone(node, pool, origin, name, size_gib, tags=(), inherit=()):
    return pool.clone(origin, name, size_gib, tags=tags,
                      inherit=inherit)


@operation('pool.rename', pooled=True)
def pool_rename(node, pool, old, new):
    return pool.rename(old, new)


@operation('pool.revert', pooled=True)
def pool_revert(node, pool, name, snapshot):
    return pool.revert(name, snapshot)


@operation('pool.add_tags', pooled=True)
def pool_add_tags(node, pool, name, tags):
    return pool.add_tags(name, tags)


@operation('pool.replace_tags', pooled=True)
def pool_replace_tags(node, pool, name, tags):
    info = _thin_lv(pool, name)
    return pool.replace_tags(name, info, tags)


@operation('pool.update_tags', pooled=True)
def pool_update_tags(node, pool, name, fields):
    info = _thin_lv(pool, name)
    return pool.update_tags(name, info, **fields)


@operation('pool.remove_tags', pooled=True)
def pool_remove_tags(node, pool, name, tags):
    return pool.remove_tags(name, tags)


# ---------------------------------------------------- filesystem of an LV

@operation('fs.mkfs', pooled=True)
def fs_mkfs(node, pool, name):
    _thin_lv(pool, name)
    return node.xfs.mkfs(pool.device_path(name))


@operation('fs.regenerate_uuid', pooled=True)
def fs_regenerate_uuid(node, pool, name):
    _thin_lv(pool, name)
    return node.xfs.regenerate_uuid(pool.device_path(name))


@operation('fs.grow', pooled=True)
def fs_grow(node, pool, name, mounted=False):
    return node.xfs.grow(_mountpoint(name), mounted=mounted)


@operation('fs.is_mounted', pooled=True)
def fs_is_mounted(node, pool, name):
    return node.xfs.is_mounted(export.mountpoint(name))


@operation('quota.enable', pooled=True)
def quota_enable(node, pool, name):
    return node.quota.enable(_mountpoint(name))


@operation('quota.set_limit', pooled=True)
def quota_set_limit(node, pool, name, size_bytes):
    return node.quota.set_limit(_mountpoint(name), size_bytes)


@operation('quota.used', pooled=True)
def quota_used(node, pool, name):
    return node.quota.used(_mountpoint(name))


@operation('raw.size', pooled=True)
def raw_size(node, pool, name):
    return node.raw.size(name)


@operation('raw.create', pooled=True)
def raw_create(node, pool, name, size_bytes):
    return node.raw.create(name, size_bytes)


@operation('raw.grow', pooled=True)
def raw_grow(node, pool, name, size_bytes):
    return node.raw.grow(name, size_bytes)


# ------------------------------------------------------------- exports

@operation('exports.mount', pooled=True)
def exports_mount(node, pool, name, options=()):
    info = _thin_lv(pool, name)
    return exports_of(node, pool).mount(name, options=options, info=info)


@operation('exports.clone', pooled=True)
def exports_clone(node, pool, origin, name, size_gib, tags=(), options=()):
    """pool.clone, then the copy mounted with its own XFS UUID.

    One request; the copy is the LV pool.clone made or found (its origin
    checked as Arca's), so it is not looked up again.
    """
    info = pool.clone(origin, name, size_gib, tags=tags)
    exports_of(node, pool).mount_copy(name, options=options, info=info)
    return info


@operation('exports.format_and_publish', pooled=True)
def exports_format_and_publish(node, pool, svm, name, clients=(),
                               mount_options=(), quota_bytes=None,
                               image_bytes=None):
    """A new LV's whole way to its export, in one request.

    fs.mkfs, exports.mount, quota.enable and quota.set_limit (a share:
    ``quota_bytes``), raw.create (a volume: ``image_bytes``), then
    exports.publish to exactly ``clients``, with one look-up of the LV.
    The LV is the one pool.create made in the caller's previous request
    (the SVM is ensured between the two: the LV's svm tag keeps a
    concurrent delete from removing the SVM). The quota and the image
    file are made before the export exists, so no client sees the
    filesystem without them.

    Every step is idempotent and the XFS is never made again over one
    that is there (:meth:`xfs.XFS.mkfs`), so the request, retried after a
    crash anywhere in it, converges without touching the data.
    """
    info = _thin_lv(pool, name)
    manager = exports_of(node, pool)
    path = manager.format_and_mount(name, options=mount_options, info=info)
    if quota_bytes is not None:
        node.quota.enable(path)
        node.quota.set_limit(path, quota_bytes)
    if image_bytes is not None:
        node.raw.create(name, image_bytes)
    return manager.publish(svm, name, clients=clients,
                           mount_options=mount_options, mounted=True)


@operation('exports.unmount', pooled=True)
def exports_unmount(node, pool, name):
    return exports_of(node, pool).unmount(name)


@operation('exports.find', pooled=True)
def exports_find(node, pool, svm, name):
    return exports_of(node, pool).find(svm, name)


@operation('exports.publish', pooled=True)
def exports_publish(node, pool, svm, name, clients=(), read_only=False,
                    mount_options=(), mounted=False):
    # Mounted by the caller in this operation: at its own mountpoint, so
    # nothing to look up. Else the LV must be a thin LV of the pool.
    info = None if mounted else _thin_lv(pool, name)
    return exports_of(node, pool).publish(
        svm, name, clients=clients, read_only=read_only,
        mount_options=mount_options, info=info, mounted=mounted)


@operation('exports.set_clients', pooled=True)
def exports_set_clients(node, pool, svm, name, clients, missing_ok=False):
    return exports_of(node, pool).set_clients(svm, name, clients,
                                              missing_ok=missing_ok)


@operation('exports.unpublish', pooled=True)
def exports_unpublish(node, pool, svm, name, unmount=True):
    return exports_of(node, pool).unpublish(svm, name, unmount=unmount)


# ---------------------------------------------------------------- SVMs

@operation('svms.get')
def svms_get(node, name):
    return node.svms.get(name)


@operation('svms.list')
def svms_list(node):
    return node.svms.list()


@operation('svms.create', pooled=True)
def svms_create(node, pool, name, network, owner=None):
    """The SVM, homed in ``pool`` if that is a mirrored pool active here."""
    return node.svms.create(name, network, owner=owner,
                            home=lambda: node.pool_state.home(pool.vg))


@operation('svms.ensure', pooled=True)
def svms_ensure(node, pool, name, prefix_options=()):
    return node.svms.ensure(
        name, prepare_exports=_prepare(node, pool, prefix_options))


@operation('svms.delete')
def svms_delete(node, name):
    # Only an SVM with a record is Arca's: a namespace of the same name
    # without one is someone else's. The record goes last, so a delete
    # interrupted half-way is finished by the next one.
    if node.svms.get(name) is None:
        return None
    return node.svms.delete(name)


@operation('svms.running')
def svms_running(node, name):
    return node.svms.ganesha.status(name)['running']


@operation('svms.export_ids')
def svms_export_ids(node, name):
    return node.svms.ganesha.export_ids(name)


@operation('svms.get_export')
def svms_get_export(node, name, export_id):
    return node.svms.ganesha.get_export(name, export_id)


@operation('svm_pools.ensure', pooled=True)
def svm_pools_ensure(node, pool, name, owner, settings, check_running=True,
                     prefix_options=()):
    pools = svm_pools.SVMPools(
        node.svms, pool, settings,
        home=lambda: node.pool_state.home(pool.vg))
    return pools.ensure_named(
        name, owner, prepare_exports=_prepare(node, pool, prefix_options),
        check_running=check_running)


@operation('svm_pools.release', pooled=True)
def svm_pools_release(node, pool, name, settings):
    pools = svm_pools.SVMPools(node.svms, pool, settings)
    return pools.release_if_unused(name)


for _name in protocol.OPERATIONS:
    if _name not in HANDLERS:
        raise AssertionError('operation %s has no handler' % _name)
