"""SVM networking: one network namespace and one interface per SVM.

An SVM's network is a namespace named exactly like the SVM, holding one
interface (a macvlan of a parent NIC or of a VLAN interface, or one end of
a veth pair whose other end joins a Linux bridge), its addresses and
default gateways. Everything inside a namespace is done with ``ip -n NS``
(never ``ip netns exec``, which would need a rootwrap filter allowing any
command inside any namespace).

Interface names (:func:`interface_names`) are ``asv`` (the interface the
SVM uses) or ``ash`` (the host end of a veth pair) followed by the first
12 hex digits of the SHA-256 of the SVM name: 15 characters, the kernel's
limit (IFNAMSIZ - 1). The SVM interface keeps its name in every namespace,
so a device left in the root namespace by an interrupted plug is known to
be this SVM's and is finished rather than duplicated, and the rootwrap
filters can pin every root-namespace change to these two prefixes.

VLANs: Linux allows one VLAN interface per VLAN id on a parent, so the
VLAN interface lives once in the root namespace (``avl`` and 12 hex digits
of the SHA-256 of ``PARENT.VLAN``, or a VLAN interface the operator made
there), shared by every SVM on that VLAN, and each SVM gets its own
macvlan on it. Macvlans are made in ``private`` mode: an SVM receives the
frames addressed to its own MAC (and the VLAN's broadcasts), never frames
of a sibling SVM on the same parent, and cannot send to one either. The
VLAN interface stays when its last SVM goes: deleting it would race with a
new SVM on the same VLAN, and an idle VLAN interface costs nothing.
Earlier releases put the VLAN interface itself into the namespace; such an
SVM is moved onto the shared interface the next time it is plugged (see
:class:`VlanInUse`).

New interfaces are created directly inside the namespace (``ip link add
... netns SVM``), so a crash cannot leave them half-made; an SVM interface
found in the root namespace (made by hand, or by an older two-step plug)
is still moved in.
"""

import collections
import contextlib
import hashlib
import ipaddress
import json

from arca_openstack import exception
from arca_openstack.node import locks
from arca_openstack.node import validate

MODES = ('vlan', 'macvlan', 'veth')
INNER_PREFIX = 'asv'
HOST_PREFIX = 'ash'
VLAN_PREFIX = 'avl'
MACVLAN_MODE = 'private'
_HASH_LEN = 12

InterfaceNames = collections.namedtuple('InterfaceNames', ['inner', 'host'])

Link = collections.namedtuple(
    'Link', ['name', 'ifindex', 'kind', 'vlan', 'mtu', 'state', 'up',
             'master', 'link_index', 'link'], defaults=(None,))
Link.__doc__ = """One interface as ``ip -j -d link show`` reports it.

``kind`` is the linkinfo kind ('vlan', 'macvlan', 'veth', 'bridge', or
None for a plain NIC), ``vlan`` the 802.1Q id of a VLAN, ``state`` the
operstate ('UP', 'DOWN', 'LOWERLAYERDOWN', ...), ``up`` whether it is
administratively up, ``master`` the bridge it is enslaved to, and
``link_index`` the ifindex of its parent (or veth peer) when that lives
in another namespace, ``link`` its name when it lives in the same one
(iproute2 prints one or the other).
"""


def _is_on(link, lower):
    """Whether ``link``'s parent is ``lower`` (of the root namespace)."""
    if link.link is not None:
        return link.link == lower.name
    return lower.ifindex is not None and link.link_index == lower.ifindex


_NO_DEVICE = ('does not exist', 'Cannot find device')
_NO_NETNS = 'Cannot open network namespace'
_VLAN_TAKEN = 'VLAN device already exists'
_MAC_TAKEN = 'Address already in use'


