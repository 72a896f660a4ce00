# intercom-lua: build the C core for Lua 5.4 and LuaJIT, test, lint, install.
# Honours PREFIX, DESTDIR, CFLAGS, LDFLAGS.

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -std=c99 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror=implicit-function-declaration
PICFLAGS := -fPIC
LDFLAGS  ?=
# libcurl is not linked: the core dlopen()s it on first use (src/curlapi.h says why). Only its headers.
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS := -ldl -lpthread

LUA54_INC  ?= /usr/include/lua5.4
LUAJIT_INC ?= /usr/include/luajit-2.1

SRC  := $(wildcard src/*.c)
HDRS := $(wildcard src/*.h)

BUILD54  := build/5.4
BUILDJIT := build/luajit

PREFIX   ?= /usr/local
LUA_VER  ?= 5.4
LUA_LIBDIR ?= $(PREFIX)/lib/lua/$(LUA_VER)
LUA_SHAREDIR ?= $(PREFIX)/share/lua/$(LUA_VER)
BINDIR   ?= $(PREFIX)/bin

.PHONY: all lua54 luajit deps test test-fast demo docs lint clean install check-memory bench bench-chart rock rockspec

all: lua54 luajit

lua54: $(BUILD54)/intercom/core.so
luajit: $(BUILDJIT)/intercom/core.so

$(BUILD54)/intercom/core.so: $(SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(PICFLAGS) $(CURL_CFLAGS) -I$(LUA54_INC) -shared -o $@ $(SRC) $(LDFLAGS) $(CURL_LIBS)

$(BUILDJIT)/intercom/core.so: $(SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(PICFLAGS) $(CURL_CFLAGS) -I$(LUAJIT_INC) -shared -o $@ $(SRC) $(LDFLAGS) $(CURL_LIBS)

# Debian packages the project needs to build, test and lint (idempotent).
deps:
	bash tools/install-deps.sh

# Every test: busted specs under Lua 5.4 and LuaJIT against the local test server.
test: all
	bash spec/run.sh

# The demo: against the real API with INTERCOM_API_KEY, otherwise against the local test server.
demo: all
	bash examples/run-quickstart.sh

# docs/operations.md's operations table, regenerated from lua/intercom/operations.lua (spec/client/coverage_spec.lua
# fails when the two differ).
docs:
	lua5.4 tools/gen-operations-table.lua --write docs/operations.md

# The benchmark (a report, not a test; see bench/README.md): installs nginx, GNU time and the pinned Node
# SDK on first use, then runs every workload for every client. A few minutes on two cores.
bench: all
	bash bench/setup.sh
	python3 bench/run.py
	python3 bench/chart.py
	bash bench/ratelimit.sh

# The chart at the top of docs/performance.md (CPU per operation by workload and client, an SVG drawn
# by gnuplot), redrawn from bench/results/latest.json without running the benchmark again.
bench-chart:
	python3 bench/chart.py

lint: all
	luacheck lua spec examples tools bin/intercom $(wildcard bench)
	$(CC) $(WARN) -Werror -fsyntax-only -I$(LUA54_INC) $(SRC)
	$(CC) $(WARN) -Werror -fsyntax-only -I$(LUAJIT_INC) $(SRC)

install: lua54
	install -d $(DESTDIR)$(LUA_LIBDIR)/intercom $(DESTDIR)$(LUA_SHAREDIR) $(DESTDIR)$(BINDIR)
	install -m 755 $(BUILD54)/intercom/core.so $(DESTDIR)$(LUA_LIBDIR)/intercom/core.so
	cd lua && find . -name '*.lua' -exec install -D -m 644 {} $(DESTDIR)$(LUA_SHAREDIR)/{} \;
	install -m 755 bin/intercom $(DESTDIR)$(BINDIR)/intercom

clean:
	rm -rf build

# The release: rockspecs/intercom-$(VERSION)-1.rockspec is generated from intercom-scm-1.rockspec and
# src/version.h (the one place the version is written) by `make rockspec`; spec/e2e/rockspec_spec.lua fails
# when it is stale. `make rock` packs $(ROCK_DIR)/intercom-$(VERSION)-1.src.rock: that rockspec and the
# source tarball it names, which `luarocks install` installs with no network (docs/install.md).
VERSION  := $(shell sed -n 's/^#define IC_VERSION "\(.*\)"/\1/p' src/version.h)
ROCK_DIR ?= build/rock
ROCK_FILES := lua src types docs README.md intercom-scm-1.rockspec $(wildcard bin)

rockspec:
	lua5.4 tools/gen-rockspec.lua --write

rock:
	rm -rf $(ROCK_DIR) && mkdir -p $(ROCK_DIR)
	lua5.4 tools/gen-rockspec.lua > $(ROCK_DIR)/intercom-$(VERSION)-1.rockspec
	tar czf $(ROCK_DIR)/intercom-$(VERSION).tar.gz --transform 's,^,intercom-$(VERSION)/,' \
	  --exclude='*.o' --exclude='*.so' $(ROCK_FILES)
	luarocks --lua-version 5.4 lint $(ROCK_DIR)/intercom-$(VERSION)-1.rockspec
	@# what `luarocks pack` makes (the rockspec and its source side by side in a zip), which cannot be
	@# asked of it here: it fetches a relative source.url from inside a temporary folder
	cd $(ROCK_DIR) && zip -q intercom-$(VERSION)-1.src.rock intercom-$(VERSION)-1.rockspec intercom-$(VERSION).tar.gz
	@echo "made $(ROCK_DIR)/intercom-$(VERSION)-1.src.rock"

# ---- reliability: fuzzing and memory checks (README, "Reliability") ---------------------------------------

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
FUZZ_SEEDS   ?= ../shared/jsontestsuite/test_parsing
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

.PHONY: fuzz fuzz-build fuzz-coverage asan

fuzz-build: $(FUZZ_DIR)/json_fuzz

# The codec's files (src/json.c says which does what).
JSON_SRC := src/json.c src/json_decode.c src/json_encode.c src/json_shapes.c

$(FUZZ_DIR)/json_fuzz: fuzz/json_fuzz.c $(JSON_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -std=c99 -Wall -Wextra -I$(LUA54_INC) -o $@ fuzz/json_fuzz.c $(JSON_SRC) -llua5.4 -lm -lpthread

# The JSON decoder and encode round trip under libFuzzer + ASan + UBSan, for FUZZ_SECONDS. The seed corpus
# (JSONTestSuite) is copied at run time; new inputs accumulate in build/fuzz/corpus between runs.
fuzz: $(FUZZ_DIR)/json_fuzz
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/seeds $(FUZZ_DIR)/artifacts
	cp $(FUZZ_SEEDS)/*.json $(FUZZ_DIR)/seeds/
	$(FUZZ_DIR)/json_fuzz -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -dict=fuzz/json.dict \
	  -max_len=131072 -timeout=10 -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus $(FUZZ_DIR)/seeds

# Line coverage of the codec reached by the fuzz corpus (build/fuzz/corpus + the seeds), with llvm-cov.
fuzz-coverage: fuzz/json_fuzz.c $(JSON_SRC) $(HDRS)
	@mkdir -p $(FUZZ_DIR)/cov
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping -std=c99 -I$(LUA54_INC) \
	  -o $(FUZZ_DIR)/cov/json_fuzz fuzz/json_fuzz.c $(JSON_SRC) -llua5.4 -lm -lpthread
	cd $(FUZZ_DIR)/cov && LLVM_PROFILE_FILE=json.profraw ./json_fuzz -runs=0 ../corpus ../seeds
	cd $(FUZZ_DIR)/cov && llvm-profdata merge -o json.profdata json.profraw && \
	  llvm-cov report ./json_fuzz -instr-profile=json.profdata $(addprefix $(CURDIR)/,$(JSON_SRC))

# The C core with AddressSanitizer + UBSan, and a sanitized host interpreter for it (tools/lua_host.c), for
# Lua 5.4 (build/asan) and LuaJIT (build/asan-luajit).
ASAN_CC    ?= clang
ASAN_FLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LUAJIT_LIB ?= -lluajit-5.1

asan: build/asan/intercom/core.so build/asan/lua build/asan-luajit/intercom/core.so build/asan-luajit/luajit

build/asan/intercom/core.so: $(SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(ASAN_CC) $(ASAN_FLAGS) $(WARN) $(PICFLAGS) -I$(LUA54_INC) -shared -o $@ $(SRC) $(CURL_LIBS)

build/asan/lua: tools/lua_host.c
	@mkdir -p $(dir $@)
	$(ASAN_CC) $(ASAN_FLAGS) -std=c99 -I$(LUA54_INC) -o $@ $< -llua5.4

build/asan-luajit/intercom/core.so: $(SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(ASAN_CC) $(ASAN_FLAGS) $(WARN) $(PICFLAGS) -I$(LUAJIT_INC) -shared -o $@ $(SRC) $(CURL_LIBS)

build/asan-luajit/luajit: tools/lua_host.c
	@mkdir -p $(dir $@)
	$(ASAN_CC) $(ASAN_FLAGS) -std=c99 -I$(LUAJIT_INC) -o $@ $< $(LUAJIT_LIB)

# The whole spec suite under valgrind memcheck, then against the ASan + UBSan build (tools/check-memory.sh).
check-memory: all
	bash tools/check-memory.sh
