"""What a node holds, what it lacks, and bringing it back.

``arca-node status``, ``audit`` and ``ensure``: functions of an
:class:`arca_openstack.agent.operations.Node` returning plain data, which
:func:`render` prints as aligned text or JSON. Everything comes from the
node's own records: SVM records, their Ganesha export files, the LVs
(and tags) of the configured pools, the mounts under /var/lib/arca/mnt
and the namespaces. Only :func:`ensure` without ``dry_run`` changes
anything, through the node library's ``SVMManager.ensure``; the rest
reads (lvs, cat and ls of Arca's files, findmnt, ip -j ... list/show).
"""

import json

from arca_openstack.agent import operations
from arca_openstack import exception
from arca_openstack.node import export
from arca_openstack.node import lvm
from arca_openstack.node import netns
from arca_openstack.node import validate

# LVs the drivers export: one tagged arca.svm=X keeps SVM X in use.
EXPORTED_KINDS = ('volume', 'share')
# Mount options of an export's LV, by the first prefix its name starts
# with (the Manila driver's; others get none).
MOUNT_OPTIONS = (('ssnap-', ('ro', 'nouuid')), ('share-', ('prjquota',)))
# ensure results that need nothing more.
GOOD = ('ok', 'would rebuild', 'rebuilt')


def mount_options(lv_name):
    return next((options for prefix, options in MOUNT_OPTIONS
                 if lv_name.startswith(prefix)), ())


def mounts(node):
    """``{mountpoint: source}`` of the mounts under /var/lib/arca/mnt."""
    return node.xfs.mounts(export.MOUNT_BASE)


def _export(exp, table):
    try:
        lv = export.lv_name_of(exp)
    except exception.ArcaError:
        lv = None
    return {'id': exp.export_id, 'pseudo': exp.pseudo, 'path': exp.path,
            'lv': lv, 'mounted': exp.path in table,
            'read_only': exp.read_only,
            'clients': [dict(rule._asdict()) for rule in exp.clients]}


def _svm(node, name, table):
    """The SVM of record ``name``: owner, addresses, NFS server, exports."""
    state = {'name': name, 'owner': None, 'addresses': [], 'running': False,
             'stale_pid': False, 'exports': [], 'error': None}
    try:
        record = node.svms.get(name)
        if record is None:
            state['error'] = 'its directory holds no svm.json record'
            return state
        state.update(owner=record.get('owner'),
                     addresses=list(record['network'].addresses))
        server = node.svms.ganesha.status(name)
        state.update(running=bool(server['running']),
                     stale_pid=bool(server.get('stale')))
        for eid in node.svms.ganesha.export_ids(name):
            try:
                exp = node.svms.ganesha.get_export(name, eid)
            except exception.ParseError as err:
                state['exports'].append({'id': eid, 'error': str(err)})
                continue
            if exp is not None:
                state['exports'].append(_export(exp, table))
    except exception.ParseError as err:
        state['error'] = str(err)
    return state


def confirm_unmounted(node, svms):
    """Look again for the mounts of exports the table seemed to miss.

    The table is read before the exports. An LV is mounted before it is
    exported and withdrawn before it is unmounted, so an export made in
    between is in a table read after them; only an export missing from
    both is really unmounted. ``svms`` (of :func:`_svm`) are updated; the
    table is read again only if some export looks unmounted.
    """
    missing = [exp for svm in svms for exp in svm['exports']
               if exp.get('path') and not exp['mounted']]
    if missing:
        later = mounts(node)
        for exp in missing:
            exp['mounted'] = exp['path'] in later


def _lv(info, table):
    fields = lvm.parse_tags(info['tags'])
    owner = next(('%s=%s' % (key, fields[key]) for key in ('project',
                  'shared') if fields.get(key)), None)
    return {'name': info['name'], 'kind': fields.get('kind'),
            'owner': owner, 'svm': fields.get('svm'),
            'size_bytes': info['size_bytes'],
            'data_percent': info['data_percent'], 'active': info['active'],
            'mounted': '%s/%s' % (export.MOUNT_BASE, info['name']) in table}


def _pools(node, table):
    """(state, ThinPool, LV infos) of every configured pool."""
    result = []
    for name in sorted(node.pools):
        vg, _sep, thin = name.partition('/')
        pool = node.pool(vg, thin)
        state, infos = {'pool': name, 'capacity': None, 'error': None}, []
        try:
            state['capacity'] = pool.capacity()
            infos = pool.list()
        except exception.NotFound as err:
            state['error'] = str(err)
        state['lvs'] = [_lv(info, table) for info in infos]
        result.append((state, pool, infos))
    return result


def _gather(node, names=None):
    table = mounts(node)
    if names is None:
        names = node.svms.list()
    svms = [_svm(node, n, table) for n in names]
    confirm_unmounted(node, svms)
    return table, svms, _pools(node, table)


def status(node):
    """``{'svms': [...], 'pools': [...]}``: what the node holds."""
    _table, svms, pools = _gather(node)
    return {'svms': svms, 'pools': [state for state, _p, _i in pools]}


