"""Where the rows that continue are compacted (Compress, axis 0) between blocks.

Compaction after exit l costs, per row that continues, a copy of its feature map and, for a map in
plain NCHW, onnxruntime's layout round trip (NCHWc -> NCHW before Compress, back after it): measured
on a 16x32x32 map, about the time of 75 multiply-adds of convolution per float of the map (a third of
that for a channels-last map, which only the copy touches). It pays when the rows that leave there
skip at least as much: assuming a quarter of the rows leave at a boundary, when the next stage costs
4 x 75 = 300 multiply-adds per float of the map (25 x 4 = 100 channels-last). ResNet-18 on 32x32 has
288 and 224 after exits 1 and 2 (16x32x32 maps; compacting there measured slower at budget 0.5 and
with every row to the end), 576 and more later; its 224x224 form and ConvNeXt are above everywhere.
"""

from __future__ import annotations

COMPACT_MACS_PER_FLOAT = {False: 300, True: 100}  # by "the map is channels-last"


def compacts(spec: dict, next_macs: float | None, nhwc: bool) -> bool:
    """Whether to compact the rows after this stage, whose features `spec` describes."""
    if next_macs is None:
        return True
    floats = 1
    for d in spec["features"]["shape"][1:]:
        floats *= d
    return next_macs >= COMPACT_MACS_PER_FLOAT[nhwc] * floats
