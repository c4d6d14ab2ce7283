import itertools
import re

import ddt

from arca_openstack import exception
from arca_openstack.node import lvm
from tests.unit import base
from tests.unit import fake_node
from tests.unit import rootwrap_check

GiB = 1024 ** 3
LVS = ('lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o',
       'lv_name,vg_name,lv_size,lv_attr,lv_tags,origin,pool_lv,segtype,'
       'data_percent,metadata_percent')
UUID = '6f1c1d2e-8a4b-4c6d-9e0f-123456789abc'
EMPTY_REPORT = fake_node.EMPTY_REPORT
NOT_FOUND = fake_node.NOT_FOUND
lv_row = fake_node.lv_row
rows_report = fake_node.rows_report

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


def lv_report(name, **kwargs):
    return rows_report(lv_row(name, **kwargs))


def select(*names):
    """The lvs of ThinPool.lookup(*names)."""
    return LVS + ('-S', '||'.join('lv_name="%s"' % n for n in names),
                  'arca')


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

    def found(self, names, *rows):
        """ThinPool.lookup(*names) finds the LVs of ``rows`` (lv_row)."""
        self.executor.on(*select(*names), stdout=rows_report(*rows))

    def lv_exists_already(self, name):
        """lvcreate refuses: the name is taken."""
        self.executor.on('lvcreate', exit_code=5, stderr=(
            '  Logical Volume "%s" already exists in volume group "arca"\n'
            % name))

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

    def _lvcreate(self, size='10g'):
        return ('lvcreate', '-T', 'arca/pool', '-V', size, '-n', 'vol')

    def test_create(self):
        info = self.pool.create('vol', 10, [
            'arca.kind=volume', 'arca.id=%s' % UUID, 'arca.kind=volume'])
        # One command: lvcreate itself refuses a name in use.
        self.assertCommands(
            self._lvcreate() + ('--addtag', 'arca.kind=volume',
                                '--addtag', 'arca.id=%s' % UUID))
        self.assertEqual(
            {'name': 'vol', 'vg': 'arca', 'size_bytes': 10 * GiB,
             'tags': ['arca.kind=volume', 'arca.id=%s' % UUID],
             'origin': None, 'pool': 'pool', 'segtype': 'thin',
             'active': True, 'data_percent': None, 'metadata_percent': None,
             'path': '/dev/arca/vol'}, info)

    def test_create_without_tags(self):
        self.pool.create('vol', 1)
        self.assertCommands(self._lvcreate('1g'))

    def test_create_max_tags(self):
        tags = ['t%d' % i for i in range(lvm.MAX_TAGS)]
        self.pool.create('vol', 1, tags)
        self.assertEqual(7 + 2 * lvm.MAX_TAGS, len(self.executor.commands[0]))

    def test_create_exists_same_size_adds_missing_tags(self):
        self.lv_exists_already('vol')
        self.lv_exists('vol', tags='arca.kind=volume')
        info = self.pool.create('vol', 10, ['arca.kind=volume',
                                            'arca.project=p1'])
        self.assertCommands(
            self._lvcreate() + ('--addtag', 'arca.kind=volume',
                                '--addtag', 'arca.project=p1'),
            self.lvs('arca/vol'),
            ('lvchange', '--addtag', 'arca.project=p1', 'arca/vol'))
        self.assertEqual(['arca.kind=volume', 'arca.project=p1'],
                         info['tags'])

    def test_create_exists_complete(self):
        self.lv_exists_already('vol')
        self.lv_exists('vol', tags='arca.kind=volume')
        self.pool.create('vol', 10, ['arca.kind=volume'])
        self.assertCommands(
            self._lvcreate() + ('--addtag', 'arca.kind=volume'),
            self.lvs('arca/vol'))

    def test_create_exists_other_size(self):
        self.lv_exists_already('vol')
        self.lv_exists('vol', size=5 * GiB)
        self.assertRaises(exception.Conflict, self.pool.create, 'vol', 10)
        self.assertCommands(self._lvcreate(), self.lvs('arca/vol'))

    def test_create_exists_as_snapshot(self):
        self.lv_exists_already('vol')
        self.lv_exists('vol', origin='other')
        self.assertRaises(exception.Conflict, self.pool.create, 'vol', 10)
        self.assertCommands(self._lvcreate(), self.lvs('arca/vol'))

    @ddt.data({'pool': 'pool2'}, {'pool': '', 'segtype': 'linear',
                                  'attr': '-wi-ao----'})
    def test_create_exists_outside_pool(self, kwargs):
        self.lv_exists_already('vol')
        self.lv_exists('vol', **kwargs)
        self.assertRaises(exception.Conflict, self.pool.create, 'vol', 10)
        self.assertCommands(self._lvcreate(), self.lvs('arca/vol'))

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

    def test_remove_with_known_info(self):
        info = lvm._info(
            {'lv_name': 'vol', 'vg_name': 'arca', 'lv_size': str(GiB),
             'lv_attr': 'Vwi-aotz--', 'lv_tags': '', 'origin': '',
             'pool_lv': 'pool', 'segtype': 'thin', 'data_percent': '',
             'metadata_percent': ''})
        self.pool.remove('vol', info=info)
        self.assertCommands(('lvremove', '-f', 'arca/vol'))

    def test_remove_with_known_info_refuses_foreign(self):
        info = lvm._info(
            {'lv_name': 'vol', 'vg_name': 'arca', 'lv_size': str(GiB),
             'lv_attr': '-wi-ao----', 'lv_tags': '', 'origin': '',
             'pool_lv': '', 'segtype': 'linear', 'data_percent': '',
             'metadata_percent': ''})
        self.assertRaises(exception.Conflict, self.pool.remove, 'vol',
                          info=info)
        self.assertRaises(exception.InvalidInput, self.pool.remove, 'other',
                          info=info)
        self.assertEqual([], self.executor.commands)

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

    def _snap_cmd(self, origin='vol', name='snap', *tags):
        cmd = ('lvcreate', '-s', '-kn', '-n', name, 'arca/' + origin)
        for tag in tags:
            cmd += ('--addtag', tag)
        return cmd

    def test_snapshot(self):
        self.found(('vol', 'snap'), lv_row('vol', size=3 * GiB))
        info = self.pool.snapshot('vol', 'snap', ['arca.kind=snapshot'])
        # One look-up of both, then lvcreate (which activates it).
        self.assertCommands(select('vol', 'snap'),
                            self._snap_cmd('vol', 'snap',
                                           'arca.kind=snapshot'))
        self.assertEqual(('snap', 'vol', 3 * GiB, True,
                          ['arca.kind=snapshot']),
                         (info['name'], info['origin'], info['size_bytes'],
                          info['active'], info['tags']))

    def test_snapshot_inherits_tags(self):
        self.found(('vol', 'snap'), lv_row(
            'vol', tags='arca.kind=volume,arca.project=p1,arca.svm=s1,x'))
        self.pool.snapshot('vol', 'snap', ['arca.kind=snapshot'],
                           inherit=('project', 'svm', 'size'))
        self.assertCommands(select('vol', 'snap'), self._snap_cmd(
            'vol', 'snap', 'arca.kind=snapshot', 'arca.project=p1',
            'arca.svm=s1'))

    @ddt.data(('kind',), ('Bad',), ('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'),
              (None,))
    def test_snapshot_bad_inherit(self, inherit):
        self.assertRaises(exception.InvalidInput, self.pool.snapshot, 'vol',
                          'snap', ['arca.kind=snapshot'], inherit=inherit)
        self.assertEqual([], self.executor.commands)

    def test_snapshot_of_snapshot(self):
        self.found(('snap', 'snap2'), lv_row('snap', origin='vol'))
        self.pool.snapshot('snap', 'snap2')
        self.assertCommands(select('snap', 'snap2'),
                            self._snap_cmd('snap', 'snap2'))

    def test_snapshot_exists_same_origin(self):
        self.found(('vol', 'snap'),
                   lv_row('snap', origin='vol', tags='arca.kind=snapshot',
                          attr='Vwi---tz-k', data=''))
        info = self.pool.snapshot('vol', 'snap', ['arca.kind=snapshot', 'x'])
        self.assertCommands(select('vol', 'snap'),
                            ('lvchange', '--addtag', 'x', 'arca/snap'),
                            ('lvchange', '-ay', '-K', 'arca/snap'))
        self.assertTrue(info['active'])
        self.assertEqual(['arca.kind=snapshot', 'x'], info['tags'])

    @ddt.data('', 'other')
    def test_snapshot_exists_other_origin(self, origin):
        self.found(('vol', 'snap'), lv_row('vol'),
                   lv_row('snap', origin=origin))
        self.assertRaises(exception.Conflict, self.pool.snapshot,
                          'vol', 'snap')
        self.assertCommands(select('vol', 'snap'))

    def test_snapshot_origin_missing(self):
        self.found(('vol', 'snap'))
        self.assertRaises(exception.NotFound, self.pool.snapshot,
                          'vol', 'snap')
        self.assertCommands(select('vol', 'snap'))

    @ddt.data({'pool': 'pool2'}, {'pool': '', 'segtype': 'linear',
                                  'attr': '-wi-ao----'})
    def test_snapshot_origin_outside_pool(self, kwargs):
        self.found(('vol', 'snap'), lv_row('vol', **kwargs))
        self.assertRaises(exception.Conflict, self.pool.snapshot,
                          'vol', 'snap')
        self.assertCommands(select('vol', 'snap'))

    def test_snapshot_pool_full(self):
        self.found(('vol', 'snap'), lv_row('vol'))
        self.executor.on('lvcreate', exit_code=5, stderr=(
            '  Cannot create new thin volume, free space in thin pool '
            'arca/pool reached threshold.\n'))
        self.assertRaises(exception.CapacityExceeded, self.pool.snapshot,
                          'vol', 'snap')

    # -- clone --

    def test_clone_grows(self):
        self.found(('vol', 'new'), lv_row('vol', size=3 * GiB))
        info = self.pool.clone('vol', 'new', 5, ['arca.kind=volume'])
        self.assertCommands(select('vol', 'new'),
                            self._snap_cmd('vol', 'new', 'arca.kind=volume'),
                            ('lvextend', '-L', '5g', 'arca/new'))
        self.assertEqual((5 * GiB, 'vol'), (info['size_bytes'],
                                            info['origin']))

    @ddt.data(3, 2)
    def test_clone_never_shrinks(self, size):
        self.found(('vol', 'new'), lv_row('vol', size=3 * GiB))
        info = self.pool.clone('vol', 'new', size)
        self.assertCommands(select('vol', 'new'),
                            self._snap_cmd('vol', 'new'))
        self.assertEqual(3 * GiB, info['size_bytes'])

    def test_clone_again_finishes_growth(self):
        self.found(('vol', 'new'), lv_row('vol', size=3 * GiB),
                   lv_row('new', size=3 * GiB, origin='vol',
                          tags='arca.kind=volume'))
        self.pool.clone('vol', 'new', 5, ['arca.kind=volume'])
        self.assertCommands(select('vol', 'new'),
                            ('lvextend', '-L', '5g', 'arca/new'))

    def test_clone_bad_size(self):
        self.assertRaises(exception.InvalidInput, self.pool.clone, 'vol',
                          'new', 0)
        self.assertEqual([], self.executor.commands)

    # -- lookup --

    def test_lookup(self):
        self.found(('a', 'b', 'c'), lv_row('c'), lv_row('a'))
        found = self.pool.lookup('a', 'b', 'c', 'a')
        self.assertEqual(['a', 'b', 'c'], list(found))
        self.assertEqual(('a', None, 'c'), (found['a']['name'], found['b'],
                                            found['c']['name']))
        self.assertCommands(select('a', 'b', 'c'))

    def test_lookup_vg_missing(self):
        self.executor.on(*select('a'), exit_code=5, stdout='', stderr=(
            '  Volume group "arca" not found\n'))
        self.assertRaises(exception.NotFound, self.pool.lookup, 'a')

    @ddt.data((), ('a', 'b', 'c', 'd', 'e'), ('a', 'b c'))
    def test_lookup_bad_names(self, names):
        self.assertRaises(exception.InvalidInput, self.pool.lookup, *names)
        self.assertEqual([], self.executor.commands)

    # -- rename --

    def test_rename(self):
        self.found(('old', 'new'), lv_row('old'))
        self.pool.rename('old', 'new')
        self.assertCommands(select('old', 'new'),
                            ('lvrename', 'arca', 'old', 'new'))

    def test_rename_done_already(self):
        self.found(('old', 'new'), lv_row('new'))
        self.pool.rename('old', 'new')
        self.assertCommands(select('old', 'new'))

    def test_rename_both_missing(self):
        self.found(('old', 'new'))
        self.assertRaises(exception.NotFound, self.pool.rename, 'old', 'new')

    def test_rename_both_exist(self):
        self.found(('old', 'new'), lv_row('old'), lv_row('new'))
        self.assertRaises(exception.Conflict, self.pool.rename, 'old', 'new')
        self.assertCommands(select('old', 'new'))

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
        select('a', 'b', 'c', 'd', 'e'),
        select('a')[:-1] + ('arca/a',),
        LVS + ('-S', 'lv_name=~"."', 'arca'),
        LVS + ('-S', 'lv_name="a" || lv_name="b"', 'arca'),
        LVS + ('-S', 'lv_name="a"&&lv_name="b"', 'arca'),
        LVS + ('-S', 'lv_name="../x"', 'arca'),
        LVS + ('-S', 'lv_name=a', 'arca'),
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
    if cmd[0] == 'lvs' and '-S' in cmd:
        names = re.findall(r'lv_name="([^"]+)"', cmd[cmd.index('-S') + 1])
        return ex.Result(0, rows_report(*[
            lv_row(n, size=lvs[n]['size'], tags=','.join(lvs[n]['tags']),
                   origin=lvs[n]['origin']) for n in names if n in lvs]), '')
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


class UpdateTagsTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.pool = lvm.ThinPool(self.executor, 'arca', 'pool')
        self.replace = []
        self.patch(self.pool, 'replace_tags',
                   lambda name, info, tags: self.replace.append((name, tags)))

    def test_fields_replaced_others_kept(self):
        info = {'tags': ['arca.kind=snapshot', 'arca.project=a',
                         'arca.svm=s1', 'arca.svm=s2', 'backup']}
        self.pool.update_tags('snap', info, project='b', svm='s3')
        self.assertEqual([('snap', ['arca.kind=snapshot', 'arca.project=b',
                                    'arca.svm=s3'])], self.replace)

    def test_unchanged_runs_nothing(self):
        info = {'tags': ['arca.svm=s1', 'arca.project=a', 'arca.kind=x']}
        self.pool.update_tags('lv', info, project='a', svm='s1')
        self.assertEqual([], self.replace)
        self.assertEqual([], self.executor.commands)

    def test_bad_value_refused(self):
        self.assertRaises(exception.InvalidInput, self.pool.update_tags,
                          'lv', {'tags': []}, project='a b')
        self.assertEqual([], self.replace)
