"""Split brain of the replication alone: cut only DRBD's link mid-write.

Two storage guests form a real Corosync/Pacemaker cluster with DRBD 8.4
and real fencing; a client writes sequence-numbered records through NFS
v4.2 to a share of the pool, each logged on the client only after its
fsync returned. Then only the pool's replication is cut: every packet to
or from its DRBD port is dropped on both nodes (in the lab Corosync, DRBD
and the clients share one link, as they share the ring0 address), so
Corosync still sees both nodes and nobody is fenced.

The Primary loses its peer, freezes the pool's I/O and runs DRBD's
fence-peer handler, which forbids the promotion of the pool on the peer
in the CIB; I/O then resumes. Checked at every poll while the link is
cut: exactly one Primary (the serving node), the pool's group on it and
nowhere else, the peer Secondary and serving nothing. The client's writes
carry on there after the freeze. When the link is back the peer resyncs
only the blocks written meanwhile (measured against the pool's size), the
handler's constraint goes away after the resync, both disks are
UpToDate, and no acknowledged write is lost.
"""

import json
import re
import time


from tests.functional.ha import base
from tests.lab import ha

POOL = ha.Pool('arca1', minor=1, port=7789, address='10.97.0.101',
               preferred='s1')
CLIENT_ADDR = base.CLIENT_ADDR
ADDRESS_POOL = ('name=a,mode=vlan,parent=eth0,vlan=100,cidr=10.100.0.0/24,'
                'range=10.100.0.10-10.100.0.19')
SVM = 'sb_p1'
SHARE = 'share-sb1'
# How long the link stays cut once DRBD has noticed (s): the client keeps
# writing meanwhile, so that there is something to resync.
CUT_SECONDS = 30
FENCE_CONSTRAINT = 'drbd-fence-by-handler-%s' % POOL.name


