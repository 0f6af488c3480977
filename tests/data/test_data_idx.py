"""IDX read/write: round trips for every type, byte-exact rewrites, malformed files."""

from __future__ import annotations

import gzip
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mnistlab.data import read_idx, write_idx
from mnistlab.data.idx import IDX_TYPES, encode_idx, is_gzip, read_idx_header
from mnistlab.errors import MnistlabError

SHARED_DATA = Path(
    os.environ.get("MNISTLAB_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
SHARED_FMNIST_C = SHARED_DATA / "fashion-mnist-c"

_NATIVE = [np.dtype(t).newbyteorder("=") for t in IDX_TYPES.values()]


def _arrays() -> st.SearchStrategy[np.ndarray]:
    shapes = hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=4)
    return st.sampled_from(_NATIVE).flatmap(
        lambda dt: hnp.arrays(dt, shapes, elements=None if dt.kind != "f" else {"allow_nan": True})
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(array=_arrays(), compress=st.booleans())
def test_round_trip_every_type_and_ndim(tmp_path: Path, array: np.ndarray, compress: bool) -> None:
    path = tmp_path / "a.idx"
    write_idx(path, array, compress=compress)
    assert is_gzip(path) == compress
    back = read_idx(path)
    assert back.dtype == array.dtype
    assert back.shape == array.shape
    # Bitwise equality, so NaN payloads and -0.0 count too.
    assert back.tobytes() == np.ascontiguousarray(array).tobytes()
    dtype, shape = read_idx_header(path)
    assert (dtype, shape) == (array.dtype, array.shape)


@pytest.mark.parametrize("code", sorted(IDX_TYPES))
def test_header_layout_per_type(tmp_path: Path, code: int) -> None:
    dtype = IDX_TYPES[code].newbyteorder("=")
    array = np.arange(24, dtype=dtype).reshape(2, 3, 4)
    raw = encode_idx(array)
    assert raw[:4] == bytes([0, 0, code, 3])
    assert struct.unpack(">3I", raw[4:16]) == (2, 3, 4)
    assert raw[16:] == array.astype(IDX_TYPES[code]).tobytes()  # big-endian payload


def test_uint8_read_is_zero_copy_view(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "u8", np.arange(12, dtype=np.uint8).reshape(3, 4))
    arr = read_idx(path)
    assert arr.base is not None and not arr.flags.writeable


def test_gz_name_gzips_by_default_and_output_is_deterministic(tmp_path: Path) -> None:
    array = np.arange(100, dtype=np.int16)
    a = write_idx(tmp_path / "a.gz", array)
    b = write_idx(tmp_path / "b.gz", array)
    assert is_gzip(a)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros(3, np.uint16), "IDX cannot store dtype uint16"),
        (np.zeros(3, np.int64), "IDX cannot store dtype int64"),
        (np.zeros(3, np.complex64), "IDX cannot store dtype complex64"),
    ],
)
def test_write_rejects_unsupported_dtype(tmp_path: Path, array: np.ndarray, message: str) -> None:
    with pytest.raises(MnistlabError, match=message):
        write_idx(tmp_path / "x", array)
    assert list(tmp_path.iterdir()) == []


def test_write_rejects_bad_compresslevel(tmp_path: Path) -> None:
    with pytest.raises(MnistlabError, match=r"compresslevel must be 1\.\.9, got 0"):
        write_idx(tmp_path / "x.gz", np.zeros(3, np.uint8), compresslevel=0)


@pytest.mark.slow
def test_rewriting_decompressed_fashion_files_is_byte_exact(
    fashion_dir: Path, tmp_path: Path
) -> None:
    for src in sorted(fashion_dir.glob("*-ubyte.gz")):
        original = gzip.decompress(src.read_bytes())
        plain = tmp_path / src.name.removesuffix(".gz")
        plain.write_bytes(original)
        rewritten = write_idx(tmp_path / f"re-{plain.name}", read_idx(plain))
        assert rewritten.read_bytes() == original, src.name
        # Reading the gzip and the plain copy gives the same array.
        assert np.array_equal(read_idx(src), read_idx(plain))


