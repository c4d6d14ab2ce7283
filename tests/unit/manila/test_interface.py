"""Every part of Manila's driver interface the Arca driver claims."""

import inspect

import ddt
from manila.share import driver as manila_driver
from oslotest import base

from arca_openstack.manila import driver

IMPLEMENTED = (
    'do_setup', 'check_for_setup_error', 'create_share',
    'create_share_from_snapshot', 'delete_share', 'extend_share',
    'shrink_share', 'update_access', 'create_snapshot', 'delete_snapshot',
    'revert_to_snapshot', 'snapshot_update_access', 'ensure_shares',
    'get_backend_info', 'get_pool', '_update_share_stats',
    'get_configured_ip_versions', 'update_share_usage_size',
    'get_network_allocations_number', '_setup_server', '_teardown_server',
    'manage_existing', 'manage_existing_with_server', 'unmanage',
    'unmanage_with_server', 'manage_existing_snapshot',
    'manage_existing_snapshot_with_server', 'unmanage_snapshot',
    'unmanage_snapshot_with_server', 'manage_server', 'unmanage_server',
    'get_share_server_network_info', 'transfer_accept')


@ddt.ddt
class InterfaceTestCase(base.BaseTestCase):

    @ddt.data(*IMPLEMENTED)
    def test_overridden_with_same_signature(self, name):
        ours = getattr(driver.ArcaShareDriver, name)
        theirs = getattr(manila_driver.ShareDriver, name)
        self.assertIsNot(theirs, ours, name)
        self.assertIn(name, vars(driver.ArcaShareDriver))
        self.assertEqual(list(inspect.signature(theirs).parameters),
                         list(inspect.signature(ours).parameters), name)

    def test_both_modes(self):
        self.assertTrue(issubclass(driver.ArcaShareDriver,
                                   manila_driver.ShareDriver))
