"""Thin logical volumes in one LVM thin pool.

Every volume, share and snapshot on a node is a thin LV in one pool. The
LVs and their tags are the node's own record of what exists, so this
module also builds and parses the ``arca.KEY=VALUE`` tags.

Each operation validates all of its arguments before it issues a command,
is idempotent, and refuses to touch an LV that is not a thin volume of
this pool (the pool itself, or an operator's own LVs in the same VG).
"""

import contextlib
import json
import re

from oslo_log import log as logging

from arca_openstack import exception
from arca_openstack.node import locks
from arca_openstack.node import validate

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
TAG_PREFIX = 'arca.'
# Names of the temporary LVs of a revert in progress (see revert()).
REVERT_SUFFIXES = ('-rvnew', '-rvold')
# lvcreate takes all tags in one command (so an LV never exists untagged);
# the rootwrap filters hold one line per tag count, up to this many.
MAX_TAGS = 8

_FIELDS = ('lv_name', 'vg_name', 'lv_size', 'lv_attr', 'lv_tags', 'origin',
           'pool_lv', 'segtype', 'data_percent', 'metadata_percent')
_LVS = ('lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix',
        '-o', ','.join(_FIELDS))
# lookup() reads at most this many LVs in one lvs (one selection term each).
MAX_LOOKUP = 4
_TAG_KEY = re.compile(r'^[a-z][a-z0-9_]{0,31}$')
_SIZE = re.compile(r'^[0-9]{1,20}$')
_PERCENT = re.compile(r'^[0-9]{1,3}(\.[0-9]{1,6})?$')

# Substrings of LVM messages (lower case), checked in this order.
_CAPACITY_ERRORS = ('insufficient free space', 'has insufficient free',
                    'reached threshold', 'out of data space',
                    'out of metadata space')
_IN_USE_ERRORS = (' in use', 'is open', 'is busy')
_EXISTS_ERRORS = ('already exists',)
_NOT_FOUND_ERRORS = ('failed to find', 'not found')


def _tags(values):
    """Validate a collection of tags; return them de-duplicated, in order."""
    if isinstance(values, (str, bytes)) or not isinstance(
            values, (list, tuple, set, frozenset)):
        raise exception.InvalidInput(what='LVM tag list', value=values,
                                     reason='must be a list of tags')
    result = []
    for value in values:
        if validate.tag(value) not in result:
            result.append(value)
    if len(result) > MAX_TAGS:
        raise exception.InvalidInput(what='LVM tag list', value=values,
                                     reason='holds more than %d tags'
                                     % MAX_TAGS)
    return result


def make_tags(**fields):
    """Tags recording ``fields`` as ``arca.KEY=VALUE``, sorted by key.

    ``make_tags(kind='volume', id=uuid)`` gives
    ``['arca.id=<uuid>', 'arca.kind=volume']``. Fields whose value is None
    are left out; every resulting tag is validated.
    """
    tags = []
    for key in sorted(fields):
        value = fields[key]
        if value is None:
            continue
        if not _TAG_KEY.match(key):
            raise exception.InvalidInput(what='tag field', value=key,
                                         reason='must match [a-z][a-z0-9_]*')
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise exception.InvalidInput(what='tag value', value=value,
                                         reason='must be a string or int')
        tags.append(validate.tag('%s%s=%s' % (TAG_PREFIX, key, value)))
    return tags


def parse_tags(tags):
    """The ``{KEY: VALUE}`` of the ``arca.KEY=VALUE`` tags; others ignored."""
    fields = {}
    for tag in tags:
        if not tag.startswith(TAG_PREFIX) or '=' not in tag:
            continue
        key, value = tag[len(TAG_PREFIX):].split('=', 1)
        if _TAG_KEY.match(key):
            fields[key] = value
    return fields


