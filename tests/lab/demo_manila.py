"""The lab demo through the Manila share driver.

``ArcaShareDriver`` (driver_handles_share_servers = False, per-project
SVMs from an address pool) is configured from a manila.conf backend
section and called as manila-share calls it, with share, snapshot and
access rule records shaped as the share manager passes them. Client nodes
mount the export locations it returns over NFS v4.2.

Clients: c1 (rw rule) and c2 (ro rule) on the project's VLAN 100, c3 on
the same VLAN with no rule at all.
"""

import uuid

from manila import context

from tests.lab import backends
from tests.lab import demo

GiB = 1024 ** 3
BACKEND = 'arca-nfs'
OPTIONS = {
    'share_backend_name': 'arca-nfs',
    'driver_handles_share_servers': False,
    'arca_volume_group': 'arca',
    'arca_thin_pool': 'pool',
    'arca_svm_mapping': 'per_project',
    'arca_svm_name_prefix': 'manila_',
    'arca_address_pools': [
        'mode=vlan,parent=eth0,vlan=100,cidr=10.100.0.0/24,'
        'range=10.100.0.100-10.100.0.199,gateway=10.100.0.1'],
    'max_over_subscription_ratio': 20,
    'arca_command_timeout': 300,
}
CLIENTS = {'c1': (100, '10.100.0.21/24'), 'c2': (100, '10.100.0.22/24'),
           'c3': (100, '10.100.0.23/24')}
DATA_MIB = 64


def _ip(client):
    return CLIENTS[client][1].split('/')[0]


