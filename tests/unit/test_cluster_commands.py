"""Unit tests of arca_openstack.agent.cluster_commands."""

import argparse
import io
import json
import subprocess
from unittest import mock
from xml.etree import ElementTree

from arca_openstack.agent import cluster_commands as cmds
from arca_openstack.agent import ocf_metadata
from arca_openstack import exception
from arca_openstack.node import cluster
from arca_openstack.node import cluster_config
from arca_openstack.node import drbd
from tests.unit import base
from tests.unit import fake_node
from tests.unit import test_cluster_config
from tests.unit import test_drbd

CLUSTER = cluster_config.parse(test_cluster_config.GOOD)
RES = '/etc/drbd.d/arca-arca1.res'
STATUS = ('drbdsetup', 'sh-status', 'arca1')
NOT_UP = ''


def sh(cstate, role, peer, disk, pdsk):
    return test_drbd.sh_status(cstate, role, peer, disk, pdsk, minor=1,
                               name='arca1')


NEW_PAIR = sh('Connected', 'Secondary', 'Secondary', 'Inconsistent',
              'Inconsistent')
SYNCED = sh('Connected', 'Secondary', 'Secondary', 'UpToDate', 'UpToDate')
PRIMARY = sh('Connected', 'Primary', 'Secondary', 'UpToDate', 'UpToDate')
PEER_PRIMARY = sh('Connected', 'Secondary', 'Primary', 'UpToDate',
                  'UpToDate')
ALONE = sh('WFConnection', 'Secondary', 'Unknown', 'UpToDate', 'DUnknown')
ALONE_INCONSISTENT = sh('WFConnection', 'Secondary', 'Unknown',
                        'Inconsistent', 'DUnknown')
PV_REPORT = ('  {\n      "report": [\n          {\n              "pv": [\n'
             '                  {"pv_name":"/dev/drbd1", "vg_name":"%s"}\n'
             '              ]\n          }\n      ]\n  }\n')
NO_PV = '  Failed to find physical volume "/dev/drbd1".\n'
LVS = ('lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o',
       'lv_name,vg_name,lv_size,lv_attr,lv_tags,origin,pool_lv,segtype,'
       'data_percent,metadata_percent')
MKFS_EXISTS = ('mkfs.xfs: /dev/arca1/arca-state appears to contain an '
               'existing filesystem (xfs).\n')

