"""Figures of the lab stack: start time, memory, a project's first objects.

Boots the lab and the stack (tests/lab/stack.py), then through the REST
APIs as the ``demo`` member: a project's first volume (which builds the
project's SVM) against its second, and its first share against its
second, each timed from the create call until the API reports it
available (polled every 0.2 s). Then the first volumes of several new
projects created at once (each builds its own SVM), against one
project's first volume alone: SVM builds of different projects must not
wait for each other. Needs root and the ``stack`` tox environment::

    tox -e bench-stack [-- --projects N]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from tests.lab import harness  # noqa: E402
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


def project_tokens(stk, count):
    """Tokens of ``count`` new projects (admin is given member on each)."""
    token, _ = stk.token()
    identity = stk.url(stack.KEYSTONE_PORT, '/v3')
    user_id = stk.request('GET', identity + '/users?name=admin',
                          token=token)[0]['users'][0]['id']
    role_id = stk.request('GET', identity + '/roles?name=member',
                          token=token)[0]['roles'][0]['id']
    tokens = []
    for n in range(count):
        name = 'bench-p%d' % n
        project = stk.request('POST', identity + '/projects', {'project': {
            'name': name, 'domain_id': 'default'}}, token)[0]['project']
        stk.request('PUT', '%s/projects/%s/users/%s/roles/%s' % (
            identity, project['id'], user_id, role_id), token=token)
        tokens.append(stk.token('admin', name))
    return tokens


def concurrent_first_volumes(stk, tokens):
    """(wall time, [each one's time]) of first volumes made at once."""
    times = []

    def one(pair):
        token, project_id = pair
        times.append(timed_volume(stk, token, project_id, 'bench-c'))

    started = time.monotonic()
    harness.Lab._parallel(one, tokens)
    return time.monotonic() - started, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--projects', type=int, default=4,
                        help='new projects whose first volumes are made '
                             'at once (default 4)')
    args = parser.parse_args()
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
        wall, each = concurrent_first_volumes(
            stk, project_tokens(stk, args.projects))
    print('stack: lab and stack up in %.1f s; services started after '
          '%.1f s, backends ready after %.1f s of the stack' % (
              total, stk.timings['services'], stk.timings['up']))
    print('PSS %.0f MiB in all: %s' % (sum(pss.values()), ', '.join(
        '%s %.0f' % item for item in sorted(pss.items()))))
    for what, seconds in figures:
        print('%-32s %6.2f s' % (what, seconds))
    print('%d projects\' first volumes at once: all available after '
          '%.2f s (each %.2f-%.2f s); %.1f times one first volume alone' % (
              len(each), wall, min(each), max(each), wall / figures[0][1]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
