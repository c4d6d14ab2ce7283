"""Command line of the test lab.

    python -m tests.lab install     # check/apt-get install the packages
    python -m tests.lab up [-s 2] [-c 1] [--mem 512] [--ha-disk 1] [--fencing]
    python -m tests.lab smoke [--keep-logs]
    python -m tests.lab demo        # the Arca flow through both drivers
    python -m tests.lab demo --via cinder|manila|node  # one flow
    python -m tests.lab stack up    # Keystone, Cinder, Manila + a lab
    python -m tests.lab stack down  # stop the stack started by `stack up`
    python -m tests.lab tempest [--subset] [--suite S]  # Tempest on a stack
    python -m tests.lab cleanup     # remove namespaces of crashed labs
"""

import argparse
import os
import signal
import subprocess
import sys
import time

from tests.lab import demo
from tests.lab import harness
from tests.lab import stack
from tests.lab import tempest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
INSTALL_SCRIPT = os.path.join(ROOT, 'tools', 'lab-install.sh')

ECHO_SERVER = ("import socket\n"
               "s = socket.socket()\n"
               "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
               "s.bind(('{addr}', 7000))\n"
               "s.listen(1)\n"
               "s.settimeout(60)\n"
               "c, _ = s.accept()\n"
               "c.sendall(b'echo:' + c.recv(100))\n")
ECHO_CLIENT = ("import socket\n"
               "c = socket.create_connection(('{addr}', 7000), 10)\n"
               "c.sendall(b'{word}')\n"
               "print(c.recv(100).decode())\n")


def cmd_install(args):
    missing = harness.missing_packages()
    if not missing:
        print('lab packages: all installed')
        return 0
    print('lab packages missing: %s' % ' '.join(missing))
    return subprocess.call(['sh', INSTALL_SCRIPT])


def _specs(args):
    specs = [harness.NodeSpec('s%d' % i, 'storage', disk_gib=args.disk,
                              ha_disk_gib=getattr(args, 'ha_disk', 0))
             for i in range(1, args.storage + 1)]
    specs += [harness.NodeSpec('c%d' % i, 'client')
              for i in range(1, args.clients + 1)]
    return specs


def cmd_up(args):
    removed = harness.Lab.cleanup_stale()
    if removed:
        print('removed stale namespaces: %s' % ' '.join(removed))
    with harness.Lab(_specs(args), mem=args.mem,
                     keep_logs=args.keep_logs,
                     fencing=args.fencing) as lab:
        for node in lab.nodes.values():
            if node.disk and args.thin_pool:
                node.ensure_thin_pool()
        print('lab %s up in %.1fs (workdir %s)' % (
            lab.netns, lab.timings['up'], lab.workdir))
        for node in lab.nodes.values():
            print('  %-4s %-8s %-10s hostname=%s disk=%s%s console=%s' % (
                node.name, node.role, node.address, node.hostname,
                node.disk or '-', ' ha_disk=' + node.ha_disk
                if node.ha_disk else '', node.log_file))
        if lab.fence is not None:
            print('fencing: fence_arcalab in every guest, harness on '
                  '%s:%d' % (lab.fence.address, lab.fence.port))
        print('reach a node:\n  ip netns exec %s ssh -i %s '
              '-o UserKnownHostsFile=%s root@%s' % (
                  lab.netns, lab.key_file, lab.known_hosts,
                  next(iter(lab.nodes.values())).address))
        print('Ctrl-C to tear down.')
        try:
            while all(n.running for n in lab.nodes.values()):
                time.sleep(1)
            print('a guest exited; tearing down')
        except KeyboardInterrupt:
            print()
    print('torn down in %.1fs' % lab.timings['teardown'])
    return 0


def _check(what, ok, detail=''):
    print('  %-44s %s %s' % (what, 'OK ' if ok else 'FAIL', detail))
    if not ok:
        raise harness.LabError('smoke check failed: %s %s' % (what, detail))


