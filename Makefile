# Two commands do all the set-up: `make run` and `make test`. Both create .venv when needed and
# are fast when it is already up to date (the stamp file tracks pyproject.toml).
PY      ?= python3.11
VENV    := .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.installed

.PHONY: run test install clean toolchains

$(STAMP): pyproject.toml
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	# torch first and exactly: its CPU wheel lies on the machine's disk (find-links); a looser
	# requirement resolved later would pull the multi-GB CUDA build.
	$(PYTHON) -m pip install --quiet torch==2.13.0
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PYTHON) -m pcarn_mobile.convert --target tflite --groups 4

test: $(STAMP)
	$(PYTHON) -m pytest -q

# Phone-side toolchains (toolchains/README.md), cached outside the repository: `make toolchain-swift`.
TOOLCHAINS := $(basename $(notdir $(wildcard toolchains/*.sh)))

toolchain-%: toolchains/%.sh
	bash $<

toolchains: $(addprefix toolchain-,$(TOOLCHAINS))

clean:
	rm -rf $(VENV) exports build *.egg-info
