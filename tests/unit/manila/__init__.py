"""Unit tests of the Manila driver.

Cinder and Manila cannot be imported into one process as they are: both
register options such as ``state_path`` on oslo.config's global ``CONF``
with different definitions (DuplicateOptError). stestr imports every test
module in one process to list them, and the Cinder driver's tests import
Cinder. So Manila, and the driver modules that read Manila's options, are
imported here against a ConfigOpts of their own: every module that binds
``CONF = cfg.CONF`` at import keeps that private object. Only the tests
need this; manila-share never imports Cinder.
"""

from oslo_config import cfg

_GLOBAL_CONF = cfg.CONF
MANILA_CONF = cfg.ConfigOpts()
cfg.CONF = MANILA_CONF
try:
    from manila.common import config  # noqa: F401
    from manila import network  # noqa: F401
    from manila.share import configuration  # noqa: F401
    from manila.share import driver  # noqa: F401

    from arca_openstack.manila import driver as arca_driver  # noqa: F401
finally:
    cfg.CONF = _GLOBAL_CONF