class ManilaDemo(demo.Demo):

    TITLE = 'the Manila driver'
    NODES = (('s1', 'storage', 16), ('c1', 'client', 0),
             ('c2', 'client', 0), ('c3', 'client', 0))
    CLIENT_VLANS = CLIENTS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ctx = context.get_admin_context()
        self.project = uuid.uuid4().hex

    # -- records, as the share manager passes them ------------------------

    def share(self, size):
        share_id = str(uuid.uuid4())
        return {'id': share_id, 'share_id': str(uuid.uuid4()), 'size': size,
                'project_id': self.project, 'share_proto': 'NFS',
                'mount_snapshot_support': True, 'export_locations': []}

    snapshot = staticmethod(backends.share_snapshot)

    @staticmethod
    def rule(client, level):
        access_id = str(uuid.uuid4())
        return {'id': str(uuid.uuid4()), 'access_id': access_id,
                'access_type': 'ip', 'access_to': _ip(client),
                'access_level': level}

    # -- clients ----------------------------------------------------------

    def mount(self, client, path, where, check=True):
        return self.lab.node(client).nfs_mount(path, where, check=check)

    def can_mount(self, client, path, where):
        node = self.lab.node(client)
        mounted = node.nfs_mount(path, where, check=False).exit_code == 0
        if mounted:
            node.nfs_umount(where)
        return mounted

    def df_gib(self, client, where):
        return round(self.lab.node(client).df_bytes(where)[0] / GiB, 2)

    def can_write(self, client, path):
        return self.lab.node(client).sh(
            'echo x > %s' % path, check=False).exit_code == 0

    # -- the flow -----------------------------------------------------------

    def flow(self, lab):
        self.lab = lab
        s1, c1, c2 = lab.node('s1'), lab.node('c1'), lab.node('c2')
        self.step('storage node: VG arca with thin pool "pool"',
                  s1.ensure_thin_pool)
        drv, conf = self.step(
            'manila-share start: do_setup, check_for_setup_error',
            backends.manila_driver, s1.agent_client(), self.workdir,
            BACKEND, OPTIONS)
        self.note('from this manila.conf:\n' + backends.conf_text(conf))
        drv._update_share_stats()
        stats = drv._stats
        pool = stats['pools'][0]
        self.note('pool %s: %.1f GiB total, thin %s, snapshots %s, '
                  'revert %s, mountable snapshots %s, IPv%s' % (
                      pool['pool_name'], pool['total_capacity_gb'],
                      pool['thin_provisioning'], pool['snapshot_support'],
                      pool['revert_to_snapshot_support'],
                      pool['mount_snapshot_support'],
                      '/'.join(str(v) for v in
                               drv.get_configured_ip_versions())))

        share = self.share(2)
        locations = self.step('create_share: 2 GiB (first: the project\'s '
                              'SVM)', drv.create_share, self.ctx, share)
        path = locations[0]['path']
        self.note('export location %s; SVMs on s1: %s' % (
            path, ', '.join(drv.svms.list())))
        self.check(not self.can_mount('c1', path, '/mnt/share'),
                   'closed by default: c1 cannot mount it yet')
        rw, ro = self.rule('c1', 'rw'), self.rule('c2', 'ro')
        bad = dict(self.rule('c3', 'rw'), access_to='10.100.0.300')
        updates = self.step(
            'update_access: c1 rw, c2 ro, and one invalid rule',
            drv.update_access, self.ctx, share, [rw, ro, bad],
            [rw, ro, bad], [], [])
        self.check(set(updates) == {bad['access_id']} and
                   updates[bad['access_id']]['state'] == 'error',
                   'the invalid rule alone is in error')
        self.step('c1 and c2 mount it over NFS v4.2', lambda: (
            self.mount('c1', path, '/mnt/share'),
            self.mount('c2', path, '/mnt/share')))
        digest = self.step('c1: write %d MiB' % DATA_MIB, c1.write_random,
                           '/mnt/share/data', DATA_MIB)
        self.check(c2.sha256('/mnt/share/data') == digest,
                   'c2 reads the same data')
        self.check(not self.can_write('c2', '/mnt/share/c2-was-here'),
                   'c2 (ro) cannot write')
        self.check(not self.can_mount('c3', path, '/mnt/share'),
                   'c3 (no rule, same VLAN) cannot mount it')
        self.check(self.df_gib('c1', '/mnt/share') == 2,
                   'df on c1 shows exactly 2 GiB')

        snap = self.snapshot(share)
        result = self.step('create_snapshot (mountable)',
                           drv.create_snapshot, self.ctx, snap)
        snap_path = result['export_locations'][0]['path']
        self.note('snapshot export location %s' % snap_path)
        self.step('c1: overwrite the data after the snapshot',
                  c1.write_random, '/mnt/share/data', DATA_MIB)
        snap_rule = self.rule('c2', 'ro')
        self.step('snapshot_update_access: c2; c2 mounts the snapshot',
                  lambda: (drv.snapshot_update_access(
                      self.ctx, snap, [snap_rule], [snap_rule], []),
                      self.mount('c2', snap_path, '/mnt/snap')))
        self.check(c2.sha256('/mnt/snap/data') == digest,
                   'the snapshot, read-only, holds the data as it was')

        copy = self.share(3)
        result = self.step('create_share_from_snapshot: 3 GiB',
                           drv.create_share_from_snapshot, self.ctx, copy,
                           snap)
        copy_path = result['export_locations'][0]['path']
        copy_rule = self.rule('c1', 'rw')
        self.step('update_access c1 rw; c1 mounts the new share', lambda: (
            drv.update_access(self.ctx, copy, [copy_rule], [copy_rule], [],
                              []),
            self.mount('c1', copy_path, '/mnt/copy')))
        self.check(c1.sha256('/mnt/copy/data') == digest,
                   'the new share holds the snapshot\'s data')
        self.check(self.df_gib('c1', '/mnt/copy') == 3,
                   'df on c1 shows 3 GiB')

        self.step('clients unmount the share; revert_to_snapshot', lambda: (
            c1.nfs_umount('/mnt/share'), c2.nfs_umount('/mnt/share'),
            drv.revert_to_snapshot(self.ctx, snap, [rw, ro], [snap_rule])))
        self.mount('c1', path, '/mnt/share')
        self.check(c1.sha256('/mnt/share/data') == digest,
                   'c1 mounts it again: the data is as at snapshot time')

        self.step('extend_share to 4 GiB while mounted', drv.extend_share,
                  share, 4)
        share['size'] = 4
        self.check_soon(lambda: self.df_gib('c1', '/mnt/share'), 4,
                        'df on c1 shows 4 GiB')
        self.step('shrink_share to 1 GiB (%d MiB used: fits)' % DATA_MIB,
                  drv.shrink_share, share, 1)
        share['size'] = 1
        self.check_soon(lambda: self.df_gib('c1', '/mnt/share'), 1,
                        'df on c1 shows 1 GiB')
        used = drv.update_share_usage_size(self.ctx, [share])[0]
        self.check(used['id'] == share['id'] and
                   used['used_size'] >= DATA_MIB / 1024.0,
                   'update_share_usage_size: %.3f GiB used' %
                   used['used_size'])

        self.step('update_access: deny c1 (c2 keeps ro)', drv.update_access,
                  self.ctx, share, [ro], [], [rw], [])
        c1.nfs_umount('/mnt/share')
        self.check(not self.can_mount('c1', path, '/mnt/share'),
                   'c1 can no longer mount it')

        def teardown():
            for node, where in ((c1, '/mnt/copy'), (c2, '/mnt/snap')):
                node.nfs_umount(where)
            drv.delete_share(self.ctx, copy)
            drv.delete_snapshot(self.ctx, snap)
            drv.delete_share(self.ctx, share)

        self.step('unmount; delete the shares and the snapshot', teardown)
        left = drv.svms.list()
        self.check(not left, 'the project\'s SVM went with its last share '
                   '(left: %s)' % (', '.join(left) or 'none'))
        pool = drv.pool.capacity()
        self.note('thin pool back to %d LVs, %.1f%% used' % (
            pool['lv_count'], pool['data_percent']))
