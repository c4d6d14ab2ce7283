"""Upstream Tempest against the lab stack (tests/lab/stack.py).

Tempest, cinder-tempest-plugin and manila-tempest-plugin, as released on
PyPI, run inside the lab's network namespace against the stack's
Keystone, Cinder and Manila, with every feature the drivers support
turned on: the options of ``devstack/tempest-options``, which the
DevStack plugin sets in a DevStack's tempest.conf too, plus this stack's
own addresses, credentials, backends and types.

Suites (``SUITES``): the volume API tests, then Manila's API tests twice,
once against the backend with ``driver_handles_share_servers = False``
(per-project SVMs) and once against the one with ``True`` (share servers
on share networks of Manila's standalone network plugin). Tests that
cannot pass here are listed, each with its reason, in
``tests/tempest/exclude.txt``; ``tests/tempest/ci.txt`` is the subset CI
runs (each driver operation at least once).
"""

import json
import os
import re
import subprocess
import time

from tests.lab import backends
from tests.lab import stack as lab_stack

LISTS = os.path.join(lab_stack.ROOT, 'tests', 'tempest')
EXCLUDE = os.path.join(LISTS, 'exclude.txt')
CI_SUBSET = os.path.join(LISTS, 'ci.txt')
OPTIONS = os.path.join(lab_stack.DEVSTACK, 'tempest-options')
WORKSPACES = os.path.join(lab_stack.ROOT, '.tempest')

VOLUME_TESTS = r'^(tempest\.api\.volume|cinder_tempest_plugin\.api)\.'
SHARE_TESTS = r'^manila_tempest_tests\.tests\.api\.'
# name: (tests, share backend and type setting names or None)
SUITES = {
    'volume': (VOLUME_TESTS, None),
    'share-dhss-false': (SHARE_TESTS, ('ARCA_MANILA_BACKEND',
                                       'ARCA_MANILA_SHARE_TYPE')),
    'share-dhss-true': (SHARE_TESTS, ('ARCA_MANILA_DHSS_BACKEND',
                                      'ARCA_MANILA_DHSS_SHARE_TYPE')),
}
# Manila's dummy driver: no thin_provisioning capability, and its own
# storage protocol.
REFERENCE_SHARE_CAPABILITIES = {'capability_storage_protocol': 'NFS_CIFS',
                                'capability_thin_provisioned': False}
TOTALS = re.compile(r'^ - (Passed|Skipped|Failed|Expected Fail|'
                    r'Unexpected Success): (\d+)$', re.M)


def _lines(path):
    """The lines of ``path`` that are neither empty nor comments."""
    with open(path) as f:
        return [line.strip() for line in f
                if line.strip() and not line.lstrip().startswith('#')]


def options(path=OPTIONS):
    """[(section, option, value)] of the plugin's tempest-options file."""
    found = []
    for line in _lines(path):
        words = line.split(None, 2)
        if len(words) < 2:
            raise ValueError('%s: not "section option value": %r'
                             % (path, line))
        found.append((words[0], words[1],
                      words[2] if len(words) == 3 else ''))
    return found


def _version_key(version):
    return tuple(int(part) for part in version.split('.'))


def max_microversion(stack, port, path):
    """The newest microversion of the API version document at ``path``."""
    body, _headers = stack.request('GET', stack.url(port, path),
                                   ok=(200, 300))
    return max((v['version'] for v in body['versions']
                if v.get('version')), key=_version_key)


def config(stack, suite):
    """{section: {option: value}} of tempest.conf for one suite."""
    s = stack.settings
    conf = {}
    for section, option, value in options():
        conf.setdefault(section, {})[option] = value
    identity = stack.url(lab_stack.KEYSTONE_PORT, '/v3')
    conf.setdefault('DEFAULT', {}).update(log_file='tempest.log')
    conf.setdefault('auth', {}).update(
        admin_username='admin', admin_password=lab_stack.PASSWORD,
        admin_project_name='admin', admin_domain_name='Default',
        use_dynamic_credentials=True, create_isolated_networks=False,
        tempest_roles='member')
    conf.setdefault('identity', {}).update(
        uri_v3=identity, auth_version='v3', region=lab_stack.REGION)
    conf.setdefault('identity-feature-enabled', {}).update(api_v2=False)
    # Glance is not in the stack, but two volume test classes cannot even
    # set up without an image client (only made when Glance is said to
    # be available): the tests that really use Glance are excluded.
    conf.setdefault('service_available', {}).update(
        cinder=True, manila=True, nova=False, glance=True, neutron=False,
        swift=False, horizon=False)
    conf.setdefault('volume', {}).update(
        catalog_type='volumev3', region=lab_stack.REGION,
        backend_names=s['ARCA_CINDER_BACKEND'],
        volume_type=s['ARCA_CINDER_VOLUME_TYPE'],
        min_microversion='3.0',
        max_microversion=max_microversion(
            stack, lab_stack.CINDER_PORT, '/'),
        build_timeout=300, build_interval=2)
    share = conf.setdefault('share', {})
    share.update(catalog_type='sharev2', region=lab_stack.REGION,
                 min_api_microversion='2.0',
                 max_api_microversion=max_microversion(
                     stack, lab_stack.MANILA_PORT, '/'),
                 build_timeout=300, build_interval=2,
                 suppress_errors_in_cleanup=False)
    if stack.reference:
        # What the reference drivers report of themselves, where it
        # differs from the Arca backends (types made by the share tests
        # ask for these capabilities).
        share.update(REFERENCE_SHARE_CAPABILITIES)
    backend = SUITES[suite][1]
    if backend:
        backend_name, type_name = (s[k] for k in backend)
        dhss = suite.endswith('-true')
        share.update(backend_names=backend_name,
                     default_share_type_name=type_name,
                     multitenancy_enabled=dhss,
                     create_networks_when_multitenancy_enabled=False,
                     multi_backend=False)
    return conf


