"""A mirrored pool's own node state, and the pool's start and stop on a node.

A pool of an HA pair is a VG on a DRBD device, active on one node at a
time. What a node needs to serve the pool moves with it: the thin LV
``VG/arca-state`` holds the directories of the SVMs homed in the pool
(record, Ganesha config, export files, NFSv4 recovery data) and is
mounted at ``/var/lib/arca/pools/VG``. While the pool is active on a node,
``/var/lib/arca/svm/SVM`` is a symlink into it, so the rest of the node
library keeps its paths, and Ganesha's recovery data is where the
partner finds it after a takeover.

:meth:`PoolState.start` activates the VG, mounts the state and links the
SVMs (the agent then rebuilds them); :meth:`PoolState.stop` stops each
homed SVM (Ganesha, namespace), unmounts the pool's LVs, removes the
links, unmounts the state and deactivates the VG. Both converge from any
partial state, so Pacemaker may repeat them.

:func:`mirror` tells whether a thin pool is mirrored (a ``[pool]``
section of ``/etc/arca/cluster.conf`` names it) and how its DRBD
resource stands: what the drivers' stats report.
"""

import re

from arca_openstack import exception
from arca_openstack.node import cluster_config
from arca_openstack.node import drbd
from arca_openstack.node import files
from arca_openstack.node import validate
from arca_openstack.node import xfs

STATE_LV = 'arca-state'
# The state filesystem is root's: nothing on it is run or is a device.
STATE_OPTIONS = ('nodev', 'nosuid', 'noexec')
SVM_BASE = files.STATE_DIR + '/svm'
# A device-mapper name: VG and LV with each '-' doubled, joined by '-'.
_DM_NAME = re.compile(r'^/dev/mapper/((?:[^-]|--)+)-((?:[^-]|--)+)$')
_DEV_LV = re.compile(r'^/dev/([^/]+)/([^/]+)$')
# vgchange's words for a VG this node cannot see (DRBD is Secondary here).
_NO_VG = ('not found', 'Cannot process volume group')


def state_dir(vg):
    return '%s/%s' % (files.POOLS_DIR, validate.vg_name(vg))


def state_device(vg):
    return '/dev/%s/%s' % (validate.vg_name(vg), STATE_LV)


def svm_link(name):
    return '%s/%s' % (SVM_BASE, validate.svm_name(name))


def home_dir(vg, name):
    """Where SVM ``name`` homed in pool ``vg`` keeps its directory."""
    return '%s/svm/%s' % (state_dir(vg), validate.svm_name(name))


def vg_of_source(source):
    """The VG of a mount source (``/dev/mapper/VG-LV`` or ``/dev/VG/LV``)."""
    match = _DM_NAME.match(source)
    if match:
        return match.group(1).replace('--', '-')
    match = _DEV_LV.match(source)
    if match and match.group(1) != 'mapper':
        return match.group(1)
    return None


def mirror(executor, vg, thin, drbd_=None):
    """The DRBD mirror of thin pool ``VG/THIN``: ``(mirror, error)``.

    ``mirror`` is None when the pool is not mirrored: the node has no
    cluster.conf (no HA pair: one ``cat``, which the agent answers in its
    own process), or no ``[pool]`` of it has this ``thin_pool``. Else it
    is :func:`drbd.mirror` of the pool's resource (one ``drbdsetup
    sh-status``).

    ``error`` is None, or why the mirror could not be told; never raised,
    so that the pool's capacity is still reported:

    * cluster.conf unreadable or bad: ``mirror`` None. Nothing shows the
      pool is mirrored, so it is not claimed: a type that requires a
      mirror is not placed here until the file is fixed; other types
      are. (Pacemaker and DRBD run on without the file; ``arca-node
      cluster`` commands refuse it with the same message.)
    * the DRBD status unreadable: ``mirror`` with state ``degraded`` and
      no other value (the peer's state is unknown).
    """
    drbd_ = drbd_ or drbd.DRBD(executor)
    try:
        config = cluster_config.read(executor)
    except exception.ArcaError as err:
        return None, ('Cannot tell whether thin pool %s/%s is mirrored: '
                      '%s. It is reported unmirrored until the file is '
                      'fixed.' % (vg, thin, err))
    pool = config and cluster_config.pool_of(config, '%s/%s' % (vg, thin))
    if pool is None:
        return None, None
    try:
        status = drbd_.status(pool.name)
    except exception.ArcaError as err:
        return drbd.mirror(pool.name, None), (
            'Cannot read the state of DRBD resource %s mirroring thin pool '
            '%s/%s: %s' % (pool.name, vg, thin, err))
    return drbd.mirror(pool.name, status), None


