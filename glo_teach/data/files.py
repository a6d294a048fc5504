"""Finding, verifying and downloading data files.

Search order for ``<dataset>/<file>``: ``$GLO_TEACH_DATA``, the repository's ``data/`` (only when the
package runs from a source checkout, i.e. next to ``pyproject.toml``; an installed package has no
such folder), then ``~/.cache/glo_teach``. A missing file's error lists exactly these places. Every file is checked against its published MD5 on every read. When a
file is missing and a network exists it is downloaded to the first cache directory: written to
a temporary file, verified, then renamed, so a partial or corrupted download never remains.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

__all__ = [
    "DataNotFoundError",
    "ChecksumError",
    "data_dirs",
    "file_digest",
    "md5sum",
    "fetch",
]


def checkout_data_dir(root: Path) -> Path | None:
    """``root/data`` if ``root`` is a glo-teach source checkout (holds pyproject.toml and glo_teach/), else None.

    For a non-editable install ``root`` is site-packages, whose ``data/`` is nobody's data folder.
    """
    return (
        root / "data"
        if (root / "pyproject.toml").is_file() and (root / "glo_teach").is_dir()
        else None
    )


REPO_DATA = checkout_data_dir(
    Path(__file__).resolve().parents[2]
)  # None for an installed package
CONNECT_TIMEOUT_S = 2.0  # offline, the error must come within seconds


class DataNotFoundError(FileNotFoundError):
    """A data file is neither on disk nor downloadable."""


class ChecksumError(OSError):
    """A data file's MD5 differs from the published one."""


def data_dirs() -> list[Path]:
    """Directories searched for data, in order: $GLO_TEACH_DATA (if set), a checkout's data/ (if any), the cache."""
    dirs = []
    if os.environ.get("GLO_TEACH_DATA"):
        dirs.append(Path(os.environ["GLO_TEACH_DATA"]).expanduser())
    if REPO_DATA is not None:
        dirs.append(REPO_DATA)
    dirs.append(Path("~/.cache/glo_teach").expanduser())
    return dirs


def file_digest(
    path: str | os.PathLike, algorithm: str = "md5", chunk: int = 1 << 20
) -> str:
    """Hex digest of a file's bytes under ``algorithm`` (any ``hashlib`` name), read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def md5sum(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    return file_digest(path, "md5", chunk)


def verify(path: Path, md5: str) -> Path:
    got = md5sum(path)
    if got != md5:
        raise ChecksumError(
            f"{path} is corrupted or not the published file: MD5 {got}, expected {md5}. "
            "Delete it and download it again."
        )
    return path


def fetch(dataset: str, filename: str, md5: str, urls: Sequence[str] = ()) -> Path:
    """The verified path of ``dataset/filename``, downloading it if needed and possible."""
    for d in data_dirs():
        path = d / dataset / filename
        if path.exists():
            return verify(path, md5)
    target = (
        data_dirs()[0 if os.environ.get("GLO_TEACH_DATA") else -1] / dataset / filename
    )
    errors = []
    for url in urls:
        try:
            return _download(url, target, md5)
        except ChecksumError:
            raise
        except OSError as e:
            errors.append(f"{url}: {e}")
    where = "\n  ".join(str(d / dataset / filename) for d in data_dirs())
    raise DataNotFoundError(
        f"{dataset}/{filename} was not found and could not be downloaded.\n"
        f"Put the file at one of:\n  {where}\n"
        f"or set GLO_TEACH_DATA to a directory holding {dataset}/{filename}."
        + ("\nDownload errors:\n  " + "\n  ".join(errors) if errors else "")
    )


def _reachable(url: str) -> bool:
    """Quick TCP check so an offline machine fails in seconds, not after long HTTP timeouts."""
    u = urlparse(url)
    try:
        with socket.create_connection(
            (u.hostname, u.port or (443 if u.scheme == "https" else 80)),
            CONNECT_TIMEOUT_S,
        ):
            return True
    except OSError:
        return False


def _download(url: str, target: Path, md5: str) -> Path:
    if not _reachable(url):
        raise OSError("host unreachable")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}-", suffix=".part", dir=target.parent
    )
    try:
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(url, timeout=30) as response,
        ):
            while block := response.read(1 << 20):
                out.write(block)
        verify(Path(tmp), md5)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
