"""Unit tests of arca_openstack.node.drbd."""

from unittest import mock

import ddt

from arca_openstack import exception
from arca_openstack.node import drbd
from tests.unit import base
from tests.unit import rootwrap_check

NAME = 'vol1'
PATH = '/etc/drbd.d/arca-vol1.res'
LOCAL = drbd.Peer('node1', '10.98.0.1', '/dev/arca/vol1')
PEER = drbd.Peer('node2', '10.98.0.2', '/dev/arca/vol1')
LOCAL6 = drbd.Peer('node1', 'fd00:98::1', '/dev/arca/vol1')
PEER6 = drbd.Peer('node2', 'fd00:98:0::2', '/dev/arca/vol1')

STATUS = ('drbdsetup', 'sh-status', NAME)


def sh_status(cstate, role, peer, disk, pdsk, percent='', minor=7,
              name=NAME, susp='', user_isp=''):
    """``drbdsetup sh-status`` of one configured 8.4 minor.

    Byte for byte what sh_status_scmd() in drbd-utils 9.22's
    user/v84/drbdsetup.c prints (blank lines included).
    """
    return ('_minor=%d\n_res_name=%s\n_volume=0\n_known=Configured\n\n'
            '_cstate=%s\n_role=%s\n_peer=%s\n_disk=%s\n_pdsk=%s\n\n'
            '_flags_susp=%s\n_flags_aftr_isp=\n_flags_peer_isp=\n'
            '_flags_user_isp=%s\n\n_resynced_percent=%s\n'
            '\n_sh_status_process\n\n\n' % (
                minor, name, cstate, role, peer, disk, pdsk, susp, user_isp,
                percent))


# The lab's /proc/drbd: cs:Connected ro:Secondary/Primary
# ds:UpToDate/UpToDate
CONNECTED = sh_status('Connected', 'Secondary', 'Primary', 'UpToDate',
                      'UpToDate')
CONNECTED_PRIMARY = sh_status('Connected', 'Primary', 'Secondary',
                              'UpToDate', 'UpToDate')
NEW_PAIR = sh_status('Connected', 'Secondary', 'Secondary', 'Inconsistent',
                     'Inconsistent')
WFCONNECTION = sh_status('WFConnection', 'Primary', 'Unknown', 'UpToDate',
                         'DUnknown')
WFCONNECTION_SECONDARY = sh_status('WFConnection', 'Secondary', 'Unknown',
                                   'Inconsistent', 'DUnknown')
STANDALONE = sh_status('StandAlone', 'Secondary', 'Unknown', 'Outdated',
                       'DUnknown')
SYNC_SOURCE = sh_status('SyncSource', 'Primary', 'Secondary', 'UpToDate',
                        'Inconsistent', percent='37.4')
SYNC_TARGET = sh_status('SyncTarget', 'Secondary', 'Primary',
                        'Inconsistent', 'UpToDate', percent='0.0')
PAUSED_SYNC = sh_status('PausedSyncS', 'Primary', 'Secondary', 'UpToDate',
                        'Inconsistent', percent='99.9', user_isp='1')
DISKLESS = sh_status('WFConnection', 'Secondary', 'Unknown', 'Diskless',
                     'DUnknown')
# After a failed "drbdadm up" (new-resource and new-minor done, attach
# failed): StandAlone, Diskless, Secondary prints as unconfigured.
UNCONFIGURED = ('_minor=7\n_res_name=vol1\n_volume=0\n_known=Unconfigured\n'
                '\n_cstate=Unconfigured\n_role=\n_peer=\n_disk=\n_pdsk=\n'
                '_flags_susp=\n_flags_aftr_isp=\n_flags_peer_isp=\n'
                '_flags_user_isp=\n_resynced_percent=\n'
                '\n_sh_status_process\n\n\n')
NOT_UP = ''

GI = ('0000000000000004:0000000000000000:0000000000000000:'
      '0000000000000000:0:0:0:0:0:0:0\n')

# Real drbdmeta/drbdadm-84 output from drbd-utils 9.22 on a 64 MiB device
# (create-md with stdin not a TTY).
CREATE_MD_OK_OUT = ('initializing activity log\nWriting meta data...\n'
                    'New drbd meta data block successfully created.\n')
CREATE_MD_OK_ERR = 'initializing bitmap (4 KB) to all zero\n'
CREATE_MD_EXISTS_OUT = 'Operation cancelled.\n'
CREATE_MD_EXISTS_ERR = (
    'You want me to create a v08 style flexible-size internal meta data '
    'block.\nThere appears to be a v08 flexible-size internal meta data '
    'block\nalready in place on /dev/arca/vol1 at byte offset 67104768\n\n'
    'Do you really want to overwrite the existing meta-data?\n'
    'stdin not a TTY, not waiting for confirmation\n')
CREATE_MD_FS_OUT = (
    'md_offset 67104768\nal_offset 67072000\nbm_offset 67067904\n\n'
    'Found ext3 filesystem\n       61440 kB data area apparently used\n'
    '       65496 kB left usable by current configuration\n\n'
    'Even though it looks like this would place the new meta data into\n'
    'unused space, you still need to confirm, as this is only a guess.\n'
    'Operation canceled.\n')
