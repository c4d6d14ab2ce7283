"""What the drivers hold: the node's operations as objects.

Each class wraps one group of operations of
:data:`arca_openstack.wire.protocol.OPERATIONS` behind the methods the
drivers call, so a driver reads as it would with the node library in
hand, while every call is one request to the node's agent. Nothing here
runs a command; names are checked here only to fail early and clearly
(the agent checks everything again).
"""

from arca_openstack.node import drbd
from arca_openstack.node import validate
from arca_openstack import svm_pools


class _Group(object):
    group = None

    def __init__(self, client, context=None):
        self.client = client
        self.context = dict(context or {})

    def _call(self, method, **args):
        args.update(self.context)
        return self.client.call('%s.%s' % (self.group, method), args)


class Pool(_Group):
    """The backend's thin pool (:class:`arca_openstack.node.lvm.ThinPool`).

    ``info`` arguments of the node library (an LV as looked up earlier in
    the caller's operation) are accepted and not sent: the agent looks
    LVs up itself.
    """

    group = 'pool'

    def __init__(self, client, vg, pool):
        self.vg = validate.vg_name(vg)
        self.pool = validate.lv_name(pool, what='thin pool name')
        super().__init__(client, {'vg': self.vg, 'thin': self.pool})

    def device_path(self, name):
        return '/dev/%s/%s' % (self.vg, validate.lv_name(name))

    def capacity(self):
        return self._call('capacity')

    def get(self, name):
        return self._call('get', name=name)

    def lookup(self, *names):
        return self._call('lookup', names=list(names))

    def list(self, tags=()):
        return self._call('list', tags=list(tags))

    def create(self, name, size_gib, tags=()):
        return self._call('create', name=name, size_gib=size_gib,
                          tags=list(tags))

    def extend(self, name, size_gib):
        return self._call('extend', name=name, size_gib=size_gib)

    def reduce(self, name, size_gib):
        return self._call('reduce', name=name, size_gib=size_gib)

    def remove(self, name, info=None):
        return self._call('remove', name=name)

    def snapshot(self, origin, name, tags=(), inherit=()):
        return self._call('snapshot', origin=origin, name=name,
                          tags=list(tags), inherit=list(inherit))

    def clone(self, origin, name, size_gib, tags=(), inherit=()):
        return self._call('clone', origin=origin, name=name,
                          size_gib=size_gib, tags=list(tags),
                          inherit=list(inherit))

    def rename(self, old, new):
        return self._call('rename', old=old, new=new)

    def revert(self, name, snapshot):
        return self._call('revert', name=name, snapshot=snapshot)

    def add_tags(self, name, tags):
        return self._call('add_tags', name=name, tags=list(tags))

    def replace_tags(self, name, info, tags):
        return self._call('replace_tags', name=name, tags=list(tags))

    def update_tags(self, name, info, **fields):
        return self._call('update_tags', name=name, fields=fields)

    def remove_tags(self, name, tags):
        return self._call('remove_tags', name=name, tags=list(tags))


class Filesystem(_Group):
    """The XFS filesystem of a thin LV, named by the LV."""

    group = 'fs'

    def mkfs(self, name):
        return self._call('mkfs', name=name)

    def regenerate_uuid(self, name):
        return self._call('regenerate_uuid', name=name)

    def grow(self, name, mounted=False):
        return self._call('grow', name=name, mounted=mounted)

    def is_mounted(self, name):
        return self._call('is_mounted', name=name)


class Quota(_Group):
    """The whole-filesystem quota of a share's LV."""

    group = 'quota'

    def enable(self, name):
        return self._call('enable', name=name)

    def set_limit(self, name, size_bytes):
        return self._call('set_limit', name=name, size_bytes=size_bytes)

    def used(self, name):
        return self._call('used', name=name)


class RawFile(_Group):
    """The image file of a volume's LV."""

    group = 'raw'

    def size(self, name):
        return self._call('size', name=name)

    def create(self, name, size_bytes):
        return self._call('create', name=name, size_bytes=size_bytes)

    def grow(self, name, size_bytes):
        return self._call('grow', name=name, size_bytes=size_bytes)


