"""Options of the Arca Cinder driver, listed for oslo-config-generator.

They are read from each backend's own section of cinder.conf (the driver
registers them with ``configuration.append_config_values``); they are
listed here under ``backend_defaults``, whose values every backend section
inherits.
"""

import copy
import itertools

from oslo_config import cfg

from arca_openstack import backend
from arca_openstack import svm_pools
from arca_openstack.wire import connection

GROUP = 'backend_defaults'

volume_opts = backend.pool_opts(
    'volume', 'for the XFS metadata around the image file.') + [
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
