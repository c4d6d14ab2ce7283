"""The Cinder and Manila drivers carry on after a takeover, unrestarted.

Two storage guests form a real Corosync/Pacemaker cluster with DRBD 8.4
and a fence device that really powers a guest off; pool ``arca1`` is
preferred on s1. A Cinder and a Manila driver, each in its own process
(tests/functional/ha/driver_worker.py: the two services cannot share one),
are set up once against the pool's floating management address, as
services whose ``arca_node_address`` is that address.

Before the kill, each service runs a round of its operations for a new
project (Cinder: create, snapshot, volume from snapshot, clone, attach,
extend, detach, deletes; Manila: create, access rule, snapshot, share
from snapshot, extend, deletes); the client c1 mounts the attached
volume's and the share's export and writes to them, and they are kept.
Then s1 is killed and Pacemaker moves the pool to s2. With the same
processes, neither restarted nor reconfigured:

* every operation of a new round succeeds on s2, and c1 mounts, writes
  and reads what it made;
* the first round's volume and share are still served: c1 reads back what
  it wrote through its old mounts (no remount) and writes again;
* the drivers' stats still report the pool, mirrored (degraded while s1
  is down).

Per-operation seconds before and after the takeover are printed.
"""

import json
import shutil
import tempfile
import time


from tests.functional.ha import base
from tests.lab import ha
from tests.lab import worker as lab_worker

WORKER = 'tests.functional.ha.driver_worker'
POOL = ha.Pool('arca1', minor=1, port=7789, address='10.97.0.101',
               preferred='s1')
TENANT_VLAN = base.TENANT_VLAN
CLIENT_IP = base.CLIENT_ADDR.split('/')[0]
# Each service's own addresses and SVM names.
RANGES = {'cinder': '10.100.0.30-10.100.0.39',
          'manila': '10.100.0.40-10.100.0.49'}
PREFIXES = {'cinder': 'hacdt_', 'manila': 'hamdt_'}
SERVICES = ('cinder', 'manila')
# Where c1 mounts each service's item: one per round.
ITEM = {'cinder': 'volume', 'manila': 'share'}
DATA_MIB = 8
TIMEOUT = {'ready': 600, 'round': 1200, 'finish': 1200, 'stats': 600,
           'quit': 60}


def backend_options(service):
    vg, _sep, thin = POOL.thin_pool.partition('/')
    options = {
        'arca_volume_group': vg,
        'arca_thin_pool': thin,
        'arca_node_address': POOL.address,
        'arca_svm_mapping': 'per_project',
        'arca_svm_name_prefix': PREFIXES[service],
        'arca_svm_delete_unused': True,
        'arca_address_pools': [
            'mode=vlan,parent=eth0,vlan=%d,cidr=10.100.0.0/24,range=%s'
            % (TENANT_VLAN, RANGES[service])],
        'arca_command_timeout': 600,
        'max_over_subscription_ratio': 100,
    }
    if service == 'cinder':
        options['volume_backend_name'] = 'arcaha'
    else:
        options.update(share_backend_name='arcaha',
                       driver_handles_share_servers=False)
    return options


