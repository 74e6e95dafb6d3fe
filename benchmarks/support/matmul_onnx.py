"""Writes a one-MatMul ONNX graph for the CPU peak measurement of benchmarks/speed-peak.ts.

logits = reshape(input, [-1, K]) @ W, input shaped [-1, 1, 1, K], W (K x N) random.
Usage: /usr/bin/python3 benchmarks/support/matmul_onnx.py OUT.onnx K N
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main(out: str, k: int, n: int) -> None:
    w = np.random.default_rng(0).standard_normal((k, n)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Reshape", ["input", "shape"], ["flat"]),
            helper.make_node("MatMul", ["flat", "W"], ["logits"]),
        ],
        "matmul",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 1, k])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", n])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(np.array([-1, k], dtype=np.int64), "shape")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
