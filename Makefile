# Two commands for a new machine: `make run` and `make test`. Everything installs into .venv
# from the locked requirements; nothing is needed beyond Python 3.11+ (with venv).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/dangan.duckdb

.PHONY: run test install demo lint bench clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "需要 Python 3.11 或更新版本（当前：$$($(PYTHON) --version)）"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || \
		{ echo "无法创建虚拟环境：请先安装 python3-venv（Debian: apt-get install python3-venv）"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

$(DB): | $(STAMP)
	$(BIN)/dangan --db $(DB) demo

demo: $(DB)

run: install $(DB)
	$(BIN)/dangan --db $(DB) serve

test: install
	$(BIN)/python -m pytest -n auto --dist loadfile

lint: install
	$(BIN)/ruff check pipelines dashboard tests bench
	$(BIN)/ruff format --check --no-cache pipelines dashboard tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_demo.py
	$(BIN)/python bench/bench_pages.py
	$(BIN)/python bench/bench_reviews.py
	$(BIN)/python bench/bench_reports.py
	$(BIN)/python bench/bench_exports.py
	$(BIN)/python bench/bench_graduate.py
	$(BIN)/python bench/bench_security.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
