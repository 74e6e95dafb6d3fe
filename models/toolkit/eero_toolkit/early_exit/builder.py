"""The flat graph under construction: nodes tagged with the graph level they run in."""

from __future__ import annotations

import numpy as np
from onnx import NodeProto, TensorProto, ValueInfoProto, helper, numpy_helper


class GraphBuilder:
    """Nodes and initializers tagged with the graph they run in (level l: the If of the segment that
    starts at exit l, 1: the main graph) and, per value, the exit whose row count leads its shape.

    Node and constant names number every call in order, so the same calls in the same order give
    the same bytes (compose is idempotent)."""

    def __init__(self) -> None:
        self.nodes: list[tuple[int, NodeProto]] = []
        self.initializers: list[tuple[int, TensorProto]] = []
        self.value_info: list[ValueInfoProto] = []
        self.rows_of: dict[str, int] = {}
        self.levels: list[int] = [1]  # the first exit of each segment
        # Per-row values a segment hands the next beside its rows (`<prefix><exit>`), by prefix: their width.
        self.carried: dict[str, int] = {}
        self._count = 0

    def node(
        self,
        op: str,
        inputs: list[str],
        level: int,
        rows: int | None = None,
        out: str | None = None,
        outputs: int = 1,
        scope: str = "ee",
        **attrs,
    ):
        """Appends one node; returns its output's name (a list of names when `outputs` > 1). `scope`
        prefixes its name (a score's own nodes: ee/<score>, told apart in onnxruntime's profiles)."""
        self._count += 1
        names = [out] if out else [f"{scope}/{op}_{self._count}_{i}" for i in range(outputs)]
        self.nodes.append((level, helper.make_node(op, inputs, names, name=f"{scope}/{op}_{self._count}", **attrs)))
        for n in names:
            self.rows_of[n] = rows or level
        return names[0] if outputs == 1 else names

    def const(self, value, dtype: str, scalar: bool = False, level: int = 1) -> str:
        """A Constant node, not an initializer: every initializer lives in weights.bin."""
        arr = np.array(value if scalar else np.atleast_1d(value), dtype=dtype)
        self._count += 1
        name = f"ee/const_{self._count}"
        value_proto = numpy_helper.from_array(arr, name)
        self.nodes.append((level, helper.make_node("Constant", [], [name], name=name, value=value_proto)))
        return name


def attribute(node: NodeProto, name: str, default=None):
    """The value of a node's attribute, or `default` when it has none of that name."""
    return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), default)


def ints_attribute(node: NodeProto, name: str) -> list[int] | None:
    """An ints attribute (perm, axes) as a list, or None."""
    value = attribute(node, name)
    return None if value is None else list(value)
