"""headerwheel: a PEP 517 build backend that turns C headers into CFFI extension modules."""
