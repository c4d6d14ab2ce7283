"""Unit tests of the Manila driver: manage and unmanage."""

import ddt
from manila import exception

from tests.unit import base
from tests.unit.manila import fakes
from tests.unit.manila.fakes import GiB
from tests.unit.manila.fakes import LV
from tests.unit.manila.fakes import MNT
from tests.unit.manila.fakes import PROJECT
from tests.unit.manila.fakes import row
from tests.unit.manila.fakes import SHARE
from tests.unit.manila.fakes import SNAP
from tests.unit.manila.fakes import SNAP_LV
from tests.unit.manila.fakes import SNAP_TAGS
from tests.unit.manila.fakes import SVM
from tests.unit.manila.fakes import TAGS

OLD = 'legacy_data'
OLD_MNT = '/var/lib/arca/mnt/' + OLD


@ddt.ddt
class ManageShareTestCase(fakes.DriverTestCase):

    def _share(self, path='10.0.0.10:/' + OLD):
        return fakes.share(export_locations=[{'path': path}])

    def _manageable(self, size_gib=13, used=3 * GiB, tags=''):
        self.lv(OLD, row(OLD, size_gib, tags))
        # Missing until the rename, then there with the old tags.
        self.lv(LV, row(LV, size_gib, tags))
        self.lv(LV, times=1)
        # Not mounted when mounted (umount needs no look), then mounted.
        self.mounted(OLD)
        self.not_mounted(OLD, times=1)
        self.mounted(LV)
        self.used(used, OLD_MNT)
        self.svm_exists()

    @ddt.data('10.0.0.10:/' + OLD, '[fd00::1]:/' + OLD, OLD, '/' + OLD,
              'arca/' + OLD)
    def test_manage(self, path):
        self._manageable()
        result = self.driver.manage_existing(self._share(path), {})
        # 13 GiB LV = 11 + 1 headroom + 1 (2 % of 11, rounded up).
        self.assertEqual(11, result['size'])
        self.assertEqual(['10.0.0.10:/' + LV],
                         [e['path'] for e in result['export_locations']])
        cmds = self.executor.commands
        self.ran('mount', '-t', 'xfs', '-o', 'prjquota', '/dev/arca/' + OLD,
                 OLD_MNT)
        self.ran('xfs_quota', '-x', '-c', 'project -s -p %s 1' % OLD_MNT,
                 OLD_MNT)
        self.ran('umount', OLD_MNT)
        self.ran('lvrename', 'arca', OLD, LV)
        self.ran('lvchange', '--addtag', 'arca.svm=' + SVM, 'arca/' + LV)
        self.ran(*self.limit_cmd(11))
        self.assertLess(cmds.index(('umount', OLD_MNT)),
                        cmds.index(('lvrename', 'arca', OLD, LV)))
        self.assertEqual(SVM, self.ganesha.added[-1][0])

    def test_manage_unmanaged_share_with_snapshots(self):
        # A share Manila unmanaged, and its snapshots before it: they name
        # the share's old id, and follow it to its new one.
        old_id = '88888888-2222-3333-4444-555555555555'
        snap_tags = 'arca.kind=share_snapshot,arca.share=%s' % old_id
        other_tags = 'arca.kind=share_snapshot,arca.share=%s' % SNAP
        self._manageable(tags='arca.id=%s,arca.kind=share' % old_id)
        self.vg(row(SNAP_LV, 3, snap_tags), row('ssnap-x', 3, other_tags))
        self.lv(SNAP_LV, row(SNAP_LV, 3, snap_tags))
        self.driver.manage_existing(self._share(), {})
        self.ran('lvchange', '--deltag', 'arca.share=' + old_id,
                 'arca/' + SNAP_LV)
        self.ran('lvchange', '--addtag', 'arca.share=' + SHARE,
                 'arca/' + SNAP_LV)
        self.not_ran('lvchange', '--deltag', 'arca.share=' + SNAP)
        self.assertLess(self.index('lvchange', '--addtag',
                                   'arca.share=' + SHARE, 'arca/' + SNAP_LV),
                        self.index('lvchange', '--addtag', 'arca.id=' + SHARE,
                                   'arca/' + LV))

    def test_manage_size_covers_data(self):
        self._manageable(size_gib=3, used=int(4.5 * GiB))
        result = self.driver.manage_existing(self._share(), {})
        self.assertEqual(5, result['size'])
        self.ran('lvextend', '-L', '7g', 'arca/' + LV)

    def test_manage_size_option(self):
        self._manageable()
        result = self.driver.manage_existing(self._share(), {'size': '4'})
        self.assertEqual(4, result['size'])
        self.ran(*self.limit_cmd(4))

    @ddt.data({'size': '2'}, {'size': 'big'}, {'size': 0})
    def test_manage_size_option_bad(self, options):
        self._manageable()
        self.assertRaises(exception.ManageInvalidShare,
                          self.driver.manage_existing, self._share(),
                          options)
        self.not_ran('lvrename')

    def test_manage_lv_name_option(self):
        self._manageable()
        result = self.driver.manage_existing(fakes.share(),
                                             {'lv_name': OLD})
        self.assertEqual(11, result['size'])

    @ddt.data([], [{'path': '10.0.0.10:/'}], [{'path': '10.0.0.1:/a;b'}])
    def test_manage_bad_reference(self, locations):
        self.assertRaises(exception.ManageInvalidShare,
                          self.driver.manage_existing,
                          fakes.share(export_locations=locations), {})
        self.assertEqual([], self.executor.commands)

    @ddt.data(
        (None, 'no LV'),
        (row(OLD, 3, segtype='linear', pool=''), 'not a thin volume'),
        (row(OLD, 3, 'arca.kind=volume'), 'volume'),
        (row(OLD, 3, 'arca.kind=share_snapshot'), 'share_snapshot'),
        (row(OLD, 3, 'arca.kind=share,arca.svm=other'), 'other'))
    @ddt.unpack
    def test_manage_refused(self, lv_row, reason):
        if lv_row:
            self.lv(OLD, lv_row)
        else:
            self.lv(OLD)
        err = self.assertRaises(exception.ManageInvalidShare,
                                self.driver.manage_existing, self._share(),
                                {})
        self.assertIn(reason, str(err))
        self.not_ran('mount')

    def test_manage_revert_leftover_refused(self):
        name = LV + '-rvold'
        self.lv(name, row(name, 3))
        self.assertRaises(exception.ManageInvalidShare,
                          self.driver.manage_existing,
                          self._share('10.0.0.10:/' + name), {})

    def test_manage_not_xfs(self):
        self.lv(OLD, row(OLD, 3))
        self.executor.on('mount', exit_code=32,
                         stderr='mount: wrong fs type, bad option')
        err = self.assertRaises(exception.ManageInvalidShare,
                                self.driver.manage_existing, self._share(),
                                {})
        self.assertIn('XFS', str(err))
        self.not_ran('lvrename')

    def test_manage_other_protocol(self):
        self.assertRaises(exception.InvalidShare,
                          self.driver.manage_existing,
                          fakes.share(proto='CIFS'), {})

    def test_remanage_own_share(self):
        # Tagged with this share's SVM (never unmanaged): served again.
        self.lv(LV, row(LV, 3, TAGS))
        self.mounted(LV)
        self.used(0, MNT)
        self.svm_exists()
        self.exported()
        result = self.driver.manage_existing(
            self._share('10.0.0.10:/' + LV), {})
        self.assertEqual(1, result['size'])
        self.not_ran('lvrename')
        self.assertEqual([(SVM, 1)], self.ganesha.removed)

    def test_manage_with_server(self):
        drv = self.make_driver(fakes.FakeConf(dhss=True))
        drv.node_client.agent.svms.ganesha = self.ganesha
        drv.node_client.agent.svms.netns = base.mock_netns()
        self._manageable()
        self.svm_exists(fakes.SERVER_SVM)
        result = drv.manage_existing_with_server(
            self._share(), {}, share_server=fakes.share_server())
        self.assertEqual(11, result['size'])
        self.ran('lvchange', '--addtag', 'arca.svm=' + fakes.SERVER_SVM,
                 'arca/' + LV)
        self.assertEqual(fakes.SERVER_SVM,
                         self.ganesha.added[-1][0])

    @ddt.data(True, False)
    def test_unmanage(self, with_server):
        self.lv(LV, row(LV, 3, TAGS))
        self.exported()
        self.mounted(LV)
        self.svm_exists()
        self.vg()
        if with_server:
            self.driver.unmanage_with_server(self.share)
        else:
            self.driver.unmanage(self.share)
        self.assertEqual([(SVM, 1)], self.ganesha.removed)
        self.ran('umount', MNT)
        self.ran('lvchange', '--deltag', 'arca.svm=' + SVM, 'arca/' + LV)
        self.not_ran('lvremove')
        self.ganesha.stop.assert_called_once_with(SVM)

    def test_unmanage_missing(self):
        self.lv(LV)
        self.vg()
        self.no_svm()
        self.driver.unmanage(self.share)
        self.not_ran('lvchange')


