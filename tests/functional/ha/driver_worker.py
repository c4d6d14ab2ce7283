"""One service's driver in its own process, for test_drivers_takeover.

Cinder and Manila cannot be imported into one process, so the test runs
this module twice, ``python -m tests.functional.ha.driver_worker
cinder|manila``. Each builds its real driver (tests.lab.backends) whose
agent client reaches the mirrored pool's floating management address,
as a service configured with ``arca_node_address`` = that address would:
the driver is set up once and then never restarted nor reconfigured,
whichever node of the HA pair serves the pool.

Driven one JSON line at a time on stdin, it answers one JSON line per
command on stdout:

* first line: ``{"agent": connect_agent() params, "workdir", "backend",
  "options", "client_ip", "sessions"}``; answer ``{"ready": seconds}``
  (``sessions`` agent sessions are opened first, as a running service
  has them);
* ``{"do": "round"}``: for a new project, the operations that make and
  serve things (Cinder: create_volume, create_snapshot,
  create_volume_from_snapshot, create_cloned_volume, initialize_connection
  of the first volume and of the volume from the snapshot, extend_volume;
  Manila: create_share, update_access (ip rule rw for ``client_ip``),
  create_snapshot, create_share_from_snapshot, extend_share); answer
  ``{"ops": [[name, seconds, error or null]...], "export": the location
  the client mounts}``. A failed operation ends the round (what follows
  needs it);
* ``{"do": "finish", "keep": bool}``: the round's remaining operations
  (Cinder: terminate_connection, deletes; Manila: deletes). With ``keep``
  the round's first volume or share stays, attached or open to the
  client (the test reads it after a takeover); answer as for ``round``;
* ``{"do": "stats"}``: the service's stats refreshed through the driver
  (Cinder ``get_volume_stats(refresh=True)``, Manila
  ``get_share_stats(refresh=True)``); answer ``{"pools": [...]}`` or
  ``{"error"}``;
* ``{"do": "quit"}``.
"""

import concurrent.futures
import json
import os
import sys
import time
import traceback
import uuid

from oslo_concurrency import lockutils

from tests.lab import backends
from tests.lab import harness


def timed(func, *args, **kwargs):
    """(seconds, result, error text) of ``func(*args, **kwargs)``."""
    started = time.monotonic()
    try:
        result, error = func(*args, **kwargs), None
    except Exception:
        result, error = None, traceback.format_exc()
    return time.monotonic() - started, result, error


class Round(object):
    """Operations of one round, timed one after another."""

    def __init__(self):
        self.ops = []

    def run(self, name, func, *args, **kwargs):
        seconds, result, error = timed(func, *args, **kwargs)
        self.ops.append([name, round(seconds, 2), error])
        if error:
            raise RoundFailed()
        return result


class RoundFailed(Exception):
    pass


class Service(object):

    def __init__(self, config):
        self.client = harness.connect_agent(config['agent'])
        self.client_ip = config['client_ip']
        self.driver = self.build(config)
        self.current = None

    def build(self, config):
        raise NotImplementedError()

    def round(self, ops):
        raise NotImplementedError()

    def finish(self, ops, keep):
        raise NotImplementedError()

    def stats(self):
        raise NotImplementedError()


class CinderService(Service):

    def build(self, config):
        from cinder import context
        from cinder import objects
        objects.register_all()
        self.objects = objects
        self.ctx = context.get_admin_context()
        drv, _conf = backends.cinder_driver(
            self.client, config['workdir'], config['backend'],
            config['options'])
        return drv

    def volume(self, project, size=1):
        return self.objects.Volume(
            self.ctx, id=str(uuid.uuid4()), _name_id=None, size=size,
            project_id=project, status='creating', multiattach=False,
            provider_location=None, display_name='ha-takeover',
            volume_attachment=self.objects.VolumeAttachmentList(
                objects=[]))

    def snapshot(self, volume):
        return self.objects.Snapshot(
            self.ctx, id=str(uuid.uuid4()), volume_id=volume.id,
            volume=volume, volume_size=volume.size,
            project_id=volume.project_id, status='creating',
            display_name='ha-takeover')

    @staticmethod
    def made(volume, update):
        """Keep the driver's model update on the object, as Cinder does."""
        volume.update(update or {})
        volume.status = 'available'

    def connector(self):
        return {'ip': self.client_ip, 'host': 'c1'}

    def round(self, ops):
        drv = self.driver
        project = uuid.uuid4().hex
        a, b, c = (self.volume(project) for _i in range(3))
        snap = self.snapshot(a)
        self.current = {'a': a, 'b': b, 'c': c, 'snap': snap}
        self.made(a, ops.run('create_volume', drv.create_volume, a))
        ops.run('create_snapshot', drv.create_snapshot, snap)
        snap.status = 'available'
        self.made(b, ops.run('create_volume_from_snapshot',
                             drv.create_volume_from_snapshot, b, snap))
        self.made(c, ops.run('create_cloned_volume',
                             drv.create_cloned_volume, c, a))
        info = ops.run('initialize_connection',
                       drv.initialize_connection, a, self.connector())
        ops.run('initialize_connection (2nd volume)',
                drv.initialize_connection, b, self.connector())
        ops.run('extend_volume', drv.extend_volume, a, 2)
        a.size = 2
        return {'export': info['data']['export'], 'project': project}

    def finish(self, ops, keep):
        drv, cur = self.driver, self.current
        ops.run('terminate_connection', drv.terminate_connection,
                cur['b'], self.connector())
        ops.run('delete_volume', drv.delete_volume, cur['b'])
        ops.run('delete_volume (clone)', drv.delete_volume, cur['c'])
        ops.run('delete_snapshot', drv.delete_snapshot, cur['snap'])
        if not keep:
            ops.run('terminate_connection (1st volume)',
                    drv.terminate_connection, cur['a'], self.connector())
            ops.run('delete_volume (1st volume)', drv.delete_volume,
                    cur['a'])
        return {}

    def stats(self):
        return self.driver.get_volume_stats(refresh=True)