CREATE_MD_FS_ERR = ('\nDo you want to proceed?\n'
                    'stdin not a TTY, not waiting for confirmation\n')
CREATE_MD_TRUNCATE_OUT = (
    'md_offset 67104768\nal_offset 67072000\nbm_offset 67067904\n\n'
    'Found xfs filesystem\n       65536 kB data area apparently used\n'
    '       65496 kB left usable by current configuration\n\n'
    'Device size would be truncated, which\nwould corrupt data and result '
    'in\n\'access beyond end of device\' errors.\nYou need to either\n'
    '   * use external meta data (recommended)\n'
    '   * shrink that filesystem first\n'
    '   * zero out the device (destroy the filesystem)\n'
    'Operation refused.\n\n')

EXPECTED_V4 = """\
# Managed by arca-openstack: do not edit.
resource vol1 {
    net {
        protocol C;
    }
    on node1 {
        device /dev/drbd7 minor 7;
        disk /dev/arca/vol1;
        meta-disk internal;
        address ipv4 10.98.0.1:7800;
    }
    on node2 {
        device /dev/drbd7 minor 7;
        disk /dev/arca/vol1;
        meta-disk internal;
        address ipv4 10.98.0.2:7800;
    }
}
"""

EXPECTED_V6 = """\
# Managed by arca-openstack: do not edit.
resource vol1 {
    net {
        protocol C;
    }
    on node1 {
        device /dev/drbd7 minor 7;
        disk /dev/arca/vol1;
        meta-disk internal;
        address ipv6 [fd00:98::1]:7800;
    }
    on node2 {
        device /dev/drbd7 minor 7;
        disk /dev/arca/vol1;
        meta-disk internal;
        address ipv6 [fd00:98::2]:7800;
    }
}
"""

BAD_NAMES = ('', 'all', '-vol', '.vol', 'vol 1', 'vol/1', 'vol;1', 'v\n',
             'x' * 64, None, 7, '../etc', 'vol$1', 'vol,1')


class DRBDTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.drbd = drbd.DRBD(self.executor)

    def on_status(self, stdout, **kwargs):
        if stdout == NOT_UP:
            # What drbdsetup-84 does for a resource that is not up (lab).
            kwargs.setdefault('exit_code', 19)
        self.executor.on(*STATUS, stdout=stdout, **kwargs)


@ddt.ddt
class RenderTest(DRBDTestCase):

    def test_ipv4(self):
        self.assertEqual(EXPECTED_V4,
                         drbd.render_resource(NAME, 7, 7800, LOCAL, PEER))

    def test_ipv6_bracketed_and_compressed(self):
        self.assertEqual(EXPECTED_V6,
                         drbd.render_resource(NAME, 7, 7800, LOCAL6, PEER6))

    def test_same_file_on_both_nodes(self):
        self.assertEqual(drbd.render_resource(NAME, 7, 7800, LOCAL, PEER),
                         drbd.render_resource(NAME, 7, 7800, PEER, LOCAL))

    def test_tuples_and_string_numbers_accepted(self):
        self.assertEqual(EXPECTED_V4, self.drbd.render_resource(
            NAME, '7', '7800', tuple(LOCAL), list(PEER)))

    def test_protocol(self):
        text = drbd.render_resource(NAME, 7, 7800, LOCAL, PEER, 'A')
        self.assertIn('        protocol A;\n', text)

    def test_no_drbd9_only_keywords(self):
        text = drbd.render_resource(NAME, 7, 7800, LOCAL, PEER)
        for word in ('node-id', 'connection-mesh', 'auto-promote', 'quorum',
                     'options'):
            self.assertNotIn(word, text)

    @ddt.data(
        ('name', 'all'), ('name', ''), ('name', '-x'), ('name', 'a b'),
        ('name', 'x' * 64), ('name', None),
        ('minor', -1), ('minor', 1048576), ('minor', '7a'), ('minor', True),
        ('minor', 1.5),
        ('port', 0), ('port', 65536), ('port', '78 00'), ('port', None),
        ('protocol', 'D'), ('protocol', 'c'),
        ('local', ('node1', '10.98.0.1')),
        ('local', 'node1'),
        ('local', ('node_1', '10.98.0.1', '/dev/arca/vol1')),
        ('local', ('-node1', '10.98.0.1', '/dev/arca/vol1')),
        ('local', ('node1 x', '10.98.0.1', '/dev/arca/vol1')),
        ('local', ('node1', '10.98.0.256', '/dev/arca/vol1')),
        ('local', ('node1', '0.0.0.0', '/dev/arca/vol1')),
        ('local', ('node1', '224.0.0.1', '/dev/arca/vol1')),
        ('local', ('node1', '10.98.0.0/24', '/dev/arca/vol1')),
        ('local', ('node1', 'fe80::1%eth0', '/dev/arca/vol1')),
        ('local', ('node1', 'node1.example', '/dev/arca/vol1')),
        ('local', ('node1', '10.98.0.1', 'dev/arca/vol1')),
        ('local', ('node1', '10.98.0.1', '/tmp/vol1')),
        ('local', ('node1', '10.98.0.1', '/dev/../etc/shadow')),
        ('local', ('node1', '10.98.0.1', '/dev/arca/vol 1')),
        ('local', ('node1', '10.98.0.1', '/dev/arca/vol;1')),
        ('local', ('node1', '10.98.0.1', '/dev/arca/vol1/')),
        ('local', ('node1', '10.98.0.1', '/dev/arca//vol1')),
        ('local', ('node1', '10.98.0.1', '/dev/arca/vol1\n')),
        ('local', ('node1', '10.98.0.1', '/dev/arca/{vol1}')),
        ('peer', ('node1', '10.98.0.2', '/dev/arca/vol1')),
        ('peer', ('node2', '10.98.0.1', '/dev/arca/vol1')),
        ('peer', ('node2', 'fd00::2', '/dev/arca/vol1')),
    )
    @ddt.unpack
    def test_invalid_input_issues_nothing(self, field, value):
        args = {'name': NAME, 'minor': 7, 'port': 7800, 'local': LOCAL,
                'peer': PEER, 'protocol': 'C'}
        args[field] = value
        self.assertRaises(exception.InvalidInput, drbd.render_resource,
                          **args)
        self.assertRaises(exception.InvalidInput, self.drbd.write_resource,
                          **args)
        self.assertEqual([], self.executor.commands)


