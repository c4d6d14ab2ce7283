"""The ``arca-node`` console script: :mod:`arca_openstack.cmd.node`.

A separate entry point so that eventlet is kept out before anything is
imported: the agent never runs under eventlet, but oslo.concurrency (and
oslo.rootwrap) import it when it is installed, which costs seconds of
CPU on a small storage node at every session start (8.5 s measured in
the lab's User-Mode Linux nodes).
"""

import sys


def main(argv=None):
    sys.modules.setdefault('eventlet', None)
    from arca_openstack.cmd import node
    return node.main(argv)


if __name__ == '__main__':
    sys.exit(main())