class ManilaService(Service):

    def build(self, config):
        from manila import context
        self.ctx = context.get_admin_context()
        drv, _conf = backends.manila_driver(
            self.client, config['workdir'], config['backend'],
            config['options'])
        return drv

    @staticmethod
    def share(project, size=1):
        # As the share manager passes a share instance.
        return {'id': str(uuid.uuid4()), 'share_id': str(uuid.uuid4()),
                'size': size, 'project_id': project, 'share_proto': 'NFS',
                'export_locations': []}

    def rule(self):
        return {'access_id': str(uuid.uuid4()), 'access_type': 'ip',
                'access_to': self.client_ip, 'access_level': 'rw'}

    def round(self, ops):
        drv, ctx = self.driver, self.ctx
        project = uuid.uuid4().hex
        x, y = self.share(project), self.share(project)
        rules = [self.rule()]
        self.current = {'x': x, 'y': y, 'rules': rules}
        locations = ops.run('create_share', drv.create_share, ctx, x)
        x['export_locations'] = locations
        errors = ops.run('update_access', drv.update_access, ctx, x, rules,
                         rules, [], [])
        if errors:
            ops.ops[-1][2] = 'rules in error: %s' % errors
            raise RoundFailed()
        snap = backends.share_snapshot(x)
        self.current['snap'] = snap
        ops.run('create_snapshot', drv.create_snapshot, ctx, snap)
        ops.run('create_share_from_snapshot',
                drv.create_share_from_snapshot, ctx, y, snap)
        ops.run('extend_share', drv.extend_share, x, 2)
        x['size'] = 2
        return {'export': locations[0]['path'], 'project': project}

    def finish(self, ops, keep):
        drv, ctx, cur = self.driver, self.ctx, self.current
        ops.run('delete_share (from snapshot)', drv.delete_share, ctx,
                cur['y'])
        ops.run('delete_snapshot', drv.delete_snapshot, ctx, cur['snap'])
        if not keep:
            ops.run('update_access (none)', drv.update_access, ctx,
                    cur['x'], [], [], cur['rules'], [])
            ops.run('delete_share', drv.delete_share, ctx, cur['x'])
        return {}

    def stats(self):
        return self.driver.get_share_stats(refresh=True)


SERVICES = {'cinder': CinderService, 'manila': ManilaService}


class Worker(object):

    def __init__(self, service, config):
        started = time.monotonic()
        self.service = SERVICES[service](config)
        sessions = config.get('sessions') or 1
        with concurrent.futures.ThreadPoolExecutor(sessions) as pool:
            list(pool.map(lambda _i: self.service.driver.pool.capacity(),
                          range(sessions)))
        self.setup = time.monotonic() - started

    def _ops(self, func, *args):
        ops = Round()
        try:
            answer = func(ops, *args)
        except RoundFailed:
            answer = {}
        except Exception:
            ops.ops.append(['(worker)', 0, traceback.format_exc()])
            answer = {}
        return dict(answer, ops=ops.ops)

    def round(self, command):
        return self._ops(self.service.round)

    def finish(self, command):
        return self._ops(self.service.finish, bool(command.get('keep')))

    def stats(self, command):
        seconds, stats, error = timed(self.service.stats)
        if error:
            return {'error': error, 'seconds': seconds}
        return {'pools': stats['pools'], 'seconds': seconds}


def main():
    service = sys.argv[1]
    config = json.loads(sys.stdin.readline())
    # Locks a service takes on its own host, in the test's folder.
    lockutils.set_defaults(os.path.join(config['workdir'],
                                        'locks-' + service))

    def answer(doc):
        sys.stdout.write(json.dumps(doc, default=str) + '\n')
        sys.stdout.flush()

    worker = Worker(service, config)
    answer({'ready': worker.setup})
    for line in sys.stdin:
        command = json.loads(line)
        if command['do'] == 'quit':
            break
        answer(getattr(worker, command['do'])(command))
    worker.service.client.close()


if __name__ == '__main__':
    main()
