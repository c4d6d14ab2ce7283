"""How the agent runs its commands: it is root already.

No root helper, and no Python code between fork and exec (oslo's
processutils always passes one, which forces a full fork of the agent
where a vfork would do): a command costs its own start only. The forms of
:mod:`arca_openstack.agent.builtins` cost no process at all.
"""

import os
import subprocess

from arca_openstack.agent import builtins
from arca_openstack import exception
from arca_openstack.node import executor

# The library reads the commands' messages ('No such file'...).
_ENV = dict(os.environ, LC_ALL='C')


class RootExecutor(executor.Executor):
    """Run argv lists as this process (root), builtins in-process."""

    def _run(self, cmd, process_input, timeout):
        builtin = builtins.find(cmd)
        if builtin is not None:
            return builtin(cmd, process_input)
        data = process_input
        if isinstance(data, str):
            data = data.encode('utf-8')
        try:
            # stdin is the protocol's channel: a command never sees it.
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL if data is None else
                subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=_ENV)
        except OSError as err:
            raise exception.CommandFailed(cmd, 127, '', str(err))
        try:
            stdout, stderr = proc.communicate(data, timeout=timeout)
        except Exception as err:
            if not executor.is_timeout(err):
                raise
            proc.kill()
            proc.wait()
            raise exception.CommandTimeout(cmd, timeout)
        return executor.Result(proc.returncode,
                               stdout.decode('utf-8', 'replace'),
                               stderr.decode('utf-8', 'replace'))