def _smoke_checks(lab):
    s1, s2, c1 = lab.node('s1'), lab.node('s2'), lab.node('c1')
    names = [n.hostname for n in (s1, s2, c1)]
    _check('3 nodes booted, SSHExecutor on each', all(names), names)
    _check('distinct hostnames', len(set(names)) == 3)

    # s1: thin pool, thin LV, XFS, mount, write.
    t = time.monotonic()
    s1.ensure_thin_pool()
    s1.run('lvcreate', '-y', '-V', '2G', '-T', 'arca/pool', '-n', 'vol1')
    s1.run('mkfs.xfs', '-q', '/dev/arca/vol1', timeout=120)
    s1.run('mkdir', '-p', '/mnt/vol1')
    s1.run('mount', '-o', 'pquota', '/dev/arca/vol1', '/mnt/vol1')
    s1.run('sh', '-c', 'echo arca-smoke > /mnt/vol1/proof')
    out = s1.run('lvs', '--noheadings', '-o', 'lv_name,data_percent',
                 'arca').stdout
    _check('s1: thin pool + thin LV + xfs + mount',
           'vol1' in out, '(%.1fs)' % (time.monotonic() - t))

    # s2: its own disk and the DRBD / dm modules.
    out = s2.run('sh', '-c', 'cat /proc/drbd; ls /dev/ubda; '
                 'grep -c thin /proc/modules').stdout
    _check('s2: /dev/ubda, drbd and dm-thin loaded',
           'version: 8.4' in out and '/dev/ubda' in out)

    # c1: NFS v4 client available.
    out = c1.run('grep', 'nfs4', '/proc/filesystems', check=False).stdout
    _check('c1: nfs4 filesystem available', 'nfs4' in out)

    # VLAN 100 over the lab bridge, s1 <-> c1.
    for node, addr in ((s1, '10.100.0.1/24'), (c1, '10.100.0.3/24')):
        node.run('ip', 'link', 'add', 'link', 'eth0', 'name', 'eth0.100',
                 'type', 'vlan', 'id', '100')
        node.run('ip', 'addr', 'add', addr, 'dev', 'eth0.100')
        node.run('ip', 'link', 'set', 'eth0.100', 'up')
    c1.run('sh', '-c', 'python3 -c "$0" >/dev/null 2>&1 &',
           ECHO_SERVER.format(addr='10.100.0.3'))
    reply = ''
    for _ in range(30):
        res = s1.run('python3', '-c', ECHO_CLIENT.format(
            addr='10.100.0.3', word='vlan100'), check=False)
        reply = res.stdout.strip()
        if reply:
            break
        time.sleep(0.5)
    _check('VLAN 100: s1 -> c1 TCP over eth0.100', reply == 'echo:vlan100',
           reply)

    # Reboot s1 on the same disk: the thin LV and its data survive.
    t = time.monotonic()
    s1.stop()
    stop_time = time.monotonic() - t
    s1.start()
    out = s1.run('lvs', '--noheadings', '-o', 'lv_name', 'arca').stdout
    s1.run('mkdir', '-p', '/mnt/vol1')
    s1.run('mount', '/dev/arca/vol1', '/mnt/vol1')
    data = s1.run('cat', '/mnt/vol1/proof').stdout.strip()
    _check('s1 reboot keeps thin LV and data',
           'vol1' in out and data == 'arca-smoke',
           '(stop %.1fs, boot %.1fs, ssh %.1fs)' % (
               stop_time, s1.timings['boot'], s1.timings['ssh']))


def cmd_smoke(args):
    harness.Lab.cleanup_stale()
    specs = [harness.NodeSpec('s1', 'storage', disk_gib=8),
             harness.NodeSpec('s2', 'storage', disk_gib=8),
             harness.NodeSpec('c1', 'client')]
    print('booting s1 s2 c1 ...')
    lab = harness.Lab(specs, mem=args.mem, keep_logs=args.keep_logs)
    with lab:
        print('lab %s up in %.1fs' % (lab.netns, lab.timings['up']))
        for node in lab.nodes.values():
            print('  %s %s: sshd after %.1fs, first command after %.1fs'
                  % (node.name, node.address, node.timings['boot'],
                     node.timings['ssh']))
        _smoke_checks(lab)
        pgids = set(lab._pgids)
    print('teardown %.1fs' % lab.timings['teardown'])
    left = [pid for pgid in pgids for pid in harness._group_members(pgid)]
    _check('no guest processes left', not left, left)
    _check('namespace deleted', lab.netns not in harness._list_netns())
    _check('workdir removed', args.keep_logs or
           not os.path.exists(lab.workdir))
    print('smoke: PASS')
    return 0


