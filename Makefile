# The two commands of the README:
#   make compare   set up .venv, run `medkern compare` (on the GPU if there is one, else the CPU)
#   make test      set up .venv, run the test suite on the CPU arch, then again on Vulkan
#                  (all but the `exhaustive` extra-dtype parity cases and the `host`
#                  modules: argument checks, file formats, CLI, docs)
#                  (as root it first installs Mesa's software Vulkan driver, as CI needs)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
COMPARE_ARGS ?=
PYTEST_ARGS ?=
# torch for the interop tests (tests/test_interop.py). Not a test extra: a plain `torch` from
# PyPI is a multi-GB CUDA build. Here pip's find-links (/opt/wheels) has the CPU wheel;
# elsewhere choose, e.g. TORCH="torch --index-url https://download.pytorch.org/whl/cpu",
# or TORCH= to skip. A failed install only makes the interop tests skip.
TORCH ?= torch==2.13.0

.PHONY: setup compare test test-cpu test-vulkan vulkan-driver bench-quick gpu-wheels clean reference-suites

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -e '.[test]'
	@if [ -n "$(TORCH)" ]; then $(PY) -m pip install --quiet $(TORCH) \
	  || echo "setup: could not install $(TORCH); the interop tests (tests/test_interop.py) will skip"; \
	else echo "setup: TORCH is empty; the interop tests (tests/test_interop.py) will skip"; fi
	touch $(STAMP)

compare: $(STAMP)
	$(VENV)/bin/medkern compare $(COMPARE_ARGS)

test: test-cpu test-vulkan

test-cpu: $(STAMP)
	MEDKERN_ARCH=cpu $(PY) -m pytest -n auto $(PYTEST_ARGS)

# Vulkan through Mesa's software driver (lavapipe): the same kernels on a
# second backend. Runs when a Vulkan device is present (after `vulkan-driver`
# as root); says so and stops otherwise.
test-vulkan: $(STAMP) vulkan-driver
	@if MEDKERN_ARCH=vulkan $(PY) -c "import medkern; medkern.init()" 2>/dev/null; then \
	  MEDKERN_ARCH=vulkan $(PY) -m pytest -n auto -m "not slow and not exhaustive and not host" $(PYTEST_ARGS); \
	else echo "test-vulkan: no Vulkan device here (as root, 'make vulkan-driver' installs Mesa's); skipped"; fi

vulkan-driver:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers libvulkan1 >/dev/null; } \
	    || echo "vulkan-driver: apt-get could not install mesa-vulkan-drivers (the Vulkan run will say so)"; \
	fi

# The references' own test suites with medkern swapped in (tests/reference_suites/run.py):
# SciPy's ndimage test_filters/test_interpolation/test_measurements on the CPU arch, then
# on Vulkan when there is a device. Not part of `make test` (tens of minutes on 2 cores).
REFSUITE_ARGS ?=
reference-suites: $(STAMP)
	@status=0; $(PY) tests/reference_suites/run.py --arch cpu $(REFSUITE_ARGS) || status=1; \
	if MEDKERN_ARCH=vulkan $(PY) -c "import medkern; medkern.init()" 2>/dev/null; then \
	  $(PY) tests/reference_suites/run.py --arch vulkan $(REFSUITE_ARGS) || status=1; \
	else echo "reference-suites: no Vulkan device here; the Vulkan run is skipped"; fi; \
	exit $$status

# asv refuses to run before `asv machine` has described this machine (~/.asv-machine.json)
bench-quick: $(STAMP)
	@[ -f "$$HOME/.asv-machine.json" ] || $(VENV)/bin/asv machine --yes
	MEDKERN_ARCH=$${MEDKERN_ARCH:-cpu} MEDKERN_BENCH_SHAPES=$${MEDKERN_BENCH_SHAPES:-512x512,128x128x128} \
	  $(VENV)/bin/asv run --python=same --quick --show-stderr

clean:
	rm -rf $(VENV) .asv compare-out

# Wheels the GPU machine lacks (it has numpy/scipy/cupy but no Taichi or pydicom and no
# network): carry .wheels with tools/gpu_check.sh through the device tool.
gpu-wheels:
	mkdir -p .wheels
	$(PYTHON) -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
	  --platform manylinux_2_27_x86_64 --platform manylinux2014_x86_64 --platform any \
	  -d .wheels taichi==1.7.4 dill pydicom nibabel