# crm_mon --output-as=xml of Pacemaker 2.1.5: the summary, node and
# resource elements and attributes as it prints them (trimmed to the
# attributes read).
CRM_MON = """\
<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">
  <summary>
    <stack type="corosync"/>
    <current_dc present="true" version="2.1.5-a3f44794f94" name="s1" id="1"
      with_quorum="%(quorum)s" mixed_version="false"/>
    <nodes_configured number="2"/>
    <resources_configured number="10" disabled="0" blocked="0"/>
  </summary>
  <nodes>
    <node name="s1" id="1" online="true" standby="false" unclean="false"
      type="member"/>
    <node name="s2" id="2" online="%(s2)s" standby="false"
      unclean="false" type="member"/>
  </nodes>
  <resources>
    <resource id="fence-s1" resource_agent="stonith:fence_arcalab"
      role="Started" active="true" failed="false" nodes_running_on="1">
      <node name="s2" id="2" cached="true"/>
    </resource>
    <clone id="ms-arca1" multi_state="true" unique="false" failed="false">
      <resource id="drbd-arca1" resource_agent="ocf:linbit:drbd"
        role="Promoted" active="true" failed="false" nodes_running_on="1">
        <node name="s1" id="1" cached="true"/>
      </resource>
      <resource id="drbd-arca1" resource_agent="ocf:linbit:drbd"
        role="Unpromoted" active="true" failed="false" nodes_running_on="1">
        <node name="s2" id="2" cached="true"/>
      </resource>
    </clone>
    <group id="g-arca1" number_resources="2" managed="true"
      disabled="false">
      <resource id="pool-arca1" resource_agent="ocf:arca:pool"
        role="Started" active="true" failed="false" nodes_running_on="1">
        <node name="s1" id="1" cached="true"/>
      </resource>
      <resource id="ip-arca1" resource_agent="ocf:heartbeat:IPaddr2"
        role="Started" active="true" failed="false" nodes_running_on="1">
        <node name="s1" id="1" cached="true"/>
      </resource>
    </group>
    <clone id="ms-arca2" multi_state="true" unique="false" failed="false">
      <resource id="drbd-arca2" resource_agent="ocf:linbit:drbd"
        role="Stopped" active="false" failed="false" nodes_running_on="0"/>
      <resource id="drbd-arca2" resource_agent="ocf:linbit:drbd"
        role="Stopped" active="false" failed="false" nodes_running_on="0"/>
    </clone>
    <group id="g-arca2" number_resources="2" managed="true"
      disabled="false">
      <resource id="pool-arca2" resource_agent="ocf:arca:pool"
        role="Stopped" active="false" failed="true" nodes_running_on="0"/>
      <resource id="ip-arca2" resource_agent="ocf:heartbeat:IPaddr2"
        role="Stopped" active="false" failed="false" nodes_running_on="0"/>
    </group>
  </resources>
  <status code="0" message="OK"/>
</pacemaker-result>
"""
# crm_mon with no cluster running (Pacemaker 2.1.5, exit code 102).
CRM_MON_DOWN = """\
<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">
  <status code="102" message="Not connected">
    <errors>
      <error>error: Could not connect to launcher: Connection refused</error>
      <error>crm_mon: Connection to cluster failed: Connection refused</error>
    </errors>
  </status>
</pacemaker-result>
"""
CONSTRAINTS = """\
<constraints>
  <rsc_location id="loc-arca1" rsc="g-arca1" node="s1" score="50"/>
  <rsc_location id="arca-move-arca2" rsc="ms-arca2" role="Promoted" \
node="s1" score="INFINITY"/>
</constraints>
"""


class CommandsTestCase(base.TestCase):

    hostname = 's1'

    def setUp(self):
        super().setUp()
        self.said = []
        self.commands = cmds.ClusterCommands(self.executor, CLUSTER,
                                             self.hostname, self.said.append)
        sleep = mock.patch.object(drbd.time, 'sleep')
        sleep.start()
        self.addCleanup(sleep.stop)

    def statuses(self, *outputs):
        """``drbdsetup sh-status arca1`` answers, in this order."""
        self.executor.on(*STATUS, stdout=outputs[-1])
        for out in reversed(outputs):
            self.executor.on(*STATUS, stdout=out, times=1,
                             exit_code=19 if out == NOT_UP else 0)


