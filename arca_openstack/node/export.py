"""Exports: a thin LV's filesystem mounted on the node and served by an SVM.

The export of LV ``NAME`` is mounted at ``/var/lib/arca/mnt/NAME`` and
published by the SVM's Ganesha under the pseudo path ``/NAME``. The
Ganesha export file is the record of who may mount it.
"""

from arca_openstack import exception
from arca_openstack.node import files
from arca_openstack.node import ganesha
from arca_openstack.node import locks
from arca_openstack.node import validate
from arca_openstack.node import xfs

MOUNT_BASE = files.STATE_DIR + '/mnt'
MAX_EXPORT_ID = 65535


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
    """Validated :class:`ganesha.ClientRule` list.

    :param clients: (network, access) pairs or existing rules. A network
        listed twice is an error: Ganesha's ACL is ordered, and the second
        entry would silently never apply.
    """
    rules = []
    seen = set()
    for entry in clients:
        if isinstance(entry, ganesha.ClientRule):
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
        rules.append(ganesha.ClientRule(network, access, squash))
    return rules


class ExportManager(object):
    """Mount LVs of one thin pool and publish them through SVMs."""

    def __init__(self, executor, pool):
        self.executor = executor
        self.pool = pool
        self.xfs = xfs.XFS(executor)
        self.ganesha = ganesha.Ganesha(executor)

    def mount(self, lv_name, options=()):
        """Mount the LV's filesystem at its mountpoint (idempotent)."""
        path = mountpoint(lv_name)
        with locks.lv(self.pool.vg, lv_name):
            info = self.pool.get(lv_name)
            if info is None:
                raise exception.NotFound(
                    what='Logical volume',
                    name='%s/%s' % (self.pool.vg, lv_name))
            if not info['active']:
                self.pool.activate(lv_name)
            self.xfs.mount(self.pool.device_path(lv_name), path,
                           options=options)
        return path

    def mount_exports(self, exports):
        """Mount the filesystems behind ``exports`` (after a restart)."""
        for exp in exports:
            self.mount(lv_name_of(exp))

    def unmount(self, lv_name):
        with locks.lv(self.pool.vg, lv_name):
            self.xfs.unmount(mountpoint(lv_name))

    def find(self, svm, lv_name):
        """The SVM's export of this LV, or None."""
        path = mountpoint(lv_name)
        for export_id in self.ganesha.export_ids(validate.svm_name(svm)):
            export = self.ganesha.get_export(svm, export_id)
            if export is not None and export.path == path:
                return export
        return None

    def publish(self, svm, lv_name, clients=(), read_only=False,
                mount_options=()):
        """Mount the LV and export it from the SVM to exactly ``clients``.

        :param clients: (address-or-CIDR, 'rw'|'ro') pairs; empty means
            the export exists but nobody may mount it.
        :param mount_options: XFS mount options used if the LV is not
            mounted yet, such as ``('prjquota',)`` for a filesystem with a
            project quota, or ``('ro', 'nouuid')`` for a snapshot served
            beside its origin (an existing mount is kept as it is).
        :returns: the :class:`ganesha.Export` now served.
        """
        validate.svm_name(svm)
        rules = client_rules(clients)
        self.mount(lv_name, options=mount_options)
        with locks.lock('svm-compose', svm):
            export = self.find(svm, lv_name)
            if export is None:
                export = ganesha.Export(self._free_id(svm),
                                        mountpoint(lv_name),
                                        pseudo_path(lv_name), tuple(rules),
                                        read_only)
                self.ganesha.add_export(svm, export)
            else:
                export = export._replace(clients=tuple(rules),
                                         read_only=read_only)
                self.ganesha.update_export(svm, export)
        return export

    def set_clients(self, svm, lv_name, clients):
        """Replace the export's whole client list in one change."""
        validate.svm_name(svm)
        rules = client_rules(clients)
        with locks.lock('svm-compose', svm):
            export = self.find(svm, lv_name)
            if export is None:
                raise exception.NotFound(what='Export of', name=lv_name)
            export = export._replace(clients=tuple(rules))
            self.ganesha.update_export(svm, export)
        return export

    def unpublish(self, svm, lv_name, unmount=True):
        """Stop exporting the LV and unmount it (idempotent)."""
        validate.svm_name(svm)
        validate.lv_name(lv_name)
        with locks.lock('svm-compose', svm):
            export = self.find(svm, lv_name)
            if export is not None:
                self.ganesha.remove_export(svm, export.export_id)
        if unmount:
            self.unmount(lv_name)

    def _free_id(self, svm):
        used = set(self.ganesha.export_ids(svm))
        for candidate in range(1, MAX_EXPORT_ID + 1):
            if candidate not in used:
                return candidate
        raise exception.CapacityExceeded(where='SVM %s' % svm,
                                         reason='no free export id')
