# The kit's commands. Each target builds .venv/ from requirements.txt on first use. A variable is passed on
# only when it is set: the defaults live in kit/settings.py alone.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# TensorFlow's C++ start-up chatter buries the grading output; errors still show.
export TF_CPP_MIN_LOG_LEVEL := 2
# A regular expression reaches the shell as typed: $(value) keeps make from expanding its $, quotes keep the shell out.
STUDENT_PATTERN_OPTION = $(if $(value STUDENT_PATTERN),--student-pattern '$(value STUDENT_PATTERN)')

.PHONY: build grade report preflight demo worker test test-fast images

$(INSTALLED): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

build: $(INSTALLED)
	$(BIN)/python -m kit build $(ASSIGNMENT)

grade: $(INSTALLED)
	@test -n "$(ASSIGNMENT)" -a -n "$(SUBMISSIONS)" -a -n "$(OUT)" || \
		{ echo "usage: make grade ASSIGNMENT=<name> SUBMISSIONS=<dir> OUT=<dir> [TIMEOUT=<s>] [MEMORY=<size>] [CPUS=<n>] [JOBS=<n>] [SANDBOX=weak] [SCHEDULER=<address>] [REGRADE=<file|all>] [STUDENT_PATTERN=<regex>]"; exit 2; }
	$(BIN)/python -m kit grade --assignment $(ASSIGNMENT) --submissions $(SUBMISSIONS) --out $(OUT) \
		$(if $(JOBS),--jobs $(JOBS)) $(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(MEMORY),--memory $(MEMORY)) $(if $(CPUS),--cpus $(CPUS)) \
		$(if $(SANDBOX),--sandbox $(SANDBOX)) $(if $(SCHEDULER),--scheduler $(SCHEDULER)) $(if $(value REGRADE),--regrade '$(value REGRADE)') \
		$(STUDENT_PATTERN_OPTION)

report: $(INSTALLED)
	@test -n "$(OUT)" || { echo "usage: make report OUT=<dir> [STUDENT_PATTERN=<regex>]"; exit 2; }
	$(BIN)/python -m kit report --out $(OUT) $(STUDENT_PATTERN_OPTION)

preflight: $(INSTALLED)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make preflight ASSIGNMENT=<name> [MEMORY=<size>] [CPUS=<n>]"; exit 2; }
	$(BIN)/python -m kit preflight --assignment $(ASSIGNMENT) $(if $(MEMORY),--memory $(MEMORY)) $(if $(CPUS),--cpus $(CPUS))

worker: $(INSTALLED)
	@test -n "$(SCHEDULER)" || { echo "usage: make worker SCHEDULER=<address> [MEMORY=<memory for grading>] [SLOTS=<n>]"; exit 2; }
	$(BIN)/python -m kit worker --scheduler $(SCHEDULER) $(if $(MEMORY),--memory $(MEMORY)) $(if $(SLOTS),--slots $(SLOTS))

demo: $(INSTALLED)
	$(BIN)/python -m kit demo --out graded/demo

test: $(INSTALLED)
	$(BIN)/python -m pytest

test-fast: $(INSTALLED)
	$(BIN)/python -m pytest -m "not slow"

images: $(INSTALLED)
	$(BIN)/python images/draw.py
