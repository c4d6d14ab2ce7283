"""The DevStack plugin (devstack/plugin.sh, devstack/settings).

DevStack itself cannot run here, so the plugin is sourced by bash exactly
as DevStack sources it (``source plugin.sh <mode> <phase>``) after a stub
of every DevStack helper and privileged command it uses: ``sudo``,
``install_package``, ``openstack``, ``ip`` and the others record each
call into a file and answer from a fake host state; ``iniset``,
``iniget`` and ``iniset_multiline`` edit real (temporary) cinder.conf and
manila.conf files. The tests check the configuration written (read back
with oslo.config and the drivers' own option and pool checks) and the
commands the plugin would run. Nothing runs as root: every privileged
command is a recorded stub, and a PATH of tripwires catches anything that
would escape the stubs.
"""

import copy
import os
import re
import shlex
import shutil
import subprocess
import sys
from unittest import mock

import fixtures
from oslo_config import cfg
from oslotest import base

from arca_openstack.cinder import opts as cinder_opts
from arca_openstack.manila import opts as manila_opts
from arca_openstack import svm_pools
from tests.lab import stack as lab_stack
from tests.lab import tempest as lab_tempest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PLUGIN = os.path.join(ROOT, 'devstack', 'plugin.sh')
SETTINGS = os.path.join(ROOT, 'devstack', 'settings')
FILTERS = sorted(f for f in os.listdir(os.path.join(ROOT, 'etc',
                                                    'rootwrap.d'))
                 if f.endswith('.filters'))
HOST_IP = '192.0.2.5'

# Commands that must never run for real: each is a tripwire on PATH.
TRIPWIRES = ('sudo', 'apt-get', 'apt', 'dnf', 'yum', 'pip', 'pip3',
             'lvcreate', 'lvremove', 'lvs', 'vgs', 'vgcreate', 'vgremove',
             'vgchange', 'pvs', 'pvcreate', 'losetup', 'ip', 'mount',
             'umount', 'systemctl', 'modprobe', 'openstack', 'findmnt',
             'truncate', 'install', 'nsenter', 'ganesha.nfsd', 'mkfs.xfs',
             'rmdir')

INI_HELPER = r'''
import sys


def key(line):
    s = line.strip()
    if not s or s[0] in '#;' or '=' not in s:
        return None
    return s.split('=', 1)[0].strip()


def bounds(lines, section):
    start = None
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith('[') and s.endswith(']'):
            if start is not None:
                return start, i
            if s[1:-1] == section:
                start = i + 1
    return None if start is None else (start, len(lines))


cmd, path, section, option = sys.argv[1:5]
values = sys.argv[5:]
try:
    with open(path) as f:
        lines = f.read().splitlines()
except FileNotFoundError:
    lines = []
found = bounds(lines, section)
if cmd == 'get':
    if found:
        for line in lines[found[0]:found[1]]:
            if key(line) == option:
                print(line.split('=', 1)[1].strip())
                break
    sys.exit(0)
if found is None:
    lines.append('[%s]' % section)
    found = (len(lines), len(lines))
start, end = found
if cmd == 'set':
    for i in range(start, end):
        if key(lines[i]) == option:
            lines[i] = '%s = %s' % (option, values[0])
            break
    else:
        lines.insert(end, '%s = %s' % (option, values[0]))
elif cmd == 'multiline':
    kept = [line for line in lines[start:end] if key(line) != option]
    lines[start:end] = kept + ['%s = %s' % (option, v) for v in values]
with open(path, 'w') as f:
    f.write('\n'.join(lines) + '\n')
'''

STUBS = r'''
# Stubbed DevStack helpers and privileged commands.
function _rec {
    printf '%q ' "$@" >> "$ARCA_TEST_RECORD"
    printf '\n' >> "$ARCA_TEST_RECORD"
}
function enable_service { _rec enable_service "$@"; }
function is_service_enabled {
    local s
    for s in "$@"; do
        [[ " $ARCA_TEST_SERVICES " == *" $s "* ]] && return 0
    done
    return 1
}
function trueorfalse {
    local default=$1
    local value=${!2:-}
    case "${value,,}" in
        1|yes|true|on) echo True ;;
        0|no|false|off) echo False ;;
        *) echo "$default" ;;
    esac
}
function echo_summary { :; }
function is_ubuntu { [[ "$ARCA_TEST_DISTRO" == ubuntu ]]; }
function is_fedora { [[ "$ARCA_TEST_DISTRO" == fedora ]]; }
function die { _rec die "$@"; echo "die: $*" >&2; exit 1; }
function install_package { _rec install_package "$@"; }
function setup_develop { _rec setup_develop "$@"; }
function iniset {
    _rec iniset "$@"
    "$ARCA_TEST_PYTHON" "$ARCA_TEST_INI" set "$@"
}
function iniset_multiline {
    _rec iniset_multiline "$@"
    "$ARCA_TEST_PYTHON" "$ARCA_TEST_INI" multiline "$@"
}
function iniget { "$ARCA_TEST_PYTHON" "$ARCA_TEST_INI" get "$@"; }
function truncate { _rec truncate "$@"; : > "${*: -1}"; }
function sleep { :; }
function findmnt { _rec findmnt "$@"; printf '%s' "${ARCA_FAKE_MOUNTS:-}"; }
function ip {
    _rec ip "$@"
    case "$*" in
        "netns list") printf '%s' "${ARCA_FAKE_NETNS:-}" ;;
        "link show dev "*) [[ " ${ARCA_FAKE_LINKS:-} " == *" $4 "* ]] ;;
        *) echo "unexpected unprivileged ip $*" >&2; return 97 ;;
    esac
}
function openstack {
    _rec openstack "$@"
    if [[ " $* " == *" show "* ]]; then
        [[ " ${ARCA_FAKE_OS_EXISTING:-} " == *" ${*: -1} "* ]]
        return
    fi
}
function sudo {
    _rec sudo "$@"
    case "$1" in
        vgs) [[ " ${ARCA_FAKE_VGS:-} " == *" $2 "* ]] ;;
        lvs) [[ " ${ARCA_FAKE_LVS:-} " == *" $2 "* ]] ;;
        losetup)
            if [[ "$2" == -j && -n "${ARCA_FAKE_LOOP:-}" ]]; then
                echo "$ARCA_FAKE_LOOP: [2049]:1234 ($3)"
            elif [[ "$2" == -f ]]; then
                echo /dev/loop7
            fi ;;
        pvs) echo "  ${ARCA_FAKE_PV_VG:-}" ;;
        cat|ls)
            local args=() a
            for a in "${@:2}"; do
                [[ "$a" == /* ]] && a=$ARCA_TEST_ROOT$a
                args+=("$a")
            done
            command "$1" "${args[@]}" ;;
        kill) rm -rf "${ARCA_PROC_DIR:?}/$3" ;;
    esac
}
'''