def cmd_demo(args):
    """One flow here; several each in its own process.

    Cinder and Manila cannot share one process.
    """
    flows = args.via or list(demo.DEFAULT_FLOWS)
    if len(flows) == 1:
        return demo.run(flows[0], args)
    failed = []
    for flow in flows:
        argv = [sys.executable, '-m', 'tests.lab', 'demo', '--via', flow,
                '--mem', str(args.mem)] + (['--keep-logs'] if
                                           args.keep_logs else [])
        if subprocess.call(argv, cwd=ROOT) != 0:
            failed.append(flow)
        print()
    print('demo: %s' % ('FAILED: %s' % ', '.join(failed) if failed else
                        'PASS (%s)' % ', '.join(flows)))
    return 1 if failed else 0


def _stack_up(args):
    if os.path.exists(stack.PIDFILE):
        with open(stack.PIDFILE) as f:
            pid = int(f.read().strip() or 0)
        if pid and harness._pid_alive(pid):
            print('a stack is running already (pid %d)' % pid)
            return 1

    def stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    started = time.monotonic()
    with stack.running(mem=args.mem, keep_logs=args.keep_logs) as stk:
        with open(stack.PIDFILE, 'w') as f:
            f.write('%d\n' % os.getpid())
        try:
            openrc = stk.write_openrc()
            print('stack up in %.1fs (services %.1fs), lab %s' % (
                time.monotonic() - started, stk.timings['services'],
                stk.netns))
            pss = stk.pss_mib()
            print('  PSS %.0f MiB: %s' % (sum(pss.values()), ', '.join(
                '%s %.0f' % item for item in sorted(pss.items()))))
            print('  logs   %s' % stk.path('logs'))
            print('  use    . %s; ip netns exec %s openstack volume '
                  'list' % (openrc, stk.netns))
            print('stop with `python -m tests.lab stack down` or Ctrl-C')
            while all(svc.running() for svc in stk.services.values()):
                time.sleep(1)
            print('a service exited; tearing down')
        except KeyboardInterrupt:
            print()
        finally:
            os.unlink(stack.PIDFILE)
    return 0


def _stack_down(args):
    try:
        with open(stack.PIDFILE) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        print('no stack running')
        return 0
    os.kill(pid, signal.SIGTERM)
    while harness._pid_alive(pid):
        time.sleep(0.5)
    print('stack stopped')
    return 0


def cmd_stack(args):
    return {'up': _stack_up, 'down': _stack_down}[args.action](args)


def cmd_tempest(args):
    """Boot the lab and the stack, run the Tempest suites, print counts."""
    suites = args.suite or list(tempest.SUITES)
    results = []
    started = time.monotonic()
    with stack.running(mem=args.mem, keep_logs=args.keep_logs,
                       reference=args.reference) as stk:
        print('stack up in %.1fs' % (time.monotonic() - started))
        for suite in suites:
            result = tempest.run(stk, suite, subset=args.subset,
                                 concurrency=args.concurrency,
                                 regex=args.regex)
            print(tempest.report([result]), flush=True)
            results.append(result)
    print('tempest (%s): %.0fs in all' % (
        'CI subset' if args.subset else 'full suites',
        time.monotonic() - started))
    print(tempest.report(results))
    failed = [r for r in results if r['exit_code'] or r.get('failed')]
    return 1 if failed else 0


