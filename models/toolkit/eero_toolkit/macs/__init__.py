"""Multiply-accumulate counts: of a PyTorch module as it runs, and of an exported ONNX graph, by the
same rules (convention.py); tests check that the two agree on the shipped bundles."""

from .convention import CLASSES, LINEAR, Macs
from .onnx_count import file_macs, graph_macs
from .torch_count import count_macs, exit_costs

__all__ = ["CLASSES", "LINEAR", "Macs", "count_macs", "exit_costs", "file_macs", "graph_macs"]
