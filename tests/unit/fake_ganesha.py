"""A Ganesha stand-in for the driver tests: exports kept in memory.

It is a ``mock.Mock`` (so tests can assert calls and script status), whose
export methods act on ``exports`` ({svm: {export id: Export}}) the way the
real ones act on the node's export files. ``added``, ``updated`` (lists of
(svm, Export)) and ``removed`` ((svm, export id)) record the changes.
"""

from unittest import mock

from arca_openstack.node import ganesha_config


class FakeGanesha(mock.Mock):

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.exports = {}
        self.added = []
        self.updated = []
        self.removed = []
        self.status.return_value = {'running': True}
        self.find_export.side_effect = self._find
        self.serve.side_effect = self._serve
        self.withdraw.side_effect = self._withdraw
        self.export_ids.side_effect = lambda svm: sorted(
            self.exports.get(svm, {}))
        self.get_export.side_effect = lambda svm, eid: self.exports.get(
            svm, {}).get(eid)

    def _get_child_mock(self, **kwargs):
        return mock.Mock(**kwargs)

    def put(self, svm, exp):
        """Record ``exp`` as served by ``svm``."""
        self.exports.setdefault(svm, {})[exp.export_id] = exp

    def _find(self, svm, path):
        for exp in self.exports.get(svm, {}).values():
            if exp.path == path:
                return exp
        return None

    def _serve(self, svm, path, pseudo, clients, read_only=False,
               create=True):
        current = self._find(svm, path)
        if current is None and not create:
            return None
        if callable(clients):
            clients = clients(current.clients if current else None)
        rules = tuple(ganesha_config.ClientRule(*c) for c in clients)
        if current is None:
            eid = 1
            while eid in self.exports.get(svm, {}):
                eid += 1
            exp = ganesha_config.Export(eid, path, pseudo, rules,
                                        bool(read_only))
            self.added.append((svm, exp))
        else:
            exp = current._replace(clients=rules)
            if read_only is not None:
                exp = exp._replace(read_only=read_only)
            self.updated.append((svm, exp))
        self.put(svm, exp)
        return exp

    def _withdraw(self, svm, path):
        current = self._find(svm, path)
        if current is None:
            return False
        del self.exports[svm][current.export_id]
        self.removed.append((svm, current.export_id))
        return True
