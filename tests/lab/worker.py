"""A driver in a process of its own, driven one JSON line at a time.

Cinder and Manila cannot be imported into one process, so lab tests that
drive both start a worker module per service (``python -m MODULE
SERVICE``) and talk to it over its stdin and stdout; its stderr goes to a
file in the test's work folder, shown when an answer does not come.
"""

import json
import os
import queue
import subprocess
import sys
import threading

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class Worker(object):
    """One service's process, one JSON line a turn.

    :param timeouts: seconds to wait for the answer to each command.
    :param quit: what tells the worker to end.
    """

    def __init__(self, module, service, workdir, timeouts, quit='quit'):
        self.service = service
        self.timeouts = timeouts
        self.quit = quit
        self.stderr_path = os.path.join(workdir, service + '.stderr')
        self._stderr = open(self.stderr_path, 'w')
        self.proc = subprocess.Popen(
            [sys.executable, '-m', module, service], cwd=REPO,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, text=True)
        self._lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def send(self, doc):
        self.proc.stdin.write((doc if isinstance(doc, str)
                               else json.dumps(doc)) + '\n')
        self.proc.stdin.flush()

    def receive(self, what):
        try:
            line = self._lines.get(timeout=self.timeouts[what])
        except queue.Empty:
            line = None
        if line is None:
            raise AssertionError('%s worker: no answer to %s:\n%s' % (
                self.service, what, self.stderr_tail()))
        return json.loads(line)

    def call(self, command):
        self.send(command)
        return self.receive(command)

    def stderr_tail(self, lines=60):
        with open(self.stderr_path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])

    def stop(self):
        try:
            if self.proc.poll() is None:
                self.send(self.quit)
                self.proc.stdin.close()
                self.proc.wait(60)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self._stderr.close()
