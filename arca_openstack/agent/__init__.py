"""The node agent: ``arca-node``, the storage node's one root entry point.

It runs on the storage node as root, receives operations (never argv),
validates every argument and checks that what it touches is Arca's own,
and carries them out with the node library (:mod:`arca_openstack.node`).
"""
