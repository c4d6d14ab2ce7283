"""TCP tickle ACKs: the clients of a taken-over SVM reconnect at once.

After a takeover an SVM's address answers again from the partner, but its
NFS clients do not know: their TCP connections to the dead node are
retransmitting with exponential back-off, and the next retransmission
(25 s, then 51 s after the failure, on Linux) is what finally meets the
new node, whose kernel answers it with a reset. In the lab that back-off
was 20 of the 55 s from a node's death to the first write acknowledged
again.

A tickle ACK shortens it: a bare ACK from the SVM's address and NFS port
to the client's port, with sequence numbers the client's connection does
not expect. The client's TCP answers with an ACK carrying its real
numbers (RFC 5961's challenge ACK); that ACK reaches the new node, which
has no such connection and resets it; the client's NFS reconnects at once
and reclaims its state within the grace period. A port the client does
not use only draws a reset back, which the new node ignores.

The clients are those in the SVM's NFSv4 recovery records (which moved
with the pool): each record's name starts with the client's address.
Linux NFS clients connect from a reserved port (sunrpc's
``min_resvport``-``max_resvport``, 665-1023 by default), so every one of
those ports is tickled; a client mounted with ``noresvport`` is not, and
waits for its own retransmission.
"""

import ctypes
import ipaddress
import socket
import struct
import threading

from arca_openstack import exception
from arca_openstack.node import files
from arca_openstack.node import ganesha_config
from arca_openstack.node import validate

NFS_PORT = 2049
CLIENT_PORTS = range(665, 1024)
_CLONE_NEWNET = 0x40000000
_TCP_ACK = 0x10
_IPV6_CHECKSUM = 7          # <netinet/in.h>, not exported by socket
_TCP_CHECKSUM_OFFSET = 16


def client_address(record_name):
    """The client address a Ganesha recovery record is named after.

    The fs backend names a client's record ``ADDRESS-(LEN:ID)``, the
    address as Ganesha saw it (IPv4 clients as ``::ffff:a.b.c.d``).
    Returns None for a name that does not start with an address.
    """
    address = record_name.partition('-(')[0]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_loopback or ip.is_multicast:
        return None
    return str(ip)


def recorded_clients(executor, svm):
    """Addresses of the clients in an SVM's NFSv4 recovery records.

    Both the records of the running server (``v4recov``) and those of the
    one before it (``v4old``, what clients reclaim from), each in a
    folder per Ganesha node id.
    """
    base = ganesha_config.recovery_dir(validate.svm_name(svm))
    clients = set()
    for generation in ('v4recov', 'v4old'):
        top = '%s/%s' % (base, generation)
        for node_id in files.list_dir(executor, top):
            try:
                names = files.list_dir(executor, '%s/%s' % (top, node_id))
            except exception.ArcaError:
                continue
            clients.update(a for a in map(client_address, names) if a)
    return sorted(clients)


def _checksum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def ack_segment(source, destination, source_port, destination_port):
    """A bare TCP ACK (seq 0, ack 0), its checksum over the pseudo-header."""
    header = struct.pack('!HHIIBBHHH', source_port, destination_port, 0, 0,
                         5 << 4, _TCP_ACK, 1024, 0, 0)
    src = ipaddress.ip_address(source)
    dst = ipaddress.ip_address(destination)
    if src.version != dst.version:
        raise exception.InvalidInput(
            what='tickle', value=(source, destination),
            reason='addresses of different IP versions')
    if src.version == 4:
        pseudo = src.packed + dst.packed + struct.pack(
            '!BBH', 0, socket.IPPROTO_TCP, len(header))
    else:
        pseudo = src.packed + dst.packed + struct.pack(
            '!IxxxB', len(header), socket.IPPROTO_TCP)
    checksum = _checksum(pseudo + header)
    return header[:_TCP_CHECKSUM_OFFSET] + struct.pack(
        '!H', checksum) + header[_TCP_CHECKSUM_OFFSET + 2:]


def _enter_netns(name):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = open('/run/netns/' + validate.svm_name(name), 'rb')
    try:
        if libc.setns(fd.fileno(), _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, 'setns')
    finally:
        fd.close()


def _send_all(sources, clients, ports):
    sent = 0
    for source in sources:
        version = ipaddress.ip_address(source).version
        family = socket.AF_INET if version == 4 else socket.AF_INET6
        targets = [c for c in clients
                   if ipaddress.ip_address(c).version == version]
        if not targets:
            continue
        with socket.socket(family, socket.SOCK_RAW,
                           socket.IPPROTO_TCP) as sock:
            sock.bind((source, 0))
            for client in targets:
                for port in ports:
                    segment = ack_segment(source, client, NFS_PORT, port)
                    sock.sendto(segment, (client, 0))
                    sent += 1
    return sent


def tickle(netns, sources, clients, ports=CLIENT_PORTS):
    """Send tickle ACKs from each SVM address to each client's ports.

    Runs in a thread of its own that enters the SVM's network namespace
    (setns applies to one thread only). Returns how many were sent.
    """
    sources = [str(ipaddress.ip_address(s)) for s in sources]
    clients = sorted({str(ipaddress.ip_address(c)) for c in clients})
    box = {}

    def run():
        try:
            _enter_netns(netns)
            box['sent'] = _send_all(sources, clients, ports)
        except OSError as err:
            box['error'] = err

    thread = threading.Thread(target=run, name='tickle-%s' % netns,
                              daemon=True)
    thread.start()
    thread.join(30)
    if 'error' in box:
        raise exception.ArcaError('tickle ACKs of SVM %s failed: %s'
                                  % (netns, box['error']))
    return box.get('sent', 0)