@ddt.ddt
class BadNameTest(DRBDTestCase):

    @ddt.idata(BAD_NAMES)
    def test_every_operation_validates_first(self, name):
        calls = [
            lambda: self.drbd.write_resource(name, 7, 7800, LOCAL, PEER),
            lambda: self.drbd.remove_resource(name),
            lambda: self.drbd.create_md(name),
            lambda: self.drbd.has_md(name),
            lambda: self.drbd.status(name),
            lambda: self.drbd.up(name),
            lambda: self.drbd.down(name),
            lambda: self.drbd.primary(name),
            lambda: self.drbd.primary(name, force=True),
            lambda: self.drbd.secondary(name),
            lambda: self.drbd.skip_initial_sync(name),
            lambda: self.drbd.resize(name),
            lambda: self.drbd.wait_for(name, connection='Connected'),
        ]
        for call in calls:
            self.assertRaises(exception.InvalidInput, call)
        self.assertEqual([], self.executor.commands)

    @ddt.data('yes', 1, None)
    def test_force_must_be_bool(self, force):
        self.assertRaises(exception.InvalidInput, self.drbd.primary, NAME,
                          force=force)
        self.assertEqual([], self.executor.commands)

    @ddt.data({}, {'colour': 'blue'},
              {'connection': 'Connected', 'timeout': 0},
              {'connection': 'Connected', 'timeout': -1},
              {'connection': 'Connected', 'timeout': 'x'},
              {'connection': 'Connected', 'interval': 0})
    def test_wait_for_arguments(self, kwargs):
        self.assertRaises(exception.InvalidInput, self.drbd.wait_for, NAME,
                          **kwargs)
        self.assertEqual([], self.executor.commands)