class PoolState(object):
    """Start, stop and look at one node's share of the mirrored pools.

    :param svms: the node's ``SVMManager`` (its Ganesha and namespaces).
    """

    def __init__(self, executor, svms):
        self.executor = executor
        self.svms = svms
        self.xfs = xfs.XFS(executor)

    def home(self, vg):
        """The pool's state directory if it is mounted here, else None.

        An SVM first recorded for a pool whose state is mounted is homed
        in it (see ``SVMManager.create``), and moves with the pool.
        """
        path = state_dir(vg)
        return path if self.xfs.is_mounted(path) else None

    def homed(self, vg):
        """Names of the SVMs homed in the pool (its state mounted here)."""
        names = files.list_dir(self.executor, state_dir(vg) + '/svm')
        return [name for name in names
                if validate.is_valid(validate.svm_name, name)]

    def started(self, vg):
        return self.home(vg) is not None

    def start(self, vg):
        """VG active, state mounted, SVM links made; the SVMs' names.

        The SVMs themselves (namespace, mounts, exports, Ganesha) are
        rebuilt afterwards from their records, by the agent's ensure.
        """
        path = state_dir(vg)
        self._vgchange(vg, '-ay')
        self.xfs.mount(state_device(vg), path, STATE_OPTIONS)
        files.makedirs(self.executor, path + '/svm')
        files.makedirs(self.executor, SVM_BASE)
        names = self.homed(vg)
        for name in names:
            self._link(vg, name)
        return names

    def _link(self, vg, name):
        link, target = svm_link(name), home_dir(vg, name)
        current = files.readlink(self.executor, link)
        if current == target:
            return
        other = self._pool_of(current)
        if other is not None and other != vg and self.started(other):
            raise exception.Conflict(
                what='SVM', name=name,
                reason='pool %s, active on this node too, holds an SVM of '
                       'that name' % other)
        try:
            files.symlink(self.executor, target, link)
        except exception.CommandFailed as err:
            raise exception.Conflict(
                what='SVM', name=name,
                reason='%s is not a link into a pool (a local SVM of that '
                       'name?): %s' % (link, (err.stderr or '').strip())
            ) from err

    @staticmethod
    def _pool_of(target):
        prefix = files.POOLS_DIR + '/'
        if not target or not target.startswith(prefix):
            return None
        vg = target[len(prefix):].partition('/')[0]
        return vg if validate.is_valid(validate.vg_name, vg) else None

    def stop(self, vg):
        """Stop serving the pool here; its SVMs' names.

        Each homed SVM's Ganesha is stopped and its namespace removed (its
        addresses with it); records and export files stay on the pool.
        Then every mount of one of the pool's LVs goes, the links, the
        state mount, and the VG is deactivated, so DRBD may be demoted.
        """
        path = state_dir(vg)
        mounted = self.started(vg)
        names = self.homed(vg) if mounted else []
        for name in names:
            self.svms.stop(name)
        for target, source in self._mounts():
            if target != path and vg_of_source(source) == vg:
                self.xfs.unmount(target)
        for name in names:
            if files.readlink(self.executor, svm_link(name)) == home_dir(
                    vg, name):
                files.remove(self.executor, svm_link(name))
        if mounted:
            self.xfs.unmount(path)
        self._vgchange(vg, '-an')
        return names

    def _mounts(self):
        """``(target, source)`` of every mount, innermost first."""
        table = self.xfs.mounts(files.STATE_DIR)
        return sorted(table.items(), key=lambda pair: -pair[0].count('/'))

    def _vgchange(self, vg, flag):
        result = self.executor.execute('vgchange', flag, vg,
                                       check_exit_code=False)
        if result.exit_code == 0:
            return
        if any(word in result.stderr for word in _NO_VG):
            if flag == '-an':
                return
            raise exception.NotFound(what='Volume group', name=vg)
        raise exception.CommandFailed(('vgchange', flag, vg),
                                      result.exit_code, result.stdout,
                                      result.stderr)
