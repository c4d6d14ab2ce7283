"""The lab's fence device, for real: fence_arcalab kills UML guests.

Two storage nodes with fencing on and an HA disk each (/dev/ubdb). From
s1 the agent is run by hand (status, off, refusals, metadata), the lab's
LVM filter is checked against a PV on a DRBD device over /dev/ubdb, and a
two-node Pacemaker cluster fences s2 through the agent (a stonith
primitive of type fence_arcalab). Its own lab: the shared one of the
other node tests has no fencing, and these tests power nodes off.
"""

import atexit
import base64
import os
import time
from xml.etree import ElementTree

import testtools

from tests.lab import harness

COROSYNC_CONF = """\
totem {
    version: 2
    cluster_name: arcafence
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
}
nodelist {
    node {
        ring0_addr: %(s1)s
        name: s1
        nodeid: 1
    }
    node {
        ring0_addr: %(s2)s
        name: s2
        nodeid: 2
    }
}
quorum {
    provider: corosync_votequorum
    two_node: 1
}
logging {
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_stderr: no
    to_syslog: no
    timestamp: on
}
"""

STONITH = """\
<primitive id="fence-%(n)s" class="stonith" type="fence_arcalab">
  <instance_attributes id="fence-%(n)s-ia">
    <nvpair id="fence-%(n)s-hosts" name="pcmk_host_list" value="%(n)s"/>
  </instance_attributes>
  <operations>
    <op id="fence-%(n)s-mon" name="monitor" interval="60s" timeout="120s"/>
  </operations>
</primitive>"""

DRBD_RES = """\
resource ftha {
    net {
        protocol C;
    }
    on s1 {
        device /dev/drbd0 minor 0;
        disk /dev/ubdb;
        meta-disk internal;
        address ipv4 %(s1)s:7788;
    }
    on s2 {
        device /dev/drbd0 minor 0;
        disk /dev/ubdb;
        meta-disk internal;
        address ipv4 %(s2)s:7788;
    }
}
"""

_lab = None


def lab():
    global _lab
    if _lab is None:
        harness.Lab.cleanup_stale()
        specs = [harness.NodeSpec(name, 'storage', disk_gib=2,
                                  ha_disk_gib=1) for name in ('s1', 's2')]
        _lab = harness.Lab(specs, mem=512, fencing=True)
        _lab.start()
        atexit.register(_lab.close)
    return _lab


class FencingTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.lab = lab()
        self.s1, self.s2 = self.lab.node('s1'), self.lab.node('s2')
        for node in (self.s1, self.s2):
            if not node.running:
                node.start()

    def agent(self, *args, stdin=None):
        """fence_arcalab in s1; (exit status, stdout, stderr)."""
        result = self.s1.run('/usr/sbin/fence_arcalab', *args, check=False,
                             input=stdin, timeout=180)
        return result.exit_code, result.stdout, result.stderr

    def assertAlive(self, node, pid):
        self.assertTrue(node.running)
        self.assertEqual(pid, node.proc.pid)

    def test_agent_by_hand(self):
        pid = self.s2.proc.pid
        conf = self.s1.sh('stat -c %a:%U /run/arcalab/fence.conf; '
                          'stat -c %a /usr/sbin/fence_arcalab').stdout
        self.assertEqual('600:root\n755\n', conf)
        self.assertEqual((0, 'Status: ON\n', ''),
                         self.agent('-o', 'status', '-n', 's2'))
        rc, out, err = self.agent(stdin='action=list\n')
        self.assertEqual((0, 's1,s1\ns2,s2\n'), (rc, out))
        self.assertEqual(0, self.agent(stdin='action=monitor\n')[0])

        # Refused, with nothing killed: a wrong token, a name that is
        # none of this lab's nodes, and a request for another lab.
        self.s1.sh("sed 's/^token=.*/token=%s/' /run/arcalab/fence.conf "
                   "> /tmp/bad-token.conf" % ('0' * 64))
        self.s1.sh("sed 's/^lab=.*/lab=arcalab1/' /run/arcalab/fence.conf "
                   "> /tmp/other-lab.conf")
        for args, words in (
                (('-o', 'off', '-n', 's2', '-c', '/tmp/bad-token.conf'),
                 'refused by the lab harness: bad token'),
                (('-o', 'off', '-n', 's9'),
                 "refused by the lab harness: no node 's9' in lab %s"
                 % self.lab.netns),
                (('-o', 'off', '-n', 's2', '-c', '/tmp/other-lab.conf'),
                 "refused by the lab harness: wrong lab 'arcalab1'")):
            rc, out, err = self.agent(*args)
            self.assertEqual(1, rc, args)
            self.assertIn(words, err)
            self.assertAlive(self.s2, pid)
        self.assertEqual(0, self.s2.sh('true').exit_code)
        # "on" is not for this lab (fence_power_on=False): refused.
        rc, out, err = self.agent('-o', 'on', '-n', 's2')
        self.assertEqual(1, rc)
        self.assertIn('power on is disabled', err)

        # Off, through stdin as Pacemaker sends it: it returns once the
        # guest's UML process is gone.
        started = time.monotonic()
        rc, out, err = self.agent(stdin='action=off\nport=s2\n'
                                  'nodename=s1\n')
        took = time.monotonic() - started
        self.assertEqual(0, rc, err)
        self.assertIn('Success: s2 is off (UML process %d exited)' % pid,
                      out)
        self.assertFalse(self.s2.running)
        self.assertIsNone(self.s2.proc)
        self.assertFalse(os.path.exists('/proc/%d' % pid))
        self.assertEqual([], harness._group_members(pid))
        print('fence off by hand: %.1fs' % took)
        self.assertEqual((2, 'Status: OFF\n', ''),
                         self.agent('-o', 'status', '-n', 's2'))
        # Again: already off, still a success.
        rc, out, err = self.agent('-o', 'off', '-n', 's2')
        self.assertEqual(0, rc, err)
        self.assertIn('already off', out)

    def test_metadata(self):
        rc, out, err = self.agent('-o', 'metadata')
        self.assertEqual(0, rc, err)
        root = ElementTree.fromstring(out.encode())
        self.assertEqual('fence_arcalab', root.get('name'))
        actions = {a.get('name') for a in root.iter('action')}
        self.assertTrue({'on', 'off', 'reboot', 'status', 'monitor', 'list',
                         'metadata'} <= actions, actions)
        # Pacemaker's own reading of it (the fencer's way to the agent).
        meta = self.s1.run('stonith_admin', '--metadata', '-a',
                           'fence_arcalab', timeout=120).stdout
        root = ElementTree.fromstring(meta.encode())
        self.assertEqual('fence_arcalab', root.get('name'))
        params = {p.get('name') for p in root.iter('parameter')}
        self.assertTrue({'action', 'plug', 'port'} <= params, params)

    def test_cluster_dirs(self):
        # Made at every boot by guest-init.sh, as the packages make them.
        out = self.s1.sh(
            'stat -c "%n %U:%G %a" /var/log/corosync /var/log/pacemaker '
            '/var/lib/corosync /var/lib/pacemaker/cib '
            '/var/lib/pacemaker/pengine /var/lib/pacemaker/blackbox '
            '/var/lib/pacemaker/cores').stdout
        self.assertEqual(
            '/var/log/corosync root:root 755\n'
            '/var/log/pacemaker hacluster:haclient 770\n'
            '/var/lib/corosync root:root 755\n'
            '/var/lib/pacemaker/cib hacluster:haclient 750\n'
            '/var/lib/pacemaker/pengine hacluster:haclient 750\n'
            '/var/lib/pacemaker/blackbox hacluster:haclient 750\n'
            '/var/lib/pacemaker/cores hacluster:haclient 750\n', out)

    def test_lvm_sees_drbd_pool_not_its_backing_disk(self):
        # A one-sided DRBD device over /dev/ubdb, minor 0 (a mirrored
        # pool's), with a PV on it: LVM must see /dev/drbd0 and never
        # /dev/ubdb, whose first sector carries the same label.
        self.addCleanup(self.s1.sh, 'vgremove -f ftha >/dev/null 2>&1; '
                        'drbdadm down ftha; rm -f /etc/drbd.d/ftha.res; '
                        'dd if=/dev/zero of=/dev/ubdb bs=1M count=4 '
                        'status=none; true')
        self.s1.sh("cat > /etc/drbd.d/ftha.res <<'EOF'\n%sEOF\n" % (
            DRBD_RES % {'s1': self.s1.address, 's2': self.s2.address}))
        self.s1.sh('drbdadm create-md --force ftha >/dev/null 2>&1 && '
                   'drbdadm up ftha && drbdadm primary --force ftha && '
                   'pvcreate -y /dev/drbd0 >/dev/null && '
                   'vgcreate ftha /dev/drbd0 >/dev/null', timeout=180)
        self.assertEqual('LABELONE', self.s1.sh(
            'dd if=/dev/ubdb bs=512 skip=1 count=1 status=none | '
            'head -c 8').stdout)
        out = self.s1.sh('pvs --noheadings -o pv_name,vg_name 2>&1').stdout
        rows = [tuple(line.split()) for line in out.splitlines()]
        self.assertIn(('/dev/drbd0', 'ftha'), rows, out)
        self.assertNotIn('/dev/ubdb', out)
        self.assertNotIn('uplicate', out)
        rc = self.s1.run('pvs', '/dev/ubdb', check=False)
        self.assertNotEqual(0, rc.exit_code)

    def _start_cluster(self, delays=None):
        """Corosync + Pacemaker on s1 and s2, a fence_arcalab per node.

        ``delays``: {node: pcmk_delay_base of the device that fences it}.
        Each device is banned from the node it fences, so the other node
        runs it (as a real two-node cluster is set up).
        """
        delays = delays or {}
        nodes = (self.s1, self.s2)
        conf = COROSYNC_CONF % {'s1': self.s1.address,
                                's2': self.s2.address}
        key = base64.b64encode(os.urandom(256)).decode()
        self.addCleanup(self._stop_cluster)
        started = time.monotonic()
        for node in nodes:
            node.sh("mkdir -p /etc/corosync && cat > "
                    "/etc/corosync/corosync.conf <<'EOF'\n%sEOF\n"
                    "echo %s | base64 -d > /etc/corosync/authkey && "
                    "chmod 400 /etc/corosync/authkey && "
                    "setsid corosync -f </dev/null "
                    ">/var/log/corosync/stdout.log 2>&1 &" % (conf, key))
        for node in nodes:
            self._wait(node, 'corosync-quorumtool -s',
                       'Quorate:          Yes', 180)
        for node in nodes:
            node.sh('setsid pacemakerd </dev/null '
                    '>/var/log/pacemaker/pacemakerd.out 2>&1 &')
        self._wait(self.s1, 'crm_mon -1', 'Online: [ s1 s2 ]', 300)
        self._wait(self.s1, 'crm_mon -1', 'partition with quorum', 300)
        self.s1.sh('crm_attribute -t crm_config -n stonith-enabled -v true '
                   '&& crm_attribute -t crm_config -n stonith-timeout '
                   '-v 120s', timeout=120)
        for name in ('s1', 's2'):
            xml = STONITH % {'n': name}
            if name in delays:
                xml = xml.replace('</instance_attributes>', (
                    '  <nvpair id="fence-%s-delay" name="pcmk_delay_base" '
                    'value="%s"/>\n  </instance_attributes>') % (
                        name, delays[name]))
            self.s1.sh("cibadmin --create -o resources --xml-text '%s'"
                       % xml, timeout=120)
            self.s1.sh("cibadmin --create -o constraints --xml-text "
                       "'<rsc_location id=\"fence-%s-avoid\" "
                       "rsc=\"fence-%s\" node=\"%s\" score=\"-INFINITY\"/>'"
                       % (name, name, name), timeout=120)
        # Each fencer holds the device for its peer.
        self._wait(self.s1, 'stonith_admin --list-registered',
                   'fence-s2', 300)
        self._wait(self.s2, 'stonith_admin --list-registered',
                   'fence-s1', 300)
        print('cluster up with fencing in %.1fs'
              % (time.monotonic() - started))

    def test_pacemaker_fences_through_the_agent(self):
        pid = self.s2.proc.pid
        self._start_cluster()
        # The configuration is valid as Pacemaker sees it.
        verify = self.s1.sh('crm_verify -L -V 2>&1', check=False,
                            timeout=120)
        self.assertEqual(0, verify.exit_code, verify.stdout)
        started = time.monotonic()
        out = self.s1.sh('stonith_admin --fence s2 --timeout 180 2>&1',
                         timeout=240).stdout
        took = time.monotonic() - started
        print('stonith_admin --fence s2: %.1fs: %s' % (took, out.strip()))
        self.assertFalse(self.s2.running)
        self.assertFalse(os.path.exists('/proc/%d' % pid))
        self.assertIn(('s1', 'off', 's2', True, 'off'),
                      self.lab.fence.requests)
        history = self.s1.sh('stonith_admin --history s2 2>&1',
                             timeout=120).stdout
        print(history.strip())
        self.assertIn('successful', history)

    def test_split_brain_leaves_one_node(self):
        # s1 and s2 lose each other but both still reach the fence
        # device: each asks to fence the other. The device that fences s1
        # waits (pcmk_delay_base), so s1 fences s2 first and s2, really
        # dead, never fences s1: exactly one survivor.
        pid1, pid2 = self.s1.proc.pid, self.s2.proc.pid
        self._start_cluster(delays={'s1': '45s'})
        before = len(self.lab.fence.requests)
        self.addCleanup(self.lab.heal)
        self.lab.partition('s1', 's2')
        started = time.monotonic()
        while self.s2.running and time.monotonic() - started < 240:
            time.sleep(0.5)
        took = time.monotonic() - started
        self.assertFalse(self.s2.running, 's2 not fenced in 240s')
        print('partition to s2 fenced: %.1fs' % took)
        # s2 is gone, so is its delayed request: s1 lives on, never
        # fenced (a few seconds for anything already on its way).
        time.sleep(5)
        self.assertTrue(self.s1.running)
        self.assertEqual(pid1, self.s1.proc.pid)
        self.assertFalse(os.path.exists('/proc/%d' % pid2))
        offs = [r[:3] for r in self.lab.fence.requests[before:]
                if r.action == 'off' and r.ok]
        self.assertEqual([('s1', 'off', 's2')], offs,
                         self.lab.fence.requests[before:])
        self.assertEqual([], [r for r in self.lab.fence.requests[before:]
                              if r.node == 's1'])
        self.lab.heal()
        history = self.s1.sh('stonith_admin --history s2 2>&1',
                             timeout=120).stdout
        print(history.strip())
        self.assertIn('successful', history)

    def _wait(self, node, command, words, timeout):
        deadline = time.monotonic() + timeout
        while True:
            out = node.sh(command + ' 2>&1', check=False,
                          timeout=120).stdout
            if words in out:
                return out
            if time.monotonic() > deadline:
                self.fail('%s on %s: no %r after %ds:\n%s' % (
                    command, node.name, words, timeout, out))
            time.sleep(2)

    def _stop_cluster(self):
        # The nodes' overlay forgets the cluster at the next boot: a
        # reboot of each running node is the cleanest stop.
        for node in (self.s1, self.s2):
            if node.running:
                node.kill()
