"""One shared external-data file for all of a bundle's graphs (models/FORMAT.md "weights.bin").

The stage graphs, full.onnx and early-exit.onnx hold the same weights; stored inline, every graph
would carry its own copy (ConvNeXt: ~19 MB). Here every initializer of every graph becomes an ONNX
external-data reference into one file, where each distinct byte string is stored once (64-byte
aligned). onnxruntime resolves `location` relative to the model file's folder.
"""

from __future__ import annotations

import hashlib
import os

ALIGN = 64
WEIGHTS_FILE = "weights.bin"


def tensor_bytes(tensor) -> bytes:
    """The tensor's little-endian raw bytes, whichever field holds them."""
    from onnx import numpy_helper

    if tensor.HasField("raw_data"):
        return tensor.raw_data
    array = numpy_helper.to_array(tensor)
    return array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def initializers(graph):
    """Every initializer of a graph and of its subgraphs (early-exit.onnx nests blocks in Ifs)."""
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                yield from initializers(sub)


def _clear_data(tensor) -> None:
    for field in ("raw_data", "float_data", "int32_data", "string_data", "int64_data", "double_data", "uint64_data"):
        tensor.ClearField(field)
    del tensor.external_data[:]


def share_weights(models: list[tuple[str, object]], out_dir: str, weights_file: str = WEIGHTS_FILE) -> dict:
    """Move every initializer of `models` ([(file name, ModelProto)], loaded with their data) into
    `out_dir/weights_file`, deduplicated by content, and write the models next to it.

    Returns {"file", "sha256", "bytes"} of the weights file. The models are modified in place.
    """
    from onnx import TensorProto

    blob = bytearray()
    offsets: dict[bytes, int] = {}
    for _, model in models:
        for tensor in initializers(model.graph):
            data = tensor_bytes(tensor)
            if data not in offsets:
                blob.extend(b"\0" * (-len(blob) % ALIGN))
                offsets[data] = len(blob)
                blob.extend(data)
            _clear_data(tensor)
            tensor.data_location = TensorProto.EXTERNAL
            for key, value in (("location", weights_file), ("offset", str(offsets[data])), ("length", str(len(data)))):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, value
    path = os.path.join(out_dir, weights_file)
    _write_atomically(path, bytes(blob))
    for name, model in models:
        _write_atomically(os.path.join(out_dir, name), model.SerializeToString())
    return {"file": weights_file, "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob)}


def _write_atomically(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def initializer_digests(model) -> dict[str, str]:
    """sha256 of each initializer's data type, dims and bytes (loaded with external data)."""
    out = {}
    for tensor in initializers(model.graph):
        h = hashlib.sha256(f"{tensor.data_type}:{list(tensor.dims)}:".encode())
        h.update(tensor_bytes(tensor))
        out[tensor.name] = h.hexdigest()
    return out
