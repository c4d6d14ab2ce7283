"""``arca-node cluster ...``: the HA pair's operator commands.

Every command reads /etc/arca/cluster.conf (``--cluster-config``), the
same file on both nodes, and acts on the node it runs on:

``setup``
    Writes /etc/corosync/corosync.conf, each pool's DRBD resource file,
    the directories Corosync and Pacemaker need, and the wrapper through
    which Pacemaker runs the pool agent (``ocf:arca:pool``). Refuses
    until /etc/corosync/authkey exists. Run on both nodes, again after
    every change of the file; changes nothing that is already right.
``create-pool POOL``
    Makes a new pool's DRBD meta data, VG, thin pool and state LV. Run
    on both nodes at the same time: each waits for the other. The pool's
    preferred node makes the VG; then both take DRBD down, for Pacemaker
    to start. Safe to run again: nothing that exists is made again.
``cib [--apply]``
    Prints the Pacemaker configuration, or applies it (on one node).
``status [--format table|json]``
    Where each pool runs, its DRBD state on this node, quorum, nodes.
``move POOL NODE`` / ``unmove POOL``
    A planned move of a pool (refused while the pair is degraded), and
    the removal of that move's constraint.
"""

import json
import os
import shlex
import sys
from xml.etree import ElementTree as ET

from arca_openstack.agent import ocf_metadata
from arca_openstack import exception
from arca_openstack.node import cluster
from arca_openstack.node import cluster_config
from arca_openstack.node import drbd
from arca_openstack.node import files
from arca_openstack.node import lvm
from arca_openstack.node import pool_state
from arca_openstack.node import validate
from arca_openstack.node import xfs

AUTHKEY = '/etc/corosync/authkey'
OCF_AGENT = '/usr/lib/ocf/resource.d/arca/pool'
OCF_MODULE = 'arca_openstack.cmd.ocf_pool'
HA_USER = 'hacluster:haclient'
# (directory, owned by hacluster) made by setup.
DIRECTORIES = (
    ('/var/log/corosync', False),
    ('/var/lib/corosync', False),
    ('/var/log/pacemaker', True),
    ('/var/lib/pacemaker', True),
    ('/var/lib/pacemaker/cib', True),
    ('/var/lib/pacemaker/pengine', True),
    ('/var/lib/pacemaker/blackbox', True),
    ('/var/lib/pacemaker/cores', True),
    (os.path.dirname(OCF_AGENT), False),
)
THIN_POOL_SIZE = '90%FREE'
# XFS needs 300 MB at least; the state holds small files only.
STATE_LV_SIZE = '320m'
DEFAULT_WAIT = 1800
# cibadmin's exit codes: the object is not there; no cluster to ask.
CIB_NOT_FOUND = 105
CIB_NOT_CONNECTED = 102


def _cmd(executor, *cmd, **kwargs):
    return executor.execute(*cmd, **kwargs)


def ocf_wrapper(python, pythonpath=None):
    """The sh script Pacemaker runs as ``ocf:arca:pool``.

    It answers ``meta-data`` itself: Pacemaker asks for it with a fixed
    30 s limit, which a Python start missed on a loaded lab node. Every
    other action runs the agent module.
    """
    python = validate.abs_path(python, what='python interpreter')
    prefix = ''
    if pythonpath:
        parts = [validate.abs_path(p, what='PYTHONPATH entry')
                 for p in pythonpath.split(':') if p]
        if parts:
            prefix = 'PYTHONPATH=%s ' % shlex.quote(':'.join(parts))
    return ('#!/bin/sh\n'
            'if [ "$1" = meta-data ]; then\n'
            "    cat <<'EOF'\n%sEOF\n"
            '    exit 0\n'
            'fi\n'
            '%sexec %s -m %s "$@"\n') % (
        ocf_metadata.meta_data(), prefix, shlex.quote(python), OCF_MODULE)


