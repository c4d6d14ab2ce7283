"""Base class of the unit tests."""

from unittest import mock

from oslo_concurrency.fixture import lockutils as lock_fixture
from oslotest import base

from tests.unit import fake_executor
from tests.unit import rootwrap_check


class TestCase(base.BaseTestCase):
    """Gives each test a recording executor.

    After every test, each command the code under test issued is checked
    against the shipped rootwrap filters: code that needs a command the
    filters do not allow fails its own tests.
    """

    def setUp(self):
        super().setUp()
        self.useFixture(lock_fixture.ExternalLockFixture())
        self.executor = fake_executor.FakeExecutor()
        self.addCleanup(self._check_rootwrap)

    def _check_rootwrap(self):
        rejected = [cmd for cmd in self.executor.commands
                    if not rootwrap_check.allowed(cmd)]
        self.assertEqual([], rejected,
                         'commands the rootwrap filters reject')

    def assertCommands(self, *expected):
        self.assertEqual([tuple(c) for c in expected],
                         self.executor.commands)


def mock_netns():
    """A mocked :class:`Netns` in which no namespace exists yet."""
    return mock.Mock(**{'exists.return_value': False})


class FakeSVMDelete(object):
    """Stands in for ``SVMManager.delete``, keeping what it removes.

    It honours ``unless`` and runs no command.
    """

    def __init__(self):
        self.removed = []

    def __call__(self, name, unless=None):
        if unless is not None and unless():
            return False
        self.removed.append(name)
        return True
