"""``arca-node serve``: answer requests on stdin/stdout, one at a time.

The caller (an SSH channel, or the service's root helper) owns the
process: it ends when its input ends. Several sessions may run at once;
what must not interleave is ordered by the node library's file locks,
which every session on the node shares.
"""

import sys

from oslo_log import log as logging

from arca_openstack import exception
from arca_openstack.wire import protocol

LOG = logging.getLogger(__name__)


def answer(node, line):
    """The response line to request ``line``."""
    request_id = None
    try:
        doc = protocol.loads(line)
        request_id = doc.get('id')
        if not isinstance(request_id, int) or isinstance(request_id, bool):
            raise protocol.ProtocolError(reason='request without an id')
        result = node.call(doc.get('op'), doc.get('args', {}))
        return protocol.dumps({'id': request_id, 'result': result})
    except exception.ArcaError as err:
        if not isinstance(err, exception.InvalidInput):
            LOG.info('%s', err)
        return protocol.dumps({'id': request_id,
                               'error': protocol.error_doc(err)})
    except Exception as err:
        LOG.exception('Unexpected error in a request')
        return protocol.dumps({'id': request_id, 'error': {
            'type': type(err).__name__, 'message': str(err)}})


def serve(node, stdin=None, stdout=None):
    """Answer every request line until the input ends."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    stdout.write(protocol.dumps(protocol.hello()))
    stdout.flush()
    while True:
        line = stdin.readline(protocol.MAX_LINE + 1)
        if not line:
            return
        if not line.endswith(b'\n') and len(line) > protocol.MAX_LINE:
            LOG.error('Request longer than %d bytes: session closed.',
                      protocol.MAX_LINE)
            return
        stdout.write(answer(node, line))
        stdout.flush()
