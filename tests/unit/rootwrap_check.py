"""Check argv lists against the node library's command catalogue.

``tests/unit/commands.d`` describes, in rootwrap's filter syntax, every
command form the node library issues. It was the services' root boundary
before the node agent; it is now a test-only guard that the library
issues no new command form unnoticed. The files the project ships
(``etc/rootwrap.d``) admit the agent alone: see test_rootwrap.
"""

import os

from oslo_rootwrap import wrapper

FILTERS_DIR = os.path.join(os.path.dirname(__file__), 'commands.d')
SHIPPED_DIR = os.path.join(os.path.dirname(__file__), '..', '..', 'etc',
                           'rootwrap.d')
EXEC_DIRS = ['/sbin', '/usr/sbin', '/bin', '/usr/bin', '/usr/local/sbin',
             '/usr/local/bin']

_filters = None


def filters():
    global _filters
    if _filters is None:
        _filters = wrapper.load_filters([os.path.abspath(FILTERS_DIR)])
    return _filters


def allowed(cmd):
    """True if the shipped filters would let rootwrap run ``cmd``.

    A filter that matches but whose binary is not installed on this
    machine still counts as a match: the filter is what is under test.
    """
    try:
        wrapper.match_filter(filters(), list(cmd), exec_dirs=EXEC_DIRS)
    except wrapper.FilterMatchNotExecutable:
        return True
    except wrapper.NoFilterMatched:
        return False
    return True