class WriteResourceTest(DRBDTestCase):

    def test_new_file_written_then_checked(self):
        self.executor.on('cat', PATH, exit_code=1,
                         stderr='cat: %s: No such file or directory' % PATH)
        self.assertTrue(self.drbd.write_resource(NAME, 7, 7800, LOCAL,
                                                 PEER))
        self.assertCommands(
            ('cat', PATH),
            ('tee', PATH + '.tmp'),
            ('mv', '-f', PATH + '.tmp', PATH),
            ('drbdadm', 'dump', NAME))
        self.assertEqual(EXPECTED_V4, self.executor.input_for('tee'))

    def test_same_content_is_not_rewritten(self):
        self.executor.on('cat', PATH, stdout=EXPECTED_V4)
        self.assertFalse(self.drbd.write_resource(NAME, 7, 7800, LOCAL,
                                                  PEER))
        self.assertCommands(('cat', PATH))

    def test_changed_content_is_rewritten(self):
        self.executor.on('cat', PATH, stdout=EXPECTED_V6)
        self.assertTrue(self.drbd.write_resource(NAME, 7, 7800, LOCAL,
                                                 PEER))
        self.assertEqual(EXPECTED_V4, self.executor.input_for('tee'))

    def test_invalid_new_file_is_removed(self):
        self.executor.on('cat', PATH, exit_code=1,
                         stderr='cat: %s: No such file or directory' % PATH)
        self.executor.on('drbdadm', 'dump', exit_code=1,
                         stderr="'vol1' not defined in your config (for "
                                "this host).\n")
        err = self.assertRaises(exception.ConfigInvalid,
                                self.drbd.write_resource, NAME, 7, 7800,
                                LOCAL, PEER)
        self.assertIn('not defined in your config', str(err))
        self.assertIn(PATH, str(err))
        self.assertEqual(('rm', '-f', PATH), self.executor.commands[-1])

    def test_invalid_new_file_restores_old(self):
        self.executor.on('cat', PATH, stdout=EXPECTED_V6)
        self.executor.on('drbdadm', 'dump', exit_code=10,
                         stderr="/etc/drbd.d/arca-vol1.res:2: Parse error: "
                                "';' expected,\n\tbut got '}' (TK 125)\n")
        self.assertRaises(exception.ConfigInvalid, self.drbd.write_resource,
                          NAME, 7, 7800, LOCAL, PEER)
        self.assertCommands(
            ('cat', PATH),
            ('tee', PATH + '.tmp'),
            ('mv', '-f', PATH + '.tmp', PATH),
            ('drbdadm', 'dump', NAME),
            ('tee', PATH + '.tmp'),
            ('mv', '-f', PATH + '.tmp', PATH))
        self.assertEqual(EXPECTED_V6, self.executor.input_for('tee'))

    def test_remove_resource_up(self):
        self.on_status(CONNECTED)
        self.drbd.remove_resource(NAME)
        self.assertCommands(STATUS, ('drbdsetup', 'down', NAME),
                            ('rm', '-f', PATH))

    def test_remove_resource_already_down(self):
        self.on_status(NOT_UP)
        self.drbd.remove_resource(NAME)
        self.drbd.remove_resource(NAME)
        self.assertCommands(STATUS, ('rm', '-f', PATH),
                            STATUS, ('rm', '-f', PATH))

    def test_remove_resource_in_use(self):
        self.on_status(CONNECTED_PRIMARY)
        self.executor.on('drbdsetup', 'down', exit_code=11,
                         stderr='vol1: State change failed: (-12) Device is '
                                'held open by someone\n')
        self.assertRaises(exception.InUse, self.drbd.remove_resource, NAME)
        self.assertNotIn(('rm', '-f', PATH), self.executor.commands)


@ddt.ddt
class StatusTest(DRBDTestCase):

    def status_of(self, stdout):
        self.on_status(stdout)
        status = self.drbd.status(NAME)
        self.assertCommands(STATUS)
        return status

    def test_connected(self):
        self.assertEqual(
            {'name': NAME, 'minor': 7, 'configured': True,
             'connection': 'Connected', 'role': 'Secondary',
             'peer_role': 'Primary', 'disk': 'UpToDate',
             'peer_disk': 'UpToDate', 'suspended': False,
             'sync_percent': None},
            self.status_of(CONNECTED))

    def test_wfconnection(self):
        status = self.status_of(WFCONNECTION)
        self.assertEqual(('WFConnection', 'Primary', 'Unknown', 'UpToDate',
                          'DUnknown'),
                         (status['connection'], status['role'],
                          status['peer_role'], status['disk'],
                          status['peer_disk']))
        self.assertFalse(drbd.is_connected(status))
        self.assertFalse(drbd.is_synced(status))

    def test_standalone(self):
        status = self.status_of(STANDALONE)
        self.assertEqual('StandAlone', status['connection'])
        self.assertEqual('Outdated', status['disk'])

    def test_sync_source(self):
        status = self.status_of(SYNC_SOURCE)
        self.assertEqual('SyncSource', status['connection'])
        self.assertEqual(37.4, status['sync_percent'])
        self.assertTrue(drbd.is_connected(status))
        self.assertFalse(drbd.is_synced(status))

    def test_sync_target_at_zero(self):
        status = self.status_of(SYNC_TARGET)
        self.assertEqual(0.0, status['sync_percent'])
        self.assertEqual('Inconsistent', status['disk'])

    def test_paused_sync(self):
        status = self.status_of(PAUSED_SYNC)
        self.assertEqual(99.9, status['sync_percent'])
        self.assertEqual('PausedSyncS', status['connection'])

    def test_synced(self):
        self.assertTrue(drbd.is_synced(self.status_of(CONNECTED)))

    def test_suspended(self):
        self.assertTrue(self.status_of(sh_status(
            'WFConnection', 'Primary', 'Unknown', 'UpToDate', 'DUnknown',
            susp='1'))['suspended'])

    def test_unconfigured(self):
        status = self.status_of(UNCONFIGURED)
        self.assertFalse(status['configured'])
        self.assertEqual('Unconfigured', status['connection'])
        self.assertIsNone(status['role'])
        self.assertIsNone(status['disk'])

    def test_not_available(self):
        text = UNCONFIGURED.replace(
            '_known=Unconfigured',
            '_known=NA # not available or not yet created')
        status = self.status_of(text)
        self.assertFalse(status['configured'])

    def test_not_up(self):
        self.assertIsNone(self.status_of(NOT_UP))

    def test_not_up_exit_zero(self):
        self.on_status(NOT_UP, exit_code=0)
        self.assertIsNone(self.drbd.status(NAME))

    def test_status_other_failure(self):
        self.on_status(NOT_UP, exit_code=20, stderr='some failure')
        self.assertRaises(exception.CommandFailed, self.drbd.status, NAME)

    def test_other_resource_only(self):
        self.assertIsNone(self.status_of(
            sh_status('Connected', 'Secondary', 'Primary', 'UpToDate',
                      'UpToDate', name='vol10', minor=8)))

    def test_picks_own_block(self):
        text = (sh_status('Connected', 'Primary', 'Secondary', 'UpToDate',
                          'UpToDate', name='vol10', minor=8) + SYNC_TARGET)
        status = self.status_of(text)
        self.assertEqual((7, 'SyncTarget'),
                         (status['minor'], status['connection']))

    @ddt.data('_res_name=vol1\n_volume=0\n_cstate=Connected\n',
              CONNECTED.replace('_resynced_percent=',
                                '_resynced_percent=abc'))
    def test_garbage(self, text):
        self.on_status(text)
        self.assertRaises(exception.ParseError, self.drbd.status, NAME)

    def test_drbdsetup_fails(self):
        self.on_status('', exit_code=20,
                       stderr='Could not connect to \'drbd\' generic netlink '
                              'family\n')
        err = self.assertRaises(exception.CommandFailed, self.drbd.status,
                                NAME)
        self.assertEqual(20, err.exit_code)


