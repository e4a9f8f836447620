"""Every ``sfc`` command, run as a real process against the emulator: output, JSON, exit codes."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cli.helpers import MIB, MakeFile, SfcRunner, assert_one_line_error, sha256_of
from sfc_core import SfcCore
from sfc_emulator import Emulator
from sfc_funcs.images_list import images_list
from sfc_funcs.images_upload_file import images_upload_file


def test_version(sfc: SfcRunner) -> None:
    run = sfc("--version")
    assert (run.code, run.out.strip()) == (0, "sfc 0.1.0")


def test_a_whole_lifecycle_in_json_and_text(
    sfc: SfcRunner, make_file: MakeFile, tmp_path: Path
) -> None:
    disk = make_file("disk.img", 3 * MIB + 17)
    up = sfc("images", "upload", disk, "--name", "life-1", "--json")
    assert up.code == 0, up
    image = json.loads(up.out)
    assert image["name"] == "life-1"
    assert image["upload_status"] == "completed"
    assert image["sha256"] == sha256_of(disk)
    image_id = image["id"]

    listed = json.loads(sfc("images", "list", "--json").out)
    assert [i["id"] for i in listed["data"]] == [image_id]
    assert listed["has_more"] is False
    table = sfc("images", "list")
    assert table.code == 0
    header, *rows = [line for line in table.out.splitlines() if line.strip("─ ")]
    assert header.split() == ["NAME", "ID", "STATUS", "CREATED", "SHA256"]
    assert rows[0].split()[:3] == ["life-1", image_id, "completed"]
    assert image["sha256"][:12] in rows[0]

    got = json.loads(sfc("images", "get", image_id, "--json").out)
    assert got["id"] == image_id
    assert got["sha256"] == image["sha256"]
    text = sfc("images", "get", image_id).out
    assert f"sha256    {image['sha256']}" in text

    # Default destination: the image's name in the current folder.
    down = sfc("images", "download", image_id)
    assert down.code == 0, down
    assert sha256_of(tmp_path / "life-1") == image["sha256"]
    assert "(verified)" in down.out

    again = sfc("images", "download", image_id)
    assert_one_line_error(again, 1, "download image", "--overwrite")
    copy = tmp_path / "copies"
    copy.mkdir()
    into_folder = sfc("--json", "images", "download", image_id, "-o", copy)
    assert json.loads(into_folder.out)["path"] == str(copy / "life-1")
    assert sha256_of(copy / "life-1") == image["sha256"]
    replaced = sfc("images", "download", image_id, "-o", tmp_path / "life-1", "--overwrite", "-q")
    assert (replaced.code, replaced.out.strip()) == (0, str(tmp_path / "life-1"))

    deleted = sfc("images", "delete", image_id, "--yes", "--json")
    assert json.loads(deleted.out) == {
        "object": "image",
        "id": image_id,
        "name": "life-1",
        "deleted": True,
    }
    gone = sfc("images", "get", image_id)
    assert_one_line_error(gone, 1, f"cannot get image {image_id}", "no such image (404)")


def test_list_all_follows_every_page(sfc: SfcRunner, core: SfcCore, make_file: MakeFile) -> None:
    disk = make_file("small.img", 1000)
    names = [f"page-{n}" for n in range(5)]
    for name in names:
        images_upload_file(core, disk, name).unwrap()
    one_page = json.loads(sfc("images", "list", "--limit", "2", "--json").out)
    assert len(one_page["data"]) == 2
    assert one_page["has_more"] is True
    assert one_page["cursor"]
    every = json.loads(sfc("images", "list", "--all", "--limit", "2", "--json").out)
    assert sorted(i["name"] for i in every["data"]) == names
    note = sfc("images", "list", "--limit", "2")
    assert "--all" in note.err


def test_empty_list_says_how_to_start(sfc: SfcRunner) -> None:
    run = sfc("images", "list")
    assert (run.code, run.out) == (0, "")
    assert "sfc images upload" in run.err
    assert sfc("images", "list", "-q").err == ""


def test_a_wrong_token_is_one_line_without_the_token(sfc: SfcRunner) -> None:
    token = "sk-wrong-0123456789abcdef"
    run = sfc("--debug", "images", "list", env={"SFC_VMORCH_BEARER_AUTH": token})
    assert run.code == 1
    assert token not in run.err + run.out
    errors = [line for line in run.err.splitlines() if line.startswith("sfc:")]
    assert errors == [
        "sfc: error: cannot list images: the API rejected the token (401); "
        "check SFC_VMORCH_BEARER_AUTH"
    ]
    assert "Traceback" not in run.err
    # --debug logged the requests (with the token nowhere in them).
    assert "/v2/images" in run.err


def test_no_token_is_a_usage_error(sfc: SfcRunner) -> None:
    run = sfc("images", "list", env={"SFC_VMORCH_BEARER_AUTH": None})
    assert_one_line_error(run, 2, "no API token", "SFC_VMORCH_BEARER_AUTH")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("images", "get", "not-an-id"), ("ID must be 'image_'",)),
        (("images", "upload", "x.img", "--name", "bad name!"), ("--name must be",)),
        (("images", "list", "--limit", "500"), ("--limit must be between 1 and 200",)),
        (("--base-url", "ftp://example.com", "images", "list"), ("bad --base-url",)),
        (("--local", "--base-url", "http://x", "images", "list"), ("exclude each other",)),
    ],
)
def test_bad_arguments_are_usage_errors(
    sfc: SfcRunner, make_file: MakeFile, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    make_file("x.img", 10)
    assert_one_line_error(sfc(*args), 2, *words)


@pytest.mark.parametrize(
    "args",
    [
        ("images",),
        ("images", "upload", "x.img"),
        ("images", "upload", "x.img", "--name", "n", "--part-size", "12parsecs"),
        ("images", "list", "--limit", "0"),
        ("frobnicate",),
    ],
)
def test_argparse_errors_exit_2(sfc: SfcRunner, args: tuple[str, ...]) -> None:
    run = sfc(*args)
    assert run.code == 2
    assert "usage: sfc" in run.err
    assert "Traceback" not in run.err


def test_uploading_a_missing_file(sfc: SfcRunner) -> None:
    run = sfc("images", "upload", "nowhere.img", "--name", "missing")
    assert_one_line_error(run, 1, "cannot upload nowhere.img")


def test_a_taken_name_says_what_to_do(sfc: SfcRunner, core: SfcCore, make_file: MakeFile) -> None:
    disk = make_file("taken.img", 100)
    images_upload_file(core, disk, "taken").unwrap()
    run = sfc("images", "upload", disk, "--name", "taken")
    assert_one_line_error(run, 1, "409", "choose another --name")


def test_quiet_upload_prints_only_the_id(sfc: SfcRunner, make_file: MakeFile) -> None:
    run = sfc("-q", "images", "upload", make_file("q.img", 1234), "--name", "quiet")
    assert run.code == 0
    assert run.out.startswith("image_")
    assert run.out.count("\n") == 1
    assert run.err == ""


def test_text_upload_prints_id_and_sha(sfc: SfcRunner, make_file: MakeFile) -> None:
    disk = make_file("t.img", 2048)
    run = sfc("images", "upload", disk, "--name", "text")
    assert run.code == 0, run
    lines = run.out.splitlines()
    assert lines[0] == f"uploaded {disk} (2.0 KiB) as text"
    assert lines[1].startswith("id      image_")
    assert lines[2] == f"sha256  {sha256_of(disk)}"
    # No terminal: no progress bar.
    assert run.err == ""


def test_delete_without_yes_off_a_terminal_refuses(
    sfc: SfcRunner, core: SfcCore, make_file: MakeFile
) -> None:
    image = images_upload_file(core, make_file("d.img", 10), "keep-me").unwrap()
    run = sfc("images", "delete", image.id, stdin="y\n")
    assert_one_line_error(run, 2, "without --yes", "not a terminal")
    assert sfc("images", "get", image.id).code == 0


def _run_on_terminal(
    args: list[str], env: dict[str, str], cwd: Path, answer: bytes = b""
) -> tuple[int, str, str]:
    """Run ``sfc`` with stdin and stderr on a pseudo-terminal; returns code, stdout, terminal."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "sfc_cli", *args],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=slave,
        env={**env, "TERM": "xterm", "COLUMNS": "120"},
        cwd=cwd,
    )
    os.close(slave)
    screen = bytearray()

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every writer closed the terminal
                return
            if not chunk:
                return
            screen.extend(chunk)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    if answer:
        os.write(master, answer)
    stdout, _ = process.communicate(timeout=60)
    reader.join(timeout=10)
    os.close(master)
    return process.returncode, stdout.decode(), screen.decode(errors="replace")


