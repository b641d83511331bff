#!/usr/bin/python3
"""The template engine through MariaDB, as a driver for test/template/difftest.py:
reads the same JSON-lines cases as test/template/tpl_driver.c and writes the
same answers, each case run by the SQL functions of the database
`integrations` (integrations.render_template, eval_condition,
normalize_json) on the server at $MDB_SOCK, in one session with the clock
fixed at the oracle's 2024-05-06 10:20:30.123456 (SET timestamp, UTC).
A case's text travels as a hex literal; its answer comes back as
"OK <hex>" or "ERR <SQLSTATE>" from a procedure that catches the error."""
import json
import os
import subprocess
import sys

SOCK = os.environ["MDB_SOCK"]
SETUP = r"""
CREATE DATABASE IF NOT EXISTS fi_difftest;
DROP PROCEDURE IF EXISTS fi_difftest.run_case;
DELIMITER //
CREATE PROCEDURE fi_difftest.run_case(k CHAR(1), src LONGBLOB, ctx LONGBLOB)
BEGIN
    DECLARE st CHAR(5) DEFAULT '';
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        GET DIAGNOSTICS CONDITION 1 st = RETURNED_SQLSTATE;
        SELECT CONCAT('ERR ', st);
    END;
    IF k = 't' THEN
        SELECT CONCAT('OK ', HEX(integrations.render_template(CONVERT(src USING utf8mb4), CONVERT(ctx USING utf8mb4))));
    ELSEIF k = 'c' AND TRIM(CONVERT(src USING utf8mb4)) = '' THEN
        -- (the SQL function's rule "an empty condition fires", Frappe's for a webhook, is not
        -- the engine's: a blank expression goes to the engine itself)
        IF fi_udf_eval_condition(src, ctx, integrations.now_usec()) IS NULL THEN
            CALL integrations.raise_last_error();
        END IF;
        SELECT 'OK true';
    ELSEIF k = 'c' THEN
        SELECT CONCAT('OK ', IF(integrations.eval_condition(CONVERT(src USING utf8mb4), CONVERT(ctx USING utf8mb4)), 'true', 'false'));
    ELSE
        SELECT CONCAT('OK ', HEX(integrations.normalize_json(CONVERT(src USING utf8mb4))));
    END IF;
END//
DELIMITER ;
"""


def main():
    cases = [json.loads(l) for l in sys.stdin if l.strip()]
    sql = [SETUP, "SET time_zone = '+00:00';", "SET timestamp = 1714990830.123456;"]
    for c in cases:
        ctx = json.dumps(c.get("ctx") if c.get("ctx") is not None else {}, ensure_ascii=False)
        sql.append("CALL fi_difftest.run_case('%s', X'%s', X'%s');" % (
            c["kind"], c["src"].encode().hex() or "", ctx.encode().hex()))
    p = subprocess.run(["mariadb", "--no-defaults", "--socket=" + SOCK, "-u", "root", "-N", "-B", "-r"],
                       input="\n".join(sql).encode(), capture_output=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode(errors="replace"))
        return 2
    rows = [r for r in p.stdout.decode().splitlines() if r.startswith(("OK ", "ERR "))]
    if len(rows) != len(cases):
        sys.stderr.write("got %d answers for %d cases\n" % (len(rows), len(cases)))
        return 2
    for c, r in zip(cases, rows):
        if r.startswith("OK "):
            v = r[3:]
            if c["kind"] == "c":
                out = v == "true"
            else:
                out = bytes.fromhex(v).decode("utf-8")
            print(json.dumps({"id": c["id"], "ok": True, "out": out}))
        else:
            st = r[4:]
            err = "syntax" if st == "42601" else "limit" if st in ("54000", "54001") else "value"
            print(json.dumps({"id": c["id"], "ok": False, "err": err, "msg": st}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