def _parse_report(text):
    """Rows (dicts of strings) of an ``lvs --reportformat json`` report."""
    try:
        data = json.loads(text)
        rows = []
        for section in data['report']:
            for row in section.get('lv', []):
                if not isinstance(row, dict):
                    raise TypeError('row is not an object')
                rows.append(row)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise exception.ParseError(what='lvs', reason=err)
    return rows


def _size(value):
    if not isinstance(value, str) or not _SIZE.match(value):
        raise exception.ParseError(what='lvs',
                                   reason='bad size %r' % (value,))
    return int(value)


def _percent(value):
    """A percentage, or None where LVM reports none (inactive LV)."""
    if value == '':
        return None
    if not isinstance(value, str) or not _PERCENT.match(value):
        raise exception.ParseError(what='lvs',
                                   reason='bad percentage %r' % (value,))
    return float(value)


def _info(row):
    try:
        attr = row['lv_attr']
        info = {
            'name': row['lv_name'],
            'vg': row['vg_name'],
            'size_bytes': _size(row['lv_size']),
            'tags': [t for t in row['lv_tags'].split(',') if t],
            'origin': row['origin'] or None,
            'pool': row['pool_lv'] or None,
            'segtype': row['segtype'],
            'active': len(attr) > 4 and attr[4] == 'a',
            'data_percent': _percent(row['data_percent']),
            'metadata_percent': _percent(row['metadata_percent']),
        }
    except (KeyError, AttributeError) as err:
        raise exception.ParseError(what='lvs',
                                   reason='missing field %s' % err)
    info['path'] = '/dev/%s/%s' % (info['vg'], info['name'])
    return info


def _last_line(text):
    lines = [line.strip() for line in (text or '').splitlines()
             if line.strip()]
    return lines[-1] if lines else ''


