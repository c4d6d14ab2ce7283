"""Unit tests of arca_openstack.node.cluster_config."""

import os
import textwrap

import ddt

from arca_openstack import exception
from arca_openstack.node import cluster_config as cc
from tests.unit import base

SAMPLE = os.path.join(os.path.dirname(__file__), '..', '..', 'etc', 'arca',
                      'cluster.conf.sample')

GOOD = textwrap.dedent("""\
    [cluster]
    name = arca
    nodes = s2=10.97.0.2, s1=10.97.0.1

    [fence s1]
    agent = fence_arcalab
    host = s1

    [fence s2]
    agent = fence_ipmilan
    ip = 192.0.2.12
    password = se%cret;#$x

    [pool arca1]
    disk = /dev/ubdb
    minor = 1
    port = 7789
    management_address = 10.97.0.101/24
    management_nic = eth0
    preferred_node = s1

    [pool arca2]
    thin_pool = arca2/thin
    disk = /dev/ubdc
    minor = 2
    port = 7790
    management_address = 10.97.0.102/24
    management_nic = eth0
    preferred_node = s2
    """)


def replace(old, new, text=GOOD):
    assert old in text, old
    return text.replace(old, new, 1)


POOL1 = GOOD[GOOD.index('[pool arca1]'):GOOD.index('[pool arca2]')]


