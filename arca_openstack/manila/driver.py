"""Manila share driver for Arca Storage.

A share is a thin LV named ``share-<instance id>`` holding an XFS
filesystem, mounted on the storage node with ``prjquota`` and exported
over NFS v4.1/v4.2 by an SVM under the pseudo path ``/share-<id>``. The
LV is a little larger than the share; an XFS project quota on the
filesystem's root limits the data to exactly the share size, so extending
is lvextend + xfs_growfs + a higher limit, and shrinking is a lower limit
once the data fits. Exports admit no client until access rules say so.

Snapshots (``ssnap-<instance id>``), shares from snapshots and reverts are
thin LV snapshots: constant time whatever the size. A mountable snapshot
is mounted read-only (``ro,nouuid``: it shares its origin's XFS UUID) and
exported read-only by the share's SVM with its own access rules.

SVMs: with driver_handles_share_servers=True each share server is an SVM
named ``<arca_svm_name_prefix><server id>``, plugged into the share
network from the server's network allocation; everything needed to
rebuild or remove it is in the server's backend details. With
driver_handles_share_servers=False each project gets an SVM from the
configured address pools, or one shared SVM serves all
(:mod:`arca_openstack.svm_pools`, shared with the Cinder driver).

What exists on the node is the record: LV tags (``arca.kind``,
``arca.id``, ``arca.project``, ``arca.svm``, ...), SVM records and Ganesha
export files. The driver keeps no state of its own.
"""

import contextlib
import ipaddress
import json
import math

from manila.common import constants
from manila import exception
from manila.i18n import _
from manila.share import driver
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from arca_openstack import backend
from arca_openstack import exception as arca_exception
from arca_openstack.manila import opts
from arca_openstack.node import export
from arca_openstack.node import lvm
from arca_openstack.node import svm as svm_mod
from arca_openstack.node import validate
from arca_openstack import svm_pools
from arca_openstack.wire import connection

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
SHARE_PREFIX = 'share-'
SNAPSHOT_PREFIX = 'ssnap-'
KIND_SHARE = 'share'
KIND_SNAPSHOT = 'share_snapshot'
SHARE_MOUNT = ('prjquota',)
SNAPSHOT_MOUNT = ('ro', 'nouuid')
ACCESS_LEVELS = (constants.ACCESS_LEVEL_RW, constants.ACCESS_LEVEL_RO)
NETWORK_TYPES = ('flat', 'vlan')
SERVER_OWNER = 'arca.share_server=%s'


def _get(obj, key, default=None):
    """``obj[key]`` of a dict or Manila model; ``default`` if unavailable.

    A lazy relation of a detached ORM row raises on access; that counts
    as unavailable.
    """
    if obj is None:
        return default
    try:
        value = obj[key]
    except Exception:
        return default
    return default if value is None else value


def _local_root_helper():
    """manila-share's own root helper, for a storage node on this host."""
    return 'sudo manila-rootwrap %s' % CONF.rootwrap_config


def _host_bits(network):
    net = ipaddress.ip_network(network)
    return net.max_prefixlen - net.prefixlen