class AddressInUse(exception.Conflict):
    """Another interface on the SVM's lower interface has its MAC.

    The MAC is derived from the SVM's first address (:func:`mac_address`),
    so that is, in practice, another SVM serving the same address.
    """

    def __init__(self, svm, mac, lower):
        super().__init__(
            what='interface', name='of SVM %s' % svm,
            reason='cannot come up: its MAC %s (derived from its first '
                   'address) is in use on %s by another interface, most '
                   'likely another SVM serving that address' % (mac, lower))
        self.svm = svm
        self.mac = mac
        self.lower = lower


class VlanInUse(exception.Conflict):
    """A VLAN id on a parent is held by an interface in another namespace.

    That is an SVM made by an earlier release, whose namespace holds the
    VLAN interface itself: plugging that SVM again frees the VLAN id.
    """

    def __init__(self, parent, vlan):
        super().__init__(
            what='VLAN', name='%s on %s' % (vlan, parent),
            reason='is held by an interface in another network namespace '
                   '(an SVM made by an earlier release holds its own VLAN '
                   'interface: ensure that SVM to move it onto the shared '
                   'VLAN interface)')
        self.parent = parent
        self.vlan = vlan


def _fail(what, value, reason):
    raise exception.InvalidInput(what=what, value=value, reason=reason)


def _svm(name):
    return validate.svm_name(name)


def _ifname(name, what='interface name'):
    try:
        return validate.interface_name(name)
    except exception.InvalidInput:
        if what == 'interface name':
            raise
        _fail(what, name, 'must be 1-15 characters of A-Z a-z 0-9 _ . -')


def _own_ifname(svm, ifname):
    """The SVM's own interface name; None means that interface.

    Changes are only made to it: the rootwrap filters allow no other.
    """
    inner = interface_names(svm).inner
    if ifname is None:
        return inner
    if _ifname(ifname) != inner:
        _fail('interface name', ifname,
              'is not the interface of SVM %s (%s)' % (svm, inner))
    return ifname


def _cidrs(cidrs):
    """Validate a list of 'address/prefix' entries; return ip_interfaces."""
    if isinstance(cidrs, (str, bytes)) or not isinstance(
            cidrs, (list, tuple, set, frozenset)):
        _fail('address list', cidrs, 'must be a list of address/prefix')
    result = []
    seen = {}
    for cidr in cidrs:
        iface = ipaddress.ip_interface(validate.ip_interface(cidr))
        if iface.ip in seen:
            if seen[iface.ip] != iface:
                _fail('address/prefix', cidr,
                      'lists the same address twice with different '
                      'prefixes')
            continue
        seen[iface.ip] = iface
        result.append(iface)
    return result


def _gateway(gateway):
    return ipaddress.ip_address(validate.ip_address(gateway))


def _check_gateway(gateway, ifaces):
    """Check the gateway is reachable on the link.

    It must lie in one of the interface subnets of its own version, or be
    an IPv6 link-local router address.
    """
    same = [i for i in ifaces if i.version == gateway.version]
    if not same:
        _fail('gateway', str(gateway),
              'the interface has no IPv%d address' % gateway.version)
    if any(gateway == i.ip for i in same):
        _fail('gateway', str(gateway), 'is an address of the SVM itself')
    if gateway.version == 6 and gateway.is_link_local:
        return
    if not any(gateway in i.network for i in same):
        _fail('gateway', str(gateway),
              'is outside every subnet of the interface (%s)'
              % ', '.join(str(i) for i in same))


def _version(version):
    if version not in (4, 6) or isinstance(version, bool):
        _fail('IP version', version, 'must be 4 or 6')
    return version


def interface_names(svm):
    """Deterministic interface names of one SVM (see the module doc)."""
    digest = hashlib.sha256(_svm(svm).encode('ascii')).hexdigest()
    digest = digest[:_HASH_LEN]
    return InterfaceNames(inner=INNER_PREFIX + digest,
                          host=HOST_PREFIX + digest)


def vlan_interface_name(parent, vlan):
    """Name of the shared VLAN interface of ``vlan`` on ``parent``."""
    key = '%s.%d' % (_ifname(parent, 'parent interface'),
                     validate.vlan_id(vlan))
    return VLAN_PREFIX + hashlib.sha256(
        key.encode('ascii')).hexdigest()[:_HASH_LEN]


