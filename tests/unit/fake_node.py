"""In-memory storage nodes for unit tests.

:class:`FakeFiles` keeps the node's Arca files; :class:`FakeNode` adds LVM,
XFS mounts, the volumes' image files and running Ganesha instances, enough
to run whole driver operations through the real node library and count
(and rootwrap-check) the commands they issue.
"""

import re
import uuid

from oslo_rootwrap import filters

from arca_openstack.node import executor
from arca_openstack.node import files
from tests.unit import fake_executor

GiB = 1024 ** 3
OK = executor.Result(0, '', '')

EMPTY_REPORT = '''\
  {
      "report": [
          {
              "lv": [
              ]
          }
      ]
  }
'''
NOT_FOUND = '  Failed to find logical volume "arca/%s"\n'
DIRTY_LOG = '''\
ERROR: The filesystem has valuable metadata changes in a log which needs to
be replayed.  Mount the filesystem to replay the log, and unmount it before
re-running xfs_admin.  If you are unable to mount the filesystem, then use
the xfs_repair -L option to destroy the log and attempt a repair.
Note that destroying the log may cause corruption -- please attempt a mount
of the filesystem before doing this.
'''
NO_DBUS = ('Error org.freedesktop.DBus.Error.ServiceUnknown: The name '
           '%s was not provided by any .service files\n')
_LOG_PREFIX = '22/11/2026 18:10:44 : epoch 6b033023 : vm : ganesha.nfsd-%d'
_RELOAD_LOG = (
    '[sigmgr] sigmgr_thread :MAIN :EVENT :SIGHUP_HANDLER: Received '
    'SIGHUP.... initiating export list reload\n',
    '[sigmgr] reread_exports :CONFIG :EVENT :Reread exports complete\n')


def lv_row(name, size=10 * GiB, attr='Vwi-a-tz--', tags='', origin='',
           pool='pool', segtype='thin', data='0.00'):
    """One LV of an ``lvs --reportformat json`` report (lvm2 2.03.16)."""
    return ('                  {"lv_name":"%s", "vg_name":"arca", '
            '"lv_size":"%d", "lv_attr":"%s", "lv_tags":"%s", '
            '"origin":"%s", "pool_lv":"%s", "segtype":"%s", '
            '"data_percent":"%s", "metadata_percent":""}'
            % (name, size, attr, tags, origin, pool, segtype, data))


def rows_report(*rows):
    return ('  {\n      "report": [\n          {\n              "lv": [\n'
            '%s\n              ]\n          }\n      ]\n  }\n'
            % ',\n'.join(rows))


def patch_kill_filter(test, pids):
    """Let the rootwrap check take ``pids`` for ganesha.nfsd processes.

    Call before the base class's setUp, so that the patch is still active
    when its rootwrap check runs at cleanup.
    """
    real = filters.KillFilter._program

    def program(filt, pid):
        if int(pid) in pids:
            return '/usr/bin/ganesha.nfsd'
        return real(filt, pid)

    test.patch(filters.KillFilter, '_program', program)


class FakeFiles(fake_executor.FakeExecutor):
    """FakeExecutor plus an in-memory view of the node's Arca files.

    tee/mv/rm/ls/mkdir/cat/grep under the Arca directories, and cat of
    /etc/arca/cluster.conf, act on ``fs``; everything else is answered
    by the scripted rules.
    """

    BASES = ('/var/lib/arca/', '/run/arca/', '/var/log/arca/')

    def __init__(self):
        super().__init__()
        self.fs = {}
        self.corrupt = set()

    def _run(self, cmd, process_input, timeout):
        if cmd[0] in ('tee', 'mv', 'rm', 'ls', 'mkdir', 'grep') or (
                cmd[0] == 'cat' and (cmd[1].startswith(self.BASES)
                                     or cmd[1] == files.CLUSTER_CONF)):
            self.commands.append(tuple(cmd))
            self.inputs.append(process_input)
            return self._fs(cmd, process_input)
        return super()._run(cmd, process_input, timeout)

    def _grep(self, paths):
        """grep -r -H -Z -a -e ^ PATHS: every line after 'NAME\\0'."""
        out, err = [], []
        for path in paths:
            names = [path] if path in self.fs else sorted(
                p for p in self.fs if p.startswith(path + '/'))
            if not names:
                err.append('grep: %s: No such file or directory\n' % path)
            for name in names:
                out += ['%s\0%s\n' % (name, line)
                        for line in self.fs[name].splitlines()]
        return executor.Result(2 if err else 0 if out else 1, ''.join(out),
                               ''.join(err))

    def _cat(self, paths):
        out, err = [], []
        for path in paths:
            if path not in self.fs:
                err.append('cat: %s: No such file or directory\n' % path)
                continue
            text = self.fs[path]
            out.append(text[:-2] if path in self.corrupt else text)
        return executor.Result(1 if err else 0, ''.join(out), ''.join(err))

    def _fs(self, cmd, data):
        if cmd[0] == 'tee':
            self.fs[cmd[1]] = data
        elif cmd[0] == 'mv':
            self.fs[cmd[3]] = self.fs.pop(cmd[2])
        elif cmd[0] == 'rm':
            self.fs.pop(cmd[2], None)
        elif cmd[0] == 'ls':
            prefix = cmd[2] + '/'
            names = sorted(p[len(prefix):] for p in self.fs
                           if p.startswith(prefix))
            return executor.Result(0, ''.join(n + '\n' for n in names), '')
        elif cmd[0] == 'cat':
            return self._cat(cmd[1:])
        elif cmd[0] == 'grep':
            return self._grep(cmd[7:])
        return OK


