"""PyTorch and onnxruntime set to the threads :func:`mnistlab.threads.choose_threads` picks."""

from __future__ import annotations

from typing import Any

from mnistlab.threads import choose_threads

__all__ = ["ort_session_options", "set_torch_threads"]


def set_torch_threads(requested: int | None = None, *, parallel: int = 1) -> int:
    """Set PyTorch's intra-op threads with :func:`choose_threads`; returns the count."""
    import torch

    n = choose_threads(requested, parallel=parallel)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def ort_session_options(requested: int | None = None) -> Any:
    """``onnxruntime.SessionOptions`` with :func:`choose_threads` threads, no spinning."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = choose_threads(requested)
    options.inter_op_num_threads = 1
    # Idle threads sleep: spinning steals the core a competing process (or our own
    # corruption workers) needs, for no gain on batches of a thousand images.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options
