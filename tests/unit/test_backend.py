import ddt

from arca_openstack import backend
from arca_openstack.node import lvm
from tests.unit import base


def _lv(name, tags=(), segtype='thin', pool='pool'):
    return {'name': name, 'tags': list(tags), 'segtype': segtype,
            'pool': pool, 'origin': ''}


@ddt.ddt
class UnmanageableReasonTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.pool = lvm.ThinPool(self.executor, 'arca', 'pool')

    def reason(self, name, info, kind='volume'):
        return backend.unmanageable_reason(self.pool, name, info, kind)

    @ddt.data(_lv('data'), _lv('data', ['arca.kind=volume', 'backup']),
              _lv('data', ['other.kind=share']))
    def test_manageable(self, info):
        self.assertIsNone(self.reason('data', info))

    def test_missing(self):
        self.assertEqual('no LV arca/data', self.reason('data', None))

    @ddt.data(_lv('data', segtype='linear', pool=''),
              _lv('data', pool='other'))
    def test_not_a_thin_volume_of_the_pool(self, info):
        self.assertEqual('data is not a thin volume of pool pool',
                         self.reason('data', info))

    @ddt.data('vol-1-rvnew', 'vol-1-rvold')
    def test_revert_in_progress(self, name):
        self.assertIn('temporary LV of a revert',
                      self.reason(name, _lv(name)))

    def test_tagged_as_something_else(self):
        self.assertEqual(
            'data holds a share, not a volume',
            self.reason('data', _lv('data', ['arca.kind=share'])))
