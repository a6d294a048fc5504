"""Finding, verifying and downloading data files (glo_teach.data.files)."""

import hashlib
import io
import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from glo_teach.data import files
from glo_teach.data.files import ChecksumError, DataNotFoundError, fetch

REPO_MNIST = Path(__file__).resolve().parents[1] / "data" / "mnist"
PAYLOAD = b"glo-teach test payload " * 1000
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()


class _Response(io.BytesIO):
    """A urlopen response that dies after ``fail_after`` bytes, like a dropped connection."""

    def __init__(self, data, fail_after=None):
        super().__init__(data)
        self.fail_after = fail_after

    def read(self, n=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection dropped midway")
        return super().read(
            n if self.fail_after is None else min(n, self.fail_after - self.tell()) or n
        )

    def __exit__(self, *a):
        self.close()


def _online(monkeypatch, response):
    monkeypatch.setattr(files, "_reachable", lambda url: True)
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: response)


def _all_files(root):
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()
    )


def test_md5_mismatch_is_detected(isolated_data):
    bad = isolated_data / "mnist" / "t10k-labels-idx1-ubyte.gz"
    bad.parent.mkdir()
    shutil.copy(REPO_MNIST / "t10k-labels-idx1-ubyte.gz", bad)
    data = bytearray(bad.read_bytes())
    data[100] ^= 0xFF  # one flipped byte
    bad.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="ec29112dd5afa0611ce80d1b7f02629c"):
        fetch("mnist", "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")


def test_interrupted_download_leaves_nothing(isolated_data, monkeypatch):
    _online(monkeypatch, _Response(PAYLOAD, fail_after=len(PAYLOAD) // 2))
    with pytest.raises(DataNotFoundError, match="connection dropped"):
        fetch("toyset", "file.bin", PAYLOAD_MD5, ["http://example.invalid/file.bin"])
    assert _all_files(isolated_data) == []


def test_download_with_wrong_checksum_leaves_nothing(isolated_data, monkeypatch):
    _online(monkeypatch, _Response(PAYLOAD[:-1] + b"X"))
    with pytest.raises(ChecksumError):
        fetch("toyset", "file.bin", PAYLOAD_MD5, ["http://example.invalid/file.bin"])
    assert _all_files(isolated_data) == []


def test_complete_download_is_verified_and_kept(isolated_data, monkeypatch):
    _online(monkeypatch, _Response(PAYLOAD))
    path = fetch("toyset", "file.bin", PAYLOAD_MD5, ["http://example.invalid/file.bin"])
    assert path == isolated_data / "toyset" / "file.bin"
    assert path.read_bytes() == PAYLOAD
    assert _all_files(isolated_data) == ["toyset/file.bin"]


def test_offline_error_is_fast_and_names_the_path(isolated_data, monkeypatch):
    """With no network (mirrors unreachable), the error comes within 5 s and says where to put the file."""

    def refuse(address, timeout=None):
        raise OSError("Name or service not known")

    monkeypatch.setattr(files.socket, "create_connection", refuse)
    from glo_teach.data.datasets import _idx_arrays

    _idx_arrays.cache_clear()
    start = time.perf_counter()
    with pytest.raises(DataNotFoundError) as err:
        from glo_teach.data import load_dataset

        load_dataset("fashion-mnist")
    assert time.perf_counter() - start < 5.0
    assert str(isolated_data / "fashion-mnist" / "train-images-idx3-ubyte.gz") in str(
        err.value
    )
    assert "GLO_TEACH_DATA" in str(err.value)
    _idx_arrays.cache_clear()


def test_search_order_prefers_glo_teach_data(isolated_data, monkeypatch, tmp_path):
    for root, content in (
        (isolated_data, PAYLOAD),
        (tmp_path / "home" / ".cache" / "glo_teach", b"other"),
    ):
        (root / "toyset").mkdir(parents=True)
        (root / "toyset" / "file.bin").write_bytes(content)
    assert (
        fetch("toyset", "file.bin", PAYLOAD_MD5)
        == isolated_data / "toyset" / "file.bin"
    )
    assert files.data_dirs()[0] == isolated_data
    assert files.data_dirs()[-1] == tmp_path / "home" / ".cache" / "glo_teach"


def test_checkout_data_dir_only_for_a_source_checkout(tmp_path):
    """A repository checkout (pyproject.toml next to glo_teach/) has a data/ folder to search; an installed
    package's parent (site-packages) does not, whatever else it holds."""
    site = tmp_path / "site-packages"
    (site / "glo_teach").mkdir(parents=True)
    (site / "data").mkdir()  # some other distribution's data/: still not ours
    assert files.checkout_data_dir(site) is None
    repo = tmp_path / "repo"
    (repo / "glo_teach").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("[project]\nname = 'glo-teach'\n")
    assert files.checkout_data_dir(repo) == repo / "data"
    assert (
        files.checkout_data_dir(Path(files.__file__).resolve().parents[2])
        == REPO_MNIST.parent
    )  # this checkout


def test_installed_package_error_lists_only_real_places(
    isolated_data, monkeypatch, tmp_path
):
    """Installed (no checkout, REPO_DATA = None): the search path and the error list exactly $GLO_TEACH_DATA and
    the cache, in that order, and nothing under site-packages."""
    monkeypatch.setattr(files, "REPO_DATA", None)
    monkeypatch.setattr(files, "_reachable", lambda url: False)
    cache = tmp_path / "home" / ".cache" / "glo_teach"
    assert files.data_dirs() == [isolated_data, cache]
    with pytest.raises(DataNotFoundError) as err:
        fetch("toyset", "file.bin", PAYLOAD_MD5, ["http://example.invalid/file.bin"])
    listed = [
        line.strip() for line in str(err.value).splitlines() if line.startswith("  /")
    ]
    assert listed == [
        str(isolated_data / "toyset" / "file.bin"),
        str(cache / "toyset" / "file.bin"),
    ]
