"""ocf:arca:pool, the Pacemaker resource agent of a mirrored Arca pool.

Pacemaker runs it (as root) on the node where the pool's DRBD device has
just been promoted: ``start`` activates the VG, mounts the pool's state
and rebuilds every SVM homed in the pool (namespace, address, mounts,
exports, Ganesha) through the node agent's own ``ensure``; ``stop`` takes
them all down and deactivates the VG, so DRBD can be demoted; ``monitor``
fails when an SVM's Ganesha died or one of its exports' filesystems is
not mounted, so Pacemaker recovers the pool.

The one parameter, ``thin_pool`` (``VG/THIN``), comes in the environment
as ``OCF_RESKEY_thin_pool``; it must be one of the pools of the agent's
configuration (/etc/arca/arca-node.conf). ``arca-node cluster setup``
installs this agent as /usr/lib/ocf/resource.d/arca/pool.

Exit codes are OCF's: 0 success, 1 generic error, 2 bad argument, 3
unimplemented action, 6 not configured, 7 not running.
"""

import logging as py_logging
import os
import sys
import time

from arca_openstack.agent import ocf_metadata
from arca_openstack.agent import report
from arca_openstack.cmd import node as node_cmd
from arca_openstack import exception
from arca_openstack.node import svm
from arca_openstack.node import tickle
from arca_openstack.node import validate

LOG = py_logging.getLogger('arca-ocf-pool')

OCF_SUCCESS = 0
OCF_ERR_GENERIC = 1
OCF_ERR_ARGS = 2
OCF_ERR_UNIMPLEMENTED = 3
OCF_ERR_CONFIGURED = 6
OCF_NOT_RUNNING = 7


class Agent(object):
    """The actions, for one pool of one node agent configuration."""

    def __init__(self, node, thin_pool):
        self.node = node
        self.thin_pool = thin_pool
        self.vg = thin_pool.partition('/')[0]
        self.state = node.pool_state

    def validate(self):
        vg, _sep, thin = self.thin_pool.partition('/')
        self.node.pool(vg, thin)    # InvalidInput unless configured

    def start(self):
        started = time.monotonic()
        names = self.state.start(self.vg)
        data = report.ensure(self.node, names=names)
        bad = [entry for entry in data['svms']
               if entry['result'] not in report.GOOD]
        for entry in bad:
            LOG.error('SVM %s: %s: %s', entry['svm'], entry['result'],
                      entry['error'])
        served = [entry['svm'] for entry in data['svms']
                  if entry['result'] in report.GOOD]
        for name in served:
            self._tickle(name)
        LOG.info('pool %s started in %.1fs: %d SVM(s), %d not served',
                 self.vg, time.monotonic() - started, len(names), len(bad))
        return OCF_ERR_GENERIC if bad else OCF_SUCCESS

    def _tickle(self, name):
        """Make the SVM's NFS clients reconnect now (see node.tickle)."""
        try:
            record = self.node.svms.get(name)
            clients = tickle.recorded_clients(self.node.executor, name)
            if record is None or not clients:
                return
            sources = svm.SVMManager.bind_addresses(record['network'])
            sent = tickle.tickle(name, sources, clients)
            LOG.info('SVM %s: %d tickle ACKs to %s', name, sent,
                     ', '.join(clients))
        except exception.ArcaError as err:
            # The clients reconnect anyway, at their next retransmission.
            LOG.warning('SVM %s: no tickle ACKs: %s', name, err)

    def stop(self):
        started = time.monotonic()
        names = self.state.stop(self.vg)
        LOG.info('pool %s stopped in %.1fs: %d SVM(s)', self.vg,
                 time.monotonic() - started, len(names))
        return OCF_SUCCESS

    def monitor(self):
        if not self.state.started(self.vg):
            return OCF_NOT_RUNNING
        names = self.state.homed(self.vg)
        table = report.mounts(self.node)
        svms = [report._svm(self.node, name, table) for name in names]
        # Not a failure for Pacemaker to restart a pool in use over: an
        # export made or withdrawn while the monitor looked.
        report.confirm_unmounted(self.node, svms)
        problems = []
        for state in svms:
            name = state['name']
            if state['error']:
                problems.append('%s: %s' % (name, state['error']))
            elif not state['running']:
                problems.append('%s: NFS server not running' % name)
            problems += ['%s: export %s: %s is not mounted' % (
                name, exp.get('id'), exp.get('path'))
                for exp in state['exports'] if not exp.get('mounted')]
        for problem in problems:
            LOG.error('pool %s: %s', self.vg, problem)
        return OCF_ERR_GENERIC if problems else OCF_SUCCESS


def _thin_pool():
    value = os.environ.get('OCF_RESKEY_thin_pool')
    if not value:
        raise exception.InvalidInput(what='thin_pool', value=value,
                                     reason='is required (VG/THIN)')
    vg, sep, thin = value.partition('/')
    if not sep:
        raise exception.InvalidInput(what='thin_pool', value=value,
                                     reason='must be VG/THIN')
    validate.vg_name(vg)
    validate.lv_name(thin, what='thin pool name')
    return value


def run(action, make_node=None):
    """The OCF exit code of ``action``."""
    if action == 'meta-data':
        sys.stdout.write(ocf_metadata.meta_data())
        return OCF_SUCCESS
    if action not in ('start', 'stop', 'monitor', 'validate-all'):
        return OCF_ERR_UNIMPLEMENTED
    try:
        thin_pool = _thin_pool()
    except exception.InvalidInput as err:
        LOG.error('%s', err)
        return OCF_ERR_CONFIGURED
    if make_node is None:
        def make_node():
            conf = node_cmd.load_config(node_cmd.CONFIG_FILE)
            return node_cmd.make_node(conf)
    try:
        agent = Agent(make_node(), thin_pool)
        agent.validate()
    except exception.InvalidInput as err:
        LOG.error('%s', err)
        # A probe (monitor) of a pool this node cannot serve: not running.
        return OCF_NOT_RUNNING if action == 'monitor' else OCF_ERR_CONFIGURED
    if action == 'validate-all':
        return OCF_SUCCESS
    try:
        return getattr(agent, action)()
    except exception.ArcaError as err:
        LOG.error('%s of pool %s failed: %s', action, thin_pool, err)
        return OCF_ERR_GENERIC


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.stderr.write('usage: pool {start|stop|monitor|validate-all|'
                         'meta-data}\n')
        return OCF_ERR_ARGS
    # Pacemaker keeps the agent's stderr in its log (pacemaker.log).
    py_logging.basicConfig(stream=sys.stderr, level=py_logging.INFO,
                           format='%(levelname)s: %(message)s')
    return run(argv[0])


if __name__ == '__main__':
    sys.exit(main())
