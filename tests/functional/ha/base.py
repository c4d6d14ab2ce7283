"""The lab of the HA tests: a pair of storage nodes and a client.

Each test class boots its own lab (the storage guests' state is what the
tests change): two storage nodes with the pools' backing disks, in a real
Corosync/Pacemaker cluster with fencing (tests/lab/ha.py), and client c1
on the tenant VLAN. The agent behind each pool's floating address is
reached with the lab's host key, as a deployment lists both nodes' keys
under that address.
"""

import json
import tempfile

from oslo_concurrency import lockutils
import testtools

from tests.lab import ha
from tests.lab import harness

TENANT_VLAN = 100
CLIENT_ADDR = '10.100.0.21/24'
# The unmirrored pool of PairTestCase.LOCAL_POOL (and the node's own state
# LV, mounted on /var/lib/arca, as on a real node).
LOCAL_VG, LOCAL_THIN = 'arca', 'pool'


class PairTestCase(testtools.TestCase):

    #: The pools of the pair (ha.Pool), set by each test class.
    POOLS = ()
    #: GiB of each pool's backing disk on each node.
    HA_DISK_GIB = 4
    #: An unmirrored thin pool (arca/pool) on each node's own disk too.
    LOCAL_POOL = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        lockutils.set_defaults(tempfile.mkdtemp(prefix='arca-locks-'))
        harness.Lab.cleanup_stale()
        disks = {'ha_disk_gib': cls.HA_DISK_GIB} if len(cls.POOLS) == 1 \
            else {'ha_disks': (cls.HA_DISK_GIB,) * len(cls.POOLS)}
        specs = [harness.NodeSpec(n, 'storage', mem_mib=1024,
                                  disk_gib=3 if cls.LOCAL_POOL else 1,
                                  **disks) for n in ('s1', 's2')]
        specs.append(harness.NodeSpec('c1', 'client'))
        cls.lab = harness.Lab(specs, mem=512, fencing=True)
        cls.lab.start()
        try:
            local = []
            if cls.LOCAL_POOL:
                local = ['%s/%s' % (LOCAL_VG, LOCAL_THIN)]
                for name in ('s1', 's2'):
                    cls.lab.node(name).ensure_thin_pool(LOCAL_VG, LOCAL_THIN)
            cls.pair = ha.Pair(cls.lab, ('s1', 's2'), cls.POOLS,
                               local_pools=local)
            cls.pair.start()
            cls.lab.node('c1').add_vlan(TENANT_VLAN, CLIENT_ADDR)
            for pool in cls.POOLS:
                ha.trust_address(cls.lab, pool.address)
        except BaseException:
            cls.lab.close(failed=True)
            raise
        print('pair up: %s' % json.dumps(cls.pair.timings))

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()
        super().tearDownClass()