def cmd_tempest_compare(args):
    """What the reference drivers passed that the Arca backends did not."""
    differ = False
    for suite in args.suite or list(tempest.SUITES):
        logs = [os.path.join(tempest.workspace_path(suite, ref), 'run.log')
                for ref in (False, True)]
        missing = [log for log in logs if not os.path.exists(log)]
        if missing:
            print('%s: no run yet (%s)' % (suite, ', '.join(missing)))
            differ = True
            continue
        ours, reference = (tempest.outcomes(log) for log in logs)
        result = tempest.compare(ours, reference)
        print('%s: %d passed here, %d with the reference drivers; passed '
              'there only: %d; passed here only: %d' % (
                  suite, list(ours.values()).count('ok'),
                  list(reference.values()).count('ok'),
                  len(result['not_passed']), len(result['only_ours'])))
        for test, status in result['not_passed'].items():
            print('  reference only: %s (here: %s)' % (test, status))
        for test in result['only_ours']:
            print('  here only: %s' % test)
        differ = differ or bool(result['not_passed'])
    return 1 if differ else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.lab')
    sub = parser.add_subparsers(dest='command', required=True)
    sub.add_parser('install', help='check / install the lab packages')
    up = sub.add_parser('up', help='boot a lab until Ctrl-C')
    up.add_argument('-s', '--storage', type=int, default=2)
    up.add_argument('-c', '--clients', type=int, default=1)
    up.add_argument('--disk', type=int, default=8, help='GiB per disk')
    up.add_argument('--no-thin-pool', dest='thin_pool',
                    action='store_false',
                    help='leave the disks blank (no VG arca / pool)')
    up.add_argument('--ha-disk', type=int, default=0,
                    help='GiB of a second disk (/dev/ubdb) per storage '
                    'node, for DRBD-mirrored pools (default: none)')
    up.add_argument('--fencing', action='store_true',
                    help='run the fence device; fence_arcalab in guests')
    smoke = sub.add_parser('smoke', help='boot s1 s2 c1, check, tear down')
    demo_cmd = sub.add_parser('demo', help='the Arca flow end to end')
    demo_cmd.add_argument(
        '--via', action='append', choices=demo.FLOWS,
        help='run the flow through the Cinder driver, the Manila driver '
        'or the node library alone (repeatable; default: cinder, manila)')
    stack_cmd = sub.add_parser(
        'stack', help='Keystone, Cinder and Manila against a lab node')
    stack_cmd.add_argument('action', choices=('up', 'down'))
    stack_cmd.set_defaults(mem=768)
    tempest_cmd = sub.add_parser(
        'tempest', help='Tempest and its Cinder and Manila plugins against '
        'a lab stack')
    tempest_cmd.add_argument('--subset', action='store_true',
                             help='only the tests of tests/tempest/ci.txt')
    tempest_cmd.add_argument('--concurrency', type=int, default=2)
    tempest_cmd.add_argument('--regex', help='only the tests this matches '
                             'too (a Python regex)')
    tempest_cmd.add_argument(
        '--reference', action='store_true',
        help='the same backends served by the upstream test drivers '
        "(Cinder's fake driver, Manila's dummy driver); results in "
        '.tempest/SUITE-reference')
    tempest_cmd.set_defaults(mem=768)
    compare_cmd = sub.add_parser(
        'tempest-compare', help='tests the reference drivers passed and '
        'the Arca backends did not (the last full run of each)')
    for p in (tempest_cmd, compare_cmd):
        p.add_argument('--suite', action='append',
                       choices=sorted(tempest.SUITES),
                       help='repeatable; default: all')
    sub.add_parser('cleanup', help='remove namespaces of crashed labs')
    for p in (up, smoke, demo_cmd, stack_cmd, tempest_cmd):
        p.add_argument('--mem', type=int, default=512, help='MiB per guest')
        p.add_argument('--keep-logs', action='store_true')
    args = parser.parse_args(argv)
    if args.command == 'install':
        return cmd_install(args)
    if args.command == 'demo' and harness.missing_packages():
        cmd_install(args)
    if args.command == 'tempest-compare':
        return cmd_tempest_compare(args)
    if args.command == 'cleanup':
        print('removed: %s' % (harness.Lab.cleanup_stale() or 'nothing'))
        return 0
    if os.geteuid() != 0:
        parser.error('the lab needs root')
    return {'up': cmd_up, 'smoke': cmd_smoke, 'demo': cmd_demo,
            'stack': cmd_stack, 'tempest': cmd_tempest}[args.command](args)


if __name__ == '__main__':
    sys.exit(main())
