"""A small real OpenStack beside the lab: Keystone, Cinder and Manila.

The services run as real processes of this host, each inside the lab's
network namespace (``nsenter --net``), so they reach the storage node at
its lab address and nothing else, and listen on that namespace's
loopback only:

* MariaDB (Debian's ``mariadbd``) on a Unix socket, no TCP at all;
* RabbitMQ (Debian's) and its ``epmd`` on 127.0.0.1;
* Keystone, cinder-api and manila-api under cheroot, a pure-Python WSGI
  server (tests/lab/stack_wsgi.py), on 127.0.0.1;
* cinder-scheduler, cinder-volume, manila-scheduler and manila-share, the
  services' own console scripts.

The drivers are deployed as the install guide says: the package is
installed system-wide on the storage node (tests/lab/guest_install.py),
the services log in over SSH as the non-root user ``arca`` with the
documented sudoers line and the default root helper (``sudo``), and check
the node's host key against a known_hosts file. The backends are the
DevStack plugin's (devstack/settings gives their names, types and SVM
prefixes): one Cinder backend with per-project SVMs, one Manila backend
with ``driver_handles_share_servers = False`` (per-project SVMs) and one
with ``True`` (Manila's standalone network plugin hands out addresses on
a VLAN). Per-project SVMs take addresses from a VLAN pool with a range.

Everything the stack writes is under ``<lab workdir>/stack``; its
processes are children of the process that built it, each in its own
process group, and are stopped by pid.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from tests.lab import backends
from tests.lab import guest_install
from tests.lab import harness

LOCAL = '127.0.0.1'
KEYSTONE_PORT = 5000
CINDER_PORT = 8776
MANILA_PORT = 8786
RABBIT_PORT = 5672
EPMD_PORT = 4369
RABBIT_DIST_PORT = 25672
REGION = 'RegionOne'
# Lab-only secrets: every service listens on the lab namespace's loopback.
PASSWORD = 'arcalab'
SSH_USER = 'arca'
HOST = 'arca-stack'

# The tenant networks, on VLANs of the lab bridge. Per-project SVMs
# (Cinder, Manila DHSS=False) take addresses from one pool on VLAN 100;
# Manila's standalone network plugin hands out VLAN 200 addresses to
# share servers (DHSS=True). The client node has an address on both.
PROJECT_VLAN, SERVER_VLAN = 100, 200
CINDER_RANGE = '10.100.0.10-10.100.0.59'
MANILA_RANGE = '10.100.0.60-10.100.0.109'
SERVER_RANGE = '10.200.0.10-10.200.0.59'
# Manila's dummy driver takes two addresses per share server, Arca's one.
REFERENCE_SERVER_RANGE = '10.200.0.10-10.200.0.109'
CLIENT_ADDRESSES = {PROJECT_VLAN: '10.100.0.250/24',
                    SERVER_VLAN: '10.200.0.250/24'}

# Projects of the CLI smoke and Tempest: (project, user, role)
PROJECTS = (('admin', 'admin', 'admin'), ('demo', 'demo', 'member'),
            ('alt_demo', 'alt_demo', 'member'))

DRIVERS = {
    'cinder': 'arca_openstack.cinder.driver.ArcaNFSDriver',
    'manila': 'arca_openstack.manila.driver.ArcaShareDriver',
}
# The upstream drivers of the services' own functional and Tempest jobs:
# they keep records only, with no storage behind them.
REFERENCE_DRIVERS = {
    'cinder': 'cinder.tests.fake_driver.FakeLoggingVolumeDriver',
    'manila': 'manila.tests.share.drivers.dummy.DummyDriver',
}
# The fake driver reports this volume_backend_name whatever its section
# says: the volume type's extra spec must match it.
REFERENCE_VOLUME_BACKEND_NAME = 'fake'
STANDALONE_PLUGIN = ('manila.network.standalone_network_plugin.'
                     'StandaloneNetworkPlugin')
# Manila's dummy driver asks for an admin network address per share
# server (Arca's driver asks for none; without one every dummy share
# server fails): its DHSS=True backend gets one from a second standalone
# plugin, as Manila's own dummy jobs set up. Records only: no interface
# ever holds these addresses.
REFERENCE_ADMIN_NETWORK = 'reference_admin_network'
REFERENCE_ADMIN_NETWORK_OPTIONS = {
    'network_api_class': STANDALONE_PLUGIN,
    'standalone_network_plugin_gateway': '10.201.0.1',
    'standalone_network_plugin_mask': '24',
    'standalone_network_plugin_network_type': 'flat',
    'standalone_network_plugin_allowed_ip_ranges': '10.201.0.10-10.201.0.250',
}

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DEVSTACK = os.path.join(ROOT, 'devstack')
BIN = os.path.dirname(sys.executable)


class StackError(Exception):
    pass


def plugin_settings():
    """The DevStack plugin's settings: ``{ARCA_...: value}``.

    devstack/settings is sourced by bash with the two DevStack helpers it
    calls, so the stack and a DevStack deployment name their backends,
    types and SVMs alike.
    """
    script = ('enable_service() { :; }\n'
              'trueorfalse() { local v=${!2:-$1}; echo "$v"; }\n'
              'DEST=/opt/stack DATA_DIR=/opt/stack/data\n'
              'source "$1"\n'
              'for v in ${!ARCA_@}; do printf "%s=%s\\0" "$v" "${!v}"; done')
    out = subprocess.run(['bash', '-c', script, 'bash',
                          os.path.join(DEVSTACK, 'settings')],
                         capture_output=True, text=True, check=True,
                         timeout=30).stdout
    return dict(item.split('=', 1) for item in out.split('\0') if item)


def _wait(what, check, timeout, interval=0.5):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise StackError('%s: not ready after %ds' % (what, timeout))
        time.sleep(interval)


class Service(object):
    """One process of the stack, in the lab namespace, in its own group."""

    def __init__(self, name, argv, log, env=None, cwd=None):
        self.name, self.argv, self.log = name, argv, log
        self.env, self.cwd = env, cwd
        self.proc = None

    def start(self, netns):
        with open(self.log, 'ab') as log:
            self.proc = subprocess.Popen(
                ['nsenter', '--net=/run/netns/' + netns] + self.argv,
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd,
                start_new_session=True)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum):
        """Signal the service's process group, if it still runs."""
        if self.running():
            try:
                os.killpg(self.proc.pid, signum)
            except ProcessLookupError:
                pass

    def stop(self, timeout=15):
        self.signal(signal.SIGTERM)
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait(10)

    def pss_kib(self):
        """Proportional set size of the process group, in KiB."""
        total = 0
        if not self.running():
            return 0
        for pid in harness._group_members(self.proc.pid):
            try:
                with open('/proc/%d/smaps_rollup' % pid) as f:
                    for line in f:
                        if line.startswith('Pss:'):
                            total += int(line.split()[1])
            except OSError:
                continue
        return total


