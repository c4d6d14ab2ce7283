"""``arca-node status | audit | ensure`` on a real node.

The operator's commands, run on the storage node as root (as an operator
or a monitoring check would), against an SVM that serves a client: what
they report, their exit codes, that ``ensure --dry-run`` changes nothing
and that ``ensure`` brings a stopped SVM back to its client.
"""

import json

from arca_openstack.node import export
from tests.functional import base
from tests.functional.node import test_svm
from tests.lab import harness

SVM = 'ft_cli'
LV = 'ft-cli1'
STRAY = 'ft-cli-stray'
C1 = test_svm.C1
ADDR = test_svm.ADDR_A
# The agent's command line, with another subcommand than serve.
CLI = harness.AGENT[:-1]


class NodeCLITestCase(test_svm.SVMTestBase):

    def setUp(self):
        super().setUp()
        self.make_volume(LV)
        self.make_svm(SVM, base.TENANT_A)
        self.publish(SVM, LV, [(C1, 'rw')])
        self.addCleanup(self.nfs_umount, self.c1, '/mnt/cli')

    def cli(self, *args):
        """(exit code, parsed JSON) of ``arca-node ARGS --format json``."""
        result = self.s1.run(*(CLI + args + ('--format', 'json')),
                             check=False, timeout=300)
        self.assertIn(result.exit_code, (0, 1), result.stderr)
        return result.exit_code, json.loads(result.stdout)

    def mine(self, findings):
        """The findings about this test's SVM, LVs and mounts."""
        return sorted((f['kind'], f['object']) for f in findings
                      if SVM in f['object'] or 'ft-cli' in f['object'])

    def test_status_audit_ensure(self):
        self.nfs_mount(self.c1, ADDR, '/' + LV, '/mnt/cli')
        digest = self.write_random(self.c1, '/mnt/cli/data', 2)

        # status: the SVM with its address, its export with its client,
        # the LV in the pool.
        code, status = self.cli('status')
        self.assertEqual(0, code)
        svm = {s['name']: s for s in status['svms']}[SVM]
        self.assertTrue(svm['running'])
        self.assertIn(base.TENANT_A['svm'], svm['addresses'])
        [exp] = svm['exports']
        self.assertEqual((LV, True), (exp['lv'], exp['mounted']))
        self.assertEqual([C1], [c['network'] for c in exp['clients']])
        lvs = {lv['name'] for pool in status['pools'] for lv in pool['lvs']}
        self.assertIn(LV, lvs)

        # audit: nothing to say about a healthy SVM; a mounted LV no SVM
        # exports is reported, and so is a stopped SVM (exit code 1).
        code, audit = self.cli('audit')
        self.assertEqual([], self.mine(audit['findings']))
        self.make_volume(STRAY)
        self.addCleanup(self.exports.unmount, STRAY)
        self.exports.mount(STRAY)
        pid = self.ganesha.status(SVM)['pid']
        self.s1.sh('kill -9 %d' % pid)
        self.wait_for(lambda: not self.ganesha.status(SVM)['running'],
                      timeout=30, what='ganesha to die')
        code, audit = self.cli('audit')
        self.assertEqual(1, code)
        self.assertEqual(
            [('mount-not-exported', export.mountpoint(STRAY)),
             ('svm-stopped', SVM)], self.mine(audit['findings']))

        # ensure --dry-run: the plan, and nothing changed.
        code, plan = self.cli('ensure', '--dry-run')
        entry = {s['svm']: s for s in plan['svms']}[SVM]
        self.assertEqual('would rebuild', entry['result'])
        self.assertEqual([LV], [m['lv'] for m in entry['mounts']])
        self.assertFalse(self.ganesha.status(SVM)['running'])
        self.assertFalse(self.can_connect(self.c1, ADDR))

        # ensure: rebuilt, and the client reads its data again.
        code, done = self.cli('ensure')
        entry = {s['svm']: s for s in done['svms']}[SVM]
        self.assertEqual('rebuilt', entry['result'])
        self.assertTrue(self.ganesha.status(SVM)['running'])
        self.nfs_umount(self.c1, '/mnt/cli')
        self.nfs_mount(self.c1, ADDR, '/' + LV, '/mnt/cli')
        self.assertEqual(digest, self.c1.sha256('/mnt/cli/data'))
        code, audit = self.cli('audit')
        self.assertEqual([('mount-not-exported', export.mountpoint(STRAY))],
                         self.mine(audit['findings']))
