"""``make demo``: a raw disk image goes up to a local Images API and comes back byte for byte.

The steps, each printed with the command it runs:

1. Build a real disk image: an ext4 file system of 64 MiB (``mkfs.ext4 -q -d``) holding the
   Python standard library's sources and a README. Without a working ``mkfs.ext4`` the image is
   a tar archive of the same folder instead, and the demo says so. ``--image PATH`` skips this
   and uses your file.
2. Start the emulator inside this process, on a free port, with its data in ``.demo/emulator``.
3. Upload, list, get and download the image with the real ``sfc`` command, run as a subprocess
   with ``--base-url`` and the token in ``SFC_VMORCH_BEARER_AUTH``, as a user would run it.
4. Compare the downloaded file's sha256 with the original's, then delete the image (``--keep``
   leaves it), so running the demo again starts from the same place.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path

from sfc_emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
DISK_SIZE = 64 * 1024 * 1024
PART_SIZE = "16MiB"
_SKIPPED_DIRS = {"__pycache__", "test", "tests", "idle_test", "site-packages", "dist-packages"}


def step(number: int, total: int, title: str) -> None:
    print(f"\n==> [{number}/{total}] {title}", flush=True)


def show_command(argv: Sequence[str]) -> None:
    print(f"    $ {shlex.join(argv)}", flush=True)


def shown_path(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it: shorter commands."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def fill_folder(folder: Path) -> int:
    """Copy the standard library's ``.py`` sources (no tests) into ``folder``, add a README;
    returns the number of files."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    count = 0
    for root, dirs, files in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(".py"):
                source = Path(root) / name
                target = folder / "usr/lib/python3" / source.relative_to(stdlib)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                count += 1
    (folder / "README").write_text(
        "A demo disk image made by sfc-images' `make demo`.\n"
        f"Built {time.strftime('%Y-%m-%d %H:%M:%S %Z')} on Python {sys.version.split()[0]}.\n"
        f"usr/lib/python3 holds {count} source files of its standard library.\n"
    )
    return count + 1


def find_mkfs() -> str | None:
    """``mkfs.ext4``, also where a non-root PATH often leaves it out (``/sbin``)."""
    found = shutil.which("mkfs.ext4")
    if found:
        return found
    for folder in ("/usr/sbin", "/sbin", "/usr/local/sbin", "/opt/homebrew/opt/e2fsprogs/sbin"):
        candidate = Path(folder) / "mkfs.ext4"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def build_image(work: Path) -> Path:
    """A 64 MiB ext4 image of a folder of real files; a tar archive without ``mkfs.ext4``."""
    folder = work / "rootfs"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files = fill_folder(folder)
    print(f"    {files} files in {shown_path(folder)}: the Python standard library and a README")
    mkfs = find_mkfs()
    disk = work / "disk.img"
    if mkfs is not None:
        disk.unlink(missing_ok=True)
        show_command(["truncate", "-s", "64M", shown_path(disk)])
        with disk.open("wb") as handle:
            handle.truncate(DISK_SIZE)
        command = [mkfs, "-q", "-d", shown_path(folder), shown_path(disk)]
        show_command(command)
        made = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if made.returncode == 0:
            print(f"    {shown_path(disk)}: ext4 file system, {DISK_SIZE // 2**20} MiB")
            return disk
        print(f"    mkfs.ext4 failed ({made.stderr.strip() or made.returncode}); using tar")
    else:
        print("    mkfs.ext4 not found (install e2fsprogs for an ext4 image); using tar")
    archive = work / "disk.tar"
    print(f"    building {shown_path(archive)}: a POSIX tar archive of the same folder")
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(folder, arcname=".")
    return archive


