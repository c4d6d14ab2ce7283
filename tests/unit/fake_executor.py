"""A recording executor for unit tests.

It records every argv (and stdin) it is asked to run and answers from
scripted responses, so a test can state the exact commands an operation
issues and feed it real outputs captured from lab nodes.
"""

from arca_openstack import exception
from arca_openstack.node import executor


class FakeExecutor(executor.Executor):

    def __init__(self):
        super().__init__(timeout=10)
        self.commands = []
        self.inputs = []
        self._rules = []

    def on(self, *prefix, stdout='', stderr='', exit_code=0, times=None,
           timeout=False):
        """Answer commands starting with ``prefix``.

        The most recently added matching rule wins. ``times`` limits how
        often a rule answers; ``timeout=True`` makes it time out.
        """
        self._rules.insert(0, {'prefix': tuple(prefix), 'stdout': stdout,
                               'stderr': stderr, 'exit_code': exit_code,
                               'times': times, 'timeout': timeout})

    def _run(self, cmd, process_input, timeout):
        self.commands.append(tuple(cmd))
        self.inputs.append(process_input)
        for rule in self._rules:
            if tuple(cmd[:len(rule['prefix'])]) != rule['prefix']:
                continue
            if rule['times'] is not None:
                if rule['times'] <= 0:
                    continue
                rule['times'] -= 1
            if rule['timeout']:
                raise exception.CommandTimeout(cmd, timeout)
            return executor.Result(rule['exit_code'], rule['stdout'],
                                   rule['stderr'])
        return executor.Result(0, '', '')

    def reset(self):
        self.commands = []
        self.inputs = []

    def input_for(self, *prefix):
        """stdin given to the last command starting with ``prefix``."""
        for cmd, data in reversed(list(zip(self.commands, self.inputs))):
            if cmd[:len(prefix)] == prefix:
                return data
        raise AssertionError('no command %r was run' % (prefix,))