class SplitBrainTestCase(base.PairTestCase):

    POOLS = (POOL,)

    def _constraints(self, via):
        """Ids of the CIB's constraints, as ``via`` sees them."""
        out = via.sh('cibadmin --query -o constraints', check=False).stdout
        return re.findall(r'\bid="([^"]+)"', out)

    def _fenced(self, via):
        return any(i.startswith(FENCE_CONSTRAINT)
                   for i in self._constraints(via))

    def _one_primary(self, s1, s2, what):
        """Exactly one Primary, s1, and the pool on s1 only; the states."""
        states = {n.name: ha.drbd_state(n, POOL) for n in (s1, s2)}
        primaries = sorted(name for name, st in states.items()
                           if st.get('role') == 'Primary')
        self.assertEqual(['s1'], primaries, '%s: %s' % (what, states))
        self.assertEqual('Secondary', states['s2'].get('role'),
                         '%s: %s' % (what, states))
        self.assertEqual('s1', self.pair.located(POOL, s1), what)
        self.assertFalse(self.pair.serving(POOL, s2),
                         '%s: s2 serves the pool' % what)
        return states

    @staticmethod
    def _now(node):
        return float(node.run('date', '+%s.%N').stdout)

    def test_replication_link_cut(self):
        s1, s2, c1 = (self.lab.node(n) for n in ('s1', 's2', 'c1'))
        address = ha.serve_share(ha.pool_agent(self.lab, POOL), POOL, SVM,
                                 'sb_', ADDRESS_POOL, SHARE, 'p1',
                                 CLIENT_ADDR.split('/')[0])
        ha.nfs_mount(c1, address, SHARE)
        writer = ha.Writer(c1, SHARE, '/mnt/%s/records' % SHARE)
        writer.start()
        writer.wait_records(20)
        ha.wait(lambda: ha.drbd_state(s1, POOL).get('cs') == 'Connected'
                and ha.drbd_state(s1, POOL).get('disk') == 'UpToDate'
                and ha.drbd_state(s1, POOL).get('peer_disk') == 'UpToDate',
                300, 'the pool in sync before the cut')
        self._one_primary(s1, s2, 'before the cut')
        self.assertFalse(self._fenced(s1))
        size = int(s1.sh('blockdev --getsize64 /dev/drbd%d'
                         % POOL.minor).stdout)

        figures = {'pool device bytes': size}
        cut_at = self._now(c1)
        ha.cut_replication((s1, s2), POOL)
        noticed = fenced = None
        polls = 0
        try:
            while True:
                states = self._one_primary(s1, s2, 'link cut')
                polls += 1
                now = self._now(c1)
                if noticed is None and states['s1']['cs'] != 'Connected':
                    noticed = now
                if fenced is None and self._fenced(s1):
                    fenced = now
                if noticed and fenced and now - noticed >= CUT_SECONDS:
                    break
                if now - cut_at > 300:
                    self.fail('DRBD did not notice the cut (or no '
                              'constraint) in 300 s: %s' % states)
                time.sleep(0.5)
            oos = states['s1']['oos_kib']
            figures.update({
                'DRBD noticed the cut (s)': round(noticed - cut_at, 1),
                'fence constraint placed (s)': round(fenced - cut_at, 1),
                's1 during the cut': '%s %s %s/%s' % (
                    states['s1']['cs'], states['s1']['role'],
                    states['s1']['disk'], states['s1']['peer_disk']),
                's2 during the cut': '%s %s %s/%s' % (
                    states['s2']['cs'], states['s2']['role'],
                    states['s2']['disk'], states['s2']['peer_disk']),
                'out of sync before reconnect (KiB)': oos,
                'polls with exactly one Primary': polls})
            # The writes went on on s1, after at most the freeze.
            healed_at = self._now(c1)
            during = [s for s, t in writer.acked()
                      if cut_at <= t <= healed_at]
            figures['records acked during the cut'] = len(during)
            figures['longest write pause in the cut (s)'] = round(
                writer.max_gap(since=cut_at, until=healed_at), 1)
            self.assertGreater(len(during), 50, 'writes stopped')
            self.assertGreater(oos, 0)
        finally:
            ha.restore_replication((s1, s2), POOL)

        # Reconnect: s2 resyncs what changed, then the handler's
        # constraint goes away; one Primary all along.
        def in_sync():
            states = self._one_primary(s1, s2, 'after the cut')
            return (states['s1']['cs'] == 'Connected' and
                    states['s1']['disk'] == 'UpToDate' and
                    states['s1']['peer_disk'] == 'UpToDate' and
                    states['s2']['disk'] == 'UpToDate')
        ha.wait(in_sync, 600, 'the pool in sync again', interval=0.5)
        figures['resynced after (s)'] = round(self._now(c1) - healed_at, 1)
        began = ha.kernel_log(s2, r'Began resync as SyncTarget')
        self.assertTrue(began, 's2 did not resync')
        match = re.search(r'will sync (\d+) KB \[(\d+) bits set\]',
                          began[-1])
        resynced = int(match.group(1)) * 1024
        figures['bytes resynced'] = resynced
        figures['resynced / pool size'] = '%.4f%%' % (100.0 * resynced /
                                                      size)
        ha.wait(lambda: not self._fenced(s1) and not self._fenced(s2), 120,
                'crm-unfence-peer to remove %s' % FENCE_CONSTRAINT)
        figures['constraint removed after (s)'] = round(
            self._now(c1) - healed_at, 1)
        self.assertLess(resynced, size // 10, 'a full resync?')
        self.assertEqual([], ha.kernel_log(s1, r'[Ss]plit-[Bb]rain'))

        # Writes go on, nothing acknowledged is lost (read on s1).
        count = len(writer.acked())
        writer.wait_records(count + 20)
        writer.stop()
        time.sleep(1)
        figures['records acked in all'] = len(writer.acked())
        print('split brain of the replication: %s' % json.dumps(figures))
        self.assertEqual([], writer.lost(
            s1, '/var/lib/arca/mnt/%s/records' % SHARE),
            'acknowledged records lost')
        self.assertNotIn('Error', writer.errors())
        self._one_primary(s1, s2, 'at the end')