def test_delete_asks_on_a_terminal(
    cli_env: dict[str, str], core: SfcCore, make_file: MakeFile, tmp_path: Path
) -> None:
    image = images_upload_file(core, make_file("a.img", 10), "ask-me").unwrap()
    code, _, screen = _run_on_terminal(
        ["images", "delete", image.id], cli_env, tmp_path, answer=b"n\n"
    )
    assert code == 1
    assert f"Delete image ask-me ({image.id})? [y/N]" in screen
    assert "not deleted" in screen
    code, out, _ = _run_on_terminal(["images", "delete", image.id], cli_env, tmp_path, b"y\n")
    assert code == 0
    assert out.strip() == f"deleted image ask-me ({image.id})"


def test_progress_bar_only_on_a_terminal(
    cli_env: dict[str, str], make_file: MakeFile, tmp_path: Path
) -> None:
    disk = make_file("bar.img", 11 * MIB)
    code, out, screen = _run_on_terminal(
        ["images", "upload", str(disk), "--name", "bar", "--part-size", "5MiB"], cli_env, tmp_path
    )
    assert code == 0, screen
    assert "upload" in screen
    assert "100%" in screen
    assert "11.0/11.0 MiB" in screen
    assert re.search(r"\d [KMG]iB/s", screen)
    assert out.startswith("uploaded ")
    code, _, screen = _run_on_terminal(
        ["--json", "images", "download", _id(out)], cli_env, tmp_path
    )
    assert code == 0
    assert "%" not in screen


