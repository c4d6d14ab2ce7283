"""The Manila driver inside a real Manila ShareManager, against the lab.

These tests import Manila, so they run in their own test process, never
with Cinder (both register ``state_path`` on oslo.config's global CONF):

    stestr --test-path=./tests/functional/manila run --concurrency 1
"""
