"""arca-node: the storage node's root side, for the services and operators.

``arca-node serve`` is what the Cinder and Manila drivers run (through
``sudo`` over SSH, or the service's root helper on the node itself): it
answers their operations on stdin/stdout until they hang up.

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

from arca_openstack.agent import operations
from arca_openstack.agent import server
from arca_openstack.node import executor

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
        executor.LocalExecutor(None, timeout=conf.agent.command_timeout),
        pools=conf.agent.pools)


def _serve(args, conf):
    server.serve(make_node(conf))
    return 0


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
    args = parser.parse_args(argv)
    py_logging.basicConfig(
        stream=sys.stderr, level=py_logging.DEBUG if args.debug
        else py_logging.WARNING,
        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    if os.geteuid() != 0:
        parser.error('must run as root (through sudo or a root helper)')
    conf = load_config(args.config_file)
    return {'serve': _serve}[args.command](args, conf)


if __name__ == '__main__':
    sys.exit(main())