class SetupTestCase(CommandsTestCase):

    FIRST = [
        ('test', '-s', '/etc/corosync/authkey'),
        ('mkdir', '-p', '/var/log/corosync'),
        ('mkdir', '-p', '/var/lib/corosync'),
        ('mkdir', '-p', '/var/log/pacemaker'),
        ('chown', 'hacluster:haclient', '/var/log/pacemaker'),
        ('mkdir', '-p', '/var/lib/pacemaker'),
        ('chown', 'hacluster:haclient', '/var/lib/pacemaker'),
        ('mkdir', '-p', '/var/lib/pacemaker/cib'),
        ('chown', 'hacluster:haclient', '/var/lib/pacemaker/cib'),
        ('mkdir', '-p', '/var/lib/pacemaker/pengine'),
        ('chown', 'hacluster:haclient', '/var/lib/pacemaker/pengine'),
        ('mkdir', '-p', '/var/lib/pacemaker/blackbox'),
        ('chown', 'hacluster:haclient', '/var/lib/pacemaker/blackbox'),
        ('mkdir', '-p', '/var/lib/pacemaker/cores'),
        ('chown', 'hacluster:haclient', '/var/lib/pacemaker/cores'),
        ('mkdir', '-p', '/usr/lib/ocf/resource.d/arca'),
    ]

    def test_first_run(self):
        self.executor.on('cat', stderr='cat: x: No such file or directory',
                         exit_code=1)
        changed = self.commands.setup('/usr/bin/python3')
        self.assertEqual(['/etc/corosync/corosync.conf',
                          '/etc/drbd.d/arca-arca1.res',
                          '/etc/drbd.d/arca-arca2.res',
                          '/usr/lib/ocf/resource.d/arca/pool'], changed)
        res = [('cat', RES), ('tee', RES + '.tmp'),
               ('mv', '-f', RES + '.tmp', RES), ('drbdadm', 'dump', 'arca1')]
        self.assertCommands(*self.FIRST + [
            ('cat', '/etc/corosync/corosync.conf'),
            ('tee', '/etc/corosync/corosync.conf.tmp'),
            ('mv', '-f', '/etc/corosync/corosync.conf.tmp',
             '/etc/corosync/corosync.conf')] + res + [
            tuple(w.replace('arca1', 'arca2') for w in cmd) for cmd in res
        ] + [
            ('cat', '/usr/lib/ocf/resource.d/arca/pool'),
            ('tee', '/usr/lib/ocf/resource.d/arca/pool.tmp'),
            ('chmod', '755', '/usr/lib/ocf/resource.d/arca/pool.tmp'),
            ('mv', '-f', '/usr/lib/ocf/resource.d/arca/pool.tmp',
             '/usr/lib/ocf/resource.d/arca/pool')])
        self.assertEqual(cluster.render_corosync(CLUSTER),
                         self.executor.input_for('tee', '/etc/corosync/'
                                                 'corosync.conf.tmp'))
        self.assertEqual(cluster.render_pool_resource(CLUSTER,
                                                      CLUSTER.pools[0]),
                         self.executor.input_for('tee', RES + '.tmp'))
        self.assertEqual(cmds.ocf_wrapper('/usr/bin/python3'),
                         self.executor.input_for(
                             'tee', '/usr/lib/ocf/resource.d/arca/pool.tmp'))
        self.assertTrue(self.executor.input_for(
            'tee', '/usr/lib/ocf/resource.d/arca/pool.tmp').endswith(
            '\nexec /usr/bin/python3 -m arca_openstack.cmd.ocf_pool '
            '"$@"\n'))

    def test_second_run_changes_nothing(self):
        wrapper = cmds.ocf_wrapper('/usr/bin/python3')
        self.executor.on('cat', '/etc/corosync/corosync.conf',
                         stdout=cluster.render_corosync(CLUSTER))
        for pool in CLUSTER.pools:
            self.executor.on('cat', drbd.resource_path(pool.name),
                             stdout=cluster.render_pool_resource(CLUSTER,
                                                                 pool))
        self.executor.on('cat', cmds.OCF_AGENT, stdout=wrapper)
        self.assertEqual([], self.commands.setup('/usr/bin/python3'))
        self.assertCommands(*self.FIRST + [
            ('cat', '/etc/corosync/corosync.conf'),
            ('cat', RES), ('cat', '/etc/drbd.d/arca-arca2.res'),
            ('cat', cmds.OCF_AGENT)])

    def test_no_authkey(self):
        self.executor.on('test', exit_code=1)
        err = self.assertRaises(exception.NotFound, self.commands.setup,
                                '/usr/bin/python3')
        self.assertEqual(
            '/etc/corosync/authkey is missing: make it once with '
            'corosync-keygen on one node, copy it to the other (owner '
            'root, mode 0400), then run arca-node cluster setup on both',
            str(err))
        self.assertCommands(('test', '-s', '/etc/corosync/authkey'))

    def test_wrapper(self):
        self.assertEqual(
            'PYTHONPATH=/run/arcalab/src exec /opt/v/bin/python '
            '-m arca_openstack.cmd.ocf_pool "$@"\n',
            cmds.ocf_wrapper('/opt/v/bin/python',
                             '/run/arcalab/src').splitlines(True)[-1])
        self.assertEqual(
            'PYTHONPATH=/a:/b exec /usr/bin/python3 -m '
            'arca_openstack.cmd.ocf_pool "$@"\n',
            cmds.ocf_wrapper('/usr/bin/python3',
                             '/a::/b:').splitlines(True)[-1])
        self.assertRaises(exception.InvalidInput, cmds.ocf_wrapper,
                          '/usr/bin/python3', '/a;reboot')
        self.assertRaises(exception.InvalidInput, cmds.ocf_wrapper,
                          'python3')

    def test_wrapper_answers_meta_data_without_python(self):
        # The real sh runs the wrapper: meta-data must not need the
        # interpreter (here one that does not exist).
        script = cmds.ocf_wrapper('/nonexistent/python')
        out = subprocess.run(['sh', '-c', script, 'pool', 'meta-data'],
                             capture_output=True, text=True)
        self.assertEqual(0, out.returncode, out.stderr)
        self.assertEqual(ocf_metadata.meta_data(), out.stdout)
        ElementTree.fromstring(out.stdout)
        out = subprocess.run(['sh', '-c', script, 'pool', 'monitor'],
                             capture_output=True, text=True)
        self.assertEqual(127, out.returncode)

    def test_not_a_node(self):
        err = self.assertRaises(exception.InvalidInput,
                                cmds.ClusterCommands, self.executor,
                                CLUSTER, 'vm')
        self.assertEqual("Invalid this node 'vm': is not in [cluster] nodes "
                         "(s1, s2)", str(err))


