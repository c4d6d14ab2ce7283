import itertools

import ddt

from arca_openstack import exception
from arca_openstack.node import lvm
from tests.unit import base
from tests.unit import rootwrap_check

GiB = 1024 ** 3
LVS = ('lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o',
       'lv_name,vg_name,lv_size,lv_attr,lv_tags,origin,pool_lv,segtype,'
       'data_percent,metadata_percent')
UUID = '6f1c1d2e-8a4b-4c6d-9e0f-123456789abc'

# As lvm2 2.03.16 prints `lvs --reportformat json --units b --nosuffix`.
VG_REPORT = '''\
  {
      "report": [
          {
              "lv": [
                  {"lv_name":"pool", "vg_name":"arca", \
"lv_size":"107374182400", "lv_attr":"twi-aotz--", "lv_tags":"", \
"origin":"", "pool_lv":"", "segtype":"thin-pool", "data_percent":"12.50", \
"metadata_percent":"3.21"},
                  {"lv_name":"root", "vg_name":"arca", \
"lv_size":"21474836480", "lv_attr":"-wi-ao----", "lv_tags":"", \
"origin":"", "pool_lv":"", "segtype":"linear", "data_percent":"", \
"metadata_percent":""},
                  {"lv_name":"vol-1", "vg_name":"arca", \
"lv_size":"10737418240", "lv_attr":"Vwi-aotz--", \
"lv_tags":"arca.id=6f1c1d2e-8a4b-4c6d-9e0f-123456789abc,arca.kind=volume,\
arca.project=p1", "origin":"", "pool_lv":"pool", "segtype":"thin", \
"data_percent":"40.00", "metadata_percent":""},
                  {"lv_name":"vol-10", "vg_name":"arca", \
"lv_size":"5368709120", "lv_attr":"Vwi---tz--", \
"lv_tags":"arca.kind=volume,arca.project=p2", "origin":"", \
"pool_lv":"pool", "segtype":"thin", "data_percent":"", \
"metadata_percent":""},
                  {"lv_name":"snap-1", "vg_name":"arca", \
"lv_size":"10737418240", "lv_attr":"Vwi-a-tz--", \
"lv_tags":"arca.kind=snapshot,arca.project=p1", "origin":"vol-1", \
"pool_lv":"pool", "segtype":"thin", "data_percent":"40.00", \
"metadata_percent":""},
                  {"lv_name":"other", "vg_name":"arca", \
"lv_size":"1073741824", "lv_attr":"Vwi-a-tz--", "lv_tags":"arca.kind=volume", \
"origin":"", "pool_lv":"pool2", "segtype":"thin", "data_percent":"0.00", \
"metadata_percent":""}
              ]
          }
      ]
  }
'''

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


def lv_report(name, size=10 * GiB, attr='Vwi-a-tz--', tags='', origin='',
              pool='pool', segtype='thin', data='0.00'):
    return ('  {\n      "report": [\n          {\n              "lv": [\n'
            '                  {"lv_name":"%s", "vg_name":"arca", '
            '"lv_size":"%d", "lv_attr":"%s", "lv_tags":"%s", '
            '"origin":"%s", "pool_lv":"%s", "segtype":"%s", '
            '"data_percent":"%s", "metadata_percent":""}\n'
            '              ]\n          }\n      ]\n  }\n'
            % (name, size, attr, tags, origin, pool, segtype, data))


NOT_FOUND = '  Failed to find logical volume "arca/%s"\n'


