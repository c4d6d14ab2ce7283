"""Framing, values and errors of the agent protocol.

One JSON document per line in each direction. The agent first says who it
is::

    {"agent": "arca-node", "protocol": 1}

then answers each request, in order, with one response::

    {"id": 7, "op": "pool.create", "args": {"name": "vol-...", ...}}
    {"id": 7, "result": {...}}
    {"id": 7, "error": {"type": "NotFound", "message": "...", ...}}

Named tuples of the node library cross as ``{"__type__": NAME, ...}``;
Arca errors cross by class name and are raised again on the caller's side
as the same class (or their nearest Arca base class).
"""

import json

from arca_openstack import exception
from arca_openstack.node import ganesha_config
from arca_openstack.node import svm

AGENT = 'arca-node'
# Raised with every change of OPERATIONS (2: node.links, exports.clone,
# drbd.*; 3: exports.format_and_publish; 4: svms.create takes the pool,
# whose mirrored state may home the SVM). A new key in a result needs
# none: pool.capacity's mirror and mirror_error came without one, and
# a result without them reads as an unmirrored pool.
PROTOCOL = 4
# A request or response line longer than this is refused unread (a status
# of hundreds of exports stays far below it).
MAX_LINE = 16 * 1024 * 1024

# Every operation and the order of its positional arguments. The agent
# registers one handler per name (arca_openstack.agent.operations), the
# services call them by these names (arca_openstack.wire.remote). Context
# arguments (the thin pool: vg and thin) are named, never positional.
OPERATIONS = {
    'node.check': (),
    'node.links': ('interfaces',),
    'drbd.write': ('resource', 'minor', 'port', 'lv', 'address', 'peer',
                   'peer_address', 'protocol'),
    'drbd.create_md': ('resource',),
    'drbd.up': ('resource',),
    'drbd.down': ('resource',),
    'drbd.primary': ('resource', 'force'),
    'drbd.secondary': ('resource',),
    'drbd.status': ('resource',),
    'drbd.skip_initial_sync': ('resource',),
    'drbd.resize': ('resource',),
    'drbd.remove': ('resource',),
    'pool.capacity': (),
    'pool.get': ('name',),
    'pool.lookup': ('names',),
    'pool.list': ('tags',),
    'pool.create': ('name', 'size_gib', 'tags'),
    'pool.extend': ('name', 'size_gib'),
    'pool.reduce': ('name', 'size_gib'),
    'pool.remove': ('name',),
    'pool.snapshot': ('origin', 'name', 'tags', 'inherit'),
    'pool.clone': ('origin', 'name', 'size_gib', 'tags', 'inherit'),
    'pool.rename': ('old', 'new'),
    'pool.revert': ('name', 'snapshot'),
    'pool.add_tags': ('name', 'tags'),
    'pool.replace_tags': ('name', 'tags'),
    'pool.update_tags': ('name', 'fields'),
    'pool.remove_tags': ('name', 'tags'),
    'fs.mkfs': ('name',),
    'fs.regenerate_uuid': ('name',),
    'fs.grow': ('name', 'mounted'),
    'fs.is_mounted': ('name',),
    'quota.enable': ('name',),
    'quota.set_limit': ('name', 'size_bytes'),
    'quota.used': ('name',),
    'raw.size': ('name',),
    'raw.create': ('name', 'size_bytes'),
    'raw.grow': ('name', 'size_bytes'),
    'exports.mount': ('name', 'options'),
    'exports.clone': ('origin', 'name', 'size_gib', 'tags', 'options'),
    'exports.format_and_publish': ('svm', 'name', 'clients',
                                   'mount_options', 'quota_bytes',
                                   'image_bytes'),
    'exports.unmount': ('name',),
    'exports.find': ('svm', 'name'),
    'exports.publish': ('svm', 'name', 'clients', 'read_only',
                        'mount_options', 'mounted'),
    'exports.set_clients': ('svm', 'name', 'clients', 'missing_ok'),
    'exports.unpublish': ('svm', 'name', 'unmount'),
    'svms.get': ('name',),
    'svms.list': (),
    'svms.create': ('name', 'network', 'owner'),
    'svms.ensure': ('name', 'prefix_options'),
    'svms.delete': ('name',),
    'svms.running': ('name',),
    'svms.export_ids': ('name',),
    'svms.get_export': ('name', 'export_id'),
    'svm_pools.ensure': ('name', 'owner', 'settings', 'check_running',
                         'prefix_options'),
    'svm_pools.release': ('name', 'settings'),
}


class ProtocolError(exception.ArcaError):
    """The other end said something that is not this protocol."""

    message = 'Agent protocol error: %(reason)s'


class AgentError(exception.ArcaError):
    """An error of the agent that has no Arca class on this side."""

    message = '%(type)s: %(reason)s'


