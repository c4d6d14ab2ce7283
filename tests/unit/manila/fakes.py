"""Shared set-up of the Manila driver unit tests.

LVM, XFS, quotas and SVM records run through the real node library and
the FakeExecutor (so every command is checked against the rootwrap
filters); Ganesha and namespace plumbing are mocks, as in the node
library's own export and SVM tests.
"""

import json
from unittest import mock

from arca_openstack.manila import driver
from arca_openstack.manila import opts
from arca_openstack.node import ganesha_config
from arca_openstack.node import lvm
from arca_openstack.node import svm
from tests.unit import base
from tests.unit import fake_ganesha

GiB = 1024 ** 3
PROJECT = '0123456789abcdef0123456789abcdef'
SVM = 'manila_' + PROJECT
SERVER = 'abcdef01-2345-6789-abcd-ef0123456789'
SERVER_SVM = 'manila_abcdef0123456789abcdef0123456789'
SHARE = '11111111-2222-3333-4444-555555555555'
SHARE2 = '66666666-2222-3333-4444-555555555555'
SNAP = '77777777-2222-3333-4444-555555555555'
LV = 'share-' + SHARE
LV2 = 'share-' + SHARE2
SNAP_LV = 'ssnap-' + SNAP
MNT = '/var/lib/arca/mnt/' + LV
MNT2 = '/var/lib/arca/mnt/' + LV2
SNAP_MNT = '/var/lib/arca/mnt/' + SNAP_LV
DEV = '/dev/arca/' + LV
POOL = ('mode=vlan,parent=eth1,vlan=100,cidr=10.0.0.0/24,'
        'range=10.0.0.10-10.0.0.20,gateway=10.0.0.1')
LVS = lvm._LVS
# Commands that only look: lvs, reading SVM records and listing them,
# findmnt.
READ_ONLY = {'lvs', 'cat', 'ls', 'findmnt'}
NEW_UUID = ('Clearing log and setting UUID\nwriting all SBs\n'
            'new UUID = 0b4a0e8a-1111-2222-3333-444444444444\n')
TAGS = 'arca.id=%s,arca.kind=share,arca.project=%s,arca.svm=%s' % (
    SHARE, PROJECT, SVM)
SNAP_TAGS = ('arca.id=%s,arca.kind=share_snapshot,arca.project=%s,'
             'arca.share=%s,arca.size=1,arca.svm=%s'
             % (SNAP, PROJECT, SHARE, SVM))


class FakeConf(object):
    """The backend's configuration, as Manila's Configuration reads it."""

    def __init__(self, dhss=False, **kwargs):
        for opt in opts.all_opts():
            setattr(self, opt.dest, opt.default)
        self.config_group = 'arca1'
        self.network_config_group = None
        self.admin_network_config_group = None
        self.driver_handles_share_servers = dhss
        self.share_backend_name = 'arca'
        self.reserved_share_percentage = 5
        self.reserved_share_from_snapshot_percentage = 2
        self.reserved_share_extend_percentage = 1
        self.max_over_subscription_ratio = 20.0
        self.filter_function = None
        self.goodness_function = None
        self.replication_domain = None
        self.max_shares_per_share_server = -1
        self.max_share_server_size = -1
        self.arca_address_pools = [POOL]
        if dhss:
            self.arca_share_server_parent_interface = 'eth1'
        self.__dict__.update(kwargs)

    def append_config_values(self, values):
        pass

    def safe_get(self, name):
        return getattr(self, name, None)


def row(name, size_gib, tags='', origin='', segtype='thin', pool='pool',
        attr='Vwi-aotz--', data='10.00'):
    return {'lv_name': name, 'vg_name': 'arca',
            'lv_size': str(size_gib * GiB), 'lv_attr': attr,
            'lv_tags': tags, 'origin': origin, 'pool_lv': pool,
            'segtype': segtype, 'data_percent': data,
            'metadata_percent': '1.00'}


def report(*rows):
    return json.dumps({'report': [{'lv': list(rows)}]})


def network(addresses=('10.0.0.10/24',), gateways=('10.0.0.1',)):
    return svm.make_network('vlan', list(addresses), list(gateways),
                            parent='eth1', vlan=100)


def svm_record(name=SVM, addresses=('10.0.0.10/24',),
               gateways=('10.0.0.1',), owner='arca.project=' + PROJECT):
    return json.dumps({'name': name, 'owner': owner,
                       'network': network(addresses, gateways)._asdict()})


