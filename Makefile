# frappe_integrations -- PGXS build.
#
#   make                 build
#   make install         install into the PostgreSQL found by PG_CONFIG
#   make test            everything: packages, build, throwaway cluster, tests
#   make demo            the same set-up, then a guided tour
#   make WERROR=1        build with -Werror (the test harness always does)

EXTENSION = frappe_integrations
# bash: the fuzz targets read PIPESTATUS
SHELL = /bin/bash
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = frappe_integrations
OBJS = \
	src/pg/frappe_integrations.o \
	src/pg/spi_plans.o \
	src/pg/secure.o \
	src/pg/rowread.o \
	src/pg/options.o \
	src/pg/meta.o \
	src/pg/secrets.o \
	src/pg/template.o \
	src/pg/docvalue.o \
	src/pg/webhook_capture.o \
	src/pg/webhook_flush.o \
	src/pg/webhook_sync.o \
	src/pg/delivery.o \
	src/pg/worker.o \
	src/pg/http_queue.o \
	src/pg/import.o \
	src/pg/import_values.o \
	src/pg/import_naming.o \
	src/pg/import_write.o \
	src/pg/export.o \
	src/pg/auth.o \
	src/pg/oauth.o \
	src/pg/signatures.o \
	src/pg/http.o \
	src/pg/payments.o \
	src/engine/codec.o \
	src/engine/doctype.o \
	src/engine/importmap.o \
	src/engine/naming.o \
	src/engine/webhookev.o \
	src/engine/webhookreq.o \
	src/engine/webhooksend.o \
	src/engine/exportfmt.o \
	src/engine/docdict.o \
	src/engine/exportplan.o \
	src/engine/jsoncanon.o \
	src/engine/jwt.o \
	src/engine/oauth.o \
	src/engine/payments.o \
	src/engine/authheader.o \
	src/engine/httpreq.o \
	src/engine/pyjson.o \
	src/engine/secretfmt.o \
	src/engine/sigverify.o \
	src/engine/csv.o \
	src/engine/importval.o \
	src/engine/importcell.o \
	src/engine/importlog.o \
	src/engine/importupdate.o \
	src/engine/xlsx.o \
	src/engine/xlsxwrite.o \
	src/engine/htmltext.o \
	src/engine/tpl_value.o \
	src/engine/tpl_text.o \
	src/engine/tpl_parse.o \
	src/engine/tpl_eval.o \
	src/engine/tpl_lib.o \
	src/engine/tpl_filters.o \
	src/engine/tpl_builtins.o

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
SHLIB_LINK = -lcrypto -largon2 -lcurl -lzip -lexpat -lxlsxwriter

