"""How a driver reaches its storage node's agent: options and client."""

import shlex

from oslo_config import cfg

from arca_openstack.wire import client
from arca_openstack.wire import remote

node_opts = [
    cfg.HostAddressOpt(
        'arca_node_address',
        help='Address of the Arca storage node this backend drives. Leave '
             'unset when the storage node is the host running this '
             'service: the node agent then runs locally through the '
             'service\'s root helper.'),
    cfg.PortOpt(
        'arca_ssh_port', default=22,
        help='SSH port of the storage node.'),
    cfg.StrOpt(
        'arca_ssh_user', default='arca',
        help='User to log in as on the storage node.'),
    cfg.StrOpt(
        'arca_ssh_private_key',
        help='Private key file used to log in to the storage node.'),
    cfg.StrOpt(
        'arca_ssh_known_hosts_file',
        help='known_hosts file holding the storage node\'s host key. '
             'Without it the host key is accepted unverified (a warning '
             'is logged).'),
    cfg.StrOpt(
        'arca_ssh_root_helper', default='sudo',
        help='Command prefix the storage node uses to run the node agent '
             '(arca_node_agent) as root: sudo, with the sudoers line this '
             'project ships. Empty when logging in as root.'),
    cfg.StrOpt(
        'arca_node_agent', default='arca-node',
        help='The node agent\'s command on the storage node (a name on '
             'root\'s PATH, or an absolute path).'),
    cfg.IntOpt(
        'arca_command_timeout', default=600, min=1, max=86400,
        help='Seconds after which an operation on the storage node is '
             'abandoned and reported as failed.'),
]


def agent_command(root_helper, agent):
    """argv that starts a serving agent, through ``root_helper``."""
    return shlex.split(root_helper or '') + shlex.split(agent) + list(
        client.AGENT_ARGS)


def make_client(conf, local_root_helper, executor=None):
    """AgentClient for the node a backend's configuration names.

    :param conf: the backend's configuration (attribute access to the
        options above).
    :param local_root_helper: the service's own root helper, used when the
        node is this host.
    :param executor: run the agent's operations in this process with this
        executor instead (tests; the backend's pool is the one allowed).
    """
    timeout = conf.arca_command_timeout
    if executor is not None:
        from arca_openstack.agent import operations
        return client.in_process_client(operations.Node(
            executor, pools=['%s/%s' % (conf.arca_volume_group,
                                        conf.arca_thin_pool)]))
    if not conf.arca_node_address:
        return client.process_client(
            agent_command(local_root_helper, conf.arca_node_agent),
            timeout=timeout)
    connection = client.SSHConnection(
        conf.arca_node_address, conf.arca_ssh_user,
        conf.arca_ssh_private_key, port=conf.arca_ssh_port,
        known_hosts_file=conf.arca_ssh_known_hosts_file)
    return client.ssh_client(
        connection, agent_command(conf.arca_ssh_root_helper,
                                  conf.arca_node_agent), timeout=timeout)


def make_node(conf, agent_client, settings=None, entries=(),
              mount_options=()):
    """The backend's operations (:class:`remote.Node`) on its node."""
    return remote.Node(agent_client, conf.arca_volume_group,
                       conf.arca_thin_pool, settings=settings,
                       entries=entries, mount_options=mount_options)