def mac_address(address):
    """The MAC of a new SVM interface whose first address is ``address``.

    Locally administered, and derived from the address alone: an address
    handed to a new SVM, or an SVM rebuilt (on this node or, after a
    takeover, on its partner), keeps its MAC, so clients' ARP and
    neighbour entries stay right and they reach it at once.
    """
    digest = hashlib.sha256(ipaddress.ip_address(address).packed).digest()
    return ':'.join('%02x' % b for b in b'\x02' + digest[:5])


def _mac_args(mac):
    return ('address', mac) if mac else ()


@contextlib.contextmanager
def _unique_mac(svm, mac, lower):
    """AddressInUse for a macvlan refused a MAC that a sibling has.

    The kernel checks as the macvlan is made or brought up (depending on
    its version); the MAC comes from the SVM's first address.
    """
    try:
        yield
    except exception.CommandFailed as err:
        if _MAC_TAKEN not in err.stderr:
            raise
        raise AddressInUse(svm, mac, lower) from err


def _parse_json(stdout, what):
    if not stdout.strip():
        return []
    try:
        data = json.loads(stdout)
    except ValueError as err:
        raise exception.ParseError(what=what, reason=err)
    if not isinstance(data, list) or not all(isinstance(d, dict)
                                             for d in data):
        raise exception.ParseError(what=what,
                                   reason='expected a list of objects')
    return data


def parse_netns_list(stdout):
    """Names from ``ip -j netns list`` (empty output: no namespaces)."""
    data = _parse_json(stdout, 'ip netns list')
    try:
        return sorted(d['name'] for d in data)
    except KeyError:
        raise exception.ParseError(what='ip netns list',
                                   reason='an entry has no name')


def parse_link(stdout):
    """One :class:`Link` from ``ip -j -d link show dev IF``."""
    data = _parse_json(stdout, 'ip link show')
    if len(data) != 1:
        raise exception.ParseError(what='ip link show',
                                   reason='expected one interface, got %d'
                                   % len(data))
    return _link_from(data[0])


def parse_links(stdout):
    """Every :class:`Link` from ``ip -j -d link show``."""
    return [_link_from(d) for d in _parse_json(stdout, 'ip link show')]


def _link_from(d):
    info = d.get('linkinfo') or {}
    kind = info.get('info_kind')
    vlan = None
    if kind == 'vlan':
        vlan = (info.get('info_data') or {}).get('id')
    try:
        return Link(name=d['ifname'], ifindex=d['ifindex'], kind=kind,
                    vlan=vlan, mtu=d['mtu'], state=d.get('operstate'),
                    up='UP' in (d.get('flags') or ()),
                    master=d.get('master'), link_index=d.get('link_index'),
                    link=d.get('link'))
    except KeyError as err:
        raise exception.ParseError(what='ip link show',
                                   reason='missing %s' % err)


def parse_addresses(stdout):
    """(ip_interface, scope, dadfailed) triples from ``ip -j addr show``."""
    result = []
    for dev in _parse_json(stdout, 'ip addr show'):
        for a in dev.get('addr_info') or ():
            if a.get('family') not in ('inet', 'inet6'):
                continue
            try:
                iface = ipaddress.ip_interface(
                    '%s/%s' % (a['local'], a['prefixlen']))
            except (KeyError, ValueError) as err:
                raise exception.ParseError(what='ip addr show', reason=err)
            result.append((iface, a.get('scope'), bool(a.get('dadfailed'))))
    return result