@ddt.ddt
class ManageSnapshotTestCase(fakes.DriverTestCase):

    def _snapshot(self, name=OLD, mountable=False):
        return fakes.snapshot(provider_location=name, mountable=mountable)

    def test_manage_snapshot(self):
        self.lv(OLD, row(OLD, 3, origin=LV))
        self.lv(LV, row(LV, 3, TAGS))
        self.lv(SNAP_LV, row(SNAP_LV, 3, origin=LV))
        self.lv(SNAP_LV, times=1)
        result = self.driver.manage_existing_snapshot(self._snapshot(), {})
        self.assertEqual({'size': 1, 'provider_location': SNAP_LV}, result)
        self.ran('lvrename', 'arca', OLD, SNAP_LV)
        for tag in SNAP_TAGS.split(','):
            self.ran('lvchange', '--addtag', tag, 'arca/' + SNAP_LV)

    def test_manage_snapshot_tagged_size_and_mountable(self):
        tags = SNAP_TAGS.replace('arca.size=1', 'arca.size=7').replace(
            SNAP, '99999999-2222-3333-4444-555555555555')
        self.lv(OLD, row(OLD, 9, tags, origin=''))
        self.lv(LV, row(LV, 9, TAGS))
        self.lv(SNAP_LV, row(SNAP_LV, 9, tags))
        self.lv(SNAP_LV, times=1)
        self.svm_exists()
        self.executor.on('xfs_admin', stdout=fakes.NEW_UUID)
        result = self.driver.manage_existing_snapshot_with_server(
            self._snapshot(mountable=True), {})
        self.ran('xfs_admin', '-U', 'generate', '/dev/arca/' + SNAP_LV)
        self.assertEqual(7, result['size'])
        self.assertEqual(['10.0.0.10:/' + SNAP_LV],
                         [e['path'] for e in result['export_locations']])
        self.ran('lvchange', '--deltag',
                 'arca.id=99999999-2222-3333-4444-555555555555',
                 'arca/' + SNAP_LV)
        self.assertTrue(self.ganesha.added[-1][1].read_only)

    @ddt.data(
        (row(OLD, 3, origin='share-other'), 'not a snapshot of'),
        (row(OLD, 3, 'arca.share=88888888-2222-3333-4444-555555555555'),
         'snapshot of share'),
        (row(OLD, 3, 'arca.kind=share', origin=LV), 'holds a share'),
        (None, 'no LV'))
    @ddt.unpack
    def test_manage_snapshot_refused(self, lv_row, reason):
        if lv_row:
            self.lv(OLD, lv_row)
        else:
            self.lv(OLD)
        err = self.assertRaises(exception.ManageInvalidShareSnapshot,
                                self.driver.manage_existing_snapshot,
                                self._snapshot(), {})
        self.assertIn(reason, str(err))
        self.not_ran('lvrename')

    @ddt.data(None, '', 'a b')
    def test_manage_snapshot_bad_reference(self, name):
        self.assertRaises(exception.ManageInvalidShareSnapshot,
                          self.driver.manage_existing_snapshot,
                          self._snapshot(name), {})

    @ddt.data(True, False)
    def test_unmanage_snapshot(self, with_server):
        self.lv(SNAP_LV, row(SNAP_LV, 3, SNAP_TAGS, origin=LV))
        self.exported(SNAP_LV, read_only=True)
        self.mounted(SNAP_LV)
        if with_server:
            self.driver.unmanage_snapshot_with_server(fakes.snapshot())
        else:
            self.driver.unmanage_snapshot(fakes.snapshot())
        self.assertEqual([(SVM, 1)], self.ganesha.removed)
        self.ran('lvchange', '--deltag', 'arca.svm=' + SVM,
                 'arca/' + SNAP_LV)
        self.not_ran('lvremove')

    def test_unmanage_snapshot_missing(self):
        self.lv(SNAP_LV)
        self.driver.unmanage_snapshot(fakes.snapshot())
        self.assertEqual(1, len(self.executor.commands))

    def test_project_tag(self):
        self.assertIn('arca.project=' + PROJECT, SNAP_TAGS)
        self.assertIn(SHARE, SNAP_TAGS)
