from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab.data import Dataset, write_manifest
from mnistlab.errors import MnistlabError
from mnistlab.execution import Execution
from mnistlab.models import LogitsFile
from mnistlab.models.predict import (
    VariantData,
    iter_predictions,
    predict_table,
    write_predictions,
)


def _columns(c=10):
    """The predictions table's columns, in the order the module docstring gives."""
    keys = ["sample_id", "variant", "corruption", "severity", "label", "pred"]
    return [*keys, *[f"logit_{i}" for i in range(c)], *[f"prob_{i}" for i in range(c)], "model"]


def test_predict_table_on_a_dataset(tiny_logreg, fashion_test):
    ds = fashion_test[10:60]
    table = predict_table(tiny_logreg, ds)
    assert list(table.columns) == _columns()
    np.testing.assert_array_equal(table["sample_id"], np.arange(10, 60))
    np.testing.assert_array_equal(table["label"], ds.labels)
    assert set(table["variant"]) == {"clean"} and set(table["corruption"]) == {"identity"}
    assert (table["severity"] == 0).all() and (table["model"] == "logreg").all()
    np.testing.assert_allclose(table[[f"prob_{i}" for i in range(10)]].sum(axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(
        table["pred"], table[[f"logit_{i}" for i in range(10)]].to_numpy().argmax(1)
    )


def _variants_dir(root, images, labels, class_names):
    (root / "fog").mkdir(parents=True)
    np.save(root / "fog" / "img.npy", images)
    np.save(root / "fog" / "lab.npy", labels)
    np.save(root / "mixed_img.npy", images[::-1].copy())
    np.save(root / "mixed_lab.npy", labels[::-1].copy())
    n = len(images)
    pd.DataFrame(
        {
            "sample_id": np.arange(n)[::-1],
            "corruption": ["fog", "shear"] * (n // 2),
            "severity": [1, 4] * (n // 2),
        }
    ).to_parquet(root / "mixed_meta.parquet")
    write_manifest(
        root,
        kind="corrupt",
        layout="fmnist-c",
        dataset="fashion-mnist",
        class_names=class_names,
        variants=[
            {
                "name": "fog-s3",
                "corruption": "fog",
                "severity": 3,
                "splits": {"test": {"images": "fog/img.npy", "labels": "fog/lab.npy"}},
            },
            {
                "name": "mixed",
                "splits": {
                    "test": {
                        "images": "mixed_img.npy",
                        "labels": "mixed_lab.npy",
                        "metadata": "mixed_meta.parquet",
                    }
                },
            },
            {
                "name": "train-only",
                "splits": {"train": {"images": "fog/img.npy", "labels": "fog/lab.npy"}},
            },
        ],
    )
    return root


def test_predict_table_on_a_variants_folder(tmp_path, tiny_logreg, fashion_test):
    ds = fashion_test[:40]
    root = _variants_dir(tmp_path / "c", ds.images, ds.labels, ds.class_names)
    table = predict_table(tiny_logreg, root, model_name="lr")
    assert len(table) == 80 and (table["model"] == "lr").all()
    fog = table[table["variant"] == "fog-s3"]
    assert set(fog["corruption"]) == {"fog"} and set(fog["severity"]) == {3}
    mixed = table[table["variant"] == "mixed"]
    assert list(mixed["corruption"][:2]) == ["fog", "shear"] and list(mixed["severity"][:2]) == [
        1,
        4,
    ]
    np.testing.assert_array_equal(mixed["sample_id"], np.arange(40)[::-1])
    # the same images under a reversed order give the same per-sample predictions
    by_id = mixed.set_index("sample_id").sort_index()
    np.testing.assert_array_equal(by_id["pred"].to_numpy(), fog["pred"].to_numpy())


def test_predict_table_on_a_name_mapping_and_variant_data(tiny_logreg, fashion_test, fashion_dir):
    ds = fashion_test[:20]
    table = predict_table(tiny_logreg, {"rotate-s2": ds, "custom": ds})
    assert list(
        table.drop_duplicates("variant")[["corruption", "severity"]].itertuples(index=False)
    ) == [("rotate", 2), ("custom", 0)]
    vd = VariantData("x", ds, np.full(20, "blur", object), np.full(20, 5, np.int64))
    assert set(predict_table(tiny_logreg, [vd])["severity"]) == {5}
    meta = pd.DataFrame({"corruption": ["fog"] * 20, "severity": [2] * 20})
    single = Dataset(ds.images, ds.labels, ds.class_names, name="fogged", metadata=meta)
    assert set(predict_table(tiny_logreg, single)["variant"]) == {"fog-s2"}
    whole = predict_table(tiny_logreg, str(fashion_dir))
    assert len(whole) == 10000
    with pytest.raises(MnistlabError, match="VariantData"):
        predict_table(tiny_logreg, [ds])
    with pytest.raises(MnistlabError, match="cannot predict on int"):
        predict_table(tiny_logreg, 3)


def test_parallel_executor_gives_the_same_table(tiny_logreg, tiny_cnn, fashion_test):
    ds = fashion_test[:300]
    serial = predict_table(tiny_logreg, ds)
    job = Execution("local", workers=2, chunk_size=100)
    local = predict_table(tiny_logreg, ds, execution=job)
    pd.testing.assert_frame_equal(serial, local)
    # torch models ignore the process pool (they use every core in-process)
    pd.testing.assert_frame_equal(
        predict_table(tiny_cnn, ds),
        predict_table(tiny_cnn, ds, execution=Execution("local", chunk_size=100)),
    )


def test_sklearn_logits_do_not_depend_on_the_chunk(tiny_logreg, fashion_test):
    # BLAS picks another kernel for small matrices; a sample alone must match it in a batch.
    images = fashion_test.images[:300]
    whole = tiny_logreg.predict_logits(images)
    one_by_one = np.concatenate([tiny_logreg.predict_logits(images[i : i + 1]) for i in range(300)])
    np.testing.assert_array_equal(one_by_one, whole)


def test_class_count_mismatch_and_write(tmp_path, tiny_logreg, fashion_test):
    ds = fashion_test[:10]
    three = Dataset(ds.images, np.zeros(10, np.int64), ("a", "b", "c"))
    with pytest.raises(MnistlabError, match="10 classes but"):
        predict_table(tiny_logreg, three)
    path, rows = write_predictions(
        tmp_path / "p.parquet", iter_predictions(tiny_logreg, {"a-s1": ds, "b-s2": ds})
    )
    assert rows == 20 and list(pd.read_parquet(path)["variant"].unique()) == ["a-s1", "b-s2"]
    with pytest.raises(MnistlabError, match="nothing to write"):
        write_predictions(tmp_path / "empty.parquet", [])
    assert not (tmp_path / "empty.parquet").exists()


def test_logits_file_with_variant_folder_row_count(tmp_path, fashion_test):
    ds = fashion_test[:40]
    root = _variants_dir(tmp_path / "c", ds.images, ds.labels, ds.class_names)
    np.save(tmp_path / "l.npy", np.zeros((40, 10)))
    table = predict_table(LogitsFile(tmp_path / "l.npy"), root)
    assert len(table) == 80


def _old_frame(variant, logits, model_name):
    """The per-variant string frame the study built before prediction_arrow (its reference)."""
    from mnistlab.models.base import softmax

    ds = variant.dataset
    probs = softmax(logits)
    columns = {
        "sample_id": np.asarray(ds.sample_ids, dtype=np.int64),
        "variant": np.full(len(ds), variant.name, dtype=object),
        "corruption": np.asarray(variant.corruption, dtype=object),
        "severity": np.asarray(variant.severity, dtype=np.int64),
        "label": ds.labels,
        "pred": logits.argmax(axis=1).astype(np.int64),
    }
    for c in range(logits.shape[1]):
        columns[f"logit_{c}"] = logits[:, c]
    for c in range(probs.shape[1]):
        columns[f"prob_{c}"] = probs[:, c]
    columns["model"] = np.full(len(ds), model_name, dtype=object)
    table = pd.DataFrame(columns)
    for col in ("variant", "corruption", "model"):
        table[col] = table[col].astype(str)
    return table


def test_arrow_tables_match_the_old_string_frames(tiny_logreg, fashion_test, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mnistlab.models.predict import predict_variant, predict_variant_arrow

    ds = fashion_test[:300]
    mixed = np.array(["fog", "shear", "fog"] * 100)
    for vd in (
        VariantData("fog-s3", ds, np.full(300, "fog"), np.full(300, 3, np.int64)),
        VariantData("mixed", ds, mixed, np.tile([1, 4, 2], 100).astype(np.int64)),
    ):
        new = predict_variant_arrow(tiny_logreg, vd, model_name="lr")
        old = _old_frame(vd, tiny_logreg.predict_logits(ds.images), "lr")
        assert new.equals(pa.Table.from_pandas(old, preserve_index=False), check_metadata=True)
        pd.testing.assert_frame_equal(predict_variant(tiny_logreg, vd, model_name="lr"), old)
        # the same Parquet bytes
        pq.write_table(new, tmp_path / "new.parquet")
        pq.write_table(pa.Table.from_pandas(old, preserve_index=False), tmp_path / "old.parquet")
        assert (tmp_path / "new.parquet").read_bytes() == (tmp_path / "old.parquet").read_bytes()
    assert new.column("corruption").to_pylist() == mixed.tolist()


def test_write_predictions_takes_arrow_tables(tiny_logreg, fashion_test, tmp_path):
    from mnistlab.models.predict import predict_variant_arrow

    ds = fashion_test[:40]
    parts = [
        predict_variant_arrow(
            tiny_logreg, VariantData(f"v{k}", ds, np.full(40, "fog"), np.full(40, k, np.int64))
        )
        for k in (1, 2)
    ]
    path, rows = write_predictions(tmp_path / "p.parquet", parts)
    table = pd.read_parquet(path)
    assert rows == 80 and table["variant"].tolist() == ["v1"] * 40 + ["v2"] * 40
    assert list(table.columns) == _columns()
