"""Test lab: storage nodes as User-Mode Linux guests (see harness.py)."""
