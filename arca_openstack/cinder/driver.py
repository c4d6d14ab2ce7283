"""Cinder volume driver for Arca Storage.

A volume is a thin LV named ``vol-<id>`` holding an XFS filesystem with
one sparse raw file, ``volume.raw``, of exactly the volume's size. The LV
is mounted on the storage node and exported over NFS v4.2 by the SVM of
the volume's project; the export admits no client until an attach adds
the connector's address. Snapshots (``snap-<id>``), clones and volumes
from snapshots are thin LV snapshots: constant time whatever the size.

What exists on the node is the record: LV tags (``arca.kind``,
``arca.id``, ``arca.project``, ``arca.svm``), SVM records and Ganesha
export files. The driver keeps no state of its own.
"""

import contextlib
import hashlib
import ipaddress
import os

from cinder.common import constants
from cinder import context as cinder_context
from cinder import exception
from cinder.i18n import _
from cinder import interface
from cinder import objects
from cinder import utils
from cinder.volume import driver
from cinder.volume import volume_utils
from oslo_log import log as logging

from arca_openstack import backend
from arca_openstack.cinder import opts
from arca_openstack import exception as arca_exception
from arca_openstack.node import export
from arca_openstack.node import lvm
from arca_openstack.node import rawfile
from arca_openstack.node import validate
from arca_openstack import svm_pools
from arca_openstack.wire import connection
from arca_openstack.wire import remote

LOG = logging.getLogger(__name__)

GiB = lvm.GiB
VOLUME_PREFIX = 'vol-'
SNAPSHOT_PREFIX = 'snap-'
KIND_VOLUME = 'volume'
KIND_SNAPSHOT = 'snapshot'
NFS_OPTIONS = '-o vers=4.2'
SVM_TAG = lvm.TAG_PREFIX + 'svm='
PROJECT_TAG = lvm.TAG_PREFIX + 'project='
# On a volume's LV while its export moves to another SVM: the SVM it
# leaves, released once the move is done.
MOVED_FROM_TAG = lvm.TAG_PREFIX + 'moved_from='


def connector_address(connector):
    """The one host address of a connector, validated.

    The single rule for every client address the driver writes into an
    export, whether it comes from an attach (initialize_connection) or
    from Cinder's attachment records (ensure_export): exactly one unicast
    host address, never a network such as ``0.0.0.0/0``.

    :raises: InvalidConnectorException
    """
    if not connector or not connector.get('ip'):
        raise exception.InvalidConnectorException(missing='ip')
    try:
        return validate.ip_address(connector['ip'])
    except arca_exception.InvalidInput as err:
        raise exception.InvalidConnectorException(
            missing=_('a valid ip (%s)') % err)


def _tagged(info, prefix):
    """Values of the LV's tags starting with ``prefix``, in order."""
    return [tag[len(prefix):] for tag in (info or {}).get('tags', ())
            if tag.startswith(prefix)]


