"""Unit tests of the Manila driver: what one tenant must not reach.

Share transfers, adopting SVMs as share servers, manage references and
share server allocations: each refusal comes before any command that
changes the node (or before any command at all where nothing needs to be
read to decide), and every error is a Manila exception with its message.
"""

from unittest import mock
import uuid

import ddt
from manila import exception

from tests.unit.manila import fakes
from tests.unit.manila.fakes import LV
from tests.unit.manila.fakes import PROJECT
from tests.unit.manila.fakes import row
from tests.unit.manila.fakes import SERVER
from tests.unit.manila.fakes import SERVER_SVM
from tests.unit.manila.fakes import SHARE
from tests.unit.manila.fakes import SNAP_LV
from tests.unit.manila.fakes import SNAP_TAGS
from tests.unit.manila.fakes import SVM
from tests.unit.manila.fakes import TAGS
from tests.unit.manila import test_servers

NEW_PROJECT = 'fedcba9876543210fedcba9876543210'
SHARED = 'arca_shared'
SERVER_OWNER = 'arca.share_server=' + SERVER


def rules():
    return [fakes.rule('r1', '10.0.0.5'), fakes.rule('r2', '10.0.0.0/24',
                                                     'ro')]


def tags(svm, project=PROJECT):
    return 'arca.id=%s,arca.kind=share,arca.project=%s,arca.svm=%s' % (
        SHARE, project, svm)


@ddt.ddt
class TransferTestCase(fakes.DriverTestCase):
    """Share transfer (API 2.77): driver.transfer_accept."""

    def _use(self, drv):
        drv.node_client.agent.svms.ganesha = self.ganesha
        svms = drv.node_client.agent.svms
        svms.netns = self.driver.node_client.agent.svms.netns
        self.driver = drv

    def _snapshot_of_share(self, svm=SVM):
        snap_tags = SNAP_TAGS.replace('arca.svm=' + SVM, 'arca.svm=' + svm)
        self.vg(row(LV, 3, tags(svm)), row(SNAP_LV, 3, snap_tags,
                                           origin=LV))
        self.lv(SNAP_LV, row(SNAP_LV, 3, snap_tags, origin=LV))

    def _assert_retagged(self, *names):
        """Only the LVs' project tags changed; nothing was exported anew."""
        for name in names:
            self.ran('lvchange', '--deltag', 'arca.project=' + PROJECT,
                     'arca/' + name)
            self.ran('lvchange', '--addtag', 'arca.project=' + NEW_PROJECT,
                     'arca/' + name)
        self.assertEqual(
            {'lvs', 'lvchange'}, {c[0] for c in self.executor.commands})
        self.assertEqual([], self.ganesha.added + self.ganesha.updated)
        self.assertEqual([], self.ganesha.removed)

    @ddt.data((True, False), (False, False), (True, True), (False, True))
    @ddt.unpack
    def test_per_project_transfer_accepted_in_place(
            self, with_rules, with_snapshot):
        # The share stays on its first owner's SVM, with its export and
        # clients (Manila keeps its export locations); no SVM is made for
        # the new owner.
        self.lv(LV, row(LV, 3, TAGS))
        if with_snapshot:
            self._snapshot_of_share()
        else:
            self.vg(row(LV, 3, TAGS))
        exp = self.exported(clients=[('10.0.0.5', 'rw')])
        self.driver.transfer_accept(
            None, self.share, 'user2', NEW_PROJECT,
            access_rules=rules() if with_rules else [], share_server=None)
        self.assertEqual(exp, self.export_of())
        self._assert_retagged(*((LV, SNAP_LV) if with_snapshot else (LV,)))

    def test_transfer_back_to_owner_does_nothing(self):
        # What Manila's roll-back of a refused transfer asks.
        self.driver.transfer_accept(None, self.share, 'user1', PROJECT,
                                    access_rules=rules())
        self.assertEqual([], self.executor.commands)
        self.only_read()

    @ddt.data('', None, 42)
    def test_transfer_bad_project(self, project):
        self.assertRaises(exception.InvalidInput,
                          self.driver.transfer_accept, None, self.share,
                          'user2', project)
        self.assertEqual([], self.executor.commands)

    def test_transfer_missing_lv(self):
        self.lv(LV)
        err = self.assertRaises(exception.ShareBackendException,
                                self.driver.transfer_accept, None,
                                self.share, 'user2', NEW_PROJECT)
        self.assertIn(LV, str(err))
        self.only_read()

    def test_shared_svm_transfer_accepted_in_place(self):
        self._use(self.make_driver(fakes.FakeConf(
            arca_svm_mapping='shared', arca_address_pools=[])))
        self.lv(LV, row(LV, 3, tags(SHARED)))
        self._snapshot_of_share(SHARED)
        exp = self.exported(clients=[('10.0.0.5', 'rw')], svm=SHARED)
        self.driver.transfer_accept(None, self.share, 'user2', NEW_PROJECT,
                                    access_rules=rules())
        self.assertEqual(exp, self.export_of(svm=SHARED))
        self._assert_retagged(LV, SNAP_LV)

    def test_server_transfer_stays_on_server(self):
        self._use(self.make_driver(fakes.FakeConf(dhss=True)))
        self.lv(LV, row(LV, 3, tags(SERVER_SVM)))
        self.vg(row(LV, 3, tags(SERVER_SVM)))
        exp = self.exported(svm=SERVER_SVM)
        self.driver.transfer_accept(None, self.share, 'user2', NEW_PROJECT,
                                    share_server=fakes.share_server())
        self.assertEqual(exp, self.export_of(svm=SERVER_SVM))
        self.ran('lvchange', '--addtag', 'arca.project=' + NEW_PROJECT,
                 'arca/' + LV)
        self.assertEqual([], self.ganesha.added + self.ganesha.updated)

    def test_transfer_from_other_svm_in_shared_mapping(self):
        # A share still on a per-project SVM of an earlier mapping stays
        # there too.
        self._use(self.make_driver(fakes.FakeConf(
            arca_svm_mapping='shared', arca_address_pools=[])))
        self.lv(LV, row(LV, 3, TAGS))
        self.vg(row(LV, 3, TAGS))
        exp = self.exported(clients=[('10.0.0.5', 'rw')])
        self.driver.transfer_accept(None, self.share, 'user2', NEW_PROJECT)
        self.assertEqual(exp, self.export_of())
        self._assert_retagged(LV)