class Sfc:
    """Runs the real ``sfc`` command against one server, printing each command line first."""

    def __init__(self, base_url: str, token: str) -> None:
        script = Path(sys.executable).with_name("sfc")
        self.argv = [str(script)] if script.exists() else [sys.executable, "-m", "sfc_cli"]
        self.base_url = base_url
        self.env = {**os.environ, "SFC_VMORCH_BEARER_AUTH": token}
        self.env.pop("SFC_BASE_URL", None)

    def __call__(self, *args: str) -> str:
        """Run ``sfc --base-url URL ARGS``; progress bars reach the terminal, stdout is
        printed and returned. A failure stops the demo with sfc's own exit code."""
        show_command(["sfc", "--base-url", self.base_url, *args])
        done = subprocess.run(  # noqa: S603 - our own command
            [*self.argv, "--base-url", self.base_url, *args],
            stdout=subprocess.PIPE,
            text=True,
            env=self.env,
            check=False,
        )
        for line in done.stdout.splitlines():
            print(f"    {line}")
        if done.returncode != 0:
            raise SystemExit(done.returncode)
        return done.stdout


def image_name(source: Path | None) -> str:
    """A fresh, valid image name: runs never collide, and a user's file name is kept."""
    stamp = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
    if source is None:
        return f"demo-{stamp}"
    stem = re.sub(r"[^a-zA-Z0-9._-]", "-", source.stem).lstrip("._-")[:200] or "image"
    return f"{stem}-{stamp}"


def run(image: Path | None, work: Path, keep: bool) -> int:
    started = time.monotonic()
    total = 6 if image is None else 5
    number = 0
    work.mkdir(parents=True, exist_ok=True)

    def next_step(title: str) -> None:
        nonlocal number
        number += 1
        step(number, total, title)

    name = image_name(image)
    if image is None:
        next_step("Build a raw disk image from a folder of real files")
        image = build_image(work)
    elif not image.is_file():
        print(f"demo: {image} is not a file", file=sys.stderr)
        return 2
    original_sha = sha256_of(image)
    downloads = work / "downloads"
    shutil.rmtree(downloads, ignore_errors=True)
    downloads.mkdir()

    next_step("Start the emulator in this process")
    with Emulator(work / "emulator", token=secrets.token_urlsafe(24)) as emulator:
        print(f"    listening on {emulator.url}, data in {shown_path(work / 'emulator')}")
        print("    the token is passed to sfc in SFC_VMORCH_BEARER_AUTH")
        sfc = Sfc(emulator.url, emulator.token)

        next_step(f"Upload {shown_path(image)} as {name}")
        uploaded = sfc(
            "images", "upload", shown_path(image), "--name", name, "--part-size", PART_SIZE
        )
        found = re.search(r"\bimage_[0-9A-Za-z_-]+", uploaded)
        if found is None:
            print("demo: sfc did not print the new image's id", file=sys.stderr)
            return 1
        image_id = found.group(0)

        next_step("List and get it")
        sfc("images", "list")
        sfc("images", "get", image_id)

        next_step("Download it to a new path")
        copy = downloads / (name + image.suffix)
        sfc("images", "download", image_id, "-o", shown_path(copy))

        next_step("Compare the bytes")
        copy_sha = sha256_of(copy)
        print(f"    original    {original_sha}  {shown_path(image)}")
        print(f"    downloaded  {copy_sha}  {shown_path(copy)}")
        if copy_sha != original_sha:
            print("demo: the downloaded bytes differ from the original", file=sys.stderr)
            return 1
        print("    identical: the sha256 of the downloaded bytes equals the original's")
        copy.unlink()
        if keep:
            print(f"\n    kept {image_id}; its data is in {shown_path(work / 'emulator')}")
        else:
            print()
            sfc("images", "delete", image_id, "--yes")
    print(f"\nDemo finished in {time.monotonic() - started:.1f} s.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--image", type=Path, help="upload this file instead of building one")
    parser.add_argument(
        "--workdir", type=Path, default=ROOT / ".demo", help="scratch folder (default .demo)"
    )
    parser.add_argument("--keep", action="store_true", help="do not delete the image at the end")
    args = parser.parse_args(argv)
    try:
        return run(args.image, args.workdir, args.keep)
    except KeyboardInterrupt:
        print("\ndemo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