@ddt.ddt
class UpDownTest(DRBDTestCase):

    def test_up_when_down(self):
        self.on_status(NOT_UP)
        self.drbd.up(NAME)
        self.assertCommands(STATUS, ('drbdadm', 'up', NAME))

    @ddt.data(CONNECTED, WFCONNECTION, SYNC_TARGET)
    def test_up_when_up(self, status):
        self.on_status(status)
        self.drbd.up(NAME)
        self.assertCommands(STATUS)

    @ddt.data(UNCONFIGURED, STANDALONE, DISKLESS)
    def test_half_up_is_adjusted(self, status):
        self.on_status(status)
        self.drbd.up(NAME)
        self.assertCommands(STATUS, ('drbdadm', 'adjust', NAME))

    @ddt.data(
        ("0: Failure: (119) No valid meta-data signature found.\n\n"
         "\t==> Use 'drbdadm create-md res' to initialize meta-data area. "
         "<==\n\nCommand 'drbdsetup-84 attach 7 /dev/arca/vol1 "
         "/dev/arca/vol1 internal' terminated with exit code 10\n", 10,
         exception.Conflict),
        ("Can not open device '/dev/arca/vol1': No such file or directory\n"
         "Command 'drbdsetup-84 attach 7 /dev/arca/vol1 /dev/arca/vol1 "
         "internal' terminated with exit code 20\n", 20, exception.NotFound),
        ("'vol1' not defined in your config (for this host).\n", 1,
         exception.NotFound),
        ("vol1: Failure: (102) Local address(port) already in use.\n"
         "Command 'drbdsetup-84 connect vol1 ipv4:10.98.0.1:7800 "
         "ipv4:10.98.0.2:7800 --protocol=C' terminated with exit code 10\n",
         10, exception.Conflict),
        ("7: Failure: (114) Lower device is already claimed. This usually "
         "means it is mounted.\n", 10, exception.InUse),
        ("something new\n", 3, exception.CommandFailed),
    )
    @ddt.unpack
    def test_up_errors(self, stderr, code, exc_class):
        self.on_status(NOT_UP)
        self.executor.on('drbdadm', 'up', exit_code=code, stderr=stderr)
        err = self.assertRaises(exc_class, self.drbd.up, NAME)
        self.assertIn('vol1', str(err))

    def test_down_when_up(self):
        self.on_status(CONNECTED)
        self.drbd.down(NAME)
        self.assertCommands(STATUS, ('drbdsetup', 'down', NAME))

    def test_down_when_down(self):
        self.on_status(NOT_UP)
        self.drbd.down(NAME)
        self.assertCommands(STATUS)