@ddt.ddt
class ManageServerTestCase(fakes.DriverTestCase):
    """Adopting an SVM as a share server: only a share server's."""

    DHSS = True

    def _svm(self, owner=SERVER_OWNER):
        self.svm_exists(SERVER_SVM, ('10.1.0.5/24',), (), owner=owner)

    def test_adopts_share_server_svm(self):
        self._svm()
        share_tags = tags(SERVER_SVM)
        snap_tags = SNAP_TAGS.replace('arca.svm=' + SVM,
                                      'arca.svm=' + SERVER_SVM)
        self.vg(row(LV, 3, share_tags), row(SNAP_LV, 3, snap_tags))
        server = fakes.share_server()
        self.assertEqual(['10.1.0.5'],
                         self.driver.get_share_server_network_info(
                             None, server, SERVER_SVM, {}))
        svm, details = self.driver.manage_server(None, server, SERVER_SVM,
                                                 {})
        self.assertEqual(SERVER_SVM, svm)
        self.only_read()

    @ddt.data('arca.project=' + PROJECT, 'arca.shared=' + SHARED, None,
              '', 'arca.share_server=not-a-uuid',
              'arca.share_server=' + SERVER + ',x',
              'xarca.share_server=' + SERVER)
    def test_refuses_svm_of_no_share_server(self, owner):
        self._svm(owner)
        for call in (self.driver.get_share_server_network_info,
                     self.driver.manage_server):
            err = self.assertRaises(exception.ManageShareServerError, call,
                                    None, fakes.share_server(), SERVER_SVM,
                                    {})
            self.assertIn('not the SVM of a share server', str(err))
        self.only_read()
        self.not_ran('lvs')

    @ddt.data(SVM, str(uuid.UUID(PROJECT)))
    def test_refuses_per_project_svm_of_dhss_false_backend(self, given):
        # A project's SVM named like the share servers of this backend,
        # by its name or by a server id that maps to that name.
        self.svm_exists(SVM)
        self.assertRaises(exception.ManageShareServerError,
                          self.driver.manage_server, None,
                          fakes.share_server(), given, {})
        self.only_read()

    @ddt.data('arca.kind=volume', '', 'arca.kind=share_replica')
    def test_refuses_svm_serving_other_things(self, kind):
        self._svm()
        other = ','.join(t for t in (kind, 'arca.svm=' + SERVER_SVM) if t)
        self.vg(row(LV, 3, tags(SERVER_SVM)), row('volume-1', 3, other))
        err = self.assertRaises(exception.ManageShareServerError,
                                self.driver.manage_server, None,
                                fakes.share_server(), SERVER_SVM, {})
        self.assertIn('volume-1', str(err))
        self.only_read()

    def test_node_down(self):
        self.executor.on('cat', timeout=True)
        err = self.assertRaises(exception.ShareBackendException,
                                self.driver.manage_server, None,
                                fakes.share_server(), SERVER_SVM, {})
        self.assertIn('Looking up SVM', str(err))


