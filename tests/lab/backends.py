"""The Arca drivers, configured the way their services configure them.

An ini file with the backend's section is written and parsed into the
global ``CONF`` (as ``cinder-volume --config-file cinder.conf`` or
``manila-share --config-file manila.conf`` would), then the driver is
built on the service's own ``Configuration`` for that section. The one
difference from a deployment: the driver's agent client is set to the lab
node's (its agent started over the lab's SSH connection, as root) before
``do_setup``, which keeps it.

Cinder and Manila cannot share a process: import only one of the two
builders' services.
"""

import os
import uuid

from oslo_config import cfg

CONF = cfg.CONF


def write_conf(path, sections):
    """Write ``{section: {option: value}}`` as an ini file; returns it.

    A list value is written as the option repeated, one line per item
    (an oslo.config MultiStrOpt).
    """
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        for name, value in options.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            lines += ['%s = %s' % (name, item) for item in values]
        lines.append('')
    with open(path, 'w') as conf_file:
        conf_file.write('\n'.join(lines))
    return path


def conf_text(path):
    with open(path) as conf_file:
        return conf_file.read()


def _parse(workdir, project, backend, options, default=None):
    sections = {'DEFAULT': dict(default or {}, enabled_backends=backend),
                backend: options}
    path = write_conf(os.path.join(workdir, '%s.conf' % project), sections)
    CONF.reset()
    CONF([], project=project, default_config_files=[path])
    return path


def _connect(drv, node):
    """Give the driver its node: an agent client, or an executor.

    With an executor, the agent's operations run in this process through
    it (to profile each command).
    """
    from arca_openstack.node import executor
    if isinstance(node, executor.Executor):
        drv.executor = node
    else:
        drv.node_client = node


def cinder_driver(node, workdir, backend, options):
    """A set-up ``ArcaNFSDriver`` for backend section ``backend``.

    :returns: (driver, path of the cinder.conf written)
    """
    from cinder import context
    from cinder import objects
    from cinder.volume import configuration
    from cinder.volume import driver as volume_driver

    from arca_openstack.cinder import driver

    objects.register_all()
    options = dict(
        options,
        volume_driver='arca_openstack.cinder.driver.ArcaNFSDriver')
    path = _parse(workdir, 'cinder', backend, options)
    conf = configuration.Configuration(volume_driver.volume_opts,
                                       config_group=backend)
    drv = driver.ArcaNFSDriver(configuration=conf, host='lab@' + backend)
    _connect(drv, node)
    drv.do_setup(context.get_admin_context())
    drv.check_for_setup_error()
    return drv, path


def manila_driver(node, workdir, backend, options):
    """A set-up ``ArcaShareDriver`` for backend section ``backend``.

    :returns: (driver, path of the manila.conf written)
    """
    from manila import context
    from manila.share import configuration
    from manila.share import driver as share_driver
    from manila.share import manager

    from arca_openstack.manila import driver

    options = dict(
        options,
        share_driver='arca_openstack.manila.driver.ArcaShareDriver')
    path = _parse(workdir, 'manila', backend, options)
    conf = configuration.Configuration(
        manager.share_manager_opts + share_driver.share_opts,
        config_group=backend)
    drv = driver.ArcaShareDriver(configuration=conf)
    _connect(drv, node)
    drv.do_setup(context.get_admin_context())
    drv.check_for_setup_error()
    return drv, path


def share_snapshot(share):
    """A snapshot record of ``share``, as Manila's share manager passes it."""
    return {'id': str(uuid.uuid4()), 'snapshot_id': str(uuid.uuid4()),
            'share_instance_id': share['id'], 'size': share['size'],
            'project_id': share['project_id'],
            'provider_location': None, 'share': share}
