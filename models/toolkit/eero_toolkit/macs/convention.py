"""What counts as a multiply-accumulate (MAC), per class of operator.

One unit is one multiply-accumulate of a convolution or a matrix product, or one arithmetic
operation on one element elsewhere (an add, a compare, an exp...). Operators as ONNX / aten name them:

- conv: Conv / convolution, any groups (depthwise included): output elements x in-channels per
  group x kernel area. ConvTranspose: input elements x out-channels per group x kernel area.
- matmul: Gemm, MatMul / mm, addmm, bmm: rows x inner size x columns (x batch).
- bias: the bias of Conv and Gemm / convolution, addmm: 1 per output element (a separate bias Add
  is elementwise, as a Linear on a 4-d tensor exports).
- elementwise: Add, Sub, Mul, Div, Relu, Erf, Exp, Log, Max, Where, comparisons, logic, CumSum...:
  1 per output element. GELU (one aten op; ONNX opset 17 exports x / sqrt 2, Erf, + 1, x x, x 0.5):
  5 per element. SiLU (exported as Sigmoid, Mul): 2 per element.
- norm: LayerNormalization / native_layer_norm: 5 per element (mean, subtract, square-accumulate,
  x 1/sigma, scale-and-shift); BatchNormalization in inference: 1 per element (scale-and-shift).
- reduce: ReduceMean, ReduceSum, ReduceMax, GlobalAveragePool, TopK / mean, sum, amax: 1 per input
  element (a mean's divide per output is not counted). AveragePool, MaxPool: kernel area per output.
- softmax: Softmax, LogSoftmax / _softmax, _log_softmax: 5 per element (max, subtract, exp,
  accumulate, divide).
- no cost: data movement and shapes (Transpose, Reshape, Flatten, Concat, Gather, Compress, Cast,
  Constant, Shape... / view, permute, t...). An If counts the nodes of both its branches.

A bundle's manifest counts `macs` as the "linear" classes, conv + matmul, as torchvision and the
early-exit papers count a network's MACs; `total` adds every class. An operator outside these
rules is an error, never silently free: a new family's new operator gets its rule here first.
"""

from __future__ import annotations

CLASSES = ("conv", "matmul", "bias", "elementwise", "norm", "reduce", "softmax")
LINEAR = ("conv", "matmul")

# Operations per element of the operators that are one node in one representation and several in another.
GELU_OPS = 5
SILU_OPS = 2
LAYER_NORM_OPS = 5
BATCH_NORM_OPS = 1
SOFTMAX_OPS = 5


class Macs(dict):
    """MACs by class (CLASSES); missing classes count 0."""

    def add(self, cls: str, count: int) -> None:
        if cls not in CLASSES:
            raise ValueError(f"unknown MAC class {cls!r}")
        self[cls] = self.get(cls, 0) + int(count)

    def __add__(self, other: Macs) -> Macs:
        out = Macs(self)
        for cls, count in other.items():
            out.add(cls, count)
        return out

    @property
    def linear(self) -> int:
        """conv + matmul: what a manifest's `macs` count."""
        return sum(self.get(c, 0) for c in LINEAR)

    @property
    def total(self) -> int:
        return sum(self.values())
