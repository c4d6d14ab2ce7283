"""A recording executor for unit tests.

It records every argv (and stdin) it is asked to run and answers from
scripted responses, so a test can state the exact commands an operation
issues and feed it real outputs captured from lab nodes.
"""

import json
import re

from arca_openstack import exception
from arca_openstack.node import executor
from arca_openstack.node import files


class FakeExecutor(executor.Executor):

    def __init__(self):
        super().__init__(timeout=10)
        self.commands = []
        self.inputs = []
        self._rules = []
        # Answer an lvs selection of LVs by name from the rules scripted
        # for ``lvs ... VG/NAME`` of each (see _select).
        self.lvs_by_name = False
        # No HA pair unless a test says so (a rule of its own wins).
        self.on('cat', files.CLUSTER_CONF, exit_code=1,
                stderr='cat: %s: No such file or directory\n'
                % files.CLUSTER_CONF)

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
        return self._answer(cmd, timeout)

    def _answer(self, cmd, timeout):
        if self.lvs_by_name and self._selection(cmd):
            return self._select(cmd, timeout)
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

    def _selection(self, cmd):
        """``lvs ... -S SELECTION VG`` without a rule of its own."""
        if cmd[0] != 'lvs' or '-S' not in cmd:
            return False
        return not any('-S' in rule['prefix'] and tuple(
            cmd[:len(rule['prefix'])]) == rule['prefix']
            for rule in self._rules)

    def _select(self, cmd, timeout):
        i = cmd.index('-S')
        names = re.findall(r'lv_name="([^"]+)"', cmd[i + 1])
        rows = []
        for name in names:
            single = list(cmd[:i]) + ['%s/%s' % (cmd[-1], name)]
            result = self._answer(single, timeout)
            if result.exit_code == 0:
                for section in json.loads(result.stdout)['report']:
                    rows += section.get('lv', [])
        return executor.Result(0, json.dumps({'report': [{'lv': rows}]}),
                               '')
