"""One NFS-Ganesha instance per SVM, inside the SVM's network namespace.

This module runs the daemon and tells it of changes. The files' text is
rendered and parsed by :mod:`arca_openstack.node.ganesha_config`, and the
files are read and written by :mod:`arca_openstack.node.ganesha_files`.

Layout on the node (all written through :mod:`arca_openstack.node.files`)::

    /var/lib/arca/svm/SVM/ganesha.conf         main config (ours only)
    /var/lib/arca/svm/SVM/exports/ID.conf      one EXPORT block per file,
                                               pulled in by %include lines
    /var/lib/arca/svm/SVM/exports.index        which path each file serves
    /var/lib/arca/svm/SVM/recovery             NFSv4 RecoveryRoot (fs)
    /run/arca/ganesha-SVM.pid                  pid file
    /var/log/arca/ganesha-SVM.log              log (level NIV_EVENT)

Facts checked against nfs-ganesha 4.3 (Debian 12), which shape this code:

* There is no offline configuration check (``-T`` only dumps defaults and
  then starts a server). Configs are therefore rendered only from
  validated values, parsed back and compared with what was meant, written
  atomically and read back byte for byte before any reload.
* ``%include "FILE"`` is followed at start and on every SIGHUP. An include
  of a missing file aborts the whole reload ("Error while parsing new
  configuration file"), so a file is always written before it is included
  and un-included (and reloaded) before it is deleted.
* SIGHUP re-reads only LOG and EXPORT blocks. It logs
  ``SIGHUP_HANDLER: Received SIGHUP.... initiating export list reload``
  then ``Reread exports complete`` -- the latter even when the config had
  errors, which are logged just after it by ``config_errs_to_log`` (or
  before it by ``ganesha_yyerror`` / ``export_commit_common``). An
  unbalanced brace removed every export; a bad value dropped only its
  export. A reload counts as confirmed only with the completion line and
  no CONFIG error from the ``sigmgr`` thread.
* A changed ``Path`` cannot be applied in place (UpdateExport and SIGHUP
  both refuse it with "Path for export update N ... doesn't match" and a
  SIGHUP then drops the export): a path change is a removal, then an add.
* D-Bus ``AddExport`` of a file with errors replies "1 exports added.
  Errors found: ..." and adds nothing, so every D-Bus change is confirmed
  with ``DisplayExport`` (whose reply lists the id, the path and one entry
  per client; 4.3 does not return the pseudo path there).
* ``Bind_addr`` takes one address. An IPv4 address gives a v4-only
  listener (``[::ffff:a.b.c.d]:2049``), an IPv6 one a v6-only listener;
  ``::`` listens dual-stack. Since the SVM's namespace holds only the
  SVM's own addresses, an SVM with several addresses binds the wildcard
  (``0.0.0.0`` when all are IPv4, else ``::``).
* Every ``CLIENT`` block carries ``Protocols = 4``; without it Ganesha
  warns "A protocol is specified for a CLIENT block that is not enabled in
  NFS_CORE_PARAM, fixing up" on every load. ``Enable_UDP = false`` avoids
  a UDP listener that NFSv4 never uses.
* Ganesha closes its standard streams when it daemonizes, so the starting
  command returns at once; the pid file appears a little later and stays
  behind if the daemon dies (FATAL), hence the stale-pid checks.
"""

import os
import time

from oslo_log import log as logging
from oslo_utils import excutils

from arca_openstack import exception
from arca_openstack.node import files
from arca_openstack.node import ganesha_config
from arca_openstack.node import ganesha_files
from arca_openstack.node import locks
from arca_openstack.node import validate

LOG = logging.getLogger(__name__)

GANESHA_BIN = '/usr/bin/ganesha.nfsd'
NETNS_DIR = '/run/netns'
LOG_LEVEL = 'NIV_EVENT'
DBUS_PATH = '/org/ganesha/nfsd/ExportMgr'
DBUS_IFACE = 'org.ganesha.nfsd.exportmgr'
_NOT_FOUND = 'Export id not found'
# Seconds of the first pause while waiting for the daemon.
FIRST_POLL = 0.01


