"""A real Manila ShareManager running the Arca driver against the lab.

Manila's own test base (``manila.test.TestCase``) gives each test an
sqlite database and ``fake:/`` messaging. On it a real
:class:`manila.share.manager.ShareManager` is built with
``share_driver = arca_openstack.manila.driver.ArcaShareDriver`` in its
own backend section, set up by ``init_host`` (do_setup,
check_for_setup_error, ensure_shares, stats), and driven through its RPC
entry points (``create_share_instance``, ``update_access``,
``create_snapshot``, ...) with database rows made the way Manila's API
makes them.

The one thing replaced: the driver's agent client is set to the lab
storage node's (the agent started over SSH as root) before ``init_host``
runs, so ``do_setup`` keeps it instead of calling
``connection.make_client``.

With driver_handles_share_servers=True the network plugin is
:class:`SubnetNetworkPlugin`: like Neutron's, it takes the VLAN, subnet and
gateway from each share network subnet (the standalone plugin gives one
VLAN per backend), and hands out addresses from .50 up.
"""

import ipaddress
import os
import time
import types

from manila.common import constants
from manila import context as manila_context
from manila import db
from manila import network
from manila.share import driver as manila_driver
from manila.share import manager as share_manager
from manila import test
from manila.tests import db_utils
from oslo_config import cfg
from oslo_utils import uuidutils

from arca_openstack.manila import opts as arca_opts
from arca_openstack.node import export
from arca_openstack.node import ganesha
from arca_openstack.node import lvm
from arca_openstack.node import quota
from arca_openstack.node import svm as svm_mod
from arca_openstack.node import xfs
from tests.functional import base

CONF = cfg.CONF
GiB = 1024 ** 3
HOST = 'arcaft'
C1 = base.CLIENTS['c1'][1].split('/')[0]
C2 = base.CLIENTS['c2'][1].split('/')[0]
C3 = base.CLIENTS['c3'][1].split('/')[0]
# The SVM name prefixes of the test backends: whatever is left on the
# node under them after a test is removed.
PREFIXES = ('mftf_', 'mfts_')


class SubnetNetworkPlugin(network.NetworkBaseAPI):
    """Allocations on the share network subnet's own VLAN and CIDR."""

    FIRST = 50

    def __init__(self, config_group_name=None, db_driver=None,
                 label='user'):
        super().__init__(config_group_name=config_group_name,
                         db_driver=db_driver)
        self._label = label

    @property
    def label(self):
        return self._label

    def include_network_info(self, share_network_subnet):
        pass

    def allocate_network(self, context, share_server, share_network=None,
                         share_network_subnet=None, **kwargs):
        self._verify_share_network_subnet(share_server['id'],
                                          share_network_subnet)
        subnet = share_network_subnet
        net = ipaddress.ip_network(subnet['cidr'])
        allocations = []
        count = kwargs.get('count', 1)
        for index, host in enumerate(net.hosts()):
            if len(allocations) == count:
                break
            ip = str(host)
            if (index + 1 < self.FIRST or ip == subnet['gateway'] or
                    self.db.network_allocations_get_by_ip_address(
                        context, ip)):
                continue
            allocations.append(self.db.network_allocation_create(context, {
                'share_server_id': share_server['id'],
                'share_network_subnet_id': subnet['id'],
                'ip_address': ip,
                'status': constants.STATUS_ACTIVE,
                'label': self.label,
                'network_type': subnet['network_type'],
                'segmentation_id': subnet['segmentation_id'],
                'cidr': subnet['cidr'],
                'gateway': subnet['gateway'],
                'ip_version': subnet['ip_version'],
                'mtu': subnet['mtu'],
            }))
        return allocations

    def deallocate_network(self, context, share_server_id,
                           share_network=None, share_network_subnet=None):
        for alloc in self.db.network_allocations_get_for_share_server(
                context, share_server_id):
            self.db.network_allocation_delete(context, alloc['id'])

    def manage_network_allocations(self, context, allocations, share_server,
                                   share_network=None,
                                   share_network_subnet=None):
        raise NotImplementedError()

    def unmanage_network_allocations(self, context, share_server_id):
        self.deallocate_network(context, share_server_id)