class ArcaShareDriver(driver.ShareDriver):
    """Arca Storage: thin LV + XFS + project quota per share, NFS per SVM.

    Version history:
        1.0.0 - First version: both share server modes, NFS v4.2 ip
                access, exact size by project quota, extend/shrink,
                snapshots, share from snapshot, revert, mountable
                snapshots, manage/unmanage of shares, snapshots and share
                servers, ensure_shares, usage reporting, IPv4 and IPv6.
    """

    VERSION = '1.0.0'
    VENDOR = 'Arca Storage'

    def __init__(self, *args, **kwargs):
        super().__init__(
            [True, False], *args,
            config_opts=[opts.share_opts, opts.share_server_opts,
                         opts.svm_opts, connection.node_opts],
            **kwargs)
        self.ipv6_implemented = True
        # Set before do_setup to drive the node differently: node_client
        # (an agent client), or executor (the agent's operations run in
        # this process with it, as the unit tests do).
        self.executor = None
        self.node_client = None
        self.svm_pools = None

    # ------------------------------------------------------------ set-up

    @staticmethod
    def _config_error(option, value, reason):
        return exception.BadConfigurationException(
            reason=str(backend.SetupError(option, value, reason)))

    @contextlib.contextmanager
    def _setup_check(self):
        """Turn failed start-up checks into Manila exceptions."""
        try:
            yield
        except backend.SetupError as err:
            raise exception.BadConfigurationException(reason=str(err))
        except backend.NodeCheckFailed as err:
            raise exception.ShareBackendException(msg=str(err))

    def do_setup(self, context):
        conf = self.configuration
        with self._setup_check():
            backend.check_names(conf)
        settings = None
        try:
            if self.driver_handles_share_servers:
                svm_pools.check_prefix(conf.arca_svm_name_prefix)
                self._check_server_network_options()
            else:
                settings = svm_pools.settings_from_conf(conf)
        except svm_pools.PoolConfigError as err:
            raise exception.BadConfigurationException(reason=str(err))
        self.headroom_gib = conf.arca_fs_headroom_gib
        self.headroom_percent = conf.arca_fs_headroom_percent
        self.node_name = conf.arca_node_address or 'localhost'
        self.mirror_report = backend.MirrorReport(
            '%s/%s' % (conf.arca_volume_group, conf.arca_thin_pool),
            self.node_name)
        if self.node_client is None:
            self.node_client = connection.make_client(
                conf, _local_root_helper(), executor=self.executor)
        self.node = connection.make_node(
            conf, self.node_client, settings, conf.arca_address_pools,
            mount_options=[(SNAPSHOT_PREFIX, SNAPSHOT_MOUNT),
                           ('', SHARE_MOUNT)])
        self.pool = self.node.pool
        self.fs = self.node.fs
        self.quota = self.node.quota
        self.exports = self.node.exports
        self.svms = self.node.svms
        self.svm_pools = self.node.svm_pools

    def _check_server_network_options(self):
        conf = self.configuration
        mode = conf.arca_share_server_network_mode
        if mode not in opts.NETWORK_MODES:
            raise self._config_error('arca_share_server_network_mode', mode,
                                     'must be one of %s'
                                     % ', '.join(opts.NETWORK_MODES))
        option = ('arca_share_server_bridge' if mode == 'veth'
                  else 'arca_share_server_parent_interface')
        value = conf.safe_get(option)
        if not value:
            raise self._config_error(option, value,
                                     'required when '
                                     'arca_share_server_network_mode is %s'
                                     % mode)
        try:
            validate.interface_name(value)
        except arca_exception.InvalidInput as err:
            raise self._config_error(option, value, err)

    def check_for_setup_error(self):
        conf = self.configuration
        with self._setup_check():
            self._check_node(conf)

    def _check_node(self, conf):
        backend.check_node(self.node, conf, self.node_name)
        if self.driver_handles_share_servers:
            mode = conf.arca_share_server_network_mode
            if mode == 'veth':
                self._check_link('arca_share_server_bridge',
                                 conf.arca_share_server_bridge, True)
            else:
                self._check_link('arca_share_server_parent_interface',
                                 conf.arca_share_server_parent_interface,
                                 False)
            return
        backend.check_pool_links(self.node, self.svm_pools.settings,
                                 self.node_name)
        settings = self.svm_pools.settings
        if settings.mapping == svm_pools.SHARED and not settings.pools:
            try:
                record = self.svms.get(settings.shared_name)
            except arca_exception.ArcaError as err:
                raise exception.ShareBackendException(
                    msg=_('cannot read SVM %(svm)s: %(err)s') % {
                        'svm': settings.shared_name, 'err': err})
            if record is None:
                raise self._config_error(
                    'arca_shared_svm_name', settings.shared_name,
                    'storage node %s has no such SVM and no %s are '
                    'configured to make it' % (self.node_name,
                                               svm_pools.POOLS_OPTION))

    def _check_link(self, option, name, bridge):
        backend.check_links(self.node, [(option, name, bridge)],
                            self.node_name)

    # ---------------------------------------------------------- helpers

    @contextlib.contextmanager
    def _node(self, action):
        """Turn node library errors into Manila exceptions."""
        try:
            yield
        except exception.ManilaException:
            raise
        except arca_exception.InvalidInput as err:
            raise exception.InvalidInput(reason=_('%(action)s: %(err)s') % {
                'action': action, 'err': err})
        except arca_exception.InUse as err:
            raise exception.ShareBusyException(
                reason=_('%(action)s: %(err)s') % {'action': action,
                                                   'err': err})
        except arca_exception.ArcaError as err:
            raise exception.ShareBackendException(
                msg=backend.describe(action, err, self.node_name))

    @staticmethod
    def _share_lv(share):
        return SHARE_PREFIX + validate.uuid(share['id'], 'share id')

    @staticmethod
    def _snap_lv(snapshot):
        return SNAPSHOT_PREFIX + validate.uuid(snapshot['id'],
                                               'snapshot id')

    @staticmethod
    def _origin_lv(snapshot):
        return SHARE_PREFIX + validate.uuid(snapshot['share_instance_id'],
                                            'share id')

    @staticmethod
    def _check_proto(share):
        proto = str(_get(share, 'share_proto', 'NFS')).upper()
        if proto != 'NFS':
            raise exception.InvalidShare(
                reason=_('protocol %s is not supported; Arca shares are '
                         'NFS only') % proto)

    def _lv_gib(self, size_gib):
        """GiB of the LV of a share of ``size_gib``: size plus headroom."""
        size = validate.size_gib(size_gib, 'share size')
        return (size + self.headroom_gib +
                int(math.ceil(size * self.headroom_percent / 100.0)))

    def _size_for_lv(self, lv_bytes):
        """The largest share size whose LV fits in ``lv_bytes`` (>= 1)."""
        size = max(1, lv_bytes // GiB - self.headroom_gib)
        while size > 1 and self._lv_gib(size) * GiB > lv_bytes:
            size -= 1
        return size

    def _server_svm(self, share_server):
        """The SVM of a share server (driver_handles_share_servers=True)."""
        if share_server is None:
            raise exception.InvalidShareServer(
                reason=_('driver_handles_share_servers=True needs a share '
                         'server'))
        details = _get(share_server, 'backend_details', {}) or {}
        name = _get(details, 'svm_name')
        if name:
            return validate.svm_name(name)
        return self._server_svm_name(share_server['id'])

    def _server_svm_name(self, server_id):
        server = validate.uuid(server_id, 'share server id')
        return validate.svm_name(self.configuration.arca_svm_name_prefix +
                                 server.replace('-', ''))

    def _svm_for(self, share, share_server):
        """The SVM that serves a new share."""
        if self.driver_handles_share_servers:
            return self._server_svm(share_server)
        return self.svm_pools.svm_name(share['project_id'])

    def _svm_of(self, info, share, share_server):
        """The SVM serving an existing LV: its tag, else the share's."""
        if info is not None:
            name = lvm.parse_tags(info['tags']).get('svm')
            if name:
                return validate.svm_name(name)
        try:
            return self._svm_for(share, share_server)
        except (exception.ManilaException, arca_exception.ArcaError,
                KeyError, TypeError):
            return None

    def _share_tags(self, share, svm):
        return lvm.make_tags(
            kind=KIND_SHARE, id=validate.uuid(share['id']),
            project=svm_pools.project_key(share['project_id']), svm=svm)

    def _require_lv(self, name, what):
        info = self.pool.get(name)
        if info is None:
            raise exception.ShareBackendException(
                msg=_('%(what)s has no logical volume %(vg)s/%(lv)s on '
                      'storage node %(node)s') % {
                    'what': what, 'vg': self.pool.vg, 'lv': name,
                    'node': self.node_name})
        return info

    def _ensure_svm(self, svm, share, share_server):
        """Make the SVM exist and serve (idempotent)."""
        if not self.driver_handles_share_servers and (
                svm == self.svm_pools.svm_name(share['project_id'])):
            self.svm_pools.ensure_svm(share['project_id'])
            return
        record = self.svms.get(svm)
        if record is None:
            details = _get(share_server, 'backend_details', {}) or {}
            if not (self.driver_handles_share_servers and
                    _get(details, 'svm_network')):
                raise arca_exception.NotFound(what='SVM', name=svm)
            LOG.info('Re-creating SVM %s from its share server details.',
                     svm)
            self.svms.create(svm, self._network_from_details(details),
                             owner=SERVER_OWNER % share_server['id'])
        elif not self.svms.running(svm):
            LOG.info('Rebuilding SVM %s: its NFS server is not running.',
                     svm)
            self.svms.ensure(svm)

    @staticmethod
    def _network_from_details(details):
        try:
            return svm_mod.make_network(**json.loads(details['svm_network']))
        except (ValueError, TypeError, KeyError) as err:
            raise arca_exception.ParseError(what='share server details',
                                            reason=err)

    def _locations(self, svm, lv):
        """Export locations of an LV: one per address of its SVM."""
        record = self.svms.get(svm)
        if record is None:
            raise arca_exception.NotFound(what='SVM', name=svm)
        locations = []
        for cidr in record['network'].addresses:
            address = str(ipaddress.ip_interface(cidr).ip)
            locations.append({
                'path': '%s:%s' % (svm_pools.nfs_host(address),
                                   export.pseudo_path(lv)),
                'is_admin_only': False,
                'metadata': {'preferred': True},
            })
        return locations

    def _release(self, svm):
        if svm and self.svm_pools is not None:
            self.svm_pools.release_if_unused(svm)

    def _cleanup(self, lv, svm):
        """Best-effort removal of a half-made share."""
        try:
            if svm:
                self.exports.unpublish(svm, lv)
            else:
                self.exports.unmount(lv)
            self.pool.remove(lv)
            self._release(svm)
        except arca_exception.ArcaError as err:
            LOG.warning('Could not clean up %s after a failure: %s', lv,
                        err)

    def _serve(self, lv, svm, size, clients=()):
        """Mount a share's LV, set its exact size, export it."""
        self.exports.mount(lv, options=SHARE_MOUNT)
        self.fs.grow(lv)
        self.quota.set_limit(lv, size * GiB)
        self.exports.publish(svm, lv, clients=clients,
                             mount_options=SHARE_MOUNT)

    # ----------------------------------------------------------- shares

    def create_share(self, context, share, share_server=None):
        self._check_proto(share)
        with self._node(_('Creating share %s') % share['id']):
            lv = self._share_lv(share)
            size = validate.size_gib(share['size'], 'share size')
            svm = self._svm_for(share, share_server)
            # The LV first: its svm tag keeps a concurrent delete from
            # removing the SVM between ensuring and publishing.
            self.pool.create(lv, self._lv_gib(size),
                             tags=self._share_tags(share, svm))
            try:
                self._ensure_svm(svm, share, share_server)
                # XFS, mount, quota (the limit set before anyone can
                # mount) and the export closed to all, in one request.
                self.exports.format_and_publish(
                    svm, lv, clients=(), mount_options=SHARE_MOUNT,
                    quota_bytes=size * GiB)
                return self._locations(svm, lv)
            except Exception:
                self._cleanup(lv, svm)
                raise

    def create_share_from_snapshot(self, context, share, snapshot,
                                   share_server=None, parent_share=None):
        self._check_proto(share)
        with self._node(_('Creating share %(share)s from snapshot '
                          '%(snap)s') % {'share': share['id'],
                                         'snap': snapshot['id']}):
            lv = self._share_lv(share)
            origin = self._snap_lv(snapshot)
            size = validate.size_gib(share['size'], 'share size')
            svm = self._svm_for(share, share_server)
            self._require_lv(origin, _('Snapshot %s') % snapshot['id'])
            self.pool.snapshot(origin, lv, tags=self._share_tags(share, svm))
            try:
                self.pool.extend(lv, self._lv_gib(size))
                # A clone keeps the XFS UUID of its origin, which may be
                # mounted: give it its own.
                self.fs.regenerate_uuid(lv)
                self._ensure_svm(svm, share, share_server)
                # The quota project came with the copy; only the limit
                # changes.
                self._serve(lv, svm, size)
                locations = self._locations(svm, lv)
            except Exception:
                self._cleanup(lv, svm)
                raise
        return {'export_locations': locations,
                'status': constants.STATUS_AVAILABLE}

    def delete_share(self, context, share, share_server=None):
        with self._node(_('Deleting share %s') % share['id']):
            lv = self._share_lv(share)
            info = self.pool.get(lv)
            svm = self._svm_of(info, share, share_server)
            if svm:
                self.exports.unpublish(svm, lv)
            else:
                self.exports.unmount(lv)
            if info is None:
                LOG.info('Share %s has no LV %s: nothing to delete.',
                         share['id'], lv)
            else:
                self.pool.remove(lv)
            self._release(svm)

    def extend_share(self, share, new_size, share_server=None):
        with self._node(_('Extending share %s') % share['id']):
            lv = self._share_lv(share)
            new_size = validate.size_gib(new_size, 'new size')
            self._require_lv(lv, _('Share %s') % share['id'])
            self.pool.extend(lv, self._lv_gib(new_size))
            self.exports.mount(lv, options=SHARE_MOUNT)
            self.fs.grow(lv)
            self.quota.set_limit(lv, new_size * GiB)

    def shrink_share(self, share, new_size, share_server=None):
        with self._node(_('Shrinking share %s') % share['id']):
            lv = self._share_lv(share)
            new_size = validate.size_gib(new_size, 'new size')
            self._require_lv(lv, _('Share %s') % share['id'])
            self.exports.mount(lv, options=SHARE_MOUNT)
            used = self.quota.used(lv)
            if used > new_size * GiB:
                LOG.warning('Share %(share)s holds %(used)d bytes: not '
                            'shrinking it to %(size)d GiB.', {
                                'share': share['id'], 'used': used,
                                'size': new_size})
                raise exception.ShareShrinkingPossibleDataLoss(
                    share_id=share['id'])
            # XFS cannot shrink; the LV keeps its size (thin: only what is
            # written uses space) and the limit alone makes the share
            # smaller.
            self.quota.set_limit(lv, new_size * GiB)

    def get_pool(self, share):
        return self.configuration.arca_thin_pool

    # --------------------------------------------------------- transfer

    def transfer_accept(self, context, share, new_user, new_project,
                        access_rules=None, share_server=None):
        """The share changes owner where it is: same SVM, same export.

        Manila keeps a transferred share's export locations (it takes none
        from this call), so the share stays on the SVM that serves it,
        with its export and clients (Manila clears the rules first when
        asked to): the new owner's mounts use the export locations Manila
        shows. Only the LVs' project tags change. A per-project SVM that
        serves a transferred share stays while it does (SVMs are removed
        when no LV names them), and tenants never reach an SVM other than
        through the exports' own client lists.
        """
        if new_project == _get(share, 'project_id'):
            return
        with self._node(_('Transferring share %(share)s to project '
                          '%(project)s') % {'share': share['id'],
                                            'project': new_project}):
            lv = self._share_lv(share)
            share_id = validate.uuid(share['id'], 'share id')
            key = svm_pools.project_key(new_project)
            info = self._require_lv(lv, _('Share %s') % share_id)
            svm = self._svm_of(info, share, share_server)
            LOG.info('Share %(share)s now belongs to project %(project)s; '
                     'it stays on SVM %(svm)s.', {
                         'share': share_id, 'project': new_project,
                         'svm': svm})
            self.pool.update_tags(lv, info, project=key)
            for snap in self.pool.list(tags=lvm.make_tags(
                    kind=KIND_SNAPSHOT, share=share_id)):
                self.pool.update_tags(snap['name'], snap, project=key)

    # ----------------------------------------------------------- access

    @staticmethod
    def _clients(rules, read_only=False):
        """Client list of Manila rules and the rules that can't apply.

        :returns: ((network, level) pairs ordered most specific first,
            {access_id: reason} of the invalid rules).
        """
        wanted = {}
        errors = {}
        for rule in rules or ():
            access_id = rule['access_id']
            access_type = _get(rule, 'access_type')
            level = (constants.ACCESS_LEVEL_RO if read_only
                     else _get(rule, 'access_level'))
            if access_type != 'ip':
                errors[access_id] = _('access type %s is not supported '
                                      '(only ip)') % access_type
                continue
            if level not in ACCESS_LEVELS:
                errors[access_id] = _('access level %s is not supported '
                                      '(rw or ro)') % level
                continue
            try:
                network = validate.ip_network(
                    str(_get(rule, 'access_to', '')).strip())
            except arca_exception.InvalidInput as err:
                errors[access_id] = str(err)
                continue
            wanted.setdefault(network, []).append((access_id, level))
        clients = []
        for network, entries in wanted.items():
            levels = set(level for _id, level in entries)
            if len(levels) > 1:
                # Two rules for the same clients: the narrower access wins
                # rather than a silent widening.
                for access_id, level in entries:
                    if level != constants.ACCESS_LEVEL_RO:
                        errors[access_id] = _(
                            '%s also has a read-only rule') % network
                levels = {constants.ACCESS_LEVEL_RO}
            clients.append((network, levels.pop()))
        # Ganesha applies the first matching CLIENT entry: a host's own
        # rule must come before its subnet's (fewest host bits first).
        clients.sort(key=lambda c: _host_bits(c[0]))
        return clients, errors

    def update_access(self, context, share, access_rules, add_rules,
                      delete_rules, update_rules, share_server=None):
        # access_rules is always the whole list that must be on the share,
        # in the delta and in the recovery mode: it is applied whole, in
        # one change of the export.
        clients, errors = self._clients(access_rules)
        for access_id, reason in errors.items():
            LOG.warning('Access rule %(rule)s of share %(share)s is not '
                        'applied: %(reason)s', {'rule': access_id,
                                                'share': share['id'],
                                                'reason': reason})
        with self._node(_('Updating access of share %s') % share['id']):
            lv = self._share_lv(share)
            info = self.pool.get(lv)
            if info is None:
                if not clients:
                    LOG.info('Share %s has no LV %s: no access to remove.',
                             share['id'], lv)
                    return self._error_updates(errors)
                raise exception.ShareResourceNotFound(share_id=share['id'])
            svm = self._svm_of(info, share, share_server)
            self.exports.publish(svm, lv, clients=clients,
                                 mount_options=SHARE_MOUNT)
        return self._error_updates(errors)

    @staticmethod
    def _error_updates(errors):
        return {access_id: {'state': constants.ACCESS_STATE_ERROR}
                for access_id in errors}

    # -------------------------------------------------------- snapshots

    @staticmethod
    def _mountable(snapshot):
        return bool(_get(_get(snapshot, 'share'), 'mount_snapshot_support',
                         False))

    def _snapshot_size(self, snapshot):
        size = (_get(snapshot, 'size') or
                _get(_get(snapshot, 'share'), 'size'))
        return validate.size_gib(size, 'snapshot size')

    def _own_uuid(self, name):
        """Give a snapshot LV's XFS its own UUID before it is served.

        A thin snapshot keeps its origin's XFS UUID. Mounting it beside the
        origin is possible (``nouuid``), but Ganesha tells filesystems
        apart by their blkid UUID: an export of a second filesystem with
        the same UUID is refused ("validation errors in block FSAL").
        Skipped when the LV is mounted already (a retry after the change).
        """
        if not self.fs.is_mounted(name):
            self.fs.regenerate_uuid(name)

    def _publish_snapshot(self, svm, name, clients=()):
        self.exports.publish(svm, name, clients=clients, read_only=True,
                             mount_options=SNAPSHOT_MOUNT)

    def create_snapshot(self, context, snapshot, share_server=None):
        with self._node(_('Creating snapshot %s') % snapshot['id']):
            origin = self._origin_lv(snapshot)
            name = self._snap_lv(snapshot)
            info = self._require_lv(origin, _('Share %s')
                                    % snapshot['share_instance_id'])
            fields = lvm.parse_tags(info['tags'])
            tags = lvm.make_tags(
                kind=KIND_SNAPSHOT, id=validate.uuid(snapshot['id']),
                share=validate.uuid(snapshot['share_instance_id']),
                project=fields.get('project'), svm=fields.get('svm'),
                size=self._snapshot_size(snapshot))
            # No xfs_freeze around it: device-mapper suspends the origin
            # with lockfs, which freezes the mounted XFS for the instant of
            # the snapshot (a filesystem frozen by hand makes that suspend
            # fail with EBUSY).
            self.pool.snapshot(origin, name, tags=tags)
            result = {'provider_location': name}
            if self._mountable(snapshot) and fields.get('svm'):
                svm = validate.svm_name(fields['svm'])
                self._own_uuid(name)
                self._publish_snapshot(svm, name)
                result['export_locations'] = self._locations(svm, name)
        return result

    def delete_snapshot(self, context, snapshot, share_server=None):
        with self._node(_('Deleting snapshot %s') % snapshot['id']):
            name = self._snap_lv(snapshot)
            info = self.pool.get(name)
            svm = info and lvm.parse_tags(info['tags']).get('svm')
            if svm:
                self.exports.unpublish(validate.svm_name(svm), name)
            else:
                self.exports.unmount(name)
            if info is not None:
                self.pool.remove(name)

    def snapshot_update_access(self, context, snapshot, access_rules,
                               add_rules, delete_rules, share_server=None):
        clients, errors = self._clients(access_rules, read_only=True)
        with self._node(_('Updating access of snapshot %s')
                        % snapshot['id']):
            name = self._snap_lv(snapshot)
            info = self.pool.get(name)
            if info is None:
                if not clients:
                    return
                raise exception.ShareSnapshotNotFound(
                    snapshot_id=snapshot['id'])
            svm = lvm.parse_tags(info['tags']).get('svm')
            if not svm:
                raise exception.ShareBackendException(
                    msg=_('snapshot %s is not served by any SVM')
                    % snapshot['id'])
            self._publish_snapshot(validate.svm_name(svm), name, clients)
        added = set(r['access_id'] for r in add_rules or ())
        bad = sorted(set(errors) & added)
        if bad:
            raise exception.InvalidSnapshotAccess(
                reason='; '.join('%s: %s' % (i, errors[i]) for i in bad))

    def revert_to_snapshot(self, context, snapshot, share_access_rules,
                           snapshot_access_rules, share_server=None):
        with self._node(_('Reverting share %(share)s to snapshot '
                          '%(snap)s') % {
                'share': snapshot['share_instance_id'],
                'snap': snapshot['id']}):
            lv = self._origin_lv(snapshot)
            snap = self._snap_lv(snapshot)
            size = validate.size_gib(
                _get(_get(snapshot, 'share'), 'size') or snapshot['size'],
                'share size')
            info = self._require_lv(lv, _('Share %s')
                                    % snapshot['share_instance_id'])
            self._require_lv(snap, _('Snapshot %s') % snapshot['id'])
            svm = self._svm_of(info, _get(snapshot, 'share'), share_server)
            if svm is None:
                raise exception.ShareBackendException(
                    msg=_('no SVM is known for share %s')
                    % snapshot['share_instance_id'])
            clients, _errors = self._clients(share_access_rules)
            self.exports.unpublish(svm, lv)
            self.pool.revert(lv, snap)
            # The reverted LV is a copy of the snapshot, UUID included:
            # beside the mounted snapshot of a mountable snapshot Ganesha
            # would refuse it (see _own_uuid). Otherwise the UUID is kept,
            # and with it the file handles of the share's clients.
            if self.fs.is_mounted(snap):
                self._own_uuid(lv)
            self._serve(lv, svm, size, clients)

    # ------------------------------------------------------ share servers

    def get_network_allocations_number(self):
        return 1 if self.driver_handles_share_servers else 0

    def _network_from_info(self, network_info):
        """The SVM network of a new share server, from its allocations."""
        conf = self.configuration
        allocations = []
        for entry in network_info or ():
            for alloc in _get(entry, 'network_allocations', []) or ():
                allocations.append((entry, alloc))
        if not allocations:
            raise exception.NetworkBadConfigurationException(
                reason=_('the share server has no network allocation'))
        kinds = set()
        addresses = []
        gateways = {}
        mtus = []
        for entry, alloc in allocations:
            net_type = (_get(alloc, 'network_type') or
                        _get(entry, 'network_type') or 'flat')
            seg = _get(alloc, 'segmentation_id',
                       _get(entry, 'segmentation_id'))
            kinds.add((str(net_type).lower(), seg))
            cidr = _get(alloc, 'cidr') or _get(entry, 'cidr')
            try:
                subnet = ipaddress.ip_network(cidr, strict=False)
                address = ipaddress.ip_address(_get(alloc, 'ip_address'))
            except (TypeError, ValueError) as err:
                raise exception.NetworkBadConfigurationException(
                    reason=_('allocation %(ip)s in %(cidr)s: %(err)s') % {
                        'ip': _get(alloc, 'ip_address'), 'cidr': cidr,
                        'err': err})
            addresses.append('%s/%d' % (address, subnet.prefixlen))
            gateway = _get(alloc, 'gateway')
            if gateway:
                gateways.setdefault(address.version, gateway)
            mtu = _get(alloc, 'mtu')
            if mtu:
                try:
                    mtus.append(validate.integer(mtu, 'MTU', 68, 65535))
                except arca_exception.InvalidInput as err:
                    raise exception.NetworkBadConfigurationException(
                        reason=_('allocation %(ip)s: %(err)s') % {
                            'ip': _get(alloc, 'ip_address'), 'err': err})
        if len(kinds) > 1:
            raise exception.NetworkBadConfigurationException(
                reason=_('the allocations are on different segments %s; '
                         'a share server has one interface') % sorted(
                    kinds, key=str))
        net_type, seg = kinds.pop()
        if net_type not in NETWORK_TYPES:
            raise exception.NetworkBadConfigurationException(
                reason=_('network type %s is not supported (flat and vlan '
                         'are)') % net_type)
        mode = conf.arca_share_server_network_mode
        parent = conf.arca_share_server_parent_interface
        kwargs = {}
        if seg:
            if net_type != 'vlan' or mode != 'vlan':
                raise exception.NetworkBadConfigurationException(
                    reason=_('segmentation id %(seg)s needs a vlan network '
                             'and arca_share_server_network_mode=vlan '
                             '(network type %(type)s, mode %(mode)s)') % {
                        'seg': seg, 'type': net_type, 'mode': mode})
            kwargs = {'parent': parent, 'vlan': seg}
        elif net_type == 'vlan':
            raise exception.NetworkBadConfigurationException(
                reason=_('a vlan network without a segmentation id'))
        elif mode == 'veth':
            mode = 'veth'
            kwargs = {'bridge': conf.arca_share_server_bridge}
        else:
            # Flat: untagged, straight on the parent NIC.
            mode = 'macvlan'
            kwargs = {'parent': parent}
        try:
            return svm_mod.make_network(
                mode, addresses, gateways=[gateways[v]
                                           for v in sorted(gateways)],
                mtu=min(mtus) if mtus else None, **kwargs)
        except arca_exception.InvalidInput as err:
            raise exception.NetworkBadConfigurationException(
                reason=str(err))

    @staticmethod
    def _server_details(svm, network):
        return {'svm_name': svm,
                'svm_network': json.dumps(network._asdict(),
                                          sort_keys=True)}

    def _setup_server(self, network_info, metadata=None):
        server_id = network_info[0]['server_id']
        try:
            svm = self._server_svm_name(server_id)
        except arca_exception.InvalidInput as err:
            raise exception.InvalidShareServer(reason=str(err))
        network = self._network_from_info(network_info)
        details = self._server_details(svm, network)
        try:
            with self._node(_('Creating SVM %(svm)s for share server '
                              '%(server)s') % {'svm': svm,
                                               'server': server_id}):
                LOG.info('Creating SVM %s with addresses %s', svm,
                         ', '.join(network.addresses))
                self.svms.create(svm, network,
                                 owner=SERVER_OWNER % server_id)
        except Exception as err:
            # Keep what the manager needs to tear the leftovers down.
            try:
                self.svms.delete(svm)
            except arca_exception.ArcaError as cleanup_err:
                LOG.warning('Could not remove SVM %s after a failed '
                            'set-up: %s', svm, cleanup_err)
            err.detail_data = {'server_details': details}
            raise
        # Manila shows the identifier; it is what an admin gives to manage
        # the server again after unmanaging it.
        return dict(details, identifier=svm)

    def _teardown_server(self, server_details, security_services=None):
        svm = _get(server_details, 'svm_name')
        if not svm:
            LOG.info('Share server details name no SVM: nothing to tear '
                     'down.')
            return
        with self._node(_('Removing SVM %s') % svm):
            validate.svm_name(svm)
            for export_id in self.svms.export_ids(svm):
                exp = self.svms.get_export(svm, export_id)
                if exp is None:
                    continue
                lv = export.lv_name_of(exp)
                LOG.warning('SVM %(svm)s still exports %(lv)s: removing '
                            'the export (the LV stays).',
                            {'svm': svm, 'lv': lv})
                self.exports.unpublish(svm, lv)
            self.svms.delete(svm)

    @staticmethod
    def _server_owner(record):
        """The share server id an SVM record names as owner, or None."""
        owner = _get(record, 'owner')
        prefix = SERVER_OWNER % ''
        if not isinstance(owner, str) or not owner.startswith(prefix):
            return None
        try:
            return validate.uuid(owner[len(prefix):], 'share server id')
        except arca_exception.InvalidInput:
            return None

    def _managed_svm(self, identifier):
        """An SVM a share server may adopt, and its record.

        Only the SVM of a share server (its record's owner says so) that
        nothing but shares uses: not the SVM of a project or the shared
        SVM of a driver_handles_share_servers=False backend or of a
        Cinder backend, whose exports are meant for that project's or
        backend's clients.
        """
        try:
            if uuidutils.is_uuid_like(identifier):
                # A share server's id, the identifier Manila shows for
                # servers set up before the SVM name was reported.
                svm = self._server_svm_name(identifier)
            else:
                svm = validate.svm_name(identifier)
        except arca_exception.InvalidInput as err:
            raise exception.ManageShareServerError(reason=str(err))
        with self._node(_('Looking up SVM %s') % svm):
            record = self.svms.get(svm)
            if record is None:
                raise exception.ManageShareServerError(
                    reason=_('storage node %(node)s has no SVM %(svm)s') % {
                        'node': self.node_name, 'svm': svm})
            if self._server_owner(record) is None:
                raise exception.ManageShareServerError(
                    reason=_('SVM %(svm)s is not the SVM of a share server '
                             '(its owner is %(owner)s): it belongs to a '
                             'project or backend and is not adopted') % {
                        'svm': svm, 'owner': _get(record, 'owner', '-')})
            others = sorted(
                '%s (%s)' % (info['name'],
                             lvm.parse_tags(info['tags']).get('kind', '?'))
                for info in self.pool.list(tags=lvm.make_tags(svm=svm))
                if lvm.parse_tags(info['tags']).get('kind') not in (
                    KIND_SHARE, KIND_SNAPSHOT))
            if others:
                raise exception.ManageShareServerError(
                    reason=_('SVM %(svm)s serves what is not a share: '
                             '%(lvs)s') % {'svm': svm,
                                           'lvs': ', '.join(others)})
        return svm, record

    def get_share_server_network_info(self, context, share_server,
                                      identifier, driver_options):
        _svm, record = self._managed_svm(identifier)
        return [str(ipaddress.ip_interface(a).ip)
                for a in record['network'].addresses]

    def manage_server(self, context, share_server, identifier,
                      driver_options):
        svm, record = self._managed_svm(identifier)
        return svm, self._server_details(svm, record['network'])

    def unmanage_server(self, server_details, security_services=None):
        # The SVM keeps serving; Manila only forgets it.
        LOG.info('Share server with SVM %s unmanaged; the SVM stays.',
                 _get(server_details, 'svm_name'))

    # ----------------------------------------------------------- manage

    def _manage_ref(self, share, driver_options):
        """The LV name an admin gave to manage a share.

        Driver option ``lv_name``: an LV name. Else the export path, one
        of ``ADDRESS:/LV`` (ADDRESS an IPv4 address or a bracketed IPv6
        one, as in the export locations), ``/LV``, ``LV`` or ``VG/LV``
        with this backend's VG. Anything else (more path components,
        ``..``, another VG, a host name) is refused before any command:
        it is never cut down to a name looked up on the node.
        """
        ref = _get(driver_options, 'lv_name')
        if ref:
            return self._ref_lv(ref, ref)
        locations = _get(share, 'export_locations', []) or []
        if locations:
            ref = _get(locations[0], 'path')
        if not ref:
            raise exception.ManageInvalidShare(
                reason=_('give the export path (ADDRESS:/LV) or '
                         'driver option lv_name'))
        if not isinstance(ref, str):
            raise exception.ManageInvalidShare(
                reason=_('export path %r is not a string') % (ref,))
        text = ref.strip()
        address, sep, name = text.rpartition(':/')
        if sep:
            try:
                if address.startswith('[') and address.endswith(']'):
                    validate.ip_address(address[1:-1], version=6)
                else:
                    validate.ip_address(address, version=4)
            except arca_exception.InvalidInput as err:
                raise exception.ManageInvalidShare(
                    reason=_('export path %(ref)r: %(err)s; give '
                             'ADDRESS:/LV') % {'ref': ref, 'err': err})
            return self._ref_lv(name, ref)
        parts = text.split('/')
        if len(parts) == 2 and parts[0] in ('', self.pool.vg):
            return self._ref_lv(parts[1], ref)
        if len(parts) == 1 and ':' not in text:
            return self._ref_lv(text, ref)
        raise exception.ManageInvalidShare(
            reason=_('export path %(ref)r is not ADDRESS:/LV, /LV, LV or '
                     '%(vg)s/LV') % {'ref': ref, 'vg': self.pool.vg})

    @staticmethod
    def _ref_lv(name, ref):
        try:
            return validate.lv_name(name.strip() if isinstance(name, str)
                                    else name)
        except arca_exception.InvalidInput as err:
            raise exception.ManageInvalidShare(
                reason=_('%(ref)r does not name an LV: %(err)s') % {
                    'ref': ref, 'err': err})

    def _manageable(self, name, kind, error):
        with self._node(_('Looking up %s') % name):
            info = self.pool.get(name)
        reason = backend.unmanageable_reason(self.pool, name, info, kind)
        if reason:
            raise error(reason=reason)
        return info

    def _adopt_snapshots(self, old_id, new_id):
        """Snapshots of a share managed under a new id follow the share.

        An unmanaged snapshot's ``share`` tag names the id its share had
        before (Manila unmanages snapshots before their share), and
        :meth:`_manage_snapshot` only takes snapshots of the share given.
        """
        new_id = validate.uuid(new_id)
        if not old_id or old_id == new_id:
            return
        old_tag = lvm.make_tags(share=old_id)
        for info in self.pool.list(tags=lvm.make_tags(kind=KIND_SNAPSHOT) +
                                   old_tag):
            self.pool.remove_tags(info['name'], old_tag)
            self.pool.add_tags(info['name'], lvm.make_tags(share=new_id))

    def _manage(self, share, driver_options, share_server):
        self._check_proto(share)
        name = self._manage_ref(share, driver_options)
        try:
            lv = self._share_lv(share)
        except arca_exception.InvalidInput as err:
            raise exception.ManageInvalidShare(reason=str(err))
        info = self._manageable(name, KIND_SHARE, exception.ManageInvalidShare)
        fields = lvm.parse_tags(info['tags'])
        if fields.get('svm') and name != lv:
            raise exception.ManageInvalidShare(
                reason=_('%(lv)s is still served by SVM %(svm)s (a share '
                         'of another backend or not unmanaged?)') % {
                    'lv': name, 'svm': fields['svm']})
        wanted = _get(driver_options, 'size')
        with self._node(_('Managing LV %(lv)s as share %(share)s') % {
                'lv': name, 'share': share['id']}):
            svm = self._svm_for(share, share_server)
            if fields.get('svm'):
                self.exports.unpublish(validate.svm_name(fields['svm']),
                                       name)
            else:
                self.exports.unmount(name)
            try:
                self.exports.mount(name, options=SHARE_MOUNT)
            except arca_exception.CommandFailed as err:
                raise exception.ManageInvalidShare(
                    reason=_('cannot mount %(lv)s as XFS: %(err)s') % {
                        'lv': name, 'err': err})
            self.quota.enable(name)
            used = self.quota.used(name)
            if wanted is not None:
                try:
                    size = validate.size_gib(wanted, 'driver option size')
                except arca_exception.InvalidInput as err:
                    raise exception.ManageInvalidShare(reason=str(err))
                if size * GiB < used:
                    raise exception.ManageInvalidShare(
                        reason=_('it holds %(used)d bytes, more than the '
                                 'size %(size)d GiB asked for') % {
                            'used': used, 'size': size})
            else:
                size = max(self._size_for_lv(info['size_bytes']),
                           backend.gib_up(used))
            if name != lv:
                self.exports.unmount(name)
                self.pool.rename(name, lv)
            # Before the LV's own id changes, so that a retry still finds
            # the snapshots to carry over.
            self._adopt_snapshots(fields.get('id'), share['id'])
            self.pool.replace_tags(lv, self.pool.get(lv),
                                   self._share_tags(share, svm))
            self.pool.extend(lv, self._lv_gib(size))
            self._ensure_svm(svm, share, share_server)
            self._serve(lv, svm, size)
            locations = self._locations(svm, lv)
            old_svm = fields.get('svm')
            if old_svm and old_svm != svm:
                self._release(old_svm)
        return {'size': size, 'export_locations': locations}

    def manage_existing(self, share, driver_options):
        return self._manage(share, driver_options, None)

    def manage_existing_with_server(self, share, driver_options,
                                    share_server=None):
        return self._manage(share, driver_options, share_server)

    def _unmanage(self, share, share_server):
        with self._node(_('Unmanaging share %s') % share['id']):
            lv = self._share_lv(share)
            info = self.pool.get(lv)
            svm = self._svm_of(info, share, share_server)
            if svm:
                self.exports.unpublish(svm, lv)
            if info is not None and svm:
                self.pool.remove_tags(lv, lvm.make_tags(svm=svm))
            self._release(svm)

    def unmanage(self, share):
        self._unmanage(share, None)

    def unmanage_with_server(self, share, share_server=None):
        self._unmanage(share, share_server)

    def _manage_snapshot(self, snapshot, driver_options):
        ref = (_get(driver_options, 'lv_name') or
               _get(snapshot, 'provider_location'))
        try:
            name = validate.lv_name(str(ref).strip() if ref else ref)
        except arca_exception.InvalidInput as err:
            raise exception.ManageInvalidShareSnapshot(reason=str(err))
        try:
            share_id = validate.uuid(snapshot['share_instance_id'],
                                     'share id')
            origin = self._origin_lv(snapshot)
            new = self._snap_lv(snapshot)
        except arca_exception.InvalidInput as err:
            raise exception.ManageInvalidShareSnapshot(reason=str(err))
        info = self._manageable(name, KIND_SNAPSHOT,
                                exception.ManageInvalidShareSnapshot)
        fields = lvm.parse_tags(info['tags'])
        if fields.get('share') not in (None, share_id):
            raise exception.ManageInvalidShareSnapshot(
                reason=_('%(lv)s is a snapshot of share %(share)s') % {
                    'lv': name, 'share': fields['share']})
        if fields.get('share') is None and info['origin'] != origin:
            raise exception.ManageInvalidShareSnapshot(
                reason=_('%(lv)s is not a snapshot of %(origin)s') % {
                    'lv': name, 'origin': origin})
        with self._node(_('Managing LV %(lv)s as snapshot %(snap)s') % {
                'lv': name, 'snap': snapshot['id']}):
            share_info = self._require_lv(origin, _('Share %s') % share_id)
            share_fields = lvm.parse_tags(share_info['tags'])
            svm = share_fields.get('svm')
            if fields.get('svm'):
                self.exports.unpublish(validate.svm_name(fields['svm']),
                                       name)
            elif name != new:
                self.exports.unmount(name)
            if name != new:
                self.pool.rename(name, new)
            size = fields.get('size', '')
            size = (int(size) if size.isdigit() and int(size) > 0
                    else self._snapshot_size(snapshot))
            tags = lvm.make_tags(
                kind=KIND_SNAPSHOT, id=validate.uuid(snapshot['id']),
                share=share_id, project=share_fields.get('project'),
                svm=svm, size=size)
            self.pool.replace_tags(new, self.pool.get(new), tags)
            result = {'size': size, 'provider_location': new}
            if self._mountable(snapshot) and svm:
                svm = validate.svm_name(svm)
                self._own_uuid(new)
                self._publish_snapshot(svm, new)
                result['export_locations'] = self._locations(svm, new)
        return result

    def manage_existing_snapshot(self, snapshot, driver_options):
        return self._manage_snapshot(snapshot, driver_options)

    def manage_existing_snapshot_with_server(self, snapshot, driver_options,
                                             share_server=None):
        return self._manage_snapshot(snapshot, driver_options)

    def _unmanage_snapshot(self, snapshot):
        with self._node(_('Unmanaging snapshot %s') % snapshot['id']):
            name = self._snap_lv(snapshot)
            info = self.pool.get(name)
            if info is None:
                return
            svm = lvm.parse_tags(info['tags']).get('svm')
            if svm:
                self.exports.unpublish(validate.svm_name(svm), name)
                self.pool.remove_tags(name, lvm.make_tags(svm=svm))
            else:
                self.exports.unmount(name)

    def unmanage_snapshot(self, snapshot):
        self._unmanage_snapshot(snapshot)

    def unmanage_snapshot_with_server(self, snapshot, share_server=None):
        self._unmanage_snapshot(snapshot)

    # ---------------------------------------------------------- restart

    def get_backend_info(self, context):
        conf = self.configuration
        info = {
            'driver_version': self.VERSION,
            'node': self.node_name,
            'thin_pool': '%s/%s' % (conf.arca_volume_group,
                                    conf.arca_thin_pool),
            'dhss': str(self.driver_handles_share_servers),
            'svm_prefix': conf.arca_svm_name_prefix,
            'share_mount': ','.join(SHARE_MOUNT),
            'snapshot_mount': ','.join(SNAPSHOT_MOUNT),
        }
        if not self.driver_handles_share_servers:
            info['svm_mapping'] = conf.arca_svm_mapping
            info['shared_svm'] = conf.arca_shared_svm_name
        return info

    def _ensure_share(self, share, ensured):
        lv = self._share_lv(share)
        info = self.pool.get(lv)
        if info is None:
            raise exception.ShareResourceNotFound(share_id=share['id'])
        share_server = _get(share, 'share_server')
        svm = self._svm_of(info, share, share_server)
        if svm is None:
            raise exception.ShareBackendException(
                msg=_('no SVM is known for share %s') % share['id'])
        if svm not in ensured:
            self._ensure_svm(svm, share, share_server)
            ensured.add(svm)
        current = self.exports.find(svm, lv)
        clients = current.clients if current is not None else ()
        self.exports.publish(svm, lv, clients=clients,
                             mount_options=SHARE_MOUNT)
        return self._locations(svm, lv)

    def ensure_shares(self, context, shares):
        updates = {}
        ensured = set()
        for share in shares:
            try:
                with self._node(_('Ensuring share %s') % share['id']):
                    locations = self._ensure_share(share, ensured)
            except Exception as err:
                LOG.error('Share %(share)s could not be ensured: %(err)s',
                          {'share': share['id'], 'err': err})
                updates[share['id']] = {
                    'status': constants.STATUS_ERROR,
                    'reapply_access_rules': False}
                continue
            updates[share['id']] = {
                'export_locations': locations,
                'status': constants.STATUS_AVAILABLE,
                'reapply_access_rules': True}
        return updates

    # ------------------------------------------------------------ stats

    def get_configured_ip_versions(self):
        if self.driver_handles_share_servers:
            return [4, 6]
        settings = self.svm_pools.settings
        versions = set(s.network.version for p in settings.pools
                       for s in p.subnets)
        if not versions:
            try:
                record = self.svms.get(settings.shared_name)
            except arca_exception.ArcaError as err:
                LOG.warning('Cannot read SVM %s: %s', settings.shared_name,
                            err)
                record = None
            if record is not None:
                versions = set(ipaddress.ip_interface(a).version
                               for a in record['network'].addresses)
        return sorted(versions) or [4]

    def _update_share_stats(self, data=None):
        conf = self.configuration
        with self._node(_('Reading the thin pool')):
            cap = self.pool.capacity()
        pool = {
            'pool_name': conf.arca_thin_pool,
            'total_capacity_gb': round(cap['total_bytes'] / float(GiB), 2),
            'free_capacity_gb': round(cap['free_bytes'] / float(GiB), 2),
            'provisioned_capacity_gb': round(
                cap['provisioned_bytes'] / float(GiB), 2),
            'allocated_capacity_gb': round(cap['used_bytes'] / float(GiB),
                                           2),
            'reserved_percentage': conf.reserved_share_percentage,
            'reserved_snapshot_percentage': (
                conf.reserved_share_from_snapshot_percentage),
            'reserved_share_extend_percentage': (
                conf.reserved_share_extend_percentage),
            'max_over_subscription_ratio': conf.max_over_subscription_ratio,
            'thin_provisioning': True,
            'dedupe': False,
            'compression': False,
            'qos': False,
            'snapshot_support': True,
            'create_share_from_snapshot_support': True,
            'revert_to_snapshot_support': True,
            'mount_snapshot_support': True,
        }
        pool.update(self.mirror_report.capabilities(cap))
        stats = {
            'share_backend_name': (conf.safe_get('share_backend_name') or
                                   'ArcaNFS'),
            'vendor_name': self.VENDOR,
            'driver_version': self.VERSION,
            'storage_protocol': 'NFS',
            'snapshot_support': True,
            'create_share_from_snapshot_support': True,
            'revert_to_snapshot_support': True,
            'mount_snapshot_support': True,
            'pools': [pool],
        }
        stats.update(data or {})
        super()._update_share_stats(stats)

    def update_share_usage_size(self, context, shares):
        updates = []
        now = timeutils.utcnow()
        for share in shares or ():
            try:
                lv = self._share_lv(share)
                used = self.quota.used(lv)
            except arca_exception.NotFound:
                continue
            except arca_exception.ArcaError as err:
                LOG.warning('Cannot read the usage of share %(share)s: '
                            '%(err)s', {'share': share['id'], 'err': err})
                continue
            updates.append({'id': share['id'],
                            'used_size': round(used / float(GiB), 6),
                            'gathered_at': now})
        return updates