def workspace_path(suite, reference=False):
    """.tempest/SUITE of the checkout, or SUITE-reference.

    SUITE-reference holds the runs with the reference drivers. Outside
    the lab's folder, so that their config, logs and results stay after
    the lab is gone.
    """
    return os.path.join(WORKSPACES, suite + ('-reference' if reference
                                             else ''))


def workspace(stack, suite):
    """The suite's Tempest workspace, with its tempest.conf written."""
    where = workspace_path(suite, stack.reference)
    os.makedirs(os.path.join(where, 'etc'), exist_ok=True)
    backends.write_conf(os.path.join(where, 'etc', 'tempest.conf'),
                        config(stack, suite))
    return where


def subset_regex(suite, path=CI_SUBSET):
    """One regex of the CI subset's lines that belong to ``suite``.

    The lines are regexes themselves; a line belongs to the suite when
    the test id it spells (anchor and escapes dropped) is one of the
    suite's tests.
    """
    tests = SUITES[suite][0]
    include = [line for line in _lines(path)
               if re.match(tests, line.lstrip('^').replace('\\', ''))]
    if not include:
        raise ValueError('%s lists no test of suite %s' % (path, suite))
    return '|'.join('(%s)' % line for line in include)


def run(stack, suite, subset=False, concurrency=2, regex=None):
    """Run one suite; {'passed': N, 'skipped': N, 'failed': N, ...}.

    :param subset: only the tests of tests/tempest/ci.txt.
    :param regex: only the suite's tests this also matches.
    """
    where = workspace(stack, suite)
    tests = SUITES[suite][0]
    # With --config-file, tempest run writes the workspace's .stestr.conf
    # itself (no `tempest init`: it registers workspaces under ~), but
    # only when there is none: one written by another venv (tox -e
    # tempest or tempest-ci) would point discovery at that venv's Tempest.
    stale = os.path.join(where, '.stestr.conf')
    if os.path.exists(stale):
        os.unlink(stale)
    argv = [os.path.join(lab_stack.BIN, 'tempest'), 'run',
            '--config-file', os.path.join(where, 'etc', 'tempest.conf'),
            '--concurrency', str(concurrency),
            '--exclude-list', EXCLUDE]
    if subset:
        argv += ['--regex', subset_regex(suite)]
    else:
        argv += ['--regex', tests]
    if regex:
        argv[-1] = '(?=%s).*(%s)' % (argv[-1], regex)
    log = os.path.join(where, 'run.log')
    started = time.monotonic()
    with open(log, 'w') as out:
        proc = subprocess.run(
            ['nsenter', '--net=/run/netns/' + stack.netns] + argv,
            cwd=where, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, OS_TEST_TIMEOUT='900'))
    with open(log) as f:
        text = f.read()
    counts = {key.lower().replace(' ', '_'): int(n)
              for key, n in TOTALS.findall(text)}
    counts.update(suite=suite, seconds=round(time.monotonic() - started),
                  exit_code=proc.returncode, log=log)
    if proc.returncode and not counts.get('passed'):
        print(text[-3000:])
    for line in text.splitlines():
        if line.endswith('... FAILED'):
            print(line)
    return counts


# One result line of a stestr run's output: {worker} id [time] ... status
RESULT = re.compile(r'^\{\d+\} (?P<id>\S+(?: \([\w.]+\))?)'
                    r'(?: \[[\d.]+s\])? \.\.\. (?P<status>ok|SKIPPED|FAILED)')


def outcomes(log):
    """{test id: 'ok'|'SKIPPED'|'FAILED'} of a run.log, attributes dropped.

    A class that failed to set up (``setUpClass (module.Class)``) is one
    entry too, as stestr reports it.
    """
    found = {}
    with open(log) as f:
        for line in f:
            match = RESULT.match(line.rstrip('\n'))
            if match:
                test = re.sub(r'\[[^\]]*\]$', '', match.group('id'))
                found[test] = match.group('status')
    return found


def compare(ours, reference):
    """What the reference drivers passed and ours did not, and back.

    :param ours, reference: :func:`outcomes` of two runs of one suite.
    :returns: {'not_passed': {test: our status, or 'not run'},
               'only_ours': [tests we passed that the reference did not]}
    """
    not_passed = {test: ours.get(test, 'not run')
                  for test, status in reference.items()
                  if status == 'ok' and ours.get(test) != 'ok'}
    only_ours = sorted(test for test, status in ours.items()
                       if status == 'ok' and reference.get(test) != 'ok')
    return {'not_passed': dict(sorted(not_passed.items())),
            'only_ours': only_ours}


def report(results):
    """The counts of each suite, one line each, as JSON."""
    return '\n'.join(json.dumps(r, sort_keys=True) for r in results)