def audit(node):
    """``{'findings': [{'kind', 'object', 'message'}, ...]}``.

    What no record explains (LVs of SVMs without a record, mounts no SVM
    exports, Arca namespaces without a record) and records with nothing
    behind them (stopped SVMs, exports of missing or unmounted LVs,
    missing pools); unreadable records.
    """
    table, svms, pools = _gather(node)
    findings = []

    def add(kind, obj, message):
        findings.append({'kind': kind, 'object': obj, 'message': message})

    names = {svm['name'] for svm in svms}
    held = {lv['name'] for state, _p, _i in pools for lv in state['lvs']}
    exported = set()
    for state, _pool, _infos in pools:
        if state['error']:
            add('pool-missing', state['pool'], state['error'])
    for svm in svms:
        name = svm['name']
        if svm['error']:
            add('svm-unreadable', name, svm['error'])
            continue
        if not svm['running']:
            add('svm-stopped', name, 'recorded, but its NFS server is not '
                'running%s' % (' (stale pid file)' if svm['stale_pid']
                               else ''))
        for exp in svm['exports']:
            obj = '%s export %d' % (name, exp['id'])
            if exp.get('error'):
                add('export-unreadable', obj, exp['error'])
            elif exp['lv'] is None:
                add('export-without-lv', obj, 'serves %s, which is not an '
                    'LV mountpoint' % exp['path'])
            elif exp['lv'] not in held:
                add('export-without-lv', obj, 'serves LV %s, which no '
                    'configured pool (%s) holds' % (
                        exp['lv'], ', '.join(sorted(node.pools))))
            elif svm['running'] and not exp['mounted']:
                add('export-not-mounted', obj, 'LV %s is not mounted: the '
                    'NFS server serves its empty mountpoint' % exp['lv'])
            exported.add(exp.get('lv'))
    for state, pool, _infos in pools:
        for lv in state['lvs']:
            if (lv['kind'] in EXPORTED_KINDS and lv['svm']
                    and lv['svm'] not in names):
                add('lv-without-svm', '%s/%s' % (pool.vg, lv['name']),
                    'tagged arca.svm=%s, but that SVM has no record'
                    % lv['svm'])
    for target in sorted(table):
        if target[len(export.MOUNT_BASE) + 1:] not in exported:
            add('mount-not-exported', target, '%s is mounted there, but no '
                'SVM exports it' % table[target])
    for ns in node.svms.netns.list():
        if ns not in names and _holds_svm_interface(node, ns):
            add('netns-without-svm', ns, 'network namespace with the Arca '
                'interface %s, but no SVM record'
                % netns.interface_names(ns).inner)
    return {'findings': findings}


def _holds_svm_interface(node, ns):
    """True if namespace ``ns`` holds the interface of an SVM so named."""
    try:
        validate.svm_name(ns)
        return node.svms.netns.link(
            ns, netns.interface_names(ns).inner) is not None
    except (exception.InvalidInput, exception.NotFound):
        return False


def ensure(node, dry_run=False, names=None):
    """Rebuild every recorded SVM whose NFS server is not running.

    ``SVMManager.ensure``, its exports' LVs mounted first (activated if
    needed) from the pool that holds them. A running SVM is left alone,
    but reported (incomplete) if one of its LVs is missing or unmounted.
    Each SVM's ``result``: ok, would rebuild (``dry_run``: reads only),
    rebuilt, incomplete or failed.

    :param names: only these SVMs (a mirrored pool's, at its start).
    """
    _table, svms, pools = _gather(node, names)
    holders = {}
    for state, pool, infos in pools:
        for info in infos:
            holders.setdefault(info['name'], (state['pool'], pool, info))
    return {'dry_run': bool(dry_run),
            'svms': [_ensure_svm(node, svm, holders, dry_run)
                     for svm in svms]}


def _ensure_svm(node, svm, holders, dry_run):
    entry = {'svm': svm['name'], 'result': 'ok', 'mounts': [],
             'error': None}
    problems = [svm['error']] if svm['error'] else []
    for exp in svm['exports']:
        lv = exp.get('lv')
        if lv is None:
            problems.append('export %d: %s' % (exp['id'], exp.get(
                'error') or '%s is not an LV mountpoint' % exp['path']))
            continue
        holder = holders.get(lv)
        entry['mounts'].append({
            'lv': lv, 'pool': holder and holder[0],
            'options': list(mount_options(lv)), 'mounted': exp['mounted'],
            'active': bool(holder and holder[2]['active'])})
        if holder is None:
            problems.append('LV %s is in no configured pool' % lv)
        elif svm['running'] and not exp['mounted']:
            problems.append('LV %s is not mounted: stop the SVM\'s '
                            'ganesha.nfsd, then run ensure again' % lv)
    if problems:
        entry.update(result='incomplete' if svm['running'] else 'failed',
                     error='; '.join(problems))
    elif not svm['running']:
        entry['result'] = 'would rebuild' if dry_run else 'rebuilt'
        if not dry_run:
            try:
                node.svms.ensure(svm['name'],
                                 prepare_exports=_preparer(node, holders))
            except exception.ArcaError as err:
                entry.update(result='failed', error=str(err))
    return entry