class ClusterCommands(object):
    """The commands on this node (``hostname``), through ``executor``."""

    def __init__(self, executor, config, hostname, say=None):
        self.executor = executor
        self.config = config
        if hostname not in [n.name for n in config.nodes]:
            raise exception.InvalidInput(
                what='this node', value=hostname,
                reason='is not in [cluster] nodes (%s)' % ', '.join(
                    n.name for n in config.nodes))
        self.node = cluster_config.node(config, hostname)
        self.peer = cluster_config.peer(config, hostname)
        self.drbd = drbd.DRBD(executor)
        self.say = say or (lambda text: None)

    # -- setup ---------------------------------------------------------------

    def _install(self, path, content, mode=None):
        """Replace ``path`` atomically if its content differs."""
        result = _cmd(self.executor, 'cat', path, check_exit_code=False)
        if result.exit_code == 0 and result.stdout == content:
            return False
        if result.exit_code != 0 and 'No such file' not in result.stderr:
            raise exception.CommandFailed(('cat', path), result.exit_code,
                                          result.stdout, result.stderr)
        tmp = path + '.tmp'
        _cmd(self.executor, 'tee', tmp, process_input=content)
        if mode:
            _cmd(self.executor, 'chmod', mode, tmp)
        _cmd(self.executor, 'mv', '-f', tmp, path)
        return True

    def setup(self, python, pythonpath=None):
        """Write this node's cluster files; the paths changed."""
        wrapper = ocf_wrapper(python, pythonpath)
        if _cmd(self.executor, 'test', '-s', AUTHKEY,
                check_exit_code=False).exit_code != 0:
            raise exception.NotFound(
                '%s is missing: make it once with corosync-keygen on one '
                'node, copy it to the other (owner root, mode 0400), then '
                'run arca-node cluster setup on both' % AUTHKEY)
        for path, ha_owned in DIRECTORIES:
            _cmd(self.executor, 'mkdir', '-p', path)
            if ha_owned:
                _cmd(self.executor, 'chown', HA_USER, path)
        changed = []
        if self._install(cluster.COROSYNC_CONF,
                         cluster.render_corosync(self.config)):
            changed.append(cluster.COROSYNC_CONF)
        for pool in self.config.pools:
            first, second = cluster.drbd_peers(self.config, pool)
            if self.drbd.write_resource(pool.name, pool.minor, pool.port,
                                        first, second, fencing=True):
                changed.append(drbd.resource_path(pool.name))
        if self._install(OCF_AGENT, wrapper, mode='755'):
            changed.append(OCF_AGENT)
        return changed

    # -- create-pool ---------------------------------------------------------

    def _managed(self, pool):
        """True if the running cluster's CIB already has the pool."""
        xpath = "//clone[@id='%s']" % cluster.ms_id(pool.name)
        result = _cmd(self.executor, 'cibadmin', '--query', '--xpath', xpath,
                      check_exit_code=False)
        if result.exit_code == 0:
            return True
        if result.exit_code in (CIB_NOT_FOUND, CIB_NOT_CONNECTED):
            return False
        raise exception.CommandFailed(('cibadmin', '--query', '--xpath',
                                       xpath), result.exit_code,
                                      result.stdout, result.stderr)

    def _check_resource_file(self, pool):
        path = drbd.resource_path(pool.name)
        if files.read(self.executor, path) != cluster.render_pool_resource(
                self.config, pool):
            raise exception.ConfigInvalid(
                path=path, reason='missing or not what %s says: run '
                'arca-node cluster setup on both nodes first'
                % cluster_config.CONFIG_FILE)

    def create_pool(self, name, timeout=DEFAULT_WAIT):
        pool = cluster_config.pool(self.config, name)
        validate.timeout(timeout)
        if self._managed(pool):
            raise exception.Conflict(
                what='pool', name=pool.name,
                reason='Pacemaker manages it already (%s is in the CIB)'
                % cluster.ms_id(pool.name))
        self._check_resource_file(pool)
        if self.drbd.create_md(pool.name):
            self.say('%s: DRBD meta data created on %s'
                     % (pool.name, pool.disk))
        self.drbd.up(pool.name)
        self.say('%s: waiting for %s to connect' % (pool.name,
                                                    self.peer.name))
        self.drbd.wait_connected(pool.name, timeout=timeout)
        if pool.preferred_node == self.node.name:
            self._make_vg(pool, timeout)
        else:
            self._follow(pool, timeout)
        self.drbd.down(pool.name)
        self.say('%s: ready on %s; DRBD is down, for Pacemaker to start'
                 % (pool.name, self.node.name))

    def _follow(self, pool, timeout):
        """Not the preferred node: stay up until the other one is done."""
        self.say('%s: waiting for %s to make the VG and disconnect'
                 % (pool.name, pool.preferred_node))
        status = self.drbd.wait_for(
            pool.name, lambda s: s is None or not drbd.is_connected(s),
            timeout=timeout, interval=1.0,
            what='disconnected by %s' % pool.preferred_node)
        if status is not None and status['disk'] != 'UpToDate':
            raise exception.Conflict(
                what='DRBD resource', name=pool.name,
                reason='%s disconnected before this node was in sync '
                '(disk %s): run create-pool again on both nodes'
                % (pool.preferred_node, status['disk']))

    def _make_vg(self, pool, timeout):
        status = self.drbd.status(pool.name)
        if (status['disk'], status['peer_disk']) == ('Inconsistent',
                                                     'Inconsistent'):
            if self.drbd.skip_initial_sync(pool.name):
                self.say('%s: new disks, initial sync skipped' % pool.name)
        self.drbd.wait_synced(pool.name, timeout=timeout, interval=1.0)
        self.drbd.primary(pool.name)
        try:
            self._lvm(pool)
            _cmd(self.executor, 'vgchange', '-an', pool.name)
        finally:
            self.drbd.secondary(pool.name)

    def _pv_vg(self, device):
        """The VG of the PV ``device``: None if no VG, False if no PV."""
        result = _cmd(self.executor, 'pvs', '--reportformat', 'json', '-o',
                      'pv_name,vg_name', device, check_exit_code=False)
        if result.exit_code != 0:
            if 'Failed to find physical volume' in result.stderr:
                return False
            raise exception.CommandFailed(
                ('pvs', device), result.exit_code, result.stdout,
                result.stderr)
        try:
            rows = [row for section in json.loads(result.stdout)['report']
                    for row in section.get('pv', [])]
        except (ValueError, KeyError, TypeError) as err:
            raise exception.ParseError(what='pvs', reason=err)
        return next((row.get('vg_name') or None for row in rows
                     if row.get('pv_name') == device), False)

    def _lvm(self, pool):
        device = cluster.drbd_device(pool)
        vg, thin = cluster_config.vg_and_thin(pool)
        found = self._pv_vg(device)
        if found is False:
            probe = _cmd(self.executor, 'blkid', '-p', '-o', 'value', '-s',
                         'TYPE', device, check_exit_code=False)
            if probe.exit_code != 2:
                raise exception.Conflict(
                    what='device', name=device,
                    reason='holds %s: not made a PV (clear it yourself if '
                    'it is not needed)' % (probe.stdout.strip()
                                           or 'a signature'))
            _cmd(self.executor, 'pvcreate', device)
            found = None
        if found is None:
            _cmd(self.executor, 'vgcreate', vg, device)
            self.say('%s: VG %s made on %s' % (pool.name, vg, device))
        elif found != vg:
            raise exception.Conflict(
                what='device', name=device,
                reason='is a PV of VG %s, not %s' % (found, vg))
        _cmd(self.executor, 'vgchange', '-ay', vg)
        pool_lvs = lvm.ThinPool(self.executor, vg, thin)
        # The state LV first, and outside the thin pool: it is no volume
        # of the pool (never listed, managed or counted as one), and a
        # full thin pool cannot stop the pool's own records being written.
        state = pool_lvs.get(pool_state.STATE_LV)
        if state is None:
            _cmd(self.executor, 'lvcreate', '-y', '-L', STATE_LV_SIZE, '-n',
                 pool_state.STATE_LV, vg)
        elif state['segtype'] != 'linear':
            raise exception.Conflict(
                what='LV', name='%s/%s' % (vg, pool_state.STATE_LV),
                reason='is a %s LV, not the linear state LV of pool %s'
                % (state['segtype'], pool.name))
        xfs.XFS(self.executor).mkfs(pool_state.state_device(vg))
        info = pool_lvs.get(thin)
        if info is None:
            _cmd(self.executor, 'lvcreate', '-y', '--type', 'thin-pool',
                 '-l', THIN_POOL_SIZE, '-n', thin, vg)
            self.say('%s: thin pool %s made' % (pool.name, pool.thin_pool))
        elif info['segtype'] != 'thin-pool':
            raise exception.Conflict(
                what='LV', name=pool.thin_pool,
                reason='is a %s LV, not a thin pool' % info['segtype'])

    # -- CIB -----------------------------------------------------------------

    # -- status --------------------------------------------------------------

    def _crm_mon(self):
        result = _cmd(self.executor, 'crm_mon', '-1', '--output-as=xml',
                      check_exit_code=False)
        if result.exit_code != 0:
            detail = ' '.join((result.stderr or '').split()) or _xml_errors(
                result.stdout)
            raise exception.ServiceFailed(
                service='Pacemaker', reason='not running on this node, or '
                'not reachable (crm_mon exit code %s: %s)'
                % (result.exit_code, detail))
        return parse_crm_mon(result.stdout)

    def _moves(self):
        result = _cmd(self.executor, 'cibadmin', '--query', '-o',
                      'constraints')
        try:
            root = ET.fromstring(result.stdout)
        except ET.ParseError as err:
            raise exception.ParseError(what='cibadmin --query', reason=err)
        moves = {}
        for pool in self.config.pools:
            for item in root.iter('rsc_location'):
                if item.get('id') == cluster.move_id(pool.name):
                    moves[pool.name] = item.get('node')
        return moves

    def status(self):
        mon = self._crm_mon()
        moves = self._moves()
        pools = []
        for pool in self.config.pools:
            state = self.drbd.status(pool.name)
            pools.append({
                'name': pool.name,
                'preferred_node': pool.preferred_node,
                'moved_to': moves.get(pool.name),
                'active_on': mon['groups'].get(cluster.group_id(pool.name)),
                'promoted_on': mon['promoted'].get(cluster.ms_id(pool.name)),
                'failed': mon['failed'].get(pool.name, []),
                'drbd': None if state is None else {
                    key: state[key] for key in (
                        'role', 'peer_role', 'connection', 'disk',
                        'peer_disk', 'sync_percent')},
            })
        return {'cluster': self.config.name, 'node': self.node.name,
                'quorum': mon['quorum'], 'dc': mon['dc'],
                'nodes': mon['nodes'], 'pools': pools}

    # -- move ----------------------------------------------------------------

    def move(self, pool_name, node_name):
        pool = cluster_config.pool(self.config, pool_name)
        target = cluster_config.node(self.config, node_name)
        mon = self._crm_mon()
        offline = [n['name'] for n in mon['nodes']
                   if not n['online'] or n['standby']]
        if offline or len(mon['nodes']) != 2:
            raise exception.Conflict(
                what='pool', name=pool.name,
                reason='not moved: the pair is degraded (not online: %s)'
                % ', '.join(offline or ['?']))
        state = self.drbd.status(pool.name)
        if not drbd.is_synced(state):
            raise exception.Conflict(
                what='pool', name=pool.name,
                reason='not moved: DRBD is not in sync (%s)' % (
                    'not up on this node' if state is None else
                    '%s, disk %s, peer disk %s' % (
                        state['connection'], state['disk'],
                        state['peer_disk'])))
        _cmd(self.executor, 'cibadmin', '--modify', '--allow-create', '-o',
             'constraints', '--xml-pipe',
             process_input=cluster.render_move(self.config, pool.name,
                                               target.name))
        return mon['groups'].get(cluster.group_id(pool.name))

    def unmove(self, pool_name):
        _cmd(self.executor, 'cibadmin', '--delete', '--xml-text',
             cluster.render_unmove(self.config, pool_name))


