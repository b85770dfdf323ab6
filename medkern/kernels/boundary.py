"""scipy.ndimage boundary modes as Taichi index maps.

For an index ``i`` outside ``[0, n)`` each mode names the input element that
stands in for it, exactly as ``scipy.ndimage`` extends a line
(``d c b a | a b c d | d c b a`` ...):

========== =========================== ==========================
mode       extension                   period
========== =========================== ==========================
reflect    ``d c b a | a b c d | d c``  2n (edge sample repeated)
mirror     ``d c b | a b c d | c b a``  2n - 2 (edge not repeated)
nearest    ``a a a | a b c d | d d d``  -
wrap       ``b c d | a b c d | a b c``  n
constant   ``k k k | a b c d | k k k``  - (``cval``)
========== =========================== ==========================

The maps hold for any distance from the edge (a filter wider than the
array reflects again and again, as SciPy's does). ``constant`` maps outside
indices to -1; readers substitute ``cval``.
"""

import taichi as ti

MODES = ("reflect", "mirror", "nearest", "wrap", "constant")


# Each map returns in-range indices untouched before doing any division: almost
# every call is in range, and integer modulo is slow on CPUs and GPUs alike.

@ti.func
def _reflect(i, n):
    k = i
    if i < 0 or i >= n:
        period = 2 * n
        k = i % period  # Taichi's % on ints is Python's (floored), so k >= 0
        if k >= n:
            k = period - 1 - k
    return k


@ti.func
def _mirror(i, n):
    k = i
    if i < 0 or i >= n:
        k = i * 0
        if n > 1:
            period = 2 * n - 2
            k = i % period
            if k >= n:
                k = period - k
    return k


@ti.func
def _nearest(i, n):
    return ti.min(ti.max(i, 0), n - 1)


@ti.func
def _wrap(i, n):
    k = i
    if i < 0 or i >= n:
        k = i % n
    return k


@ti.func
def _constant(i, n):
    k = i
    if i < 0 or i >= n:
        k = -1
    return k


_MAPS = {"reflect": _reflect, "mirror": _mirror, "nearest": _nearest,
         "wrap": _wrap, "constant": _constant}


def index_map(mode: str):
    """The ``ti.func`` ``(i, n) -> index`` for a canonical mode (-1: use cval)."""
    return _MAPS[mode]