@ddt.ddt
class ThinPoolTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.pool = lvm.ThinPool(self.executor, 'arca', 'pool')

    def lv_exists(self, name, times=None, **kwargs):
        self.executor.on(*(LVS + ('arca/%s' % name,)),
                         stdout=lv_report(name, **kwargs), times=times)

    def lv_missing(self, name, times=None):
        self.executor.on(*(LVS + ('arca/%s' % name,)), exit_code=5,
                         stdout=EMPTY_REPORT, stderr=NOT_FOUND % name,
                         times=times)

    def lvs(self, target):
        return LVS + (target,)

    # -- validation: nothing runs on bad input --

    @ddt.data('', '-x', '../etc', 'a/b', 'a b', 'a;b', 'snapshot',
              'x_tmeta', 'é', None, 7, 'a' * 128, 'a\nb', 'vol\n', '$(reboot)')
    def test_bad_names_issue_no_command(self, name):
        calls = [
            lambda: self.pool.get(name),
            lambda: self.pool.create(name, 1),
            lambda: self.pool.extend(name, 1),
            lambda: self.pool.reduce(name, 1),
            lambda: self.pool.remove(name),
            lambda: self.pool.snapshot(name, 'ok'),
            lambda: self.pool.snapshot('ok', name),
            lambda: self.pool.rename(name, 'ok'),
            lambda: self.pool.rename('ok', name),
            lambda: self.pool.add_tags(name, ['t']),
            lambda: self.pool.remove_tags(name, ['t']),
            lambda: self.pool.activate(name),
            lambda: self.pool.deactivate(name),
            lambda: self.pool.device_path(name),
        ]
        for call in calls:
            self.assertRaises(exception.InvalidInput, call)
        self.assertEqual([], self.executor.commands)

    @ddt.data(0, -1, 1.5, '1g', True, None, 2 ** 40, '', '10 ')
    def test_bad_sizes_issue_no_command(self, size):
        for call in (self.pool.create, self.pool.extend, self.pool.reduce):
            self.assertRaises(exception.InvalidInput, call, 'vol', size)
        self.assertEqual([], self.executor.commands)

    @ddt.data(['-y'], ['a b'], ['a,b'], [''], ['x;y'], 'arca.kind=volume',
              [None], ['t\n'], ['t%d' % i for i in range(9)], ['a' * 129],
              ['é'])
    def test_bad_tags_issue_no_command(self, tags):
        calls = [
            lambda: self.pool.list(tags),
            lambda: self.pool.create('vol', 1, tags),
            lambda: self.pool.snapshot('vol', 'snap', tags),
            lambda: self.pool.add_tags('vol', tags),
            lambda: self.pool.remove_tags('vol', tags),
        ]
        for call in calls:
            self.assertRaises(exception.InvalidInput, call)
        self.assertEqual([], self.executor.commands)

    @ddt.data(('', 'pool'), ('arca', ''), ('-vg', 'pool'), ('arca', 'a/b'),
              ('a/b', 'pool'), ('arca', 'pool_tdata'))
    @ddt.unpack
    def test_bad_pool_names(self, vg, pool):
        self.assertRaises(exception.InvalidInput, lvm.ThinPool,
                          self.executor, vg, pool)
        self.assertEqual([], self.executor.commands)

    def test_same_names_rejected(self):
        self.assertRaises(exception.InvalidInput, self.pool.snapshot,
                          'vol', 'vol')
        self.assertRaises(exception.InvalidInput, self.pool.rename,
                          'vol', 'vol')
        self.assertEqual([], self.executor.commands)

    # -- tags --

    def test_make_tags(self):
        self.assertEqual(
            ['arca.id=%s' % UUID, 'arca.kind=volume', 'arca.project=p1',
             'arca.svm=svm_1'],
            lvm.make_tags(kind='volume', project='p1', svm='svm_1', id=UUID,
                          size=None))

    @ddt.data({'kind': 'a b'}, {'Kind': 'x'}, {'kind': ['x']},
              {'kind': 'x,y'}, {'kind': True})
    def test_make_tags_rejects(self, fields):
        self.assertRaises(exception.InvalidInput, lvm.make_tags, **fields)

    def test_parse_tags(self):
        self.assertEqual(
            {'kind': 'volume', 'id': UUID, 'note': 'a=b'},
            lvm.parse_tags(['arca.kind=volume', 'arca.id=%s' % UUID,
                            'arca.note=a=b', 'foreign', 'other.kind=x',
                            'arca.noequals']))

    def test_tags_round_trip(self):
        fields = {'kind': 'share', 'project': 'p1', 'id': UUID}
        self.assertEqual(fields, lvm.parse_tags(lvm.make_tags(**fields)))

    # -- reading --

    def test_capacity(self):
        self.executor.on(*self.lvs('arca'), stdout=VG_REPORT)
        cap = self.pool.capacity()
        self.assertCommands(self.lvs('arca'))
        self.assertEqual({
            'total_bytes': 107374182400,
            'used_bytes': 13421772800,
            'free_bytes': 107374182400 - 13421772800,
            'data_percent': 12.5,
            'metadata_percent': 3.21,
            'provisioned_bytes': 10737418240 * 2 + 5368709120,
            'lv_count': 3,
        }, cap)

    def test_capacity_pool_missing(self):
        report = VG_REPORT.replace('"lv_name":"pool"', '"lv_name":"gone"')
        self.executor.on(*self.lvs('arca'), stdout=report)
        err = self.assertRaises(exception.NotFound, self.pool.capacity)
        self.assertIn('arca/pool', str(err))

    def test_capacity_not_a_thin_pool(self):
        pool = lvm.ThinPool(self.executor, 'arca', 'root')
        self.executor.on(*self.lvs('arca'), stdout=VG_REPORT)
        err = self.assertRaises(exception.NotFound, pool.capacity)
        self.assertIn('arca/root', str(err))

    def test_capacity_vg_missing(self):
        self.executor.on(*self.lvs('arca'), exit_code=5,
                         stderr='  Volume group "arca" not found\n'
                                '  Cannot process volume group arca\n')
        err = self.assertRaises(exception.NotFound, self.pool.capacity)
        self.assertIn('arca/pool', str(err))

    def test_get(self):
        self.executor.on(*self.lvs('arca/snap-1'), stdout=lv_report(
            'snap-1', tags='arca.kind=snapshot,arca.project=p1',
            origin='vol-1', data='40.00'))
        self.assertEqual({
            'name': 'snap-1', 'vg': 'arca', 'size_bytes': 10 * GiB,
            'tags': ['arca.kind=snapshot', 'arca.project=p1'],
            'origin': 'vol-1', 'pool': 'pool', 'segtype': 'thin',
            'active': True, 'data_percent': 40.0, 'metadata_percent': None,
            'path': '/dev/arca/snap-1',
        }, self.pool.get('snap-1'))
        self.assertCommands(self.lvs('arca/snap-1'))

    def test_get_inactive(self):
        self.lv_exists('vol', attr='Vwi---tz--', data='')
        info = self.pool.get('vol')
        self.assertFalse(info['active'])
        self.assertIsNone(info['data_percent'])
        self.assertIsNone(info['origin'])
        self.assertEqual([], info['tags'])

    def test_get_missing(self):
        self.lv_missing('vol')
        self.assertIsNone(self.pool.get('vol'))

    def test_get_exact_name_only(self):
        self.executor.on(*self.lvs('arca/vol'), stdout=lv_report('vol-1'))
        self.assertIsNone(self.pool.get('vol'))

    def test_get_vg_missing(self):
        self.executor.on(*self.lvs('arca/vol'), exit_code=5,
                         stderr='  Volume group "arca" not found\n')
        self.assertRaises(exception.NotFound, self.pool.get, 'vol')

    def test_get_other_failure(self):
        self.executor.on(*self.lvs('arca/vol'), exit_code=5,
                         stderr='  Reading VG arca failed\n')
        self.assertRaises(exception.CommandFailed, self.pool.get, 'vol')

    @ddt.data('not json', '{"report": 5}', '{"report": [{"lv": [1]}]}',
              lv_report('vol').replace('"10737418240"', '"10G"'),
              lv_report('vol').replace('"0.00"', '"x"'),
              lv_report('vol').replace('"lv_tags":"", ', ''))
    def test_get_bad_output(self, stdout):
        self.executor.on(*self.lvs('arca/vol'), stdout=stdout)
        self.assertRaises(exception.ParseError, self.pool.get, 'vol')

    def test_list_all(self):
        self.executor.on(*self.lvs('arca'), stdout=VG_REPORT)
        self.assertEqual(['snap-1', 'vol-1', 'vol-10'],
                         [i['name'] for i in self.pool.list()])
        self.assertCommands(self.lvs('arca'))

    @ddt.data((['arca.kind=volume'], ['vol-1', 'vol-10']),
              (['arca.kind=volume', 'arca.project=p1'], ['vol-1']),
              (['arca.project=p1'], ['snap-1', 'vol-1']),
              # exact tags only, never a substring
              (['arca.project=p'], []),
              (['arca.kind=vol'], []))
    @ddt.unpack
    def test_list_by_tags(self, tags, names):
        self.executor.on(*self.lvs('arca'), stdout=VG_REPORT)
        self.assertEqual(names, [i['name'] for i in self.pool.list(tags)])

    def test_device_path(self):
        self.assertEqual('/dev/arca/vol-1', self.pool.device_path('vol-1'))
        self.assertEqual([], self.executor.commands)

    # -- create --

    def test_create(self):
        self.lv_missing('vol')
        self.pool.create('vol', 10, ['arca.kind=volume', 'arca.id=%s' % UUID,
                                     'arca.kind=volume'])
        self.assertCommands(
            self.lvs('arca/vol'),
            ('lvcreate', '-T', 'arca/pool', '-V', '10g', '-n', 'vol',
             '--addtag', 'arca.kind=volume', '--addtag', 'arca.id=%s' % UUID))

    def test_create_without_tags(self):
        self.lv_missing('vol')
        self.pool.create('vol', 1)
        self.assertCommands(
            self.lvs('arca/vol'),
            ('lvcreate', '-T', 'arca/pool', '-V', '1g', '-n', 'vol'))

    def test_create_max_tags(self):
        self.lv_missing('vol')
        tags = ['t%d' % i for i in range(lvm.MAX_TAGS)]
        self.pool.create('vol', 1, tags)
        self.assertEqual(7 + 2 * lvm.MAX_TAGS, len(self.executor.commands[1]))

    def test_create_exists_same_size_adds_missing_tags(self):
        self.lv_exists('vol', tags='arca.kind=volume')
        self.pool.create('vol', 10, ['arca.kind=volume', 'arca.project=p1'])
        self.assertCommands(
            self.lvs('arca/vol'),
            ('lvchange', '--addtag', 'arca.project=p1', 'arca/vol'))

    def test_create_exists_complete(self):
        self.lv_exists('vol', tags='arca.kind=volume')
        self.pool.create('vol', 10, ['arca.kind=volume'])
        self.assertCommands(self.lvs('arca/vol'))

    def test_create_exists_other_size(self):
        self.lv_exists('vol', size=5 * GiB)
        self.assertRaises(exception.Conflict, self.pool.create, 'vol', 10)
        self.assertCommands(self.lvs('arca/vol'))

    def test_create_exists_as_snapshot(self):
        self.lv_exists('vol', origin='other')
        self.assertRaises(exception.Conflict, self.pool.create, 'vol', 10)
        self.assertCommands(self.lvs('arca/vol'))

    @ddt.data({'pool': 'pool2'}, {'pool': '', 'segtype': 'linear',
                                  'attr': '-wi-ao----'})
    def test_create_exists_outside_pool(self, kwargs):
        self.lv_exists('vol', **kwargs)
        self.assertRaises(exception.Conflict, self.pool.create, 'vol', 10)
        self.assertCommands(self.lvs('arca/vol'))

    @ddt.data(
        ('  Cannot create new thin volume, free space in thin pool '
         'arca/pool reached threshold.\n', exception.CapacityExceeded),
        ('  Insufficient free space: 2560 extents needed, but only 12 '
         'available\n', exception.CapacityExceeded),
        ('  Logical Volume "vol" already exists in volume group "arca"\n',
         exception.Conflict),
        ('  Thin pool volume pool not found in Volume group arca.\n',
         exception.NotFound),
        ('  Metadata commit failed\n', exception.CommandFailed))
    @ddt.unpack
    def test_create_errors(self, stderr, error):
        self.lv_missing('vol')
        self.executor.on('lvcreate', exit_code=5, stderr=stderr)
        err = self.assertRaises(error, self.pool.create, 'vol', 10)
        if error is exception.CapacityExceeded:
            self.assertIn('arca/pool', str(err))

    def test_create_timeout_not_mapped(self):
        self.lv_missing('vol')
        self.executor.on('lvcreate', timeout=True)
        self.assertRaises(exception.CommandTimeout, self.pool.create,
                          'vol', 10)

    # -- extend / reduce --

    def test_extend(self):
        self.lv_exists('vol', size=10 * GiB)
        self.pool.extend('vol', 20)
        self.assertCommands(self.lvs('arca/vol'),
                            ('lvextend', '-L', '20g', 'arca/vol'))

    @ddt.data(10, 5)
    def test_extend_noop(self, size):
        self.lv_exists('vol', size=10 * GiB)
        self.pool.extend('vol', size)
        self.assertCommands(self.lvs('arca/vol'))

    def test_extend_missing(self):
        self.lv_missing('vol')
        self.assertRaises(exception.NotFound, self.pool.extend, 'vol', 20)
        self.assertCommands(self.lvs('arca/vol'))

    def test_extend_refuses_pool(self):
        self.lv_exists('pool', pool='', segtype='thin-pool',
                       attr='twi-aotz--')
        self.assertRaises(exception.Conflict, self.pool.extend, 'pool', 200)
        self.assertCommands(self.lvs('arca/pool'))

    def test_reduce(self):
        self.lv_exists('vol', size=20 * GiB)
        self.pool.reduce('vol', 10)
        self.assertCommands(self.lvs('arca/vol'),
                            ('lvreduce', '-f', '-L', '10g', 'arca/vol'))

    @ddt.data(20, 30)
    def test_reduce_noop(self, size):
        self.lv_exists('vol', size=20 * GiB)
        self.pool.reduce('vol', size)
        self.assertCommands(self.lvs('arca/vol'))

    # -- remove --

    def test_remove(self):
        self.lv_exists('vol')
        self.pool.remove('vol')
        self.assertCommands(self.lvs('arca/vol'),
                            ('lvremove', '-f', 'arca/vol'))

    def test_remove_absent(self):
        self.lv_missing('vol')
        self.pool.remove('vol')
        self.assertCommands(self.lvs('arca/vol'))

    def test_remove_vanished_meanwhile(self):
        self.lv_exists('vol')
        self.executor.on('lvremove', exit_code=5,
                         stderr=NOT_FOUND % 'vol')
        self.pool.remove('vol')

    @ddt.data({'pool': '', 'segtype': 'thin-pool', 'attr': 'twi-aotz--'},
              {'pool': '', 'segtype': 'linear', 'attr': '-wi-ao----'},
              {'pool': 'pool2'})
    def test_remove_refuses_foreign(self, kwargs):
        self.lv_exists('vol', **kwargs)
        self.assertRaises(exception.Conflict, self.pool.remove, 'vol')
        self.assertCommands(self.lvs('arca/vol'))

    def test_remove_in_use(self):
        self.lv_exists('vol')
        self.executor.on('lvremove', exit_code=5,
                         stderr='  Logical volume arca/vol in use.\n')
        self.assertRaises(exception.InUse, self.pool.remove, 'vol')

    # -- snapshot --

    def test_snapshot(self):
        self.lv_exists('vol')
        self.lv_exists('snap', origin='vol')
        self.lv_missing('snap', times=1)
        self.pool.snapshot('vol', 'snap', ['arca.kind=snapshot'])
        self.assertCommands(
            self.lvs('arca/snap'), self.lvs('arca/vol'),
            ('lvcreate', '-s', '-kn', '-n', 'snap', 'arca/vol',
             '--addtag', 'arca.kind=snapshot'),
            self.lvs('arca/snap'))

    def test_snapshot_activates_if_needed(self):
        self.lv_exists('vol')
        self.lv_exists('snap', origin='vol', attr='Vwi---tz-k', data='')
        self.lv_missing('snap', times=1)
        self.pool.snapshot('vol', 'snap')
        self.assertCommands(
            self.lvs('arca/snap'), self.lvs('arca/vol'),
            ('lvcreate', '-s', '-kn', '-n', 'snap', 'arca/vol'),
            self.lvs('arca/snap'),
            ('lvchange', '-ay', '-K', 'arca/snap'))

    def test_snapshot_of_snapshot(self):
        self.lv_exists('snap', origin='vol')
        self.lv_exists('snap2', origin='snap')
        self.lv_missing('snap2', times=1)
        self.pool.snapshot('snap', 'snap2')
        self.assertIn(('lvcreate', '-s', '-kn', '-n', 'snap2', 'arca/snap'),
                      self.executor.commands)

    def test_snapshot_exists_same_origin(self):
        self.lv_exists('snap', origin='vol', tags='arca.kind=snapshot',
                       attr='Vwi---tz-k', data='')
        self.pool.snapshot('vol', 'snap', ['arca.kind=snapshot', 'x'])
        self.assertCommands(self.lvs('arca/snap'),
                            ('lvchange', '--addtag', 'x', 'arca/snap'),
                            ('lvchange', '-ay', '-K', 'arca/snap'))

    @ddt.data('', 'other')
    def test_snapshot_exists_other_origin(self, origin):
        self.lv_exists('snap', origin=origin)
        self.assertRaises(exception.Conflict, self.pool.snapshot,
                          'vol', 'snap')
        self.assertCommands(self.lvs('arca/snap'))

    def test_snapshot_origin_missing(self):
        self.lv_missing('snap')
        self.lv_missing('vol')
        self.assertRaises(exception.NotFound, self.pool.snapshot,
                          'vol', 'snap')
        self.assertCommands(self.lvs('arca/snap'), self.lvs('arca/vol'))

    def test_snapshot_pool_full(self):
        self.lv_missing('snap')
        self.lv_exists('vol')
        self.executor.on('lvcreate', exit_code=5, stderr=(
            '  Cannot create new thin volume, free space in thin pool '
            'arca/pool reached threshold.\n'))
        self.assertRaises(exception.CapacityExceeded, self.pool.snapshot,
                          'vol', 'snap')

    # -- rename --

    def test_rename(self):
        self.lv_exists('old')
        self.lv_missing('new')
        self.pool.rename('old', 'new')
        self.assertCommands(self.lvs('arca/old'), self.lvs('arca/new'),
                            ('lvrename', 'arca', 'old', 'new'))

    def test_rename_done_already(self):
        self.lv_missing('old')
        self.lv_exists('new')
        self.pool.rename('old', 'new')
        self.assertCommands(self.lvs('arca/old'), self.lvs('arca/new'))

    def test_rename_both_missing(self):
        self.lv_missing('old')
        self.lv_missing('new')
        self.assertRaises(exception.NotFound, self.pool.rename, 'old', 'new')

    def test_rename_both_exist(self):
        self.lv_exists('old')
        self.lv_exists('new')
        self.assertRaises(exception.Conflict, self.pool.rename, 'old', 'new')
        self.assertCommands(self.lvs('arca/old'), self.lvs('arca/new'))

    # -- tags, activation --

    def test_add_tags(self):
        self.lv_exists('vol', tags='a')
        self.pool.add_tags('vol', ['a', 'b', 'c'])
        self.assertCommands(self.lvs('arca/vol'),
                            ('lvchange', '--addtag', 'b', 'arca/vol'),
                            ('lvchange', '--addtag', 'c', 'arca/vol'))

    def test_remove_tags(self):
        self.lv_exists('vol', tags='a,b')
        self.pool.remove_tags('vol', ['b', 'c'])
        self.assertCommands(self.lvs('arca/vol'),
                            ('lvchange', '--deltag', 'b', 'arca/vol'))

    def test_add_tags_missing_lv(self):
        self.lv_missing('vol')
        self.assertRaises(exception.NotFound, self.pool.add_tags, 'vol',
                          ['a'])

    def test_activate(self):
        self.lv_exists('vol', attr='Vwi---tz--', data='')
        self.pool.activate('vol')
        self.assertCommands(self.lvs('arca/vol'),
                            ('lvchange', '-ay', '-K', 'arca/vol'))

    def test_activate_active(self):
        self.lv_exists('vol')
        self.pool.activate('vol')
        self.assertCommands(self.lvs('arca/vol'))

    def test_deactivate(self):
        self.lv_exists('vol')
        self.pool.deactivate('vol')
        self.assertCommands(self.lvs('arca/vol'),
                            ('lvchange', '-an', 'arca/vol'))

    def test_deactivate_inactive(self):
        self.lv_exists('vol', attr='Vwi---tz--', data='')
        self.pool.deactivate('vol')
        self.assertCommands(self.lvs('arca/vol'))

    def test_deactivate_in_use(self):
        self.lv_exists('vol')
        self.executor.on('lvchange', exit_code=5,
                         stderr='  Logical volume arca/vol in use.\n')
        self.assertRaises(exception.InUse, self.pool.deactivate, 'vol')


