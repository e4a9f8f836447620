"""The class facade delegates to the functions; importing one operation loads no other."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from returns.result import Success

from sfc_core import SfcCore, TransferConfig
from sfc_emulator import Emulator
from sfc_funcs.sdk import Sfc


def test_the_facade_runs_the_same_calls(emulator: Emulator) -> None:
    with Sfc(server_url=emulator.url, bearer_auth=emulator.token) as sfc:
        image = sfc.images.start_upload("facade").unwrap()
        assert sfc.images.get(image.id) == Success(sfc.images.get(image.id).unwrap())
        assert [i.id for i in sfc.images.list().unwrap().data] == [image.id]
        assert [r.unwrap().id for r in sfc.images.iter()] == [image.id]
        assert sfc.images.delete(image.id).unwrap().deleted


def test_the_facade_moves_files(emulator: Emulator, tmp_path: Path) -> None:
    source = tmp_path / "disk.img"
    source.write_bytes(b"facade bytes" * 1000)
    with Sfc(server_url=emulator.url, bearer_auth=emulator.token) as sfc:
        image = sfc.images.upload_file(
            source, "facade-file", transfer=TransferConfig(state_dir=tmp_path / "state")
        ).unwrap()
        target = sfc.images.download_file(image.id, tmp_path / "copy.img").unwrap()
    assert target.read_bytes() == source.read_bytes()


def test_the_facade_async_methods(emulator: Emulator) -> None:
    async def go() -> None:
        async with Sfc(core=SfcCore(server_url=emulator.url, bearer_auth=emulator.token)) as sfc:
            image = (await sfc.images.start_upload_async("facade-async")).unwrap()
            assert (await sfc.images.get_async(image.id)).unwrap().name == "facade-async"
            assert [r.unwrap().id async for r in sfc.images.iter_async()] == [image.id]

    asyncio.run(go())


def test_the_facade_refuses_a_core_and_settings_together() -> None:
    with pytest.raises(TypeError, match="either"):
        Sfc(core=SfcCore(bearer_auth="t"), timeout=3.0)


def _top_level_modules(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_importing_one_operation_loads_no_other_and_nothing_beyond_the_runtime_deps() -> None:
    baseline = _top_level_modules("import httpx, attrs, cattrs, returns.result")
    loaded = _top_level_modules("import sfc_funcs.images_get")
    added = {
        name for name in loaded - baseline if name.split(".")[0] not in sys.stdlib_module_names
    }
    assert {name for name in added if name.startswith("sfc_funcs.")} == {"sfc_funcs.images_get"}
    assert {name.split(".")[0] for name in added} <= {"sfc_core", "sfc_funcs", "orjson"}
