"""Storage virtual machines: namespace + interface + addresses + Ganesha.

An SVM's record (``/var/lib/arca/svm/<name>/svm.json``) holds what is
needed to rebuild it after a reboot: its owner and its network. Its
exports are recorded by Ganesha's per-export files beside it.
"""

import collections
import ipaddress
import json

from arca_openstack import exception
from arca_openstack.node import files
from arca_openstack.node import ganesha
from arca_openstack.node import locks
from arca_openstack.node import netns
from arca_openstack.node import validate

MODES = ('vlan', 'macvlan', 'veth')

Network = collections.namedtuple(
    'Network', ['mode', 'addresses', 'gateways', 'parent', 'vlan', 'bridge',
                'mtu'])


def make_network(mode, addresses, gateways=(), parent=None, vlan=None,
                 bridge=None, mtu=None):
    """Validated :class:`Network` of an SVM.

    :param mode: ``vlan`` (sub-interface of ``parent`` with id ``vlan``),
        ``macvlan`` (on ``parent``) or ``veth`` (host end on ``bridge``).
    :param addresses: address/prefix entries, IPv4 and/or IPv6.
    :param gateways: at most one default gateway per IP version, each
        inside one of the SVM's subnets.
    """
    validate.choice(mode, 'SVM network mode', MODES)
    if isinstance(addresses, str) or not addresses:
        raise exception.InvalidInput(what='SVM addresses', value=addresses,
                                     reason='need at least one address')
    addresses = tuple(validate.ip_interface(a) for a in addresses)
    gateways = tuple(validate.ip_address(g) for g in gateways or ())
    subnets = [ipaddress.ip_interface(a).network for a in addresses]
    seen = set()
    for gw in gateways:
        ip = ipaddress.ip_address(gw)
        if ip.version in seen:
            raise exception.InvalidInput(
                what='gateways', value=gateways,
                reason='at most one gateway per IP version')
        seen.add(ip.version)
        if not any(ip in net for net in subnets):
            raise exception.InvalidInput(
                what='gateway', value=gw,
                reason='is outside the SVM subnets %s' %
                ', '.join(str(n) for n in subnets))
    if mode in ('vlan', 'macvlan'):
        parent = validate.interface_name(parent)
        if bridge is not None:
            raise exception.InvalidInput(what='bridge', value=bridge,
                                         reason='only used in veth mode')
    else:
        bridge = validate.interface_name(bridge)
        if parent is not None:
            raise exception.InvalidInput(what='parent', value=parent,
                                         reason='not used in veth mode')
    if mode == 'vlan':
        vlan = validate.vlan_id(vlan)
    elif vlan is not None:
        raise exception.InvalidInput(what='VLAN id', value=vlan,
                                     reason='only used in vlan mode')
    if mtu is not None:
        has_v6 = any(':' in a for a in addresses)
        mtu = validate.mtu(mtu, ipv6=has_v6)
    return Network(mode, addresses, gateways, parent, vlan, bridge, mtu)


def _dir(name):
    return '%s/svm/%s' % (files.STATE_DIR, name)


def _record_path(name):
    return _dir(name) + '/svm.json'


def _check_new(name, network):
    validate.svm_name(name)
    if not isinstance(network, Network):
        raise exception.InvalidInput(what='network', value=network,
                                     reason='use svm.make_network()')


