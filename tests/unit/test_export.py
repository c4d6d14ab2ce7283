from unittest import mock

import ddt

from arca_openstack import exception
from arca_openstack.node import export
from arca_openstack.node import ganesha_config
from tests.unit import base

MNT = '/var/lib/arca/mnt/vol-1'


@ddt.ddt
class ExportManagerTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.pool = mock.Mock(vg='arca')
        self.pool.get.return_value = {'name': 'vol-1', 'active': True}
        self.pool.device_path.return_value = '/dev/arca/vol-1'
        self.mgr = export.ExportManager(self.executor, self.pool)
        self.mgr.xfs = mock.Mock()
        self.mgr.ganesha = mock.Mock()
        self.mgr.ganesha.export_ids.return_value = []

    def served(self):
        """The arguments of the one ganesha.serve call."""
        self.mgr.ganesha.serve.assert_called_once()
        return self.mgr.ganesha.serve.call_args

    def test_publish(self):
        exp = self.mgr.publish('svm_a', 'vol-1',
                               [('10.0.0.0/24', 'rw'), ('10.1.0.7', 'ro')])
        self.assertEqual(self.mgr.ganesha.serve.return_value, exp)
        self.mgr.xfs.mount.assert_called_once_with('/dev/arca/vol-1', MNT,
                                                   options=())
        self.assertEqual(mock.call(
            'svm_a', MNT, '/vol-1',
            [ganesha_config.ClientRule('10.0.0.0/24', 'rw', 'no_root_squash'),
             ganesha_config.ClientRule('10.1.0.7', 'ro', 'no_root_squash')],
            read_only=False, create=True), self.served())
        self.pool.get.assert_called_once_with('vol-1')

    def test_publish_known_lv_not_looked_up(self):
        self.mgr.publish('svm_a', 'vol-1',
                         info={'name': 'vol-1', 'active': True})
        self.pool.get.assert_not_called()
        self.mgr.xfs.mount.assert_called_once()

    def test_publish_info_of_other_lv_ignored(self):
        self.mgr.publish('svm_a', 'vol-1',
                         info={'name': 'vol-2', 'active': True})
        self.pool.get.assert_called_once_with('vol-1')

    def test_publish_clients_function(self):
        def add(current):
            return list(current or ()) + [('10.0.0.9', 'rw')]

        self.mgr.publish('svm_a', 'vol-1', add)
        clients = self.served()[0][3]
        self.assertEqual(
            [ganesha_config.ClientRule('10.0.0.9', 'rw', 'no_root_squash')],
            clients(None))
        old = (ganesha_config.ClientRule('10.0.0.9', 'ro'),)
        self.assertRaises(exception.InvalidInput, clients, old)
        self.assertEqual(
            [ganesha_config.ClientRule('10.0.0.1', 'ro', 'no_root_squash'),
             ganesha_config.ClientRule('10.0.0.9', 'rw', 'no_root_squash')],
            clients((ganesha_config.ClientRule('10.0.0.1', 'ro'),)))

    def test_publish_mounted_already(self):
        self.mgr.publish('svm_a', 'vol-1', mounted=True)
        self.pool.get.assert_not_called()
        self.mgr.xfs.mount.assert_not_called()
        self.served()

    def test_mount_copy(self):
        self.assertEqual(MNT, self.mgr.mount_copy(
            'vol-1', info={'name': 'vol-1', 'active': True}))
        self.mgr.xfs.mount_copy.assert_called_once_with(
            '/dev/arca/vol-1', MNT, options=())
        self.pool.get.assert_not_called()

    def test_format_and_mount(self):
        self.assertEqual(MNT, self.mgr.format_and_mount(
            'vol-1', options=('prjquota',),
            info={'name': 'vol-1', 'active': True}))
        self.assertEqual([mock.call.mkfs('/dev/arca/vol-1'),
                          mock.call.mount('/dev/arca/vol-1', MNT,
                                          options=('prjquota',))],
                         self.mgr.xfs.mock_calls)
        self.pool.get.assert_not_called()

    def test_format_and_mount_activates_first(self):
        # A create retried after a reboot: the LV is there, inactive.
        info = {'name': 'vol-1', 'active': False}
        self.pool.get.return_value = info
        self.mgr.format_and_mount('vol-1')
        self.pool.activate_locked.assert_called_once_with(info)
        self.mgr.xfs.mkfs.assert_called_once_with('/dev/arca/vol-1')

    def test_format_and_mount_missing_lv(self):
        self.pool.get.return_value = None
        self.assertRaises(exception.NotFound, self.mgr.format_and_mount,
                          'vol-1')
        self.assertEqual([], self.mgr.xfs.mock_calls)

    def test_mount_copy_missing_lv(self):
        self.pool.get.return_value = None
        self.assertRaises(exception.NotFound, self.mgr.mount_copy, 'vol-1')
        self.mgr.xfs.mount_copy.assert_not_called()

    def test_publish_mount_options(self):
        self.mgr.publish('svm_a', 'vol-1', read_only=True,
                         mount_options=('ro', 'nouuid'))
        self.mgr.xfs.mount.assert_called_once_with(
            '/dev/arca/vol-1', MNT, options=('ro', 'nouuid'))
        self.assertTrue(self.served()[1]['read_only'])

    def test_publish_activates_inactive_lv(self):
        info = {'name': 'vol-1', 'active': False}
        self.pool.get.return_value = info
        self.mgr.publish('svm_a', 'vol-1')
        # Under the LV's lock, which is not re-entrant: not activate().
        self.pool.activate_locked.assert_called_once_with(info)
        self.pool.activate.assert_not_called()

    def test_publish_missing_lv(self):
        self.pool.get.return_value = None
        self.assertRaises(exception.NotFound, self.mgr.publish, 'svm_a',
                          'vol-1')
        self.mgr.ganesha.serve.assert_not_called()

    @ddt.data([('10.0.0.1/24', 'rw')], [('10.0.0.1', 'RW')],
              [('10.0.0.1', 'rw'), ('10.0.0.1/32', 'ro')], [('*', 'rw')],
              [('10.0.0.1', 'rw', 'extra')])
    def test_publish_bad_clients_touch_nothing(self, clients):
        self.assertRaises((exception.InvalidInput, ValueError),
                          self.mgr.publish, 'svm_a', 'vol-1', clients)
        self.mgr.xfs.mount.assert_not_called()
        self.mgr.ganesha.serve.assert_not_called()

    def test_find(self):
        self.assertEqual(self.mgr.ganesha.find_export.return_value,
                         self.mgr.find('svm_a', 'vol-1'))
        self.mgr.ganesha.find_export.assert_called_once_with('svm_a', MNT)

    def test_set_clients(self):
        exp = self.mgr.set_clients('svm_a', 'vol-1', [('fd00::/64', 'ro')])
        self.assertEqual(self.mgr.ganesha.serve.return_value, exp)
        self.assertEqual(mock.call(
            'svm_a', MNT, '/vol-1',
            [ganesha_config.ClientRule('fd00::/64', 'ro', 'no_root_squash')],
            read_only=None, create=False), self.served())
        self.mgr.xfs.mount.assert_not_called()

    def test_set_clients_not_published(self):
        self.mgr.ganesha.serve.return_value = None
        self.assertRaises(exception.NotFound, self.mgr.set_clients, 'svm_a',
                          'vol-1', [])
        self.assertIsNone(self.mgr.set_clients('svm_a', 'vol-1', [],
                                               missing_ok=True))

    def test_unpublish(self):
        self.mgr.unpublish('svm_a', 'vol-1')
        self.mgr.ganesha.withdraw.assert_called_once_with('svm_a', MNT)
        self.mgr.xfs.unmount.assert_called_once_with(MNT)

    def test_unpublish_keeps_mount(self):
        self.mgr.unpublish('svm_a', 'vol-1', unmount=False)
        self.mgr.ganesha.withdraw.assert_called_once_with('svm_a', MNT)
        self.mgr.xfs.unmount.assert_not_called()

    def test_mount_exports(self):
        self.mgr.mount_exports([ganesha_config.Export(1, MNT, '/vol-1')])
        self.mgr.xfs.mount.assert_called_once_with('/dev/arca/vol-1', MNT,
                                                   options=())

    def test_lv_name_of_foreign_path(self):
        self.assertRaises(exception.Conflict, export.lv_name_of,
                          ganesha_config.Export(1, '/var/lib/arca/mnt/a/b',
                                                '/b'))