# no LLVM bitcode: the JIT gains nothing here and clang may be absent
with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# the version string is compiled in: rebuild when the control file changes;
# and every object when a header does (the engine's structs are shared)
$(OBJS): $(EXTENSION).control $(wildcard src/pg/*.h src/engine/*.h)

.PHONY: test demo unit bench-webhooks bench-import bench-export bench-auth bench-mariadb bench-mariadb-webhooks bench-mariadb-import
test:
	bash test/run.sh test

demo:
	bash test/run.sh demo

# webhook costs and delivery figures (a throwaway cluster, like make test)
bench-webhooks:
	bash test/run.sh bench-webhooks

# import vs COPY of the same rows (a throwaway cluster)
bench-import:
	bash test/run.sh bench-import

# export vs COPY (SELECT ...) TO of the same columns (a throwaway cluster)
bench-export:
	bash test/run.sh bench-export

# token validation vs a primary-key SELECT (pgbench; a throwaway cluster)
bench-auth:
	bash test/run.sh bench-auth

bench-mariadb:
	bash test/run.sh bench-mariadb

# webhook capture on MariaDB vs none, the PostgreSQL build beside it
bench-mariadb-webhooks:
	bash test/run.sh bench-mariadb-webhooks

# Data Import on MariaDB vs the fastest plain load (array binding) of the same rows
bench-mariadb-import:
	bash test/run.sh bench-mariadb-import

# the pure engines, built and tested without a server
unit: test/unit/engine_test test/unit/rules_test
	test/unit/engine_test
	test/unit/rules_test

test/unit/engine_test: test/unit/engine_test.c test/unit/tap.h src/engine/codec.c src/engine/secretfmt.c src/engine/sigverify.c src/engine/htmltext.c src/engine/importval.c src/engine/*.h
	$(CC) -O1 -g -Wall -Wextra -Werror -Isrc -o $@ test/unit/engine_test.c \
		src/engine/codec.c src/engine/secretfmt.c src/engine/sigverify.c src/engine/htmltext.c \
		src/engine/importval.c -lcrypto -largon2

# the engines of Frappe's rules (meta order, import header and cells, naming, webhook events, export plan and text, OAuth, the Authorization header)
RULES_SRCS = src/engine/doctype.c src/engine/importmap.c src/engine/naming.c src/engine/webhookev.c \
	src/engine/exportfmt.c src/engine/pyjson.c src/engine/csv.c src/engine/oauth.c src/engine/codec.c \
	src/engine/secretfmt.c src/engine/importcell.c src/engine/importval.c src/engine/exportplan.c \
	src/engine/authheader.c src/engine/httpreq.c src/engine/jsoncanon.c src/engine/importlog.c src/engine/importupdate.c \
	src/engine/payments.c
test/unit/rules_test: test/unit/rules_test.c test/unit/tap.h $(RULES_SRCS) src/engine/*.h
	$(CC) -O1 -g -Wall -Wextra -Wno-unused-parameter -Werror -Isrc -o $@ test/unit/rules_test.c $(RULES_SRCS) -lm -lcrypto -largon2 -lcurl

# the import engines (CSV reader, value rules), for the differential tests
test/unit/import_driver: test/unit/import_driver.c src/engine/csv.c src/engine/importval.c src/engine/csv.h src/engine/importval.h
	$(CC) -O1 -g -Wall -Wextra -Werror -Isrc -o $@ test/unit/import_driver.c \
		src/engine/csv.c src/engine/importval.c

# the XLSX reader, for the differential test against openpyxl (t/085)
XLSX_SRCS = src/engine/xlsx.c src/engine/csv.c src/engine/pyjson.c src/engine/jsoncanon.c src/engine/codec.c
test/unit/xlsx_driver: test/unit/xlsx_driver.c $(XLSX_SRCS) src/engine/xlsx.h src/engine/csv.h
	$(CC) -O1 -g -Wall -Wextra -Werror -Isrc -o $@ test/unit/xlsx_driver.c $(XLSX_SRCS) -lzip -lexpat -lm

# the XLSX writer, for the differential test against openpyxl (t/086)
test/unit/xlsxw_driver: test/unit/xlsxw_driver.c src/engine/xlsxwrite.c src/engine/xlsxwrite.h
	$(CC) -O1 -g -Wall -Wextra -Werror -Isrc -o $@ test/unit/xlsxw_driver.c src/engine/xlsxwrite.c -lxlsxwriter -lm

test/unit/pyfloat_driver: test/unit/pyfloat_driver.c src/engine/pyjson.c src/engine/pyjson.h
	$(CC) -O1 -g -Wall -Wextra -Werror -Isrc -o $@ test/unit/pyfloat_driver.c \
		src/engine/pyjson.c -lm

# the template engine, also built alone for the driver, benchmark and fuzzer
TPL_SRCS = src/engine/tpl_value.c src/engine/tpl_text.c src/engine/tpl_parse.c src/engine/tpl_eval.c \
	src/engine/tpl_lib.c src/engine/tpl_filters.c src/engine/tpl_builtins.c src/engine/pyjson.c \
	src/engine/codec.c

test/template/tpl_driver: test/template/tpl_driver.c $(TPL_SRCS) src/engine/*.h
	$(CC) -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -Isrc -o $@ \
		test/template/tpl_driver.c $(TPL_SRCS) -lm

# ---- MariaDB (issue 18): the UDF library, built apart from PGXS ----
# make mariadb: build/mariadb/frappe_integrations.so (install: its README)
MARIADB_ENGINE = $(TPL_SRCS) src/engine/secretfmt.c src/engine/sigverify.c src/engine/jsoncanon.c src/engine/jwt.c \
	src/engine/csv.c src/engine/authheader.c src/engine/httpreq.c src/engine/oauth.c
MARIADB_CFLAGS = -O2 -g -fPIC -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter -Werror -D_GNU_SOURCE \
	-Isrc -I/usr/include/mariadb/server -I/usr/include/mariadb
build/mariadb/frappe_integrations.so: src/mariadb/udf.c $(MARIADB_ENGINE) src/engine/*.h
	mkdir -p build/mariadb
	$(CC) $(MARIADB_CFLAGS) -shared -o $@ src/mariadb/udf.c $(MARIADB_ENGINE) -lcrypto -lcurl -largon2 -lm -lpthread
# the client program (bin/frappe-integrations export): Connector/C and the engines
CLIENT_ENGINE = $(TPL_SRCS) src/engine/jsoncanon.c src/engine/doctype.c src/engine/exportplan.c \
	src/engine/exportfmt.c src/engine/htmltext.c src/engine/csv.c src/engine/xlsxwrite.c src/engine/docdict.c \
	src/engine/webhookev.c src/engine/webhookreq.c src/engine/webhooksend.c src/engine/secretfmt.c src/engine/httpreq.c \
	src/engine/importmap.c src/engine/importcell.c src/engine/importval.c src/engine/naming.c src/engine/importlog.c src/engine/importupdate.c src/engine/xlsx.c
CLIENT_SRCS = src/mariadb/client.c src/mariadb/client_meta.c src/mariadb/client_export.c src/mariadb/client_json.c \
	src/mariadb/client_webhooks.c src/mariadb/client_worker.c src/mariadb/client_import.c \
	src/mariadb/client_job.c
build/mariadb/fi-client: $(CLIENT_SRCS) src/mariadb/client.h src/mariadb/client_export.h $(CLIENT_ENGINE) src/engine/*.h
	mkdir -p build/mariadb
	$(CC) -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -D_GNU_SOURCE -Isrc -I/usr/include/mariadb \
		-DFI_EXTVERSION=\"$(EXTVERSION)\" -o $@ \
		$(CLIENT_SRCS) $(CLIENT_ENGINE) -lmariadb -lxlsxwriter -lzip -lexpat -lcurl -lcrypto -largon2 -lm -lpthread
mariadb: build/mariadb/frappe_integrations.so build/mariadb/fi-client
# fi_udf_oauth as the server calls it, under AddressSanitizer and UBSan (t/295)
test/unit/udf_oauth_test: test/unit/udf_oauth_test.c test/unit/tap.h src/mariadb/udf.c $(MARIADB_ENGINE) src/engine/*.h
	$(CC) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -Wall -Wextra -Wno-unused-parameter -Werror \
		-D_GNU_SOURCE -I. -Isrc -I/usr/include/mariadb/server -I/usr/include/mariadb -o $@ \
		test/unit/udf_oauth_test.c src/mariadb/udf.c $(MARIADB_ENGINE) -lcrypto -lcurl -largon2 -lm -lpthread
.PHONY: mariadb thread-test

# the engines from 8 threads at once (ThreadSanitizer when clang has it)
THREAD_SRCS = $(TPL_SRCS) src/engine/secretfmt.c src/engine/sigverify.c src/engine/csv.c \
	src/engine/importval.c src/engine/htmltext.c src/engine/jsoncanon.c src/engine/jwt.c \
	src/engine/naming.c src/engine/exportfmt.c src/engine/oauth.c src/engine/importcell.c src/engine/exportplan.c \
	src/engine/doctype.c src/engine/xlsx.c src/engine/httpreq.c src/engine/docdict.c
test/unit/thread_test: test/unit/thread_test.c $(THREAD_SRCS) src/engine/*.h
	if command -v clang >/dev/null 2>&1; then \
		clang -O1 -g -fsanitize=thread -Wall -Werror -Isrc -o $@ test/unit/thread_test.c \
			$(filter-out src/engine/codec.c,$(THREAD_SRCS)) src/engine/codec.c -lcrypto -lcurl -largon2 -lzip -lexpat -lm -lpthread; \
	else \
		$(CC) -O1 -g -Wall -Werror -Isrc -o $@ test/unit/thread_test.c $(THREAD_SRCS) -lcrypto -lcurl -largon2 -lzip -lexpat -lm -lpthread; \
	fi
thread-test: test/unit/thread_test
	test/unit/thread_test

EXTRA_CLEAN = build test/unit/xlsx_driver test/unit/xlsxw_driver test/fuzz/xlsx_fuzz test/unit/thread_test test/unit/import_driver test/fuzz/import_fuzz test/template/tpl_driver test/fuzz/template_fuzz test/unit/engine_test test/unit/pyfloat_driver test/fuzz/engine_fuzz tmp_check results regression.diffs regression.out

# fuzz the engines' parsers with libFuzzer (needs clang); FUZZ_SECONDS each run
FUZZ_SECONDS ?= 60
test/fuzz/engine_fuzz: test/fuzz/engine_fuzz.c src/engine/*.c src/engine/*.h
	clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Isrc -o $@ \
		test/fuzz/engine_fuzz.c src/engine/codec.c src/engine/pyjson.c src/engine/htmltext.c \
		src/engine/secretfmt.c src/engine/sigverify.c src/engine/csv.c src/engine/jsoncanon.c src/engine/jwt.c \
		src/engine/oauth.c src/engine/authheader.c src/engine/httpreq.c src/engine/exportfmt.c -lcrypto -lcurl -largon2 -lm

test/fuzz/template_fuzz: test/fuzz/template_fuzz.c $(TPL_SRCS) src/engine/*.h
	clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -Isrc -o $@ \
		test/fuzz/template_fuzz.c $(TPL_SRCS) -lm

# benchmarks: ratios against a baseline measured in the same run
.PHONY: bench
bench: test/template/tpl_driver
	/usr/bin/python3 bench/template/bench.py test/template/tpl_driver 300

IMPORT_FUZZ_SRCS = src/engine/csv.c src/engine/importval.c src/engine/doctype.c src/engine/importmap.c src/engine/naming.c \
	src/engine/importcell.c src/engine/exportplan.c
test/fuzz/import_fuzz: test/fuzz/import_fuzz.c $(IMPORT_FUZZ_SRCS) src/engine/*.h
	clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -Isrc -o $@ \
		test/fuzz/import_fuzz.c $(IMPORT_FUZZ_SRCS)

test/fuzz/xlsx_fuzz: test/fuzz/xlsx_fuzz.c $(XLSX_SRCS) src/engine/*.h
	clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -Isrc -o $@ \
		test/fuzz/xlsx_fuzz.c $(XLSX_SRCS) -lzip -lexpat -lm

# a short run of each fuzzer, from seeds (make test runs it; the long runs are
# the targets below): FUZZ_SMOKE_SECONDS each, corpora under FUZZ_SMOKE_DIR
FUZZ_SMOKE_SECONDS ?= 15
FUZZ_SMOKE_DIR ?= tmp_check/fuzz-smoke
.PHONY: fuzz-smoke
fuzz-smoke: test/fuzz/engine_fuzz test/fuzz/import_fuzz test/fuzz/template_fuzz test/fuzz/xlsx_fuzz
	mkdir -p $(FUZZ_SMOKE_DIR)/engine $(FUZZ_SMOKE_DIR)/import $(FUZZ_SMOKE_DIR)/template $(FUZZ_SMOKE_DIR)/xlsx
	printf '\000<worksheet><sheetData><row r="2"><c r="B2" t="s"><v>1</v></c><c s="1"><v>1.5</v></c><c t="inlineStr"><is><r><t>x</t></r></is></c></row></sheetData></worksheet>' > $(FUZZ_SMOKE_DIR)/xlsx/seed-sheet
	printf '\001<sst><si><t>a_x005F_b</t><rPh><t>p</t></rPh></si></sst>' > $(FUZZ_SMOKE_DIR)/xlsx/seed-strings
	printf '\001<sst><si><t></t></si></sst>' > $(FUZZ_SMOKE_DIR)/xlsx/seed-empty-string
	printf '\002<styleSheet><numFmts><numFmt numFmtId="164" formatCode="[h]:mm;&quot;x&quot;"/></numFmts><cellXfs><xf/><xf numFmtId="164"/></cellXfs></styleSheet>' > $(FUZZ_SMOKE_DIR)/xlsx/seed-styles
	printf 'a,"b""c",d\r\n\n"x\ny",1,234.5\n31-12-2030,1d 2h,10:30 PM\n' > $(FUZZ_SMOKE_DIR)/import/seed1
	printf 'ID,Customer,Item (Items),items.qty\nSINV-.YYYY.-.####,format:{MM}-{customer}-{##}\n' > $(FUZZ_SMOKE_DIR)/import/seed2
	printf '\011{"b": [1, 2.50, "x\\u00e9"], "a": {"c": null, "c": true}}' > $(FUZZ_SMOKE_DIR)/engine/seed-json
	printf '\012{"sub": "x", "n": -0.0e3}' > $(FUZZ_SMOKE_DIR)/engine/seed-jwt
	printf '\013Basic Y2wxOnMzY3I6ZXQ= openid all https://a/cb' > $(FUZZ_SMOKE_DIR)/engine/seed-oauth
	/usr/bin/python3 test/template/difftest.py --seeds $(FUZZ_SMOKE_DIR)/template >/dev/null
	test/fuzz/engine_fuzz -max_total_time=$(FUZZ_SMOKE_SECONDS) -max_len=512 -print_final_stats=1 \
		$(FUZZ_SMOKE_DIR)/engine 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' ; \
		test $${PIPESTATUS[0]} -eq 0
	test/fuzz/import_fuzz -max_total_time=$(FUZZ_SMOKE_SECONDS) -max_len=4096 -print_final_stats=1 \
		$(FUZZ_SMOKE_DIR)/import 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' ; \
		test $${PIPESTATUS[0]} -eq 0
	test/fuzz/template_fuzz -max_total_time=$(FUZZ_SMOKE_SECONDS) -max_len=2048 -timeout=10 \
		-rss_limit_mb=2048 -dict=test/fuzz/template.dict -print_final_stats=1 \
		$(FUZZ_SMOKE_DIR)/template 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' ; \
		test $${PIPESTATUS[0]} -eq 0
	test/fuzz/xlsx_fuzz -max_total_time=$(FUZZ_SMOKE_SECONDS) -max_len=2048 -print_final_stats=1 \
		$(FUZZ_SMOKE_DIR)/xlsx 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' ; \
		test $${PIPESTATUS[0]} -eq 0

.PHONY: fuzz fuzz-template fuzz-import fuzz-xlsx
fuzz-xlsx: test/fuzz/xlsx_fuzz
	mkdir -p tmp_check/fuzz-xlsx
	printf '\000<worksheet><sheetData><row><c t="s"><v>0</v></c></row></sheetData></worksheet>' > tmp_check/fuzz-xlsx/seed
	test/fuzz/xlsx_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 tmp_check/fuzz-xlsx

fuzz: test/fuzz/engine_fuzz
	mkdir -p tmp_check/fuzz-corpus
	test/fuzz/engine_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=512 tmp_check/fuzz-corpus

# the CSV reader and the value rules; seeds: CSV-ish text
fuzz-import: test/fuzz/import_fuzz
	mkdir -p tmp_check/fuzz-import
	printf 'a,"b""c",d\r\n\n"x\ny",1,234.5\n31-12-2030,1d 2h,10:30 PM\n' > tmp_check/fuzz-import/seed1
	test/fuzz/import_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 tmp_check/fuzz-import

# seeds: every source of the differential corpus
fuzz-template: test/fuzz/template_fuzz
	mkdir -p tmp_check/fuzz-template
	/usr/bin/python3 test/template/difftest.py --seeds tmp_check/fuzz-template
	test/fuzz/template_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=2048 -timeout=10 \
		-rss_limit_mb=2048 -dict=test/fuzz/template.dict tmp_check/fuzz-template
