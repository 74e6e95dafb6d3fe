import gzip
import os

import numpy as np
import pytest

from eero_toolkit import ToolkitError
from eero_toolkit.data import FMNIST_DIR, load_fashion_mnist, load_folder, split_indices


def test_split_indices_are_disjoint_fixed_and_sized():
    tr, ca = split_indices(60000)
    assert len(tr) == 55000 and len(ca) == 5000
    assert len(set(tr.tolist()) | set(ca.tolist())) == 60000
    tr2, ca2 = split_indices(60000)
    assert np.array_equal(ca, ca2)


@pytest.mark.skipif(not os.path.isdir(FMNIST_DIR), reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_splits_have_documented_sizes_and_32x32_padding():
    ds = load_fashion_mnist()
    assert (len(ds.train), len(ds.calibration), len(ds.test)) == (55000, 5000, 10000)
    assert tuple(ds.train.images.shape[1:]) == (1, 32, 32)
    assert int(ds.train.images[:, :, :2, :].max()) == 0  # the 2-pixel border is black


def test_missing_dataset_file_is_one_clear_error(tmp_path):
    with pytest.raises(ToolkitError, match="dataset file missing"):
        load_fashion_mnist(root=str(tmp_path))


def test_truncated_dataset_file_is_reported(tmp_path):
    for prefix, dims in (("train", (10, 28, 28)), ("t10k", (10, 28, 28))):
        with gzip.open(tmp_path / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in dims) + b"\0" * 100)
    with pytest.raises(ToolkitError, match="truncated"):
        load_fashion_mnist(root=str(tmp_path))


def test_empty_folder_is_refused(tmp_path):
    with pytest.raises(ToolkitError, match="at least two class folders"):
        load_folder(str(tmp_path), 32, 3)


def test_mixed_folder_is_refused(tmp_path):
    from PIL import Image

    (tmp_path / "cat").mkdir()
    (tmp_path / "dog").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "cat" / "a.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "dog" / "b.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "loose.png")
    with pytest.raises(ToolkitError, match="mixed folder"):
        load_folder(str(tmp_path), 32, 3)


def test_labeled_folder_loads_with_seeded_split(tmp_path):
    from PIL import Image

    for c, colour in (("black", 0), ("white", 255)):
        (tmp_path / c).mkdir()
        for i in range(20):
            Image.new("RGB", (40, 30), (colour, colour, colour)).save(tmp_path / c / f"{i}.jpg")
    ds = load_folder(str(tmp_path), 32, 3)
    assert ds.labels == ["black", "white"]
    assert len(ds.train) + len(ds.calibration) + len(ds.test) == 40
    assert tuple(ds.train.images.shape[1:]) == (3, 32, 32)
    again = load_folder(str(tmp_path), 32, 3)
    assert ds.test.labels.tolist() == again.test.labels.tolist()
