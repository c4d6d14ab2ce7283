"""Check argv lists against the rootwrap filters this project ships."""

import os

from oslo_rootwrap import wrapper

FILTERS_DIR = os.path.join(os.path.dirname(__file__), '..', '..', 'etc',
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
