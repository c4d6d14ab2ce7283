"""arca-rootwrap-install: let the services start the node agent as root.

The services run one thing as root for Arca: ``arca-node serve``, the
storage node's agent. ``pip install`` places the filter file admitting it
under its installation prefix (``<prefix>/etc/arca/rootwrap.d``:
``/usr/local/etc/...`` for a system pip, ``<venv>/etc/...`` in a
virtualenv), where no rootwrap looks. This command copies the shipped
files, owned by root and mode 0644, to:

``cinder``
    ``/etc/cinder/rootwrap.d`` (the storage node is the cinder-volume
    host; also cinder-volume's clean-up of its own image-copy mounts,
    ``arca-cinder-host``);
``manila``
    ``/etc/manila/rootwrap.d`` (the storage node is the manila-share host);
``node``
    a remote storage node: with ``--sudoers-user``, the sudoers line that
    lets that SSH user run exactly ``arca-node serve`` as root. (Also
    ``/etc/arca/rootwrap.d`` and ``rootwrap.conf``, for drivers still
    configured with the earlier release's ``arca_ssh_root_helper``.)

Filter files of this project that are no longer shipped (``arca-*``:
every per-command filter of the earlier release) are removed from the
target, so an upgrade drops what the release dropped.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile

TARGETS = {
    'cinder': ('etc/cinder/rootwrap.d', ('arca-cinder-host.filters',)),
    'manila': ('etc/manila/rootwrap.d', ()),
    'node': ('etc/arca/rootwrap.d', ()),
}
HOST_ONLY = 'arca-cinder-host.filters'
CONF = 'etc/arca/rootwrap.conf'
SUDOERS = 'etc/sudoers.d/arca'
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


class InstallError(Exception):
    pass


def shipped_dir():
    """Where this installation keeps its etc/ files (rootwrap.d, arca/).

    The installation prefix's etc/ (wheel or sdist installs), else the
    source tree's etc/ (an editable install or a checkout).
    """
    installed = os.path.join(sysconfig.get_path('data'), 'etc', 'arca')
    if os.path.isdir(os.path.join(installed, 'rootwrap.d')):
        return installed, os.path.join(installed, 'rootwrap.d')
    tree = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), 'etc')
    if os.path.isdir(os.path.join(tree, 'rootwrap.d')):
        return os.path.join(tree, 'arca'), os.path.join(tree, 'rootwrap.d')
    raise InstallError('the shipped rootwrap filters were found neither '
                       'under %s nor under %s' % (installed, tree))


def _write(path, data, mode):
    """Write a root-owned file atomically (never through a symlink)."""
    folder = os.path.dirname(path)
    if os.path.islink(path):
        raise InstallError('%s is a symbolic link: refusing to write '
                           'through it' % path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.arca-')
    try:
        with os.fdopen(fd, 'wb') as out:
            out.write(data)
        os.chmod(tmp, mode)
        if os.geteuid() == 0:
            os.chown(tmp, 0, 0)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _makedirs(path):
    os.makedirs(path, mode=0o755, exist_ok=True)
    if os.path.islink(path):
        raise InstallError('%s is a symbolic link' % path)


def agent_path():
    """Absolute path of the arca-node installed with this command."""
    beside = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])),
                          'arca-node')
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which('arca-node')
    if found is None:
        raise InstallError('arca-node is not installed beside this '
                           'command nor on PATH')
    return os.path.abspath(found)


def sudoers_line(user, agent):
    """The agent, serving, and nothing else (sudo matches the arguments)."""
    return '%s ALL = (root) NOPASSWD: %s serve\n' % (user, agent)


def install(target, root='/', source=None, sudoers_user=None):
    """Install the files of ``target``; returns the paths written."""
    if target not in TARGETS:
        raise InstallError('target must be one of %s' % ', '.join(TARGETS))
    if sudoers_user is not None:
        if target != 'node':
            raise InstallError('--sudoers-user is for the node target')
        if not _USER.fullmatch(sudoers_user):
            raise InstallError('invalid user name %r' % sudoers_user)
    conf_dir, filters_dir = source or shipped_dir()
    dest_rel, extra = TARGETS[target]
    dest = os.path.join(root, dest_rel)
    shipped = sorted(n for n in os.listdir(filters_dir)
                     if n.endswith('.filters')
                     and (n != HOST_ONLY or n in extra))
    if not shipped:
        raise InstallError('no filter files in %s' % filters_dir)
    _makedirs(dest)
    written = []
    for name in shipped:
        with open(os.path.join(filters_dir, name), 'rb') as src:
            _write(os.path.join(dest, name), src.read(), 0o644)
        written.append(os.path.join(dest, name))
    for name in os.listdir(dest):
        if (name.startswith('arca-') and name.endswith('.filters')
                and name not in shipped):
            os.unlink(os.path.join(dest, name))
    if target == 'node':
        with open(os.path.join(conf_dir, 'rootwrap.conf'), 'rb') as src:
            conf = os.path.join(root, CONF)
            _write(conf, src.read(), 0o644)
            written.append(conf)
    if sudoers_user is not None:
        path = os.path.join(root, SUDOERS)
        _makedirs(os.path.dirname(path))
        line = sudoers_line(sudoers_user, agent_path())
        visudo = shutil.which('visudo')
        if visudo:
            with tempfile.NamedTemporaryFile('w', suffix='.sudoers') as f:
                f.write(line)
                f.flush()
                check = subprocess.run([visudo, '-c', '-q', '-f', f.name],
                                       capture_output=True, text=True)
            if check.returncode != 0:
                raise InstallError('visudo refused %r: %s' % (
                    line, check.stderr.strip() or check.stdout.strip()))
        _write(path, line.encode(), 0o440)
        written.append(path)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='arca-rootwrap-install',
        description='Let the services start the Arca node agent as root: '
                    'install its rootwrap filter (and, for a remote '
                    'storage node, the sudoers line) where root reads '
                    'them.')
    parser.add_argument('target', choices=sorted(TARGETS),
                        help='cinder or manila: the service host is the '
                             'storage node; node: a remote storage node')
    parser.add_argument('--root', default='/',
                        help='install under this directory instead of /')
    parser.add_argument('--sudoers-user', metavar='USER',
                        help='node only: write /etc/sudoers.d/arca for '
                             'this SSH user')
    args = parser.parse_args(argv)
    try:
        for path in install(args.target, root=args.root,
                            sudoers_user=args.sudoers_user):
            print(path)
    except (InstallError, OSError) as err:
        print('arca-rootwrap-install: %s' % err, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
