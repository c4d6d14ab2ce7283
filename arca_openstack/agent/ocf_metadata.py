"""What ocf:arca:pool declares to Pacemaker (its meta-data).

Apart from the agent (arca_openstack.cmd.ocf_pool) so that the wrapper
``arca-node cluster setup`` installs can answer ``meta-data`` itself.
"""

# Seconds; UML lab nodes fork slowly (0.1-0.2 s a process), a real node
# needs a fraction of these.
TIMEOUTS = {'start': 300, 'stop': 300, 'monitor': 120, 'validate-all': 30,
            'meta-data': 5}
MONITOR_INTERVAL = 20

META_DATA = '''<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="pool" version="1.0">
  <version>1.1</version>
  <longdesc lang="en">
Serves one mirrored Arca pool on the node where its DRBD device is
Primary: activates the pool's volume group, mounts its state, and brings
up every SVM homed in the pool (network namespace and address, the LVs
it exports, its NFS-Ganesha), through the Arca node agent. Stop takes
them down and deactivates the volume group. Monitor fails when an SVM's
NFS server is not running or one of its exports is not mounted.
  </longdesc>
  <shortdesc lang="en">Mirrored Arca pool and its SVMs</shortdesc>
  <parameters>
    <parameter name="thin_pool" unique="1" required="1">
      <longdesc lang="en">The pool as VG/THIN, one of the thin pools
of the node agent's configuration.</longdesc>
      <shortdesc lang="en">Thin pool (VG/THIN)</shortdesc>
      <content type="string"/>
    </parameter>
  </parameters>
  <actions>
%s  </actions>
</resource-agent>
'''


def meta_data():
    actions = ''.join(
        '    <action name="%s" timeout="%ds"%s/>\n' % (
            name, timeout,
            ' interval="%ds"' % MONITOR_INTERVAL if name == 'monitor'
            else '')
        for name, timeout in TIMEOUTS.items())
    return META_DATA % actions
