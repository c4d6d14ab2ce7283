from unittest import mock

import ddt

from arca_openstack import exception
from arca_openstack.node import export
from arca_openstack.node import ganesha
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

    def test_publish_new(self):
        self.mgr.ganesha.export_ids.return_value = [1, 3]
        self.mgr.ganesha.get_export.return_value = ganesha.Export(
            1, '/var/lib/arca/mnt/other', '/other')
        exp = self.mgr.publish('svm_a', 'vol-1',
                               [('10.0.0.0/24', 'rw'), ('10.1.0.7', 'ro')])
        self.assertEqual(
            ganesha.Export(2, MNT, '/vol-1', (
                ganesha.ClientRule('10.0.0.0/24', 'rw', 'no_root_squash'),
                ganesha.ClientRule('10.1.0.7', 'ro', 'no_root_squash')),
                False), exp)
        self.mgr.xfs.mount.assert_called_once_with('/dev/arca/vol-1', MNT,
                                                   options=())
        self.mgr.ganesha.add_export.assert_called_once_with('svm_a', exp)

    def test_publish_existing_updates_clients(self):
        old = ganesha.Export(4, MNT, '/vol-1', (), False)
        self.mgr.ganesha.export_ids.return_value = [4]
        self.mgr.ganesha.get_export.return_value = old
        exp = self.mgr.publish('svm_a', 'vol-1', [('10.0.0.9', 'rw')])
        self.assertEqual(4, exp.export_id)
        self.mgr.ganesha.add_export.assert_not_called()
        self.mgr.ganesha.update_export.assert_called_once_with('svm_a', exp)

    def test_publish_mount_options(self):
        self.mgr.publish('svm_a', 'vol-1', read_only=True,
                         mount_options=('ro', 'nouuid'))
        self.mgr.xfs.mount.assert_called_once_with(
            '/dev/arca/vol-1', MNT, options=('ro', 'nouuid'))
        self.assertTrue(self.mgr.ganesha.add_export.call_args[0][1].read_only)

    def test_publish_activates_inactive_lv(self):
        self.pool.get.return_value = {'name': 'vol-1', 'active': False}
        self.mgr.publish('svm_a', 'vol-1')
        self.pool.activate.assert_called_once_with('vol-1')

    def test_publish_missing_lv(self):
        self.pool.get.return_value = None
        self.assertRaises(exception.NotFound, self.mgr.publish, 'svm_a',
                          'vol-1')
        self.mgr.ganesha.add_export.assert_not_called()

    @ddt.data([('10.0.0.1/24', 'rw')], [('10.0.0.1', 'RW')],
              [('10.0.0.1', 'rw'), ('10.0.0.1/32', 'ro')], [('*', 'rw')],
              [('10.0.0.1', 'rw', 'extra')])
    def test_publish_bad_clients_touch_nothing(self, clients):
        self.assertRaises((exception.InvalidInput, ValueError),
                          self.mgr.publish, 'svm_a', 'vol-1', clients)
        self.mgr.xfs.mount.assert_not_called()
        self.mgr.ganesha.add_export.assert_not_called()

    def test_set_clients(self):
        old = ganesha.Export(4, MNT, '/vol-1', (), False)
        self.mgr.ganesha.export_ids.return_value = [4]
        self.mgr.ganesha.get_export.return_value = old
        exp = self.mgr.set_clients('svm_a', 'vol-1', [('fd00::/64', 'ro')])
        self.assertEqual((ganesha.ClientRule('fd00::/64', 'ro',
                                             'no_root_squash'),),
                         exp.clients)

    def test_set_clients_not_published(self):
        self.assertRaises(exception.NotFound, self.mgr.set_clients, 'svm_a',
                          'vol-1', [])

    def test_unpublish(self):
        self.mgr.ganesha.export_ids.return_value = [4]
        self.mgr.ganesha.get_export.return_value = ganesha.Export(
            4, MNT, '/vol-1', (), False)
        self.mgr.unpublish('svm_a', 'vol-1')
        self.mgr.ganesha.remove_export.assert_called_once_with('svm_a', 4)
        self.mgr.xfs.unmount.assert_called_once_with(MNT)

    def test_unpublish_absent_is_idempotent(self):
        self.mgr.unpublish('svm_a', 'vol-1')
        self.mgr.ganesha.remove_export.assert_not_called()
        self.mgr.xfs.unmount.assert_called_once_with(MNT)

    def test_mount_exports(self):
        self.mgr.mount_exports([ganesha.Export(1, MNT, '/vol-1')])
        self.mgr.xfs.mount.assert_called_once_with('/dev/arca/vol-1', MNT,
                                                   options=())

    def test_lv_name_of_foreign_path(self):
        self.assertRaises(exception.Conflict, export.lv_name_of,
                          ganesha.Export(1, '/var/lib/arca/mnt/a/b', '/b'))

    def test_no_free_id(self):
        self.mgr.ganesha.export_ids.return_value = list(range(1, 65536))
        self.mgr.ganesha.get_export.return_value = None
        self.assertRaises(exception.CapacityExceeded, self.mgr.publish,
                          'svm_a', 'vol-1')
