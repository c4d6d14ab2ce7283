"""One OpenStack API under cheroot, a pure-Python threaded WSGI server.

    python -m tests.lab.stack_wsgi keystone|cinder|manila HOST PORT \\
        [--config-file FILE]

Keystone reads its configuration files from ``OS_KEYSTONE_CONFIG_FILES``;
Cinder and Manila from the arguments after the port, as their own WSGI
modules read them from ``sys.argv``. The process serves until SIGTERM.
No eventlet monkey-patching: the APIs run in cheroot's threads, as they
do under uWSGI or mod_wsgi in a deployment.
"""

import signal
import sys

from cheroot import wsgi


def application(name, args):
    """The WSGI application of API ``name`` built from its configuration."""
    # Every one of them parses sys.argv for oslo.config options.
    sys.argv = ['%s-api' % name] + list(args)
    if name == 'keystone':
        from keystone.server import wsgi as keystone_wsgi
        return keystone_wsgi.initialize_public_application()
    if name == 'cinder':
        from cinder.wsgi import wsgi as cinder_wsgi
        return cinder_wsgi.initialize_application()
    if name == 'manila':
        from manila.wsgi import wsgi as manila_wsgi
        return manila_wsgi.initialize_application()
    raise SystemExit('unknown API %r' % name)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 3:
        raise SystemExit(__doc__)
    name, host, port = argv[:3]
    app = application(name, argv[3:])
    server = wsgi.Server((host, int(port)), app, numthreads=16,
                         server_name=name)

    def stop(signum, frame):
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.start()


if __name__ == '__main__':
    main()
