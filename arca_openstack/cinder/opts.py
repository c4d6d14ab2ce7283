"""Options of the Arca Cinder driver, listed for oslo-config-generator.

They are read from each backend's own section of cinder.conf (the driver
registers them with ``configuration.append_config_values``); they are
listed here under ``backend_defaults``, whose values every backend section
inherits.
"""

import copy
import itertools

from oslo_config import cfg

from arca_openstack.node import connection
from arca_openstack import svm_pools

GROUP = 'backend_defaults'

volume_opts = [
    cfg.StrOpt(
        'arca_volume_group', default='arca',
        help='LVM volume group on the storage node holding the thin pool.'),
    cfg.StrOpt(
        'arca_thin_pool', default='pool',
        help='Thin pool (LV name inside arca_volume_group) every volume '
             'and snapshot of this backend is a thin LV of. It is also the '
             'name of the backend\'s one Cinder pool.'),
    cfg.IntOpt(
        'arca_fs_headroom_gib', default=1, min=1, max=64,
        help='GiB added to each volume\'s LV beyond the volume size, for '
             'the XFS metadata around the image file. Thin: costs nothing '
             'until used.'),
    cfg.StrOpt(
        'arca_mount_point_base', default='$state_path/mnt/arca',
        help='Directory where cinder-volume mounts volumes itself (image '
             'copies, migrations). Those mounts are removed after use.'),
]

svm_opts = svm_pools.svm_opts('cinder_')


def all_opts():
    return list(itertools.chain(volume_opts, svm_opts,
                                connection.node_opts))


def list_opts():
    return [(GROUP, copy.deepcopy(all_opts()))]
