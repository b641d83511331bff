-- frappe_integrations on MariaDB: webhook capture in a site's database
-- (issue 19, point 1).  Run by `frappe-integrations install --site` after
-- site.sql, with the same @SITE@ / @SITE_LIT@ substitution.
--
-- A row trigger on the table of every DocType with an enabled webhook, and
-- on each of its child tables, writes one small row per changed row into
-- __fi_webhook_outbox, in the user's own transaction: a ROLLBACK (or
-- ROLLBACK TO SAVEPOINT) takes it away with the change.  The trigger bodies
-- name only columns Frappe never drops or renames (name, docstatus,
-- modified; parent, parenttype, parentfield of a child row), so a migration
-- that changes a DocType's fields cannot break a write.
--
-- Which transaction wrote a row is (connection_id, trx), both set by the
-- trigger: an autocommit statement is its own transaction ('s' and the
-- statement's start, NOW(6)); inside a multi-statement transaction it is
-- 'g' and @@last_gtid, the GTID of the connection's previous commit, which
-- the commit of this transaction changes (with the binary log on; without it
-- @@last_gtid stays empty and the explicit transactions of one connection
-- that the worker reads in one go count as one).  Frappe's rule is one
-- delivery per webhook and document per transaction.  The outbox is not
-- system-versioned by transaction (ROW START as the InnoDB transaction id,
-- as 0.7.0 had it): MariaDB logs such a table's writes as statements even
-- under binlog_format=ROW and, from a trigger, writes an event a replica
-- cannot read, which stops replication.
DELIMITER //

CREATE TABLE IF NOT EXISTS @SITE@.`__fi_webhook_outbox` (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    doctype VARCHAR(140) NOT NULL COMMENT 'the DocType of the changed row''s table',
    name VARCHAR(140) NOT NULL COMMENT 'the row''s name (as it was, for a delete)',
    old_name VARCHAR(140) NULL COMMENT 'an UPDATE that renamed the row: its name before',
    op CHAR(1) CHARSET ascii NOT NULL COMMENT 'I, U or D',
    docstatus_old TINYINT NULL,
    docstatus_new TINYINT NULL,
    parent VARCHAR(140) NULL COMMENT 'a child row: its document',
    parenttype VARCHAR(140) NULL,
    parentfield VARCHAR(140) NULL,
    modified DATETIME(6) NULL,
    connection_id BIGINT UNSIGNED NOT NULL,
    trx VARCHAR(64) CHARSET ascii NOT NULL DEFAULT ''
        COMMENT 'which transaction of the connection: s and an autocommit statement''s start, or g and @@last_gtid',
    doc LONGTEXT NULL COMMENT 'a delete watched for on_trash: the row as it was, JSON_OBJECT of its columns'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='frappe_integrations: row changes of watched DocTypes, one row per changed row'//
-- an outbox made by an earlier install gets the columns added since; one
-- made by 0.7.0 (system-versioned by transaction) keeps its rows' transactions
-- apart in trx ('v' and the InnoDB transaction id) and loses the versioning
-- and its history
CREATE OR REPLACE PROCEDURE @SITE@.fi_wh_outbox_upgrade()
    MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE vah VARCHAR(10) CHARSET ascii DEFAULT @@session.system_versioning_alter_history;
    SET SESSION system_versioning_alter_history = KEEP;
    ALTER TABLE @SITE@.`__fi_webhook_outbox`
        ADD COLUMN IF NOT EXISTS doc LONGTEXT NULL
            COMMENT 'a delete watched for on_trash: the row as it was, JSON_OBJECT of its columns' AFTER connection_id,
        ADD COLUMN IF NOT EXISTS trx VARCHAR(64) CHARSET ascii NOT NULL DEFAULT ''
            COMMENT 'which transaction of the connection: s and an autocommit statement''s start, or g and @@last_gtid'
            AFTER connection_id;
    IF EXISTS (SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = @SITE_LIT@
                  AND TABLE_NAME = '__fi_webhook_outbox' AND COLUMN_NAME = 'trx_id') THEN
        UPDATE @SITE@.`__fi_webhook_outbox` SET trx = CONCAT('v', trx_id);
        ALTER TABLE @SITE@.`__fi_webhook_outbox` DROP COLUMN trx_id, DROP COLUMN trx_end,
            DROP PERIOD FOR SYSTEM_TIME, DROP SYSTEM VERSIONING;
    END IF;
    SET SESSION system_versioning_alter_history = vah;
END//
CALL @SITE@.fi_wh_outbox_upgrade()//
DROP PROCEDURE @SITE@.fi_wh_outbox_upgrade//

-- The events the worker made of the outbox, one row per webhook and document
-- and event: the request as it is sent (the body's exact bytes; signed at
-- send time), its status and attempts.  status: pending, sending (claimed,
-- lease_until: due again if the worker stopped), delivered, failed (dead
-- letter, payload kept).  Times are UTC.
CREATE TABLE IF NOT EXISTS @SITE@.`__fi_webhook_queue` (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    event_id CHAR(36) CHARSET ascii NOT NULL COMMENT 'webhook-id is msg_ and this',
    webhook VARCHAR(140) NOT NULL,
    doctype VARCHAR(140) NOT NULL,
    docname VARCHAR(140) NOT NULL,
    event VARCHAR(40) CHARSET ascii NOT NULL,
    method VARCHAR(10) CHARSET ascii NOT NULL,
    url TEXT NULL,
    headers LONGTEXT NOT NULL DEFAULT '[]' COMMENT 'the Webhook Header rows: [[key, value], ...] (no secret)',
    body LONGBLOB NOT NULL,
    sign TINYINT NOT NULL DEFAULT 0,
    timeout_ms INT NOT NULL DEFAULT 5000,
    doc_user VARCHAR(140) NULL,
    status ENUM('pending', 'sending', 'delivered', 'failed') CHARSET ascii NOT NULL DEFAULT 'pending',
    attempts INT NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6) NOT NULL,
    lease_until DATETIME(6) NULL,
    last_status INT NULL,
    last_error TEXT NULL,
    created_at DATETIME(6) NOT NULL,
    delivered_at DATETIME(6) NULL,
    source_trx BIGINT UNSIGNED NULL COMMENT 'the transaction whose commit fired it: its last outbox row''s id',
    KEY due (status, next_attempt_at),
    KEY by_webhook (webhook, status),
    KEY by_trx (source_trx)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='frappe_integrations: webhook events to send, sent and failed'//

-- by_trx, for a queue made by an earlier install: the worker commits the
-- fold of a large transaction in slices and, after a fold cut short, finds
-- the events it queued by it
CREATE INDEX IF NOT EXISTS by_trx ON @SITE@.`__fi_webhook_queue` (source_trx)//

-- The text of a string literal for a trigger body: Frappe's names never hold
-- a backslash (sync_webhooks skips any that does), so doubling the quote is
-- enough in every sql_mode.
CREATE OR REPLACE FUNCTION @SITE@.fi_wh_lit(s VARCHAR(140) CHARSET utf8mb4) RETURNS TEXT CHARSET utf8mb4
    DETERMINISTIC NO SQL SQL SECURITY INVOKER
RETURN CONCAT('''', REPLACE(s, '''', ''''''), '''')//

-- The body of one capture trigger: op I, U or D; parents NULL for the table
-- of a document, else the quoted DocTypes whose child rows it watches; cols
-- (a DELETE for an on_trash webhook) the JSON_OBJECT arguments of every
-- column of the row.  Those name columns a migration may drop or rename:
-- then the delete is still captured, without the row (error 1054 is
-- caught), until the next sync_webhooks writes the body again.
CREATE OR REPLACE FUNCTION @SITE@.fi_wh_body(doctype VARCHAR(140) CHARSET utf8mb4, op CHAR(1) CHARSET ascii,
                                              parents TEXT CHARSET utf8mb4, cols LONGTEXT CHARSET utf8mb4)
    RETURNS LONGTEXT CHARSET utf8mb4
    DETERMINISTIC NO SQL SQL SECURITY INVOKER
BEGIN
    -- (each expression here runs once per changed row: one read of the
    -- session switch, and no column written that would be NULL anyway)
    DECLARE r CHAR(3) CHARSET ascii DEFAULT IF(op = 'D', 'OLD', 'NEW');
    DECLARE cond TEXT CHARSET utf8mb4 DEFAULT 'COALESCE(@frappe_integrations_webhooks, '''') <> ''off''';
    DECLARE ins LONGTEXT CHARSET utf8mb4;
    DECLARE with_doc INT DEFAULT op = 'D' AND cols IS NOT NULL;
    IF parents IS NOT NULL THEN
        SET cond = CONCAT(cond, ' AND ', r, '.parenttype IN (', parents, ')');
    END IF;
    SET ins = CONCAT('INSERT INTO `__fi_webhook_outbox` (doctype, name, ',
        IF(op = 'U', 'old_name, ', ''), 'op, ', IF(op = 'I', '', 'docstatus_old, '), IF(op = 'D', '', 'docstatus_new, '),
        IF(parents IS NULL, '', 'parent, parenttype, parentfield, '), 'modified, connection_id, trx',
        IF(with_doc, ', doc', ''), ') VALUES (',
        @SITE@.fi_wh_lit(doctype), ', ', r, '.name, ',
        IF(op = 'U', 'IF(BINARY NEW.name = BINARY OLD.name, NULL, OLD.name), ', ''), '''', op, ''', ',
        IF(op = 'I', '', 'OLD.docstatus, '), IF(op = 'D', '', 'NEW.docstatus, '),
        IF(parents IS NULL, '', CONCAT(r, '.parent, ', r, '.parenttype, ', r, '.parentfield, ')),
        r, '.modified, CONNECTION_ID(), ',
        'IF(@@in_transaction, CONCAT(''g'', @@last_gtid), CONCAT(''s'', UNIX_TIMESTAMP(NOW(6))))');
    IF with_doc THEN
        RETURN CONCAT('IF ', cond, ' THEN BEGIN DECLARE CONTINUE HANDLER FOR 1054 ', ins, ', NULL); ',
                      ins, ', JSON_OBJECT(', cols, ')); END; END IF');
    END IF;
    RETURN CONCAT('IF ', cond, ' THEN ', ins, '); END IF');
END//

-- Run the DDL in @fi_wh_ddl (a trigger made or dropped) unless skip: up to
-- three tries, each waiting at most the session's lock_wait_timeout, with
-- 0.2 s and 0.4 s between.  locked: 1 when every try timed out (or skipped).
CREATE OR REPLACE PROCEDURE @SITE@.fi_wh_ddl(IN skip INT, OUT locked INT)
    MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE tries INT DEFAULT IF(skip, 3, 0);
    SET locked = 1;
    WHILE locked = 1 AND tries < 3 DO
        SET tries = tries + 1, locked = 0;
        BEGIN
            DECLARE CONTINUE HANDLER FOR 1205 SET locked = 1;
            PREPARE fi_wh_stmt FROM @fi_wh_ddl;
            EXECUTE fi_wh_stmt;
            DEALLOCATE PREPARE fi_wh_stmt;
        END;
        IF locked = 1 AND tries < 3 THEN
            DO SLEEP(0.2 * tries);
        END IF;
    END WHILE;
END//

-- integrations.sync_webhooks() on PostgreSQL: attach the capture triggers
-- the enabled rows of tabWebhook need, replace those whose body is not the
-- wanted one, drop the others.  A DocType with an enabled webhook (not a
-- child or single DocType, its table present) gets triggers __fi_wh_{i,u,d}_…
-- on its table; each of its Table / Table MultiSelect fields (DocField and
-- Custom Field) on the child's table, for the rows of the watched parents
-- only.  Each CREATE waits at most 1 s for the table (lock_wait_timeout),
-- three times, so a site is never stalled behind a long transaction; what
-- could not be changed is reported and done by the next call.  One row:
-- changed (triggers created, replaced or dropped), triggers (now attached),
-- waiting (the tables still to do, NULL when none), skipped (tables without
-- the columns a trigger names, NULL when none).  Like any DDL it commits the
-- caller's transaction.  The triggers belong to the caller (their definer).
CREATE OR REPLACE PROCEDURE @SITE@.sync_webhooks()
    MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE done INT DEFAULT 0;
    DECLARE t_tbl VARCHAR(64) CHARSET utf8mb4;
    DECLARE t_doctype VARCHAR(140) CHARSET utf8mb4;
    DECLARE t_parents TEXT CHARSET utf8mb4;
    DECLARE t_op CHAR(1) CHARSET ascii;
    DECLARE t_name VARCHAR(64) CHARSET utf8mb4;
    DECLARE t_body LONGTEXT CHARSET utf8mb4;
    DECLARE n_changed INT DEFAULT 0;
    DECLARE locked INT;
    DECLARE wait_tbl VARCHAR(64) CHARSET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL;
    DECLARE old_wait BIGINT DEFAULT @@session.lock_wait_timeout;
    DECLARE old_gcl BIGINT DEFAULT @@session.group_concat_max_len;
    DECLARE cur_want CURSOR FOR
        SELECT w.tbl, w.doctype, w.parents, o.op,
               CONCAT('__fi_wh_', LOWER(o.op), '_', LEFT(MD5(w.tbl), 16)),
               @SITE@.fi_wh_body(w.doctype, o.op, w.parents, w.cols)
          FROM fi_wh_want w
          JOIN (SELECT 'I' AS op UNION ALL SELECT 'U' UNION ALL SELECT 'D') o
          LEFT JOIN information_schema.TRIGGERS g
            ON g.TRIGGER_SCHEMA = DATABASE() AND BINARY g.EVENT_OBJECT_TABLE = BINARY w.tbl
           AND BINARY g.TRIGGER_NAME = BINARY CONCAT('__fi_wh_', LOWER(o.op), '_', LEFT(MD5(w.tbl), 16))
           AND g.ACTION_TIMING = 'AFTER'
           AND g.EVENT_MANIPULATION = ELT(FIELD(o.op, 'I', 'U', 'D'), 'INSERT', 'UPDATE', 'DELETE')
         WHERE w.ok = 1
           AND (g.ACTION_STATEMENT IS NULL
                OR BINARY g.ACTION_STATEMENT <> BINARY @SITE@.fi_wh_body(w.doctype, o.op, w.parents, w.cols))
         ORDER BY w.tbl, o.op;
    DECLARE cur_drop CURSOR FOR
        SELECT g.EVENT_OBJECT_TABLE, g.TRIGGER_NAME
          FROM information_schema.TRIGGERS g
         WHERE g.TRIGGER_SCHEMA = DATABASE() AND g.TRIGGER_NAME LIKE '\_\_fi\_wh\_%'
           AND NOT EXISTS (SELECT 1 FROM fi_wh_want w
                            WHERE w.ok = 1 AND BINARY w.tbl = BINARY g.EVENT_OBJECT_TABLE
                              AND BINARY g.TRIGGER_NAME IN (BINARY CONCAT('__fi_wh_i_', LEFT(MD5(w.tbl), 16)),
                                                     BINARY CONCAT('__fi_wh_u_', LEFT(MD5(w.tbl), 16)),
                                                     BINARY CONCAT('__fi_wh_d_', LEFT(MD5(w.tbl), 16))))
         ORDER BY 1, 2;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = 1;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        SET SESSION lock_wait_timeout = old_wait, group_concat_max_len = old_gcl;
        DROP TEMPORARY TABLE IF EXISTS fi_wh_want, fi_wh_parent;
        RESIGNAL;
    END;

    SET SESSION group_concat_max_len = GREATEST(old_gcl, 16777216);
    -- the tables wanted: each enabled webhook's DocType, then its child tables
    CREATE OR REPLACE TEMPORARY TABLE fi_wh_want (
        tbl VARCHAR(64) CHARSET utf8mb4 COLLATE utf8mb4_bin PRIMARY KEY,
        doctype VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
        parents TEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
        trash INT NOT NULL DEFAULT 0,
        cols LONGTEXT CHARSET utf8mb4 NULL,
        ok INT NOT NULL DEFAULT 1,
        waiting INT NOT NULL DEFAULT 0);
    INSERT INTO fi_wh_want (tbl, doctype, trash)
    SELECT CONCAT('tab', w.webhook_doctype), w.webhook_doctype, MAX(w.webhook_docevent = 'on_trash')
      FROM @SITE@.tabWebhook w
      JOIN information_schema.TABLES s
        ON s.TABLE_SCHEMA = DATABASE() AND BINARY s.TABLE_NAME = BINARY CONCAT('tab', w.webhook_doctype)
      LEFT JOIN @SITE@.tabDocType d ON d.name = w.webhook_doctype
     WHERE w.enabled = 1 AND w.webhook_doctype IS NOT NULL AND w.webhook_doctype <> ''
       AND COALESCE(d.istable, 0) = 0 AND COALESCE(d.issingle, 0) = 0
     GROUP BY w.webhook_doctype;
    -- (MariaDB reads a temporary table once per statement: a copy of the parents)
    CREATE OR REPLACE TEMPORARY TABLE fi_wh_parent (doctype VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci PRIMARY KEY,
                                                    trash INT NOT NULL)
        SELECT doctype, trash FROM fi_wh_want;
    INSERT INTO fi_wh_want (tbl, doctype, parents, trash)
    SELECT CONCAT('tab', f.child), f.child,
           GROUP_CONCAT(DISTINCT @SITE@.fi_wh_lit(f.parent) ORDER BY f.parent SEPARATOR ', '), MAX(p.trash)
      FROM (SELECT df.parent, df.options AS child FROM @SITE@.tabDocField df
             WHERE df.fieldtype IN ('Table', 'Table MultiSelect')
            UNION
            SELECT cf.dt, cf.options FROM @SITE@.`tabCustom Field` cf
             WHERE cf.fieldtype IN ('Table', 'Table MultiSelect')) f
      JOIN fi_wh_parent p ON p.doctype = f.parent
      JOIN information_schema.TABLES s
        ON s.TABLE_SCHEMA = DATABASE() AND BINARY s.TABLE_NAME = BINARY CONCAT('tab', f.child)
     WHERE f.child IS NOT NULL AND f.child <> ''
     GROUP BY f.child
    ON DUPLICATE KEY UPDATE ok = ok;
    -- a table without the columns its trigger names is left alone (and
    -- reported), as is a name the body's literals cannot hold
    UPDATE fi_wh_want w SET w.ok = 0
     WHERE LOCATE(CHAR(92), w.doctype) > 0 OR LOCATE(CHAR(92), COALESCE(w.parents, '')) > 0
        OR (SELECT COUNT(*) FROM information_schema.COLUMNS c
             WHERE c.TABLE_SCHEMA = DATABASE() AND BINARY c.TABLE_NAME = BINARY w.tbl
               AND c.COLUMN_NAME IN ('name', 'docstatus', 'modified', 'parent', 'parenttype', 'parentfield'))
           < IF(w.parents IS NULL, 3, 6);
    -- the columns an on_trash delete keeps, in the table's order
    UPDATE fi_wh_want w
       SET w.cols = (SELECT GROUP_CONCAT(CONCAT(@SITE@.fi_wh_lit(c.COLUMN_NAME), ', OLD.`',
                                                REPLACE(c.COLUMN_NAME, '`', '``'), '`')
                                         ORDER BY c.ORDINAL_POSITION SEPARATOR ', ')
                       FROM information_schema.COLUMNS c
                      WHERE c.TABLE_SCHEMA = DATABASE() AND BINARY c.TABLE_NAME = BINARY w.tbl
                        AND LOCATE(CHAR(92), c.COLUMN_NAME) = 0)
     WHERE w.trash = 1 AND w.ok = 1;

    SET SESSION lock_wait_timeout = 1;
    OPEN cur_want;
    want_loop: LOOP
        SET done = 0;
        FETCH cur_want INTO t_tbl, t_doctype, t_parents, t_op, t_name, t_body;
        IF done = 1 THEN
            LEAVE want_loop;
        END IF;
        SET @fi_wh_ddl = CONCAT('CREATE OR REPLACE TRIGGER `', t_name, '` AFTER ',
                                ELT(FIELD(t_op, 'I', 'U', 'D'), 'INSERT', 'UPDATE', 'DELETE'),
                                ' ON `', REPLACE(t_tbl, '`', '``'), '` FOR EACH ROW ', t_body);
        -- (a table that made us wait once is left for the next call)
        CALL @SITE@.fi_wh_ddl(BINARY t_tbl = BINARY wait_tbl, locked);
        IF locked = 1 THEN
            SET wait_tbl = t_tbl;
            UPDATE fi_wh_want SET waiting = 1 WHERE tbl = t_tbl;
        ELSE
            SET n_changed = n_changed + 1;
        END IF;
    END LOOP;
    CLOSE cur_want;

    OPEN cur_drop;
    drop_loop: LOOP
        SET done = 0;
        FETCH cur_drop INTO t_tbl, t_name;
        IF done = 1 THEN
            LEAVE drop_loop;
        END IF;
        SET @fi_wh_ddl = CONCAT('DROP TRIGGER IF EXISTS `', REPLACE(t_name, '`', '``'), '`');
        -- (a table that made us wait once is left for the next call)
        CALL @SITE@.fi_wh_ddl(BINARY t_tbl = BINARY wait_tbl, locked);
        IF locked = 1 THEN
            SET wait_tbl = t_tbl;
            INSERT INTO fi_wh_want (tbl, doctype, ok, waiting) VALUES (t_tbl, '', 0, 1)
                ON DUPLICATE KEY UPDATE waiting = 1;
        ELSE
            SET n_changed = n_changed + 1;
        END IF;
    END LOOP;
    CLOSE cur_drop;
    SET SESSION lock_wait_timeout = old_wait, group_concat_max_len = old_gcl;

    SELECT GROUP_CONCAT(IF(waiting = 1, tbl, NULL) ORDER BY tbl SEPARATOR ', '),
           GROUP_CONCAT(IF(ok = 0 AND waiting = 0, tbl, NULL) ORDER BY tbl SEPARATOR ', ')
      INTO t_body, t_parents FROM fi_wh_want;
    SELECT n_changed AS changed,
           (SELECT COUNT(*) FROM information_schema.TRIGGERS g
             WHERE g.TRIGGER_SCHEMA = DATABASE() AND g.TRIGGER_NAME LIKE '\_\_fi\_wh\_%') AS triggers,
           t_body AS waiting, t_parents AS skipped;
    DROP TEMPORARY TABLE IF EXISTS fi_wh_want, fi_wh_parent;
END//

-- PostgreSQL's integrations.webhook_status, per site: each webhook, whether
-- the worker can use it and why not, its queue (pending includes events
-- being sent), and the last success and error.  MariaDB has no interval
-- type: oldest_pending_age_s is seconds; times are UTC.
CREATE OR REPLACE SQL SECURITY INVOKER VIEW @SITE@.webhook_status AS
SELECT w.name AS webhook,
       w.webhook_doctype AS doctype,
       w.webhook_docevent AS docevent,
       w.enabled,
       p.problem IS NULL AS usable,
       p.problem,
       COALESCE(q.pending, 0) AS pending,
       COALESCE(q.failed, 0) AS failed,
       TIMESTAMPDIFF(SECOND, q.oldest_pending, UTC_TIMESTAMP(6)) AS oldest_pending_age_s,
       q.last_success,
       (SELECT e.last_error FROM @SITE@.`__fi_webhook_queue` e
         WHERE e.webhook = w.name AND e.last_error IS NOT NULL ORDER BY e.id DESC LIMIT 1) AS last_error
  FROM @SITE@.tabWebhook w
  LEFT JOIN (SELECT x.name,
                    CASE
                      WHEN COALESCE(x.webhook_docevent, '') NOT IN ('after_insert', 'on_update', 'on_submit', 'on_cancel',
                                                                     'on_trash', 'on_update_after_submit', 'on_change')
                        THEN 'unknown docevent'
                      WHEN NOT EXISTS (SELECT 1 FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = DATABASE()
                                          AND BINARY t.TABLE_NAME = BINARY CONCAT('tab', x.webhook_doctype))
                        THEN CONCAT('DocType "', COALESCE(x.webhook_doctype, ''), '" has no table')
                      WHEN COALESCE(x.is_dynamic_url, 0) = 0 AND COALESCE(x.request_url, '') NOT REGEXP '^https?://[^/?#]+'
                        THEN 'request_url is not an http(s) URL with a host'
                    END AS problem
               FROM @SITE@.tabWebhook x) p ON p.name = w.name
  LEFT JOIN (SELECT webhook,
                    SUM(status IN ('pending', 'sending')) AS pending,
                    SUM(status = 'failed') AS failed,
                    MIN(IF(status IN ('pending', 'sending'), created_at, NULL)) AS oldest_pending,
                    MAX(delivered_at) AS last_success
               FROM @SITE@.`__fi_webhook_queue` GROUP BY webhook) q ON q.webhook = w.name//

-- PostgreSQL's integrations.retry_webhook_events: failed events (of one
-- webhook, created since a time, or all) due again at once, attempts from
-- zero; returns how many.  The worker sees them within a second.
CREATE OR REPLACE FUNCTION @SITE@.retry_webhook_events(webhook VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                        since DATETIME(6))
    RETURNS BIGINT
    MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    UPDATE @SITE@.`__fi_webhook_queue` q
       SET q.status = 'pending', q.attempts = 0, q.next_attempt_at = UTC_TIMESTAMP(6),
           q.lease_until = NULL, q.last_error = NULL
     WHERE q.status = 'failed' AND q.url IS NOT NULL
       AND (webhook IS NULL OR q.webhook = webhook)
       AND (since IS NULL OR q.created_at >= since);
    RETURN ROW_COUNT();
END//

DELIMITER ;
