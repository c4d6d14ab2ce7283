"""arca-openstack installed in a lab guest as ``pip install`` lays it out.

For the Debian python3 (with the oslo libraries from Debian packages),
system-wide: the package under its purelib folder (/usr/local/lib/
python3.*/dist-packages), the data_files under /usr/local/etc and the
console scripts in /usr/local/bin. The guests cannot use the test's own
virtualenv or checkout: they hide /root and /tmp.
"""

import base64
import io
import os
import tarfile

BIN = '/usr/local/bin'
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# What pip writes for the package's console_scripts (setup.cfg).
SCRIPTS = {
    'arca-node': ('arca_openstack.cmd.arca_node', 'main'),
    'arca-rootwrap-install': ('arca_openstack.cmd.install_rootwrap',
                              'main'),
}
SCRIPT = """#!/usr/bin/python3
import sys
from %s import %s
if __name__ == '__main__':
    sys.exit(%s())
"""


def package_files():
    """The package's modules, relative to the tree (and to purelib)."""
    files = []
    for folder, _dirs, names in os.walk(os.path.join(SOURCE,
                                                     'arca_openstack')):
        for name in names:
            if name.endswith('.py'):
                files.append(os.path.relpath(os.path.join(folder, name),
                                             SOURCE))
    return sorted(files)


def data_files():
    """(file in this tree, where pip installs it)"""
    return [('etc/arca/rootwrap.conf', '/usr/local/etc/arca/rootwrap.conf')
            ] + [('etc/rootwrap.d/' + name,
                  '/usr/local/etc/arca/rootwrap.d/' + name)
                 for name in sorted(os.listdir(os.path.join(
                     SOURCE, 'etc', 'rootwrap.d')))]


def purelib(node):
    return node.run('/usr/bin/python3', '-c', 'import sysconfig; '
                    'print(sysconfig.get_path("purelib"))').stdout.strip()


def install(node):
    """Install the package on ``node``; returns its purelib folder."""
    site = purelib(node)
    # The package in one command (base64 of a tar: the executor's input
    # is text).
    tarball = io.BytesIO()
    with tarfile.open(fileobj=tarball, mode='w:gz') as tar:
        for rel in package_files():
            tar.add(os.path.join(SOURCE, rel), arcname=rel)
    node.run('sh', '-c', 'mkdir -p "$1" && base64 -d | tar -xzf - -C "$1"',
             'sh', site, input=base64.b64encode(tarball.getvalue()).decode())
    for rel, path in data_files():
        with open(os.path.join(SOURCE, rel)) as src:
            node.run('sh', '-c', 'mkdir -p "${1%/*}" && cat > "$1"', 'sh',
                     path, input=src.read())
    for name, (module, func) in SCRIPTS.items():
        path = '%s/%s' % (BIN, name)
        node.run('tee', path, input=SCRIPT % (module, func, func))
        node.run('chmod', '755', path)
    return site


def uninstall_script(site, user):
    """A script undoing :func:`install` and :func:`login_user`."""
    return ('userdel -r %s 2>/dev/null; rm -rf /etc/sudoers.d/arca '
            '/etc/arca/rootwrap.d /etc/arca/rootwrap.conf %s '
            '%s/arca_openstack /usr/local/etc/arca' % (
                user, ' '.join('%s/%s' % (BIN, n) for n in SCRIPTS), site))


def login_user(node, user):
    """The install guide's login user with the agent's sudoers line."""
    node.sh('id %s >/dev/null 2>&1 || useradd -m %s; usermod -p "*" %s; '
            '%s/arca-rootwrap-install node --sudoers-user %s'
            % (user, user, user, BIN, user))
