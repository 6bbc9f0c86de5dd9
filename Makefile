# voyager-c: one binary, yb-voyager. Plain make + pkg-config.
# Sources are found by wildcard so that adding a file needs no edit here.

CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build
PKGS     := libpq sqlite3 libcjson yaml-0.1 libmariadb
PKG_CONFIG ?= pkg-config
# Deferred (=, not :=): pkg-config runs in the recipes that compile and link,
# not when this file is parsed, so that `make deps demo` on a fresh machine
# finds the packages `deps` has just installed. tests/check_makefile.sh checks it.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS))
# libpq's pkg-config omits the server include dir; libpg_query ships no .pc file.
CFLAGS   ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc $(PKG_CFLAGS)
override LDLIBS += $(PKG_LIBS) -lpg_query -lpthread -lm

SRCS      := $(shell find src -name '*.c' | sort)
OBJS      := $(SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS  := $(filter-out $(BUILD)/src/main.o,$(OBJS))
TEST_SRCS := $(shell find tests/unit -name '*.c' | sort)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
# The commit --version names: "+changes" when src/, the Makefile or VERSION differ
# from it, "unknown" outside a git checkout.
COMMIT    := $(shell c=$$(git rev-parse --short=12 HEAD 2>/dev/null) || c=unknown; \
               [ "$$c" = unknown ] || git diff --quiet HEAD -- src Makefile VERSION 2>/dev/null || \
               c="$$c+changes"; echo "$$c")

.PHONY: FORCE all test unit-test integration-test sanitize valgrind install clean demo deps

all: yb-voyager

yb-voyager: $(BUILD)/yb-voyager
	cp $< $@

$(BUILD)/yb-voyager: $(OBJS)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit-tests: $(LIB_OBJS) $(TEST_OBJS)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -DVOYAGER_VERSION='"$(VERSION)"' -MMD -MP -c -o $@ $<

# Rewritten only when the commit changes, so that only dispatch.o is rebuilt then.
$(BUILD)/commit: FORCE
	@mkdir -p $(BUILD)
	@echo '$(COMMIT)' | cmp -s - $@ || echo '$(COMMIT)' >$@
$(BUILD)/src/cli/dispatch.o: $(BUILD)/commit
$(BUILD)/src/cli/dispatch.o: override CFLAGS += -DVOYAGER_COMMIT='"$(COMMIT)"'

-include $(OBJS:.o=.d) $(TEST_OBJS:.o=.d)

# `make -j2 deps all`: nothing compiles before deps has installed the headers.
$(OBJS) $(TEST_OBJS): | $(filter deps,$(MAKECMDGOALS))

DEPS_SCRIPT ?= ./scripts/install-deps.sh
deps:
	$(DEPS_SCRIPT)

# The one test command (README, CI): unit tests, then integration tests on real clusters.
test: yb-voyager $(BUILD)/unit-tests
	BUILD=$(BUILD) ./tests/run.sh

unit-test: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer, in their own build dir.
sanitize:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" LDFLAGS="-fsanitize=address,undefined" build-asan/unit-tests build-asan/yb-voyager
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build-asan/unit-tests
	# The data path under the sanitizers too: any error or leak exits non-zero and fails a check.
	for t in test_schema test_snapshot_roundtrip test_snapshot_overlap test_cdc_export_source test_cdc_import test_cdc_import_idle_progress test_cdc_truncate test_live_fall_back test_yb_target; do \
		BUILD=build-asan VOYAGER=$(CURDIR)/build-asan/yb-voyager ASAN_OPTIONS=detect_leaks=1 \
			bash tests/integration/$$t.sh >build-asan/$$t.log 2>&1 || { cat build-asan/$$t.log; exit 1; }; \
		tail -1 build-asan/$$t.log; \
	done

# Unit tests, and the binary in the command-line tests, under valgrind: no leaks, no errors.
valgrind: yb-voyager $(BUILD)/unit-tests
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		--child-silent-after-fork=yes $(BUILD)/unit-tests
	VOYAGER=$(CURDIR)/tests/lib/valgrind-voyager.sh bash tests/integration/test_cli.sh
	VOYAGER=$(CURDIR)/tests/lib/valgrind-voyager.sh bash tests/integration/test_cutover_cli.sh

demo: yb-voyager
	./scripts/demo.sh

install: yb-voyager
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 yb-voyager $(DESTDIR)$(PREFIX)/bin/yb-voyager

clean:
	rm -rf build build-asan yb-voyager
