"""Iterate a sweep until nothing changes, with the change flag read back once every k sweeps
(issue 8, item 4b): the driver of propagation algorithms -- connected-component labelling
(:mod:`medkern.kernels.label`), and later flood fill, morphological reconstruction and
watershed.

The caller supplies the *sweep*: a function ``sweep(flag, stamp)`` that launches one
sweep over its own buffers (one kernel, which may hold several passes as top-level loops,
or several kernels). Whenever a sweep changes anything it stores ``stamp`` -- the sweep's
number, 1, 2, 3... -- in ``flag[0]`` (:func:`mark`, a plain store: every writer of one
sweep writes the same value, so no atomics are needed and the flag is never reset).
The driver owns the flag and the read-back cadence: it launches ``every`` sweeps, reads
the flag back once (the only device -> host transfer, and the only host synchronisation),
and stops as soon as the last sweep of a batch changed nothing -- the state is then a
fixed point of the sweep. The flag tells which sweep last changed something, so the
statistics say how many sweeps the propagation needed and how many were spent after it
had converged (at most ``every - 1``).

Why a stamp and not a boolean: a boolean must be cleared before each batch (one more
launch or host write per batch) and says only that *some* sweep of the batch changed
something; the stamp needs one initialisation per run and says which one.

``max_sweeps`` guards against a sweep that never settles (a bug, or an algorithm whose
bound was misjudged): the driver raises :class:`NoConvergence` naming the run instead of
looping forever.
"""
import dataclasses
import functools
from typing import Any, Callable

import numpy as np
import taichi as ti

from .. import arrays, runtime

ND1 = functools.partial(ti.types.ndarray, ndim=1)

#: Sweeps launched between two read-backs of the change flag on GPU arches, by default.
DEFAULT_EVERY = 4


def default_every() -> int:
    """Sweeps per read-back: 1 on the CPU arch, where the flag is host memory and reading
    it costs a load (Taichi's CPU launches return when the kernel is done), so no sweep is
    wasted after convergence; :data:`DEFAULT_EVERY` on GPUs, where a read-back waits for
    the device."""
    return 1 if runtime.is_cpu() else DEFAULT_EVERY


class NoConvergence(RuntimeError):
    """A propagation still changed something after its ``max_sweeps`` sweeps."""


@dataclasses.dataclass(frozen=True)
class Stats:
    """What one :func:`run` did.

    Attributes
    ----------
    sweeps : int
        Sweeps launched.
    changing : int
        Sweeps that changed something (the last of them is the flag's final stamp);
        sweep ``changing + 1`` confirmed the fixed point.
    readbacks : int
        Reads of the flag (device -> host transfers).
    every : int
        Sweeps per read-back.
    """

    sweeps: int
    changing: int
    readbacks: int
    every: int


#: The statistics of the latest :func:`run` (diagnostics for tests and tools).
last_run: Stats | None = None


@ti.func
def mark(flag: ti.template(), stamp):
    """Record in a sweep kernel that this sweep (``stamp``) changed something.

    The flag is read first and written only when it does not hold the stamp yet: many
    threads marking one sweep then share a clean cache line instead of fighting over it."""
    if flag[0] != stamp:
        flag[0] = stamp


@functools.lru_cache(maxsize=None)
def _set_flag():
    @ti.kernel
    def kern(flag: ND1(dtype=ti.i32), value: ti.i32):
        flag[0] = value
    return kern


def _launch(kernel: Callable, *args: Any) -> None:
    arrays.check_not_pooled(args)
    with runtime.lock:
        kernel(*args)


def run(sweep: Callable[[Any, int], None], *, max_sweeps: int, every: int | None = None,
        name: str = "propagation") -> Stats:
    """Launch ``sweep(flag, stamp)`` until a sweep changes nothing.

    Parameters
    ----------
    sweep : callable
        ``sweep(flag, stamp)``: launches one sweep; ``flag`` is a 1-element int32 buffer
        in which the sweep stores ``stamp`` (:func:`mark`) when it changed anything.
    max_sweeps : int
        Most sweeps before :class:`NoConvergence` is raised.
    every : int, optional
        Sweeps launched between two reads of the flag (k >= 1): fewer read-backs and
        host synchronisations against at most ``every - 1`` sweeps run after convergence
        (default :func:`default_every`).
    name : str
        The algorithm's name, for the error message.

    Returns
    -------
    Stats
        Also kept in :data:`last_run`.
    """
    global last_run
    every = default_every() if every is None else int(every)
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    flag = arrays.empty_buffer((1,), np.dtype(np.int32))
    try:
        _launch(_set_flag(), flag, 0)  # stamps start at 1: 0 is "nothing changed yet"
        done = readbacks = 0
        while True:
            if done >= max_sweeps:
                raise NoConvergence(f"{name}: still changing after {done} sweeps (max_sweeps="
                                    f"{max_sweeps}); the sweep never reached a fixed point")
            for _ in range(min(every, max_sweeps - done)):
                done += 1
                sweep(flag, done)
            last = int(arrays.read_scalar(flag))
            readbacks += 1
            if last < done:  # the batch's last sweep changed nothing: a fixed point
                last_run = Stats(sweeps=done, changing=last, readbacks=readbacks, every=every)
                return last_run
    finally:
        arrays.release_buffer(flag)