@ddt.ddt
class ManageReferenceTestCase(fakes.DriverTestCase):
    """Manage references: exactly one of the documented forms."""

    @ddt.data('../../etc/passwd', 'rhel/root', 'host:/share-x/../../etc',
              '10.0.0.10:/share-x/../../etc', '10.0.0.10:/a/b',
              'arca/a/b', 'arca/../x', '/../x', '//x', 'host:/legacy',
              'fd00::1:/legacy', '[10.0.0.10]:/legacy',
              '[fd00::1:/legacy', '10.0.0.10:legacy', '10.0.0.10:/legacy/',
              '10.0.0.10:/', ':/legacy', '10.0.0.10:/..', '..', '.',
              'a b', '10.0.0.10:/-x', '0.0.0.0:/legacy',
              '10.0.0.10:/rhel/root', 'legacy\n/etc')
    def test_bad_export_path(self, path):
        err = self.assertRaises(
            exception.ManageInvalidShare, self.driver.manage_existing,
            fakes.share(export_locations=[{'path': path}]), {})
        self.assertNotIn('%(', str(err))
        self.assertEqual([], self.executor.commands)

    @ddt.data('arca/legacy', '../legacy', 'a/b', '/legacy',
              '10.0.0.10:/legacy', 'rhel/root', '..')
    def test_bad_lv_name_option(self, name):
        self.assertRaises(
            exception.ManageInvalidShare, self.driver.manage_existing,
            fakes.share(export_locations=[{'path': '10.0.0.10:/legacy'}]),
            {'lv_name': name})
        self.assertEqual([], self.executor.commands)

    @ddt.data(('10.0.0.10:/legacy', 'legacy'),
              (' 10.0.0.10:/legacy ', 'legacy'),
              ('[fd00::10]:/share-x', 'share-x'),
              ('/legacy', 'legacy'), ('legacy', 'legacy'),
              ('arca/legacy', 'legacy'))
    @ddt.unpack
    def test_good_export_path(self, path, name):
        self.assertEqual(name, self.driver._manage_ref(
            fakes.share(export_locations=[{'path': path}]), {}))
        self.assertEqual([], self.executor.commands)

    def test_bad_share_id(self):
        self.assertRaises(
            exception.ManageInvalidShare, self.driver.manage_existing,
            fakes.share('x;y', export_locations=[{'path': '/legacy'}]), {})
        self.assertEqual([], self.executor.commands)

    @ddt.data({'share_instance_id': '../x'}, {'id': 'x y'})
    def test_bad_snapshot_ids(self, values):
        self.assertRaises(
            exception.ManageInvalidShareSnapshot,
            self.driver.manage_existing_snapshot,
            fakes.snapshot(provider_location='legacy', **values), {})
        self.assertEqual([], self.executor.commands)