class CreatePoolTestCase(CommandsTestCase):

    START = [
        ('cibadmin', '--query', '--xpath', "//clone[@id='ms-arca1']"),
        ('cat', RES),
    ]

    def setUp(self):
        super().setUp()
        self.executor.on('cibadmin', exit_code=105)
        self.executor.on('cat', RES, stdout=cluster.render_pool_resource(
            CLUSTER, CLUSTER.pools[0]))

    def test_new_pool_on_preferred_node(self):
        self.statuses(NOT_UP, NOT_UP, NEW_PAIR, NEW_PAIR, NEW_PAIR, SYNCED,
                      SYNCED, PRIMARY, SYNCED)
        self.executor.on('drbdadm', 'get-gi', exit_code=1)
        self.executor.on('pvs', stderr=NO_PV, exit_code=5)
        self.executor.on('blkid', exit_code=2)
        self.executor.on('lvs', stderr=fake_node.NOT_FOUND % 'x',
                         exit_code=5)
        self.commands.create_pool('arca1')
        self.assertCommands(*self.START + [
            STATUS, ('drbdadm', 'get-gi', 'arca1'),
            ('drbdadm', 'create-md', 'arca1'),
            STATUS, ('drbdadm', 'up', 'arca1'),
            STATUS, STATUS, STATUS,
            ('drbdadm', 'new-current-uuid', '--clear-bitmap', 'arca1'),
            STATUS, STATUS, ('drbdadm', 'primary', 'arca1'),
            ('pvs', '--reportformat', 'json', '-o', 'pv_name,vg_name',
             '/dev/drbd1'),
            ('blkid', '-p', '-o', 'value', '-s', 'TYPE', '/dev/drbd1'),
            ('pvcreate', '/dev/drbd1'),
            ('vgcreate', 'arca1', '/dev/drbd1'),
            ('vgchange', '-ay', 'arca1'),
            LVS + ('arca1/arca-state',),
            ('lvcreate', '-y', '-L', '320m', '-n', 'arca-state', 'arca1'),
            ('mkfs.xfs', '-q', '-K', '/dev/arca1/arca-state'),
            LVS + ('arca1/pool',),
            ('lvcreate', '-y', '--type', 'thin-pool', '-l', '90%FREE', '-n',
             'pool', 'arca1'),
            ('vgchange', '-an', 'arca1'),
            STATUS, ('drbdadm', 'secondary', 'arca1'),
            STATUS, ('drbdsetup', 'down', 'arca1')])
        self.assertEqual('', self.executor.input_for('drbdadm', 'create-md'))

    def test_rerun_on_preferred_node_makes_nothing(self):
        self.statuses(NOT_UP, NOT_UP, SYNCED, SYNCED, SYNCED, SYNCED,
                      PRIMARY, SYNCED)
        self.executor.on('drbdadm', 'get-gi', stdout=test_drbd.GI)
        self.executor.on('pvs', stdout=PV_REPORT % 'arca1')
        self.executor.on(*LVS + ('arca1/pool',), stdout=fake_node.rows_report(
            fake_node.lv_row('pool', attr='twi-a-tz--', pool='',
                             segtype='thin-pool')))
        self.executor.on(*LVS + ('arca1/arca-state',),
                         stdout=fake_node.rows_report(
                             fake_node.lv_row('arca-state', pool='',
                                              segtype='linear')))
        self.executor.on('mkfs.xfs', stderr=MKFS_EXISTS, exit_code=1)
        self.executor.on('blkid', stdout='xfs\n')
        self.commands.create_pool('arca1')
        self.assertCommands(*self.START + [
            STATUS, ('drbdadm', 'get-gi', 'arca1'),
            STATUS, ('drbdadm', 'up', 'arca1'),
            STATUS, STATUS, STATUS, STATUS,
            ('drbdadm', 'primary', 'arca1'),
            ('pvs', '--reportformat', 'json', '-o', 'pv_name,vg_name',
             '/dev/drbd1'),
            ('vgchange', '-ay', 'arca1'),
            LVS + ('arca1/arca-state',),
            ('mkfs.xfs', '-q', '-K', '/dev/arca1/arca-state'),
            ('blkid', '-p', '-o', 'value', '-s', 'TYPE',
             '/dev/arca1/arca-state'),
            LVS + ('arca1/pool',),
            ('vgchange', '-an', 'arca1'),
            STATUS, ('drbdadm', 'secondary', 'arca1'),
            STATUS, ('drbdsetup', 'down', 'arca1')])

    def test_pv_of_another_vg_refused_and_demoted(self):
        self.statuses(NOT_UP, NOT_UP, SYNCED, SYNCED, SYNCED, SYNCED,
                      PRIMARY, SYNCED)
        self.executor.on('drbdadm', 'get-gi', stdout=test_drbd.GI)
        self.executor.on('pvs', stdout=PV_REPORT % 'other')
        err = self.assertRaises(exception.Conflict,
                                self.commands.create_pool, 'arca1')
        self.assertIn('is a PV of VG other, not arca1', str(err))
        self.assertEqual(('drbdadm', 'secondary', 'arca1'),
                         self.executor.commands[-1])
        self.assertNotIn(('vgcreate', 'arca1', '/dev/drbd1'),
                         self.executor.commands)

    def test_device_with_data_refused(self):
        self.statuses(NOT_UP, NOT_UP, SYNCED, SYNCED, SYNCED, SYNCED,
                      PRIMARY, SYNCED)
        self.executor.on('drbdadm', 'get-gi', stdout=test_drbd.GI)
        self.executor.on('pvs', stderr=NO_PV, exit_code=5)
        self.executor.on('blkid', stdout='ext4\n')
        err = self.assertRaises(exception.Conflict,
                                self.commands.create_pool, 'arca1')
        self.assertIn('holds ext4: not made a PV', str(err))
        self.assertFalse([c for c in self.executor.commands
                          if c[0] in ('pvcreate', 'vgcreate')])

    def test_managed_by_pacemaker_refused(self):
        self.executor.on('cibadmin', stdout='<clone id="ms-arca1"/>')
        err = self.assertRaises(exception.Conflict,
                                self.commands.create_pool, 'arca1')
        self.assertEqual('pool arca1 conflicts with existing state: '
                         'Pacemaker manages it already (ms-arca1 is in the '
                         'CIB)', str(err))
        self.assertCommands(self.START[0])

    def test_resource_file_missing(self):
        self.executor.on('cat', RES, stderr='No such file', exit_code=1)
        err = self.assertRaises(exception.ConfigInvalid,
                                self.commands.create_pool, 'arca1')
        self.assertIn('run arca-node cluster setup on both nodes first',
                      str(err))
        self.assertCommands(*self.START)

    def test_unknown_pool(self):
        self.assertRaises(exception.InvalidInput,
                          self.commands.create_pool, 'arca9')
        self.assertCommands()


