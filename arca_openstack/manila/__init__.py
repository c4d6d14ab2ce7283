"""Manila share driver for Arca Storage."""