TRIPWIRE = '''#!/bin/sh
echo "UNSTUBBED $(basename "$0") $*" >> "$ARCA_TEST_RECORD"
exit 97
'''


def ganesha_cmdline(svm):
    return '\0'.join([
        '/usr/bin/ganesha.nfsd', '-f',
        '/var/lib/arca/svm/%s/ganesha.conf' % svm, '-L',
        '/var/log/arca/ganesha-%s.log' % svm, '-p',
        '/run/arca/ganesha-%s.pid' % svm, '-N', 'NIV_EVENT', ''])


class DevstackPluginTestCase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        if shutil.which('bash') is None:
            self.skipTest('bash is not installed')
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.record = os.path.join(self.tmp, 'record')
        self.fake_root = os.path.join(self.tmp, 'root')
        self.proc = os.path.join(self.tmp, 'proc')
        self.data = os.path.join(self.tmp, 'data')
        for path in (self.fake_root, self.proc, self.data):
            os.makedirs(path)
        self.cinder_conf = self._write('cinder.conf',
                                       '[DEFAULT]\n'
                                       'enabled_backends = lvmdriver-1\n'
                                       '\n[lvmdriver-1]\n'
                                       'volume_driver = lvm\n')
        self.manila_conf = self._write('manila.conf',
                                       '[DEFAULT]\n'
                                       'enabled_share_backends = london\n')
        stubs = self._write('stubs.sh', STUBS)
        ini = self._write('ini.py', INI_HELPER)
        bindir = os.path.join(self.tmp, 'bin')
        os.makedirs(bindir)
        for name in TRIPWIRES:
            path = os.path.join(bindir, name)
            with open(path, 'w') as f:
                f.write(TRIPWIRE)
            os.chmod(path, 0o755)
        self.env = {
            'PATH': bindir + ':/usr/bin:/bin',
            'HOME': self.tmp,
            'LANG': 'C.UTF-8',
            'DEST': os.path.join(self.tmp, 'stack'),
            'DATA_DIR': self.data,
            'HOST_IP': HOST_IP,
            'REGION_NAME': 'RegionOne',
            'CINDER_CONF': self.cinder_conf,
            'CINDER_CONF_DIR': '/etc/cinder',
            'MANILA_CONF': self.manila_conf,
            'MANILA_CONF_DIR': '/etc/manila',
            'ARCA_DIR': ROOT,
            'ARCA_PROC_DIR': self.proc,
            'ARCA_TEST_RECORD': self.record,
            'ARCA_TEST_ROOT': self.fake_root,
            'ARCA_TEST_PYTHON': sys.executable,
            'ARCA_TEST_INI': ini,
            'ARCA_TEST_STUBS': stubs,
            'ARCA_TEST_DISTRO': 'ubuntu',
            'ARCA_TEST_SERVICES': 'arca c-api c-sch c-vol m-api m-sch m-shr',
        }
        self.backing_file = os.path.join(self.data, 'arca-backing-file')

    def _write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    # ------------------------------------------------------------ helpers

    def run_plugin(self, *args, check=True, **settings):
        """Source settings and plugin.sh with ``args``; return the calls."""
        env = dict(self.env, **settings)
        script = ('set -o errexit\n'
                  'source "$ARCA_TEST_STUBS"\n'
                  'source %s\n'
                  'source %s %s\n' % (shlex.quote(SETTINGS),
                                      shlex.quote(PLUGIN),
                                      ' '.join(shlex.quote(a)
                                               for a in args)))
        if os.path.exists(self.record):
            os.remove(self.record)
        proc = subprocess.run(['bash', '-c', script], cwd=self.tmp, env=env,
                              capture_output=True, text=True, timeout=120)
        text = ''
        if os.path.exists(self.record):
            with open(self.record) as f:
                text = f.read()
        self.assertNotIn('UNSTUBBED', text,
                         'a command escaped the stubs')
        if check:
            self.assertEqual(0, proc.returncode,
                             'plugin failed:\n%s' % proc.stderr[-4000:])
        self.returncode = proc.returncode
        return [tuple(shlex.split(line)) for line in text.splitlines()]

    @staticmethod
    def sudo(calls):
        return [c[1:] for c in calls if c[0] == 'sudo']

    @staticmethod
    def sections(path):
        sections = {}
        cfg.ConfigParser(path, sections).parse()
        return sections

    @staticmethod
    def backend_conf(path, section, opts):
        conf = cfg.ConfigOpts()
        conf.register_opts(copy.deepcopy(opts), group=section)
        conf(args=[], default_config_files=[path])
        return conf[section]

    def assertInOrder(self, expected, calls):
        """``expected`` calls appear in ``calls`` in this order."""
        pos = 0
        for call in expected:
            try:
                pos = calls.index(call, pos) + 1
            except ValueError:
                self.fail('%r not found (in order) in:\n%s' % (
                    call, '\n'.join(map(repr, calls))))

    # -------------------------------------------------------------- files

    def test_shellcheck(self):
        if shutil.which('shellcheck') is None:
            self.skipTest('shellcheck is not installed')
        proc = subprocess.run(['shellcheck', '-s', 'bash', PLUGIN,
                               SETTINGS], capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)

    def test_syntax(self):
        for path in (PLUGIN, SETTINGS):
            proc = subprocess.run(['bash', '-n', path], capture_output=True,
                                  text=True, timeout=60)
            self.assertEqual(0, proc.returncode, proc.stderr)

    def test_sourced_without_arguments_does_nothing(self):
        calls = self.run_plugin()
        self.assertEqual([('enable_service', 'arca')], calls)

    def test_disabled_does_nothing(self):
        calls = self.run_plugin('stack', 'install',
                                ARCA_TEST_SERVICES='c-vol m-shr')
        self.assertEqual([('enable_service', 'arca')], calls)

    # ------------------------------------------------------------ install

    def test_install(self):
        calls = self.run_plugin('stack', 'install')
        self.assertIn(('install_package', 'lvm2', 'thin-provisioning-tools',
                       'xfsprogs', 'nfs-ganesha', 'nfs-ganesha-vfs',
                       'nfs-common', 'drbd-utils', 'iproute2'), calls)
        self.assertIn(('setup_develop', ROOT), calls)
        self.assertInOrder([
            ('truncate', '-s', '24G', self.backing_file),
            ('sudo', 'losetup', '-f', '--show', self.backing_file),
            ('sudo', 'vgcreate', 'arca', '/dev/loop7'),
            ('sudo', 'lvcreate', '-y', '--type', 'thin-pool', '-l',
             '95%FREE', '-n', 'pool', 'arca'),
            ('sudo', 'vgchange', '-ay', 'arca'),
            ('sudo', 'ip', 'link', 'add', 'br-arca', 'type', 'bridge'),
            ('sudo', 'ip', 'link', 'set', 'dev', 'br-arca', 'up'),
            ('sudo', 'ip', 'addr', 'replace', '10.213.0.1/24', 'dev',
             'br-arca', 'noprefixroute'),
            ('sudo', 'ip', 'route', 'replace', '10.213.0.0/24', 'dev',
             'br-arca', 'src', HOST_IP),
        ], calls)
        self.assertIn(('systemctl', 'disable', '--now',
                       'nfs-ganesha.service'), self.sudo(calls))
        self.assertIn(('install', '-o', 'root', '-g', 'root', '-m', '644',
                       ROOT + '/etc/dbus-1/system.d/arca-ganesha.conf',
                       '/etc/dbus-1/system.d/arca-ganesha.conf'),
                      self.sudo(calls))
        self.assertTrue(os.path.exists(self.backing_file))

    def test_install_settings(self):
        calls = self.run_plugin('stack', 'install',
                                ARCA_VOLUME_GROUP='vg1',
                                ARCA_THIN_POOL='tp',
                                ARCA_BACKING_FILE_SIZE='8G',
                                ARCA_THIN_POOL_EXTENTS='80%FREE',
                                ARCA_BRIDGE='br-x',
                                ARCA_NETWORK_CIDR='10.9.0.0/16',
                                ARCA_BRIDGE_ADDRESS='10.9.0.1',
                                ARCA_BRIDGE_ROUTE_SRC='',
                                ARCA_INSTALL_PACKAGES='False',
                                ARCA_DISABLE_SYSTEM_GANESHA='False')
        backing = os.path.join(self.data, 'vg1-backing-file')
        self.assertInOrder([
            ('truncate', '-s', '8G', backing),
            ('sudo', 'vgcreate', 'vg1', '/dev/loop7'),
            ('sudo', 'lvcreate', '-y', '--type', 'thin-pool', '-l',
             '80%FREE', '-n', 'tp', 'vg1'),
            ('sudo', 'ip', 'addr', 'replace', '10.9.0.1/16', 'dev', 'br-x'),
        ], calls)
        self.assertNotIn('install_package', [c[0] for c in calls])
        sudo = self.sudo(calls)
        self.assertNotIn(('systemctl', 'disable', '--now',
                          'nfs-ganesha.service'), sudo)
        self.assertFalse([c for c in sudo if c[:2] == ('ip', 'route')])

    def test_install_fedora_packages(self):
        calls = self.run_plugin('stack', 'install', ARCA_TEST_DISTRO='fedora')
        self.assertIn(('install_package', 'lvm2',
                       'device-mapper-persistent-data', 'xfsprogs',
                       'nfs-ganesha', 'nfs-ganesha-vfs', 'nfs-utils',
                       'iproute'), calls)

    def test_install_again_changes_nothing_existing(self):
        # Re-stack: the VG, its pool and the bridge are there already.
        calls = self.run_plugin('stack', 'install', ARCA_FAKE_VGS='arca',
                                ARCA_FAKE_LVS='arca/pool',
                                ARCA_FAKE_LINKS='br-arca')
        sudo = self.sudo(calls)
        self.assertNotIn('truncate', [c[0] for c in calls])
        for word in ('vgcreate', 'lvcreate', 'losetup'):
            self.assertNotIn(word, [c[0] for c in sudo])
        self.assertNotIn(('ip', 'link', 'add', 'br-arca', 'type', 'bridge'),
                         sudo)
        self.assertIn(('vgchange', '-ay', 'arca'), sudo)

    def test_install_reattaches_backing_file(self):
        # After a reboot: the file is there, its loop device is not.
        with open(self.backing_file, 'w'):
            pass
        calls = self.run_plugin('stack', 'install')
        self.assertNotIn('truncate', [c[0] for c in calls])
        self.assertIn(('losetup', '-f', '--show', self.backing_file),
                      self.sudo(calls))

    def test_install_existing_vg(self):
        calls = self.run_plugin('stack', 'install', ARCA_CREATE_VG='False',
                                ARCA_FAKE_VGS='arca')
        sudo = self.sudo(calls)
        self.assertNotIn('vgcreate', [c[0] for c in sudo])
        self.assertIn(('lvcreate', '-y', '--type', 'thin-pool', '-l',
                       '95%FREE', '-n', 'pool', 'arca'), sudo)

    def test_install_missing_vg_not_to_create(self):
        calls = self.run_plugin('stack', 'install', check=False,
                                ARCA_CREATE_VG='False')
        self.assertNotEqual(0, self.returncode)
        self.assertEqual('die', calls[-1][0])

    # -------------------------------------------------------- post-config

    def test_post_config_cinder(self):
        calls = self.run_plugin('stack', 'post-config')
        sections = self.sections(self.cinder_conf)
        self.assertEqual(['lvmdriver-1,arca'],
                         sections['DEFAULT']['enabled_backends'])
        self.assertNotIn('default_volume_type', sections['DEFAULT'])
        arca = sections['arca']
        self.assertEqual(['arca_openstack.cinder.driver.ArcaNFSDriver'],
                         arca['volume_driver'])
        self.assertEqual(['arca'], arca['volume_backend_name'])
        # Read back as the driver reads it, checked as the driver does.
        conf = self.backend_conf(self.cinder_conf, 'arca',
                                 cinder_opts.volume_opts +
                                 cinder_opts.svm_opts)
        self.assertEqual('arca', conf.arca_volume_group)
        self.assertEqual('pool', conf.arca_thin_pool)
        settings = svm_pools.settings_from_conf(conf)
        self.assertEqual('per_project', settings.mapping)
        self.assertEqual('cinder_', settings.prefix)
        self.assertEqual('cinder_shared', settings.shared_name)
        self.assertEqual(1, len(settings.pools))
        pool = settings.pools[0]
        self.assertEqual(('veth', 'br-arca', None), (pool.mode, pool.bridge,
                                                     pool.parent))
        subnet = pool.subnets[0]
        self.assertEqual(('10.213.0.0/24', '10.213.0.10', '10.213.0.99',
                          '10.213.0.1'),
                         tuple(str(x) for x in subnet))
        self.assertIn(('install', '-o', 'root', '-g', 'root', '-m', '644') +
                      tuple(os.path.join(ROOT, 'etc', 'rootwrap.d', f)
                            for f in FILTERS) +
                      ('/etc/cinder/rootwrap.d/',), self.sudo(calls))

    def test_post_config_manila_default(self):
        calls = self.run_plugin('stack', 'post-config')
        sections = self.sections(self.manila_conf)
        self.assertEqual(['london,arca-nfs'],
                         sections['DEFAULT']['enabled_share_backends'])
        self.assertNotIn('arca-dhss', sections)
        be = sections['arca-nfs']
        self.assertEqual(['arca_openstack.manila.driver.ArcaShareDriver'],
                         be['share_driver'])
        self.assertEqual(['arca-nfs'], be['share_backend_name'])
        self.assertEqual(['False'], be['driver_handles_share_servers'])
        conf = self.backend_conf(self.manila_conf, 'arca-nfs',
                                 manila_opts.all_opts())
        settings = svm_pools.settings_from_conf(conf)
        self.assertEqual('manila_', settings.prefix)
        self.assertEqual('manila_shared', settings.shared_name)
        subnet = settings.pools[0].subnets[0]
        self.assertEqual(('10.213.0.100', '10.213.0.149'),
                         (str(subnet.first), str(subnet.last)))
        self.assertIn(('install', '-o', 'root', '-g', 'root', '-m', '644') +
                      tuple(os.path.join(ROOT, 'etc', 'rootwrap.d', f)
                            for f in FILTERS) +
                      ('/etc/manila/rootwrap.d/',), self.sudo(calls))

    def test_post_config_dhss_true_standalone(self):
        self.run_plugin('stack', 'post-config', ARCA_MANILA_DHSS='True')
        sections = self.sections(self.manila_conf)
        self.assertEqual(['london,arca-dhss'],
                         sections['DEFAULT']['enabled_share_backends'])
        self.assertNotIn('arca-nfs', sections)
        be = sections['arca-dhss']
        self.assertEqual(['True'], be['driver_handles_share_servers'])
        self.assertEqual(
            ['manila.network.standalone_network_plugin.'
             'StandaloneNetworkPlugin'], be['network_api_class'])
        self.assertEqual(['10.213.0.1'],
                         be['standalone_network_plugin_gateway'])
        self.assertEqual(['24'], be['standalone_network_plugin_mask'])
        self.assertEqual(['10.213.0.150-10.213.0.199'],
                         be['standalone_network_plugin_allowed_ip_ranges'])
        self.assertEqual(['flat'],
                         be['standalone_network_plugin_network_type'])
        self.assertNotIn('arca_address_pools', be)
        conf = self.backend_conf(self.manila_conf, 'arca-dhss',
                                 manila_opts.all_opts())
        self.assertEqual('veth', conf.arca_share_server_network_mode)
        self.assertEqual('br-arca', conf.arca_share_server_bridge)
        self.assertEqual('msrv_',
                         svm_pools.check_prefix(conf.arca_svm_name_prefix))

    def test_post_config_both_neutron_vlan(self):
        self.run_plugin('stack', 'post-config', ARCA_MANILA_DHSS='both',
                        ARCA_MANILA_DHSS_NETWORK='neutron',
                        ARCA_MANILA_SERVER_NETWORK_MODE='vlan',
                        ARCA_MANILA_SERVER_PARENT_INTERFACE='eth1')
        sections = self.sections(self.manila_conf)
        self.assertEqual(['london,arca-nfs,arca-dhss'],
                         sections['DEFAULT']['enabled_share_backends'])
        be = sections['arca-dhss']
        self.assertEqual(['manila.network.neutron.neutron_network_plugin.'
                          'NeutronNetworkPlugin'], be['network_api_class'])
        self.assertEqual(['vlan'], be['arca_share_server_network_mode'])
        self.assertEqual(['eth1'], be['arca_share_server_parent_interface'])
        self.assertFalse([k for k in be if k.startswith('standalone')])
        self.assertEqual(['False'],
                         sections['arca-nfs']['driver_handles_share_servers'])

    def test_post_config_standalone_vlan(self):
        self.run_plugin('stack', 'post-config', ARCA_MANILA_DHSS='true',
                        ARCA_MANILA_SERVER_NETWORK_MODE='vlan',
                        ARCA_MANILA_SERVER_PARENT_INTERFACE='eth1',
                        ARCA_MANILA_DHSS_SEGMENTATION_ID='200')
        be = self.sections(self.manila_conf)['arca-dhss']
        self.assertEqual(['vlan'],
                         be['standalone_network_plugin_network_type'])
        self.assertEqual(['200'],
                         be['standalone_network_plugin_segmentation_id'])

    def test_post_config_bad_settings(self):
        for settings in ({'ARCA_MANILA_DHSS': 'maybe'},
                         {'ARCA_MANILA_DHSS': 'True',
                          'ARCA_MANILA_SERVER_NETWORK_MODE': 'vlan'},
                         {'ARCA_MANILA_DHSS': 'True',
                          'ARCA_MANILA_SERVER_NETWORK_MODE': 'bond'},
                         {'ARCA_MANILA_DHSS': 'True',
                          'ARCA_MANILA_DHSS_NETWORK': 'nova'},
                         {'ARCA_MANILA_DHSS': 'True',
                          'ARCA_MANILA_DHSS_SEGMENTATION_ID': '200'}):
            calls = self.run_plugin('stack', 'post-config', check=False,
                                    **settings)
            self.assertNotEqual(0, self.returncode, settings)
            self.assertEqual('die', calls[-1][0], settings)

    def test_post_config_settings(self):
        pools = ('mode=vlan,parent=eth1,vlan=100,cidr=10.0.100.0/24,'
                 'gateway=10.0.100.1 '
                 'mode=macvlan,parent=eth2,cidr=fd00:10::/64')
        self.run_plugin('stack', 'post-config',
                        ARCA_CINDER_BACKEND='arca-1',
                        ARCA_CINDER_SVM_MAPPING='shared',
                        ARCA_CINDER_SHARED_SVM='cinder_all',
                        ARCA_CINDER_ADDRESS_POOLS=pools,
                        ARCA_CINDER_DEFAULT_TYPE='True',
                        ARCA_CINDER_VOLUME_TYPE='fast',
                        ARCA_TEST_SERVICES='arca c-vol')
        sections = self.sections(self.cinder_conf)
        self.assertEqual(['fast'], sections['DEFAULT']['default_volume_type'])
        self.assertEqual(['lvmdriver-1,arca-1'],
                         sections['DEFAULT']['enabled_backends'])
        self.assertEqual(pools.split(),
                         sections['arca-1']['arca_address_pools'])
        conf = self.backend_conf(self.cinder_conf, 'arca-1',
                                 cinder_opts.svm_opts)
        settings = svm_pools.settings_from_conf(conf)
        self.assertEqual(('shared', 'cinder_all', 2),
                         (settings.mapping, settings.shared_name,
                          len(settings.pools)))
        # Manila is not enabled: its file is untouched.
        self.assertEqual(['london'], self.sections(self.manila_conf)[
            'DEFAULT']['enabled_share_backends'])

    def test_post_config_twice(self):
        self.run_plugin('stack', 'post-config', ARCA_MANILA_DHSS='both')
        with open(self.cinder_conf) as f:
            cinder = f.read()
        with open(self.manila_conf) as f:
            manila = f.read()
        self.run_plugin('stack', 'post-config', ARCA_MANILA_DHSS='both')
        with open(self.cinder_conf) as f:
            self.assertEqual(cinder, f.read())
        with open(self.manila_conf) as f:
            self.assertEqual(manila, f.read())

    # -------------------------------------------------------------- extra

    def test_extra_creates_types(self):
        calls = self.run_plugin('stack', 'extra', ARCA_MANILA_DHSS='both')
        created = [c[1:] for c in calls
                   if c[0] == 'openstack' and 'create' in c]
        specs = ('--snapshot-support', 'true',
                 '--create-share-from-snapshot-support', 'true',
                 '--revert-to-snapshot-support', 'true',
                 '--mount-snapshot-support', 'true', '--extra-specs')
        self.assertEqual([
            ('--os-region-name=RegionOne', 'volume', 'type', 'create',
             '--property', 'volume_backend_name=arca', 'arca'),
            ('share', 'type', 'create', 'arca-nfs', 'false') + specs +
            ('share_backend_name=arca-nfs',),
            ('share', 'type', 'create', 'arca-dhss', 'true') + specs +
            ('share_backend_name=arca-dhss',),
            ('share', 'network', 'create', '--name', 'arca-standalone'),
        ], created)

    def test_extra_existing_types(self):
        calls = self.run_plugin(
            'stack', 'extra', ARCA_MANILA_DHSS='both',
            ARCA_FAKE_OS_EXISTING='arca arca-nfs arca-dhss arca-standalone')
        self.assertFalse([c for c in calls if 'create' in c])
        self.assertEqual(4, len([c for c in calls if 'show' in c]))

    def test_extra_services_disabled(self):
        calls = self.run_plugin('stack', 'extra',
                                ARCA_TEST_SERVICES='arca c-vol m-shr')
        self.assertFalse([c for c in calls if c[0] == 'openstack'])

    # -------------------------------------------------------- test-config

    def _tempest(self, **settings):
        conf = self._write('tempest.conf', '[DEFAULT]\n')
        settings.setdefault('ARCA_TEST_SERVICES',
                            'arca c-api c-vol m-api m-shr tempest')
        self.run_plugin('stack', 'test-config', TEMPEST_CONFIG=conf,
                        **settings)
        return {section: {k: v[-1] for k, v in options.items()}
                for section, options in self.sections(conf).items()}

    def test_test_config_tempest(self):
        sections = self._tempest()
        # Every option of tempest-options, as the lab's Tempest reads them.
        found = lab_tempest.options()
        self.assertGreater(len(found), 20)
        for section, option, value in found:
            self.assertEqual(value, sections[section][option],
                             '%s.%s' % (section, option))
        self.assertEqual('True', sections['volume-feature-enabled'][
            'manage_snapshot'])
        self.assertEqual('source-name,vol-%s',
                         sections['volume']['manage_volume_ref'])
        self.assertEqual(('arca', 'arca'), (
            sections['volume']['backend_names'],
            sections['volume']['volume_type']))
        self.assertEqual(('False', 'arca-nfs', 'arca-nfs'), (
            sections['share']['multitenancy_enabled'],
            sections['share']['backend_names'],
            sections['share']['default_share_type_name']))

    def test_test_config_tempest_dhss_true(self):
        share = self._tempest(ARCA_MANILA_DHSS='True')['share']
        self.assertEqual(('True', 'arca-dhss', 'arca-dhss', 'False'), (
            share['multitenancy_enabled'], share['backend_names'],
            share['default_share_type_name'],
            share['create_networks_when_multitenancy_enabled']))

    def test_ci_subset_per_suite(self):
        # The subset CI runs: volume lines for the volume suite, share
        # lines for each share suite, and real test ids match them.
        volume = re.compile(lab_tempest.subset_regex('volume'))
        share = re.compile(lab_tempest.subset_regex('share-dhss-true'))
        self.assertEqual(share.pattern,
                         lab_tempest.subset_regex('share-dhss-false'))
        create = ('tempest.api.volume.test_volumes_get.VolumesGetTest.'
                  'test_volume_create_get_update_delete[id-27fb0e9f]')
        rule = ('manila_tempest_tests.tests.api.test_rules.'
                'ShareIpRulesForNFSTest.test_create_delete_ro_access_rule_1'
                '[id-1]')
        self.assertTrue(volume.search(create))
        self.assertFalse(volume.search(rule))
        self.assertTrue(share.search(rule))
        self.assertFalse(share.search(create))
        self.assertFalse(volume.search(create.replace('get_update', 'x')))

    def test_ci_subset_without_suite_lines(self):
        path = self._write('ci.txt', '# only volume\n^tempest\\.api\\.'
                           'volume\\.test_volumes_get\\.\n')
        self.assertTrue(lab_tempest.subset_regex('volume', path))
        self.assertRaisesRegex(ValueError, 'no test of suite share',
                               lab_tempest.subset_regex,
                               'share-dhss-false', path)

    def test_run_outcomes_and_comparison(self):
        ours = self._write('ours.log', (
            '{0} tempest.api.volume.test_a.A.test_x[id-1,smoke] [1.2s] '
            '... ok\n'
            '{1} tempest.api.volume.test_a.A.test_y[id-2] [0.5s] ... '
            'FAILED\n'
            'some traceback ... ok\n'
            '{0} setUpClass (tempest.api.volume.test_b.B) ... SKIPPED: '
            'no nova\n'
            '{1} tempest.api.volume.test_c.C.test_w [2.0s] ... ok\n'))
        ref = self._write('ref.log', (
            '{0} tempest.api.volume.test_a.A.test_x[id-1,smoke] [1.0s] '
            '... ok\n'
            '{0} tempest.api.volume.test_a.A.test_y[id-2] [0.4s] ... ok\n'
            '{1} tempest.api.volume.test_d.D.test_v [0.1s] ... ok\n'
            '{1} tempest.api.volume.test_c.C.test_w ... SKIPPED: fake\n'))
        found = lab_tempest.outcomes(ours)
        self.assertEqual({
            'tempest.api.volume.test_a.A.test_x': 'ok',
            'tempest.api.volume.test_a.A.test_y': 'FAILED',
            'setUpClass (tempest.api.volume.test_b.B)': 'SKIPPED',
            'tempest.api.volume.test_c.C.test_w': 'ok'}, found)
        self.assertEqual({
            'not_passed': {'tempest.api.volume.test_a.A.test_y': 'FAILED',
                           'tempest.api.volume.test_d.D.test_v':
                           'not run'},
            'only_ours': ['tempest.api.volume.test_c.C.test_w']},
            lab_tempest.compare(found, lab_tempest.outcomes(ref)))

    def _lab_tempest_config(self, suite, reference):
        stack = mock.Mock(reference=reference,
                          settings=lab_stack.plugin_settings())
        stack.url.side_effect = lambda port, path='': (
            'http://127.0.0.1:%d%s' % (port, path))
        with mock.patch.object(lab_tempest, 'max_microversion',
                               return_value='2.80'):
            return lab_tempest.config(stack, suite)

    def test_reference_share_capabilities(self):
        ours = self._lab_tempest_config('share-dhss-false', False)['share']
        self.assertEqual(('NFS', 'True'), (
            ours['capability_storage_protocol'],
            ours['capability_thin_provisioned']))
        ref = self._lab_tempest_config('share-dhss-false', True)['share']
        self.assertEqual(('NFS_CIFS', False), (
            ref['capability_storage_protocol'],
            ref['capability_thin_provisioned']))
        # Everything else is the same configuration.
        self.assertEqual(
            {k: v for k, v in ours.items()
             if k not in lab_tempest.REFERENCE_SHARE_CAPABILITIES},
            {k: v for k, v in ref.items()
             if k not in lab_tempest.REFERENCE_SHARE_CAPABILITIES})

    def test_reference_workspace(self):
        self.assertEqual(os.path.join(lab_tempest.WORKSPACES,
                                      'volume-reference'),
                         lab_tempest.workspace_path('volume', True))
        self.assertEqual(os.path.join(lab_tempest.WORKSPACES, 'volume'),
                         lab_tempest.workspace_path('volume'))

    def test_test_config_without_tempest(self):
        sections = self._tempest(ARCA_TEST_SERVICES='arca c-api m-api')
        self.assertEqual({'DEFAULT': {}}, sections)

    # ---------------------------------------------------- unstack, clean

    def _fake_node(self):
        """SVMs of ours and of others, with Ganesha, records and mounts."""
        ours = ['cinder_0123456789abcdef0123456789abcdef',
                'manila_fedcba9876543210fedcba9876543210',
                'msrv_00112233445566778899aabbccddeeff', 'cinder_shared']
        netns = ours[:3] + ['qrouter-1234 (id: 3)', 'arca_shared']
        records = [ours[0], ours[3], 'other_svm']
        run = os.path.join(self.fake_root, 'run', 'arca')
        svm_dir = os.path.join(self.fake_root, 'var', 'lib', 'arca', 'svm')
        os.makedirs(run)
        for name in records:
            os.makedirs(os.path.join(svm_dir, name))
        pids = {}
        for pid, name in enumerate(ours[:2] + ['arca_shared'], start=4242):
            pids[name] = pid
            with open(os.path.join(run, 'ganesha-%s.pid' % name), 'w') as f:
                f.write('%d\n' % pid)
            os.makedirs(os.path.join(self.proc, str(pid)))
            with open(os.path.join(self.proc, str(pid), 'cmdline'),
                      'w') as f:
                f.write(ganesha_cmdline(name))
        # A stale pid file naming an unrelated process.
        with open(os.path.join(run, 'ganesha-%s.pid' % ours[2]), 'w') as f:
            f.write('99\n')
        os.makedirs(os.path.join(self.proc, '99'))
        with open(os.path.join(self.proc, '99', 'cmdline'), 'w') as f:
            f.write('/usr/sbin/sshd\0-D\0')
        with open(self.backing_file, 'w'):
            pass
        return ours, pids, {
            'ARCA_FAKE_NETNS': ''.join(n + '\n' for n in netns),
            'ARCA_FAKE_MOUNTS': '/\n/var/lib/arca/mnt/vol-1\n'
                                '/var/lib/arca/mnt/share-2\n/var/lib/arca\n'
                                '/var/lib/arcana/mnt/x\n',
            'ARCA_FAKE_LOOP': '/dev/loop7',
            'ARCA_FAKE_PV_VG': 'arca',
            'ARCA_FAKE_LINKS': 'br-arca',
        }

    def test_unstack(self):
        ours, pids, state = self._fake_node()
        calls = self.run_plugin('unstack', **state)
        sudo = self.sudo(calls)
        self.assertEqual(
            [('-TERM', str(pids[ours[0]])), ('-TERM', str(pids[ours[1]]))],
            [c[1:] for c in sudo if c[0] == 'kill'])
        self.assertEqual(
            [('netns', 'delete', n) for n in sorted(ours[:3])],
            [c[1:] for c in sudo if c[:2] == ('ip', 'netns')])
        self.assertEqual(
            sorted(('rm', '-rf', '/var/lib/arca/svm/' + n) for n in ours),
            sorted(c for c in sudo if c[:2] == ('rm', '-rf')))
        self.assertIn(('rm', '-f', '/run/arca/ganesha-%s.pid' % ours[2],
                       '/run/arca/ganesha-%s.bind' % ours[2]), sudo)
        self.assertEqual(
            [('umount', '/var/lib/arca/mnt/vol-1'),
             ('umount', '/var/lib/arca/mnt/share-2')],
            [c for c in sudo if c[0] == 'umount'])
        self.assertInOrder([
            ('sudo', 'ip', 'netns', 'delete', ours[0]),
            ('sudo', 'umount', '/var/lib/arca/mnt/vol-1'),
            ('sudo', 'vgremove', '-f', 'arca'),
            ('sudo', 'losetup', '-d', '/dev/loop7'),
            ('sudo', 'ip', 'link', 'del', 'br-arca'),
        ], calls)
        self.assertFalse(os.path.exists(self.backing_file))
        # The Ganesha of arca_shared (not ours) still runs.
        self.assertTrue(os.path.exists(os.path.join(
            self.proc, str(pids['arca_shared']))))

    def test_unstack_kills_stubborn_ganesha(self):
        ours, pids, state = self._fake_node()
        # The stub's kill removes the process; make it survive SIGTERM by
        # removing nothing: point the pid's /proc entry at a copy.
        stubborn = os.path.join(self.tmp, 'stubs-stubborn.sh')
        with open(self.env['ARCA_TEST_STUBS']) as f:
            text = f.read().replace(
                'kill) rm -rf',
                'kill) [[ "$2" == -TERM ]] || rm -rf')
        with open(stubborn, 'w') as f:
            f.write(text)
        calls = self.run_plugin('unstack', ARCA_TEST_STUBS=stubborn,
                                **state)
        kills = [c[1:] for c in self.sudo(calls) if c[0] == 'kill']
        pid = str(pids[ours[0]])
        self.assertEqual([('-TERM', pid), ('-KILL', pid)], kills[:2])

    def test_unstack_keeps_vg_not_on_our_file(self):
        ours, pids, state = self._fake_node()
        state['ARCA_FAKE_PV_VG'] = 'other'
        calls = self.run_plugin('unstack', **state)
        sudo = self.sudo(calls)
        self.assertNotIn('vgremove', [c[0] for c in sudo])
        self.assertIn(('losetup', '-d', '/dev/loop7'), sudo)

    def test_unstack_existing_vg_and_bridge_kept(self):
        ours, pids, state = self._fake_node()
        calls = self.run_plugin('unstack', ARCA_CREATE_VG='False',
                                ARCA_CREATE_BRIDGE='False', **state)
        sudo = self.sudo(calls)
        for word in ('vgremove', 'losetup', 'lvremove'):
            self.assertNotIn(word, [c[0] for c in sudo])
        self.assertNotIn(('ip', 'link', 'del', 'br-arca'), sudo)
        self.assertTrue(os.path.exists(self.backing_file))
        self.assertIn(('ip', 'netns', 'delete', ours[0]), sudo)

    def test_unstack_nothing_there(self):
        calls = self.run_plugin('unstack')
        sudo = self.sudo(calls)
        for word in ('kill', 'umount', 'vgremove', 'losetup'):
            self.assertNotIn(word, [c[0] for c in sudo])
        self.assertNotIn(('ip', 'link', 'del', 'br-arca'), sudo)

    def test_clean(self):
        ours, pids, state = self._fake_node()
        logs = os.path.join(self.fake_root, 'var', 'log', 'arca')
        os.makedirs(logs)
        for name in (ours[0], 'arca_shared'):
            with open(os.path.join(logs, 'ganesha-%s.log' % name), 'w'):
                pass
        calls = self.run_plugin('clean', **state)
        sudo = self.sudo(calls)
        self.assertIn(('vgremove', '-f', 'arca'), sudo)
        for name in FILTERS:
            self.assertIn(('rm', '-f', '/etc/cinder/rootwrap.d/' + name,
                           '/etc/manila/rootwrap.d/' + name), sudo)
        self.assertIn(('rm', '-f', '/var/log/arca/ganesha-%s.log' % ours[0]),
                      sudo)
        self.assertNotIn(('rm', '-f', '/var/log/arca/ganesha-arca_shared.log'),
                         sudo)
