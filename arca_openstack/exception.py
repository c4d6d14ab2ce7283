"""Typed errors raised by the node library.

Drivers translate these into Cinder and Manila exceptions; the messages
are written for an operator reading a log.
"""


class ArcaError(Exception):
    """Base class of every error the node library raises."""

    message = 'An unknown Arca storage error occurred.'

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            message = self.message % kwargs if kwargs else self.message
        super().__init__(message)
        self.msg = message


class InvalidInput(ArcaError, ValueError):
    """A name, size, address or other argument failed validation.

    Raised before any command is issued.
    """

    message = 'Invalid %(what)s %(value)r: %(reason)s'


class CommandFailed(ArcaError):
    """A node command exited with an unexpected status."""

    message = ('Command %(cmd)s failed with exit code %(exit_code)s: '
               '%(stderr)s')

    def __init__(self, cmd, exit_code, stdout='', stderr=''):
        self.cmd = tuple(cmd)
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(cmd=' '.join(self.cmd), exit_code=exit_code,
                         stderr=(stderr or '').strip()[-500:])


class CommandTimeout(CommandFailed):
    """A node command did not finish within its timeout."""

    def __init__(self, cmd, timeout):
        super().__init__(cmd, None, '', 'timed out after %ss' % timeout)
        self.timeout = timeout


class NodeUnreachable(ArcaError):
    message = 'Storage node %(host)s is unreachable: %(reason)s'


class NotFound(ArcaError):
    message = '%(what)s %(name)s not found'


class InUse(ArcaError):
    message = '%(what)s %(name)s is in use: %(reason)s'


class Conflict(ArcaError):
    """The node holds something under this name that is not what we asked."""

    message = '%(what)s %(name)s conflicts with existing state: %(reason)s'


class CapacityExceeded(ArcaError):
    message = 'Not enough space in %(where)s: %(reason)s'


class ServiceFailed(ArcaError):
    """A node daemon did not start, stop or apply a change as asked."""

    message = '%(service)s failed: %(reason)s'


class ConfigInvalid(ArcaError):
    """A rendered configuration failed its own check and was not applied."""

    message = 'Configuration %(path)s is invalid: %(reason)s'


class ParseError(ArcaError):
    message = 'Cannot parse output of %(what)s: %(reason)s'
