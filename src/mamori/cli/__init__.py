"""The ``mamori`` command line: one thin module per capability."""
