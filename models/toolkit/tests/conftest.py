import os

import torch

# pyproject.toml puts the package on the path (pytest's `pythonpath`); two threads keep a busy machine usable.
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
