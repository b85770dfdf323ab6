"""Test configuration: the arch comes from MEDKERN_ARCH (default: cpu for tests)."""
import os

os.environ.setdefault("MEDKERN_ARCH", "cpu")
