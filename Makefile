# Turbo Inference — a thin wrapper over `deno task …`. `make help` lists the targets.
# Deno: the one on PATH if it is the pinned version, else the pinned version installed from the
# npm registry into .tools/ (its own package.json: Deno must never see one at the project root).

DENO_VERSION := 2.9.6
TOOLS        := .tools
LOCAL_DENO   := $(TOOLS)/node_modules/@deno/linux-x64-glibc/deno
PATH_DENO    := $(shell command -v deno 2>/dev/null)
PATH_DENO_VERSION := $(if $(PATH_DENO),$(shell $(PATH_DENO) --version 2>/dev/null | head -n1 | cut -d' ' -f2))
ifeq ($(PATH_DENO_VERSION),$(DENO_VERSION))
DENO ?= $(PATH_DENO)
else
DENO ?= $(abspath $(LOCAL_DENO))
endif
export DENO_NO_UPDATE_CHECK := 1

SWEEP   ?= sweeps/default.json
IMAGE   ?= turbo-inference-gpu
JUPYTER_PORT ?= 8888

.DEFAULT_GOAL := help
.PHONY: help setup venv test ok sweep merge batch speed figures report notebook jupyter serve stop build gpu-jupyter gpu-sweep gpu-bundle gpu-dry-run sh clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(LOCAL_DENO):
	@mkdir -p $(TOOLS)
	@test -f $(TOOLS)/package.json || echo '{"private": true}' > $(TOOLS)/package.json
	@echo "installing deno $(DENO_VERSION) from the npm registry into $(TOOLS)/" >&2
	@cd $(TOOLS) && npm install --no-audit --no-fund --silent deno@$(DENO_VERSION)
	@test -x $(LOCAL_DENO) || { echo "error: deno binary missing after npm install" >&2; exit 1; }

setup: $(if $(filter $(abspath $(LOCAL_DENO)),$(DENO)),$(LOCAL_DENO)) ## Install Deno (if needed) and cache the npm dependencies
	@$(DENO) install --frozen --quiet
	@$(DENO) --version | head -n1

venv: setup ## Build .venv/ (pinned JupyterLab, pip) with the Deno kernel registered inside it
	@$(DENO) task jupyter --setup

test: setup ## Run the test suite (deno test; builds .venv/ for the JupyterLab browser test; WikiText from data/)
	@$(DENO) task jupyter --setup >/dev/null 2>&1 || echo "note: no JupyterLab venv ('make venv' says why); the browser test fails under CI=true, else says it is skipped" >&2
	@$(DENO) task test

ok: setup ## Lint, format check, type check and test — the gate before a commit
	@$(DENO) task ok

sweep: setup ## The main job: sweeps/default.json (offline, CPU) → benchmarks/, figures/, metrics/ (RESUME=1 keeps finished cells)
	@$(DENO) task sweep --config $(SWEEP) $(if $(RESUME),,--force)

merge: setup ## Merge sharded sweep outputs (docs/cluster.md): SHARDS='shards/shard-*' OUT=merged
	@$(DENO) task merge $(or $(SHARDS),shards/shard-*) --out $(or $(OUT),merged)

batch: setup ## Batch scaling: sweeps/batch.json (batch 1-16, fp32 and q4, CPU) → runs/batch/ (never the reference outputs)
	@$(DENO) task sweep --config sweeps/batch.json --out runs/batch $(if $(RESUME),,--force)

figures: setup ## Rebuild figures/ and benchmarks/*.png from the CSVs
	@$(DENO) task figures

speed: setup ## Decode speed of quantisation / session settings side by side (MODEL=preset:small, SETTINGS=…)
	@$(DENO) task speed --model $(or $(MODEL),preset:small) $(if $(SETTINGS),--settings $(SETTINGS))

report: setup ## Rebuild metrics/ from the CSVs
	@$(DENO) task report

notebook: setup ## Execute every notebook headless (tiny preset) into notebooks/executed/, signed (trusted)
	@$(DENO) task notebook

jupyter: setup ## Start JupyterLab (.venv/, built on first use; else classic Notebook) on http://127.0.0.1:8888 with a token
	@$(DENO) task jupyter --port $(JUPYTER_PORT)

serve: setup ## Benchmark service + dashboard on http://127.0.0.1:8000 (API, OpenAI-compatible /v1, SQLite history)
	@$(DENO) task serve

stop: ## Stop the Jupyter server started by `make jupyter` (and the GPU container)
	@$(DENO) task jupyter --stop 2>/dev/null || true
	@docker rm -f $(IMAGE) >/dev/null 2>&1 || true

build: ## Build the CUDA image from Dockerfile.gpu
	docker build -f Dockerfile.gpu -t $(IMAGE) .

gpu-jupyter: ## Jupyter in the CUDA container on http://localhost:8888, project mounted at /workspace
	docker run --rm -d --name $(IMAGE) --gpus all -p $(JUPYTER_PORT):8888 -v $(CURDIR):/workspace $(IMAGE)
	@echo "Jupyter: http://localhost:$(JUPYTER_PORT)"

gpu-sweep: ## Run a sweep in the CUDA container (SWEEP=sweeps/llama3-8b-shape.json)
	docker run --rm --gpus all -v $(CURDIR):/workspace $(IMAGE) deno task sweep --config $(SWEEP)

gpu-bundle: setup ## The GPU check's bundle .gpu/ (docs/gpu.md): Deno, ONNX Runtime, sources, Vulkan loader; fails over 60 MiB
	@DENO=$(DENO) bash gpu/bundle.sh .gpu

gpu-dry-run: gpu-bundle ## The GPU check end to end from .gpu/ on the CPU (tiny sizes, no network), as CI runs it
	@DENO=$(DENO) bash gpu/dry_run.sh .gpu

sh: ## A shell inside the CUDA container
	docker run --rm -it --gpus all -v $(CURDIR):/workspace --entrypoint bash $(IMAGE)

clean: ## Remove caches, local tools and the venv (generated outputs are kept: they are the reference run)
	rm -rf .cache node_modules $(TOOLS) .venv notebooks/executed notebooks/run
