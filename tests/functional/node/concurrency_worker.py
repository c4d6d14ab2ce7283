"""One service's driver in its own process, for test_concurrency.

Cinder and Manila cannot be imported into one process, so the test runs
this module twice, ``python -m tests.functional.node.concurrency_worker
cinder|manila``, each building its real driver against the lab storage
node's agent (over SSH, from the lab namespace). Driven one JSON line at a
time on stdin, it answers one JSON line per command on stdout:

* first line: ``{"agent": Node.agent_params(), "workdir", "backend",
  "options", "count"}``; answer ``{"ready": seconds of set-up}``;
* ``baseline``: one item (volume or share) for a new project, made and
  deleted on its own; answer its create and delete seconds;
* ``create``: ``count`` items, each for a new project, all at once (one
  thread each); answer per item: project, svm, lv, address, location,
  elapsed, error, and the wall time;
* ``delete``: every item of ``create`` deleted, all at once;
* ``quit``.
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

# Sessions the agent client keeps at most (MAX_SESSIONS): opened before
# any measurement, as a running service has them.
WARM_SESSIONS = 8


class Service(object):
    """Items of one driver: make, describe and delete them."""

    def __init__(self, config):
        self.client = harness.connect_agent(config['agent'])
        self.driver = self.build(config)

    def build(self, config):
        """The service's driver, set up on the node's agent client."""
        raise NotImplementedError()

    def item(self, project):
        raise NotImplementedError()

    def lv(self, item):
        raise NotImplementedError()

    def create(self, item):
        """Make ``item``; its location ``ADDRESS:/PSEUDO``."""
        raise NotImplementedError()

    def delete(self, item):
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

    def item(self, project):
        return self.objects.Volume(
            self.ctx, id=str(uuid.uuid4()), _name_id=None, size=1,
            project_id=project, status='creating', multiattach=False,
            provider_location=None, display_name='concurrency',
            volume_attachment=self.objects.VolumeAttachmentList(
                objects=[]))

    def lv(self, item):
        return 'vol-' + item.id

    def create(self, item):
        return self.driver.create_volume(item)['provider_location']

    def delete(self, item):
        self.driver.delete_volume(item)


class ManilaService(Service):

    def build(self, config):
        from manila import context
        self.ctx = context.get_admin_context()
        drv, _conf = backends.manila_driver(
            self.client, config['workdir'], config['backend'],
            config['options'])
        return drv

    def item(self, project):
        # As the share manager passes a share instance.
        return {'id': str(uuid.uuid4()), 'share_id': str(uuid.uuid4()),
                'size': 1, 'project_id': project, 'share_proto': 'NFS',
                'export_locations': []}

    def lv(self, item):
        return 'share-' + item['id']

    def create(self, item):
        locations = self.driver.create_share(self.ctx, item)
        return locations[0]['path']

    def delete(self, item):
        self.driver.delete_share(self.ctx, item)


SERVICES = {'cinder': CinderService, 'manila': ManilaService}


def timed(func, *args):
    """(seconds, result, error text) of ``func(*args)``."""
    started = time.monotonic()
    try:
        result, error = func(*args), None
    except Exception:
        result, error = None, traceback.format_exc()
    return time.monotonic() - started, result, error


def all_at_once(func, items):
    """``timed(func, item)`` of every item, one thread each; wall time."""
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(items)) as pool:
        results = list(pool.map(lambda item: timed(func, item), items))
    return time.monotonic() - started, results


class Worker(object):

    def __init__(self, service, config):
        started = time.monotonic()
        self.service = SERVICES[service](config)
        self.count = config['count']
        self.items = []
        all_at_once(lambda _i: self.service.driver.pool.capacity(),
                    range(WARM_SESSIONS))
        self.setup = time.monotonic() - started

    def describe(self, item, elapsed, location, error):
        project = getattr(item, 'project_id', None) or item['project_id']
        return {'project': project,
                'svm': self.service.driver.svm_pools.svm_name(project),
                'lv': self.service.lv(item), 'location': location,
                'address': location and location.rsplit(':', 1)[0],
                'elapsed': elapsed, 'error': error}

    def baseline(self):
        item = self.service.item(uuid.uuid4().hex)
        create_s, location, error = timed(self.service.create, item)
        delete_s, _r, delete_error = timed(self.service.delete, item)
        return dict(self.describe(item, create_s, location, error),
                    delete_elapsed=delete_s, delete_error=delete_error)

    def create(self):
        self.items = [self.service.item(uuid.uuid4().hex)
                      for _i in range(self.count)]
        wall, results = all_at_once(self.service.create, self.items)
        return {'wall': wall, 'items': [
            self.describe(item, elapsed, location, error)
            for item, (elapsed, location, error) in zip(self.items,
                                                        results)]}

    def delete(self):
        wall, results = all_at_once(self.service.delete, self.items)
        return {'wall': wall, 'errors': [e for _s, _r, e in results if e]}


def main():
    service = sys.argv[1]
    config = json.loads(sys.stdin.readline())
    # Locks a service takes on its own host, in the test's folder.
    lockutils.set_defaults(os.path.join(config['workdir'],
                                        'locks-' + service))

    def answer(doc):
        sys.stdout.write(json.dumps(doc) + '\n')
        sys.stdout.flush()

    worker = Worker(service, config)
    answer({'ready': worker.setup})
    commands = {'baseline': worker.baseline, 'create': worker.create,
                'delete': worker.delete}
    for line in sys.stdin:
        command = line.strip()
        if command == 'quit':
            break
        answer(commands[command]())
    worker.service.client.close()


if __name__ == '__main__':
    main()
