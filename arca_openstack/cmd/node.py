"""arca-node: the storage node's root side, for the services and operators.

``arca-node serve`` is what the Cinder and Manila drivers run (through
``sudo`` over SSH, or the service's root helper on the node itself): it
answers their operations on stdin/stdout until they hang up.

For operators (see :mod:`arca_openstack.agent.report`), each with
``--format table`` (default) or ``--format json``:

``arca-node status``
    SVMs (owner, addresses, NFS server, exports and their clients) and
    the LVs of each configured pool (kind, owner, size, data use, mount).
``arca-node audit``
    What no record explains and records with nothing behind them. Exit
    0: nothing found; 1: findings; 2: the audit itself failed.
``arca-node ensure [--dry-run]``
    Rebuild every recorded SVM whose NFS server is not running, its
    exports' LVs mounted first. ``--dry-run`` only says what it would do.
    Exit 0: all served; 1: something could not be brought back.

``status``, ``audit`` and ``ensure --dry-run`` only read. Every command
exits 2 when it fails.

``arca-node cluster ...`` sets up and runs the HA pair (see
:mod:`arca_openstack.agent.cluster_commands`).

The agent reads ``/etc/arca/arca-node.conf`` if it exists::

    [agent]
    # Thin pools (VG/THIN) the services may act in.
    pools = arca/pool
"""

import argparse
import logging as py_logging
import os
import sys

from oslo_concurrency import lockutils
from oslo_config import cfg

from arca_openstack.agent import cluster_commands
from arca_openstack.agent import operations
from arca_openstack.agent import report
from arca_openstack.agent import root_executor
from arca_openstack.agent import server
from arca_openstack.node import executor

LOG = py_logging.getLogger(__name__)
CONFIG_FILE = '/etc/arca/arca-node.conf'
LOCK_PATH = '/run/lock/arca'

agent_opts = [
    cfg.ListOpt(
        'pools', default=list(operations.DEFAULT_POOLS),
        help='Thin pools (VG/THIN) of this node that the services may '
             'act in; every other VG and LV is refused.'),
    cfg.IntOpt(
        'command_timeout', default=executor.DEFAULT_TIMEOUT, min=1,
        max=86400,
        help='Seconds after which one command of an operation is '
             'abandoned and the operation reported as failed.'),
    cfg.StrOpt(
        'lock_path', default=LOCK_PATH,
        help='Directory of the node-wide locks every agent process of '
             'this node shares.'),
]


def list_opts():
    return [('agent', agent_opts)]


def load_config(path):
    conf = cfg.ConfigOpts()
    conf.register_opts(agent_opts, group='agent')
    files = [path] if path and os.path.exists(path) else []
    conf([], project='arca', default_config_files=files,
         default_config_dirs=[])
    return conf


def make_node(conf):
    """The agent's operations, with its locks and root executor."""
    os.makedirs(conf.agent.lock_path, mode=0o700, exist_ok=True)
    lockutils.set_defaults(conf.agent.lock_path)
    return operations.Node(
        root_executor.RootExecutor(timeout=conf.agent.command_timeout),
        pools=conf.agent.pools)


def _serve(args, conf):
    server.serve(make_node(conf))
    return 0


def _cluster(args, conf):
    os.makedirs(conf.agent.lock_path, mode=0o700, exist_ok=True)
    lockutils.set_defaults(conf.agent.lock_path)
    return cluster_commands.run(
        args, root_executor.RootExecutor(timeout=conf.agent.command_timeout))


def _report(args, conf):
    """status, audit, ensure: the report printed, its exit code."""
    try:
        node = make_node(conf)
        if args.command == 'ensure':
            data = report.ensure(node, dry_run=args.dry_run)
        else:
            data = getattr(report, args.command)(node)
        text = report.render(args.command, data, args.format)
    except Exception as err:  # 2, not the 1 of a traceback (findings)
        LOG.debug('arca-node %s failed', args.command, exc_info=True)
        print('arca-node %s: %s' % (args.command, err), file=sys.stderr)
        return 2
    print(text)
    return report.exit_code(args.command, data)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='arca-node', description='The Arca storage node agent.')
    parser.add_argument('--config-file', default=CONFIG_FILE,
                        help='agent configuration (default %(default)s)')
    parser.add_argument('--debug', action='store_true',
                        help='log every command to stderr')
    sub = parser.add_subparsers(dest='command', required=True)
    sub.add_parser('serve', help='answer operations on stdin/stdout '
                   '(what the drivers run)')
    commands = {
        'status': 'SVMs, exports and LVs of this node (reads only)',
        'audit': 'what no record explains, records with nothing behind '
                 'them; exit 1 if any (reads only)',
        'ensure': 'bring every recorded SVM, its mounts and exports back',
    }
    for name, text in commands.items():
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument('--format', choices=('table', 'json'),
                         default='table', help='output (default table)')
        if name == 'ensure':
            cmd.add_argument('--dry-run', action='store_true',
                             help='only say what would be done (reads only)')
    cluster_commands.add_parser(sub)
    args = parser.parse_args(argv)
    py_logging.basicConfig(
        stream=sys.stderr, level=py_logging.DEBUG if args.debug
        else py_logging.WARNING,
        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    if os.geteuid() != 0:
        parser.error('must run as root (through sudo or a root helper)')
    conf = load_config(args.config_file)
    return {'serve': _serve, 'cluster': _cluster}.get(
        args.command, _report)(args, conf)


if __name__ == '__main__':
    sys.exit(main())
