"""Unit tests of the lab's fence agent and fence service (tests/lab).

No guest is booted: the agent's input parsing, its metadata and its
actions against a fake harness, the service's checks of a request and its
answers with fake nodes, and the lab's package lists.
"""

from importlib import machinery
from importlib import util
import io
import json
import os
import re
import shlex
import socket
import threading
from xml.etree import ElementTree

import ddt
import fixtures
import testtools

from tests.lab import fence
from tests.lab import harness

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TOKEN = 'ab' * 32
LAB = 'arcalab123'


def load_agent():
    loader = machinery.SourceFileLoader('fence_arcalab', fence.AGENT)
    spec = util.spec_from_loader('fence_arcalab', loader)
    module = util.module_from_spec(spec)
    loader.exec_module(module)
    return module


agent = load_agent()


def request(action='status', node='s2', token=TOKEN, lab=LAB, v=1):
    message = {'v': v, 'lab': lab, 'token': token, 'action': action}
    if node is not None:
        message['node'] = node
    return json.dumps(message)


@ddt.ddt
class AgentInputTestCase(testtools.TestCase):

    def test_stdin_as_pacemaker_sends_it(self):
        options, warnings = agent.parse_stdin(
            '# fenced\naction=reboot\nport=s2\nnodename=s1\n\n'
            'config="/etc/x.conf"\ntimeout=30\n')
        self.assertEqual({'action': 'reboot', 'plug': 's2',
                          'config': '/etc/x.conf', 'timeout': '30'},
                         options)
        self.assertEqual([], warnings)

    def test_stdin_aliases_and_unknown_keys(self):
        options, warnings = agent.parse_stdin(
            'option=off\nplug=s1\npcmk_whatever=1\nnovalue\n')
        self.assertEqual({'action': 'off', 'plug': 's1'}, options)
        self.assertEqual(2, len(warnings))
        self.assertIn('pcmk_whatever=1', warnings[0])

    @ddt.data((['-o', 'off', '-n', 's2'], {'action': 'off', 'plug': 's2'}),
              (['--action=status', '--port=s1', '-c', '/x', '-t', '5'],
               {'action': 'status', 'plug': 's1', 'config': '/x',
                'timeout': '5'}))
    @ddt.unpack
    def test_argv(self, argv, expected):
        self.assertEqual(expected, agent.parse_argv(argv))

    @ddt.data(['-x'], ['-o', 'off', 'extra'])
    def test_bad_argv(self, argv):
        self.assertRaises(agent.Failure, agent.parse_argv, argv)

    def test_defaults(self):
        self.assertEqual(('reboot', 's1', agent.DEFAULT_CONFIG, 60.0),
                         agent.check_options({'plug': 's1'}))
        self.assertEqual(('monitor', None, agent.DEFAULT_CONFIG, 60.0),
                         agent.check_options({'action': 'monitor'}))

    @ddt.data({'action': 'halt', 'plug': 's1'}, {'action': 'off'},
              {'action': 'status', 'plug': ''},
              {'action': 'list', 'timeout': 'soon'},
              {'action': 'list', 'timeout': '0'})
    def test_bad_options(self, options):
        self.assertRaises(agent.Failure, agent.check_options, options)

    def test_config(self):
        config = agent.parse_config(fence.render_config(
            '10.97.0.254', 4242, LAB, TOKEN))
        self.assertEqual({'address': '10.97.0.254', 'port': 4242,
                          'lab': LAB, 'token': TOKEN}, config)

    @ddt.data('address=a\nport=1\nlab=l\n', 'address=a\nport=x\nlab=l\n'
              'token=t\n')
    def test_bad_config(self, text):
        self.assertRaises(agent.Failure, agent.parse_config, text)

    def test_missing_config_file(self):
        err = io.StringIO()
        rc = agent.main(['-o', 'status', '-n', 's1', '-c', '/nonexistent'],
                        out=io.StringIO(), err=err)
        self.assertEqual(1, rc)
        self.assertIn('cannot read fence config /nonexistent',
                      err.getvalue())

    def test_metadata(self):
        out = io.StringIO()
        self.assertEqual(0, agent.main([], stdin=io.StringIO(
            'action=metadata\n'), out=out))
        root = ElementTree.fromstring(out.getvalue().encode())
        self.assertEqual('fence_arcalab', root.get('name'))
        self.assertEqual(
            ['on', 'off', 'reboot', 'status', 'monitor', 'list',
             'metadata', 'validate-all'],
            [a.get('name') for a in root.iter('action')])
        params = {p.get('name'): p for p in root.iter('parameter')}
        self.assertEqual({'action', 'plug', 'port', 'config', 'timeout'},
                         set(params))
        self.assertEqual('port', params['plug'].get('obsoletes'))
        self.assertEqual(agent.DEFAULT_CONFIG, params['config'].find(
            'content').get('default'))


