"""Options listed for oslo-config-generator.

The options belong in the backend's own section of cinder.conf or
manila.conf; they are listed here under the group name ``arca_backend``.
"""

import copy

from arca_openstack.wire import connection


def list_opts():
    return [('arca_backend', copy.deepcopy(connection.node_opts))]