class ManilaLabTestCase(test.TestCase, base.FunctionalTestCase):
    """One backend of a real ShareManager, its storage node lab node s1."""

    BACKEND = None
    DHSS = None
    PREFIX = None

    def backend_options(self):
        """Backend section values besides the common ones."""
        return {}

    @property
    def view(self):
        """The test's own look at the storage node (root over SSH).

        The driver holds only remote objects of the agent's operations;
        checks of mounts, Ganesha and quotas read the node directly.
        """
        ex = self.s1.executor
        return types.SimpleNamespace(xfs=xfs.XFS(ex),
                                     ganesha=ganesha.Ganesha(ex),
                                     quota=quota.FilesystemQuota(ex))

    def setUp(self):
        super().setUp()
        self.s1 = self.lab.node('s1')
        self.c1, self.c2, self.c3 = (self.lab.node(n)
                                     for n in ('c1', 'c2', 'c3'))
        self._mounts = []
        self._last_step, self._step = time.monotonic(), 'init_host'
        self.ctxt = manila_context.get_admin_context()
        self.project_id = uuidutils.generate_uuid(dashed=False)
        self.manager = self._make_manager()
        self.driver = self.manager.driver
        self.share_type = db_utils.create_share_type(
            name='arca-%s' % self.BACKEND,
            extra_specs={
                'driver_handles_share_servers': str(self.DHSS),
                'snapshot_support': 'True',
                'create_share_from_snapshot_support': 'True',
                'revert_to_snapshot_support': 'True',
                'mount_snapshot_support': 'True',
            })

    def _make_manager(self):
        group = self.BACKEND
        CONF.register_opts(share_manager.share_manager_opts, group=group)
        CONF.register_opts(manila_driver.share_opts, group=group)
        CONF.register_opts(manila_driver.ssh_opts, group=group)
        CONF.register_opts(arca_opts.all_opts(), group=group)
        CONF.register_opts(network.network_opts, group=group)
        values = {
            'share_driver': 'arca_openstack.manila.driver.ArcaShareDriver',
            'driver_handles_share_servers': self.DHSS,
            'share_backend_name': group,
            'arca_volume_group': base.VG,
            'arca_thin_pool': base.POOL,
            'arca_svm_name_prefix': self.PREFIX,
            'arca_command_timeout': 180,
            'network_api_class': '%s.SubnetNetworkPlugin' % __name__,
        }
        values.update(self.backend_options())
        for name, value in values.items():
            self.override_config(name, value, group=group)
        manager = share_manager.ShareManager(
            service_name=group, host='%s@%s' % (HOST, group))
        # Messages are rows as in a deployment; nothing else is stubbed.
        manager.driver.node_client = self.s1.agent_client()
        manager.init_host()
        self.assertTrue(manager.driver.initialized)
        self.step('test')
        return manager

    def restart(self):
        """manila-share restarts: a new ShareManager, same backend."""
        self.manager = self._make_manager()
        self.driver = self.manager.driver

    def step(self, what):
        """Start a section; ARCA_LAB_PROFILE=1 prints each one's time."""
        now = time.monotonic()
        if os.environ.get('ARCA_LAB_PROFILE'):
            print('%6.1fs  %s' % (now - self._last_step, self._step))
        self._last_step, self._step = now, what

    def tearDown(self):
        self.step('tearDown')
        try:
            for node, where in reversed(self._mounts):
                self.nfs_umount(node, where)
            self._sweep_node()
            self.step('end')
        finally:
            super().tearDown()

    def _sweep_node(self):
        """Remove whatever a failed test left on the storage node."""
        ex = self.s1.executor
        pool = lvm.ThinPool(ex, base.VG, base.POOL)
        svms = svm_mod.SVMManager(ex)
        exports = export.ExportManager(ex, pool)
        for name in svms.list():
            if not name.startswith(self.PREFIX):
                continue
            for export_id in svms.ganesha.export_ids(name):
                exp = svms.ganesha.get_export(name, export_id)
                if exp is not None:
                    exports.unpublish(name, export.lv_name_of(exp))
            svms.delete(name)
        for info in pool.list():
            if info['name'].startswith(('share-', 'ssnap-')):
                exports.unmount(info['name'])
                pool.remove(info['name'])

    # ------------------------------------------------------ Manila objects

    def share_row(self, **values):
        """A share row of this backend as Manila's API makes it."""
        row = {
            'share_proto': 'NFS',
            'project_id': self.project_id,
            'user_id': 'ftuser',
            'share_type_id': self.share_type['id'],
            'host': '%s@%s#%s' % (HOST, self.BACKEND, base.POOL),
            'availability_zone': None,
            'mount_snapshot_support': True,
            'snapshot_support': True,
            'create_share_from_snapshot_support': True,
            'revert_to_snapshot_support': True,
        }
        row.update(values)
        return db_utils.create_share(**row)

    def create_share(self, size=1, share_network=None, snapshot=None,
                     project_id=None):
        """A share made through ShareManager.create_share_instance."""
        values = {'size': size, 'status': constants.STATUS_CREATING}
        if project_id is not None:
            values['project_id'] = project_id
        if share_network is not None:
            values['share_network_id'] = share_network['id']
        if snapshot is not None:
            values['snapshot_id'] = snapshot['id']
        share = self.share_row(**values)
        self.manager.create_share_instance(
            self.ctxt, share.instance['id'],
            snapshot_id=snapshot['id'] if snapshot is not None else None)
        share = db.share_get(self.ctxt, share['id'])
        self.assertEqual(constants.STATUS_AVAILABLE,
                         share.instance['status'])
        return share

    def export_path(self, share):
        locations = db.export_location_get_all_by_share_instance_id(
            self.ctxt, share.instance['id'])
        self.assertEqual(1, len(locations), locations)
        return locations[0]['path']

    def delete_share(self, share):
        self.manager.delete_share_instance(self.ctxt, share.instance['id'])
        self.assertIsNone(self.lv_info(share))

    def lv_info(self, share):
        pool = lvm.ThinPool(self.s1.executor, base.VG, base.POOL)
        return pool.get('share-' + share.instance['id'])

    def allow(self, share, address, level):
        rule = db_utils.create_access(
            share_id=share['id'], access_type='ip', access_to=address,
            access_level=level, state=constants.ACCESS_STATE_QUEUED_TO_APPLY)
        self.manager.update_access(self.ctxt, share.instance['id'])
        self.assertEqual(constants.ACCESS_STATE_ACTIVE,
                         self.rule_state(share, rule))
        return rule

    def deny(self, share, rule):
        db.share_instance_access_update(
            self.ctxt, rule['id'], share.instance['id'],
            {'state': constants.ACCESS_STATE_QUEUED_TO_DENY})
        self.manager.update_access(self.ctxt, share.instance['id'])
        self.assertEqual([], [
            r for r in db.share_access_get_all_for_instance(
                self.ctxt, share.instance['id'])
            if r['access_id'] == rule['id']])

    def rule_state(self, share, rule):
        return db.share_instance_access_get(
            self.ctxt, rule['id'], share.instance['id'])['state']

    def create_snapshot(self, share):
        snapshot = db_utils.create_snapshot(
            share_id=share['id'], size=share['size'],
            project_id=share['project_id'], user_id='ftuser',
            provider_location=None, status=constants.STATUS_CREATING)
        self.manager.create_snapshot(self.ctxt, share['id'], snapshot['id'])
        snapshot = db.share_snapshot_get(self.ctxt, snapshot['id'])
        self.assertEqual(constants.STATUS_AVAILABLE,
                         snapshot.instance['status'])
        return snapshot

    def allow_snapshot(self, snapshot, address):
        rule = db.share_snapshot_access_create(self.ctxt, {
            'share_snapshot_id': snapshot['id'], 'access_type': 'ip',
            'access_to': address})
        self.manager.snapshot_update_access(self.ctxt,
                                            snapshot.instance['id'])
        # (db.api names these two arguments the other way round.)
        state = db.share_snapshot_instance_access_get(
            self.ctxt, rule['id'], snapshot.instance['id'])['state']
        self.assertEqual(constants.ACCESS_STATE_ACTIVE, state)
        return rule

    def snapshot_export_path(self, snapshot):
        locations = db.share_snapshot_instance_export_locations_get_all(
            self.ctxt, snapshot.instance['id'])
        self.assertEqual(1, len(locations), locations)
        return locations[0]['path']

    # -------------------------------------------------------- lab clients

    def mount(self, node, path, name, check=True):
        """Mount an export location ADDRESS:/PSEUDO on a client node."""
        address, pseudo = path.rsplit(':', 1)
        where = '/mnt/%s' % name
        self._mounts.append((node, where))
        return self.nfs_mount(node, address, pseudo, where, check=check)

    def umount(self, node, name):
        self.nfs_umount(node, '/mnt/%s' % name)

    def assert_mount_refused(self, node, path, name):
        result = self.mount(node, path, name, check=False)
        self.assertNotEqual(0, result.exit_code, result)
        self.assertNotIn(' /mnt/%s ' % name,
                         self.sh(node, 'cat /proc/mounts').stdout)

    def df_bytes(self, node, where):
        return node.df_bytes(where)

    def write(self, node, path, mib, check=True):
        return self.sh(node, 'dd if=/dev/urandom of=%s bs=1M count=%d '
                       'conv=fsync status=none' % (path, mib), check=check)