class CreatePoolOtherNodeTestCase(CreatePoolTestCase):

    hostname = 's2'

    def test_waits_for_the_preferred_node(self):
        self.statuses(NOT_UP, NOT_UP, NEW_PAIR, NEW_PAIR, SYNCED,
                      PEER_PRIMARY, ALONE, ALONE)
        self.executor.on('drbdadm', 'get-gi', exit_code=1)
        self.commands.create_pool('arca1')
        self.assertCommands(*self.START + [
            STATUS, ('drbdadm', 'get-gi', 'arca1'),
            ('drbdadm', 'create-md', 'arca1'),
            STATUS, ('drbdadm', 'up', 'arca1'),
            STATUS, STATUS, STATUS, STATUS, STATUS,
            STATUS, ('drbdsetup', 'down', 'arca1')])
        self.assertIn('arca1: waiting for s1 to make the VG and disconnect',
                      self.said)

    def test_peer_left_before_sync(self):
        self.statuses(NOT_UP, NOT_UP, NEW_PAIR, ALONE_INCONSISTENT)
        self.executor.on('drbdadm', 'get-gi', exit_code=1)
        err = self.assertRaises(exception.Conflict,
                                self.commands.create_pool, 'arca1')
        self.assertIn('s1 disconnected before this node was in sync (disk '
                      'Inconsistent)', str(err))

    # The preferred node's own cases do not apply here.
    test_new_pool_on_preferred_node = None
    test_rerun_on_preferred_node_makes_nothing = None
    test_pv_of_another_vg_refused_and_demoted = None
    test_device_with_data_refused = None