class MetaDataTest(DRBDTestCase):

    def test_created_when_absent(self):
        self.on_status(NOT_UP)
        self.executor.on('drbdadm', 'get-gi', exit_code=1)
        self.executor.on('drbdadm', 'create-md', stdout=CREATE_MD_OK_OUT,
                         stderr=CREATE_MD_OK_ERR)
        self.assertTrue(self.drbd.create_md(NAME))
        self.assertCommands(STATUS, ('drbdadm', 'get-gi', NAME),
                            ('drbdadm', 'create-md', NAME))
        # stdin closed: drbdmeta never waits for, nor gets, a "yes".
        self.assertEqual('', self.executor.input_for('drbdadm', 'create-md'))

    def test_present_per_get_gi(self):
        self.on_status(NOT_UP)
        self.executor.on('drbdadm', 'get-gi', stdout=GI)
        self.assertFalse(self.drbd.create_md(NAME))
        self.assertCommands(STATUS, ('drbdadm', 'get-gi', NAME))

    def test_present_when_attached(self):
        self.on_status(WFCONNECTION_SECONDARY)
        self.assertFalse(self.drbd.create_md(NAME))
        self.assertCommands(STATUS)

    def test_refused_overwrite_means_present(self):
        self.on_status(NOT_UP)
        self.executor.on('drbdadm', 'get-gi', exit_code=1)
        self.executor.on('drbdadm', 'create-md', exit_code=1,
                         stdout=CREATE_MD_EXISTS_OUT,
                         stderr=CREATE_MD_EXISTS_ERR)
        self.assertFalse(self.drbd.create_md(NAME))

    def test_existing_filesystem_is_kept(self):
        self.on_status(NOT_UP)
        self.executor.on('drbdadm', 'get-gi', exit_code=1)
        self.executor.on('drbdadm', 'create-md', exit_code=1,
                         stdout=CREATE_MD_FS_OUT, stderr=CREATE_MD_FS_ERR)
        err = self.assertRaises(exception.Conflict, self.drbd.create_md,
                                NAME)
        self.assertIn('ext3 filesystem', str(err))

    def test_filesystem_that_would_be_truncated(self):
        self.on_status(NOT_UP)
        self.executor.on('drbdadm', 'get-gi', exit_code=1)
        self.executor.on('drbdadm', 'create-md', exit_code=40,
                         stdout=CREATE_MD_TRUNCATE_OUT)
        err = self.assertRaises(exception.Conflict, self.drbd.create_md,
                                NAME)
        self.assertIn('xfs filesystem', str(err))

    def test_missing_disk(self):
        self.on_status(NOT_UP)
        self.executor.on('drbdadm', 'get-gi', exit_code=1)
        self.executor.on('drbdadm', 'create-md', exit_code=20,
                         stderr='open(/dev/arca/vol1) failed: No such file '
                                'or directory\n')
        self.assertRaises(exception.NotFound, self.drbd.create_md, NAME)

    def test_never_forced(self):
        self.on_status(NOT_UP)
        self.executor.on('drbdadm', 'get-gi', exit_code=1)
        self.drbd.create_md(NAME)
        for cmd in self.executor.commands:
            self.assertNotIn('--force', cmd)


@ddt.ddt
class RoleTest(DRBDTestCase):

    def test_primary(self):
        self.on_status(CONNECTED)
        self.drbd.primary(NAME)
        self.assertCommands(STATUS, ('drbdadm', 'primary', NAME))

    def test_primary_forced(self):
        self.on_status(WFCONNECTION_SECONDARY)
        self.drbd.primary(NAME, force=True)
        self.assertCommands(STATUS, ('drbdadm', 'primary', '--force', NAME))

    @ddt.data(True, False)
    def test_already_primary(self, force):
        self.on_status(CONNECTED_PRIMARY)
        self.drbd.primary(NAME, force=force)
        self.assertCommands(STATUS)

    def test_primary_not_up(self):
        self.on_status(NOT_UP)
        self.assertRaises(exception.NotFound, self.drbd.primary, NAME)
        self.assertCommands(STATUS)

    @ddt.data(
        ('7: State change failed: (-2) Need access to UpToDate data\n'
         "Command 'drbdsetup-84 primary 7' terminated with exit code 17\n",
         17, exception.Conflict),
        ('7: State change failed: (-1) Multiple primaries not allowed by '
         "config\nCommand 'drbdsetup-84 primary 7' terminated with exit "
         'code 11\n', 11, exception.Conflict),
        ('7: State change failed: (-7) Refusing to be Primary while peer is '
         'not outdated\n', 11, exception.Conflict),
    )
    @ddt.unpack
    def test_primary_refused(self, stderr, code, exc_class):
        self.on_status(NEW_PAIR)
        self.executor.on('drbdadm', 'primary', exit_code=code,
                         stderr=stderr)
        err = self.assertRaises(exc_class, self.drbd.primary, NAME)
        self.assertIn('State change failed', str(err))

    def test_secondary(self):
        self.on_status(CONNECTED_PRIMARY)
        self.drbd.secondary(NAME)
        self.assertCommands(STATUS, ('drbdadm', 'secondary', NAME))

    @ddt.data(CONNECTED, NOT_UP, UNCONFIGURED)
    def test_secondary_nothing_to_do(self, status):
        self.on_status(status)
        self.drbd.secondary(NAME)
        self.assertCommands(STATUS)

    def test_secondary_in_use(self):
        self.on_status(CONNECTED_PRIMARY)
        self.executor.on('drbdadm', 'secondary', exit_code=11,
                         stderr='7: State change failed: (-12) Device is '
                                'held open by someone\nCommand '
                                "'drbdsetup-84 secondary 7' terminated with "
                                'exit code 11\n')
        err = self.assertRaises(exception.InUse, self.drbd.secondary, NAME)
        self.assertIn('held open', str(err))


