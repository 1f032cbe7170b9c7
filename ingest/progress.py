"""Progress of long work in the terminal."""

from __future__ import annotations

import sys


def progress(iterable, *, total: int, desc: str, unit: str):
    """tqdm bar on a terminal; otherwise the items pass through and the caller logs."""
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not sys.stderr.isatty(),
                dynamic_ncols=True)
