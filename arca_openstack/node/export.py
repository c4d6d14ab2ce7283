"""Exports: a thin LV's filesystem mounted on the node and served by an SVM.

The export of LV ``NAME`` is mounted at ``/var/lib/arca/mnt/NAME`` and
published by the SVM's Ganesha under the pseudo path ``/NAME``. The
Ganesha export file is the record of who may mount it.
"""

from arca_openstack import exception
from arca_openstack.node import files
from arca_openstack.node import ganesha
from arca_openstack.node import ganesha_config
from arca_openstack.node import locks
from arca_openstack.node import validate
from arca_openstack.node import xfs

MOUNT_BASE = files.STATE_DIR + '/mnt'


def mountpoint(lv_name):
    return '%s/%s' % (MOUNT_BASE, validate.lv_name(lv_name))


def pseudo_path(lv_name):
    return '/' + validate.lv_name(lv_name)


def lv_name_of(exp):
    """The LV behind an export, from its mountpoint."""
    base, _sep, name = exp.path.rpartition('/')
    if base != MOUNT_BASE:
        raise exception.Conflict(what='Export', name=exp.export_id,
                                 reason='path %s is not an LV mountpoint' %
                                 exp.path)
    return validate.lv_name(name)


def client_rules(clients):
    """Validated :class:`ganesha_config.ClientRule` list.

    :param clients: (network, access) pairs or existing rules. A network
        listed twice is an error: Ganesha's ACL is ordered, and the second
        entry would silently never apply.
    """
    rules = []
    seen = set()
    for entry in clients:
        if isinstance(entry, ganesha_config.ClientRule):
            network, access, squash = entry
        else:
            network, access = entry
            squash = 'no_root_squash'
        network = validate.ip_network(network)
        validate.choice(access, 'access level', ('rw', 'ro'))
        if network in seen:
            raise exception.InvalidInput(what='client', value=network,
                                         reason='is listed twice')
        seen.add(network)
        rules.append(ganesha_config.ClientRule(network, access, squash))
    return rules


class ExportManager(object):
    """Mount LVs of one thin pool and publish them through SVMs."""

    def __init__(self, executor, pool):
        self.executor = executor
        self.pool = pool
        self.xfs = xfs.XFS(executor)
        self.ganesha = ganesha.Ganesha(executor)

    def mount(self, lv_name, options=(), info=None):
        """Mount the LV's filesystem at its mountpoint (idempotent).

        :param info: the LV as the pool gave it earlier in the caller's
            operation (made, looked up), which saves looking it up again.
        """
        path = mountpoint(lv_name)
        with locks.lv(self.pool.vg, lv_name):
            self._activate(lv_name, info)
            self.xfs.mount(self.pool.device_path(lv_name), path,
                           options=options)
        return path

    def format_and_mount(self, lv_name, options=(), info=None):
        """Make the XFS of a new LV and mount it at its mountpoint.

        Idempotent: an XFS already on the LV is kept as it is, mounted or
        not (:meth:`xfs.XFS.mkfs` never reformats), so a create retried
        after a crash goes on where it stopped. An inactive LV (a retry
        after a reboot) is activated first.

        :param info: see :meth:`mount`.
        """
        path = mountpoint(lv_name)
        device = self.pool.device_path(lv_name)
        with locks.lv(self.pool.vg, lv_name):
            self._activate(lv_name, info)
            self.xfs.mkfs(device)
            self.xfs.mount(device, path, options=options)
        return path

    def mount_copy(self, lv_name, options=(), info=None):
        """Mount a new thin snapshot of a mounted XFS with its own UUID.

        See :meth:`xfs.XFS.mount_copy`: the LV must not be exported yet.

        :param info: see :meth:`mount`.
        """
        path = mountpoint(lv_name)
        with locks.lv(self.pool.vg, lv_name):
            self._activate(lv_name, info)
            self.xfs.mount_copy(self.pool.device_path(lv_name), path,
                                options=options)
        return path

    def _activate(self, lv_name, info):
        if info is None or info.get('name') != lv_name:
            info = self.pool.get(lv_name)
        if info is None:
            raise exception.NotFound(what='Logical volume',
                                     name='%s/%s' % (self.pool.vg, lv_name))
        if not info['active']:
            # Under the LV's lock (mount, mount_copy).
            self.pool.activate_locked(info)

    def mount_exports(self, exports):
        """Mount the filesystems behind ``exports`` (after a restart)."""
        for exp in exports:
            self.mount(lv_name_of(exp))

    def unmount(self, lv_name):
        with locks.lv(self.pool.vg, lv_name):
            self.xfs.unmount(mountpoint(lv_name))

    def find(self, svm, lv_name):
        """The SVM's export of this LV, or None."""
        return self.ganesha.find_export(validate.svm_name(svm),
                                        mountpoint(lv_name))

    def publish(self, svm, lv_name, clients=(), read_only=False,
                mount_options=(), info=None, mounted=False):
        """Mount the LV and export it from the SVM to exactly ``clients``.

        :param clients: (address-or-CIDR, 'rw'|'ro') pairs; empty means
            the export exists but nobody may mount it. Or a function given
            the current export's rules (None if the LV is not exported yet)
            that returns them, applied under the SVM's lock.
        :param mount_options: XFS mount options used if the LV is not
            mounted yet, such as ``('prjquota',)`` for a filesystem with a
            project quota, or ``('ro', 'nouuid')`` for a snapshot served
            beside its origin (an existing mount is kept as it is).
        :param info: see :meth:`mount`.
        :param mounted: the caller mounted the LV in this same operation
            (:meth:`mount_copy`): no look at its mountpoint.
        :returns: the :class:`ganesha_config.Export` now served.
        """
        validate.svm_name(svm)
        clients = self._rules(clients)
        if not mounted:
            self.mount(lv_name, options=mount_options, info=info)
        return self._serve(svm, lv_name, clients, read_only, create=True)

    def set_clients(self, svm, lv_name, clients, missing_ok=False):
        """Replace the export's whole client list in one change.

        :param clients: as for :meth:`publish`.
        :param missing_ok: return None if the LV is not exported, rather
            than raise :class:`NotFound`.
        """
        validate.svm_name(svm)
        clients = self._rules(clients)
        export = self._serve(svm, lv_name, clients, None, create=False)
        if export is None and not missing_ok:
            raise exception.NotFound(what='Export of', name=lv_name)
        return export

    @staticmethod
    def _rules(clients):
        """Validated rules, or a function giving them (checked on use)."""
        if not callable(clients):
            return client_rules(clients)
        return lambda current: client_rules(clients(current))

    def _serve(self, svm, lv_name, clients, read_only, create):
        with locks.lock('svm-compose', svm):
            return self.ganesha.serve(
                svm, mountpoint(lv_name), pseudo_path(lv_name), clients,
                read_only=read_only, create=create)

    def unpublish(self, svm, lv_name, unmount=True):
        """Stop exporting the LV and unmount it (idempotent)."""
        validate.svm_name(svm)
        path = mountpoint(lv_name)
        with locks.lock('svm-compose', svm):
            self.ganesha.withdraw(svm, path)
        if unmount:
            self.unmount(lv_name)