def apply_cib(executor, config):
    """Merge the rendered configuration into the running cluster's CIB.

    One ``cibadmin --modify --allow-create`` of the whole
    ``<configuration>``: elements are matched by id, so a second run
    changes nothing, and resources never exist without their
    constraints.
    """
    _cmd(executor, 'cibadmin', '--modify', '--allow-create', '-o',
         'configuration', '--xml-pipe',
         process_input=cluster.render_cib(config))


def _xml_errors(text):
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return (text or '').strip()[-300:]
    return '; '.join(e.text.strip() for e in root.iter('error') if e.text)


def _true(value):
    return value == 'true'


def parse_crm_mon(text):
    """What status and move need of ``crm_mon --output-as=xml``."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        raise exception.ParseError(what='crm_mon', reason=err)
    dc = root.find('summary/current_dc')
    nodes = [{'name': n.get('name'), 'online': _true(n.get('online')),
              'standby': _true(n.get('standby')),
              'unclean': _true(n.get('unclean'))}
             for n in root.findall('nodes/node')]
    groups, promoted, failed = {}, {}, {}
    resources = root.find('resources')
    for element in ([] if resources is None else list(resources)):
        if element.tag == 'group':
            for rsc in element.findall('resource'):
                if rsc.get('role') == 'Started':
                    where = [n.get('name') for n in rsc.findall('node')]
                    if where and rsc.get('id', '').startswith('pool-'):
                        groups[element.get('id')] = where[0]
        if element.tag == 'clone':
            for rsc in element.findall('resource'):
                if rsc.get('role') in ('Promoted', 'Master'):
                    where = [n.get('name') for n in rsc.findall('node')]
                    if where:
                        promoted[element.get('id')] = where[0]
        for rsc in element.iter('resource'):
            if _true(rsc.get('failed')):
                pool = rsc.get('id', '').partition('-')[2]
                failed.setdefault(pool, []).append(rsc.get('id'))
    return {
        'quorum': dc is not None and _true(dc.get('with_quorum')),
        'dc': dc.get('name') if dc is not None else None,
        'nodes': nodes, 'groups': groups, 'promoted': promoted,
        'failed': failed,
    }


def render_status(data, fmt):
    if fmt == 'json':
        return json.dumps(data, indent=2, sort_keys=True)
    lines = ['cluster %s (on %s): %s, DC %s' % (
        data['cluster'], data['node'],
        'quorate' if data['quorum'] else 'NOT QUORATE', data['dc'] or '-')]
    lines.append('nodes: ' + ', '.join(
        '%s %s' % (n['name'], 'standby' if n['standby'] and n['online']
                   else 'online' if n['online'] else 'OFFLINE')
        for n in data['nodes']))
    lines.append('%-12s %-10s %-10s %-10s %-10s %-12s %-25s %s' % (
        'POOL', 'ACTIVE ON', 'PREFERRED', 'MOVED TO', 'ROLE', 'CONNECTION',
        'DISK/PEER DISK', 'SYNC'))
    for pool in data['pools']:
        state = pool['drbd'] or {}
        sync = state.get('sync_percent')
        lines.append('%-12s %-10s %-10s %-10s %-10s %-12s %-25s %s' % (
            pool['name'], pool['active_on'] or 'STOPPED',
            pool['preferred_node'], pool['moved_to'] or '-',
            state.get('role') or 'down', state.get('connection') or '-',
            '%s/%s' % (state.get('disk'), state.get('peer_disk'))
            if state else '-', '-' if sync is None else '%.1f%%' % sync))
        if pool['failed']:
            lines.append('    failed: %s' % ', '.join(pool['failed']))
    return '\n'.join(lines)


# -- the command line -------------------------------------------------------

def add_parser(sub):
    parser = sub.add_parser('cluster', help='the HA pair: setup, pools, '
                            'Pacemaker configuration, status, moves')
    parser.add_argument('--cluster-config',
                        default=cluster_config.CONFIG_FILE,
                        help='HA pair configuration (default %(default)s)')
    cmds = parser.add_subparsers(dest='cluster_command', required=True)
    cmds.add_parser('setup', help="write this node's Corosync, DRBD and "
                    'agent files (run on both nodes)')
    create = cmds.add_parser('create-pool', help="make a new pool's DRBD, "
                             'VG, thin pool and state (run on both nodes '
                             'at the same time)')
    create.add_argument('pool')
    create.add_argument('--timeout', type=int, default=DEFAULT_WAIT,
                        help='seconds to wait for the other node '
                        '(default %(default)s)')
    cib = cmds.add_parser('cib', help='print the Pacemaker configuration')
    cib.add_argument('--apply', action='store_true',
                     help='apply it to the running cluster (one node)')
    status = cmds.add_parser('status', help='pools, DRBD, quorum, nodes')
    status.add_argument('--format', choices=('table', 'json'),
                        default='table', help='output (default table)')
    move = cmds.add_parser('move', help='move a pool to a node (planned)')
    move.add_argument('pool')
    move.add_argument('node')
    unmove = cmds.add_parser('unmove', help='remove the constraint of a '
                             'move (the pool stays where it is)')
    unmove.add_argument('pool')


def run(args, executor, hostname=None, out=None):
    """Run ``arca-node cluster ...``; its exit code (2: failed)."""
    out = out or sys.stdout

    def say(text):
        print(text, file=out, flush=True)

    try:
        config = cluster_config.load(args.cluster_config)
        action = args.cluster_command
        if action == 'cib':
            if args.apply:
                apply_cib(executor, config)
                say('applied the configuration of %d pools'
                    % len(config.pools))
            else:
                out.write(cluster.render_cib(config))
            return 0
        commands = ClusterCommands(executor, config,
                                   hostname or os.uname().nodename, say)
        if action == 'setup':
            changed = commands.setup(sys.executable,
                                     os.environ.get('PYTHONPATH'))
            say('\n'.join('wrote %s' % p for p in changed)
                or 'nothing to change')
        elif action == 'create-pool':
            commands.create_pool(args.pool, timeout=args.timeout)
        elif action == 'status':
            say(render_status(commands.status(), args.format))
        elif action == 'move':
            where = commands.move(args.pool, args.node)
            say('%s: moving from %s to %s; "arca-node cluster unmove %s" '
                'removes the constraint once it is there' % (
                    args.pool, where or 'nowhere', args.node, args.pool))
        elif action == 'unmove':
            commands.unmove(args.pool)
            say('%s: move constraint removed' % args.pool)
    except exception.ArcaError as err:
        print('arca-node cluster %s: %s' % (args.cluster_command, err),
              file=sys.stderr)
        return 2
    return 0