class SVMManager(object):
    """Create, inspect, rebuild and remove SVMs on one node."""

    def __init__(self, executor):
        self.executor = executor
        self.netns = netns.Netns(executor)
        self.ganesha = ganesha.Ganesha(executor)

    def get(self, name):
        """The SVM's record as a dict, or None if it has none."""
        text = files.read(self.executor,
                          _record_path(validate.svm_name(name)))
        if text is None:
            return None
        try:
            record = json.loads(text)
            record['network'] = make_network(**record['network'])
        except (ValueError, KeyError, TypeError) as err:
            raise exception.ParseError(what=_record_path(name), reason=err)
        return record

    def list(self):
        return [n for n in files.list_dir(self.executor,
                                          files.STATE_DIR + '/svm')
                if validate.is_valid(validate.svm_name, n)]

    def create(self, name, network, owner=None, home=None):
        """Make the SVM exist and serve, converging from any partial state.

        Creating an SVM that exists with the same network is a no-op
        (beyond making sure it runs); a different network is a Conflict.

        :param home: called only if the SVM has no record yet: the state
            directory of the mirrored pool the SVM is to live in (its
            directory is then made there and linked, see pool_state), or
            None for the node's own state.
        """
        _check_new(name, network)
        with locks.lock('svm-compose', name):
            self._record(name, network, owner, home)
            self._build(name, network)

    def record(self, name, network, owner=None, home=None):
        """Write the SVM's record only (idempotent): it holds its addresses.

        :meth:`create` with the same network builds the SVM afterwards.
        """
        _check_new(name, network)
        with locks.lock('svm-compose', name):
            self._record(name, network, owner, home)

    def _record(self, name, network, owner, home=None):
        if owner is not None:
            owner = validate.tag(owner)
        existing = self.get(name)
        if existing is not None and existing['network'] != network:
            raise exception.Conflict(
                what='SVM', name=name,
                reason='exists with network %s' % (existing['network'],))
        if existing is None:
            # The record comes before the namespace: a namespace of that
            # name without one is not Arca's, and stays untouched.
            if self.netns.exists(name):
                raise exception.Conflict(
                    what='network namespace', name=name,
                    reason='exists and is not an Arca SVM (it has no '
                    'record)')
            record = {'name': name, 'owner': owner,
                      'network': network._asdict()}
            self._make_dir(name, home() if home is not None else None)
            files.write_atomic(self.executor, _record_path(name),
                               json.dumps(record, sort_keys=True,
                                          indent=1) + '\n')

    def _make_dir(self, name, home):
        path = _dir(name)
        if home is None:
            files.makedirs(self.executor, path)
            return
        target = '%s/svm/%s' % (home, name)
        files.makedirs(self.executor, target)
        files.makedirs(self.executor, files.STATE_DIR + '/svm')
        files.symlink(self.executor, target, path)

    def _build(self, name, network):
        ifname = self._plumb(name, network)
        self.ganesha.configure(name, self.bind_addresses(network))
        self.ganesha.start(name)
        self._set_gateways(name, network, ifname)

    def _plumb(self, name, network):
        """The SVM's namespace, interface and addresses; its interface.

        Not its default routes: :meth:`_set_gateways` adds them once its
        Ganesha has started. Ganesha looks the node's hostname up in DNS
        as it starts (its ID mapper's NFSv4 domain, and the credential
        cache of its callbacks, Kerberos or not), from the SVM's
        namespace. With no route to the node's name server the queries
        fail at once; through a tenant's gateway they go to the tenant's
        network (with the node's name) and each waits out the resolver's
        timeout: 13 s of a 15 s SVM start in the lab. Nothing is exported
        yet, and the SVM's own subnet is reachable meanwhile.
        """
        try:
            return self._setup_netns(name, network, gateways=False)
        except netns.AddressInUse:
            self._raise_address_holder(name, network)
            raise
        except netns.VlanInUse as err:
            # Recorded SVMs of an earlier release hold the VLAN id in their
            # own namespaces: plug them again (onto the shared VLAN
            # interface), then try once more.
            holders = [other for other in self.list() if other != name
                       and self._legacy_vlan_holder(other, err)]
            if not holders:
                raise
            for other in holders:
                with locks.lock('svm-compose', other):
                    record = self.get(other)
                    if record is not None:
                        self._setup_netns(other, record['network'])
            return self._setup_netns(name, network, gateways=False)

    def _raise_address_holder(self, name, network):
        """Conflict naming the SVM that serves ``name``'s first address.

        Only on the failure path: every record is read.
        """
        first = self.bind_addresses(network)[0]
        for other in self.list():
            record = other != name and self.get(other)
            if record and first in self.bind_addresses(record['network']):
                raise exception.Conflict(
                    what='SVM', name=name,
                    reason='its address %s is served by SVM %s' % (
                        first, other))

    def _legacy_vlan_holder(self, name, err):
        record = self.get(name)
        net = record and record['network']
        return bool(net) and (net.mode, net.parent, net.vlan) == (
            'vlan', err.parent, err.vlan)

    def _setup_netns(self, name, network, gateways=True):
        return self.netns.setup(
            name, network.mode, list(network.addresses),
            gateways=list(network.gateways) if gateways else [],
            parent=network.parent, vlan=network.vlan,
            bridge=network.bridge, mtu=network.mtu)

    def _set_gateways(self, name, network, ifname):
        """The SVM's default routes (after its Ganesha started)."""
        for gateway in network.gateways:
            self.netns.set_gateway(name, gateway, ifname)

    @staticmethod
    def bind_addresses(network):
        return [str(ipaddress.ip_interface(a).ip) for a in network.addresses]

    def ensure(self, name, prepare_exports=None):
        """Rebuild a recorded SVM after a restart.

        Network, Ganesha and every export it had (read back from its export
        files) are brought back.

        :param prepare_exports: called with the SVM's exports before
            Ganesha serves them, to mount their filesystems: an export
            whose filesystem is not mounted would serve the empty mountpoint
            directory instead.
        """
        with locks.lock('svm-compose', validate.svm_name(name)):
            record = self.get(name)
            if record is None:
                raise exception.NotFound(what='SVM', name=name)
            network = record['network']
            ifname = self._plumb(name, network)
            exports = [self.ganesha.get_export(name, i)
                       for i in self.ganesha.export_ids(name)]
            if prepare_exports is not None:
                prepare_exports(exports)
            self.ganesha.ensure(name, self.bind_addresses(network), exports)
            self._set_gateways(name, network, ifname)

    def delete(self, name, unless=None):
        """Remove the SVM. Refuses while it still serves exports.

        :param unless: called first, under the SVM's lock: if it returns
            true the SVM stays (for a removal only when nothing uses it).
        :returns: False if ``unless`` kept it.
        """
        validate.svm_name(name)
        with locks.lock('svm-compose', name):
            if unless is not None and unless():
                return False
            ids = self.ganesha.export_ids(name)
            if ids:
                raise exception.InUse(
                    what='SVM', name=name,
                    reason='it still serves export(s) %s' %
                    ', '.join(str(i) for i in ids))
            self.ganesha.stop(name)
            self.netns.delete(name)
            # The record last: its addresses are free once it is gone.
            # A homed SVM's directory is on its pool; the link goes after.
            home = files.readlink(self.executor, _dir(name))
            if home is not None:
                _check_home(name, home)
                files.remove_tree(self.executor, home)
                files.remove(self.executor, _dir(name))
            else:
                files.remove_tree(self.executor, _dir(name))
        return True

    def stop(self, name):
        """Stop serving: Ganesha stopped, namespace (and addresses) gone.

        The record and export files stay: :meth:`ensure` brings the SVM
        back (on this node, or on the partner that takes its pool over).
        """
        with locks.lock('svm-compose', validate.svm_name(name)):
            self.ganesha.stop(name)
            self.netns.delete(name)


def _check_home(name, path):
    """``path`` must be an SVM directory of that name on a pool's state."""
    prefix = files.POOLS_DIR + '/'
    vg, sep, rest = path[len(prefix):].partition('/')
    if not path.startswith(prefix) or not sep or rest != 'svm/' + name:
        raise exception.Conflict(what='SVM', name=name,
                                 reason='its directory links to %s, not '
                                        'to a pool\'s state' % path)
    validate.vg_name(vg)