def quota_report(used_bytes, mountpoint=MNT):
    return ('/dev/mapper/arca-share  %d 0 %d 00 [--------] %s\n'
            % (used_bytes // 1024, GiB // 1024, mountpoint))


def share(sid=SHARE, size=1, proto='NFS', **kwargs):
    values = {'id': sid, 'share_id': 'aaaa' + sid[4:], 'size': size,
              'project_id': PROJECT, 'share_proto': proto,
              'mount_snapshot_support': False, 'export_locations': []}
    values.update(kwargs)
    return values


def snapshot(sid=SNAP, share_id=SHARE, size=1, mountable=False, **kwargs):
    values = {'id': sid, 'snapshot_id': 'bbbb' + sid[4:],
              'share_instance_id': share_id, 'size': size,
              'project_id': PROJECT, 'provider_location': None,
              'share': share(share_id, size,
                             mount_snapshot_support=mountable)}
    values.update(kwargs)
    return values


def rule(access_id, access_to, level='rw', access_type='ip'):
    return {'id': 'map-' + access_id, 'access_id': access_id,
            'access_type': access_type, 'access_to': access_to,
            'access_level': level}


def share_server(sid=SERVER, svm_name=SERVER_SVM, **details):
    backend = {'svm_name': svm_name} if svm_name else {}
    backend.update(details)
    return {'id': sid, 'backend_details': backend, 'identifier': svm_name}


class DriverTestCase(base.TestCase):

    DHSS = False

    def setUp(self):
        super().setUp()
        self.conf = FakeConf(dhss=self.DHSS)
        self.network_api = mock.patch('manila.network.API').start()
        self.network_api.return_value.enabled_ip_versions = {4, 6}
        self.addCleanup(mock.patch.stopall)
        self.driver = self.make_driver(self.conf)
        # lvs look-ups of several LVs are answered from the lv() rules.
        self.executor.lvs_by_name = True
        self.ganesha = fake_ganesha.FakeGanesha()
        self.driver.node_client.agent.svms.ganesha = self.ganesha
        self.driver.node_client.agent.svms.netns = base.mock_netns()
        self.share = share()

    def make_driver(self, conf):
        drv = driver.ArcaShareDriver(configuration=conf)
        drv.executor = self.executor
        drv.do_setup(None)
        return drv

    # -- scripting the node --

    def lv(self, name, *rows, times=None):
        target = 'arca/' + name
        if rows:
            self.executor.on(*(LVS + (target,)), stdout=report(*rows),
                             times=times)
        else:
            self.executor.on(*(LVS + (target,)), exit_code=5,
                             stderr='Failed to find logical volume "%s"'
                             % target, times=times)

    def lv_appears(self, name, lv_row):
        """Missing at the first look, then there (made by lvcreate)."""
        self.lv(name, lv_row)
        self.lv(name, times=1)

    def vg(self, *rows):
        self.executor.on(*(LVS + ('arca',)), stdout=report(*rows))

    def svm_exists(self, name=SVM, addresses=('10.0.0.10/24',),
                   gateways=('10.0.0.1',), owner='arca.project=' + PROJECT):
        self.executor.on('ls', '-1A', '/var/lib/arca/svm',
                         stdout=name + '\n')
        self.executor.on('cat', '/var/lib/arca/svm/%s/svm.json' % name,
                         stdout=svm_record(name, addresses, gateways, owner))

    def no_svm(self, name=SVM):
        self.executor.on('cat', '/var/lib/arca/svm/%s/svm.json' % name,
                         exit_code=1, stderr='cat: No such file or directory')

    def mounted(self, lv, times=None):
        self.executor.on('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET',
                         '--mountpoint', '/var/lib/arca/mnt/' + lv,
                         stdout='/dev/mapper/arca-%s /var/lib/arca/mnt/%s\n'
                         % (lv.replace('-', '--'), lv), times=times)

    def not_mounted(self, lv, times=None):
        self.executor.on('findmnt', '-n', '-r', '-o', 'SOURCE,TARGET',
                         '--mountpoint', '/var/lib/arca/mnt/' + lv,
                         exit_code=1, times=times)

    def mounted_later(self, lv):
        """Not mounted at the first look, then mounted."""
        self.mounted(lv)
        self.not_mounted(lv, times=1)

    def used(self, used_bytes, mountpoint=MNT):
        self.executor.on('xfs_quota', '-x', '-c', 'quota -p -v -N -n -b 1',
                         mountpoint, stdout=quota_report(used_bytes,
                                                         mountpoint))

    def exported(self, lv=LV, clients=(), eid=1, read_only=False, svm=SVM):
        exp = ganesha_config.Export(
            eid, '/var/lib/arca/mnt/' + lv, '/' + lv,
            tuple(ganesha_config.ClientRule(c, a) for c, a in clients),
            read_only)
        self.ganesha.put(svm, exp)
        return exp

    def export_of(self, lv=LV, svm=SVM):
        """The export ``svm`` now serves for ``lv``, or None."""
        return self.ganesha.find_export(svm, '/var/lib/arca/mnt/' + lv)

    def only_read(self):
        """Only look-ups reached the node; Ganesha, namespaces untouched."""
        self.assertEqual(set(), {c[0] for c in self.executor.commands} -
                         READ_ONLY, self.executor.commands)
        self.assertEqual([], self.ganesha.added)
        self.assertEqual([], self.ganesha.updated)
        self.assertEqual([], self.ganesha.removed)
        self.ganesha.start.assert_not_called()
        self.ganesha.stop.assert_not_called()
        self.ganesha.ensure.assert_not_called()
        svms = self.driver.node_client.agent.svms
        self.assertEqual([], svms.netns.mock_calls)

    def ran(self, *cmd):
        self.assertIn(tuple(cmd), self.executor.commands)

    def not_ran(self, *prefix):
        self.assertFalse([c for c in self.executor.commands
                          if c[:len(prefix)] == tuple(prefix)],
                         'unexpected %r' % (prefix,))

    def index(self, *cmd):
        return self.executor.commands.index(tuple(cmd))

    def limit_cmd(self, size_gib, mountpoint=MNT):
        return ('xfs_quota', '-x', '-c',
                'limit -p bhard=%d 1' % (size_gib * GiB), mountpoint)
