"""Validation of every value that reaches a node command.

Each function returns the value in its canonical form or raises
:class:`arca_openstack.exception.InvalidInput`; callers validate all their
arguments first, so bad input never issues a command.
"""

import ipaddress
import os
import re
import uuid as uuid_mod

from arca_openstack import exception

_LV_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9+_.-]{0,126}$')
# Substrings LVM reserves for its own hidden sub-volumes.
_LV_RESERVED = ('_cdata', '_cmeta', '_corig', '_mlog', '_mimage',
                '_pmspare', '_rimage', '_rmeta', '_tdata', '_tmeta',
                '_vorigin', '_vdata')
_VG_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9+_.-]{0,126}$')
# SVM names double as namespace names and Ganesha D-Bus name prefixes,
# which must match [A-Za-z_][A-Za-z0-9_]* or Ganesha silently ignores them.
_SVM_NAME = re.compile(r'^[a-z][a-z0-9_]{0,39}$')
_IFNAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$')
_TAG = re.compile(r'^[A-Za-z0-9_+./=!:&#][A-Za-z0-9_+./=!:&#-]{0,127}$')
_HOSTNAME = re.compile(
    r'^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
    r'(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$')
_PATH = re.compile(r'^/[A-Za-z0-9_.+=:@/-]*$')
_RESOURCE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$')
_CLUSTER = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$')
_FENCE_AGENT = re.compile(r'^fence_[a-z0-9_]{1,58}$')
_PARAM = re.compile(r'^[a-z][a-z0-9_-]{0,62}$')

MAX_SIZE_GIB = 1024 * 1024  # 1 PiB: larger is a typo, not a volume


def _fail(what, value, reason):
    raise exception.InvalidInput(what=what, value=value, reason=reason)


def is_valid(check, value):
    """True if ``check`` (one of this module's validators) accepts it."""
    try:
        check(value)
    except exception.InvalidInput:
        return False
    return True


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def integer(value, what, minimum, maximum):
    """An int (or a string of decimal digits) within [minimum, maximum]."""
    if isinstance(value, str) and re.fullmatch(r'[0-9]{1,12}', value):
        value = int(value)
    if not _is_int(value):
        _fail(what, value, 'must be an integer')
    if not minimum <= value <= maximum:
        _fail(what, value, 'must be between %d and %d' % (minimum, maximum))
    return value


def size_gib(value, what='size'):
    """A size in whole GiB, at least 1."""
    return integer(value, what, 1, MAX_SIZE_GIB)


def vlan_id(value):
    return integer(value, 'VLAN id', 1, 4094)


def mtu(value, ipv6=False):
    return integer(value, 'MTU', 1280 if ipv6 else 68, 65535)


def port(value):
    return integer(value, 'port', 1, 65535)


def minor(value):
    """A DRBD device minor number."""
    return integer(value, 'DRBD minor', 0, 1048575)


def lv_name(value, what='logical volume name'):
    if not isinstance(value, str) or not _LV_NAME.fullmatch(value):
        _fail(what, value, 'must be 1-127 characters of A-Z a-z 0-9 + _ . - '
              'and not start with a symbol')
    if value in ('snapshot', 'pvmove') or value.startswith('pvmove'):
        _fail(what, value, 'is reserved by LVM')
    if any(part in value for part in _LV_RESERVED):
        _fail(what, value, 'contains a suffix reserved by LVM')
    return value


def vg_name(value):
    if not isinstance(value, str) or not _VG_NAME.fullmatch(value):
        _fail('volume group name', value,
              'must be 1-127 characters of A-Z a-z 0-9 + _ . -')
    return value


def svm_name(value):
    if not isinstance(value, str) or not _SVM_NAME.fullmatch(value):
        _fail('SVM name', value,
              'must start with a-z and hold 1-40 characters of a-z 0-9 _')
    return value


def interface_name(value):
    if (not isinstance(value, str) or not _IFNAME.fullmatch(value)
            or value in ('.', '..')):
        _fail('interface name', value,
              'must be 1-15 characters of A-Z a-z 0-9 _ . -')
    return value


def tag(value):
    if not isinstance(value, str) or not _TAG.fullmatch(value):
        _fail('LVM tag', value,
              'must be 1-128 characters of A-Z a-z 0-9 _ + . / = ! : & # - '
              'and not start with - (LVM refuses that)')
    return value


def uuid(value, what='id'):
    """An OpenStack id: a UUID, returned in its canonical dashed form."""
    try:
        if not isinstance(value, str):
            raise ValueError()
        return str(uuid_mod.UUID(value))
    except ValueError:
        _fail(what, value, 'must be a UUID')


def hostname(value):
    if not isinstance(value, str) or not _HOSTNAME.fullmatch(value):
        _fail('host name', value, 'must be a valid DNS host name')
    return value


