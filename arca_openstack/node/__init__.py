"""The node library: one module per Linux part of an Arca storage node.

Every module issues argv lists through an injected executor
(:mod:`arca_openstack.node.executor`) and validates its inputs with
:mod:`arca_openstack.node.validate` before any command runs.
"""