class FakeNode(object):

    def __init__(self, running=True):
        self.proc = FakeProc() if running else None
        self.killed = self.started = 0

    @property
    def running(self):
        return self.proc is not None

    def kill(self):
        self.killed += 1
        self.proc = None

    def start(self, wait=True):
        self.started += 1
        self.proc = FakeProc()

    def wait_ready(self):
        pass


class FakeProc(object):
    # A pid that cannot exist (above any pid_max).
    pid = 1 << 30


class FakeLab(object):
    netns = LAB

    def __init__(self):
        self.nodes = {'s1': FakeNode(), 's2': FakeNode(),
                      's3': FakeNode(running=False)}


@ddt.ddt
class ServiceTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.lab = FakeLab()
        self.service = fence.FenceService(self.lab, '127.0.0.1')
        self.service.token = TOKEN
        self.service._make_thread = threading.Thread

    def assertRefused(self, line, words):
        answer = self.service.answer(line)
        self.assertFalse(answer['ok'], answer)
        self.assertIn(words, answer['error'])
        self.assertEqual([0, 0, 0], [n.killed for n in
                                     self.lab.nodes.values()])
        self.assertEqual([0, 0, 0], [n.started for n in
                                     self.lab.nodes.values()])

    @ddt.data((request(token='cd' * 32), 'bad token'),
              (request(token=None), 'bad token'),
              (request(lab='arcalab999'), "wrong lab 'arcalab999'"),
              (request(node='s9'), "no node 's9' in lab arcalab123"),
              (request(node=None), 'no node None'),
              (request(node=['s1']), 'no node'),
              (request(action='halt'), "unknown action 'halt'"),
              (request(v=2), 'unknown protocol version 2'),
              ('{"v": 1', 'not JSON'), ('[1]', 'not a JSON object'))
    @ddt.unpack
    def test_refused(self, line, words):
        self.assertRefused(line, words)

    def test_wrong_token_checked_before_anything(self):
        # A caller without the token learns nothing about the lab.
        answer = self.service.answer(request(token='x', lab='other',
                                             node='s9'))
        self.assertEqual('bad token', answer['error'])

    def test_ping_and_list(self):
        self.assertEqual({'ok': True}, self.service.answer(
            request('ping', None)))
        self.assertEqual({'ok': True, 'nodes': ['s1', 's2', 's3']},
                         self.service.answer(request('list', None)))

    def test_status_off(self):
        self.assertEqual('on', self.service.answer(request())['status'])
        answer = self.service.answer(request('off'))
        self.assertEqual((True, 'off', FakeProc.pid),
                         (answer['ok'], answer['status'], answer['pid']))
        self.assertEqual(1, self.lab.nodes['s2'].killed)
        self.assertEqual('off', self.service.answer(request())['status'])
        answer = self.service.answer(request('off'))
        self.assertEqual('already off', answer['message'])
        self.assertEqual(1, self.lab.nodes['s2'].killed)
        self.assertEqual(0, self.lab.nodes['s1'].killed)

    def test_off_fails_if_process_stays(self):
        self.lab.nodes['s2'].kill = lambda: None
        answer = self.service.answer(request('off'))
        self.assertFalse(answer['ok'])
        self.assertIn('still there', answer['error'])

    def test_on_disabled_by_default(self):
        self.assertRefused(request('on', 's3'), 'power on is disabled')

    def test_on(self):
        self.service.power_on = True
        answer = self.service.answer(request('on', 's3'))
        self.assertEqual(('on', 'booting'), (answer['status'],
                                             answer['message']))
        self.assertEqual(1, self.lab.nodes['s3'].started)
        answer = self.service.answer(request('on', 's3'))
        self.assertEqual('already on', answer['message'])
        self.assertEqual(1, self.lab.nodes['s3'].started)

    def test_requests_recorded(self):
        self.lab.nodes['s1'].address = '10.97.0.1'
        self.service.answer(request('off'), '10.97.0.1')
        self.service.answer(request(token='x'), '10.97.0.9')
        self.assertEqual(
            [('s1', 'off', 's2', True, 'off'),
             ('10.97.0.9', None, None, False, 'bad token')],
            self.service.requests)

    def test_refused_after_stop(self):
        self.service.stop()
        self.assertRefused(request('off'), 'shutting down')