@ddt.ddt
class SyncTest(DRBDTestCase):

    def test_skip_initial_sync(self):
        self.on_status(NEW_PAIR)
        self.assertTrue(self.drbd.skip_initial_sync(NAME))
        self.assertCommands(STATUS, ('drbdadm', 'new-current-uuid',
                                     '--clear-bitmap', NAME))

    def test_skip_initial_sync_done_already(self):
        self.on_status(CONNECTED)
        self.assertFalse(self.drbd.skip_initial_sync(NAME))
        self.assertCommands(STATUS)

    @ddt.data(WFCONNECTION_SECONDARY, SYNC_TARGET, CONNECTED_PRIMARY.replace(
        'UpToDate', 'Inconsistent'), STANDALONE)
    def test_skip_initial_sync_wrong_state(self, status):
        self.on_status(status)
        err = self.assertRaises(exception.Conflict,
                                self.drbd.skip_initial_sync, NAME)
        self.assertIn('Inconsistent/Inconsistent', str(err))
        self.assertCommands(STATUS)

    def test_skip_initial_sync_not_up(self):
        self.on_status(NOT_UP)
        self.assertRaises(exception.NotFound, self.drbd.skip_initial_sync,
                          NAME)

    def test_resize(self):
        self.on_status(CONNECTED_PRIMARY)
        self.drbd.resize(NAME)
        self.assertCommands(STATUS, ('drbdadm', 'resize', NAME))

    def test_resize_not_up(self):
        self.on_status(NOT_UP)
        self.assertRaises(exception.NotFound, self.drbd.resize, NAME)
        self.assertCommands(STATUS)

    def test_resize_during_resync(self):
        self.on_status(SYNC_SOURCE)
        self.executor.on('drbdadm', 'resize', exit_code=10,
                         stderr='7: Failure: (132) Resize not allowed during '
                                'resync.\n')
        self.assertRaises(exception.Conflict, self.drbd.resize, NAME)


@mock.patch('time.sleep')
@mock.patch('time.monotonic')
class WaitTest(DRBDTestCase):

    def script(self, *outputs):
        # The most recent rule wins: add the last state first.
        self.on_status(outputs[-1])
        for text in reversed(outputs[:-1]):
            self.on_status(text, times=1)

    def test_until_connected(self, monotonic, sleep):
        monotonic.side_effect = [0, 1, 2, 3]
        self.script(NOT_UP, WFCONNECTION_SECONDARY, NEW_PAIR)
        status = self.drbd.wait_connected(NAME, timeout=10)
        self.assertEqual('Connected', status['connection'])
        self.assertEqual([STATUS] * 3, self.executor.commands)
        self.assertEqual(2, sleep.call_count)

    def test_until_synced(self, monotonic, sleep):
        monotonic.side_effect = [0, 1, 2, 3]
        self.script(SYNC_SOURCE, PAUSED_SYNC, CONNECTED_PRIMARY)
        self.assertTrue(drbd.is_synced(self.drbd.wait_synced(NAME)))

    def test_expected_values(self, monotonic, sleep):
        monotonic.side_effect = [0, 1, 2]
        self.script(CONNECTED, CONNECTED_PRIMARY)
        status = self.drbd.wait_for(NAME, role='Primary', timeout=5,
                                    interval=0.5)
        self.assertEqual('Primary', status['role'])
        sleep.assert_called_once_with(0.5)

    def test_predicate_sees_none(self, monotonic, sleep):
        monotonic.side_effect = [0, 1]
        self.script(NOT_UP)
        self.assertIsNone(self.drbd.wait_for(NAME, lambda s: s is None))

    def test_timeout(self, monotonic, sleep):
        monotonic.side_effect = [0, 5, 10]
        self.script(WFCONNECTION)
        err = self.assertRaises(drbd.StateTimeout, self.drbd.wait_connected,
                                NAME, timeout=10)
        self.assertIsInstance(err, exception.CommandTimeout)
        self.assertIn('connected', str(err))
        self.assertIn('WFConnection', str(err))
        self.assertEqual('WFConnection', err.last_status['connection'])
        self.assertEqual([STATUS] * 2, self.executor.commands)
        sleep.assert_called_once_with(1.0)


