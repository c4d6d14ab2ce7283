"""Figures of the lab stack: start time, memory, a project's first objects.

Boots the lab and the stack (tests/lab/stack.py), then through the REST
APIs as the ``demo`` member: a project's first volume (which builds the
project's SVM) against its second, and its first share against its
second, each timed from the create call until the API reports it
available (polled every 0.2 s). Needs root and the ``stack`` tox
environment::

    tox -e bench-stack
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from tests.lab import stack  # noqa: E402

HEADERS = {'X-OpenStack-Manila-API-Version': '2.65'}


def wait_available(stk, url, key, token, timeout=300):
    deadline = time.monotonic() + timeout
    while True:
        body, _ = stk.request('GET', url, token=token, headers=HEADERS)
        status = body[key]['status']
        if status == 'available':
            return
        if 'error' in status or time.monotonic() > deadline:
            raise stack.StackError('%s: %s' % (url, status))
        time.sleep(0.2)


def timed_volume(stk, token, project_id, name):
    base = stk.url(stack.CINDER_PORT, '/v3/%s/volumes' % project_id)
    started = time.monotonic()
    body, _ = stk.request('POST', base, {'volume': {'size': 1,
                                                    'name': name}}, token)
    wait_available(stk, '%s/%s' % (base, body['volume']['id']), 'volume',
                   token)
    return time.monotonic() - started


def timed_share(stk, token, name):
    base = stk.url(stack.MANILA_PORT, '/v2/shares')
    started = time.monotonic()
    body, _ = stk.request('POST', base, {'share': {
        'size': 1, 'name': name, 'share_proto': 'NFS'}}, token,
        headers=HEADERS)
    wait_available(stk, '%s/%s' % (base, body['share']['id']), 'share',
                   token)
    return time.monotonic() - started


def main():
    started = time.monotonic()
    with stack.running() as stk:
        total = time.monotonic() - started
        pss = stk.pss_mib()
        token, project_id = stk.token('demo', 'demo')
        figures = [
            ('first volume (builds the SVM)',
             timed_volume(stk, token, project_id, 'bench-v1')),
            ('second volume', timed_volume(stk, token, project_id,
                                           'bench-v2')),
            ('first share (builds the SVM)',
             timed_share(stk, token, 'bench-s1')),
            ('second share', timed_share(stk, token, 'bench-s2')),
        ]
    print('stack: lab and stack up in %.1f s; services started after '
          '%.1f s, backends ready after %.1f s of the stack' % (
              total, stk.timings['services'], stk.timings['up']))
    print('PSS %.0f MiB in all: %s' % (sum(pss.values()), ', '.join(
        '%s %.0f' % item for item in sorted(pss.items()))))
    for what, seconds in figures:
        print('%-32s %6.2f s' % (what, seconds))
    return 0


if __name__ == '__main__':
    sys.exit(main())