class AgentServiceTestCase(testtools.TestCase):
    """The agent against a service on loopback (no namespace)."""

    def setUp(self):
        super().setUp()
        self.lab = FakeLab()
        self.service = fence.FenceService(self.lab, '127.0.0.1')
        self.service.start(threading.Thread, lambda: None)
        self.addCleanup(self.service.stop)
        self.config = self.write_config(self.service.token)

    def write_config(self, token, lab=LAB):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'fence.conf')
        with open(path, 'w') as f:
            f.write(fence.render_config('127.0.0.1', self.service.port, lab,
                                        token))
        return path

    def agent(self, stdin, config=None):
        out, err = io.StringIO(), io.StringIO()
        stdin += '\nconfig=%s\n' % (config or self.config)
        rc = agent.main([], stdin=io.StringIO(stdin), out=out, err=err)
        return rc, out.getvalue(), err.getvalue()

    def test_status_off_status(self):
        self.assertEqual((0, 'Status: ON\n', ''),
                         self.agent('action=status\nplug=s2'))
        rc, out, err = self.agent('action=off\nport=s2\nnodename=s1')
        self.assertEqual((0, ''), (rc, err))
        self.assertIn('Success: s2 is off', out)
        self.assertEqual(1, self.lab.nodes['s2'].killed)
        self.assertEqual((2, 'Status: OFF\n', ''),
                         self.agent('action=status\nplug=s2'))

    def test_reboot_with_power_on_disabled(self):
        rc, out, err = self.agent('action=reboot\nplug=s1')
        self.assertEqual(0, rc)
        self.assertIn('not powered on again', out)
        self.assertFalse(self.lab.nodes['s1'].running)

    def test_reboot(self):
        self.service.power_on = True
        rc, out, err = self.agent('action=reboot\nplug=s1')
        self.assertEqual(0, rc, err)
        node = self.lab.nodes['s1']
        self.assertEqual((1, 1, True),
                         (node.killed, node.started, node.running))

    def test_monitor_and_list(self):
        self.assertEqual(0, self.agent('action=monitor')[0])
        self.assertEqual((0, 's1,s1\ns2,s2\ns3,s3\n', ''),
                         self.agent('action=list'))

    def test_wrong_token(self):
        rc, out, err = self.agent('action=off\nplug=s2',
                                  self.write_config('cd' * 32))
        self.assertEqual(1, rc)
        self.assertIn('refused by the lab harness: bad token', err)
        self.assertTrue(self.lab.nodes['s2'].running)

    def test_unreachable(self):
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
        sock.close()
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'fence.conf')
        with open(path, 'w') as f:
            f.write(fence.render_config('127.0.0.1', port, LAB, TOKEN))
        rc, out, err = self.agent('action=monitor', path)
        self.assertEqual(1, rc)
        self.assertIn('cannot reach the lab harness at 127.0.0.1', err)


class PackagesTestCase(testtools.TestCase):

    def test_install_script_and_harness_agree(self):
        with open(os.path.join(ROOT, 'tools', 'lab-install.sh')) as f:
            text = f.read()
        match = re.search(r'^PACKAGES="([^"]*)"', text, re.M)
        self.assertIsNotNone(match)
        self.assertEqual(sorted(harness.PACKAGES),
                         sorted(shlex.split(match.group(1))))
        for pkg in ('pacemaker', 'corosync', 'pacemaker-cli-utils',
                    'resource-agents', 'fence-agents', 'drbd-utils'):
            self.assertIn(pkg, harness.PACKAGES)