def _preparer(node, holders):
    """Mounts an SVM's exports' LVs, each from the pool that holds it."""
    def prepare(exports):
        for exp in exports:
            lv = export.lv_name_of(exp)
            if lv not in holders:
                raise exception.NotFound(what='Logical volume', name=lv)
            _name, pool, info = holders[lv]
            operations.exports_of(node, pool).mount(
                lv, options=mount_options(lv), info=info)
    return prepare


def exit_code(command, data):
    """0: all is well; 1: audit findings, or ensure left something."""
    if command == 'audit':
        return 1 if data['findings'] else 0
    return 1 if command == 'ensure' and any(
        s['result'] not in GOOD for s in data['svms']) else 0


# ------------------------------------------------------------ rendering

def render(command, data, fmt='table'):
    if fmt == 'json':
        return json.dumps(data, indent=2, sort_keys=True)
    return '\n'.join(_RENDERERS[command](data))


def _cell(value):
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return '-' if value is None or value == '' else str(value)


def _table(headers, rows):
    rows = [[_cell(c) for c in row] for row in rows]
    widths = [max(len(c) for c in column) for column in zip(headers, *rows)]
    return ['  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
            for row in [headers] + rows] if rows else ['(none)']


def _size(value):
    for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB'):
        if value < 1024 or unit == 'TiB':
            return ('%d %s' if unit == 'B' else '%.1f %s') % (value, unit)
        value /= 1024.0


def _export_row(svm, exp):
    name = '%s/%d' % (svm['name'], exp['id'])
    if exp.get('error'):
        return [name, None, None, None, 'error: %s' % exp['error']]
    clients = ', '.join('%s %s' % (c['network'], c['access'])
                        for c in exp['clients']) or '(nobody)'
    return [name, exp['pseudo'], exp['lv'] or exp['path'], exp['mounted'],
            clients + (' (read-only)' if exp['read_only'] else '')]


def _status_text(data):
    svms = data['svms']
    lines = _table(['SVM', 'OWNER', 'ADDRESSES', 'NFS', 'EXPORTS'], [
        [s['name'], s['owner'], ' '.join(s['addresses']),
         'error: %s' % s['error'] if s['error'] else
         'running' if s['running'] else 'stopped', len(s['exports'])]
        for s in svms])
    lines += [''] + _table(['EXPORT', 'PSEUDO', 'LV', 'MOUNTED', 'CLIENTS'],
                           [_export_row(s, e)
                            for s in svms for e in s['exports']])
    for pool in data['pools']:
        cap = pool['capacity']
        lines += ['', 'POOL %s: %s' % (pool['pool'], pool['error'] or (
            '%s of %s used (%.1f%%, metadata %.1f%%), %d LVs, %s '
            'provisioned' % (_size(cap['used_bytes']),
                             _size(cap['total_bytes']), cap['data_percent'],
                             cap['metadata_percent'], cap['lv_count'],
                             _size(cap['provisioned_bytes']))))]
        if not pool['error']:
            lines += _table(
                ['LV', 'KIND', 'OWNER', 'SVM', 'SIZE', 'DATA', 'MOUNTED'],
                [[lv['name'], lv['kind'], lv['owner'], lv['svm'],
                  _size(lv['size_bytes']), None if lv['data_percent'] is None
                  else '%.1f%%' % lv['data_percent'], lv['mounted']]
                 for lv in pool['lvs']])
    return lines


def _audit_text(data):
    findings = data['findings']
    if not findings:
        return ['No findings: every record is backed, and everything found '
                'is recorded.']
    return _table(['KIND', 'OBJECT', 'MESSAGE'], [
        [f['kind'], f['object'], f['message']] for f in findings]) + [
        '', '%d finding(s).' % len(findings)]


def _mount_text(mount):
    if mount['mounted']:
        return '%s mounted' % mount['lv']
    if mount['pool'] is None:
        return '%s missing' % mount['lv']
    return 'mount %s (%s%s%s)' % (
        mount['lv'], mount['pool'],
        ', -o ' + ','.join(mount['options']) if mount['options'] else '',
        '' if mount['active'] else ', activated first')


def _ensure_text(data):
    lines = ['Dry run: nothing was changed.', ''] if data['dry_run'] else []
    rows = []
    for entry in data['svms']:
        detail = '; '.join(_mount_text(m) for m in entry['mounts'])
        if entry['error']:
            detail = entry['error']
        elif entry['result'] == 'ok':
            detail = 'NFS server running, %d export(s)' % len(
                entry['mounts'])
        rows.append([entry['svm'], entry['result'], detail or 'no exports'])
    return lines + _table(['SVM', 'RESULT', 'DETAIL'], rows)


_RENDERERS = {'status': _status_text, 'audit': _audit_text,
              'ensure': _ensure_text}