@ddt.ddt
class ParseTestCase(base.TestCase):

    def test_good(self):
        cluster = cc.parse(GOOD)
        self.assertEqual('arca', cluster.name)
        self.assertEqual((cc.Node('s1', '10.97.0.1', 1),
                          cc.Node('s2', '10.97.0.2', 2)), cluster.nodes)
        self.assertEqual(
            (cc.Fence('s1', 'fence_arcalab', (('host', 's1'),)),
             cc.Fence('s2', 'fence_ipmilan', (
                 ('ip', '192.0.2.12'), ('password', 'se%cret;#$x')))),
            cluster.fences)
        self.assertEqual(
            (cc.Pool('arca1', 'arca1/pool', '/dev/ubdb', 1, 7789,
                     '10.97.0.101/24', 'eth0', 's1'),
             cc.Pool('arca2', 'arca2/thin', '/dev/ubdc', 2, 7790,
                     '10.97.0.102/24', 'eth0', 's2')), cluster.pools)

    def test_sample_parses(self):
        cluster = cc.load(SAMPLE)
        self.assertEqual(['arca1', 'arca2'], [p.name for p in cluster.pools])
        self.assertEqual(['s1', 's2'], [n.name for n in cluster.nodes])

    def test_lookups(self):
        cluster = cc.parse(GOOD)
        self.assertEqual('s2', cc.peer(cluster, 's1').name)
        self.assertEqual(('arca2', 'thin'),
                         cc.vg_and_thin(cc.pool(cluster, 'arca2')))
        self.assertRaises(exception.InvalidInput, cc.pool, cluster, 'x')
        self.assertRaises(exception.InvalidInput, cc.node, cluster, 's3')

    def test_missing_file(self):
        err = self.assertRaises(exception.InvalidInput, cc.load,
                                '/nonexistent/cluster.conf')
        self.assertEqual("Invalid cluster configuration "
                         "'/nonexistent/cluster.conf': No such file or "
                         "directory", str(err))

    @ddt.unpack
    @ddt.data(
        # [cluster]
        (replace('name = arca', 'name = -x'),
         "Invalid cc [cluster] name '-x': must be 1-32 characters of A-Z "
         "a-z 0-9 _ . - and not start with a symbol"),
        (replace('name = arca\n', ''),
         'Invalid cc [cluster] name: is required'),
        (replace('name = arca', 'name = arca\ncolour = red'),
         "Invalid cc [cluster] 'colour': unknown key (known: name, nodes)"),
        (replace('s2=10.97.0.2, ', ''),
         "Invalid cc [cluster] nodes 's1=10.97.0.1': must name exactly two "
         "nodes"),
        (replace('s2=10.97.0.2, ', 's2=10.97.0.2, s3=10.97.0.3, '),
         "Invalid cc [cluster] nodes 's2=10.97.0.2, s3=10.97.0.3, "
         "s1=10.97.0.1': must name exactly two nodes"),
        (replace('s2=10.97.0.2', 's1=10.97.0.2'),
         "Invalid cc [cluster] nodes 's1=10.97.0.2, s1=10.97.0.1': names "
         "the same node twice"),
        (replace('s2=10.97.0.2', 's2=10.97.0.1'),
         "Invalid cc [cluster] nodes 's2=10.97.0.1, s1=10.97.0.1': gives "
         "both nodes the same address"),
        (replace('s2=10.97.0.2', 's2=fd00::2'),
         "Invalid cc [cluster] nodes 's2=fd00::2, s1=10.97.0.1': must give "
         "both nodes addresses of the same IP version"),
        (replace('s2=10.97.0.2', 's2'),
         "Invalid cc [cluster] nodes 's2': must be NAME=ADDRESS"),
        (replace('s2=10.97.0.2', 's2=10.97.0.2/24'),
         "Invalid cc [cluster] nodes '10.97.0.2/24': must be a single IPv4 "
         "or IPv6 address"),
        (replace('s2=10.97.0.2', 's_2=10.97.0.2'),
         "Invalid cc [cluster] nodes 's_2': must be a valid DNS host name"),
        # sections
        (replace('[cluster]\n', '[clustre]\n'),
         "Invalid cc section 'clustre': must be [cluster], [fence NODE] or "
         "[pool NAME]"),
        (replace('[pool arca2]', '[pool arca2]\n[DEFAULT]\nx = 1\n'
                 '[pool arca3]'),
         "Invalid cc section 'DEFAULT': must be [cluster], [fence NODE] or "
         "[pool NAME]"),
        (replace('[pool arca1]', '[pool arca1]\nminor = 3'),
         "Invalid cc: While reading from 'cc' [line 17]: option "
         "'minor' in section 'pool arca1' already exists"),
        (replace('[pool arca2]', '[pool arca1]'),
         "Invalid cc: While reading from 'cc' [line 22]: section "
         "'pool arca1' already exists"),
        (GOOD + 'orphan line\n',
         "Invalid cc: Source contains parsing errors: 'cc' [line 30]: "
         "'orphan line\\n'"),
        # [fence NODE]
        (replace('[fence s1]\nagent = fence_arcalab\nhost = s1\n', ''),
         "Invalid cc section 'fence s1': is required: every node needs a "
         "fence device"),
        (replace('[fence s1]', '[fence s3]'),
         "Invalid cc section 'fence s3': names no node of [cluster] nodes "
         "(s1, s2)"),
        (replace('agent = fence_arcalab\n', ''),
         'Invalid cc [fence s1] agent: is required'),
        (replace('agent = fence_arcalab', 'agent = /bin/sh'),
         "Invalid cc [fence s1] agent '/bin/sh': must be fence_ followed by "
         "1-58 characters of a-z 0-9 _"),
        (replace('host = s1', 'pcmk_host_list = s1 s2'),
         "Invalid cc [fence s1] 'pcmk_host_list': is set by arca-node from "
         "the section name; remove it"),
        (replace('host = s1', 'host = s1\n  continued'),
         "Invalid cc [fence s1] host '***': must be 1-1024 printable "
         "characters on one line"),
        (replace('host = s1', 'host ='),
         "Invalid cc [fence s1] host '***': must be 1-1024 printable "
         "characters on one line"),
        # [pool NAME]
        (replace('[pool arca2]', '[pool arca+2]'),
         "Invalid cc section [pool arca+2] 'arca+2': must be 1-63 "
         "characters of A-Z a-z 0-9 _ . -"),
        (replace('[pool arca2]', '[pool all]'),
         "Invalid cc section [pool all] 'all': \"all\" means every "
         "resource to drbdadm"),
        (replace('disk = /dev/ubdb\n', ''),
         'Invalid cc [pool arca1] disk: is required'),
        (replace('minor = 1', 'minor ='),
         'Invalid cc [pool arca1] minor: is required'),
        (replace('minor = 1', 'minr = 1'),
         "Invalid cc [pool arca1] 'minr': unknown key (known: disk, "
         "management_address, management_nic, minor, port, preferred_node, "
         "thin_pool)"),
        (replace('disk = /dev/ubdb', 'disk = /etc/passwd'),
         "Invalid cc [pool arca1] disk '/etc/passwd': must lie under /dev"),
        (replace('disk = /dev/ubdb', 'disk = /dev/../etc/x'),
         "Invalid cc [pool arca1] disk '/dev/../etc/x': must be a "
         "normalised absolute path of A-Z a-z 0-9 _ . + = : @ / -"),
        (replace('minor = 1', 'minor = one'),
         "Invalid cc [pool arca1] minor 'one': must be an integer"),
        (replace('minor = 1', 'minor = 1048576'),
         "Invalid cc [pool arca1] minor 1048576: must be between 0 and "
         "1048575"),
        (replace('port = 7789', 'port = 0'),
         'Invalid cc [pool arca1] port 0: must be between 1 and 65535'),
        (replace('minor = 2', 'minor = 1'),
         'Invalid cc [pool arca2] minor 1: is also the minor of pool arca1'),
        (replace('port = 7790', 'port = 7789'),
         'Invalid cc [pool arca2] port 7789: is also the port of pool '
         'arca1'),
        (replace('10.97.0.102/24', '10.97.0.101/16'),
         "Invalid cc [pool arca2] management_address '10.97.0.101/16': is "
         "also the management_address of pool arca1"),
        (replace('10.97.0.102/24', '10.97.0.2/24'),
         "Invalid cc [pool arca2] management_address '10.97.0.2/24': is "
         "the address of node s2"),
        (replace('10.97.0.101/24', '10.97.0.101'),
         "Invalid cc [pool arca1] management_address '10.97.0.101': must "
         "be an IPv4 or IPv6 address with a prefix length"),
        (replace('10.97.0.101/24', '10.97.0.255/24'),
         "Invalid cc [pool arca1] management_address '10.97.0.255/24': is "
         "the network or broadcast address of its subnet"),
        (replace('management_nic = eth0', 'management_nic = eth0;reboot'),
         "Invalid cc [pool arca1] management_nic 'eth0;reboot': must be "
         "1-15 characters of A-Z a-z 0-9 _ . -"),
        (replace('preferred_node = s1', 'preferred_node = s3'),
         "Invalid cc [pool arca1] preferred_node 's3': must be one of the "
         "nodes (s1, s2)"),
        (replace('thin_pool = arca2/thin', 'thin_pool = arca1/thin'),
         "Invalid cc [pool arca2] thin_pool 'arca1/thin': must be "
         "arca2/THIN (the pool name is its VG)"),
        (replace('thin_pool = arca2/thin', 'thin_pool = arca2/x_tmeta'),
         "Invalid cc [pool arca2] thin_pool 'x_tmeta': contains a suffix "
         "reserved by LVM"),
        (replace('thin_pool = arca2/thin', 'thin_pool = arca2'),
         "Invalid cc [pool arca2] thin_pool 'arca2': must be arca2/THIN "
         "(the pool name is its VG)"),
        (GOOD.replace(POOL1, '').replace(
            GOOD[GOOD.index('[pool arca2]'):], ''),
         "Invalid cc section 'pool': at least one [pool NAME] is "
         "required"),
        # no interpolation: a % is a %, a ${x} is text
        (replace('host = s1', 'host = %(name)s\nx = ${cluster:name}') +
         '[pool arca3]\nbogus = 1\n',
         "Invalid cc [pool arca3] 'bogus': unknown key (known: disk, "
         "management_address, management_nic, minor, port, preferred_node, "
         "thin_pool)"),
    )
    def test_bad(self, text, message):
        err = self.assertRaises(exception.InvalidInput, cc.parse, text,
                                source='cc')
        self.assertEqual(message, str(err))

    def test_no_interpolation(self):
        cluster = cc.parse(replace('host = s1', 'host = %(name)s ${x}'))
        self.assertEqual((('host', '%(name)s ${x}'),),
                         cluster.fences[0].params)

    def test_fence_value_hidden_in_errors(self):
        err = self.assertRaises(exception.InvalidInput, cc.parse,
                                replace('se%cret;#$x', 'secret\x07'))
        self.assertNotIn('secret', str(err))
