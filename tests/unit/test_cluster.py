"""Unit tests of arca_openstack.node.cluster (the renderers)."""

import os
import shutil
import subprocess
import tempfile
from xml.etree import ElementTree as ET

from arca_openstack.node import cluster
from arca_openstack.node import cluster_config
from arca_openstack.node import drbd
from tests.unit import base
from tests.unit import test_cluster_config

CLUSTER = cluster_config.parse(test_cluster_config.GOOD)

COROSYNC = """\
# Managed by arca-openstack (arca-node cluster setup): do not edit.
totem {
    version: 2
    cluster_name: arca
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
}
nodelist {
    node {
        ring0_addr: 10.97.0.1
        name: s1
        nodeid: 1
    }
    node {
        ring0_addr: 10.97.0.2
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

RESOURCE = """\
# Managed by arca-openstack: do not edit.
resource arca2 {
    net {
        protocol C;
    }
    disk {
        fencing resource-and-stonith;
        resync-rate 100M;
        c-plan-ahead 20;
        c-fill-target 1M;
        c-min-rate 10M;
        c-max-rate 1G;
    }
    handlers {
        fence-peer "/usr/lib/drbd/crm-fence-peer.sh";
        after-resync-target "/usr/lib/drbd/crm-unfence-peer.sh";
    }
    on s1 {
        device /dev/drbd2 minor 2;
        disk /dev/ubdc;
        meta-disk internal;
        address ipv4 10.97.0.1:7790;
    }
    on s2 {
        device /dev/drbd2 minor 2;
        disk /dev/ubdc;
        meta-disk internal;
        address ipv4 10.97.0.2:7790;
    }
}
"""


def _seconds(value):
    assert value.endswith('s'), value
    return int(value[:-1])


class RenderTestCase(base.TestCase):

    def test_corosync(self):
        self.assertEqual(COROSYNC, cluster.render_corosync(CLUSTER))

    def test_pool_resource_fenced(self):
        self.assertEqual(RESOURCE, cluster.render_pool_resource(
            CLUSTER, CLUSTER.pools[1]))

    def test_unfenced_resource_unchanged(self):
        # What write_resource wrote before fencing existed.
        fenced = cluster.render_pool_resource(CLUSTER, CLUSTER.pools[1])
        plain = drbd.render_resource(
            'arca2', 2, 7790, drbd.Peer('s2', '10.97.0.2', '/dev/ubdc'),
            drbd.Peer('s1', '10.97.0.1', '/dev/ubdc'))
        self.assertEqual(plain, fenced.replace(
            '    disk {\n        fencing resource-and-stonith;\n'
            '        resync-rate 100M;\n        c-plan-ahead 20;\n'
            '        c-fill-target 1M;\n        c-min-rate 10M;\n'
            '        c-max-rate 1G;\n    }\n'
            '    handlers {\n        fence-peer "/usr/lib/drbd/crm-fence-'
            'peer.sh";\n        after-resync-target "/usr/lib/drbd/crm-'
            'unfence-peer.sh";\n    }\n', ''))

    def test_fencing_must_be_bool(self):
        self.assertRaises(
            ValueError, drbd.render_resource, 'r', 1, 7789,
            drbd.Peer('a', '10.0.0.1', '/dev/sdb'),
            drbd.Peer('b', '10.0.0.2', '/dev/sdb'), fencing='yes')


class CIBTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.text = cluster.render_cib(CLUSTER)
        self.root = ET.fromstring(self.text)

    def find(self, path):
        found = self.root.find(path)
        self.assertIsNotNone(found, path)
        return found

    def nvpairs(self, element):
        return {n.get('name'): n.get('value')
                for n in element.findall('nvpair')}

    def test_one_configuration_document(self):
        self.assertEqual('configuration', self.root.tag)
        self.assertEqual(
            ['crm_config', 'rsc_defaults', 'op_defaults', 'resources',
             'constraints'], [c.tag for c in self.root])

    def test_properties_and_defaults(self):
        self.assertEqual({'stonith-enabled': 'true'}, self.nvpairs(self.find(
            "crm_config/cluster_property_set[@id='cib-bootstrap-options']")))
        self.assertEqual({'resource-stickiness': '100'}, self.nvpairs(
            self.find('rsc_defaults/meta_attributes')))
        self.assertEqual({'timeout': '120s'}, self.nvpairs(
            self.find('op_defaults/meta_attributes')))

    def test_ids_unique(self):
        ids = [e.get('id') for e in self.root.iter() if e.get('id')]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(len(ids), sum(1 for e in self.root.iter()
                                       if e.tag not in (
                                           'configuration', 'crm_config',
                                           'rsc_defaults', 'op_defaults',
                                           'resources', 'constraints',
                                           'operations')))

    def test_every_op_has_a_long_timeout(self):
        ops = list(self.root.iter('op'))
        self.assertEqual(2 * 1 + 2 * (7 + 3 + 3), len(ops))
        for op in ops:
            self.assertGreaterEqual(_seconds(op.get('timeout')), 120,
                                    op.get('id'))

    def test_fence_devices(self):
        fence = self.find("resources/primitive[@id='fence-s2']")
        self.assertEqual(('stonith', 'fence_ipmilan', None),
                         (fence.get('class'), fence.get('type'),
                          fence.get('provider')))
        self.assertEqual({'ip': '192.0.2.12', 'password': 'se%cret;#$x',
                          'pcmk_host_list': 's2'},
                         self.nvpairs(fence.find('instance_attributes')))
        self.assertEqual(
            {'rsc': 'fence-s2', 'node': 's2', 'score': '-INFINITY'},
            {k: v for k, v in self.find(
                "constraints/rsc_location[@id='loc-fence-s2']").items()
             if k != 'id'})

    def test_pool(self):
        clone = self.find("resources/clone[@id='ms-arca2']")
        self.assertEqual(
            {'promotable': 'true', 'promoted-max': '1',
             'promoted-node-max': '1', 'clone-max': '2',
             'clone-node-max': '1', 'notify': 'true'},
            self.nvpairs(clone.find('meta_attributes')))
        prim = clone.find('primitive')
        self.assertEqual(('drbd-arca2', 'ocf', 'linbit', 'drbd'), (
            prim.get('id'), prim.get('class'), prim.get('provider'),
            prim.get('type')))
        self.assertEqual({'drbd_resource': 'arca2'},
                         self.nvpairs(prim.find('instance_attributes')))
        roles = {(op.get('name'), op.get('role'))
                 for op in prim.iter('op')}
        self.assertIn(('monitor', 'Promoted'), roles)
        self.assertIn(('monitor', 'Unpromoted'), roles)
        group = self.find("resources/group[@id='g-arca2']")
        members = group.findall('primitive')
        self.assertEqual(
            [('pool-arca2', 'ocf', 'arca', 'pool'),
             ('ip-arca2', 'ocf', 'heartbeat', 'IPaddr2')],
            [(p.get('id'), p.get('class'), p.get('provider'), p.get('type'))
             for p in members])
        self.assertEqual({'thin_pool': 'arca2/thin'}, self.nvpairs(
            members[0].find('instance_attributes')))
        self.assertEqual(
            {'ip': '10.97.0.102', 'cidr_netmask': '24', 'nic': 'eth0'},
            self.nvpairs(members[1].find('instance_attributes')))

    def test_pool_constraints(self):
        def attrs(path):
            return dict(self.find(path).items())

        self.assertEqual(
            {'id': 'col-arca2', 'rsc': 'g-arca2', 'with-rsc': 'ms-arca2',
             'with-rsc-role': 'Promoted', 'score': 'INFINITY'},
            attrs("constraints/rsc_colocation[@id='col-arca2']"))
        self.assertEqual(
            {'id': 'ord-arca2', 'first': 'ms-arca2',
             'first-action': 'promote', 'then': 'g-arca2',
             'then-action': 'start', 'kind': 'Mandatory'},
            attrs("constraints/rsc_order[@id='ord-arca2']"))
        self.assertEqual(
            {'id': 'loc-arca2', 'rsc': 'g-arca2', 'node': 's2',
             'score': '50'},
            attrs("constraints/rsc_location[@id='loc-arca2']"))

    def test_values_are_escaped(self):
        text = test_cluster_config.replace('se%cret;#$x', 'a"<b>&\'c')
        root = ET.fromstring(cluster.render_cib(cluster_config.parse(text)))
        pair = root.find(".//nvpair[@name='password']")
        self.assertEqual('a"<b>&\'c', pair.get('value'))

    def test_move_and_unmove(self):
        move = ET.fromstring(cluster.render_move(CLUSTER, 'arca1', 's2'))
        self.assertEqual('constraints', move.tag)
        self.assertEqual([{'id': 'arca-move-arca1', 'rsc': 'ms-arca1',
                           'role': 'Promoted', 'node': 's2',
                           'score': 'INFINITY'}],
                         [dict(c.items()) for c in move])
        self.assertEqual('<rsc_location id="arca-move-arca1" />',
                         cluster.render_unmove(CLUSTER, 'arca1'))
        self.assertRaises(ValueError, cluster.render_move, CLUSTER,
                          'arca1', 's3')
        self.assertRaises(ValueError, cluster.render_unmove, CLUSTER, 'x')


class CrmVerifyTestCase(base.TestCase):
    """The rendered CIB, merged and checked by Pacemaker's own tools."""

    def setUp(self):
        super().setUp()
        for tool in ('cibadmin', 'crm_verify'):
            if not shutil.which(tool, path=os.environ.get('PATH', '') +
                                ':/usr/sbin:/sbin'):
                self.skipTest('%s is not installed (pacemaker-cli-utils)'
                              % tool)
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.cib = os.path.join(self.tmp, 'cib.xml')
        self.env = dict(os.environ, CIB_file=self.cib,
                        PATH=os.environ.get('PATH', '') + ':/usr/sbin:/sbin')
        with open(self.cib, 'w') as f:
            f.write(self.tool('cibadmin', '--empty'))

    def tool(self, *cmd, stdin=None):
        result = subprocess.run(cmd, input=stdin, capture_output=True,
                                text=True, env=self.env, timeout=60)
        self.assertEqual(0, result.returncode, '%s: %s%s' % (
            ' '.join(cmd), result.stdout, result.stderr))
        return result.stdout

    def test_verify(self):
        for _twice in range(2):
            self.tool('cibadmin', '--modify', '--allow-create', '-o',
                      'configuration', '--xml-pipe',
                      stdin=cluster.render_cib(CLUSTER))
            self.tool('crm_verify', '--xml-file', self.cib)
        with open(self.cib) as f:
            merged = ET.fromstring(f.read())
        self.assertEqual(4, len(merged.findall(
            'configuration/resources/clone/primitive')) +
            len(merged.findall('configuration/resources/group')))
        self.tool('cibadmin', '--modify', '--allow-create', '-o',
                  'constraints', '--xml-pipe',
                  stdin=cluster.render_move(CLUSTER, 'arca1', 's2'))
        self.tool('crm_verify', '--xml-file', self.cib)
        self.assertIn('arca-move-arca1', self.tool('cibadmin', '--query'))
        for _twice in range(2):
            self.tool('cibadmin', '--delete', '--xml-text',
                      cluster.render_unmove(CLUSTER, 'arca1'))
        self.assertNotIn('arca-move-arca1', self.tool('cibadmin', '--query'))
