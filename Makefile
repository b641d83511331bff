# frappe_integrations -- PGXS build.
#
#   make                 build
#   make install         install into the PostgreSQL found by PG_CONFIG
#   make test            everything: packages, build, throwaway cluster, tests
#   make demo            the same set-up, then a guided tour
#   make WERROR=1        build with -Werror (the test harness always does)

EXTENSION = frappe_integrations
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = frappe_integrations
OBJS = \
	src/frappe_integrations.o \
	src/meta.o \
	src/secrets.o \
	src/engine/codec.o \
	src/engine/pyjson.o \
	src/engine/secretfmt.o

# versioned install and upgrade scripts: sql/frappe_integrations--*.sql
DATA = $(wildcard sql/$(EXTENSION)--*.sql)

# pg_regress inputs in sql/, outputs in expected/; run by test/run.sh
REGRESS = $(shell sed -e 's/\#.*//' -e '/^$$/d' test/regress_schedule)

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -I$(srcdir)/src -DFI_EXTVERSION=\"$(EXTVERSION)\"
# -Wno-unused-parameter: PostgreSQL's own headers trip it (fmgr.h, ilist.h)
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter
ifdef WERROR
PG_CFLAGS += -Werror
endif
SHLIB_LINK = -lcrypto -largon2

# no LLVM bitcode: the JIT gains nothing here and clang may be absent
with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: test demo unit
test:
	bash test/run.sh test

demo:
	bash test/run.sh demo

# the pure engines, built and tested without a server
unit: test/unit/engine_test
	test/unit/engine_test

test/unit/engine_test: test/unit/engine_test.c src/engine/codec.c src/engine/secretfmt.c src/engine/*.h
	$(CC) -O1 -g -Wall -Wextra -Werror -Isrc -o $@ test/unit/engine_test.c \
		src/engine/codec.c src/engine/secretfmt.c -lcrypto -largon2

test/unit/pyfloat_driver: test/unit/pyfloat_driver.c src/engine/pyjson.c src/engine/pyjson.h
	$(CC) -O1 -g -Wall -Wextra -Werror -Isrc -o $@ test/unit/pyfloat_driver.c \
		src/engine/pyjson.c -lm

EXTRA_CLEAN = test/unit/engine_test test/unit/pyfloat_driver test/fuzz/engine_fuzz tmp_check results regression.diffs regression.out

# fuzz the engines' parsers with libFuzzer (needs clang); FUZZ_SECONDS each run
FUZZ_SECONDS ?= 60
test/fuzz/engine_fuzz: test/fuzz/engine_fuzz.c src/engine/*.c src/engine/*.h
	clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Isrc -o $@ \
		test/fuzz/engine_fuzz.c src/engine/codec.c src/engine/pyjson.c \
		src/engine/secretfmt.c -lcrypto -largon2 -lm

.PHONY: fuzz
fuzz: test/fuzz/engine_fuzz
	mkdir -p tmp_check/fuzz-corpus
	test/fuzz/engine_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=512 tmp_check/fuzz-corpus