class Exports(_Group):
    """Mounts and NFS exports of the pool's LVs.

    ``clients`` is a list of (address-or-network, access) pairs, or a
    change of the export's current list: :func:`keep_or`, :func:`admit`,
    :func:`drop`.
    """

    group = 'exports'

    def mount(self, name, options=(), info=None):
        return self._call('mount', name=name, options=list(options))

    def clone(self, origin, name, size_gib, tags=(), options=()):
        """A thin copy of ``origin``, grown, mounted with its own UUID.

        :returns: the copy's LV info.
        """
        return self._call('clone', origin=origin, name=name,
                          size_gib=size_gib, tags=list(tags),
                          options=list(options))

    def format_and_publish(self, svm, name, clients=(), mount_options=(),
                           quota_bytes=None, image_bytes=None):
        """A new LV's XFS made, mounted, sized and published to ``svm``.

        For the LV :meth:`Pool.create` made: its XFS (an existing one is
        kept), mounted with ``mount_options``; a share's project quota of
        ``quota_bytes``; a volume's image file of ``image_bytes``; then
        the export to ``clients``. One request.

        :returns: the :class:`ganesha_config.Export` now served.
        """
        return self._call('format_and_publish', svm=svm, name=name,
                          clients=_clients(clients),
                          mount_options=list(mount_options),
                          quota_bytes=quota_bytes, image_bytes=image_bytes)

    def unmount(self, name):
        return self._call('unmount', name=name)

    def find(self, svm, name):
        return self._call('find', svm=svm, name=name)

    def publish(self, svm, name, clients=(), read_only=False,
                mount_options=(), info=None, mounted=False):
        return self._call('publish', svm=svm, name=name,
                          clients=_clients(clients), read_only=read_only,
                          mount_options=list(mount_options),
                          mounted=mounted)

    def set_clients(self, svm, name, clients, missing_ok=False):
        return self._call('set_clients', svm=svm, name=name,
                          clients=_clients(clients), missing_ok=missing_ok)

    def unpublish(self, svm, name, unmount=True):
        return self._call('unpublish', svm=svm, name=name, unmount=unmount)


class DRBD(_Group, drbd.StatusWaits):
    """The node's Arca DRBD resources, each mirroring a thin LV."""

    group = 'drbd'

    def __init__(self, client, pool):
        super().__init__(client)
        self.pool = pool

    def write(self, resource, minor, port, lv, address, peer, peer_address,
              protocol='C'):
        """Install the resource file; True if it changed.

        It mirrors ``lv`` of the pool between this node (at ``address``)
        and host ``peer`` (at ``peer_address``).
        """
        return self.client.call('drbd.write', dict(
            self.pool.context, resource=resource, minor=minor, port=port,
            lv=lv, address=address, peer=peer, peer_address=peer_address,
            protocol=protocol))

    def create_md(self, resource):
        return self._call('create_md', resource=resource)

    def up(self, resource):
        return self._call('up', resource=resource)

    def down(self, resource):
        return self._call('down', resource=resource)

    def primary(self, resource, force=False):
        return self._call('primary', resource=resource, force=force)

    def secondary(self, resource):
        return self._call('secondary', resource=resource)

    def status(self, resource):
        return self._call('status', resource=resource)

    def skip_initial_sync(self, resource):
        return self._call('skip_initial_sync', resource=resource)

    def resize(self, resource):
        return self._call('resize', resource=resource)

    def remove(self, resource):
        return self._call('remove', resource=resource)


def _clients(clients):
    if isinstance(clients, dict):
        return clients
    return [[network, access] for network, access in (
        (c[0], c[1]) for c in clients)]


def keep_or(clients):
    """The export's current clients, or ``clients`` for a new export."""
    return {'keep_or': _clients(clients)}


def admit(address):
    """The export's current clients and ``address`` read-write."""
    return {'admit': address}