@ddt.ddt
class LvmFiltersTestCase(base.TestCase):
    """Commands the LVM filters must refuse."""

    @ddt.data(
        ('lvremove', '-f', 'arca/../x'),
        ('lvremove', '-f', '../arca/x'),
        ('lvremove', '-f', '/dev/arca/x'),
        ('lvremove', '-f', 'arca'),
        ('lvremove', '-f', '-y', 'arca/x'),
        ('lvremove', 'arca/x', '-f'),
        ('lvcreate', '-T', 'arca/pool', '-V', '10g', '-n', 'vol',
         '--addtag', '--yes'),
        ('lvcreate', '-T', 'arca/pool', '-V', '10g', '-n', 'vol',
         '--addtag', 'a', '--addtag'),
        ('lvcreate', '-T', 'arca/pool', '-V', '10G', '-n', 'vol'),
        ('lvcreate', '-T', 'arca/pool', '-V', '10g', '-n', '-vol'),
        ('lvcreate', '-L', '10g', '-n', 'vol', 'arca'),
        ('lvcreate', '-s', '-kn', '-n', 'snap', 'arca/vol',
         '--addtag', 'a\nb'),
        ('lvcreate', '-s', '-kn', '-n', 'snap', 'arca/vol', '-L', '1g'),
        ('lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o',
         'lv_name,lv_uuid', 'arca'),
        ('lvs', '--config', 'x', 'arca'),
        ('lvextend', '-L', '+10g', 'arca/vol'),
        ('lvextend', '-L', '10g', '-r', 'arca/vol'),
        ('lvreduce', '-L', '10g', 'arca/vol'),
        ('lvchange', '--addtag', 'a', 'arca/vol', 'arca/other'),
        ('lvchange', '-ay', 'arca/vol', '--config', 'x'),
        ('lvrename', 'arca', 'vol', '../x'),
        ('vgremove', '-f', 'arca'),
        ('lvconvert', '--merge', 'arca/snap'),
    )
    def test_refused(self, cmd):
        self.assertFalse(rootwrap_check.allowed(cmd))

    def test_allowed_max_tags(self):
        tags = []
        for i in range(lvm.MAX_TAGS):
            tags += ['--addtag', 'arca.t%d=x' % i]
        self.assertTrue(rootwrap_check.allowed(
            ('lvcreate', '-s', '-kn', '-n', 'snap', 'arca/vol', *tags)))
        self.assertFalse(rootwrap_check.allowed(
            ('lvcreate', '-s', '-kn', '-n', 'snap', 'arca/vol', *tags,
             '--addtag', 'one-too-many')))