def _id(text_output: str) -> str:
    return next(w for w in text_output.split() if w.startswith("image_"))


def test_local_mode_keeps_images_between_runs(
    sfc: SfcRunner, make_file: MakeFile, tmp_path: Path, emulator: Emulator
) -> None:
    disk = make_file("local.img", 4096)
    # --local ignores the environment's server and token.
    no_server = {"SFC_BASE_URL": None, "SFC_VMORCH_BEARER_AUTH": None}
    up = sfc("--local", "images", "upload", disk, "--name", "on-my-laptop", "--json", env=no_server)
    assert up.code == 0, up
    image_id = json.loads(up.out)["id"]
    listed = sfc("images", "list", "--local", "--json", env=no_server)
    assert [i["id"] for i in json.loads(listed.out)["data"]] == [image_id]
    home = tmp_path / "data" / "sfc-images" / "local"
    assert (home / "token").stat().st_mode & 0o777 == 0o600
    assert (home / "data").is_dir()
    assert emulator.requests.by_route("start_upload") == []
    down = sfc(
        "--local", "images", "download", image_id, "-o", tmp_path / "back.img", env=no_server
    )
    assert down.code == 0, down
    assert sha256_of(tmp_path / "back.img") == sha256_of(disk)


def test_emulator_command_serves_until_interrupted(
    cli_env: dict[str, str], tmp_path: Path, sfc: SfcRunner
) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sfc_cli",
            "emulator",
            "--port",
            "0",
            "--data",
            str(tmp_path / "e"),
            "--token",
            "emulator-token-123",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env,
    )
    try:
        assert process.stdout is not None
        url_line = process.stdout.readline().strip()
        token_line = process.stdout.readline().strip()
        assert url_line.startswith("SFC_BASE_URL=http://127.0.0.1:")
        assert token_line == "SFC_VMORCH_BEARER_AUTH=emulator-token-123"
        env = {
            "SFC_BASE_URL": url_line.split("=", 1)[1],
            "SFC_VMORCH_BEARER_AUTH": "emulator-token-123",
        }
        assert sfc("images", "list", "--json", env=env).code == 0
    finally:
        process.send_signal(2)
        process.communicate(timeout=30)
    assert process.returncode == 0


@pytest.mark.parametrize("hostile", ["../../escaped-file", "/tmp/sfc-escaped-file", ".hidden"])
def test_download_never_writes_outside_the_folder_for_a_server_given_name(
    sfc: SfcRunner,
    core: SfcCore,
    emulator: Emulator,
    make_file: MakeFile,
    tmp_path: Path,
    hostile: str,
) -> None:
    image = images_upload_file(core, make_file("h.img", 1000), "harmless").unwrap()
    lying = {
        "object": "image",
        "id": image.id,
        "name": hostile,
        "upload_status": "completed",
        "created_at": image.created_at,
        "sha256": image.sha256,
    }
    emulator.faults.add("get", status=200, body=json.dumps(lying), content_type="application/json")
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    run = sfc("images", "download", image.id, cwd=work)
    assert run.code == 0, run
    assert (work / image.id).read_bytes() == (tmp_path / "h.img").read_bytes()
    assert sorted(p.name for p in work.iterdir()) == [image.id]
    assert not (tmp_path / "escaped-file").exists()
    assert not Path("/tmp/sfc-escaped-file").exists()
    assert "not a plain file name" in run.err


def test_a_taken_name_names_the_image_that_has_it(
    sfc: SfcRunner, core: SfcCore, make_file: MakeFile
) -> None:
    disk = make_file("dup.img", 100)
    holder = images_upload_file(core, disk, "dup").unwrap()
    run = sfc("images", "upload", disk, "--name", "dup")
    assert_one_line_error(run, 1, "409", f"sfc images delete {holder.id}", "another --name")
    assert ".;" not in run.err
    # The server's message is said once, not again as the name field's detail.
    assert run.err.count("already") <= 1


def test_the_id_column_is_never_cut(core: SfcCore, make_file: MakeFile) -> None:
    from rich.console import Console

    from sfc_cli._commands import _images_table

    image = images_upload_file(core, make_file("l.img", 10), "n" * 200).unwrap()
    listed = images_list(core).unwrap().data
    for width in (80, 50, 30):
        table, table_width = _images_table(list(listed), 0, width)
        console = Console(file=io.StringIO(), width=max(width, table_width))
        with console.capture() as captured:
            console.print(table)
        lines = captured.get().splitlines()
        assert image.id in lines[2]
        assert "…" in lines[2]
        if width >= 50:
            assert max(len(line.rstrip()) for line in lines) <= width


def test_a_piped_table_shortens_long_names_only(
    sfc: SfcRunner, core: SfcCore, make_file: MakeFile
) -> None:
    image = images_upload_file(core, make_file("p.img", 10), "p" * 250).unwrap()
    run = sfc("images", "list")
    row = run.out.splitlines()[2]
    assert row.startswith("p" * 63 + "…")
    assert image.id in row
    assert json.loads(sfc("images", "list", "--json").out)["data"][0]["name"] == "p" * 250
