"""The Images API operations: one module per operation, each a function returning a ``Result``.

Import what you use, for example ``from sfc_funcs.images_get import images_get``; importing one
operation loads no other. ``sfc_funcs.sdk.Sfc`` is a class facade over all of them.
"""
