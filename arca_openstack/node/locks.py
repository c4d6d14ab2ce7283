"""Fine-grained locks: one per SVM, one per LV, never one global lock.

External (file) locks so that the API and volume/share processes on one
host, or several workers, do not interleave operations on the same object.
"""

from oslo_concurrency import lockutils

_PREFIX = 'arca-'


def lock(kind, name):
    """Context manager holding the lock of one object (kind: svm, lv, ...)."""
    return lockutils.lock('%s-%s' % (kind, name), lock_file_prefix=_PREFIX,
                          external=True)


def svm(name):
    return lock('svm', name)


def lv(vg, name):
    return lock('lv', '%s.%s' % (vg, name))
