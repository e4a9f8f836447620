"""``Sfc``: a class facade over the functions, for code that prefers ``sfc.images.list()``.

It only delegates: every method is the function of the same name with the core filled in, so
behaviour, arguments and return types are exactly the functions'. Importing it loads every
operation module; import the functions directly to load only what you use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

from sfc_core import SfcCore
from sfc_funcs.images_complete_upload import (
    images_complete_upload,
    images_complete_upload_async,
)
from sfc_funcs.images_delete import images_delete, images_delete_async
from sfc_funcs.images_download import images_download, images_download_async
from sfc_funcs.images_download_file import images_download_file, images_download_file_async
from sfc_funcs.images_get import images_get, images_get_async
from sfc_funcs.images_iter import images_iter, images_iter_async
from sfc_funcs.images_list import images_list, images_list_async
from sfc_funcs.images_start_upload import images_start_upload, images_start_upload_async
from sfc_funcs.images_upload_file import images_upload_file, images_upload_file_async
from sfc_funcs.images_upload_part import images_upload_part, images_upload_part_async

P = ParamSpec("P")
R = TypeVar("R")


def _bound(core: SfcCore, function: Callable[Concatenate[SfcCore, P], R]) -> Callable[P, R]:
    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return function(core, *args, **kwargs)

    return call


class Images:
    """The Images operations, bound to one core."""

    def __init__(self, core: SfcCore) -> None:
        self.list = _bound(core, images_list)
        self.list_async = _bound(core, images_list_async)
        self.iter = _bound(core, images_iter)
        self.iter_async = _bound(core, images_iter_async)
        self.get = _bound(core, images_get)
        self.get_async = _bound(core, images_get_async)
        self.start_upload = _bound(core, images_start_upload)
        self.start_upload_async = _bound(core, images_start_upload_async)
        self.upload_part = _bound(core, images_upload_part)
        self.upload_part_async = _bound(core, images_upload_part_async)
        self.complete_upload = _bound(core, images_complete_upload)
        self.complete_upload_async = _bound(core, images_complete_upload_async)
        self.download = _bound(core, images_download)
        self.download_async = _bound(core, images_download_async)
        self.delete = _bound(core, images_delete)
        self.delete_async = _bound(core, images_delete_async)
        self.upload_file = _bound(core, images_upload_file)
        self.upload_file_async = _bound(core, images_upload_file_async)
        self.download_file = _bound(core, images_download_file)
        self.download_file_async = _bound(core, images_download_file_async)


class Sfc:
    """``Sfc(**settings)`` or ``Sfc(core=SfcCore(...))``; the operations are on ``.images``.

    Settings are ``SfcCore``'s. Use it as a (async) context manager, or call ``close()`` /
    ``aclose()``, to release the core's connections.
    """

    def __init__(self, core: SfcCore | None = None, **settings: Any) -> None:
        if core is not None and settings:
            raise TypeError("pass either core= or SfcCore settings, not both")
        self.core = core if core is not None else SfcCore(**settings)
        self.images = Images(self.core)

    def close(self) -> None:
        self.core.close()

    async def aclose(self) -> None:
        await self.core.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
