"""The shipped D-Bus policy for the SVMs' Ganesha instances.

``etc/dbus-1/system.d/arca-ganesha.conf`` must let each SVM's Ganesha
own ``<svm>.org.ganesha.nfsd`` and let root send it exactly the export
manager methods the node library calls (its command catalogue,
``tests/unit/commands.d``, lists the ``dbus-send`` forms), and nothing
else. The lab (tests/lab) runs a real system bus with this file.
"""

import configparser
import os
import re
from xml.etree import ElementTree

from arca_openstack.node import ganesha
from arca_openstack.node import ganesha_config
from tests.unit import base
from tests.unit import rootwrap_check

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
POLICY = os.path.join(ROOT, 'etc', 'dbus-1', 'system.d',
                      'arca-ganesha.conf')
SEND = {'send_destination': '*', 'send_type': 'method_call',
        'send_path': ganesha.DBUS_PATH, 'send_interface': ganesha.DBUS_IFACE}


def catalogue_methods():
    """{(path, interface, member)} of the catalogue's dbus-send forms."""
    methods = set()
    for group in rootwrap_check.filters():
        args = getattr(group, 'args', None)
        if not args or args[0] != 'dbus-send':
            continue
        path, method = args[4], args[5]
        match = re.fullmatch(r'(?P<iface>.+)\\\.\((?P<members>[A-Za-z|]+)\)',
                             method)
        for member in match.group('members').split('|'):
            methods.add((path, match.group('iface').replace('\\.', '.'),
                         member))
    return methods


class DBusPolicyTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        with open(POLICY, 'rb') as f:
            self.text = f.read()
        self.tree = ElementTree.fromstring(self.text)

    def test_is_a_bus_configuration(self):
        self.assertIn(b'<!DOCTYPE busconfig PUBLIC', self.text)
        self.assertEqual('busconfig', self.tree.tag)
        self.assertEqual(['policy'], [e.tag for e in self.tree])

    def test_root_only(self):
        self.assertEqual([{'user': 'root'}],
                         [p.attrib for p in self.tree.iter('policy')])
        self.assertEqual([], list(self.tree.iter('deny')))

    def test_owns_the_svms_names_only_as_root(self):
        # No D-Bus rule matches "<anything>.org.ganesha.nfsd": own="*"
        # for root is the narrowest that admits every SVM's bus name.
        owns = [r.attrib for r in self.tree.iter('allow') if
                'own' in r.attrib or 'own_prefix' in r.attrib]
        self.assertEqual([{'own': '*'}], owns)
        self.assertEqual('svm_a.org.ganesha.nfsd',
                         ganesha_config.bus_name('svm_a'))

    def test_sends_exactly_what_the_node_library_calls(self):
        sends = [r.attrib for r in self.tree.iter('allow')
                 if 'own' not in r.attrib]
        for rule in sends:
            self.assertEqual(SEND, {k: v for k, v in rule.items()
                                    if k != 'send_member'})
        members = {(r['send_path'], r['send_interface'], r['send_member'])
                   for r in sends}
        self.assertEqual(len(sends), len(members))
        self.assertEqual(catalogue_methods(), members)
        self.assertEqual({'AddExport', 'UpdateExport', 'RemoveExport',
                          'DisplayExport'}, {m[2] for m in members})

    def test_shipped_by_setup_cfg(self):
        parser = configparser.ConfigParser()
        parser.read(os.path.join(ROOT, 'setup.cfg'))
        lines = [line.split('=') for line in
                 parser['files']['data_files'].strip().splitlines()]
        self.assertIn(['etc/dbus-1/system.d',
                       'etc/dbus-1/system.d/arca-ganesha.conf'],
                      [[part.strip() for part in line] for line in lines])