def in_netns(netns, func, *args, **kwargs):
    """Call ``func`` in a new OS thread inside namespace ``netns``."""
    box = {}

    def target():
        try:
            harness.enter_netns(netns)
            box['result'] = func(*args, **kwargs)
        except BaseException as err:
            box['err'] = err

    thread = harness._os_thread(target=target, name='stack-netns',
                                daemon=True)
    thread.start()
    thread.join()
    if 'err' in box:
        raise box['err']
    return box.get('result')


class Stack(object):
    """Keystone, Cinder and Manila for a booted :class:`harness.Lab`.

    :param lab: the lab; its node ``storage`` serves the backends and its
        node ``client`` is put on the tenant VLANs.
    :param reference: serve the same backends (names, types, settings)
        with the upstream test drivers instead, Cinder's fake driver and
        Manila's dummy driver (``REFERENCE_DRIVERS``): what Tempest
        passes there is what the Arca backends are measured against.
    """

    def __init__(self, lab, storage='s1', client='c1', reference=False):
        self.lab = lab
        self.reference = reference
        self.storage = lab.node(storage)
        self.client = lab.node(client)
        self.netns = lab.netns
        self.dir = os.path.join(lab.workdir, 'stack')
        self.settings = plugin_settings()
        self.services = {}
        self.timings = {}
        self._lock = threading.Lock()

    # -- paths --------------------------------------------------------

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def db_socket(self):
        return self.path('mysql', 'mysql.sock')

    def db_url(self, name):
        return 'mysql+pymysql://root@localhost/%s?unix_socket=%s' % (
            name, self.db_socket)

    @staticmethod
    def url(port, suffix=''):
        return 'http://%s:%d%s' % (LOCAL, port, suffix)

    # -- start --------------------------------------------------------

    def start(self):
        """Build and start everything; returns when the backends are up."""
        started = time.monotonic()
        os.makedirs(self.path('logs'), exist_ok=True)
        steps = [self._prepare_nodes, self._start_mariadb]
        harness.Lab._parallel(lambda step: step(), steps)
        self._start_rabbitmq()
        self._write_configs()
        harness.Lab._parallel(self._db_sync, ('keystone', 'cinder',
                                              'manila'))
        self._keystone_bootstrap()
        self._start_api('keystone', KEYSTONE_PORT,
                        env={'OS_KEYSTONE_CONFIG_FILES':
                             self.path('keystone', 'keystone.conf')})
        self._register()
        cinder_conf = ['--config-file', self.path('cinder', 'cinder.conf')]
        manila_conf = ['--config-file', self.path('manila', 'manila.conf')]
        for name, port, conf in (('cinder', CINDER_PORT, cinder_conf),
                                 ('manila', MANILA_PORT, manila_conf)):
            self._start_api(name, port, conf + [
                '--log-file', self.path('logs', '%s-api.log' % name)],
                wait=False)
        for name in ('cinder-scheduler', 'cinder-volume',
                     'manila-scheduler', 'manila-share'):
            args = cinder_conf if name.startswith('cinder') else manila_conf
            self._start(name, [os.path.join(BIN, name)] + args)
        self._wait_port('cinder-api', CINDER_PORT)
        self._wait_port('manila-api', MANILA_PORT)
        self.timings['services'] = time.monotonic() - started
        self._make_types()
        self._wait_backends()
        self.timings['up'] = time.monotonic() - started
        return self

    def _start(self, name, argv, env=None, cwd=None):
        service = Service(name, argv, self.path('logs', name + '.log'),
                          env=env, cwd=cwd)
        service.start(self.netns)
        with self._lock:
            self.services[name] = service
        return service

    def _prepare_nodes(self):
        """The install guide's storage node; the client on the VLANs."""
        self.storage.ensure_thin_pool(self.settings['ARCA_VOLUME_GROUP'],
                                      self.settings['ARCA_THIN_POOL'])
        guest_install.install(self.storage)
        guest_install.login_user(self.storage, SSH_USER)
        for vlan, cidr in CLIENT_ADDRESSES.items():
            self.client.add_vlan(vlan, cidr)

    def _start_mariadb(self):
        datadir = self.path('mysql', 'data')
        if not os.path.isdir(datadir):
            os.makedirs(datadir)
            harness._run('mariadb-install-db', '--no-defaults',
                         '--datadir=' + datadir, '--user=root',
                         '--auth-root-authentication-method=normal',
                         '--skip-test-db', timeout=120)
        self._start('mariadb', [
            'mariadbd', '--no-defaults', '--datadir=' + datadir,
            '--socket=' + self.db_socket, '--skip-networking',
            '--user=root', '--pid-file=' + self.path('mysql', 'pid'),
            '--log-error=' + self.path('logs', 'mariadb-error.log'),
            '--innodb-buffer-pool-size=64M', '--max-connections=1000',
            '--innodb-flush-log-at-trx-commit=2'])
        _wait('mariadb', lambda: os.path.exists(self.db_socket), 60)
        for name in ('keystone', 'cinder', 'manila'):
            self._sql('CREATE DATABASE IF NOT EXISTS %s' % name)

    def _sql(self, statement):
        harness._run('mariadb', '--no-defaults', '-S', self.db_socket,
                     '-uroot', '-e', statement)

    def _start_rabbitmq(self):
        base = self.path('rabbitmq')
        os.makedirs(os.path.join(base, 'home'), exist_ok=True)
        with open(os.path.join(base, 'rabbitmq.conf'), 'w') as f:
            f.write('listeners.tcp.default = %s:%d\n'
                    'loopback_users.guest = true\n'
                    'log.console = false\n'
                    'log.file.level = warning\n' % (LOCAL, RABBIT_PORT))
        env = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin',
               'HOME': os.path.join(base, 'home'),
               'RABBITMQ_NODENAME': 'rabbit@localhost',
               'RABBITMQ_CONFIG_FILE': os.path.join(base, 'rabbitmq.conf'),
               'RABBITMQ_MNESIA_BASE': os.path.join(base, 'mnesia'),
               'RABBITMQ_LOG_BASE': self.path('logs'),
               'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(
                   base, 'enabled_plugins'),
               'RABBITMQ_PID_FILE': os.path.join(base, 'pid'),
               'RABBITMQ_DIST_PORT': str(RABBIT_DIST_PORT),
               'ERL_EPMD_ADDRESS': LOCAL}
        # epmd of our own, in the foreground: the broker would otherwise
        # start a daemon of it that no one stops.
        self._start('epmd', ['epmd', '-address', LOCAL, '-port',
                             str(EPMD_PORT)], env=env)
        self._wait_port('epmd', EPMD_PORT)
        self._start('rabbitmq', ['/usr/lib/rabbitmq/bin/rabbitmq-server'],
                    env=env, cwd=base)

    # -- configuration ------------------------------------------------

    def _authtoken(self, user):
        return {
            'www_authenticate_uri': self.url(KEYSTONE_PORT),
            'auth_url': self.url(KEYSTONE_PORT),
            'auth_type': 'password',
            'project_domain_name': 'Default',
            'user_domain_name': 'Default',
            'project_name': 'service',
            'username': user,
            'password': PASSWORD,
            'service_token_roles_required': 'true',
        }

    def _common(self, service):
        return {
            'transport_url': 'rabbit://guest:guest@%s:%d/' % (LOCAL,
                                                              RABBIT_PORT),
            'auth_strategy': 'keystone',
            'host': HOST,
            'state_path': self.path(service, 'state'),
            'log_dir': self.path('logs'),
            'debug': 'true',
            'api_paste_config': os.path.join(sys.prefix, 'etc', service,
                                             'api-paste.ini'),
            'rootwrap_config': os.path.join(sys.prefix, 'etc', service,
                                            'rootwrap.conf'),
        }

    def _node_options(self, prefix, shared):
        """A backend's storage node, reached as the install guide says."""
        return {
            'arca_volume_group': self.settings['ARCA_VOLUME_GROUP'],
            'arca_thin_pool': self.settings['ARCA_THIN_POOL'],
            'arca_node_address': self.storage.address,
            'arca_ssh_user': SSH_USER,
            'arca_ssh_private_key': self.path('arca_id_ed25519'),
            'arca_ssh_known_hosts_file': self.path('arca_known_hosts'),
            'arca_svm_name_prefix': prefix,
            'arca_shared_svm_name': shared,
        }

    @staticmethod
    def _vlan_pool(vlan, addresses):
        return ('mode=vlan,parent=eth0,vlan=%d,cidr=10.%d.0.0/24,range=%s'
                % (vlan, vlan, addresses))

    def _write_configs(self):
        s = self.settings
        for name in ('keystone', 'cinder', 'manila'):
            os.makedirs(self.path(name, 'state'), exist_ok=True)
        shutil.copy(self.lab.key_file, self.path('arca_id_ed25519'))
        os.chmod(self.path('arca_id_ed25519'), 0o600)
        shutil.copy(self.lab.known_hosts, self.path('arca_known_hosts'))

        keys = self.path('keystone', 'fernet-keys')
        backends.write_conf(self.path('keystone', 'keystone.conf'), {
            'DEFAULT': {'log_file': self.path('logs', 'keystone.log')},
            'database': {'connection': self.db_url('keystone')},
            'token': {'provider': 'fernet'},
            'fernet_tokens': {'key_repository': keys},
            'fernet_receipts': {'key_repository': keys},
            'credential': {'key_repository': self.path(
                'keystone', 'credential-keys')},
        })

        drivers = REFERENCE_DRIVERS if self.reference else DRIVERS
        cinder_be = s['ARCA_CINDER_BACKEND']
        cinder_backend = dict(
            self._node_options(s['ARCA_CINDER_SVM_PREFIX'],
                               s['ARCA_CINDER_SHARED_SVM']),
            volume_driver=drivers['cinder'],
            volume_backend_name=cinder_be,
            arca_svm_mapping=s['ARCA_CINDER_SVM_MAPPING'],
            arca_address_pools=[self._vlan_pool(PROJECT_VLAN,
                                                CINDER_RANGE)])
        backends.write_conf(self.path('cinder', 'cinder.conf'), {
            'DEFAULT': dict(
                self._common('cinder'),
                enabled_backends=cinder_be,
                default_volume_type=s['ARCA_CINDER_VOLUME_TYPE'],
                my_ip=harness.HOST_ADDRESS,
                resource_query_filters_file=os.path.join(
                    sys.prefix, 'etc', 'cinder', 'resource_filters.json'),
                scheduler_driver_init_wait_time=5,
                # Tempest's quotas are per test project; the lab's
                # backend is small, volumes are thin.
                quota_volumes=-1, quota_snapshots=-1, quota_gigabytes=-1),
            'database': {'connection': self.db_url('cinder')},
            'keystone_authtoken': self._authtoken('cinder'),
            'oslo_concurrency': {'lock_path': self.path('cinder', 'locks')},
            'coordination': {'backend_url': 'file://' + self.path(
                'cinder', 'coordination')},
            cinder_be: cinder_backend,
        })

        nfs_be = s['ARCA_MANILA_BACKEND']
        dhss_be = s['ARCA_MANILA_DHSS_BACKEND']
        manila_driver = drivers['manila']
        nfs_backend = dict(
            self._node_options(s['ARCA_MANILA_SVM_PREFIX'],
                               s['ARCA_MANILA_SHARED_SVM']),
            share_driver=manila_driver, share_backend_name=nfs_be,
            driver_handles_share_servers='False',
            arca_svm_mapping=s['ARCA_MANILA_SVM_MAPPING'],
            arca_address_pools=[self._vlan_pool(PROJECT_VLAN,
                                                MANILA_RANGE)])
        dhss_backend = dict(
            self._node_options(s['ARCA_MANILA_DHSS_SVM_PREFIX'],
                               s['ARCA_MANILA_SHARED_SVM']),
            share_driver=manila_driver, share_backend_name=dhss_be,
            driver_handles_share_servers='True',
            arca_share_server_network_mode='vlan',
            arca_share_server_parent_interface='eth0',
            network_api_class=STANDALONE_PLUGIN,
            standalone_network_plugin_gateway='10.%d.0.1' % SERVER_VLAN,
            standalone_network_plugin_mask='24',
            standalone_network_plugin_network_type='vlan',
            standalone_network_plugin_segmentation_id=SERVER_VLAN,
            standalone_network_plugin_allowed_ip_ranges=SERVER_RANGE)
        reference_sections = {}
        if self.reference:
            dhss_backend.update(
                admin_network_config_group=REFERENCE_ADMIN_NETWORK,
                standalone_network_plugin_allowed_ip_ranges=(
                    REFERENCE_SERVER_RANGE))
            reference_sections[REFERENCE_ADMIN_NETWORK] = (
                REFERENCE_ADMIN_NETWORK_OPTIONS)
        backends.write_conf(self.path('manila', 'manila.conf'), dict({
            'DEFAULT': dict(
                self._common('manila'),
                enabled_share_backends='%s,%s' % (nfs_be, dhss_be),
                enabled_share_protocols='NFS',
                default_share_type=s['ARCA_MANILA_SHARE_TYPE'],
                my_ip=harness.HOST_ADDRESS),
            # Large but finite: Tempest's quota tests set user quotas
            # that must stay under the project's, which -1 cannot refuse.
            'quota': dict.fromkeys((
                'shares', 'gigabytes', 'snapshots', 'snapshot_gigabytes',
                'share_networks', 'share_groups', 'share_group_snapshots'),
                10000),
            'database': {'connection': self.db_url('manila')},
            'keystone_authtoken': self._authtoken('manila'),
            'oslo_concurrency': {'lock_path': self.path('manila', 'locks')},
            nfs_be: nfs_backend,
            dhss_be: dhss_backend,
        }, **reference_sections))

    # -- databases and Keystone ---------------------------------------

    def _manage(self, *argv, env=None, timeout=600):
        proc = subprocess.run(
            ['nsenter', '--net=/run/netns/' + self.netns] + list(argv),
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            env=env, timeout=timeout)
        if proc.returncode:
            raise StackError('%s failed (%d): %s' % (
                ' '.join(argv), proc.returncode,
                (proc.stderr or proc.stdout)[-2000:]))
        return proc.stdout

    def _db_sync(self, name):
        conf = self.path(name, '%s.conf' % name)
        if name == 'keystone':
            self._manage(os.path.join(BIN, 'keystone-manage'),
                         '--config-file', conf, 'db_sync')
        else:
            self._manage(os.path.join(BIN, '%s-manage' % name),
                         '--config-file', conf, 'db', 'sync')

    def _keystone_bootstrap(self):
        manage = [os.path.join(BIN, 'keystone-manage'), '--config-file',
                  self.path('keystone', 'keystone.conf')]
        for setup in ('fernet_setup', 'credential_setup'):
            self._manage(*manage, setup, '--keystone-user', 'root',
                         '--keystone-group', 'root')
        url = self.url(KEYSTONE_PORT, '/v3')
        self._manage(*manage, 'bootstrap', '--bootstrap-password', PASSWORD,
                     '--bootstrap-username', 'admin',
                     '--bootstrap-project-name', 'admin',
                     '--bootstrap-role-name', 'admin',
                     '--bootstrap-service-name', 'keystone',
                     '--bootstrap-region-id', REGION,
                     '--bootstrap-admin-url', url,
                     '--bootstrap-public-url', url,
                     '--bootstrap-internal-url', url)

    def _start_api(self, name, port, args=(), env=None, wait=True):
        full_env = dict(os.environ, **(env or {}))
        self._start('%s-api' % name, [sys.executable, '-m',
                                      'tests.lab.stack_wsgi', name, LOCAL,
                                      str(port)] + list(args),
                    env=full_env, cwd=ROOT)
        if wait:
            self._wait_port('%s-api' % name, port)

    def _port_open(self, port):
        try:
            in_netns(self.netns, lambda: socket.create_connection(
                (LOCAL, port), 2).close())
            return True
        except OSError:
            return False

    def _wait_port(self, name, port, timeout=180):
        def check():
            service = self.services.get(name)
            if service is not None and not service.running():
                raise StackError('%s exited: %s' % (name, self.log_tail(
                    name)))
            return self._port_open(port)
        _wait(name, check, timeout)

    def log_tail(self, name, lines=20):
        try:
            with open(self.path('logs', name + '.log'),
                      errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except OSError:
            return ''

    # -- the REST APIs, as admin --------------------------------------

    def request(self, method, url, body=None, token=None, headers=None,
                ok=(200, 201, 202, 204)):
        """One API call from inside the lab namespace; decoded JSON."""
        hdrs = {'Content-Type': 'application/json',
                'Accept': 'application/json'}
        if token:
            hdrs['X-Auth-Token'] = token
        hdrs.update(headers or {})
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, headers=hdrs,
                                     method=method)

        def call():
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    raw = resp.read()
                    return resp.status, resp.headers, raw
            except urllib.error.HTTPError as err:
                return err.code, err.headers, err.read()

        status, resp_headers, raw = in_netns(self.netns, call)
        if status not in ok:
            raise StackError('%s %s: %d %s' % (
                method, url, status, raw[:500]))
        decoded = json.loads(raw) if raw else {}
        return decoded, resp_headers

    def token(self, user='admin', project='admin'):
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'id': 'default'},
                'password': PASSWORD}}},
            'scope': {'project': {'name': project,
                                  'domain': {'id': 'default'}}}}}
        data, headers = self.request('POST', self.url(
            KEYSTONE_PORT, '/v3/auth/tokens'), body)
        return headers['X-Subject-Token'], data['token']['project']['id']

    def _identity(self, method, path, body=None, token=None):
        return self.request(method, self.url(KEYSTONE_PORT, '/v3' + path),
                            body, token)[0]

    def _register(self):
        """Projects, users, roles and the catalogue of the stack."""
        token, _ = self.token()
        roles = {role['name']: role['id'] for role in self._identity(
            'GET', '/roles', token=token)['roles']}
        projects = {}
        for project, user, role in PROJECTS + (
                ('service', 'cinder', 'admin'),
                ('service', 'manila', 'admin')):
            if project not in projects:
                found = self._identity('GET', '/projects?name=' + project,
                                       token=token)['projects']
                projects[project] = found[0]['id'] if found else \
                    self._identity('POST', '/projects', {'project': {
                        'name': project, 'domain_id': 'default'}},
                        token)['project']['id']
            found = self._identity('GET', '/users?name=' + user,
                                   token=token)['users']
            user_id = found[0]['id'] if found else self._identity(
                'POST', '/users', {'user': {
                    'name': user, 'domain_id': 'default',
                    'password': PASSWORD,
                    'default_project_id': projects[project]}},
                token)['user']['id']
            granted = [role] + (['service'] if project == 'service'
                                else [])
            for name in granted:
                self.request('PUT', self.url(KEYSTONE_PORT, '/v3/projects/'
                                             '%s/users/%s/roles/%s' % (
                                                 projects[project], user_id,
                                                 roles[name])),
                             token=token)
        catalogue = (
            ('cinderv3', 'volumev3', CINDER_PORT, '/v3/%(project_id)s'),
            ('cinder', 'block-storage', CINDER_PORT, '/v3/%(project_id)s'),
            ('manila', 'share', MANILA_PORT, '/v1/%(project_id)s'),
            ('manilav2', 'sharev2', MANILA_PORT, '/v2'),
        )
        existing = {svc['type'] for svc in self._identity(
            'GET', '/services', token=token)['services']}
        for name, kind, port, suffix in catalogue:
            if kind in existing:
                continue
            service_id = self._identity('POST', '/services', {'service': {
                'name': name, 'type': kind}}, token)['service']['id']
            for interface in ('public', 'internal', 'admin'):
                self._identity('POST', '/endpoints', {'endpoint': {
                    'service_id': service_id, 'interface': interface,
                    'region_id': REGION,
                    'url': self.url(port, suffix)}}, token)

    def _make_types(self):
        """The volume type and share types of the DevStack plugin."""
        s = self.settings
        token, project_id = self.token()
        cinder = self.url(CINDER_PORT, '/v3/%s' % project_id)
        types, _ = self.request('GET', cinder + '/types', token=token)
        if s['ARCA_CINDER_VOLUME_TYPE'] not in [
                t['name'] for t in types['volume_types']]:
            self.request('POST', cinder + '/types', {'volume_type': {
                'name': s['ARCA_CINDER_VOLUME_TYPE'],
                'extra_specs': {
                    'volume_backend_name': REFERENCE_VOLUME_BACKEND_NAME
                    if self.reference else s['ARCA_CINDER_BACKEND']}}},
                token)
        manila = self.url(MANILA_PORT, '/v2')
        version = {'X-OpenStack-Manila-API-Version': '2.65'}
        types, _ = self.request('GET', manila + '/types', token=token,
                                headers=version)
        names = [t['name'] for t in types['share_types']]
        for name, dhss, backend in (
                (s['ARCA_MANILA_SHARE_TYPE'], False,
                 s['ARCA_MANILA_BACKEND']),
                (s['ARCA_MANILA_DHSS_SHARE_TYPE'], True,
                 s['ARCA_MANILA_DHSS_BACKEND'])):
            if name in names:
                continue
            self.request('POST', manila + '/types', {'share_type': {
                'name': name, 'os-share-type-access:is_public': True,
                'extra_specs': {
                    'driver_handles_share_servers': dhss,
                    'snapshot_support': True,
                    'create_share_from_snapshot_support': True,
                    'revert_to_snapshot_support': True,
                    'mount_snapshot_support': True,
                    'share_backend_name': backend}}},
                token, headers=version)

    def _wait_backends(self, timeout=300):
        """Until each backend's pool reached its scheduler."""
        s = self.settings
        token, project_id = self.token()

        def cinder_pools():
            pools, _ = self.request('GET', self.url(
                CINDER_PORT, '/v3/%s/scheduler-stats/get_pools' %
                project_id), token=token)
            return [p['name'] for p in pools['pools']]

        def manila_backends():
            # Manila's pool list is a scheduler cache filled by the first
            # share it places; a share service that is up has reported
            # its capabilities.
            services, _ = self.request('GET', self.url(
                MANILA_PORT, '/v2/services?binary=manila-share'),
                token=token,
                headers={'X-OpenStack-Manila-API-Version': '2.65'})
            return [svc['host'] for svc in services['services']
                    if svc['state'] == 'up']

        def ready():
            for name, service in self.services.items():
                if not service.running():
                    raise StackError('%s exited: %s' % (
                        name, self.log_tail(name)))
            backends_up = [p.split('#')[0] for p in cinder_pools()
                           ] + manila_backends()
            return all('%s@%s' % (HOST, be) in backends_up for be in (
                s['ARCA_CINDER_BACKEND'], s['ARCA_MANILA_BACKEND'],
                s['ARCA_MANILA_DHSS_BACKEND']))
        _wait('backends in the schedulers', ready, timeout, interval=2)

    # -- clients --------------------------------------------------------

    def client_env(self, user='admin', project='admin'):
        """The ``OS_*`` variables of a user's openstack CLI."""
        return {
            'OS_AUTH_URL': self.url(KEYSTONE_PORT, '/v3'),
            'OS_IDENTITY_API_VERSION': '3',
            'OS_USERNAME': user, 'OS_PASSWORD': PASSWORD,
            'OS_PROJECT_NAME': project,
            'OS_USER_DOMAIN_ID': 'default',
            'OS_PROJECT_DOMAIN_ID': 'default',
            'OS_REGION_NAME': REGION,
            # The newest versions both these services and clients know:
            # python-manilaclient's snapshot create fails below 2.73.
            'OS_VOLUME_API_VERSION': '3.71',
            'OS_SHARE_API_VERSION': '2.98',
        }

    def write_openrc(self):
        path = self.path('openrc')
        with open(path, 'w') as f:
            for key, value in sorted(self.client_env().items()):
                f.write('export %s=%s\n' % (key, value))
        return path

    def cli(self, program, *argv, user='admin', project=None,
            timeout=300, check=True):
        """A client CLI (``openstack``, ``cinder``) in the lab namespace.

        As ``user`` in ``project`` (default: the user's own project).
        """
        env = dict(os.environ, **self.client_env(user, project or user))
        proc = subprocess.run(
            ['nsenter', '--net=/run/netns/' + self.netns,
             os.path.join(BIN, program)] + list(argv),
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            env=env, timeout=timeout)
        if check and proc.returncode:
            raise StackError('%s %s failed (%d): %s' % (
                program, ' '.join(argv), proc.returncode,
                proc.stderr[-2000:]))
        return proc

    def openstack(self, *argv, **kwargs):
        """The openstack CLI with ``-f json``; the parsed output."""
        proc = self.cli('openstack', *(argv + ('-f', 'json')), **kwargs)
        if proc.returncode or not proc.stdout.strip():
            return proc
        return json.loads(proc.stdout)

    # -- figures and stop -----------------------------------------------

    def pss_mib(self):
        """PSS of every process of the stack, MiB, by service."""
        return {name: service.pss_kib() / 1024.0
                for name, service in self.services.items()}

    def stop(self, timeout=10):
        """Stop the OpenStack services together, then RabbitMQ and MariaDB.

        The services are only a lab's: those still running ``timeout``
        seconds after SIGTERM (oslo.service waits for its RPC workers) are
        killed.
        """
        backing = ['rabbitmq', 'epmd', 'mariadb']
        services = [svc for name, svc in self.services.items()
                    if name not in backing]
        for service in services:
            service.signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for service in services:
            service.stop(max(0.1, deadline - time.monotonic()))
        for name in backing:
            if name in self.services:
                self.services[name].stop()


# The lab of the stack: the storage node and a client.
LAB_NODES = (('s1', 'storage', 16), ('c1', 'client', 0))
PIDFILE = '/run/arca-lab-stack.pid'


@contextlib.contextmanager
def running(mem=768, keep_logs=False, reference=False):
    """Boot the lab, start the stack on it; stop both on exit.

    :param reference: see :class:`Stack`.
    """
    harness.Lab.cleanup_stale()
    specs = [harness.NodeSpec(name, role, disk_gib=gib)
             for name, role, gib in LAB_NODES]
    with harness.Lab(specs, mem=mem, keep_logs=keep_logs) as lab:
        stack = Stack(lab, reference=reference)
        try:
            stack.start()
            yield stack
        except Exception:
            for name in stack.services:
                print('--- %s ---\n%s' % (name, stack.log_tail(name)),
                      file=sys.stderr)
            raise
        finally:
            stack.stop()
