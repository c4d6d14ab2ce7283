"""The CLI smoke: real services, real clients, a real client node.

One stack (tests/lab/stack.py) serves every test of this module: Keystone,
Cinder and Manila processes with the Arca backends deployed as the
install guide says, against a lab storage node. Each test drives the
``openstack`` CLI as a project member (``demo``, ``alt_demo``) and checks
the result where a user would: the lab client mounts the export locations
the APIs return and reads back what it wrote; the storage node is checked
only for what the user cannot see (the logical volumes left behind).
"""

import json
import time

import testtools

from tests.lab import stack

MiB = 1024 * 1024
GiB = 1024 * MiB
CLIENT_IP = stack.CLIENT_ADDRESSES[stack.PROJECT_VLAN].split('/')[0]


def table_value(text, key):
    """The value of row ``key`` in a table printed by the cinder CLI."""
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if len(cells) == 2 and cells[0] == key:
            return cells[1]
    raise AssertionError('no %r in:\n%s' % (key, text))


class CLISmokeTest(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super(CLISmokeTest, cls).setUpClass()
        cls._running = stack.running()
        cls.stack = cls._running.__enter__()
        cls.client = cls.stack.client
        cls.storage = cls.stack.storage

    @classmethod
    def tearDownClass(cls):
        cls._running.__exit__(None, None, None)
        super(CLISmokeTest, cls).tearDownClass()

    # -- the clients --------------------------------------------------

    def openstack(self, *argv, user='demo'):
        return self.stack.openstack(*argv, user=user)

    def run_cli(self, *argv, user='demo', program='openstack', check=True):
        return self.stack.cli(program, *argv, user=user, check=check)

    def wait(self, kind, name, status='available', user='demo',
             timeout=300):
        """Poll ``openstack KIND show NAME`` until it reaches ``status``."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.openstack(*(kind.split() + ['show', name]),
                                   user=user)
            if shown['status'] == status:
                return shown
            self.assertNotIn('error', shown['status'], shown)
            if time.monotonic() > deadline:
                self.fail('%s %s still %s after %ds' % (
                    kind, name, shown['status'], timeout))
            time.sleep(1)

    def delete(self, kind, name, user='demo', timeout=300):
        """Delete and wait until ``show`` no longer finds it."""
        self.run_cli(*(kind.split() + ['delete', name]), user=user)
        deadline = time.monotonic() + timeout
        while self.run_cli(*(kind.split() + ['show', name]), user=user,
                           check=False).returncode == 0:
            if time.monotonic() > deadline:
                self.fail('%s %s not deleted after %ds' % (kind, name,
                                                           timeout))
            time.sleep(1)

    def assert_no_lv(self, *ids):
        """The storage node holds no logical volume of these objects."""
        lvs = self.storage.run('lvs', '--noheadings', '-o', 'lv_name',
                               self.stack.settings['ARCA_VOLUME_GROUP']
                               ).stdout
        for object_id in ids:
            self.assertNotIn(object_id, lvs)

    # -- the client node ----------------------------------------------

    def mount(self, export, name):
        where = '/mnt/%s' % name
        self.client.nfs_mount(export, where)
        self.addCleanup(self.client.nfs_umount, where)
        return where

    def umount(self, where):
        self.client.nfs_umount(where)

    # -- volumes ------------------------------------------------------

    def create_volume(self, name, *args, user='demo'):
        self.openstack('volume', 'create', '--size', '1', name, *args,
                       user=user)
        return self.wait('volume', name, user=user)

    def attach(self, name, user='demo'):
        """An attachment for the client node: (attachment id, export)."""
        out = self.run_cli('attachment-create', name, '--connect', 'True',
                           '--ip', CLIENT_IP, '--host', 'c1', user=user,
                           program='cinder').stdout
        attachment = table_value(out, 'id')
        self.assertEqual('nfs', table_value(out, 'driver_volume_type'))
        return attachment, table_value(out, 'export')

    def detach(self, attachment, name, user='demo'):
        self.run_cli('attachment-delete', attachment, user=user,
                     program='cinder')
        self.wait('volume', name, user=user)

    def read_image(self, name, user='demo'):
        """(sha256 of the first 4 MiB, size, export) of a volume's image.

        The size is the one the client sees: the SVM's Ganesha keeps no
        attributes cached (Attr_Expiration_Time = 0), so an image grown
        on the node shows its new size at the next open.
        """
        attachment, export = self.attach(name, user)
        where = self.mount(export, name)
        image = '%s/volume.raw' % where
        out = self.client.sh(
            'head -c 4M {i} | sha256sum; stat -c %s {i}'.format(
                i=image)).stdout.split()
        self.umount(where)
        self.detach(attachment, name, user)
        return out[0], int(out[-1]), export

    def write_image(self, name, user='demo'):
        """Random data into the first 4 MiB of a volume; its sha256."""
        attachment, export = self.attach(name, user)
        where = self.mount(export, name)
        self.client.sh('dd if=/dev/urandom of=%s/volume.raw bs=1M count=4 '
                       'conv=notrunc,fsync status=none' % where)
        self.umount(where)
        self.detach(attachment, name, user)
        return self.read_image(name, user)[0]

    def test_volume_snapshot_clone_extend(self):
        volume = self.create_volume('smoke-v1')
        self.assertEqual(1, volume['size'])
        written = self.write_image('smoke-v1')

        self.openstack('volume', 'snapshot', 'create', '--volume',
                       'smoke-v1', 'smoke-s1')
        snapshot = self.wait('volume snapshot', 'smoke-s1')
        from_snapshot = self.create_volume('smoke-v2', '--snapshot',
                                           'smoke-s1')
        clone = self.create_volume('smoke-v3', '--source', 'smoke-v1')
        self.run_cli('volume', 'set', '--size', '2', 'smoke-v1')
        deadline = time.monotonic() + 300
        while self.wait('volume', 'smoke-v1')['size'] != 2:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(1)

        for name in ('smoke-v2', 'smoke-v3'):
            sha, size, _ = self.read_image(name)
            self.assertEqual(written, sha, name)
            self.assertEqual(GiB, size, name)
        sha, size, _ = self.read_image('smoke-v1')
        self.assertEqual((written, 2 * GiB), (sha, size))

        for name in ('smoke-v2', 'smoke-v3'):
            self.delete('volume', name)
        self.delete('volume snapshot', 'smoke-s1')
        self.delete('volume', 'smoke-v1')
        self.assert_no_lv(volume['id'], snapshot['id'], from_snapshot['id'],
                          clone['id'])

    def test_volume_transfer(self):
        volume = self.create_volume('smoke-t1')
        written = self.write_image('smoke-t1')
        _, _, demo_export = self.read_image('smoke-t1')

        request = self.openstack('volume', 'transfer', 'request', 'create',
                                 'smoke-t1')
        self.openstack('volume', 'transfer', 'request', 'accept',
                       '--auth-key', request['auth_key'], request['id'],
                       user='alt_demo')
        self.assertNotEqual(0, self.run_cli('volume', 'show', 'smoke-t1',
                                            check=False).returncode)
        sha, _, alt_export = self.read_image('smoke-t1', user='alt_demo')
        self.assertEqual(written, sha)
        # Served by the new project's SVM, not the old one's.
        self.assertNotEqual(demo_export.split(':')[0],
                            alt_export.split(':')[0])
        self.delete('volume', 'smoke-t1', user='alt_demo')
        self.assert_no_lv(volume['id'])

    # -- shares -------------------------------------------------------

    def create_share(self, name, *args, user='demo'):
        self.openstack('share', 'create', 'NFS', '1', '--name', name, *args,
                       user=user)
        return self.wait('share', name, user=user)

    def allow_client(self, name, user='demo', address=CLIENT_IP):
        """Give ``address`` rw access (once); the preferred export path."""
        rules = self.openstack('share', 'access', 'list', name, user=user)
        if address not in [r['Access To'] for r in rules]:
            self.openstack('share', 'access', 'create', name, 'ip', address,
                           user=user)
        deadline = time.monotonic() + 120
        while True:
            rules = self.openstack('share', 'access', 'list', name,
                                   user=user)
            if [r['State'] for r in rules] == ['active']:
                break
            self.assertNotIn('error', [r['State'] for r in rules])
            self.assertLess(time.monotonic(), deadline, rules)
            time.sleep(1)
        locations = self.openstack('share', 'export', 'location', 'list',
                                   name, user=user)
        return [loc['Path'] for loc in locations if loc['Preferred']][0]

    def test_share_snapshot_clone_resize(self):
        share = self.create_share('smoke-sh1')
        where = self.mount(self.allow_client('smoke-sh1'), 'smoke-sh1')
        written = self.client.write_random(where + '/data', 2)
        self.assertEqual(GiB, self.client.df_bytes(where)[0])
        self.umount(where)

        self.openstack('share', 'snapshot', 'create', 'smoke-sh1',
                       '--name', 'smoke-ss1')
        snapshot = self.wait('share snapshot', 'smoke-ss1')
        clone = self.create_share('smoke-sh2', '--snapshot-id',
                                  snapshot['id'])
        where = self.mount(self.allow_client('smoke-sh2'), 'smoke-sh2')
        self.assertEqual(written, self.client.sha256(where + '/data'))
        self.umount(where)

        self.run_cli('share', 'resize', 'smoke-sh1', '2')
        self.assertEqual(2, self.wait('share', 'smoke-sh1')['size'])
        where = self.mount(self.allow_client('smoke-sh1'), 'smoke-sh1')
        self.assertEqual(2 * GiB, self.client.df_bytes(where)[0])
        self.umount(where)

        self.delete('share', 'smoke-sh2')
        self.delete('share snapshot', 'smoke-ss1')
        self.delete('share', 'smoke-sh1')
        self.assert_no_lv(share['id'], snapshot['id'], clone['id'])

    def test_share_transfer(self):
        """The new owner mounts the export locations Manila shows.

        Manila keeps a transferred share's export locations; the share
        stays on the SVM that served it, and the rules are the new
        owner's (cleared on the accept here).
        """
        share = self.create_share('smoke-st1')
        path = self.allow_client('smoke-st1')
        where = self.mount(path, 'smoke-st1')
        written = self.client.write_random(where + '/data', 1)
        self.umount(where)

        transfer = self.openstack('share', 'transfer', 'create', 'smoke-st1')
        self.run_cli('share', 'transfer', 'accept', '--clear-rules',
                     transfer['id'], transfer['auth_key'], user='alt_demo')
        self.assertNotEqual(0, self.run_cli('share', 'show', 'smoke-st1',
                                            check=False).returncode)
        moved = self.wait('share', 'smoke-st1', user='alt_demo')
        self.assertNotEqual(share['project_id'], moved['project_id'])
        self.assertEqual([], self.openstack('share', 'access', 'list',
                                            'smoke-st1', user='alt_demo'))
        self.assertEqual(path, self.allow_client('smoke-st1',
                                                 user='alt_demo'))
        where = self.mount(path, 'smoke-st1')
        self.assertEqual(written, self.client.sha256(where + '/data'))
        self.umount(where)
        self.delete('share', 'smoke-st1', user='alt_demo')
        self.assert_no_lv(share['id'])

    def test_share_on_share_network(self):
        """DHSS=True: a share server on the VLAN Manila hands out."""
        settings = self.stack.settings
        network = self.openstack('share', 'network', 'create', '--name',
                                 'smoke-net')
        share = self.create_share(
            'smoke-dh1', '--share-type',
            settings['ARCA_MANILA_DHSS_SHARE_TYPE'], '--share-network',
            'smoke-net')
        # The share server is on the segment Manila handed out, not on the
        # project pool's VLAN: the client reaches it from its address there.
        address = stack.CLIENT_ADDRESSES[stack.SERVER_VLAN].split('/')[0]
        path = self.allow_client('smoke-dh1', address=address)
        self.assertTrue(path.startswith('10.%d.0.' % stack.SERVER_VLAN),
                        path)
        where = self.mount(path, 'smoke-dh1')
        written = self.client.write_random(where + '/data', 1)
        self.assertEqual(written, self.client.sha256(where + '/data'))
        self.umount(where)
        servers = self.openstack('share', 'server', 'list', '--share-network',
                                 network['id'], user='admin')
        self.assertEqual(1, len(servers), json.dumps(servers))
        self.delete('share', 'smoke-dh1')
        self.assert_no_lv(share['id'])
