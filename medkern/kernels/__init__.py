"""All of medkern's Taichi code: boundary maps, the kernel generators (DSL) and area kernels.

Nothing outside this package (and :mod:`medkern.runtime`) touches Taichi.
"""
