#!/usr/bin/env bash
# One command on a GPU machine: the GPU tests (CUDA vs CPU, fp16 vs fp32), then the full-size
# pipeline benchmark (RefCOCOg val's shape: 1,300 images; sequential vs pipelined vs pipelined with
# crops batched across images, fp32 vs fp16).
# Run from the repository root:   bash benchmarks/gpu_check.sh [PYTHON]
# PYTHON defaults to .venv/bin/python when there is one, else python3. Output: the pytest
# result (with the measured fp16/fp32 differences printed), then bench_pipeline's figures.
set -uo pipefail   # every step runs; the exit status says whether any failed
cd "$(dirname "$0")/.."
PY="${1:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
"$PY" - <<'PYEOF'
import torch
assert torch.cuda.is_available(), "no CUDA device: run this on a GPU machine"
print("device:", torch.cuda.get_device_name(0), f"{torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB")
PYEOF
[ $? -eq 0 ] || exit 2
status=0
echo "== GPU tests"
"$PY" -m pytest -q -s -rs tests/reclip/test_gpu.py || status=1
echo "== RegionCLIP region path vs crop+blur on the GPU"
"$PY" -m benchmarks.bench_region --device cuda --images 20 --boxes 30 --threads 0 || status=1
echo "== full-size pipeline benchmark"
"$PY" -m benchmarks.bench_pipeline --device cuda --images 1300 --workers 8 || status=1
exit $status