def resource_name(value):
    """A DRBD resource name (never ``all``, drbdadm's "every resource")."""
    if not isinstance(value, str) or not _RESOURCE.fullmatch(value):
        _fail('DRBD resource name', value,
              'must be 1-63 characters of A-Z a-z 0-9 _ . -')
    if value == 'all':
        _fail('DRBD resource name', value,
              '"all" means every resource to drbdadm')
    return value


def cluster_name(value):
    """A Corosync/Pacemaker cluster name."""
    if not isinstance(value, str) or not _CLUSTER.fullmatch(value):
        _fail('cluster name', value,
              'must be 1-32 characters of A-Z a-z 0-9 _ . - and not start '
              'with a symbol')
    return value


def fence_agent(value):
    """The name of a fence agent (``fence_ipmilan``), run by Pacemaker."""
    if not isinstance(value, str) or not _FENCE_AGENT.fullmatch(value):
        _fail('fence agent', value,
              'must be fence_ followed by 1-58 characters of a-z 0-9 _')
    return value


def parameter_name(value, what='parameter name'):
    """A resource agent parameter name (also part of Pacemaker ids)."""
    if not isinstance(value, str) or not _PARAM.fullmatch(value):
        _fail(what, value,
              'must start with a-z and hold 1-63 characters of a-z 0-9 _ -')
    return value


def text(value, what, max_length=1024):
    """One line of printable text (a password, a login), not empty."""
    if (not isinstance(value, str) or not value or len(value) > max_length
            or not value.isprintable()):
        _fail(what, '***' if isinstance(value, str) else value,
              'must be 1-%d printable characters on one line' % max_length)
    return value


def ip_address(value, version=None):
    """One host address, IPv4 or IPv6, returned in compressed form."""
    try:
        if not isinstance(value, str) or '/' in value or '%' in value:
            raise ValueError()
        addr = ipaddress.ip_address(value)
    except ValueError:
        _fail('IP address', value, 'must be a single IPv4 or IPv6 address')
    _check_version(addr, value, version, 'IP address')
    _check_usable(addr, value, 'IP address')
    return str(addr)


def ip_interface(value, version=None):
    """An address with its prefix, such as ``10.0.0.5/24``."""
    try:
        if not isinstance(value, str) or '/' not in value or '%' in value:
            raise ValueError()
        iface = ipaddress.ip_interface(value)
    except ValueError:
        _fail('address/prefix', value,
              'must be an IPv4 or IPv6 address with a prefix length')
    _check_version(iface, value, version, 'address/prefix')
    _check_usable(iface.ip, value, 'address/prefix')
    if iface.version == 4 and iface.network.prefixlen < 31 and iface.ip in (
            iface.network.network_address, iface.network.broadcast_address):
        _fail('address/prefix', value,
              'is the network or broadcast address of its subnet')
    return str(iface)


def ip_network(value, version=None):
    """An address or CIDR that names a set of clients.

    Host bits must be clear (``10.0.0.0/24``, not ``10.0.0.1/24``) so an
    access rule means exactly what it reads as.
    """
    try:
        if not isinstance(value, str) or '%' in value:
            raise ValueError()
        net = ipaddress.ip_network(value, strict=True)
    except ValueError:
        _fail('client address or CIDR', value,
              'must be an IPv4/IPv6 address or a network with host bits '
              'clear')
    _check_version(net, value, version, 'client address or CIDR')
    if net.network_address.is_multicast:
        _fail('client address or CIDR', value, 'is a multicast range')
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return str(net)


def _check_version(obj, value, version, what):
    if version is not None and obj.version != version:
        _fail(what, value, 'must be IPv%d' % version)


def _check_usable(addr, value, what):
    if (addr.is_multicast or addr.is_unspecified
            or (addr.version == 4 and addr == ipaddress.IPv4Address(
                '255.255.255.255'))):
        _fail(what, value, 'is not a usable unicast address')


def abs_path(value, base=None, what='path'):
    """A normalised absolute path, optionally required to lie under base."""
    if (not isinstance(value, str) or not _PATH.fullmatch(value)
            or os.path.normpath(value) != value or '//' in value
            or value != '/' and value.endswith('/')):
        _fail(what, value, 'must be a normalised absolute path of '
              'A-Z a-z 0-9 _ . + = : @ / -')
    if any(part in ('.', '..') for part in value.split('/')):
        _fail(what, value, 'must not contain . or .. components')
    if base is not None and not value.startswith(base.rstrip('/') + '/'):
        _fail(what, value, 'must lie under %s' % base)
    return value


def choice(value, what, choices):
    if value not in choices:
        _fail(what, value, 'must be one of %s' % ', '.join(sorted(choices)))
    return value


def timeout(value):
    if not (isinstance(value, (int, float)) and not isinstance(value, bool)
            and 0 < value <= 86400):
        _fail('timeout', value, 'must be a number of seconds in (0, 86400]')
    return value