@ddt.ddt
class AllocationTestCase(fakes.DriverTestCase):
    """A share server's allocation with a bad value: a network error."""

    DHSS = True

    @ddt.data('1500x', 'abc', '15.0', '-1', 67, 70000, True, [1500])
    def test_bad_mtu(self, mtu):
        err = self.assertRaises(exception.NetworkBadConfigurationException,
                                self.driver._setup_server,
                                [test_servers.info(test_servers.alloc(
                                    mtu=mtu))])
        self.assertIn('MTU', str(err))
        self.assertEqual([], self.executor.commands)

    @ddt.data('1500', 9000)
    def test_mtu_as_string_or_int(self, mtu):
        svms = self.driver.node_client.agent.svms
        with mock.patch.object(svms, 'create', return_value=None) as create:
            self.driver._setup_server([test_servers.info(
                test_servers.alloc(mtu=mtu))])
        self.assertEqual(int(mtu), create.call_args[0][1].mtu)

    @ddt.data('1x', 'abc')
    def test_bad_segmentation_id(self, seg):
        self.assertRaises(exception.NetworkBadConfigurationException,
                          self.driver._setup_server,
                          [test_servers.info(test_servers.alloc(
                              segmentation_id=seg))])
        self.assertEqual([], self.executor.commands)

    def test_allocation_without_address(self):
        allocation = test_servers.alloc()
        del allocation['ip_address']
        self.assertRaises(exception.NetworkBadConfigurationException,
                          self.driver._setup_server,
                          [test_servers.info(allocation)])


@ddt.ddt
class ErrorTestCase(fakes.DriverTestCase):
    """Every error is a Manila exception with its whole message."""

    def _check(self, err):
        self.assertIsInstance(err, exception.ManilaException)
        self.assertTrue(err.msg)
        self.assertNotIn('%(', err.msg)
        self.assertIsInstance(err.detail_data, dict)
        return err

    def test_backend_failure_message(self):
        self.executor.on('lvcreate', exit_code=5, stderr='Insufficient '
                         'free space for thin pool')
        self.lv(LV)
        err = self._check(self.assertRaises(
            exception.ShareBackendException, self.driver.create_share,
            None, self.share))
        self.assertIn('Share backend error: Creating share %s on storage '
                      'node localhost' % SHARE, err.msg)
        self.assertIn('Insufficient free space', err.msg)
        self.assertEqual(err.msg, str(err))

    @ddt.data('create_share', 'delete_share', 'extend_share',
              'shrink_share', 'update_access', 'transfer_accept',
              'manage_existing', 'unmanage', 'create_snapshot',
              'delete_snapshot', 'manage_existing_snapshot',
              'unmanage_snapshot', 'snapshot_update_access',
              'revert_to_snapshot')
    def test_bad_ids(self, method):
        share = fakes.share('x;rm -rf /', export_locations=[
            {'path': '10.0.0.10:/legacy'}])
        snapshot = fakes.snapshot('../x', share_id='x;y',
                                  provider_location='legacy')
        args = {
            'create_share': (None, share),
            'delete_share': (None, share),
            'extend_share': (share, 2),
            'shrink_share': (share, 1),
            'update_access': (None, share, [], [], [], []),
            'transfer_accept': (None, share, 'u', NEW_PROJECT),
            'manage_existing': (share, {}),
            'unmanage': (share,),
            'create_snapshot': (None, snapshot),
            'delete_snapshot': (None, snapshot),
            'manage_existing_snapshot': (snapshot, {}),
            'unmanage_snapshot': (snapshot,),
            'snapshot_update_access': (None, snapshot, [], [], []),
            'revert_to_snapshot': (None, snapshot, [], []),
        }[method]
        self.lv(LV, row(LV, 3, TAGS))
        err = self.assertRaises(exception.ManilaException,
                                getattr(self.driver, method), *args)
        self._check(err)
        self.assertEqual([], self.executor.commands)
