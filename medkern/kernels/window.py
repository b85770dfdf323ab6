"""numpy's reductions of a window vector, in numpy's order of operations.

``generic_filter`` runs ``np.sum``/``np.mean``/``np.std``/``np.var`` given as its
``function`` through these ``ti.func`` s (via ``dsl.stencil_map``). SciPy calls
the numpy function on a float64 buffer of each window, and numpy adds with
pairwise summation: blocks below 8 values are summed left to right from 0,
blocks up to 128 values with 8 interleaved accumulators combined as
``((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))`` plus the remainder, longer ones split
in two (the first half a multiple of 8). Reproducing that tree gives SciPy's
float64 results bit for bit, so integer outputs truncate the same way.
"""

import functools

import taichi as ti


@functools.lru_cache(maxsize=None)
def pairwise_sum(lo: int, n: int):
    """``sum(v[lo:lo + n])`` as numpy's pairwise summation adds it (float64)."""
    if n < 8:
        @ti.func
        def block(v):
            r = ti.f64(0.0)
            for k in ti.static(range(lo, lo + n)):
                r += v[k]
            return r
        return block
    if n <= 128:
        whole = n - n % 8

        @ti.func
        def block(v):
            r = ti.Vector([v[lo + u] for u in ti.static(range(8))], dt=ti.f64)
            for b in ti.static(range(8, whole, 8)):
                for u in ti.static(range(8)):
                    r[u] += v[lo + b + u]
            res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            for k in ti.static(range(lo + whole, lo + n)):
                res += v[k]
            return res
        return block
    half = n // 2
    half -= half % 8
    left, right = pairwise_sum(lo, half), pairwise_sum(lo + half, n - half)

    @ti.func
    def block(v):
        return left(v) + right(v)
    return block


@functools.lru_cache(maxsize=None)
def numpy_reduction(name: str, n: int, ddof: int = 0):
    """A ``ti.func`` of an ``n``-vector (float64): ``np.<name>`` of it.

    ``name`` in ``sum``, ``mean``, ``var``, ``std`` (``ddof`` as numpy's).
    """
    total = pairwise_sum(0, n)

    @ti.func
    def divide(a, b):
        # Vulkan's float64 division may be an ulp off: keep exact quotients exact
        # (integer outputs truncate them)
        q = a / b
        k = ti.round(q)
        if k * b == a:
            q = k
        return q

    count = float(n)  # Python floats: ti.f64(...) inside the funcs keeps them exact
    divisor = float(max(n - ddof, 0))
    if name == "sum":
        return total
    if name == "mean":
        @ti.func
        def mean(v):
            return divide(total(v), ti.f64(count))
        return mean

    @ti.func
    def var(v):
        m = divide(total(v), ti.f64(count))
        d = v - m
        return divide(total(d * d), ti.f64(divisor))

    if name == "var":
        return var

    @ti.func
    def std(v):
        return ti.sqrt(var(v))
    return std