@ddt.ddt
class RootwrapTest(base.TestCase):

    @ddt.data(
        ('drbdsetup', 'sh-status', 'vol1'),
        ('drbdsetup', 'down', 'vol-1.a_b'),
        ('drbdadm', 'dump', 'vol1'),
        ('drbdadm', 'get-gi', 'vol1'),
        ('drbdadm', 'create-md', 'vol1'),
        ('drbdadm', 'up', 'vol1'),
        ('drbdadm', 'adjust', 'vol1'),
        ('drbdadm', 'primary', 'vol1'),
        ('drbdadm', 'primary', '--force', 'vol1'),
        ('drbdadm', 'secondary', 'vol1'),
        ('drbdadm', 'new-current-uuid', '--clear-bitmap', 'vol1'),
        ('drbdadm', 'resize', 'vol1'),
        ('drbdadm', 'up', 'allegro'),
    )
    def test_allowed(self, argv):
        self.assertTrue(rootwrap_check.allowed(argv))

    @ddt.data(
        ('drbdadm', '-c', '/tmp/evil.conf', 'up', 'r0'),
        ('drbdadm', '--config-file=/tmp/evil.conf', 'up', 'r0'),
        ('drbdadm', '-t', '/tmp/evil.res', 'dump', 'r0'),
        ('drbdadm', 'down', 'all'),
        ('drbdadm', 'up', 'all'),
        ('drbdadm', 'primary', '--force', 'all'),
        ('drbdadm', 'up', 'r0', 'r1'),
        ('drbdadm', 'up', '-S', 'r0'),
        ('drbdadm', 'up', '--stacked'),
        ('drbdadm', 'up', '../r0'),
        ('drbdadm', 'up', 'r0\n'),
        ('drbdadm', 'up', 'r0/0'),
        ('drbdadm', 'up'),
        ('drbdadm', 'create-md', '--force', 'r0'),
        ('drbdadm', '--', '--force', 'create-md', 'r0'),
        ('drbdadm', 'wipe-md', 'r0'),
        ('drbdadm', 'invalidate', 'r0'),
        ('drbdadm', 'invalidate-remote', 'r0'),
        ('drbdadm', 'disconnect', 'r0'),
        ('drbdadm', 'new-current-uuid', 'r0'),
        ('drbdadm', 'primary', '--overwrite-data-of-peer', 'r0'),
        ('drbdadm', 'sh-status', 'r0'),
        ('drbdadm', '-s', '/tmp/evil', 'up', 'r0'),
        ('drbdadm', '-m', '/tmp/evil', 'create-md', 'r0'),
        ('drbdsetup', '/dev/drbd0', 'disk', '/dev/sda', '/dev/sda',
         'internal'),
        ('drbdsetup', 'attach', '0', '/dev/sda', '/dev/sda', 'internal'),
        ('drbdsetup', 'primary', '0', '--force'),
        ('drbdsetup', 'down', 'all'),
        ('drbdsetup', 'sh-status', 'all'),
        ('drbdsetup', 'sh-status', '0', 'extra'),
        ('drbdsetup', 'new-current-uuid', '0', '--clear-bitmap'),
        ('drbdmeta', '0', 'v08', '/dev/sda', 'internal', 'wipe-md'),
        ('drbdmeta', '--force', '0', 'v08', '/dev/sda', 'internal',
         'create-md'),
        ('drbdmeta', '0', 'v08', '/dev/sda', 'internal', 'get-gi'),
        ('/usr/lib/drbd/drbdadm-84', 'up', 'r0'),
        ('/usr/lib/drbd/drbdsetup-84', 'down', 'r0'),
    )
    def test_hostile(self, argv):
        self.assertFalse(rootwrap_check.allowed(argv))


@ddt.ddt
class MirrorTest(base.TestCase):
    """What the drivers' stats say of a pool's DRBD resource."""

    @ddt.data(
        (CONNECTED_PRIMARY, 'in-sync', None),
        (CONNECTED, 'in-sync', None),
        (sh_status('VerifyS', 'Primary', 'Secondary', 'UpToDate',
                   'UpToDate', percent='12.0'), 'in-sync', None),
        (SYNC_SOURCE, 'syncing', 37.4),
        (SYNC_TARGET, 'syncing', 0.0),
        (PAUSED_SYNC, 'syncing', 99.9),
        (WFCONNECTION, 'degraded', None),
        (STANDALONE, 'degraded', None),
        (DISKLESS, 'degraded', None),
        (NEW_PAIR, 'degraded', None),
        (UNCONFIGURED, 'degraded', None),
        (sh_status('Connected', 'Primary', 'Secondary', 'UpToDate',
                   'Outdated'), 'degraded', None),
        (sh_status('Connected', 'Primary', 'Secondary', 'UpToDate',
                   'UpToDate', percent='100.0'), 'in-sync', None),
    )
    @ddt.unpack
    def test_state(self, text, state, percent):
        status = drbd.parse_sh_status(text, NAME)
        self.assertEqual(state, drbd.mirror_state(status))
        mirror = drbd.mirror(NAME, status)
        self.assertEqual({
            'resource': NAME, 'role': status['role'],
            'connection': status['connection'], 'disk': status['disk'],
            'peer_disk': status['peer_disk'], 'resync_percent': percent,
            'state': state}, mirror)
        self.assertIn(state, drbd.MIRROR_STATES)

    def test_not_up(self):
        self.assertEqual('degraded', drbd.mirror_state(None))
        self.assertEqual({
            'resource': NAME, 'role': None, 'connection': None,
            'disk': None, 'peer_disk': None, 'resync_percent': None,
            'state': 'degraded'}, drbd.mirror(NAME, None))


class HelpersTest(base.TestCase):

    def test_is_syncing(self):
        self.assertTrue(drbd.is_syncing(drbd.parse_sh_status(PAUSED_SYNC,
                                                             NAME)))
        self.assertFalse(drbd.is_syncing(drbd.parse_sh_status(CONNECTED,
                                                              NAME)))
        self.assertFalse(drbd.is_syncing(None))

    def test_resource_path(self):
        self.assertEqual(PATH, drbd.resource_path(NAME))
        self.assertRaises(exception.InvalidInput, drbd.resource_path, 'all')
