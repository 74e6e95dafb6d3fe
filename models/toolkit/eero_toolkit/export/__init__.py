"""Export a trained multi-exit checkpoint as an EERO bundle (models/FORMAT.md)."""

from .bundle import export_bundle, load_checkpoint
from .commands import add_export_parser
from .files import write_outputs
from .graphs import OPSET, FullModel, export_full_graph, export_stages, fold_batchnorm

__all__ = [
    "OPSET",
    "FullModel",
    "add_export_parser",
    "export_bundle",
    "export_full_graph",
    "export_stages",
    "fold_batchnorm",
    "load_checkpoint",
    "write_outputs",
]
