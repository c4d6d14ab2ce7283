"""Check that a node has the tools the drivers run.

Each tool is asked for its version, the one thing every one of them can
do without touching anything.
"""

TOOLS = (
    ('LVM', ('lvs', '--version')),
    ('XFS mkfs', ('mkfs.xfs', '-V')),
    ('XFS admin', ('xfs_admin', '-V')),
    ('XFS growfs', ('xfs_growfs', '-V')),
    ('NFS-Ganesha', ('ganesha.nfsd', '-v')),
    ('iproute2', ('ip', '-V')),
    ('findmnt', ('findmnt', '-V')),
    ('coreutils truncate', ('truncate', '--version')),
)


def missing_tools(executor):
    """Names (with their command) of the tools that did not answer."""
    missing = []
    for name, cmd in TOOLS:
        result = executor.execute(*cmd, check_exit_code=False)
        if result.exit_code != 0:
            missing.append('%s (%s)' % (name, cmd[0]))
    return missing
