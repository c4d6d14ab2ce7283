"""Options of the Arca Manila driver, listed for oslo-config-generator.

They are read from each share backend's own section of manila.conf (the
driver registers them with ``configuration.append_config_values``).
Manila has no section whose values every backend inherits, so they are
listed here under the placeholder group ``arca_manila_backend``: copy the
ones you set into each ``[<backend>]`` section named in
``enabled_share_backends``.
"""

import copy
import itertools

from oslo_config import cfg

from arca_openstack import backend
from arca_openstack.node import svm as svm_mod
from arca_openstack import svm_pools
from arca_openstack.wire import connection

GROUP = 'arca_manila_backend'

share_opts = backend.pool_opts(
    'share', 'for the XFS log and metadata. The share itself is limited '
    'to exactly its size by an XFS project quota.') + [
    cfg.IntOpt(
        'arca_fs_headroom_percent', default=2, min=0, max=50,
        help='Further headroom of each share\'s LV, in percent of the '
             'share size, for the metadata of large filesystems '
             '(reflink, inode and free-space b-trees).'),
]

share_server_opts = [
    cfg.StrOpt(
        'arca_share_server_network_mode', default='vlan',
        choices=[('vlan', 'VLAN networks get a VLAN sub-interface of '
                  'arca_share_server_parent_interface with the '
                  'segmentation id; flat networks a macvlan of it'),
                 ('macvlan', 'a macvlan of '
                  'arca_share_server_parent_interface; flat networks only'),
                 ('veth', 'a veth pair into the Linux bridge '
                  'arca_share_server_bridge; flat networks only')],
        help='driver_handles_share_servers=True: how a share server\'s '
             'SVM is plugged into the share network.'),
    cfg.StrOpt(
        'arca_share_server_parent_interface',
        help='driver_handles_share_servers=True, modes vlan and macvlan: '
             'the storage node\'s NIC carrying the share networks.'),
    cfg.StrOpt(
        'arca_share_server_bridge',
        help='driver_handles_share_servers=True, mode veth: the Linux '
             'bridge on the storage node that share servers join.'),
]

# The SVM options shared with the Cinder driver; in
# driver_handles_share_servers=True mode only arca_svm_name_prefix applies
# (the SVM of a share server is the prefix plus the server id).
svm_opts = svm_pools.svm_opts('manila_')

NETWORK_MODES = svm_mod.MODES


def all_opts():
    return list(itertools.chain(share_opts, share_server_opts, svm_opts,
                                connection.node_opts))


def list_opts():
    return [(GROUP, copy.deepcopy(all_opts()))]
