# intercom-lua: build the C core for Lua 5.4 and LuaJIT, test, lint, install.
# Honours PREFIX, DESTDIR, CFLAGS, LDFLAGS.

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -std=c99 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror=implicit-function-declaration
PICFLAGS := -fPIC
LDFLAGS  ?=
# libcurl is not linked: the core dlopen()s it on first use (src/curlapi.h says why). Only its headers.
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS := -ldl

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

.PHONY: all lua54 luajit deps test test-fast demo lint clean install check-memory bench

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

# The benchmark (a report, not a test; see bench/README.md): installs nginx, GNU time and the pinned Node
# SDK on first use, then runs every workload for every client. A few minutes on two cores.
bench: all
	bash bench/setup.sh
	python3 bench/run.py

lint: all
	luacheck lua spec examples $(wildcard bench)
	$(CC) $(WARN) -Werror -fsyntax-only -I$(LUA54_INC) $(SRC)
	$(CC) $(WARN) -Werror -fsyntax-only -I$(LUAJIT_INC) $(SRC)

install: lua54
	install -d $(DESTDIR)$(LUA_LIBDIR)/intercom $(DESTDIR)$(LUA_SHAREDIR)
	install -m 755 $(BUILD54)/intercom/core.so $(DESTDIR)$(LUA_LIBDIR)/intercom/core.so
	cd lua && find . -name '*.lua' -exec install -D -m 644 {} $(DESTDIR)$(LUA_SHAREDIR)/{} \;

clean:
	rm -rf build
