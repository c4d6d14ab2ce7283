import ddt

from arca_openstack import exception
from arca_openstack.node import validate
from tests.unit import base


@ddt.ddt
class ValidateTestCase(base.TestCase):

    @ddt.data('vol-1', 'a', 'snap-0b1c.x+y_z', 'A' * 127)
    def test_lv_name_ok(self, name):
        self.assertEqual(name, validate.lv_name(name))

    @ddt.data('', '-vol', '.hidden', 'a b', 'a/b', '../x', 'x;rm', 'A' * 128,
              'snapshot', 'pvmove0', 'vol_tmeta', 'x_rimage_1', None, 5,
              'vol\n', 'vol\0', 'é')
    def test_lv_name_bad(self, name):
        self.assertRaises(exception.InvalidInput, validate.lv_name, name)

    @ddt.data('svm_a', 'p0123456789abcdef0123456789abcdef', 'a')
    def test_svm_name_ok(self, name):
        self.assertEqual(name, validate.svm_name(name))

    @ddt.data('', 'A', '1svm', 'svm-a', 'svm.a', 'a' * 41, '_a', 'svm a',
              None, '../a')
    def test_svm_name_bad(self, name):
        self.assertRaises(exception.InvalidInput, validate.svm_name, name)

    @ddt.data((1, 1), (4094, 4094), ('100', 100))
    @ddt.unpack
    def test_vlan_ok(self, value, expected):
        self.assertEqual(expected, validate.vlan_id(value))

    @ddt.data(0, 4095, -1, True, 1.5, '1e3', '', ' 5', '0x10', None, [5])
    def test_vlan_bad(self, value):
        self.assertRaises(exception.InvalidInput, validate.vlan_id, value)

    def test_mtu(self):
        self.assertEqual(9000, validate.mtu(9000))
        self.assertEqual(576, validate.mtu(576))
        self.assertRaises(exception.InvalidInput, validate.mtu, 576,
                          ipv6=True)
        self.assertRaises(exception.InvalidInput, validate.mtu, 67)
        self.assertRaises(exception.InvalidInput, validate.mtu, 65536)

    @ddt.data(1, '20', validate.MAX_SIZE_GIB)
    def test_size_ok(self, value):
        self.assertEqual(int(value), validate.size_gib(value))

    @ddt.data(0, -1, 1.5, '1G', '', None, True, validate.MAX_SIZE_GIB + 1)
    def test_size_bad(self, value):
        self.assertRaises(exception.InvalidInput, validate.size_gib, value)

    @ddt.data(('10.0.0.5', '10.0.0.5'), ('fd00::0005', 'fd00::5'),
              ('2001:db8::1', '2001:db8::1'))
    @ddt.unpack
    def test_ip_address_ok(self, value, expected):
        self.assertEqual(expected, validate.ip_address(value))

    @ddt.data('10.0.0.256', '10.0.0.5/24', '0.0.0.0', '::', '224.0.0.1',
              '255.255.255.255', 'fe80::1%eth0', 'host.example', '', None,
              '10.0.0.5 ', '1.2.3')
    def test_ip_address_bad(self, value):
        self.assertRaises(exception.InvalidInput, validate.ip_address, value)

    def test_ip_address_version(self):
        self.assertRaises(exception.InvalidInput, validate.ip_address,
                          'fd00::1', version=4)
        self.assertEqual('fd00::1', validate.ip_address('fd00::1', 6))

    @ddt.data(('10.0.0.5/24', '10.0.0.5/24'), ('fd00::5/64', 'fd00::5/64'),
              ('10.0.0.1/31', '10.0.0.1/31'))
    @ddt.unpack
    def test_ip_interface_ok(self, value, expected):
        self.assertEqual(expected, validate.ip_interface(value))

    @ddt.data('10.0.0.5', '10.0.0.0/24', '10.0.0.255/24', '10.0.0.5/33',
              '0.0.0.0/0', 'fd00::5/129', 'x/24', None)
    def test_ip_interface_bad(self, value):
        self.assertRaises(exception.InvalidInput, validate.ip_interface,
                          value)

    @ddt.data(('10.0.0.0/24', '10.0.0.0/24'), ('10.0.0.7', '10.0.0.7'),
              ('10.0.0.7/32', '10.0.0.7'), ('fd00::/64', 'fd00::/64'),
              ('0.0.0.0/0', '0.0.0.0/0'))
    @ddt.unpack
    def test_ip_network_ok(self, value, expected):
        self.assertEqual(expected, validate.ip_network(value))

    @ddt.data('10.0.0.1/24', '224.0.0.0/4', 'everyone', '*', '10.0.0.0/33',
              '', None, '10.0.0.0/24,10.1.0.0/24')
    def test_ip_network_bad(self, value):
        self.assertRaises(exception.InvalidInput, validate.ip_network, value)

    @ddt.data('/var/lib/arca/mnt/vol-1', '/', '/dev/arca/vol-1')
    def test_abs_path_ok(self, value):
        self.assertEqual(value, validate.abs_path(value))

    @ddt.data('relative', '/var/../etc', '/var/lib/', '/var//lib', '/a/./b',
              '/a b', '/a;b', '/a\nb', '', None, '/a/$(x)', '/a/*')
    def test_abs_path_bad(self, value):
        self.assertRaises(exception.InvalidInput, validate.abs_path, value)

    def test_abs_path_base(self):
        self.assertEqual('/var/lib/arca/x',
                         validate.abs_path('/var/lib/arca/x',
                                           base='/var/lib/arca'))
        for bad in ('/var/lib/arca', '/var/lib/arcade/x', '/etc/x'):
            self.assertRaises(exception.InvalidInput, validate.abs_path, bad,
                              base='/var/lib/arca')

    def test_uuid(self):
        self.assertEqual('0b1c2d3e-0000-4000-8000-000000000001',
                         validate.uuid('0B1C2D3E-0000-4000-8000-000000000001'))
        for bad in ('x', '', None, '0b1c2d3e-0000-4000-8000-00000000000'):
            self.assertRaises(exception.InvalidInput, validate.uuid, bad)

    @ddt.data('node-1', 'node1.example.org', 'a')
    def test_hostname_ok(self, value):
        self.assertEqual(value, validate.hostname(value))

    @ddt.data('-node', 'node_1', 'a..b', 'a' * 64, '', 'no de', None)
    def test_hostname_bad(self, value):
        self.assertRaises(exception.InvalidInput, validate.hostname, value)

    @ddt.data('eth0', 'eth0.100', 'arca-0123456789')
    def test_interface_ok(self, value):
        self.assertEqual(value, validate.interface_name(value))

    @ddt.data('', 'a' * 16, 'eth 0', 'eth0/1', '..', '-x', 'eth0:1', None)
    def test_interface_bad(self, value):
        self.assertRaises(exception.InvalidInput, validate.interface_name,
                          value)

    @ddt.data('arca.kind=volume', 'arca.svm=p01')
    def test_tag_ok(self, value):
        self.assertEqual(value, validate.tag(value))

    @ddt.data('', 'a b', 'a,b', 'x' * 129, 'a;b', None)
    def test_tag_bad(self, value):
        self.assertRaises(exception.InvalidInput, validate.tag, value)

    def test_choice_and_timeout(self):
        self.assertEqual('rw', validate.choice('rw', 'access', {'rw', 'ro'}))
        self.assertRaises(exception.InvalidInput, validate.choice, 'RW',
                          'access', {'rw', 'ro'})
        self.assertEqual(5, validate.timeout(5))
        for bad in (0, -1, True, 'x', 86401):
            self.assertRaises(exception.InvalidInput, validate.timeout, bad)

    def test_error_message_names_the_value(self):
        err = self.assertRaises(exception.InvalidInput, validate.vlan_id,
                                5000)
        self.assertIn('VLAN id', str(err))
        self.assertIn('5000', str(err))
        self.assertIn('1 and 4094', str(err))


class MoreValidateTestCase(base.TestCase):

    def test_tag_leading_hyphen(self):
        self.assertRaises(exception.InvalidInput, validate.tag, '-x')
        self.assertEqual('x-', validate.tag('x-'))

    def test_resource_all(self):
        self.assertRaises(exception.InvalidInput, validate.resource_name,
                          'all')
        self.assertEqual('all0', validate.resource_name('all0'))