def drop(address):
    """The export's current clients but ``address`` (None: all)."""
    return {'drop': address}


def new_export_clients(clients):
    """The (network, access) pairs ``clients`` gives an export made now."""
    if not isinstance(clients, dict):
        return [tuple(c) for c in _clients(clients)]
    if 'keep_or' in clients:
        return [tuple(c) for c in clients['keep_or']]
    if 'admit' in clients:
        return [(clients['admit'], 'rw')]
    return []


class SVMs(object):
    """The node's SVMs (:class:`arca_openstack.node.svm.SVMManager`).

    :param pool: context of the operations that mount exports again
        (ensure), the backend's :class:`Pool`.
    :param mount_options: how those mounts are made: ``[(LV name prefix,
        XFS mount options), ...]``, the first matching prefix applies.
    """

    def __init__(self, client, pool, mount_options=()):
        self.client = client
        self.pool_context = pool.context
        self.mount_options = _by_prefix(mount_options)

    def _call(self, method, pooled=False, **args):
        if pooled:
            args.update(self.pool_context)
        return self.client.call('svms.%s' % method, args)

    def get(self, name):
        return self._call('get', name=name)

    def list(self):
        return self._call('list')

    def create(self, name, network, owner=None):
        return self._call('create', pooled=True, name=name,
                          network=network._asdict(), owner=owner)

    def ensure(self, name):
        return self._call('ensure', pooled=True, name=name,
                          prefix_options=self.mount_options)

    def delete(self, name):
        return self._call('delete', name=name)

    def running(self, name):
        return self._call('running', name=name)

    def export_ids(self, name):
        return self._call('export_ids', name=name)

    def get_export(self, name, export_id):
        return self._call('get_export', name=name, export_id=export_id)


class SVMPools(svm_pools.SVMNames):
    """A backend's SVMs from its address pools, made by the node.

    Names and owner tags are worked out here; finding, allocating,
    building and removing happen in the agent, under the node's locks.

    :param entries: the backend's ``arca_address_pools`` values, parsed
        again (and so checked again) by the agent.
    """

    def __init__(self, client, pool, settings, entries, mount_options=()):
        super().__init__(settings)
        self.client = client
        self.pool_context = pool.context
        self.mount_options = _by_prefix(mount_options)
        self.wire_settings = {
            'mapping': settings.mapping, 'prefix': settings.prefix,
            'shared_name': settings.shared_name,
            'delete_unused': settings.delete_unused,
            'pools': list(entries or ())}

    def _call(self, method, **args):
        args.update(self.pool_context)
        args['settings'] = self.wire_settings
        return self.client.call('svm_pools.%s' % method, args)

    def ensure_svm(self, project_id, check_running=True):
        """Make the project's SVM exist and serve; return its record."""
        return self._call('ensure', name=self.svm_name(project_id),
                          owner=self.owner(project_id),
                          check_running=check_running,
                          prefix_options=self.mount_options)

    def release_if_unused(self, name):
        return self._call('release', name=name)


def _by_prefix(mount_options):
    return [[prefix, list(options)] for prefix, options in mount_options]


class Node(object):
    """Every group of a backend's operations on its node.

    :param mount_options: see :class:`SVMs`.
    """

    def __init__(self, client, vg, thin, settings=None, entries=(),
                 mount_options=()):
        self.client = client
        self.pool = Pool(client, vg, thin)
        context = self.pool.context
        self.fs = Filesystem(client, context)
        self.quota = Quota(client, context)
        self.drbd = DRBD(client, self.pool)
        self.raw = RawFile(client, context)
        self.exports = Exports(client, context)
        self.svms = SVMs(client, self.pool, mount_options)
        self.svm_pools = (SVMPools(client, self.pool, settings, entries,
                                   mount_options)
                          if settings is not None else None)

    def missing_tools(self):
        return self.client.call('node.check')

    def links(self, interfaces):
        """{name: ``{'name', 'kind'}`` or None} of the node's NICs."""
        return self.client.call('node.links', {'interfaces': interfaces})