@interface.volumedriver
class ArcaNFSDriver(driver.ManageableVD, driver.ManageableSnapshotsVD,
                    driver.BaseVD):
    """Arca Storage: thin LV + XFS + raw file per volume, NFS v4.2 per SVM.

    Version history:
        1.0.0 - First version: volumes, snapshots, clones, revert, online
                extend, images, manage/unmanage, per-project SVMs.
    """

    VERSION = '1.0.0'
    CI_WIKI_NAME = 'Arca_Storage_CI'
    VENDOR = 'Arca Storage'
    SUPPORTS_ACTIVE_ACTIVE = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(opts.volume_opts)
        self.configuration.append_config_values(opts.svm_opts)
        self.configuration.append_config_values(connection.node_opts)
        # Set before do_setup to drive the node differently: node_client
        # (an agent client), or executor (the agent's operations run in
        # this process with it, as the unit tests do).
        self.executor = None
        self.node_client = None
        self._ensured_svms = set()

    @staticmethod
    def get_driver_options():
        return opts.all_opts()

    # ------------------------------------------------------------ set-up

    @contextlib.contextmanager
    def _setup_check(self):
        """Turn failed start-up checks into Cinder exceptions."""
        try:
            yield
        except backend.SetupError as err:
            raise exception.InvalidConfigurationValue(message=str(err))
        except backend.NodeCheckFailed as err:
            raise exception.VolumeBackendAPIException(data=str(err))

    def do_setup(self, context):
        conf = self.configuration
        with self._setup_check():
            backend.check_names(conf)
        try:
            settings = svm_pools.settings_from_conf(conf)
        except svm_pools.PoolConfigError as err:
            raise exception.InvalidConfigurationValue(message=str(err))
        self.headroom = conf.arca_fs_headroom_gib
        self.mount_point_base = conf.arca_mount_point_base
        self.node_name = conf.arca_node_address or 'localhost'
        self.mirror_report = backend.MirrorReport(
            '%s/%s' % (conf.arca_volume_group, conf.arca_thin_pool),
            self.node_name)
        if self.node_client is None:
            self.node_client = connection.make_client(
                conf, utils.get_root_helper(), executor=self.executor)
        self.node = connection.make_node(conf, self.node_client, settings,
                                         conf.arca_address_pools)
        self.pool = self.node.pool
        self.fs = self.node.fs
        self.exports = self.node.exports
        self.svms = self.node.svms
        self.raw = self.node.raw
        self.svm_pools = self.node.svm_pools

    def check_for_setup_error(self):
        with self._setup_check():
            backend.check_node(self.node, self.configuration,
                               self.node_name)
            backend.check_pool_links(self.node, self.svm_pools.settings,
                                     self.node_name)

    # ---------------------------------------------------------- helpers

    @contextlib.contextmanager
    def _node(self, action, busy_name=None):
        """Turn node library errors into Cinder exceptions."""
        try:
            yield
        except exception.CinderException:
            raise
        except arca_exception.InvalidInput as err:
            raise exception.InvalidInput(reason=_('%(action)s: %(err)s') % {
                'action': action, 'err': err})
        except arca_exception.InUse as err:
            if busy_name:
                raise exception.VolumeIsBusy(
                    message=_('%(action)s: %(err)s') % {'action': action,
                                                        'err': err},
                    volume_name=busy_name)
            raise exception.VolumeBackendAPIException(
                data=_('%(action)s: %(err)s') % {'action': action,
                                                 'err': err})
        except arca_exception.ArcaError as err:
            raise exception.VolumeBackendAPIException(
                data=backend.describe(action, err, self.node_name))

    @staticmethod
    def _lv(volume):
        return VOLUME_PREFIX + validate.uuid(volume.name_id, 'volume id')

    @staticmethod
    def _snap_lv(snapshot):
        return SNAPSHOT_PREFIX + validate.uuid(snapshot.id, 'snapshot id')

    def _lv_size(self, size_gib):
        return validate.size_gib(size_gib, 'volume size') + self.headroom

    def _volume_tags(self, volume):
        return lvm.make_tags(
            kind=KIND_VOLUME, id=validate.uuid(volume.name_id),
            project=svm_pools.project_key(volume.project_id),
            svm=self.svm_pools.svm_name(volume.project_id))

    def _svms_of(self, volume, info=None):
        """The SVMs a volume's LV is tagged with, else its project's.

        One, except after a move between SVMs was interrupted (see
        :meth:`_move_export`): then the project's SVM comes first.
        """
        if info is None:
            info = self.pool.get(self._lv(volume))
        own = self.svm_pools.svm_name(volume.project_id)
        names = [validate.svm_name(n) for n in _tagged(info, SVM_TAG)]
        if not names:
            return [own]
        names = list(dict.fromkeys(names))
        if own in names:
            names.remove(own)
            names.insert(0, own)
        return names

    def _svm_of(self, volume, info=None):
        """The SVM serving a volume: its LV's tag, else its project's."""
        return self._svms_of(volume, info)[0]

    def _require_lv(self, name, what):
        info = self.pool.get(name)
        if info is None:
            raise exception.VolumeBackendAPIException(
                data=_('%(what)s has no logical volume %(vg)s/%(lv)s on '
                       'storage node %(node)s') % {
                    'what': what, 'vg': self.pool.vg, 'lv': name,
                    'node': self.node_name})
        return info

    def _svm_record(self, svm):
        record = self.svms.get(svm)
        if record is None:
            raise exception.VolumeBackendAPIException(
                data=_('SVM %(svm)s has no record on storage node '
                       '%(node)s') % {'svm': svm, 'node': self.node_name})
        return record

    def _location(self, svm, lv, version=None, record=None):
        """NFS location of the LV's export.

        :param record: the SVM's record, if read in this operation.
        """
        if record is None or record.get('name') != svm:
            record = self._svm_record(svm)
        address = svm_pools.address_of(record, version)
        return '%s:%s' % (svm_pools.nfs_host(address),
                          export.pseudo_path(lv))

    def _ensure_svm(self, project_id, check_running=True):
        return self.svm_pools.ensure_svm(project_id,
                                         check_running=check_running)

    def _ensure_new_svm(self, project_id):
        """The SVM of a new volume: made if missing, its record returned.

        Whether its Ganesha runs is not looked at here: an export added
        while it is down waits in its files, and create_export, which
        Cinder calls before every attach, rebuilds the SVM.
        """
        return self._ensure_svm(project_id, check_running=False)

    def _publish_new(self, volume, lv, svm, size_gib, info=None,
                     mounted=False):
        """Serve a freshly made or cloned LV: SVM, mount, export, file.

        :param info: the LV as the pool gave it in this operation.
        :param mounted: the LV was mounted in this operation.
        """
        record = self._ensure_new_svm(volume.project_id)
        self.exports.publish(svm, lv, clients=(), info=info,
                             mounted=mounted)
        # Mounted in this operation (by publish() or the caller).
        self.fs.grow(lv, mounted=True)
        self.raw.grow(lv, size_gib * GiB)
        return {'provider_location': self._location(svm, lv, record=record)}

    def _cleanup(self, lv, svm):
        """Best-effort removal of a half-made volume."""
        try:
            self.exports.unpublish(svm, lv)
            self.pool.remove(lv)
            self.svm_pools.release_if_unused(svm)
        except arca_exception.ArcaError as err:
            LOG.warning('Could not clean up %s after a failure: %s', lv,
                        err)

    # ---------------------------------------------------------- volumes

    def create_volume(self, volume):
        with self._node(_('Creating volume %s') % volume.id):
            lv = self._lv(volume)
            size = validate.size_gib(volume.size, 'volume size')
            svm = self.svm_pools.svm_name(volume.project_id)
            # The LV first: its svm tag keeps a concurrent delete from
            # removing the SVM between ensure_svm and publish.
            self.pool.create(lv, self._lv_size(size),
                             tags=self._volume_tags(volume))
            try:
                record = self._ensure_new_svm(volume.project_id)
                # XFS, mount, image file and export, in one request.
                self.exports.format_and_publish(svm, lv, clients=(),
                                                image_bytes=size * GiB)
                return {'provider_location': self._location(
                    svm, lv, record=record)}
            except Exception:
                self._cleanup(lv, svm)
                raise

    def _clone(self, volume, origin):
        """Make ``volume`` a thin snapshot of LV ``origin``, and serve it.

        Consistent even if ``origin`` is mounted and in use: see
        :meth:`create_snapshot`.
        """
        lv = self._lv(volume)
        size = validate.size_gib(volume.size, 'volume size')
        svm = self.svm_pools.svm_name(volume.project_id)
        tags = self._volume_tags(volume)
        try:
            # Snapshot, growth and mount in one request. The origin's XFS
            # is mounted (or was, when it was snapshotted): the copy needs
            # its log replayed and its own UUID on the way to its mount.
            info = self.exports.clone(origin, lv, self._lv_size(size),
                                      tags=tags)
        except (arca_exception.NotFound, arca_exception.Conflict):
            # No origin, or the name is taken by something else: nothing
            # of this call to clean up.
            raise
        except Exception:
            self._cleanup(lv, svm)
            raise
        try:
            return self._publish_new(volume, lv, svm, size, info,
                                     mounted=True)
        except Exception:
            self._cleanup(lv, svm)
            raise

    def create_cloned_volume(self, volume, src_vref):
        with self._node(_('Cloning volume %(src)s to %(dst)s') % {
                'src': src_vref.id, 'dst': volume.id}):
            src = self._lv(src_vref)
            return self._clone(volume, src)

    def create_volume_from_snapshot(self, volume, snapshot):
        with self._node(_('Creating volume %(vol)s from snapshot %(snap)s')
                        % {'vol': volume.id, 'snap': snapshot.id}):
            return self._clone(volume, self._snap_lv(snapshot))

    def _withdraw(self, volume, lv, info):
        """Withdraw the volume's exports and unmount it; its SVMs.

        One SVM, or two after an interrupted move: every export goes.
        """
        svms = self._svms_of(volume, info)
        for svm in svms:
            self.exports.unpublish(svm, lv, unmount=False)
        self.exports.unmount(lv)
        return svms

    def delete_volume(self, volume):
        with self._node(_('Deleting volume %s') % volume.id,
                        busy_name=volume.name):
            lv = self._lv(volume)
            info = self.pool.get(lv)
            svms = self._withdraw(volume, lv, info)
            if info is None:
                LOG.info('Volume %s has no LV %s: nothing to delete.',
                         volume.id, lv)
            else:
                self.pool.remove(lv, info=info)
            for svm in svms:
                self.svm_pools.release_if_unused(svm)

    def extend_volume(self, volume, new_size):
        with self._node(_('Extending volume %s') % volume.id):
            lv = self._lv(volume)
            new_size = validate.size_gib(new_size, 'new size')
            info = self._require_lv(lv, _('Volume %s') % volume.id)
            self.pool.extend(lv, self._lv_size(new_size))
            self.exports.mount(lv, info=info)
            self.fs.grow(lv, mounted=True)
            self.raw.grow(lv, new_size * GiB)

    # -------------------------------------------------------- snapshots

    def create_snapshot(self, snapshot):
        with self._node(_('Creating snapshot %s') % snapshot.id):
            origin = self._lv(snapshot.volume)
            name = self._snap_lv(snapshot)
            tags = lvm.make_tags(
                kind=KIND_SNAPSHOT, id=validate.uuid(snapshot.id),
                volume=validate.uuid(snapshot.volume.name_id),
                size=validate.size_gib(snapshot.volume_size))
            # No xfs_freeze around it: device-mapper suspends the origin
            # with lockfs, which flushes and freezes the mounted XFS for the
            # instant of the snapshot (a filesystem frozen by hand makes
            # that suspend fail with EBUSY, seen on kernel 6.1). Project and
            # SVM come from the origin's tags, read in the same look-up.
            self.pool.snapshot(origin, name, tags=tags,
                               inherit=('project', 'svm'))

    def delete_snapshot(self, snapshot):
        with self._node(_('Deleting snapshot %s') % snapshot.id,
                        busy_name=snapshot.name):
            self.pool.remove(self._snap_lv(snapshot))

    def revert_to_snapshot(self, context, volume, snapshot):
        with self._node(_('Reverting volume %(vol)s to snapshot %(snap)s')
                        % {'vol': volume.id, 'snap': snapshot.id},
                        busy_name=volume.name):
            lv = self._lv(volume)
            snap = self._snap_lv(snapshot)
            size = validate.size_gib(volume.size, 'volume size')
            info = self._require_lv(lv, _('Volume %s') % volume.id)
            self._require_lv(snap, _('Snapshot %s') % snapshot.id)
            svm = self._svm_of(volume, info)
            current = self.exports.find(svm, lv)
            clients = current.clients if current is not None else ()
            self.exports.unpublish(svm, lv)
            self.pool.revert(lv, snap)
            self.fs.regenerate_uuid(lv)
            self.exports.publish(svm, lv, clients=clients)
            self.fs.grow(lv)
            self.raw.grow(lv, size * GiB)

    # ---------------------------------------------------------- exports

    def _attached_clients(self, volume):
        """Addresses of the hosts Cinder records the volume attached to."""
        clients = []
        for att in getattr(volume, 'volume_attachment', None) or ():
            if getattr(att, 'attach_status', None) != 'attached':
                continue
            connector = getattr(att, 'connector', None) or {}
            try:
                # The rule of initialize_connection: one host address.
                ip = connector_address(connector)
            except exception.InvalidConnectorException as err:
                LOG.warning('Volume %(vol)s: an attachment is not '
                            'restored into its export: %(err)s', {
                                'vol': volume.id, 'err': err})
                continue
            if (ip, 'rw') not in clients:
                clients.append((ip, 'rw'))
        return clients

    def _ensure_published(self, volume, clients):
        """The volume's SVM serves and its export exists (idempotent).

        A volume whose project changed (a transfer) is first moved to its
        new project's SVM (see :meth:`_move_export`).

        :param clients: function of the export's current client rules
            (None if it has no export) giving the clients it should have.
        :returns: (LV name, SVM name, SVM record if read, else None,
            whether the export moved to another SVM).
        """
        lv = self._lv(volume)
        info = self._require_lv(lv, _('Volume %s') % volume.id)
        if self._owner_changed(volume, info):
            svm, record = self._move_export(volume, lv, info, clients)
            return lv, svm, record, True
        svm = self._svm_of(volume, info)
        record = None
        if svm not in self._ensured_svms:
            record = self.svms.get(svm)
            if record is None:
                record = self._ensure_svm(volume.project_id)
            elif not self.svms.running(svm):
                LOG.info('Rebuilding SVM %s and its exports.', svm)
                self.svms.ensure(svm)
            self._ensured_svms.add(svm)
        self.exports.publish(svm, lv, clients=clients, info=info)
        return lv, svm, record, False

    def _owner_changed(self, volume, info):
        """The LV's tags name another project or SVM than the volume's.

        That is the state a volume transfer leaves: Cinder changed the
        volume's project, the node still serves it for the old one (or a
        move to the new one was interrupted). An LV with no SVM tag (made
        before tags) is served by its project's SVM anyway.
        """
        svms = _tagged(info, SVM_TAG)
        if not svms:
            return False
        key = svm_pools.project_key(volume.project_id)
        return (svms != [self.svm_pools.svm_name(volume.project_id)] or
                _tagged(info, PROJECT_TAG) != [key] or
                bool(_tagged(info, MOVED_FROM_TAG)))

    def _move_export(self, volume, lv, info, clients):
        """Serve the volume from its project's SVM, no longer the old one.

        Only the export moves: the LV, its mount and its data stay. Each
        step leaves a state the next call (create_export, ensure_export,
        initialize_connection) recognises by the LV's tags and finishes:

        1. tag the LV with the new SVM too, which keeps that SVM from
           being removed (release_if_unused) while it is made and filled,
           and with ``arca.moved_from`` = each old SVM, which remembers
           what to release;
        2. close the old export to every client: the old owner's hosts
           lose it first;
        3. publish on the new SVM with the new owner's clients only
           (those ``clients`` gives a new export: never the old rules);
        4. withdraw the old export (the mount stays);
        5. retag the volume's snapshots, then the volume (the old SVM and
           project tags go);
        6. remove each old SVM if nothing uses it any more, then the
           ``arca.moved_from`` tags: the move is done.

        The export is never lost (it exists on the old SVM until it
        exists on the new one), and the new SVM never admits a host
        because the old export did.

        :returns: (the new SVM's name, its record).
        """
        new = self.svm_pools.svm_name(volume.project_id)
        serving = [n for n in self._svms_of(volume, info) if n != new]
        old = list(dict.fromkeys(serving + [
            validate.svm_name(n) for n in _tagged(info, MOVED_FROM_TAG)]))
        LOG.info('Volume %(vol)s belongs to project %(project)s: moving '
                 'its export from SVM %(old)s to SVM %(new)s.', {
                     'vol': volume.id, 'project': volume.project_id,
                     'old': ', '.join(old) or '-', 'new': new})
        attached = self._attached_clients(volume)
        if serving and attached:
            LOG.warning('Volume %(vol)s is attached to %(hosts)s through '
                        'SVM %(old)s, which served it before its transfer; '
                        'they reach it at SVM %(svm)s only once they attach '
                        'it again.', {
                            'vol': volume.id, 'old': ', '.join(serving),
                            'svm': new,
                            'hosts': ', '.join(a for a, _rw in attached)})
        # The new export's clients: the hosts Cinder records attached
        # (the new owner's: a transfer needs a detached volume) and those
        # this call admits; never a rule of the old export.
        fresh = list(attached)
        for rule in remote.new_export_clients(clients):
            if tuple(rule) not in fresh:
                fresh.append(tuple(rule))
        moved_from = [MOVED_FROM_TAG + n for n in old]
        marks = [SVM_TAG + new] + moved_from
        if any(t not in info['tags'] for t in marks):
            self.pool.add_tags(lv, marks)
        tags = list(dict.fromkeys(info['tags'] + marks))
        record = self._ensure_svm(volume.project_id)
        self._ensured_svms.add(new)
        for name in serving:
            self.exports.set_clients(name, lv, [], missing_ok=True)
        self.exports.publish(new, lv, clients=fresh, info=info)
        for name in serving:
            self.exports.unpublish(name, lv, unmount=False)
        self._retag_snapshots(volume, new)
        self.pool.replace_tags(lv, dict(info, tags=tags),
                               self._volume_tags(volume) + moved_from)
        for name in old:
            self.svm_pools.release_if_unused(name)
        if moved_from:
            self.pool.remove_tags(lv, moved_from)
        return new, record

    def _retag_snapshots(self, volume, svm):
        """The volume's snapshots follow it to SVM ``svm`` and its project.

        They are not exported, but their SVM tag keeps an SVM in use.
        """
        key = svm_pools.project_key(volume.project_id)
        for snap in self.pool.list(tags=lvm.make_tags(
                volume=validate.uuid(volume.name_id))):
            if lvm.parse_tags(snap['tags']).get('kind') == KIND_SNAPSHOT:
                self.pool.update_tags(snap['name'], snap, project=key,
                                      svm=svm)

    def _republish(self, volume):
        """Export the volume; a new export admits the attached hosts."""
        attached = self._attached_clients(volume)
        return self._ensure_published(volume, remote.keep_or(attached))

    def ensure_export(self, context, volume):
        with self._node(_('Re-exporting volume %s') % volume.id):
            lv, svm, record, moved = self._republish(volume)
            if moved:
                return {'provider_location': self._location(
                    svm, lv, record=record)}
        return None

    def create_export(self, context, volume, connector):
        with self._node(_('Exporting volume %s') % volume.id):
            # Forget earlier checks: an attach after a node restart must
            # find its SVM running again.
            self._ensured_svms.clear()
            lv, svm, record, _moved = self._republish(volume)
            # Saved by Cinder: the volume's location after a move.
            location = self._location(svm, lv, record=record)
        if location != volume.provider_location:
            return {'provider_location': location}
        return None

    def remove_export(self, context, volume):
        # The export stays (closed to everyone but attached hosts); it
        # goes with the volume.
        pass

    def create_export_snapshot(self, context, snapshot, connector):
        raise NotImplementedError()

    def remove_export_snapshot(self, context, snapshot):
        raise NotImplementedError()

    def validate_connector(self, connector):
        self._connector_ip(connector)

    @staticmethod
    def _connector_ip(connector):
        return connector_address(connector)

    def initialize_connection(self, volume, connector, **kwargs):
        ip = self._connector_ip(connector)
        with self._node(_('Attaching volume %(vol)s to %(ip)s') % {
                'vol': volume.id, 'ip': ip}):
            lv, svm, record, _moved = self._ensure_published(
                volume, remote.admit(ip))
            location = self._location(
                svm, lv, ipaddress.ip_address(ip).version, record=record)
        return {
            'driver_volume_type': 'nfs',
            'data': {
                'export': location,
                'name': rawfile.FILE_NAME,
                'options': NFS_OPTIONS,
                'format': 'raw',
                'access_mode': 'rw',
            },
            'mount_point_base': self.mount_point_base,
        }

    def _still_attached_from(self, volume, connector, ip):
        """Other attachments of this volume from the same host remain."""
        count = 0
        for att in getattr(volume, 'volume_attachment', None) or ():
            if getattr(att, 'attach_status', None) != 'attached':
                continue
            other = getattr(att, 'connector', None) or {}
            if (other.get('ip') == ip or (
                    connector.get('host') and
                    getattr(att, 'attached_host', None) ==
                    connector.get('host'))):
                count += 1
        return count > 1

    def terminate_connection(self, volume, connector, **kwargs):
        ip = None
        if connector is not None:
            ip = self._connector_ip(connector)
            if volume.multiattach and self._still_attached_from(
                    volume, connector, ip):
                LOG.info('Volume %s stays open to %s: another attachment '
                         'on that host remains.', volume.id, ip)
                return
        with self._node(_('Detaching volume %s') % volume.id):
            lv = self._lv(volume)
            info = self.pool.get(lv)
            if info is None:
                LOG.warning('Volume %s has no LV %s: nothing to detach.',
                            volume.id, lv)
                return
            for svm in self._svms_of(volume, info):
                # No connector (ip None): every client goes.
                self.exports.set_clients(svm, lv, remote.drop(ip),
                                         missing_ok=True)

    # ----------------------------------------------------------- images

    def copy_image_to_volume(self, context, volume, image_service, image_id,
                             disable_sparse=False):
        super().copy_image_to_volume(context, volume, image_service,
                                     image_id, disable_sparse=disable_sparse)
        # Writing the image left the file at the image's size.
        with self._node(_('Sizing volume %s after the image copy')
                        % volume.id):
            lv = self._lv(volume)
            self.exports.mount(lv)
            self.raw.grow(lv, validate.size_gib(volume.size) * GiB)

    def _detach_volume(self, context, attach_info, volume, properties,
                       force=False, remote=False, ignore_errors=False):
        # os-brick never unmounts NFS: remove cinder-volume's own mount
        # before the export closes.
        if attach_info and not remote:
            self._unmount_local(attach_info.get('conn') or {})
        return super()._detach_volume(context, attach_info, volume,
                                      properties, force=force, remote=remote,
                                      ignore_errors=ignore_errors)

    def _unmount_local(self, conn):
        if conn.get('driver_volume_type') != 'nfs':
            return
        share = (conn.get('data') or {}).get('export')
        base = conn.get('mount_point_base') or self.mount_point_base
        if not share or not base:
            return
        digest = hashlib.md5(share.encode('utf-8'),
                             usedforsecurity=False).hexdigest()
        mountpoint = os.path.join(base, digest)
        try:
            self._execute('umount', mountpoint, run_as_root=True,
                          root_helper=utils.get_root_helper())
        except Exception as err:
            LOG.warning('Could not unmount %s of export %s: %s',
                        mountpoint, share, err)

    # ------------------------------------------------------------ stats

    def get_pool(self, volume):
        return self.configuration.arca_thin_pool

    def _update_volume_stats(self):
        conf = self.configuration
        with self._node(_('Reading the thin pool')):
            cap = self.pool.capacity()
        ratio = volume_utils.get_max_over_subscription_ratio(
            conf.max_over_subscription_ratio, supports_auto=True)
        backend = conf.safe_get('volume_backend_name') or 'ArcaNFS'
        pool = {
            'pool_name': conf.arca_thin_pool,
            'total_capacity_gb': round(cap['total_bytes'] / float(GiB), 2),
            'free_capacity_gb': round(cap['free_bytes'] / float(GiB), 2),
            'provisioned_capacity_gb': round(
                cap['provisioned_bytes'] / float(GiB), 2),
            'allocated_capacity_gb': round(
                cap['used_bytes'] / float(GiB), 2),
            'total_volumes': cap['lv_count'],
            'reserved_percentage': conf.reserved_percentage,
            'max_over_subscription_ratio': ratio,
            'thin_provisioning_support': True,
            'thick_provisioning_support': False,
            'online_extend_support': True,
            'multiattach': True,
            'QoS_support': False,
            'sparse_copy_volume': True,
            'location_info': 'ArcaNFSDriver:%s:%s/%s' % (
                self.node_name, conf.arca_volume_group,
                conf.arca_thin_pool),
        }
        pool.update(self.mirror_report.capabilities(cap))
        self._stats = {
            'volume_backend_name': backend,
            'vendor_name': self.VENDOR,
            'driver_version': self.VERSION,
            'storage_protocol': constants.NFS,
            'pools': [pool],
        }

    # ----------------------------------------------------------- manage

    def _ref_name(self, existing_ref, prefix):
        ref = existing_ref or {}
        if ref.get('source-name'):
            name = ref['source-name']
        elif ref.get('source-id'):
            try:
                name = prefix + validate.uuid(ref['source-id'])
            except arca_exception.InvalidInput as err:
                raise exception.ManageExistingInvalidReference(
                    existing_ref=existing_ref, reason=str(err))
        else:
            raise exception.ManageExistingInvalidReference(
                existing_ref=existing_ref,
                reason=_('give source-name (an LV name) or source-id'))
        try:
            return validate.lv_name(name)
        except arca_exception.InvalidInput as err:
            raise exception.ManageExistingInvalidReference(
                existing_ref=existing_ref, reason=str(err))

    @staticmethod
    def _claimed_ids(name, info):
        """Cinder ids LV ``name`` stands for: by its name, by its tag."""
        candidates = []
        for prefix in (VOLUME_PREFIX, SNAPSHOT_PREFIX):
            if name.startswith(prefix):
                candidates.append(name[len(prefix):])
        candidates += _tagged(info, lvm.TAG_PREFIX + 'id=')
        ids = []
        for value in candidates:
            try:
                value = validate.uuid(value)
            except arca_exception.InvalidInput:
                continue
            if value not in ids:
                ids.append(value)
        return ids

    @staticmethod
    def _cinder_owner(oid, exclude):
        """The Cinder volume or snapshot still using id ``oid``, or None.

        A volume uses an id as its own or as its name id (the LV name it
        kept through a migration); deleted ones do not count.
        ``exclude``: ids of the object being managed.
        """
        ctxt = cinder_context.get_admin_context()
        try:
            vol = objects.Volume.get_by_id(ctxt, oid)
        except exception.VolumeNotFound:
            pass
        else:
            if vol.id not in exclude:
                return _('volume %s') % vol.id
        for vol in objects.VolumeList.get_all(
                ctxt, filters={'_name_id': oid}) or ():
            if vol.id not in exclude:
                return _('volume %s') % vol.id
        try:
            snap = objects.Snapshot.get_by_id(ctxt, oid)
        except exception.SnapshotNotFound:
            pass
        else:
            if snap.id not in exclude:
                return _('snapshot %s') % snap.id
        return None

    def _manageable(self, existing_ref, prefix, kind, exclude=()):
        """LV ``(name, info)`` the reference gives, if it can be managed.

        Refused before any change: an LV that cannot be managed as a
        ``kind`` (backend.unmanageable_reason), and with
        ManageExistingAlreadyManaged an LV that is a volume or snapshot
        Cinder still knows, by its name or its ``arca.id`` tag.

        :param exclude: ids of the object being managed (not a conflict).
        """
        name = self._ref_name(existing_ref, prefix)
        with self._node(_('Looking up %s') % name):
            info = self.pool.get(name)
        reason = backend.unmanageable_reason(self.pool, name, info, kind)
        if (reason is None and kind == KIND_SNAPSHOT and
                not (lvm.parse_tags(info['tags']).get('kind') or
                     info['origin'])):
            reason = _('%s is not a snapshot') % name
        if reason:
            raise exception.ManageExistingInvalidReference(
                existing_ref=existing_ref, reason=reason)
        exclude = {e for e in exclude if e}
        for oid in self._claimed_ids(name, info):
            owner = self._cinder_owner(oid, exclude)
            if owner:
                LOG.warning('Refusing to manage LV %(lv)s: it is %(owner)s '
                            'of Cinder.', {'lv': name, 'owner': owner})
                raise exception.ManageExistingAlreadyManaged(
                    volume_ref=_('%(lv)s (%(owner)s)') % {
                        'lv': name, 'owner': owner})
        return name, info

    def _file_size(self, name, existing_ref):
        """Bytes of the LV's image file, mounting it for the look."""
        was_mounted = self.fs.is_mounted(name)
        try:
            self.exports.mount(name)
        except arca_exception.CommandFailed as err:
            raise exception.ManageExistingInvalidReference(
                existing_ref=existing_ref,
                reason=_('cannot mount its XFS filesystem: %s') % err)
        try:
            size = self.raw.size(name)
        finally:
            if not was_mounted:
                self.exports.unmount(name)
        if size is None:
            raise exception.ManageExistingInvalidReference(
                existing_ref=existing_ref,
                reason=_('its filesystem holds no %s') % rawfile.FILE_NAME)
        return size

    def manage_existing_get_size(self, volume, existing_ref):
        name, _info = self._manageable(existing_ref, VOLUME_PREFIX,
                                       KIND_VOLUME, self._ids(volume))
        with self._node(_('Sizing LV %s') % name):
            return backend.gib_up(self._file_size(name, existing_ref))

    @staticmethod
    def _ids(volume):
        return (volume.id, volume.name_id)

    def manage_existing(self, volume, existing_ref):
        name, info = self._manageable(existing_ref, VOLUME_PREFIX,
                                      KIND_VOLUME, self._ids(volume))
        with self._node(_('Managing LV %(lv)s as volume %(vol)s') % {
                'lv': name, 'vol': volume.id}):
            lv = self._lv(volume)
            svm = self.svm_pools.svm_name(volume.project_id)
            size = backend.gib_up(self._file_size(name, existing_ref))
            old_svm = lvm.parse_tags(info['tags']).get('svm')
            if old_svm:
                self.exports.unpublish(old_svm, name)
            else:
                self.exports.unmount(name)
            if name != lv:
                self.pool.rename(name, lv)
            self.pool.replace_tags(lv, self.pool.get(lv),
                                   self._volume_tags(volume))
            self.pool.extend(lv, self._lv_size(size))
            result = self._publish_new(volume, lv, svm, size)
            if old_svm and old_svm != svm:
                self.svm_pools.release_if_unused(old_svm)
        return result

    def unmanage(self, volume):
        with self._node(_('Unmanaging volume %s') % volume.id):
            lv = self._lv(volume)
            info = self.pool.get(lv)
            svms = self._withdraw(volume, lv, info)
            if info is not None:
                self.pool.remove_tags(lv, [SVM_TAG + svm for svm in svms])
            for svm in svms:
                self.svm_pools.release_if_unused(svm)

    def manage_existing_snapshot_get_size(self, snapshot, existing_ref):
        _name, info = self._manageable(existing_ref, SNAPSHOT_PREFIX,
                                       KIND_SNAPSHOT, (snapshot.id,))
        return self._snapshot_size(info)

    def _snapshot_size(self, info):
        tagged = lvm.parse_tags(info['tags']).get('size', '')
        if tagged.isdigit() and int(tagged) > 0:
            return int(tagged)
        return max(1, backend.gib_up(info['size_bytes']) - self.headroom)

    def manage_existing_snapshot(self, snapshot, existing_ref):
        name, info = self._manageable(existing_ref, SNAPSHOT_PREFIX,
                                      KIND_SNAPSHOT, (snapshot.id,))
        fields = lvm.parse_tags(info['tags'])
        with self._node(_('Managing LV %(lv)s as snapshot %(snap)s') % {
                'lv': name, 'snap': snapshot.id}):
            volume_id = validate.uuid(snapshot.volume.name_id, 'volume id')
            if fields.get('volume') not in (None, volume_id):
                raise exception.ManageExistingInvalidReference(
                    existing_ref=existing_ref,
                    reason=_('it is a snapshot of volume %s')
                    % fields['volume'])
            origin = self._lv(snapshot.volume)
            if (fields.get('volume') is None and info['origin'] and
                    info['origin'] != origin):
                raise exception.ManageExistingInvalidReference(
                    existing_ref=existing_ref,
                    reason=_('it is a snapshot of %(lv)s, not of %(vol)s')
                    % {'lv': info['origin'], 'vol': origin})
            new = self._snap_lv(snapshot)
            if name != new:
                self.pool.rename(name, new)
            tags = lvm.make_tags(
                kind=KIND_SNAPSHOT, id=validate.uuid(snapshot.id),
                volume=volume_id,
                project=svm_pools.project_key(snapshot.project_id),
                svm=self.svm_pools.svm_name(snapshot.project_id),
                size=self._snapshot_size(info))
            self.pool.replace_tags(new, self.pool.get(new), tags)

    def unmanage_snapshot(self, snapshot):
        # The LV stays as it is, listed by get_manageable_snapshots.
        pass

    def _listing(self, cinder_objects, kind, prefix, with_source):
        managed = {}
        for obj in cinder_objects or ():
            oid = obj.name_id if kind == KIND_VOLUME else obj.id
            managed[prefix + oid] = obj.id
        with self._node(_('Listing manageable LVs')):
            infos = self.pool.list()
        entries = []
        for info in infos:
            fields = lvm.parse_tags(info['tags'])
            tagged = fields.get('kind')
            if kind == KIND_VOLUME and (tagged not in (None, KIND_VOLUME) or
                                        (tagged is None and info['origin'])):
                continue
            if kind == KIND_SNAPSHOT and tagged != KIND_SNAPSHOT:
                continue
            name = info['name']
            if kind == KIND_VOLUME:
                size = backend.gib_up(info['size_bytes']) - self.headroom
            else:
                size = self._snapshot_size(info)
            entry = {'reference': {'source-name': name},
                     'size': size,
                     'safe_to_manage': True, 'reason_not_safe': None,
                     'cinder_id': managed.get(name),
                     'extra_info': None}
            entry['size'] = max(1, entry['size'])
            # Managed by its name, or by the id its tag records.
            cinder_id = managed.get(name) or managed.get(
                prefix + fields.get('id', ''))
            if cinder_id:
                entry['cinder_id'] = cinder_id
                entry['safe_to_manage'] = False
                entry['reason_not_safe'] = _('already managed')
            elif name.endswith(lvm.REVERT_SUFFIXES):
                entry['safe_to_manage'] = False
                entry['reason_not_safe'] = _('temporary LV of a revert')
            elif kind == KIND_VOLUME and fields.get('svm'):
                entry['safe_to_manage'] = False
                entry['reason_not_safe'] = _(
                    'exported by SVM %s (another backend\'s volume?)'
                    ) % fields['svm']
            if with_source:
                source = fields.get('volume')
                entry['source_reference'] = {
                    'source-name': VOLUME_PREFIX + source if source
                    else info['origin']}
            entries.append(entry)
        return entries

    def get_manageable_volumes(self, cinder_volumes, marker, limit, offset,
                               sort_keys, sort_dirs):
        entries = self._listing(cinder_volumes, KIND_VOLUME, VOLUME_PREFIX,
                                False)
        return volume_utils.paginate_entries_list(entries, marker, limit,
                                                  offset, sort_keys,
                                                  sort_dirs)

    def get_manageable_snapshots(self, cinder_snapshots, marker, limit,
                                 offset, sort_keys, sort_dirs):
        entries = self._listing(cinder_snapshots, KIND_SNAPSHOT,
                                SNAPSHOT_PREFIX, True)
        return volume_utils.paginate_entries_list(entries, marker, limit,
                                                  offset, sort_keys,
                                                  sort_dirs)