class CIBTestCase(CommandsTestCase):

    def test_apply(self):
        cmds.apply_cib(self.executor, CLUSTER)
        self.assertCommands(('cibadmin', '--modify', '--allow-create', '-o',
                             'configuration', '--xml-pipe'))
        self.assertEqual(cluster.render_cib(CLUSTER),
                         self.executor.input_for('cibadmin'))


class StatusTestCase(CommandsTestCase):

    def setUp(self):
        super().setUp()
        self.executor.on('crm_mon', stdout=CRM_MON % {'quorum': 'true',
                                                      's2': 'true'})
        self.executor.on('cibadmin', '--query', stdout=CONSTRAINTS)
        self.executor.on(*STATUS, stdout=PRIMARY)
        self.executor.on('drbdsetup', 'sh-status', 'arca2', exit_code=19)

    def test_status(self):
        data = self.commands.status()
        self.assertCommands(('crm_mon', '-1', '--output-as=xml'),
                            ('cibadmin', '--query', '-o', 'constraints'),
                            STATUS, ('drbdsetup', 'sh-status', 'arca2'))
        self.assertEqual({
            'cluster': 'arca', 'node': 's1', 'quorum': True, 'dc': 's1',
            'nodes': [
                {'name': 's1', 'online': True, 'standby': False,
                 'unclean': False},
                {'name': 's2', 'online': True, 'standby': False,
                 'unclean': False}],
            'pools': [
                {'name': 'arca1', 'preferred_node': 's1', 'moved_to': None,
                 'active_on': 's1', 'promoted_on': 's1', 'failed': [],
                 'drbd': {'role': 'Primary', 'peer_role': 'Secondary',
                          'connection': 'Connected', 'disk': 'UpToDate',
                          'peer_disk': 'UpToDate', 'sync_percent': None}},
                {'name': 'arca2', 'preferred_node': 's2', 'moved_to': 's1',
                 'active_on': None, 'promoted_on': None,
                 'failed': ['pool-arca2'], 'drbd': None}]}, data)
        self.assertEqual(data, json.loads(cmds.render_status(data, 'json')))
        self.assertEqual(
            'cluster arca (on s1): quorate, DC s1\n'
            'nodes: s1 online, s2 online\n'
            'POOL         ACTIVE ON  PREFERRED  MOVED TO   ROLE       '
            'CONNECTION   DISK/PEER DISK            SYNC\n'
            'arca1        s1         s1         -          Primary    '
            'Connected    UpToDate/UpToDate         -\n'
            'arca2        STOPPED    s2         s1         down       -'
            '            -                         -\n'
            '    failed: pool-arca2', cmds.render_status(data, 'table'))

    def test_pacemaker_not_running(self):
        self.executor.on('crm_mon', stdout=CRM_MON_DOWN, exit_code=102)
        err = self.assertRaises(exception.ServiceFailed,
                                self.commands.status)
        self.assertEqual(
            'Pacemaker failed: not running on this node, or not reachable '
            '(crm_mon exit code 102: error: Could not connect to launcher: '
            'Connection refused; crm_mon: Connection to cluster failed: '
            'Connection refused)', str(err))

    def test_move(self):
        self.assertEqual('s1', self.commands.move('arca1', 's2'))
        self.assertEqual(('cibadmin', '--modify', '--allow-create', '-o',
                          'constraints', '--xml-pipe'),
                         self.executor.commands[-1])
        self.assertEqual(cluster.render_move(CLUSTER, 'arca1', 's2'),
                         self.executor.input_for('cibadmin', '--modify'))

    def test_move_refused_when_peer_offline(self):
        self.executor.on('crm_mon', stdout=CRM_MON % {'quorum': 'true',
                                                      's2': 'false'})
        err = self.assertRaises(exception.Conflict, self.commands.move,
                                'arca1', 's2')
        self.assertEqual('pool arca1 conflicts with existing state: not '
                         'moved: the pair is degraded (not online: s2)',
                         str(err))
        self.assertCommands(('crm_mon', '-1', '--output-as=xml'))

    def test_move_refused_when_not_in_sync(self):
        self.executor.on(*STATUS, stdout=sh('Connected', 'Primary',
                                            'Secondary', 'UpToDate',
                                            'Outdated'))
        err = self.assertRaises(exception.Conflict, self.commands.move,
                                'arca1', 's2')
        self.assertIn('not moved: DRBD is not in sync (Connected, disk '
                      'UpToDate, peer disk Outdated)', str(err))
        self.assertNotIn('--modify', [w for c in self.executor.commands
                                      for w in c])

    def test_move_refused_when_drbd_down_here(self):
        err = self.assertRaises(exception.Conflict, self.commands.move,
                                'arca2', 's1')
        self.assertIn('not up on this node', str(err))

    def test_unmove(self):
        self.commands.unmove('arca1')
        self.assertCommands(('cibadmin', '--delete', '--xml-text',
                             '<rsc_location id="arca-move-arca1" />'))