class SimulatedLVM(object):
    """Answers lvs/lvcreate/lvrename/lvextend/lvremove from a dict of LVs.

    Used where an operation runs many steps, to check the final state and
    recovery from a crash at every step.
    """

    def __init__(self, executor, lvs, crash_at=None, crash_after=False):
        self.lvs = lvs
        self.crash_at = crash_at
        self.crash_after = crash_after
        self.changes = 0
        self._executor_run = executor._run
        executor._run = self.run
        self.executor = executor

    def run(self, cmd, process_input, timeout):
        self.executor.commands.append(tuple(cmd))
        self.executor.inputs.append(process_input)
        if cmd[0] != 'lvs':
            self.changes += 1
            if self.changes == self.crash_at:
                if self.crash_after:
                    lvm_exec(self.lvs, cmd)
                raise exception.CommandTimeout(cmd, timeout)
        return lvm_exec(self.lvs, cmd)


def lvm_exec(lvs, cmd):
    from arca_openstack.node import executor as ex
    if cmd[0] == 'lvs':
        name = cmd[-1].split('/', 1)[1]
        if name not in lvs:
            return ex.Result(5, EMPTY_REPORT, NOT_FOUND % name)
        lv = lvs[name]
        return ex.Result(0, lv_report(name, size=lv['size'],
                                      tags=','.join(lv['tags']),
                                      origin=lv['origin']), '')
    if cmd[0] == 'lvcreate':
        name = cmd[cmd.index('-n') + 1]
        origin = cmd[cmd.index('-n') + 2].split('/')[1]
        tags = [cmd[i + 1] for i, w in enumerate(cmd) if w == '--addtag']
        lvs[name] = {'size': lvs[origin]['size'], 'tags': tags,
                     'origin': origin}
    elif cmd[0] == 'lvrename':
        lvs[cmd[3]] = lvs.pop(cmd[2])
    elif cmd[0] == 'lvextend':
        lvs[cmd[-1].split('/')[1]]['size'] = int(cmd[2][:-1]) * GiB
    elif cmd[0] == 'lvremove':
        lvs.pop(cmd[-1].split('/')[1])
    return ex.Result(0, '', '')


class RevertTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.pool = lvm.ThinPool(self.executor, 'arca', 'pool')

    def _lvs(self):
        return {
            'vol': {'size': 20 * GiB, 'tags': ['arca.kind=volume'],
                    'origin': ''},
            'snap': {'size': 10 * GiB, 'tags': ['arca.kind=snapshot'],
                     'origin': 'vol'},
        }

    def test_revert(self):
        sim = SimulatedLVM(self.executor, self._lvs())
        self.pool.revert('vol', 'snap')
        self.assertEqual({'vol', 'snap'}, set(sim.lvs))
        self.assertEqual({'size': 20 * GiB, 'tags': ['arca.kind=volume'],
                          'origin': 'snap'}, sim.lvs['vol'])
        changes = [c for c in self.executor.commands if c[0] != 'lvs']
        self.assertEqual([
            ('lvcreate', '-s', '-kn', '-n', 'vol-rvnew', 'arca/snap',
             '--addtag', 'arca.kind=volume'),
            ('lvextend', '-L', '20g', 'arca/vol-rvnew'),
            ('lvrename', 'arca', 'vol', 'vol-rvold'),
            ('lvrename', 'arca', 'vol-rvnew', 'vol'),
            ('lvremove', '-f', 'arca/vol-rvold')], changes)

    def test_revert_recovers_from_a_crash_at_every_step(self):
        for step, after in itertools.product(range(1, 6), (False, True)):
            sim = SimulatedLVM(self.executor, self._lvs(), crash_at=step,
                               crash_after=after)
            self.assertRaises(exception.CommandTimeout, self.pool.revert,
                              'vol', 'snap')
            # The timed-out command did (after) or did not happen; a retry
            # finishes either way.
            sim.crash_at = None
            self.pool.revert('vol', 'snap')
            self.assertEqual({'vol', 'snap'}, set(sim.lvs), step)
            self.assertEqual('snap', sim.lvs['vol']['origin'], step)
            self.assertEqual(20 * GiB, sim.lvs['vol']['size'], step)

    def test_revert_missing_snapshot(self):
        lvs = self._lvs()
        del lvs['snap']
        sim = SimulatedLVM(self.executor, lvs)
        self.assertRaises(exception.NotFound, self.pool.revert, 'vol',
                          'snap')
        self.assertEqual({'vol'}, set(sim.lvs))

    def test_revert_bad_input(self):
        for args in (('vol', 'vol'), ('vol', 'vol-rvnew'), ('a b', 'snap'),
                     ('vol', '../x')):
            self.assertRaises(exception.InvalidInput, self.pool.revert,
                              *args)
        self.assertEqual([], self.executor.commands)
