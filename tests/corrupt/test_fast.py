"""The uint8 fast paths, the tap-gather warps and the lazy imports against the reference paths.

Every fast path must give the float path's bytes (the kernels were changed for speed only):
on random uint8 batches that hold every grey level, at every severity, in both modes, with
and without numba, and whatever the chunking.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mnistlab.corrupt import _kernels, corrupt, get, names, registry
from mnistlab.corrupt.generate import fmnist_c_names

FAST = [n for n in names() if get(n).uint8_fn is not None]


def _batch(n: int = 96, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    x[0] = np.arange(784).reshape(28, 28) % 256  # every grey level, three times
    x[1] = 0
    x[2] = 255
    return x


def test_the_fast_paths_cover_the_exact_and_sped_up_corruptions() -> None:
    expected = {
        "identity", "flip_left_right", "flip_up_down", "rotate_90_cw", "rotate_90_ccw",
        "inverse", "stripe", "brightness", "contrast", "saturate", "shot_noise",
        "shear", "scale", "rotate", "translate",
    }  # fmt: skip
    assert expected <= set(FAST)


@pytest.mark.parametrize("name", FAST)
@pytest.mark.parametrize("min_batch", [0, 10**9], ids=["numba", "numpy"])
def test_fast_path_equals_float_path(
    name: str, min_batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_kernels, "NUMBA_MIN_BATCH", min_batch)
    x = _batch()
    ids = np.arange(500, 500 + len(x))
    for sev in range(1, 6) if get(name).leveled else [1]:
        for compat in ("default", "mnist-c"):
            fast = corrupt(x, name, severity=sev, seed=3, sample_ids=ids, compat=compat)
            monkeypatch.setattr(registry, "USE_UINT8", False)
            slow = corrupt(x, name, severity=sev, seed=3, sample_ids=ids, compat=compat)
            monkeypatch.setattr(registry, "USE_UINT8", True)
            assert fast.dtype == np.uint8 and fast.shape == slow.shape
            assert np.array_equal(fast, slow), (name, sev, compat, int((fast != slow).sum()))


@pytest.mark.parametrize("name", ["flip_left_right", "rotate_90_cw", "rotate_90_ccw", "inverse"])
def test_opencv_and_numpy_orientation_paths_agree(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("cv2")
    x = _batch(700, seed=4)
    monkeypatch.setattr(_kernels, "NUMBA_MIN_BATCH", 0)  # OpenCV for any batch
    a = corrupt(x, name)
    monkeypatch.setattr(_kernels, "NUMBA_MIN_BATCH", 10**9)
    monkeypatch.delitem(sys.modules, "cv2")  # and numpy when cv2 is not loaded
    b = corrupt(x, name)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("name", ["shot_noise", "rotate", "shear", "translate", "contrast"])
def test_fast_paths_do_not_depend_on_chunking(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    x = _batch(300, seed=5)
    ids = np.arange(len(x)) * 7 + 11
    whole = corrupt(x, name, seed=9, sample_ids=ids)
    monkeypatch.setattr(_kernels, "NUMBA_MIN_BATCH", 100)  # chunks of 37 numpy, 263 numba
    parts = [corrupt(x[s:e], name, seed=9, sample_ids=ids[s:e]) for s, e in ((0, 37), (37, 300))]
    assert np.array_equal(np.concatenate(parts), whole)


def test_tap_gather_equals_the_sparse_operator_to_the_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    # The former kernel (a float64 sparse product) against the gather: max difference 0.
    pytest.importorskip("scipy.sparse")
    from mnistlab.corrupt._warp import gather_taps

    rng = np.random.default_rng(6)
    x = _batch(64, seed=6)
    xf = x / 255.0
    for _ in range(12):
        m = _kernels.centred_affine(np.eye(2) + rng.normal(0, 0.4, (2, 2)), (13.5, 13.5))
        m[:, 2] += rng.normal(0, 3, 2)
        ref = xf.reshape(len(x), -1) @ _kernels.affine_operator(m, (28, 28))
        idx, wt = _kernels.affine_taps(m, (28, 28))
        for min_batch in (0, 10**9):
            monkeypatch.setattr(_kernels, "NUMBA_MIN_BATCH", min_batch)
            for src in (x, xf):
                assert np.array_equal(gather_taps(src, idx, wt), ref)


@pytest.mark.parametrize("mode", ["nearest", "reflect", "mirror", "wrap", "constant"])
def test_gaussian_matrix_equals_ndimage(mode: str) -> None:
    ndi = pytest.importorskip("scipy.ndimage")
    for length in (5, 28):
        for sigma in (0.3, 0.7, 1.0, 1.5, 3.0, 6.0):
            for truncate in (3.0, 4.0):
                ours = _kernels._gaussian_matrix(length, sigma, mode, truncate)
                ref = ndi.gaussian_filter1d(
                    np.eye(length), sigma, axis=0, mode=mode, truncate=truncate
                )
                assert np.array_equal(ours, ref), (length, sigma, mode, truncate)


def test_poisson_tables_without_scipy_give_the_same_counts() -> None:
    special = pytest.importorskip("scipy.special")
    for c in (60, 25, 12, 5, 3):
        lams = tuple(k / 255.0 * c for k in range(256))
        cdf, _, _ = _kernels.poisson_tables(lams)
        lam = np.asarray(lams)[:, None]
        k = np.arange(cdf.shape[1], dtype=np.float64)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            logpmf = np.where(
                lam > 0,
                k * np.log(lam) - lam - special.gammaln(k + 1),
                np.where(k == 0, 0.0, -np.inf),
            )
        ref = np.cumsum(np.exp(logpmf), axis=1)
        # Every 24-bit uniform falls on the same side of both tables' steps.
        u = np.arange(0, 2**24, 97, dtype=np.float64) / 2**24
        for row in range(0, 256, 17):
            a = np.searchsorted(cdf[row, :-1], u, side="right")
            b = np.searchsorted(ref[row, :-1], u, side="right")
            assert np.array_equal(a, b), (c, row)


def test_importing_the_registry_loads_no_heavy_library() -> None:
    code = (
        "import sys, numpy as np\n"
        "from mnistlab.corrupt import corrupt, get, names\n"
        "import mnistlab.corrupt.generate as g\n"
        "assert len(names()) > 30 and get('glass_blur').family == 'blur'\n"
        "x = np.random.default_rng(0).integers(0, 256, (40, 28, 28), dtype=np.uint8)\n"
        "for n in g.fmnist_c_names(): corrupt(x, n)\n"
        "heavy = ('scipy', 'numba', 'pandas', 'cv2', 'torch')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    # And the reverse: the import check can fail (scipy-based corruptions do load scipy).
    code2 = "import sys\nfrom mnistlab.corrupt import corrupt\nimport numpy as np\n"
    code2 += "corrupt(np.zeros((2, 28, 28), np.uint8), 'spatter')\nprint('scipy' in sys.modules)\n"
    out2 = subprocess.run([sys.executable, "-c", code2], capture_output=True, text=True, check=True)
    assert out2.stdout.strip() == "True"


def test_fmnist_c_pool_is_covered_by_the_import_check() -> None:
    assert len(fmnist_c_names()) == 15


def test_corruption_table_reads_back_like_the_pandas_one(tmp_path) -> None:
    pd = pytest.importorskip("pandas")
    from mnistlab.corrupt._table import write_corruption_table

    rng = np.random.default_rng(7)
    ids = np.arange(50, dtype=np.int64)
    labels = rng.integers(0, 10, 50).astype(np.uint8)
    pool = [f"c{i}" for i in range(15)]
    choice = rng.integers(0, 15, 50)
    sev = rng.integers(1, 6, 50)
    ref = pd.DataFrame(
        {
            "sample_id": ids,
            "label": labels,
            "corruption": pd.Categorical.from_codes(choice, categories=pd.Index(pool)),
            "severity": sev.astype(np.int8),
            "seed": np.full(50, 4, dtype=np.int64),
        }
    )
    write_corruption_table(tmp_path / "t.parquet", ids, labels, choice, pool, sev, 4)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), ref)


def test_worker_pool_after_fast_paths_in_the_parent_does_not_hang(tmp_path) -> None:
    # cv2.LUT in the parent (OpenCV's thread pool), then forked workers that reset OpenCV's
    # threads, deadlocked: the fast paths must only use OpenCV calls that run inline.
    code = (
        "import sys, numpy as np\n"
        "from mnistlab.corrupt import corrupt\n"
        "from mnistlab.corrupt.generate import generate\n"
        "from mnistlab.execution import Execution\n"
        "x = np.random.default_rng(0).integers(0, 256, (5000, 28, 28), dtype=np.uint8)\n"
        "for n in ('brightness', 'saturate', 'flip_left_right', 'rotate_90_cw', 'inverse'):\n"
        "    corrupt(x, n)\n"
        f"generate('fashion-mnist', {str(tmp_path / 'o')!r}, layout='fmnist-c', limit=2000,\n"
        "         execution=Execution(workers=2, chunk_size=500))\n"
        "print('done')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr[-2000:]