class RunTestCase(CommandsTestCase):

    def args(self, *argv):
        parser = argparse.ArgumentParser()
        cmds.add_parser(parser.add_subparsers(dest='command'))
        return parser.parse_args(['cluster', '--cluster-config',
                                  test_cluster_config.SAMPLE] + list(argv))

    def test_cib_printed_anywhere(self):
        out = io.StringIO()
        self.assertEqual(0, cmds.run(self.args('cib'), self.executor,
                                     hostname='elsewhere', out=out))
        self.assertEqual(cluster.render_cib(cluster_config.load(
            test_cluster_config.SAMPLE)), out.getvalue())
        self.assertCommands()

    def test_failure_exit_2(self):
        self.executor.on('test', exit_code=1)
        with mock.patch('sys.stderr', new_callable=io.StringIO) as err:
            self.assertEqual(2, cmds.run(self.args('setup'), self.executor,
                                         hostname='s1', out=io.StringIO()))
        self.assertIn('arca-node cluster setup: /etc/corosync/authkey is '
                      'missing', err.getvalue())

    def test_move_message(self):
        self.executor.on('crm_mon', stdout=CRM_MON % {'quorum': 'true',
                                                      's2': 'true'})
        self.executor.on('drbdsetup', stdout=PRIMARY.replace('arca1',
                                                             'arca1'))
        out = io.StringIO()
        self.assertEqual(0, cmds.run(self.args('move', 'arca1', 's2'),
                                     self.executor, hostname='s1', out=out))
        self.assertEqual(
            'arca1: moving from s1 to s2; "arca-node cluster unmove arca1" '
            'removes the constraint once it is there\n', out.getvalue())
