"""The ``sfc`` command-line tool for SF Compute images, built on the ``sfc_funcs`` functions.

Run ``sfc --help``; the entry point is ``sfc_cli.main.main``.
"""
