"""How a driver reaches its storage node: options and executor factory."""

from oslo_config import cfg

from arca_openstack.node import executor

node_opts = [
    cfg.HostAddressOpt(
        'arca_node_address',
        help='Address of the Arca storage node this backend drives. Leave '
             'unset when the storage node is the host running this '
             'service: commands then run locally through the service\'s '
             'rootwrap.'),
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
        'arca_ssh_root_helper',
        default='sudo arca-rootwrap /etc/arca/rootwrap.conf',
        help='Command prefix the storage node uses to run Arca\'s commands '
             'as root, through the rootwrap filters this project ships. '
             'Empty when logging in as root.'),
    cfg.IntOpt(
        'arca_command_timeout', default=120, min=1, max=86400,
        help='Seconds after which a storage node command is abandoned and '
             'reported as failed.'),
]


def make_executor(conf, local_root_helper):
    """Executor for the node a backend's configuration names.

    :param conf: the backend's configuration (attribute access to the
        options above).
    :param local_root_helper: the service's own root helper, used when the
        node is this host.
    """
    if not conf.arca_node_address:
        return executor.LocalExecutor(local_root_helper,
                                      timeout=conf.arca_command_timeout)
    return executor.SSHExecutor(
        conf.arca_node_address, conf.arca_ssh_user,
        conf.arca_ssh_private_key, port=conf.arca_ssh_port,
        root_helper=conf.arca_ssh_root_helper,
        known_hosts_file=conf.arca_ssh_known_hosts_file,
        timeout=conf.arca_command_timeout)