class DriversTakeoverTestCase(base.PairTestCase):

    POOLS = (POOL,)

    def setUp(self):
        super().setUp()
        self.workdir = tempfile.mkdtemp(prefix='arca-ha-drivers-')
        self.addCleanup(shutil.rmtree, self.workdir, True)

    def start_workers(self):
        workers = {}
        agent = {'address': POOL.address, 'netns': self.lab.netns,
                 'key_file': self.lab.key_file,
                 'known_hosts': self.lab.known_hosts}
        for service in SERVICES:
            worker = lab_worker.Worker(WORKER, service, self.workdir,
                                       TIMEOUT, quit={'do': 'quit'})
            self.addCleanup(worker.stop)
            self.addOnException(
                lambda _e, w=worker: print('%s worker stderr:\n%s' % (
                    w.service, w.stderr_tail())))
            worker.send({'agent': agent, 'workdir': self.workdir,
                         'backend': 'arcaha',
                         'options': backend_options(service),
                         'client_ip': CLIENT_IP, 'sessions': 4})
            workers[service] = worker
        for worker in workers.values():
            worker.receive('ready')
        return workers

    def both(self, workers, command):
        """The same command to both services at once; their answers."""
        for worker in workers.values():
            worker.send(command)
        return {s: w.receive(command['do']) for s, w in workers.items()}

    def assert_ops_ok(self, answers, when):
        for service, answer in answers.items():
            failed = [(name, error) for name, _s, error in answer['ops']
                      if error]
            self.assertEqual([], failed, '%s %s' % (service, when))

    # ------------------------------------------------------ the client

    def mount(self, c1, export, where):
        c1.sh('mkdir -p {w} && timeout 120 mount -t nfs4 -o '
              'vers=4.2,proto=tcp,hard {e} {w}'.format(w=where, e=export),
              timeout=180)
        # Lazy: never waits for a server (a hard mount's may be gone).
        self.addCleanup(c1.sh, 'umount -l %s; true' % where, check=False,
                        timeout=120)

    @staticmethod
    def target(service, where):
        """The file c1 writes: inside the volume's image, or the share."""
        if service == 'cinder':
            return '%s/volume.raw' % where
        return '%s/data' % where

    def write(self, c1, service, where):
        """DATA_MIB random MiB at the start of the target; their sha256."""
        path = self.target(service, where)
        c1.sh('dd if=/dev/urandom of=/root/data.tmp bs=1M count=%d '
              'status=none && dd if=/root/data.tmp of=%s bs=1M '
              'conv=notrunc,fsync status=none' % (DATA_MIB, path),
              timeout=600)
        return c1.sh('sha256sum /root/data.tmp').stdout.split()[0]

    def read(self, c1, service, where):
        path = self.target(service, where)
        return c1.sh('dd if=%s bs=1M count=%d status=none | sha256sum'
                     % (path, DATA_MIB), timeout=900).stdout.split()[0]

    def size(self, c1, path):
        # Opening the file revalidates its attributes (close-to-open).
        return int(c1.sh("python3 -c 'import os,sys; f=os.open(sys.argv[1],"
                         " os.O_RDONLY); print(os.fstat(f).st_size)' %s"
                         % path, timeout=300).stdout)

    # ------------------------------------------------------------ stats

    def check_stats(self, workers, states):
        answers = self.both(workers, {'do': 'stats'})
        for service, answer in answers.items():
            self.assertNotIn('error', answer, service)
            pool = answer['pools'][0]
            self.assertEqual(POOL.thin_pool.split('/')[1], pool['pool_name'])
            self.assertGreater(pool['total_capacity_gb'], 0)
            self.assertIs(True, pool['arca_mirrored'], service)
            self.assertIn(pool['arca_mirror_state'], states, service)
        return {s: (a['pools'][0]['arca_mirror_state'],
                    round(a['seconds'], 2)) for s, a in answers.items()}

    @staticmethod
    def seconds(answers):
        return {s: [(name, secs) for name, secs, _e in a['ops']]
                for s, a in answers.items()}

    def test_drivers_after_takeover(self):
        s1, s2, c1 = (self.lab.node(n) for n in ('s1', 's2', 'c1'))
        workers = self.start_workers()
        print('before: stats %s' % self.check_stats(
            workers, ('in-sync', 'syncing')))

        # Round 1 on s1; its first volume and share stay, mounted by c1.
        first = self.both(workers, {'do': 'round'})
        self.assert_ops_ok(first, 'before the takeover')
        shas = {}
        for service in SERVICES:
            where = '/mnt/%s1' % ITEM[service]
            self.mount(c1, first[service]['export'], where)
            shas[service] = self.write(c1, service, where)
        finish1 = self.both(workers, {'do': 'finish', 'keep': True})
        self.assert_ops_ok(finish1, 'before the takeover')
        self.assertEqual(2 << 30, self.size(c1, '/mnt/volume1/volume.raw'))
        # No monitor of the pool failed while the drivers worked on it.
        self.assertEqual('0', self.pair.fail_count(POOL, s1),
                         self.pair.state())

        # The takeover.
        killed = time.monotonic()
        s1.kill()
        self.pair.wait_pool_on(POOL, s2, timeout=600)
        takeover = time.monotonic() - killed
        print('pool %s on s2 %.1fs after the kill of s1' % (POOL.name,
                                                            takeover))

        # Round 2, same processes: everything works on s2.
        started = time.monotonic()
        second = self.both(workers, {'do': 'round'})
        first_round_after = time.monotonic() - started
        self.assert_ops_ok(second, 'after the takeover')
        for service in SERVICES:
            where = '/mnt/%s2' % ITEM[service]
            self.mount(c1, second[service]['export'], where)
            sha = self.write(c1, service, where)
            self.assertEqual(sha, self.read(c1, service, where))
            # Before its export goes with the round's deletes.
            c1.sh('umount %s' % where, timeout=300)
        finish2 = self.both(workers, {'do': 'finish', 'keep': False})
        self.assert_ops_ok(finish2, 'after the takeover')

        # Round 1's volume and share, through c1's old mounts.
        for service in SERVICES:
            where = '/mnt/%s1' % ITEM[service]
            self.assertEqual(shas[service], self.read(c1, service, where),
                             '%s: what c1 wrote before the takeover'
                             % service)
            sha = self.write(c1, service, where)
            self.assertEqual(sha, self.read(c1, service, where))
        self.assertEqual(2 << 30, self.size(c1, '/mnt/volume1/volume.raw'))
        for service in SERVICES:
            self.assertIn(first[service]['export'].split(':')[0],
                          s2.sh('ip netns exec %s%s ip -4 -br addr' % (
                              PREFIXES[service],
                              first[service]['project']),
                              check=False).stdout)

        after_stats = [self.check_stats(workers, ('degraded',)),
                       self.check_stats(workers, ('degraded',))]
        print('s2: %s' % s2.sh('uptime').stdout.strip())
        before_s = self.seconds(first)
        after_s = self.seconds(second)
        for service in SERVICES:
            before_s[service] += self.seconds(finish1)[service]
            after_s[service] += self.seconds(finish2)[service]
        print('per-operation seconds, before the takeover (on s1): %s'
              % json.dumps(before_s))
        print('per-operation seconds, after the takeover (on s2): %s'
              % json.dumps(after_s))
        print('first round after the takeover: %.1fs; stats (state, s) '
              'after, twice: %s' % (first_round_after, after_stats))