class ThinPool(object):
    """Thin LVs of one thin pool ``vg/pool``."""

    def __init__(self, executor, vg, pool):
        self.executor = executor
        self.vg = validate.vg_name(vg)
        self.pool = validate.lv_name(pool, what='thin pool name')

    # -- reading --

    def _lv(self, name):
        return '%s/%s' % (self.vg, name)

    def _report(self, target, options=()):
        """Rows for ``target`` (VG or VG/LV); None if the LV is missing."""
        cmd = _LVS + tuple(options) + (target,)
        result = self.executor.execute(*cmd, check_exit_code=False)
        if result.exit_code != 0:
            err = result.stderr or ''
            if 'Volume group "%s" not found' % self.vg in err:
                raise exception.NotFound(what='volume group', name=self.vg)
            if 'Failed to find logical volume' in err:
                return None
            raise exception.CommandFailed(cmd, result.exit_code,
                                          result.stdout, result.stderr)
        return _parse_report(result.stdout)

    def _thin_infos(self):
        return [_info(row) for row in self._report(self.vg) or []
                if row.get('segtype') == 'thin'
                and row.get('pool_lv') == self.pool]

    def capacity(self):
        """Size and use of the pool, and how much is provisioned from it."""
        try:
            rows = self._report(self.vg) or []
        except exception.NotFound:
            raise exception.NotFound(
                'Thin pool %s/%s not found: volume group %s does not exist'
                % (self.vg, self.pool, self.vg))
        pool = [r for r in rows if r.get('lv_name') == self.pool]
        if not pool or pool[0].get('segtype') != 'thin-pool':
            raise exception.NotFound(
                'Thin pool %s/%s not found%s' % (
                    self.vg, self.pool,
                    ' (that LV is not a thin pool)' if pool else ''))
        info = _info(pool[0])
        thin = [_info(r) for r in rows if r.get('segtype') == 'thin'
                and r.get('pool_lv') == self.pool]
        total = info['size_bytes']
        data_percent = info['data_percent']
        if data_percent is None:
            LOG.warning('Thin pool %s/%s is not active: its usage is '
                        'unknown and reported as 0.', self.vg, self.pool)
            data_percent = 0.0
        used = min(total, int(total * data_percent / 100))
        return {
            'total_bytes': total,
            'used_bytes': used,
            'free_bytes': total - used,
            'data_percent': data_percent,
            'metadata_percent': info['metadata_percent'] or 0.0,
            'provisioned_bytes': sum(i['size_bytes'] for i in thin),
            'lv_count': len(thin),
        }

    def get(self, name):
        """The LV ``name`` of this VG, or None if there is none.

        The dict also describes LVs that are not thin volumes of this pool
        (``pool`` tells); mutating operations refuse those.
        """
        name = validate.lv_name(name)
        for row in self._report(self._lv(name)) or []:
            if row.get('lv_name') == name:
                return _info(row)
        return None

    def lookup(self, *names):
        """``{name: info or None}`` of up to MAX_LOOKUP LVs, in one ``lvs``.

        Like :meth:`get` for each name, but one command: a selection
        (``-S lv_name="A"||lv_name="B"``) over the VG, which reports the
        LVs that exist and nothing for the others.
        """
        names = list(dict.fromkeys(validate.lv_name(n) for n in names))
        if not names or len(names) > MAX_LOOKUP:
            raise exception.InvalidInput(
                what='LV names', value=names,
                reason='look up 1 to %d LVs at a time' % MAX_LOOKUP)
        selection = '||'.join('lv_name="%s"' % n for n in names)
        found = {name: None for name in names}
        for row in self._report(self.vg, ('-S', selection)) or []:
            if row.get('lv_name') in found:
                found[row['lv_name']] = _info(row)
        return found

    def list(self, tags=()):
        """Thin LVs of this pool carrying every tag in ``tags``, by name."""
        tags = _tags(tags)
        return sorted((i for i in self._thin_infos()
                       if all(t in i['tags'] for t in tags)),
                      key=lambda i: i['name'])

    def device_path(self, name):
        return '/dev/%s/%s' % (self.vg, validate.lv_name(name))

    # -- helpers for changes --

    @contextlib.contextmanager
    def _locked(self, *names):
        """Hold the locks of ``names``, always taken in sorted order."""
        with contextlib.ExitStack() as stack:
            for name in sorted(set(names)):
                stack.enter_context(locks.lv(self.vg, name))
            yield

    def _check_own(self, info):
        if info['segtype'] != 'thin' or info['pool'] != self.pool:
            raise exception.Conflict(
                what='logical volume', name=self._lv(info['name']),
                reason='is not a thin volume of pool %s' % self._lv(
                    self.pool))

    def _require(self, name):
        info = self.get(name)
        if info is None:
            raise exception.NotFound(what='logical volume',
                                     name=self._lv(name))
        self._check_own(info)
        return info

    def _run(self, name, *cmd):
        """Run an LVM command, mapping its failures to typed errors."""
        try:
            return self.executor.execute(*cmd)
        except exception.CommandTimeout:
            raise
        except exception.CommandFailed as err:
            text = ((err.stderr or '') + '\n' + (err.stdout or '')).lower()
            reason = _last_line(err.stderr) or _last_line(err.stdout)
            lv = self._lv(name)
            if any(s in text for s in _CAPACITY_ERRORS):
                raise exception.CapacityExceeded(
                    where='thin pool %s' % self._lv(self.pool),
                    reason=reason) from err
            if any(s in text for s in _IN_USE_ERRORS):
                raise exception.InUse(what='logical volume', name=lv,
                                      reason=reason) from err
            if any(s in text for s in _EXISTS_ERRORS):
                raise exception.Conflict(what='logical volume', name=lv,
                                         reason=reason) from err
            if any(s in text for s in _NOT_FOUND_ERRORS):
                raise exception.NotFound(what='logical volume',
                                         name=lv) from err
            raise

    def _add_missing(self, info, tags):
        """Add the tags ``info`` lacks; returns info with all of them."""
        for tag in tags:
            if tag not in info['tags']:
                self._run(info['name'], 'lvchange', '--addtag', tag,
                          self._lv(info['name']))
        return dict(info, tags=info['tags'] + [t for t in tags
                                               if t not in info['tags']])

    def _ensure_active(self, info):
        """Activate the LV if needed; returns info, now active."""
        if not info['active']:
            # -K: also activate LVs flagged "skip activation", which a
            # thin snapshot made without -kn would be.
            self._run(info['name'], 'lvchange', '-ay', '-K',
                      self._lv(info['name']))
        return dict(info, active=True)

    def _made(self, name, size_bytes, tags, origin=None):
        """The info of a thin LV lvcreate has just made (active)."""
        info = {'name': name, 'vg': self.vg, 'size_bytes': size_bytes,
                'tags': list(tags), 'origin': origin, 'pool': self.pool,
                'segtype': 'thin', 'active': True, 'data_percent': None,
                'metadata_percent': None}
        info['path'] = '/dev/%s/%s' % (self.vg, name)
        return info

    @staticmethod
    def _tag_args(tags):
        args = []
        for tag in tags:
            args += ['--addtag', tag]
        return args

    # -- changes --

    def create(self, name, size_gib, tags=()):
        """Create thin LV ``name`` of ``size_gib`` GiB carrying ``tags``.

        If it exists already with that size, only missing tags are added;
        with another size, or as a snapshot, :class:`Conflict` is raised.
        lvcreate comes first (it refuses a name in use), so a new LV costs
        one command.

        :returns: the LV's info (see :meth:`get`).
        """
        name = validate.lv_name(name)
        size = validate.size_gib(size_gib)
        tags = _tags(tags)
        with self._locked(name):
            try:
                self._run(name, 'lvcreate', '-T', self._lv(self.pool),
                          '-V', '%dg' % size, '-n', name,
                          *self._tag_args(tags))
            except exception.Conflict:
                info = self.get(name)
                if info is None:
                    raise
                return self._add_missing(self._as_created(info, size), tags)
            return self._made(name, size * GiB, tags)

    def _as_created(self, info, size):
        """An existing LV is what create() makes, or Conflict."""
        self._check_own(info)
        if info['origin']:
            raise exception.Conflict(
                what='logical volume', name=self._lv(info['name']),
                reason='exists as a snapshot of %s' % info['origin'])
        if info['size_bytes'] != size * GiB:
            raise exception.Conflict(
                what='logical volume', name=self._lv(info['name']),
                reason='exists with size %d bytes, not %d GiB' % (
                    info['size_bytes'], size))
        return info

    def _grow(self, info, size):
        """lvextend the LV of ``info`` to ``size`` GiB unless it is larger."""
        if info['size_bytes'] >= size * GiB:
            return info
        self._run(info['name'], 'lvextend', '-L', '%dg' % size,
                  self._lv(info['name']))
        return dict(info, size_bytes=size * GiB)

    def extend(self, name, size_gib):
        """Grow the LV to ``size_gib``; never shrinks (no-op if larger)."""
        name = validate.lv_name(name)
        size = validate.size_gib(size_gib)
        with self._locked(name):
            self._grow(self._require(name), size)

    def reduce(self, name, size_gib):
        """Shrink the LV to ``size_gib`` (no-op if already that small).

        Destroys whatever lies beyond the new size: the caller guarantees
        that no data lives there. XFS cannot shrink, so this is only for an
        LV whose filesystem (or image) already fits, such as undoing an
        extend that never reached the filesystem.
        """
        name = validate.lv_name(name)
        size = validate.size_gib(size_gib)
        with self._locked(name):
            info = self._require(name)
            if info['size_bytes'] <= size * GiB:
                return
            self._run(name, 'lvreduce', '-f', '-L', '%dg' % size,
                      self._lv(name))

    def remove(self, name, info=None):
        """Remove the LV; a missing LV is not an error.

        :param info: the LV as :meth:`get` gave it earlier in the caller's
            operation, which saves looking it up again.
        """
        name = validate.lv_name(name)
        if info is not None and info.get('name') != name:
            raise exception.InvalidInput(what='LV info', value=info,
                                         reason='is not that of %s' % name)
        with self._locked(name):
            if info is None:
                info = self.get(name)
                if info is None:
                    return
            self._check_own(info)
            try:
                self._run(name, 'lvremove', '-f', self._lv(name))
            except exception.NotFound:
                pass

    def snapshot(self, origin, name, tags=(), inherit=()):
        """Create ``name`` as an active, writable thin snapshot of ``origin``.

        The snapshot is consistent even while ``origin`` is mounted and in
        use: device-mapper suspends the origin with lockfs, freezing its
        filesystem during the switch (so do not freeze it by hand first).

        ``origin`` may itself be a snapshot. If ``name`` already exists as a
        snapshot of ``origin``, only missing tags are added and it is
        activated; if it exists otherwise, :class:`Conflict` is raised.

        :param inherit: tag fields (``make_tags`` keys) whose value the
            snapshot takes from the origin's tags, such as ``('svm',)``.
        :returns: the snapshot's info (see :meth:`get`).
        """
        origin, name, tags, inherit = self._snapshot_args(origin, name,
                                                          tags, inherit)
        with self._locked(origin, name):
            return self._snapshot(origin, name, tags, inherit)

    def clone(self, origin, name, size_gib, tags=(), inherit=()):
        """:meth:`snapshot`, then grown to at least ``size_gib`` GiB.

        One lock and one look-up for both steps; a repeated call finds the
        snapshot made and finishes the growth.

        :returns: the clone's info (see :meth:`get`).
        """
        origin, name, tags, inherit = self._snapshot_args(origin, name,
                                                          tags, inherit)
        size = validate.size_gib(size_gib)
        with self._locked(origin, name):
            return self._grow(self._snapshot(origin, name, tags, inherit),
                              size)

    def _snapshot_args(self, origin, name, tags, inherit):
        origin = validate.lv_name(origin, what='origin name')
        name = validate.lv_name(name)
        tags = _tags(tags)
        if origin == name:
            raise exception.InvalidInput(what='snapshot name', value=name,
                                         reason='equals its origin')
        if isinstance(inherit, str):
            inherit = (inherit,)
        given = set(parse_tags(tags))
        for key in inherit:
            if not isinstance(key, str) or not _TAG_KEY.match(key) or (
                    key in given):
                raise exception.InvalidInput(
                    what='inherited tag field', value=key,
                    reason='must be a tag key not given in tags')
        if len(tags) + len(inherit) > MAX_TAGS:
            raise exception.InvalidInput(what='LVM tag list', value=tags,
                                         reason='holds more than %d tags'
                                         % MAX_TAGS)
        return origin, name, tags, tuple(inherit)

    @staticmethod
    def _inherited(source, inherit):
        if source is None:
            return []
        fields = parse_tags(source['tags'])
        return make_tags(**{k: fields[k] for k in inherit if k in fields})

    def _snapshot(self, origin, name, tags, inherit):
        found = self.lookup(origin, name)
        source, info = found[origin], found[name]
        tags = tags + self._inherited(source, inherit)
        if info is not None:
            self._check_own(info)
            if info['origin'] != origin:
                raise exception.Conflict(
                    what='logical volume', name=self._lv(name),
                    reason='exists, but not as a snapshot of %s' % origin)
            return self._ensure_active(self._add_missing(info, tags))
        if source is None:
            raise exception.NotFound(what='logical volume',
                                     name=self._lv(origin))
        self._check_own(source)
        # -kn: no "skip activation" flag, so the snapshot activates like
        # any LV (at creation and at boot); lvcreate fails rather than
        # leave a new thin LV it could not activate.
        self._run(name, 'lvcreate', '-s', '-kn', '-n', name,
                  self._lv(origin), *self._tag_args(tags))
        return self._made(name, source['size_bytes'], tags, origin)

    def rename(self, old, new):
        """Rename ``old`` to ``new``; done already if only ``new`` exists."""
        old = validate.lv_name(old)
        new = validate.lv_name(new)
        if old == new:
            raise exception.InvalidInput(what='new name', value=new,
                                         reason='equals the old name')
        with self._locked(old, new):
            found = self.lookup(old, new)
            src, dst = found[old], found[new]
            if src is None:
                if dst is None:
                    raise exception.NotFound(what='logical volume',
                                             name=self._lv(old))
                self._check_own(dst)
                return
            self._check_own(src)
            if dst is not None:
                raise exception.Conflict(what='logical volume',
                                         name=self._lv(new),
                                         reason='already exists')
            self._run(old, 'lvrename', self.vg, old, new)

    def revert(self, name, snapshot):
        """Make ``name`` hold the content of ``snapshot``; keep both.

        The LV is replaced by a fresh thin snapshot of ``snapshot`` under
        the same name, tags and (at least) the same size: constant time.
        The caller unmounts ``name`` first. Each step leaves a state that
        a retry recognises and finishes::

            NAME-rvnew made -> NAME renamed NAME-rvold
                           -> NAME-rvnew renamed NAME -> NAME-rvold removed
        """
        name = validate.lv_name(name)
        snapshot = validate.lv_name(snapshot, what='snapshot name')
        new, old = (validate.lv_name(name + suffix)
                    for suffix in REVERT_SUFFIXES)
        if snapshot in (name, new, old):
            raise exception.InvalidInput(what='snapshot name',
                                         value=snapshot,
                                         reason='is the volume itself')
        with locks.lock('lv-revert', '%s.%s' % (self.vg, name)):
            current, fresh = self.get(name), self.get(new)
            if fresh is None and self.get(old) is None:
                current = self._require(name)
                self._require(snapshot)
                self.snapshot(snapshot, new, tags=current['tags'])
                fresh = self.get(new)
            if current is not None and fresh is not None:
                self.extend(new, -(-current['size_bytes'] // GiB))
                self.rename(name, old)
            if self.get(new) is not None:
                self.rename(new, name)
            self.remove(old)

    def add_tags(self, name, tags):
        name = validate.lv_name(name)
        tags = _tags(tags)
        with self._locked(name):
            self._add_missing(self._require(name), tags)

    def replace_tags(self, name, info, tags):
        """Make ``tags`` the LV's only ``arca.`` tags (others stay).

        ``info`` is the LV as looked up by the caller.
        """
        tags = _tags(tags)
        old = [t for t in info['tags'] if t.startswith(TAG_PREFIX)
               and t not in tags]
        if old:
            self.remove_tags(name, old)
        self.add_tags(name, tags)

    def update_tags(self, name, info, **fields):
        """Set the LV's ``arca.KEY`` tags of ``fields``, keeping the rest.

        Every tag of those keys goes (an interrupted change can leave one
        twice); nothing runs when the LV already has exactly these.
        """
        wanted = make_tags(**fields)
        keys = tuple('%s%s=' % (TAG_PREFIX, key) for key in fields)
        arca = [t for t in info['tags'] if t.startswith(TAG_PREFIX)]
        keep = [t for t in arca if not t.startswith(keys)]
        if sorted(keep + wanted) != sorted(arca):
            self.replace_tags(name, info, keep + wanted)

    def remove_tags(self, name, tags):
        name = validate.lv_name(name)
        tags = _tags(tags)
        with self._locked(name):
            info = self._require(name)
            for tag in tags:
                if tag in info['tags']:
                    self._run(name, 'lvchange', '--deltag', tag,
                              self._lv(name))

    def activate(self, name):
        name = validate.lv_name(name)
        with self._locked(name):
            self._ensure_active(self._require(name))

    def activate_locked(self, info):
        """Activate the LV ``info`` describes, its lock already held.

        For a caller holding the LV's lock (LV locks are not re-entrant).
        """
        self._check_own(info)
        return self._ensure_active(info)

    def deactivate(self, name):
        name = validate.lv_name(name)
        with self._locked(name):
            info = self._require(name)
            if info['active']:
                self._run(name, 'lvchange', '-an', self._lv(name))