def test_gzip_detected_by_content_not_name(tmp_path: Path, fashion_small: np.ndarray) -> None:
    # Fashion-MNIST-C ships plain IDX files under .gz names.
    liar = tmp_path / "plain-idx3-ubyte.gz"
    liar.write_bytes(encode_idx(fashion_small))
    assert not is_gzip(liar)
    assert np.array_equal(read_idx(liar), fashion_small)
    honest = write_idx(tmp_path / "gzipped-idx3-ubyte", fashion_small, compress=True)
    assert is_gzip(honest)
    assert np.array_equal(read_idx(honest), fashion_small)


def test_real_fashion_mnist_c_plain_files(fashion_test) -> None:
    folder = SHARED_FMNIST_C
    if not folder.is_dir():
        pytest.skip(f"{folder} missing")
    labels = read_idx(folder / "fmnist-c-test-labels-idx1-ubyte")
    assert np.array_equal(labels, fashion_test.labels)
    images = read_idx(folder / "sample100" / "fmnist-c-test-images-idx3-ubyte")
    assert images.shape == (100, 28, 28) and images.dtype == np.uint8


def test_fashion_mnist_c_under_upstream_gz_name(tmp_path: Path) -> None:
    src = SHARED_FMNIST_C / "fmnist-c-test-labels-idx1-ubyte"
    if not src.is_file():
        pytest.skip(f"{src} missing")
    renamed = tmp_path / "fmnist-c-test-labels-ubyte.gz"
    shutil.copy(src, renamed)
    assert np.array_equal(read_idx(renamed), read_idx(src))


def _header(code: int, *dims: int) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


MALFORMED = {
    "empty": (b"", "empty file"),
    "empty_gzip": (gzip.compress(b""), "empty file"),
    "bad_magic": (b"\x01\x02\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad magic 01020801"),
    "unknown_type": (_header(0x0A, 2) + b"\x00\x00", "unknown IDX type code 0x0A"),
    "too_short": (b"\x00\x00", "too short for an IDX header"),
    "dims_missing": (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "declares 3 dimensions"),
    "payload_short": (_header(0x08, 2, 3) + b"\x00" * 5, "need 6 payload bytes, the file has 5"),
    "payload_long": (_header(0x0C, 2) + b"\x00" * 12, "need 8 payload bytes, the file has 12"),
    "truncated_gzip": (
        gzip.compress(_header(0x08, 1000) + bytes(range(256)) * 4)[:-30],
        "truncated gzip",
    ),
    "corrupt_gzip": (b"\x1f\x8b" + b"\x00" * 20, "corrupt gzip"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_gives_one_clear_error(tmp_path: Path, case: str) -> None:
    data, message = MALFORMED[case]
    path = tmp_path / f"{case}-idx1-ubyte"
    path.write_bytes(data)
    with pytest.raises(MnistlabError) as info:
        read_idx(path)
    text = str(info.value)
    assert str(path) in text
    assert message in text
    assert "\n" not in text


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(MnistlabError, match="no such file"):
        read_idx(tmp_path / "nope")
    with pytest.raises(MnistlabError, match="is a folder"):
        read_idx(tmp_path)


def test_gzip_pieces_are_one_member(tmp_path: Path) -> None:
    import gzip
    import zlib

    from mnistlab.data.idx import deflate_piece, gzip_from_pieces

    data = [bytes(range(256)) * 40, b"", b"tail" * 1000]
    pieces = [deflate_piece(d) for d in data]
    whole = b"".join(data)
    gzip_from_pieces(tmp_path / "x.gz", pieces, zlib.crc32(whole), len(whole))
    assert gzip.decompress((tmp_path / "x.gz").read_bytes()) == whole


def test_idx_pieces_equal_the_plain_idx_bytes(tmp_path: Path) -> None:
    import gzip

    from mnistlab.data.idx import deflate_piece, write_idx_pieces

    x = (np.arange(5 * 4 * 4) % 251).astype(np.uint8).reshape(5, 4, 4)
    pieces = [deflate_piece(x[s : s + 2].tobytes()) for s in range(0, 5, 2)]
    write_idx_pieces(tmp_path / "x-ubyte.gz", x, pieces)
    assert gzip.decompress((tmp_path / "x-ubyte.gz").read_bytes()) == encode_idx(x)