class GaneshaError(exception.ServiceFailed):
    """Ganesha did not start, stop or apply a change as asked."""

    message = 'Ganesha of SVM %(svm)s: %(reason)s'


class Ganesha(object):
    """Configure, run and change the Ganesha instance of each SVM.

    :param start_timeout, stop_timeout, reload_timeout: seconds to wait
        for the daemon to come up, go away, or confirm a reload.
    :param poll_interval: the longest pause between checks while waiting
        (see :meth:`_polls`).
    """

    def __init__(self, executor, start_timeout=20, stop_timeout=20,
                 reload_timeout=10, poll_interval=0.25):
        self.executor = executor
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.reload_timeout = reload_timeout
        self.poll_interval = poll_interval
        # {svm: pid} of running instances that do not answer on D-Bus.
        self._no_dbus = {}

    # ----------------------------------------------------- pure renders

    render_config = staticmethod(ganesha_config.render_config)
    render_export = staticmethod(ganesha_config.render_export)

    # ------------------------------------------------------- small steps

    def _polls(self, timeout):
        """Looks of a wait of about ``timeout`` seconds.

        The first look is at once. The pauses between looks start at
        :data:`FIRST_POLL` and double up to ``poll_interval``: a reload
        is seen within tens of milliseconds, and a long wait does not
        look more often than it did.
        """
        pause = min(FIRST_POLL, self.poll_interval)
        waited = 0.0
        while True:
            yield
            if waited + pause > timeout:
                return
            self._sleep(pause)
            waited += pause
            pause = min(pause * 2, self.poll_interval)

    def _sleep(self, seconds):
        time.sleep(seconds)

    def _pid_alive(self, svm, pid):
        """True if ``pid`` is this SVM's ganesha.nfsd."""
        result = self.executor.execute('cat', '/proc/%d/cmdline' % pid,
                                       check_exit_code=False)
        if result.exit_code != 0:
            return False
        argv = result.stdout.split('\0')
        return (os.path.basename(argv[0]) == 'ganesha.nfsd' and
                '-f' in argv[:-1] and
                argv[argv.index('-f') + 1] == ganesha_config.config_path(svm))

    def _status(self, svm):
        text = files.read(self.executor, ganesha_config.pid_path(svm))
        if text is None:
            return {'running': False, 'pid': None, 'stale': False}
        pid = ganesha_config.parse_pid(text)
        if pid is not None and self._pid_alive(svm, pid):
            return {'running': True, 'pid': pid, 'stale': False}
        return {'running': False, 'pid': None, 'stale': True}

    def _log_size(self, svm):
        result = self.executor.execute(
            'stat', '-c', '%s', ganesha_config.log_path(svm),
            check_exit_code=False)
        text = result.stdout.strip()
        if result.exit_code == 0 and text.isdigit():
            return int(text)
        return 0

    def _log_since(self, svm, offset):
        result = self.executor.execute(
            'tail', '-c', '+%d' % (offset + 1), ganesha_config.log_path(svm),
            check_exit_code=False)
        return result.stdout if result.exit_code == 0 else ''

    def _log_tail(self, svm, lines=20):
        result = self.executor.execute(
            'tail', '-n', str(lines), ganesha_config.log_path(svm),
            check_exit_code=False)
        return result.stdout.strip() if result.exit_code == 0 else ''

    def _kill(self, signal, pid):
        return self.executor.execute('kill', signal, str(pid),
                                     check_exit_code=False)

    def _dbus(self, svm, method, *args):
        return self.executor.execute(
            'dbus-send', '--system', '--print-reply',
            '--dest=%s' % ganesha_config.bus_name(svm), DBUS_PATH,
            '%s.%s' % (DBUS_IFACE, method), *args, check_exit_code=False)

    def _dbus_display(self, svm, eid):
        """What the running instance serves as ``eid``, over D-Bus.

        :returns: (path, client networks) if served, False if D-Bus answers
            that it is not served, None if D-Bus cannot be used (no system
            bus, name not owned, policy denial): the caller falls back to
            SIGHUP.
        """
        try:
            result = self._dbus(svm, 'DisplayExport', 'uint16:%d' % eid)
        except exception.CommandTimeout:
            return None
        if result.exit_code == 0:
            _ident, path, clients = ganesha_config.parse_display_export(
                result.stdout)
            return path, clients
        if _NOT_FOUND in result.stderr:
            return False
        LOG.debug('D-Bus of SVM %s unusable, using SIGHUP: %s', svm,
                  result.stderr.strip())
        return None

    # ------------------------------------------------------ life cycle

    def status(self, svm):
        """The SVM's Ganesha: dict(running=bool, pid=int|None, stale=bool).

        ``stale`` when a pid file names a process that is gone or is not
        this SVM's Ganesha.
        """
        return self._status(validate.svm_name(svm))

    def configure(self, svm, addrs):
        """Write the SVM's main config and make its directories.

        Keeps the export files already present. Returns True if the main
        config changed; a running instance only sees a new address after
        a restart (SIGHUP does not re-read NFS_CORE_PARAM), which
        :meth:`ensure` does.
        """
        validate.svm_name(svm)
        addrs = ganesha_config.addresses(addrs)
        with locks.svm(svm):
            return self._configure(svm, addrs)

    def _configure(self, svm, addrs):
        ganesha_files.makedirs(self.executor, svm)
        old = files.read(self.executor, ganesha_config.config_path(svm))
        ids = ganesha_files.list_ids(self.executor, svm)
        return ganesha_files.write_config(self.executor, svm, addrs, ids,
                                          old)

    def start(self, svm):
        """Start the SVM's Ganesha in its namespace; no-op if it runs.

        :returns: the pid.
        """
        validate.svm_name(svm)
        with locks.svm(svm):
            return self._start(svm)

    def _start(self, svm):
        state = self._status(svm)
        if state['running']:
            return state['pid']
        ganesha_files.read_config(self.executor, svm)
        ganesha_files.make_base_dirs(self.executor)
        pid_path = ganesha_config.pid_path(svm)
        if state['stale']:
            files.remove(self.executor, pid_path)
        offset = self._log_size(svm)
        cmd = ('nsenter', '--net=%s/%s' % (NETNS_DIR, svm), GANESHA_BIN,
               '-f', ganesha_config.config_path(svm),
               '-L', ganesha_config.log_path(svm),
               '-p', pid_path, '-N', LOG_LEVEL)
        try:
            self.executor.execute(*cmd)
        except exception.CommandFailed as err:
            if 'No such file' in (err.stderr or '') and NETNS_DIR in (
                    err.stderr or ''):
                raise exception.NotFound(what='Network namespace', name=svm)
            raise
        pid = None
        log = []
        for _look in self._polls(self.start_timeout):
            if pid is None:
                text = files.read(self.executor, pid_path)
                if text and text.strip().isdigit():
                    pid = int(text.strip())
            entries = ganesha_config.parse_log(self._log_since(svm, offset))
            log = [e for e in entries if pid is None or e['pid'] == pid]
            if any(e['level'] == 'FATAL' for e in log):
                break
            if pid is None:
                continue
            if not self._pid_alive(svm, pid):
                break
            if any(ganesha_config.STARTED in e['text'] for e in log):
                addrs = ganesha_files.read_config(self.executor, svm)[0]
                files.write_atomic(self.executor,
                                   ganesha_config.bind_record_path(svm),
                                   ganesha_config.bind_addr(addrs) + '\n')
                LOG.info('Ganesha of SVM %s started, pid %d', svm, pid)
                return pid
        tail = '\n'.join(e['line'] for e in log[-20:])
        raise GaneshaError(svm=svm, reason='did not start; log: %s' %
                           (tail or self._log_tail(svm)))

    def stop(self, svm):
        """Stop the SVM's Ganesha (SIGTERM, then SIGKILL).

        No-op if it is not running. Removes the pid file.
        """
        validate.svm_name(svm)
        with locks.svm(svm):
            self._stop(svm)

    def _stop(self, svm):
        state = self._status(svm)
        pid = state['pid']
        if state['running']:
            self._kill('-TERM', pid)
            if not self._wait_gone(svm, pid, self.stop_timeout):
                LOG.warning('Ganesha of SVM %s (pid %d) ignored SIGTERM; '
                            'killing it', svm, pid)
                self._kill('-KILL', pid)
                if not self._wait_gone(svm, pid, 5):
                    raise GaneshaError(svm=svm, reason='pid %d survived '
                                       'SIGKILL' % pid)
        files.remove(self.executor, ganesha_config.pid_path(svm))
        files.remove(self.executor, ganesha_config.bind_record_path(svm))

    def _wait_gone(self, svm, pid, timeout):
        for _look in self._polls(timeout):
            if not self._pid_alive(svm, pid):
                return True
        return False

    # --------------------------------------------------------- exports

    def export_ids(self, svm):
        """Ids of the export files of the SVM, sorted."""
        return list(ganesha_files.list_ids(self.executor,
                                           validate.svm_name(svm)))

    def get_export(self, svm, eid):
        """The :class:`ganesha_config.Export` in export file ``eid``, or None.

        :raises ParseError: the file is not one Arca rendered.
        """
        validate.svm_name(svm)
        eid = ganesha_config.export_id(eid)
        path = ganesha_config.export_path(svm, eid)
        text = files.read(self.executor, path)
        if text is None:
            return None
        exp = ganesha_config.parse_export(text, path)
        if exp.export_id != eid:
            raise exception.ParseError(what=path, reason='holds export %d' %
                                       exp.export_id)
        return exp

    def find_export(self, svm, path):
        """The SVM's export of ``path`` (a mountpoint), or None.

        :raises ParseError: an export file is not one Arca rendered.
        """
        validate.svm_name(svm)
        path = validate.abs_path(path, base=ganesha_config.MOUNT_BASE,
                                 what='export path')
        return ganesha_files.find(
            svm, ganesha_files.read_state(self.executor, svm, path), path)

    def serve(self, svm, path, pseudo, clients, read_only=False,
              create=True):
        """Serve ``path`` to exactly ``clients``: one look, one change.

        The export of ``path`` gets the clients (and ``read_only``, unless
        None: kept as it is); if there is none, a new export with the
        lowest free id and pseudo path ``pseudo`` is made, unless
        ``create`` is False.

        :param clients: :class:`ganesha_config.ClientRule` (or (network,
            access)) list, or a function given the current export's rules
            (None if there is no export yet) that returns it, called under
            the SVM's lock so that concurrent changes of one export never
            lose each other's.
        :returns: the :class:`ganesha_config.Export` served, or None if
            there was none and ``create`` is False.
        """
        validate.svm_name(svm)
        ganesha_config.export(ganesha_config.Export(
            ganesha_config.MIN_EXPORT_ID, path, pseudo,
            () if callable(clients) else tuple(clients),
            False if read_only is None else read_only))
        with locks.svm(svm):
            state = ganesha_files.read_state(self.executor, svm, path)
            current = ganesha_files.find(svm, state, path)
            if current is None and not create:
                return None
            rules = clients(current.clients if current else None) if (
                callable(clients)) else clients
            if current is None:
                exp = ganesha_config.Export(
                    ganesha_files.free_id(svm, state), path, pseudo,
                    tuple(rules), bool(read_only))
            elif read_only is None:
                exp = current._replace(clients=tuple(rules))
            else:
                exp = current._replace(clients=tuple(rules),
                                       read_only=read_only)
            exp = ganesha_config.export(exp)
            self._ensure_export(svm, exp, state)
            return exp

    def withdraw(self, svm, path):
        """Stop serving ``path`` and delete its export file (idempotent).

        :returns: True if something changed.
        """
        validate.svm_name(svm)
        path = validate.abs_path(path, base=ganesha_config.MOUNT_BASE,
                                 what='export path')
        with locks.svm(svm):
            state = ganesha_files.read_state(self.executor, svm, path)
            current = ganesha_files.find(svm, state, path)
            if current is None:
                return False
            return self._remove_locked(svm, current.export_id, state)

    def add_export(self, svm, exp):
        """Make the SVM serve ``exp`` exactly (same as update_export).

        :returns: True if something changed, False if it was already so.
        """
        return self.update_export(svm, exp)

    def update_export(self, svm, exp):
        """Make the SVM serve ``exp`` exactly; see :meth:`add_export`."""
        validate.svm_name(svm)
        exp = ganesha_config.export(exp)
        with locks.svm(svm):
            return self._ensure_export(
                svm, exp, ganesha_files.read_state(self.executor, svm))

    def _ensure_export(self, svm, exp, state):
        eid = exp.export_id
        addrs, ids = ganesha_files.state_config(svm, state)
        old_text = state.exports.get(eid)
        old = ganesha_files.lenient_export(svm, eid, old_text)
        included = eid in ids
        if old == exp and included:
            live = self._live(svm, state.pid, eid)
            if live is None or (live and live[0] == exp.path and
                                ganesha_config.same_networks(live[1],
                                                             exp.clients)):
                return False
        if (old_text is not None and included and
                (old is None or old.path != exp.path) and
                self._running(svm, state.pid)):
            # A path cannot change in place: take the export down first.
            self._remove_locked(svm, eid, state)
            ids = tuple(i for i in ids if i != eid)
            old_text = old = None
            paths = ganesha_files.paths_of(svm, state)
            paths.pop(eid, None)
            state = state._replace(
                config=ganesha_config.format_config(svm, addrs, ids),
                exports={i: t for i, t in state.exports.items()
                         if i != eid}, paths=paths, index=None)
            included = False
        # A file that does not exist yet, of an id the config does not
        # include: nothing serves it.
        new = old_text is None and not included
        applying = False
        try:
            ganesha_files.write_export_and_config(
                self.executor, svm, state, exp, addrs,
                ids if included else ids + (eid,))
            applying = True
            self._apply(svm, state.pid, exp, new=new)
        except exception.ArcaError:
            with excutils.save_and_reraise_exception():
                self._rollback(svm, addrs, ids, eid,
                               old_text if included else None, old,
                               reload=applying)
        return True

    def _rollback(self, svm, addrs, ids, eid, old_text, old, reload=True):
        """Put the files back as they were; reload (best effort).

        So that a rejected export does not make every later reload fail.
        Without ``reload`` (Ganesha was not told yet) the files suffice.
        """
        path = ganesha_config.export_path(svm, eid)
        try:
            ganesha_files.invalidate_index(self.executor, svm)
            if old is not None and eid in ids:
                ganesha_files.write_checked(self.executor, path, old_text)
                ganesha_files.write_config(self.executor, svm, addrs, ids)
            else:
                ganesha_files.write_config(
                    self.executor, svm, addrs,
                    tuple(i for i in ids if i != eid))
                files.remove(self.executor, path)
            if reload:
                state = self._status(svm)
                if state['running']:
                    self._reload(svm, state['pid'])
        except exception.ArcaError as err:
            LOG.error('Could not roll back export %d of SVM %s: %s',
                      eid, svm, err)

    def _running(self, svm, pid):
        return pid is not None and self._pid_alive(svm, pid)

    def _live(self, svm, pid, eid):
        """:meth:`_dbus_display` of a running instance; None if unknown.

        None without asking when :meth:`_may_ask` says no.
        """
        if not self._may_ask(svm, pid):
            return None
        return self._dbus_display(svm, eid)

    def _may_ask(self, svm, pid):
        """False if no instance runs, or this one is known not to answer.

        Its bus name is taken once at start, so that does not change.
        """
        return pid is not None and self._no_dbus.get(svm) != pid

    def _reload_running(self, svm, pid):
        """SIGHUP the instance ``pid`` if it runs; it has no D-Bus."""
        if not self._running(svm, pid):
            return
        self._no_dbus[svm] = pid
        self._reload(svm, pid)

    def _apply(self, svm, pid, exp, new=False):
        """Tell a running instance: D-Bus if it answers, else SIGHUP.

        :param new: nothing serves ``exp``'s id: it is added at once,
            without asking first what is served (if the add fails, the
            change is made as any other).
        """
        eid = exp.export_id
        if new and self._may_ask(svm, pid):
            result = self._send(svm, 'AddExport', exp)
            if result.exit_code == 0:
                self._confirm(svm, 'AddExport', exp, result)
                return
        live = self._live(svm, pid, eid)
        if live is None:
            self._reload_running(svm, pid)
            return
        if live and live[0] != exp.path:
            self._dbus_remove(svm, eid)
            live = False
        method = 'UpdateExport' if live else 'AddExport'
        result = self._send(svm, method, exp)
        if result.exit_code != 0:
            raise exception.ConfigInvalid(
                path=ganesha_config.export_path(svm, eid),
                reason='%s failed: %s' % (method, result.stderr.strip()))
        self._confirm(svm, method, exp, result)

    def _send(self, svm, method, exp):
        """AddExport or UpdateExport of ``exp``'s file."""
        eid = exp.export_id
        return self._dbus(svm, method, 'string:%s' %
                          ganesha_config.export_path(svm, eid),
                          'string:EXPORT(Export_Id=%d)' % eid)

    def _confirm(self, svm, method, exp, result):
        """Raise unless ``method``, which replied ``result``, applied it."""
        eid = exp.export_id
        if 'Errors found' in result.stdout:
            raise exception.ConfigInvalid(
                path=ganesha_config.export_path(svm, eid),
                reason='%s failed: %s' % (method, result.stdout.strip()))
        live = self._dbus_display(svm, eid)
        if not (live and live[0] == exp.path and
                ganesha_config.same_networks(live[1], exp.clients)):
            raise GaneshaError(svm=svm, reason='%s of export %d not '
                               'confirmed by DisplayExport: %r' %
                               (method, eid, live))

    def _dbus_remove(self, svm, eid):
        result = self._dbus(svm, 'RemoveExport', 'uint16:%d' % eid)
        if result.exit_code != 0 and _NOT_FOUND not in result.stderr:
            raise GaneshaError(svm=svm, reason='RemoveExport %d failed: %s'
                               % (eid, result.stderr.strip()))
        if self._dbus_display(svm, eid) is not False:
            raise GaneshaError(svm=svm, reason='export %d still served '
                               'after RemoveExport' % eid)

    def remove_export(self, svm, eid):
        """Stop serving export ``eid`` and delete its file (idempotent).

        :returns: True if something changed.
        """
        validate.svm_name(svm)
        eid = ganesha_config.export_id(eid)
        with locks.svm(svm):
            return self._remove_locked(
                svm, eid, ganesha_files.read_state(self.executor, svm))

    def _remove_locked(self, svm, eid, state):
        addrs, ids = ganesha_files.state_config(svm, state)
        changed = False
        if eid in ids:
            ganesha_files.write_config(self.executor, svm, addrs,
                                       tuple(i for i in ids if i != eid))
            changed = True
        live = self._live(svm, state.pid, eid)
        if live:
            self._dbus_remove(svm, eid)
            changed = True
        elif live is None and changed:
            self._reload_running(svm, state.pid)
        if eid in state.exports or eid in (state.paths or ()):
            ganesha_files.remove_export_file(self.executor, svm, state, eid)
            changed = True
        return changed

    def _reload(self, svm, pid):
        """SIGHUP, then confirm from the log that the reload was clean."""
        offset = self._log_size(svm)
        self._kill('-HUP', pid)
        done = False
        for _look in self._polls(self.reload_timeout):
            seen = ganesha_config.parse_reload(self._log_since(svm, offset),
                                               pid)
            if seen is None:
                continue
            errors, logged_done = seen
            if errors:
                raise exception.ConfigInvalid(
                    path=ganesha_config.config_path(svm),
                    reason='reload reported: %s' % ' | '.join(errors)[-800:])
            if done:
                # Errors are logged just after the completion line: one
                # more look before calling it clean.
                LOG.debug('Ganesha of SVM %s reloaded', svm)
                return
            done = logged_done
        raise GaneshaError(svm=svm, reason='reload not confirmed in its log '
                           'within %ss' % self.reload_timeout)

    # ---------------------------------------------------------- ensure

    def ensure(self, svm, addrs, exports):
        """Converge the SVM's Ganesha on exactly ``exports``, running.

        For use after a crash or reboot: rewrites what differs, removes
        export files not listed, starts the daemon if it is down, restarts
        it if its addresses changed, otherwise reloads it if anything
        changed (a changed path first takes the export down).

        :returns: dict(started=bool, reloaded=bool, changed=bool).
        """
        validate.svm_name(svm)
        addrs = ganesha_config.addresses(addrs)
        wanted = ganesha_config.exports(exports)
        with locks.svm(svm):
            return self._ensure(svm, addrs, wanted)

    def _ensure(self, svm, addrs, wanted):
        result = {'started': False, 'reloaded': False, 'changed': False}
        ganesha_files.makedirs(self.executor, svm)
        old_text = files.read(self.executor, ganesha_config.config_path(svm))
        old_ids = ()
        if old_text is not None:
            try:
                old_ids = ganesha_config.parse_config(svm, old_text)[1]
            except exception.ParseError as err:
                LOG.warning('Rewriting foreign Ganesha config: %s', err)
        present = ganesha_files.list_ids(self.executor, svm)
        current = {eid: ganesha_files.read_export(self.executor, svm, eid)[1]
                   for eid in present}
        state = self._status(svm)
        running = state['running']
        restart = running and ganesha_files.read_bind(
            self.executor, svm) not in (None, ganesha_config.bind_addr(addrs))
        gone = [i for i in present if i not in wanted]
        moved = [i for i in present if i in wanted and
                 (current[i] is None or current[i].path != wanted[i].path)]
        index = files.read(self.executor, ganesha_config.index_path(svm))
        if moved:
            ganesha_files.invalidate_index(self.executor, svm)
            index = None
        if running and not restart and (gone or moved):
            # Take these down first: a path cannot change in place.
            keep = tuple(i for i in old_ids if i in present and
                         i not in gone and i not in moved)
            if ganesha_files.write_config(self.executor, svm, addrs, keep,
                                          old_text):
                self._reload(svm, state['pid'])
                result['reloaded'] = True
            old_text = ganesha_config.format_config(svm, addrs, keep)
        # Reload again only for what the first reload did not apply.
        changed = bool(gone or moved) and not result['reloaded']
        for eid in sorted(wanted):
            if current.get(eid) != wanted[eid]:
                ganesha_files.write_export(self.executor, svm, wanted[eid])
                changed = True
        if ganesha_files.write_config(self.executor, svm, addrs,
                                      tuple(sorted(wanted)), old_text):
            changed = True
        for eid in gone:
            files.remove(self.executor, ganesha_config.export_path(svm, eid))
        ganesha_files.write_index(
            self.executor, svm,
            {eid: exp.path for eid, exp in wanted.items()}, index)
        result['changed'] = changed or result['reloaded']
        if not running:
            self._start(svm)
            result['started'] = True
        elif restart:
            self._stop(svm)
            self._start(svm)
            result['started'] = True
        elif changed:
            self._reload(svm, state['pid'])
            result['reloaded'] = True
        return result