_TYPES = {}


def register_type(cls):
    """Let instances of named tuple ``cls`` cross the wire as themselves."""
    _TYPES[cls.__name__] = cls
    return cls


def _encode(value):
    if isinstance(value, tuple) and hasattr(value, '_fields'):
        name = type(value).__name__
        if _TYPES.get(name) is not type(value):
            raise ProtocolError(reason='cannot send a %s' % name)
        doc = {'__type__': name}
        for field in value._fields:
            doc[field] = _encode(getattr(value, field))
        return doc
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if '__type__' in value:
            raise ProtocolError(reason='a dict may not hold __type__')
        return {str(k): _encode(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ProtocolError(reason='cannot send a %s' % type(value).__name__)


def _tuples(value):
    return tuple(value) if isinstance(value, list) else value


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if '__type__' not in value:
            return {k: _decode(v) for k, v in value.items()}
        cls = _TYPES.get(value['__type__'])
        if cls is None:
            raise ProtocolError(reason='unknown type %r' %
                                value['__type__'])
        try:
            # Named tuples hold tuples where JSON has lists.
            return cls(**{f: _tuples(_decode(value[f])) for f in cls._fields})
        except KeyError as err:
            raise ProtocolError(reason='%s lacks field %s' % (
                cls.__name__, err))
    return value


def dumps(doc):
    """One line (bytes, newline included) holding ``doc``."""
    return (json.dumps(_encode(doc), separators=(',', ':'),
                       ensure_ascii=True) + '\n').encode('ascii')


def loads(line):
    """The document of one line; ProtocolError if it is not one."""
    if len(line) > MAX_LINE:
        raise ProtocolError(reason='line of %d bytes' % len(line))
    try:
        doc = json.loads(line)
    except ValueError as err:
        raise ProtocolError(reason='not JSON: %s' % err)
    if not isinstance(doc, dict):
        raise ProtocolError(reason='not a JSON object')
    return _decode(doc)


def hello():
    return {'agent': AGENT, 'protocol': PROTOCOL}


def check_hello(doc):
    if doc.get('agent') != AGENT:
        raise ProtocolError(reason='expected %s, got %r' % (AGENT, doc))
    if doc.get('protocol') != PROTOCOL:
        raise ProtocolError(reason=(
            'the node runs %s protocol %r, this release speaks %d: install '
            'the same release of arca-openstack on the storage node and on '
            'the Cinder and Manila hosts' % (AGENT, doc.get('protocol'),
                                             PROTOCOL)))


# -------------------------------------------------------------- errors

_ERRORS = {}


def register_error(cls):
    """Let errors of class ``cls`` be raised again on the caller's side."""
    _ERRORS[cls.__name__] = cls
    return cls


for _cls in (exception.ArcaError, exception.InvalidInput,
             exception.CommandFailed, exception.CommandTimeout,
             exception.NodeUnreachable, exception.NotFound, exception.InUse,
             exception.Conflict, exception.CapacityExceeded,
             exception.ServiceFailed, exception.ConfigInvalid,
             exception.ParseError, ProtocolError, AgentError):
    register_error(_cls)

_ERROR_ATTRS = ('cmd', 'exit_code', 'stdout', 'stderr', 'timeout', 'option')


def _plain(value):
    try:
        return _encode(value)
    except ProtocolError:
        return repr(value)


def error_doc(err):
    """What crosses the wire for exception ``err``."""
    classes = [c.__name__ for c in type(err).__mro__
               if issubclass(c, exception.ArcaError)]
    doc = {'type': type(err).__name__, 'bases': classes,
           'message': str(err)}
    if isinstance(err, exception.ArcaError):
        doc['kwargs'] = {k: _plain(v) for k, v in err.kwargs.items()}
        doc['attrs'] = {a: _plain(getattr(err, a)) for a in _ERROR_ATTRS
                        if hasattr(err, a)}
    return doc


def error_from(doc):
    """The exception an error document describes."""
    if not isinstance(doc, dict):
        return ProtocolError(reason='error is not an object: %r' % (doc,))
    names = [doc.get('type')] + list(doc.get('bases') or ())
    cls = next((_ERRORS[n] for n in names if n in _ERRORS), None)
    message = str(doc.get('message', ''))
    if cls is None:
        return AgentError(type=doc.get('type'), reason=message)
    err = cls.__new__(cls)
    exception.ArcaError.__init__(err, message, **dict(doc.get('kwargs')
                                                      or {}))
    for attr, value in (doc.get('attrs') or {}).items():
        if attr in _ERROR_ATTRS:
            setattr(err, attr, tuple(value) if attr == 'cmd' else value)
    return err


for _cls in (svm.Network, ganesha_config.Export, ganesha_config.ClientRule):
    register_type(_cls)
