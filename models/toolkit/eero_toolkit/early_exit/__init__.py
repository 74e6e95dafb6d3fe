"""early-exit.onnx: the whole multi-exit network as one graph that routes rows in-graph.

Composed from the bundle's stage graphs (their weights unchanged, bit for bit), so the service runs
a whole early-exit batch in one onnxruntime call. Interface: models/FORMAT.md "early-exit.onnx".

Per exit l: the stage's nodes (stages), the score of each row in float64 as src/router/scores.ts
computes it (scores: one module per score, `score_kind` picks one), the decision
`score >= thresholds[row, l]`, and the ledger's grant: the rows below their threshold go on, in row
order, while the batch's credit pays their step to the next exit (grant). The rows that continue
are compacted (`Compress`, axis 0, of the features and row ids) after the exits where that pays
(compaction): a compaction costs onnxruntime a layout round trip of the feature map (its blocked
NCHWc layout must come back to NCHW for Compress), so after an exit without one the next block runs
on the same rows, the rows that left included, and only the exit's small outputs are compressed to
the rows still there (flat). A segment whose first block adds its input back (ResNet's identity
shortcut) starts with a 1x1 MaxPool, the identity, that onnxruntime runs in the blocked layout, so
that the residual add stays fused into the block's last Conv (flat.blocked_entry). Each segment
(the blocks between compactions) after the first runs in the then-branch of an `If` on "some row
reached it" (segments). ConvNeXt features stay NHWC between blocks (channels_last); exit heads
over NCHW maps average with GlobalAveragePool, which reads the blocked layout (stages.gap_head).
The summary outputs (every row's exit and logits in three tensors) let a reader that only routes
fetch three outputs instead of four per exit (compose).
"""

from .compose import compose_bundle, compose_early_exit
from .interface import EARLY_EXIT_FILE, INPUTS, OPSET, OUTPUTS, SUMMARY
from .scores import score_codes

__all__ = [
    "EARLY_EXIT_FILE",
    "INPUTS",
    "OPSET",
    "OUTPUTS",
    "SUMMARY",
    "compose_bundle",
    "compose_early_exit",
    "score_codes",
]
