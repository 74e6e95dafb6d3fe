"""The names and types of early-exit.onnx's inputs and outputs (models/FORMAT.md "early-exit.onnx")."""

from __future__ import annotations

from onnx import TensorProto

OPSET = 17
EARLY_EXIT_FILE = "early-exit.onnx"
# The manifest's `earlyExit.inputs`: the service's name for each graph input.
INPUTS = {
    "input": "input",
    "thresholds": "thresholds",
    "temperature": "temperature",
    "noise": "noise",
    "scoreKind": "score_kind",
    "credit": "credit",
    "steps": "steps",
}
OUTPUTS = {"rows": "exit{l}_rows", "logits": "exit{l}_logits", "scores": "exit{l}_scores", "leave": "exit{l}_leave"}
OUTPUT_TYPES = {
    "rows": TensorProto.INT64,
    "logits": TensorProto.FLOAT,
    "scores": TensorProto.DOUBLE,
    "leave": TensorProto.BOOL,
}
# Every row's exit, logits and score in four outputs (models/FORMAT.md): the rows in the order they left, exit
# by exit, how many left at each exit, their logits and their scores there. A reader that routes needs only
# these (the scores only to tell why a row left when its score reads the exit history).
SUMMARY = {"rows": "left_rows", "counts": "left_counts", "logits": "left_logits", "scores": "left_scores"}
# Per exit l < M, inside its segment: the rows that leave there, their logits and scores (for the summary).
LEFT = {"left": "left{l}_rows", "left_logits": "left{l}_logits", "left_scores": "left{l}_scores"}


def batch_dim(exit_no: int) -> str:
    """The symbolic row count of the rows that reach exit `exit_no` (1-based)."""
    return "batch" if exit_no == 1 else f"n{exit_no}"


def local_name(level: int, exit_no: int, kind: str) -> str:
    """Exit `exit_no`'s output `kind` in the graph of level `level` (1 = the main graph, f: the
    then-branch of the If of the segment that starts at exit f). Names must be unique across a graph
    and its subgraphs (ONNX's SSA rule), so only the main graph uses the interface names."""
    name = {**OUTPUTS, **LEFT}[kind].format(l=exit_no)
    return name if level == 1 else f"l{level}/{name}"