class FakeNode(FakeFiles):
    """A storage node (VG ``arca``, thin pool ``pool``) in memory.

    ``lvs`` holds the thin LVs: {name: dict(size, tags, origin, fs, dirty,
    uuid, image)} (``image``: size of volume.raw, if any); ``mounts`` maps
    mountpoints to LV names; ``ganesha`` maps the pid of each running
    Ganesha to its SVM. Ganesha answers no D-Bus (the common case) and
    logs a clean reload on SIGHUP. Commands it does not know fall through
    to the scripted rules.
    """

    MNT = '/var/lib/arca/mnt/'
    # The thin pool itself, in the VG's report (its capacity).
    POOL_ROW = lv_row('pool', size=100 * GiB, attr='twi-aotz--', pool='',
                      segtype='thin-pool', data='25.00')

    def __init__(self):
        super().__init__()
        self.lvs = {}
        self.mounts = {}
        self.ganesha = {}

    def start_ganesha(self, svm, pid):
        self.ganesha[pid] = svm
        self.fs['/run/arca/ganesha-%s.pid' % svm] = '%d\n' % pid
        self.fs.setdefault(self._log(svm), '')

    @staticmethod
    def _log(svm):
        return '/var/log/arca/ganesha-%s.log' % svm

    def _run(self, cmd, process_input, timeout):
        handler = getattr(self, '_do_' + re.sub(r'\W', '_', cmd[0]), None)
        if handler is None or (cmd[0] == 'cat' and
                               not cmd[1].startswith('/proc/')):
            return super()._run(cmd, process_input, timeout)
        self.commands.append(tuple(cmd))
        self.inputs.append(process_input)
        return handler(list(cmd))

    # -- LVM --

    def _row(self, name):
        lv = self.lvs[name]
        return lv_row(name, size=lv['size'], tags=','.join(lv['tags']),
                      origin=lv['origin'])

    def _do_lvs(self, cmd):
        if '-S' in cmd:
            names = re.findall(r'lv_name="([^"]+)"', cmd[cmd.index('-S') + 1])
            return executor.Result(0, rows_report(*[
                self._row(n) for n in names if n in self.lvs]), '')
        target = cmd[-1]
        if '/' not in target:
            return executor.Result(0, rows_report(*[self.POOL_ROW] + [
                self._row(n) for n in sorted(self.lvs)]), '')
        name = target.split('/', 1)[1]
        if name not in self.lvs:
            return executor.Result(5, EMPTY_REPORT, NOT_FOUND % name)
        return executor.Result(0, rows_report(self._row(name)), '')

    @staticmethod
    def _tags(cmd):
        return [cmd[i + 1] for i, w in enumerate(cmd) if w == '--addtag']

    def _do_lvcreate(self, cmd):
        name = cmd[cmd.index('-n') + 1]
        if name in self.lvs:
            return executor.Result(5, '', '  Logical Volume "%s" already '
                                   'exists in volume group "arca"\n' % name)
        if cmd[1] == '-T':
            self.lvs[name] = {'size': int(cmd[4][:-1]) * GiB, 'origin': '',
                              'fs': None, 'dirty': False, 'uuid': None,
                              'image': None}
        else:
            origin = cmd[cmd.index('-n') + 2].split('/')[1]
            self.lvs[name] = dict(self.lvs[origin], origin=origin)
            if self._mounted(origin):
                self.lvs[name]['dirty'] = True
        self.lvs[name]['tags'] = self._tags(cmd)
        return OK

    def _do_lvextend(self, cmd):
        self.lvs[cmd[-1].split('/')[1]]['size'] = int(cmd[2][:-1]) * GiB
        return OK

    def _do_lvremove(self, cmd):
        name = cmd[-1].split('/')[1]
        if self._mounted(name):
            return executor.Result(5, '', '  Logical volume arca/%s in use.'
                                   '\n' % name)
        self.lvs.pop(name, None)
        return OK

    def _do_lvchange(self, cmd):
        lv = self.lvs[cmd[-1].split('/')[1]]
        if cmd[1] == '--addtag':
            lv['tags'].append(cmd[2])
        elif cmd[1] == '--deltag':
            lv['tags'].remove(cmd[2])
        return OK

    # -- XFS --

    def _lv_of(self, device):
        return device.split('/')[-1]

    def _mounted(self, name):
        return name in self.mounts.values()

    def _do_findmnt(self, cmd):
        name = self.mounts.get(cmd[-1])
        if name is None:
            return executor.Result(1, '', '')
        return executor.Result(0, '/dev/mapper/arca-%s %s\n' % (
            name.replace('-', '--'), cmd[-1]), '')

    def _do_mount(self, cmd):
        device, mountpoint = cmd[-2:]
        name = self._lv_of(device)
        lv = self.lvs[name]
        if mountpoint in self.mounts:
            return executor.Result(32, '', 'mount: %s: already mounted.\n'
                                   % mountpoint)
        twin = [n for n in self.mounts.values()
                if self.lvs[n]['uuid'] == lv['uuid']]
        if lv['fs'] != 'xfs' or (twin and 'nouuid' not in cmd):
            return executor.Result(32, '', 'mount: %s: wrong fs type.\n'
                                   % mountpoint)
        lv['dirty'] = False
        self.mounts[mountpoint] = name
        return OK

    def _do_umount(self, cmd):
        if self.mounts.pop(cmd[1], None) is None:
            return executor.Result(32, '', 'umount: %s: not mounted.\n'
                                   % cmd[1])
        return OK

    def _do_mkfs_xfs(self, cmd):
        lv = self.lvs[self._lv_of(cmd[-1])]
        if lv['fs']:
            return executor.Result(1, '', 'mkfs.xfs: %s appears to contain '
                                   'an existing filesystem (%s).\n'
                                   % (cmd[-1], lv['fs']))
        lv.update(fs='xfs', uuid=str(uuid.uuid4()))
        return OK

    def _do_blkid(self, cmd):
        fstype = self.lvs[self._lv_of(cmd[-1])]['fs']
        return executor.Result(0, fstype + '\n', '') if fstype else (
            executor.Result(2, '', ''))

    def _do_xfs_admin(self, cmd):
        name = self._lv_of(cmd[-1])
        lv = self.lvs[name]
        if self._mounted(name):
            return executor.Result(1, '', 'xfs_admin: %s contains a mounted '
                                   'filesystem\n' % cmd[-1])
        if lv['dirty']:
            return executor.Result(0, DIRTY_LOG, '')
        lv['uuid'] = str(uuid.uuid4())
        return executor.Result(0, 'new UUID = %s\n' % lv['uuid'], '')

    def _do_xfs_growfs(self, cmd):
        if cmd[-1] not in self.mounts:
            return executor.Result(1, '', 'not a mounted XFS filesystem\n')
        return OK

    # -- image files, Ganesha --

    def _image(self, path):
        """The LV of a mounted volume.raw, or None."""
        mountpoint, _sep, name = path.rpartition('/')
        return self.lvs[self.mounts[mountpoint]] if (
            name == 'volume.raw' and mountpoint in self.mounts) else None

    def _do_stat(self, cmd):
        if cmd[-1].startswith('/var/log/'):
            text = self.fs.get(cmd[-1])
            return executor.Result(1, '', 'No such file\n') if (
                text is None) else executor.Result(0, '%d\n' % len(text), '')
        lv = self._image(cmd[-1])
        if lv is None or lv['image'] is None:
            return executor.Result(1, '', "stat: cannot statx '%s': No such "
                                   "file or directory\n" % cmd[-1])
        return executor.Result(0, '%d\n' % lv['image'], '')

    def _do_truncate(self, cmd):
        lv = self._image(cmd[-1])
        lv['image'] = max(lv['image'] or 0, int(cmd[2][1:]))
        return OK

    def _do_chmod(self, cmd):
        return OK

    def _do_cat(self, cmd):
        pid = int(cmd[1].split('/')[2])
        svm = self.ganesha.get(pid)
        if svm is None:
            return executor.Result(1, '', 'cat: %s: No such file or '
                                   'directory\n' % cmd[1])
        return executor.Result(0, '\0'.join([
            '/usr/bin/ganesha.nfsd', '-f',
            '/var/lib/arca/svm/%s/ganesha.conf' % svm, '-L', self._log(svm),
            '-p', '/run/arca/ganesha-%s.pid' % svm, '-N', 'NIV_EVENT',
            '']), '')

    def _do_kill(self, cmd):
        pid = int(cmd[2])
        svm = self.ganesha.get(pid)
        if svm is not None and cmd[1] == '-HUP':
            self.fs[self._log(svm)] += ''.join(
                (_LOG_PREFIX % pid) + line for line in _RELOAD_LOG)
        return OK

    def _do_tail(self, cmd):
        text = self.fs.get(cmd[-1], '')
        return executor.Result(0, text[int(cmd[2][1:]) - 1:], '')

    def _do_dbus_send(self, cmd):
        return executor.Result(1, '', NO_DBUS % cmd[3].split('=', 1)[1])