class Netns(object):
    """Namespaces and interfaces of SVMs on one node.

    :param use_locks: take ``locks.svm(name)`` around every change. Those
        locks are not re-entrant: a caller that already holds an SVM's
        lock must use an instance made with ``use_locks=False``.
    """

    def __init__(self, executor, use_locks=True):
        self.executor = executor
        self.use_locks = use_locks

    # Helpers ------------------------------------------------------------

    def _lock(self, svm):
        if self.use_locks:
            return locks.svm(svm)
        return contextlib.nullcontext()

    def _ip(self, ns, *args, **kwargs):
        prefix = ('ip', '-n', ns) if ns else ('ip',)
        return self.executor.execute(*(prefix + args), **kwargs)

    def _fail_cmd(self, cmd, result):
        raise exception.CommandFailed(cmd, result.exit_code, result.stdout,
                                      result.stderr)

    def _namespaces(self):
        return parse_netns_list(self._ip(None, '-j', 'netns', 'list').stdout)

    def _link(self, ns, ifname):
        """The interface, None if absent; NotFound if ``ns`` is absent."""
        args = ('-j', '-d', 'link', 'show', 'dev', ifname)
        result = self._ip(ns, *args, check_exit_code=False)
        if result.exit_code == 0:
            return parse_link(result.stdout)
        if ns and _NO_NETNS in result.stderr:
            raise exception.NotFound(what='SVM namespace', name=ns)
        if any(m in result.stderr for m in _NO_DEVICE):
            return None
        cmd = (('ip', '-n', ns) if ns else ('ip',)) + args
        self._fail_cmd(cmd, result)

    def _addr_info(self, svm, ifname):
        args = ('-j', 'addr', 'show', 'dev', ifname)
        result = self._ip(svm, *args, check_exit_code=False)
        if result.exit_code == 0:
            return parse_addresses(result.stdout)
        if _NO_NETNS in result.stderr:
            raise exception.NotFound(what='SVM namespace', name=svm)
        if any(m in result.stderr for m in _NO_DEVICE):
            raise exception.NotFound(what='interface',
                                     name='%s in %s' % (ifname, svm))
        self._fail_cmd(('ip', '-n', svm) + args, result)

    def _require_ns(self, svm):
        if svm not in self._namespaces():
            raise exception.NotFound(what='SVM namespace', name=svm)

    # Namespaces ---------------------------------------------------------

    def list(self):
        """Names of every namespace on the node, sorted."""
        return self._namespaces()

    def exists(self, name):
        return _svm(name) in self._namespaces()

    def create(self, name):
        """Create the namespace (if needed) and bring its ``lo`` up."""
        _svm(name)
        with self._lock(name):
            self._create(name)

    def _create(self, name):
        if name not in self._namespaces():
            result = self._ip(None, 'netns', 'add', name,
                              check_exit_code=False)
            # "File exists": created meanwhile by someone else.
            if result.exit_code != 0 and 'File exists' not in result.stderr:
                self._fail_cmd(('ip', 'netns', 'add', name), result)
        self._ip(name, 'link', 'set', 'dev', 'lo', 'up')

    def delete(self, name):
        """Remove the SVM's interfaces, then its namespace.

        Interfaces are deleted explicitly first: ``ip netns delete`` only
        unmounts the namespace, which lives on (addresses and all) while
        any process still runs in it. Stop Ganesha before calling this.
        """
        _svm(name)
        with self._lock(name):
            present = self._unplug(name)
            if present:
                result = self._ip(None, 'netns', 'delete', name,
                                  check_exit_code=False)
                if (result.exit_code != 0
                        and 'No such file' not in result.stderr):
                    self._fail_cmd(('ip', 'netns', 'delete', name), result)

    # Interfaces ---------------------------------------------------------

    def link(self, svm, ifname):
        """:class:`Link` of an interface in the SVM's namespace, or None."""
        return self._link(_svm(svm), _ifname(ifname))

    def root_link(self, ifname):
        """:class:`Link` of an interface of the node itself, or None."""
        return self._link(None, _ifname(ifname))

    def root_links(self):
        """{name: :class:`Link`} of every interface of the node itself."""
        return {link.name: link for link in parse_links(
            self._ip(None, '-j', '-d', 'link', 'show').stdout)}

    @staticmethod
    def _plug_args(mode, parent, vlan, bridge, mtu):
        validate.choice(mode, 'interface mode', MODES)
        if mode in ('vlan', 'macvlan'):
            if parent is None:
                _fail('parent interface', parent,
                      'is required in %s mode' % mode)
            parent = _ifname(parent, 'parent interface')
            if bridge is not None:
                _fail('bridge', bridge, 'is only used in veth mode')
        else:
            if bridge is None:
                _fail('bridge', bridge, 'is required in veth mode')
            bridge = _ifname(bridge, 'bridge')
            if parent is not None:
                _fail('parent interface', parent,
                      'is not used in veth mode')
        if mode == 'vlan':
            if vlan is None:
                _fail('VLAN id', vlan, 'is required in vlan mode')
            vlan = validate.vlan_id(vlan)
        elif vlan is not None:
            _fail('VLAN id', vlan, 'is only used in vlan mode')
        if mtu is not None:
            mtu = validate.mtu(mtu)
        return parent, vlan, bridge, mtu

    def plug(self, svm, mode, parent=None, vlan=None, bridge=None,
             mtu=None):
        """Give the SVM its interface; return its name in the namespace.

        :param mode: 'vlan' (a macvlan on the shared VLAN interface of
            ``vlan`` on NIC ``parent``), 'macvlan' (a macvlan on
            ``parent``) or 'veth' (the host end
            joins the Linux bridge ``bridge``).
        :param mtu: set on the interface (and on a veth host end); None
            leaves the kernel's value.

        The namespace must exist. An interface already there with the same
        kind, parent and VLAN is kept (only brought up, MTU fixed); one of
        another kind, parent or VLAN raises Conflict: unplug first. An
        SVM's own VLAN interface made by an earlier release is replaced by
        a macvlan on the shared one (addresses must then be set again, as
        :meth:`setup` does).
        """
        _svm(svm)
        parent, vlan, bridge, mtu = self._plug_args(mode, parent, vlan,
                                                    bridge, mtu)
        with self._lock(svm):
            return self._plug(svm, mode, parent, vlan, bridge, mtu)

    def _check_lower(self, svm, link, mode, lower):
        """Conflict unless ``link`` is what plug would have made."""
        name = '%s of SVM %s' % (link.name, svm)
        kind = 'veth' if mode == 'veth' else 'macvlan'
        if link.kind != kind:
            raise exception.Conflict(
                what='interface', name=name,
                reason='is a %s interface, not %s' % (link.kind, kind))
        if kind == 'macvlan' and not _is_on(link, lower):
            raise exception.Conflict(
                what='interface', name=name,
                reason='is not on interface %s' % lower.name)

    def _drop_legacy_vlan(self, ns, link, parent, vlan):
        """Delete an SVM's own VLAN interface made by an earlier release.

        It holds the VLAN id on the parent, which every SVM on the VLAN
        must share. Returns whether it was deleted; one on another parent
        or VLAN is left for :meth:`_check_lower` to refuse.
        """
        if (link is None or link.kind != 'vlan' or link.vlan != vlan
                or not _is_on(link, parent)):
            return False
        self._ip(ns, 'link', 'del', 'dev', link.name)
        return True

    def _find_vlan(self, parent, vlan):
        """A VLAN interface of ``vlan`` on ``parent`` in the root namespace.

        For a VLAN interface the operator made under another name.
        """
        links = parse_links(self._ip(None, '-j', '-d', 'link',
                                     'show').stdout)
        return next((link for link in links
                     if link.kind == 'vlan' and link.vlan == vlan
                     and _is_on(link, parent)), None)

    def _vlan_lower(self, parent, vlan, mtu):
        """The VLAN interface the SVM's macvlan goes on; made if needed.

        Returns its :class:`Link`; one just made has ``ifindex`` None (no
        existing macvlan can be on it).
        """
        name = vlan_interface_name(parent.name, vlan)
        link = self._link(None, name)
        if link is None:
            args = ('link', 'add', 'link', parent.name, 'name', name, 'type',
                    'vlan', 'id', str(vlan))
            result = self._ip(None, *args, check_exit_code=False)
            if result.exit_code == 0:
                link = Link(name, None, 'vlan', vlan, None, None, False,
                            None, None, parent.name)
            elif 'File exists' in result.stderr:
                # Made meanwhile by a plug of another SVM.
                link = self._link(None, name)
            elif _VLAN_TAKEN in result.stderr:
                link = self._find_vlan(parent, vlan)
                if link is None:
                    raise VlanInUse(parent.name, vlan)
            else:
                self._fail_cmd(('ip',) + args, result)
            if link is None:
                raise exception.NotFound(what='VLAN interface', name=name)
        if (link.kind != 'vlan' or link.vlan != vlan
                or not _is_on(link, parent)):
            raise exception.Conflict(
                what='interface', name=link.name,
                reason='is not VLAN %s of %s' % (vlan, parent.name))
        if link.name != name:
            # The operator's: used as it is.
            if not link.up or (mtu is not None and link.mtu < mtu):
                raise exception.Conflict(
                    what='VLAN interface', name=link.name,
                    reason='must be up with an MTU of at least %s'
                           % (mtu or "the SVM's"))
            return link
        # Raised, never lowered: other SVMs' macvlans may need more.
        raise_mtu = mtu if mtu is not None and (link.mtu or 0) < mtu else None
        if not link.up or raise_mtu is not None:
            self._ensure_up(None, None, name, raise_mtu, True)
        return link

    def _plug(self, svm, mode, parent, vlan, bridge, mtu, mac=None):
        self._require_ns(svm)
        names = interface_names(svm)
        lower_name = bridge if mode == 'veth' else parent
        lower = self._link(None, lower_name)
        if lower is None:
            raise exception.NotFound(
                what='bridge' if mode == 'veth' else 'parent interface',
                name=lower_name)
        if mode == 'veth' and lower.kind != 'bridge':
            raise exception.Conflict(what='bridge', name=bridge,
                                     reason='is not a Linux bridge')

        inner = self._link(svm, names.inner)
        stray = None if inner is not None else self._link(None,
                                                          names.inner)
        if mode == 'vlan':
            if self._drop_legacy_vlan(svm, inner, lower, vlan):
                inner = None
            if self._drop_legacy_vlan(None, stray, lower, vlan):
                stray = None
            lower = self._vlan_lower(lower, vlan, mtu)
        host = None
        created = False
        if inner is not None:
            self._check_lower(svm, inner, mode, lower)
        elif stray is not None:
            # Made in the root namespace but never moved in.
            self._check_lower(svm, stray, mode, lower)
            self._ip(None, 'link', 'set', 'dev', names.inner, 'netns', svm)
            created = True
        elif mode == 'veth':
            host = self._link(None, names.host)
            if host is not None:
                raise exception.Conflict(
                    what='interface', name=names.host,
                    reason='exists in the root namespace but its peer '
                           'is not in SVM %s' % svm)
            self._ip(None, 'link', 'add', names.host, 'type', 'veth',
                     'peer', 'name', names.inner, *_mac_args(mac), 'netns',
                     svm)
            created = True
        else:
            with _unique_mac(svm, mac, lower.name):
                self._ip(None, 'link', 'add', 'link', lower.name, 'name',
                         names.inner, *_mac_args(mac), 'netns', svm,
                         'type', 'macvlan', 'mode', MACVLAN_MODE)
            created = True

        if mode == 'veth':
            if host is None:
                host = self._link(None, names.host)
            if host is None:
                raise exception.Conflict(
                    what='interface', name='%s of SVM %s' % (names.inner,
                                                             svm),
                    reason='its veth peer %s is not in the root namespace'
                           % names.host)
            if host.master is None:
                self._ip(None, 'link', 'set', 'dev', names.host, 'master',
                         bridge)
            elif host.master != bridge:
                raise exception.Conflict(
                    what='interface', name=names.host,
                    reason='is on bridge %s, not %s' % (host.master, bridge))
            self._ensure_up(None, host, names.host, mtu, False)

        with (contextlib.nullcontext() if mode == 'veth'
              else _unique_mac(svm, mac, lower.name)):
            self._ensure_up(svm, inner, names.inner, mtu, created)
        return names.inner

    def _ensure_up(self, ns, link, ifname, mtu, force):
        """Bring the interface up (with its MTU) unless it already is."""
        mtu_ok = mtu is None or (link is not None and link.mtu == mtu)
        if not force and link is not None and link.up and mtu_ok:
            return
        args = ('link', 'set', 'dev', ifname)
        if mtu is not None:
            args += ('mtu', str(mtu))
        self._ip(ns, *(args + ('up',)))

    def unplug(self, svm):
        """Remove the SVM's interface (and a veth host end); idempotent."""
        _svm(svm)
        with self._lock(svm):
            self._unplug(svm)

    def _unplug(self, svm):
        """Returns whether the namespace exists."""
        names = interface_names(svm)
        present = svm in self._namespaces()
        try:
            inner = present and self._link(svm, names.inner)
        except exception.NotFound:
            # Listed but cannot be opened: a namespace file left without
            # its mount by an interrupted "ip netns add". Nothing inside.
            inner = None
        if inner:
            # Deleting one end of a veth pair deletes both.
            self._ip(svm, 'link', 'del', 'dev', names.inner)
        for name in (names.inner, names.host):
            stray = self._link(None, name)
            if stray is None:
                continue
            if stray.kind not in MODES:
                raise exception.Conflict(
                    what='interface', name=name,
                    reason='is a %s interface, not one Arca made'
                           % stray.kind)
            self._ip(None, 'link', 'del', 'dev', name)
        return present

    def set_mtu(self, svm, mtu, ifname=None):
        """Set the MTU of the SVM interface (and of a veth host end)."""
        _svm(svm)
        mtu = validate.mtu(mtu)
        names = interface_names(svm)
        ifname = _own_ifname(svm, ifname)
        with self._lock(svm):
            link = self._link(svm, ifname)
            if link is None:
                raise exception.NotFound(what='interface',
                                         name='%s in %s' % (ifname, svm))
            if link.kind == 'veth':
                host = self._link(None, names.host)
                if host is not None and host.mtu != mtu:
                    self._ip(None, 'link', 'set', 'dev', names.host, 'mtu',
                             str(mtu))
            if link.mtu != mtu:
                self._ip(svm, 'link', 'set', 'dev', ifname, 'mtu', str(mtu))

    # Addresses and routes ----------------------------------------------

    def addresses(self, svm, ifname):
        """Every address of the interface as 'addr/prefix' (all scopes)."""
        return [str(i) for i, _scope, _failed
                in self._addr_info(_svm(svm), _ifname(ifname))]

    def set_addresses(self, svm, ifname, cidrs):
        """Make the interface hold exactly ``cidrs`` of global scope.

        Extras of global scope are removed first (so a changed prefix
        converges), then missing ones added; link-local and host-scope
        addresses are left alone. IPv6 addresses are added ``nodad`` so
        Ganesha can bind them at once; an address whose DAD failed is
        re-added.
        """
        _svm(svm)
        ifname = _own_ifname(svm, ifname)
        wanted = _cidrs(cidrs)
        with self._lock(svm):
            self._set_addresses(svm, ifname, wanted)

    def _set_addresses(self, svm, ifname, wanted):
        current = self._addr_info(svm, ifname)
        extras = [i for i, scope, failed in current
                  if (scope == 'global' and i not in wanted)
                  or (failed and i in wanted)]
        for iface in extras:
            result = self._ip(svm, 'addr', 'del', str(iface), 'dev', ifname,
                              check_exit_code=False)
            if result.exit_code != 0 and 'not found' not in result.stderr:
                self._fail_cmd(('ip', '-n', svm, 'addr', 'del', str(iface),
                                'dev', ifname), result)
        if any(i.version == 4 for i in extras):
            # Deleting a primary IPv4 address also deletes the secondaries
            # of its subnet (unless promote_secondaries): look again.
            current = self._addr_info(svm, ifname)
        else:
            current = [c for c in current if c[0] not in extras]
        have = {i for i, _scope, failed in current if not failed}
        for iface in wanted:
            if iface in have:
                continue
            args = ('addr', 'add', str(iface), 'dev', ifname)
            if iface.version == 6:
                args += ('nodad',)
            result = self._ip(svm, *args, check_exit_code=False)
            if result.exit_code != 0 and not (
                    'File exists' in result.stderr
                    or 'already assigned' in result.stderr):
                self._fail_cmd(('ip', '-n', svm) + args, result)

    def gateways(self, svm):
        """{4: gateway or None, 6: gateway or None} of the default routes."""
        _svm(svm)
        result = {}
        for version in (4, 6):
            out = self._ip(svm, '-j', '-%d' % version, 'route', 'show',
                           'default').stdout
            routes = _parse_json(out, 'ip route show')
            result[version] = next((r['gateway'] for r in routes
                                    if r.get('gateway')), None)
        return result

    def set_gateway(self, svm, gateway, ifname=None):
        """Point the default route of the gateway's IP version at it.

        The gateway must lie in a subnet of the interface's own addresses
        (IPv6 also accepts a link-local router address); the check reads
        those addresses, so set addresses first.
        """
        _svm(svm)
        gw = _gateway(gateway)
        ifname = _own_ifname(svm, ifname)
        with self._lock(svm):
            ifaces = [i for i, _scope, _failed
                      in self._addr_info(svm, ifname)]
            _check_gateway(gw, ifaces)
            self._set_gateway(svm, gw, ifname)

    def _set_gateway(self, svm, gw, ifname):
        self._ip(svm, '-%d' % gw.version, 'route', 'replace', 'default',
                 'via', str(gw), 'dev', ifname)

    def clear_gateway(self, svm, version):
        """Remove the default route of one IP version; idempotent."""
        _svm(svm)
        version = _version(version)
        with self._lock(svm):
            args = ('-%d' % version, 'route', 'del', 'default')
            result = self._ip(svm, *args, check_exit_code=False)
            if (result.exit_code != 0
                    and 'No such process' not in result.stderr):
                self._fail_cmd(('ip', '-n', svm) + args, result)

    # All at once --------------------------------------------------------

    def setup(self, svm, mode, cidrs, gateways=(), parent=None, vlan=None,
              bridge=None, mtu=None):
        """Namespace, interface, addresses and gateways in one call.

        Everything is validated (gateways against ``cidrs``) before any
        command. Returns the interface name inside the namespace.
        """
        _svm(svm)
        wanted = _cidrs(cidrs)
        if not wanted:
            _fail('address list', cidrs, 'must hold at least one address')
        if gateways is None:
            gateways = []
        elif isinstance(gateways, (str, bytes)):
            gateways = [gateways]
        gws = [_gateway(g) for g in gateways]
        if len({g.version for g in gws}) != len(gws):
            _fail('gateways', gateways, 'at most one per IP version')
        for gw in gws:
            _check_gateway(gw, wanted)
        parent, vlan, bridge, mtu = self._plug_args(mode, parent, vlan,
                                                    bridge, mtu)
        if mtu is not None and any(i.version == 6 for i in wanted):
            validate.mtu(mtu, ipv6=True)
        with self._lock(svm):
            self._create(svm)
            ifname = self._plug(svm, mode, parent, vlan, bridge, mtu,
                                mac=mac_address(wanted[0].ip))
            self._set_addresses(svm, ifname, wanted)
            for gw in gws:
                self._set_gateway(svm, gw, ifname)
        return ifname
