"""The high-level layer: validation, dtype policy and composition of kernels. No Taichi here."""
