import ipaddress
import socket
import struct
from unittest import mock

import ddt

from arca_openstack import exception
from arca_openstack.node import tickle
from tests.unit import base

RECOVERY = '/var/lib/arca/svm/svm_a/recovery'


@ddt.ddt
class TickleTestCase(base.TestCase):

    @ddt.unpack
    @ddt.data(('::ffff:10.100.0.21-(16:Linux NFSv4.2 c1)', '10.100.0.21'),
              ('fd00::21-(16:Linux NFSv4.2 c2)', 'fd00::21'),
              ('10.0.0.7-(9:a-(b)-c)', '10.0.0.7'),
              ('node0', None), ('', None), ('::1-(x)', None),
              ('0.0.0.0-(x)', None), ('224.0.0.1-(x)', None),
              ('10.0.0.300-(x)', None))
    def test_client_address(self, name, address):
        self.assertEqual(address, tickle.client_address(name))

    @ddt.data(('10.100.0.10', '10.100.0.21'), ('fd00::10', 'fd00::21'))
    @ddt.unpack
    def test_ack_segment(self, source, destination):
        segment = tickle.ack_segment(source, destination, 2049, 812)
        sport, dport, seq, ack, offset, flags = struct.unpack(
            '!HHIIBB', segment[:14])
        self.assertEqual((2049, 812, 0, 0, 5 << 4, 0x10),
                         (sport, dport, seq, ack, offset, flags))
        self.assertEqual(20, len(segment))
        # The receiver's check: the sum over pseudo-header and segment,
        # checksum included, is zero.
        src, dst = (ipaddress.ip_address(a).packed
                    for a in (source, destination))
        if len(src) == 4:
            pseudo = src + dst + struct.pack('!BBH', 0, 6, 20)
        else:
            pseudo = src + dst + struct.pack('!I3xB', 20, 6)
        self.assertEqual(0, tickle._checksum(pseudo + segment))

    def test_mixed_versions_refused(self):
        self.assertRaises(exception.InvalidInput, tickle.ack_segment,
                          '10.0.0.1', 'fd00::1', 2049, 700)

    def test_recorded_clients(self):
        self.executor.on('ls', '-1A', RECOVERY + '/v4recov',
                         stdout='node0\n')
        self.executor.on('ls', '-1A', RECOVERY + '/v4recov/node0',
                         stdout='::ffff:10.0.0.21-(16:Linux NFSv4.2 c1)\n'
                         'junk\n')
        self.executor.on('ls', '-1A', RECOVERY + '/v4old',
                         exit_code=2, stderr='ls: cannot access: No such '
                         'file or directory')
        self.assertEqual(['10.0.0.21'],
                         tickle.recorded_clients(self.executor, 'svm_a'))

    def test_recorded_clients_bad_svm(self):
        self.assertRaises(exception.InvalidInput, tickle.recorded_clients,
                          self.executor, '../x')
        self.assertCommands()

    def test_tickle_sends_every_port_of_every_client(self):
        sock = mock.MagicMock()
        sock.__enter__.return_value = sock
        with mock.patch.object(tickle, '_enter_netns') as enter, \
                mock.patch.object(socket, 'socket',
                                  return_value=sock) as make:
            sent = tickle.tickle('svm_a', ['10.0.0.10', 'fd00::10'],
                                 ['10.0.0.21', '10.0.0.22'],
                                 ports=range(700, 703))
        enter.assert_called_once_with('svm_a')
        self.assertEqual(6, sent)
        make.assert_called_once_with(socket.AF_INET, socket.SOCK_RAW,
                                     socket.IPPROTO_TCP)
        sock.bind.assert_called_once_with(('10.0.0.10', 0))
        self.assertEqual(
            [('10.0.0.21', 0)] * 3 + [('10.0.0.22', 0)] * 3,
            [c[0][1] for c in sock.sendto.call_args_list])

    def test_tickle_failure(self):
        with mock.patch.object(tickle, '_enter_netns',
                               side_effect=OSError(1, 'EPERM')):
            self.assertRaises(exception.ArcaError, tickle.tickle, 'svm_a',
                              ['10.0.0.10'], ['10.0.0.21'])
