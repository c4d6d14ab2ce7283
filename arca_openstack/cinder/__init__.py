"""Cinder volume driver for Arca Storage."""
