"""The wire between the services and a storage node's agent.

What is shared by both ends: the list of operations and the order of
their arguments, the JSON-lines framing, and how values and errors cross.
"""
