-- frappe_integrations on MariaDB: a site's own functions (issue 18, part 1).
-- `frappe-integrations install --site <db> --site-user <user> --key-file <site_config.json>`
-- writes the key into integrations.site_keys and runs this file with @SITE@
-- replaced by the site's database name (as a quoted identifier) and
-- @SITE_LIT@ by it as a string literal.  They run as their definer (the
-- installing account), read the key for this database only, and answer only
-- the site's own database user: another site's user gets 42501.
DELIMITER //

CREATE OR REPLACE FUNCTION @SITE@.fi_site_key() RETURNS VARCHAR(64) CHARSET ascii
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE k VARCHAR(64) DEFAULT NULL;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET k = NULL;
    SELECT fernet_key INTO k FROM integrations.site_keys
     WHERE site = @SITE_LIT@ AND site_user = SUBSTRING_INDEX(USER(), '@', 1);
    IF k IS NULL THEN
        SIGNAL SQLSTATE '42501' SET MESSAGE_TEXT = 'permission denied: only the site''s own database user reads its passwords';
    END IF;
    RETURN k;
END//

-- Frappe's get_decrypted_password: the __Auth row (encrypted = 1), decrypted
CREATE OR REPLACE FUNCTION @SITE@.get_password(doctype VARCHAR(140) CHARSET utf8mb4, name VARCHAR(255) CHARSET utf8mb4,
                                               fieldname VARCHAR(140) CHARSET utf8mb4)
    RETURNS LONGTEXT CHARSET utf8mb4
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE k VARCHAR(64) DEFAULT @SITE@.fi_site_key();
    DECLARE tok TEXT DEFAULT NULL;
    DECLARE r LONGBLOB;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET tok = NULL;
    SELECT a.password INTO tok FROM @SITE@.`__Auth` a
     WHERE a.doctype = doctype COLLATE utf8mb4_unicode_ci AND a.name = name COLLATE utf8mb4_unicode_ci
       AND a.fieldname = COALESCE(fieldname, 'password') COLLATE utf8mb4_unicode_ci AND a.encrypted = 1
     LIMIT 1;
    IF tok IS NULL THEN
        SIGNAL SQLSTATE 'P0002' SET MESSAGE_TEXT = 'Password not found (no encrypted row in __Auth for this document and field)';
    END IF;
    SET r = fi_udf_fernet_decrypt(k, tok);
    IF r IS NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN CONVERT(r USING utf8mb4);
END//

-- Frappe's _save_passwords for one Password field: the Fernet token upserted
-- into __Auth (encrypted = 1); an empty or NULL value deletes the row.  (The
-- document's column is masked by Frappe's own save; here only __Auth.)
CREATE OR REPLACE PROCEDURE @SITE@.set_password(IN doctype VARCHAR(140) CHARSET utf8mb4, IN name VARCHAR(255) CHARSET utf8mb4,
                                                IN fieldname VARCHAR(140) CHARSET utf8mb4, IN value LONGTEXT CHARSET utf8mb4)
    MODIFIES SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE k VARCHAR(64) DEFAULT @SITE@.fi_site_key();
    DECLARE tok LONGBLOB;
    IF value IS NULL OR value = '' THEN
        DELETE FROM @SITE@.`__Auth` WHERE `__Auth`.doctype = doctype COLLATE utf8mb4_unicode_ci
           AND `__Auth`.name = name COLLATE utf8mb4_unicode_ci AND `__Auth`.fieldname = fieldname COLLATE utf8mb4_unicode_ci;
    ELSE
        SET tok = fi_udf_fernet_encrypt(k, value);
        IF tok IS NULL THEN
            CALL integrations.raise_last_error();
        END IF;
        INSERT INTO @SITE@.`__Auth` (doctype, name, fieldname, password, encrypted)
        VALUES (doctype, name, fieldname, CONVERT(tok USING utf8mb4), 1)
        ON DUPLICATE KEY UPDATE password = VALUES(password), encrypted = 1;
    END IF;
END//

-- ---- token validation (issue 20, point 3): Frappe's validate_auth ----

-- integrations.validate_bearer_token on PostgreSQL (required scopes there a
-- text[], here one blank-separated list, NULL or '' for none): the token's
-- user when Frappe would accept it, else NULL.  The row by its name
-- (exactly: bytes and case), not Revoked, expiring after the site's now
-- (System Settings' time_zone; the server's clock when the server's time
-- zone tables do not know it), its client's row present, the user enabled,
-- every scope of the token the client's and every required one the token's.
-- One statement: a stored function pays for each statement it runs.
CREATE OR REPLACE FUNCTION @SITE@.validate_bearer_token(token LONGTEXT CHARSET utf8mb4,
                                                        required_scopes TEXT CHARSET utf8mb4)
    RETURNS VARCHAR(140) CHARSET utf8mb4
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY INVOKER
RETURN (SELECT t.`user`
          FROM @SITE@.`tabOAuth Bearer Token` t
          JOIN @SITE@.`tabOAuth Client` c ON c.name = t.client
          JOIN @SITE@.tabUser u ON u.name = t.`user`
         WHERE t.name = token COLLATE utf8mb4_unicode_ci
           AND CAST(t.name AS BINARY) = CAST(token AS BINARY)
           AND COALESCE(t.status, '') <> 'Revoked'
           AND t.expiration_time > COALESCE((SELECT CONVERT_TZ(UTC_TIMESTAMP(6), '+00:00', z.value)
                                               FROM @SITE@.tabSingles z
                                              WHERE z.doctype = 'System Settings' AND z.field = 'time_zone'
                                              LIMIT 1),
                                            NOW(6))
           AND u.enabled = 1
           AND fi_udf_bearer_scopes_ok(t.scopes, c.scopes, required_scopes) = 1
         LIMIT 1)//

-- The user of an API key and secret (Frappe's validate_api_key_secret), or
-- NULL: the secret of __Auth decrypted with the site's key and compared in
-- constant time (also when the key is unknown), a disabled user refused.
-- Only User is a source here: a stored function cannot name a table from
-- data (PostgreSQL takes any DocType with api_key, api_secret and user).
CREATE OR REPLACE FUNCTION @SITE@.validate_api_key(api_key LONGTEXT CHARSET utf8mb4,
                                                   api_secret LONGTEXT CHARSET utf8mb4,
                                                   source_doctype VARCHAR(140) CHARSET utf8mb4)
    RETURNS VARCHAR(140) CHARSET utf8mb4
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE k VARCHAR(64) DEFAULT @SITE@.fi_site_key();
    DECLARE u VARCHAR(140) CHARSET utf8mb4 DEFAULT NULL;
    DECLARE en INT DEFAULT 0;
    DECLARE tok TEXT CHARSET utf8mb4 DEFAULT NULL;
    DECLARE ok INT;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET u = NULL;
    IF COALESCE(source_doctype, 'User') <> 'User' THEN
        SIGNAL SQLSTATE '0A000' SET MESSAGE_TEXT = 'on MariaDB only User authenticates requests (source_doctype must be User or NULL)';
    END IF;
    IF api_key IS NULL OR api_secret IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT us.name, us.enabled, a.password INTO u, en, tok
      FROM @SITE@.tabUser us
      LEFT JOIN @SITE@.`__Auth` a
        ON a.doctype = 'User' AND a.name = us.name AND a.fieldname = 'api_secret' AND a.encrypted = 1
     WHERE us.api_key = api_key COLLATE utf8mb4_unicode_ci
       AND CAST(us.api_key AS BINARY) = CAST(api_key AS BINARY)
     LIMIT 1;
    SET ok = fi_udf_fernet_equal(k, tok, api_secret);
    IF ok IS NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    IF ok = 1 AND u IS NOT NULL AND en = 1 THEN
        RETURN u;
    END IF;
    RETURN NULL;
END//

-- Frappe's check_password: the user's passlib hash (__Auth, encrypted = 0,
-- pbkdf2_sha256 or argon2) verified; a user without one costs a
-- verification too.  NULL arguments: FALSE.
CREATE OR REPLACE FUNCTION @SITE@.check_password(user_name LONGTEXT CHARSET utf8mb4, password LONGTEXT CHARSET utf8mb4)
    RETURNS BOOLEAN
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE k VARCHAR(64) DEFAULT @SITE@.fi_site_key();
    DECLARE h TEXT CHARSET utf8mb4 DEFAULT NULL;
    DECLARE r INT;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET h = NULL;
    IF user_name IS NULL OR password IS NULL THEN
        RETURN FALSE;
    END IF;
    SELECT a.password INTO h FROM @SITE@.`__Auth` a
     WHERE a.doctype = 'User' AND a.name = user_name COLLATE utf8mb4_unicode_ci
       AND a.fieldname = 'password' AND a.encrypted = 0
     LIMIT 1;
    SET r = fi_udf_passlib_verify(password,
                                  COALESCE(h, '$pbkdf2-sha256$29000$N2ZPqVVqjXEuBaCUUipFqA$vJpWkBlwM7bdb5m3NnO8yR3cD0l9P5y3Gx2mH1bYv0o'));
    IF r IS NULL THEN
        SIGNAL SQLSTATE 'XX001' SET MESSAGE_TEXT = 'the stored password hash of this user is not one Frappe writes';
    END IF;
    RETURN r = 1 AND h IS NOT NULL;
END//

-- integrations.authenticate on PostgreSQL (a row there, a JSON object here:
-- {"user_name": ..., "method": "token" | "basic" | "bearer", "scopes": [...]}).
-- A header that is not "<scheme> <credentials>", or Basic credentials that
-- are not base64 of UTF-8: 22023.  Any refusal: 28000, one message.
CREATE OR REPLACE FUNCTION @SITE@.authenticate(authorization LONGTEXT CHARSET utf8mb4,
                                               source_doctype VARCHAR(140) CHARSET utf8mb4)
    RETURNS LONGTEXT CHARSET utf8mb4
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE k VARCHAR(64) DEFAULT @SITE@.fi_site_key();
    DECLARE kind VARCHAR(16) CHARSET ascii DEFAULT CONVERT(fi_udf_auth_header(authorization, 'kind') USING ascii);
    DECLARE u VARCHAR(140) CHARSET utf8mb4 DEFAULT NULL;
    DECLARE s TEXT CHARSET utf8mb4 DEFAULT '';
    DECLARE tok LONGTEXT CHARSET utf8mb4;
    IF authorization IS NULL OR kind = 'malformed' THEN
        SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = 'malformed Authorization header (expected "<scheme> <credentials>": token, Basic or Bearer)';
    ELSEIF kind = 'bad_base64' THEN
        SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = 'Failed to decode token, please provide a valid base64-encoded token.';
    ELSEIF kind = 'bearer' THEN
        SET tok = CONVERT(fi_udf_auth_header(authorization, 'token') USING utf8mb4),
            u = @SITE@.validate_bearer_token(tok, NULL);
        IF u IS NOT NULL THEN
            SELECT COALESCE(t.scopes, '') INTO s FROM @SITE@.`tabOAuth Bearer Token` t
             WHERE t.name = tok COLLATE utf8mb4_unicode_ci AND CAST(t.name AS BINARY) = CAST(tok AS BINARY);
        END IF;
    ELSEIF kind = 'key' THEN
        SET u = @SITE@.validate_api_key(CONVERT(fi_udf_auth_header(authorization, 'key') USING utf8mb4),
                                        CONVERT(fi_udf_auth_header(authorization, 'secret') USING utf8mb4),
                                        source_doctype),
            s = '';
    END IF;
    IF u IS NULL THEN
        SIGNAL SQLSTATE '28000' SET MESSAGE_TEXT = 'authentication failed';
    END IF;
    RETURN JSON_OBJECT('user_name', u,
                       'method', CONVERT(fi_udf_auth_header(authorization, 'method') USING utf8mb4),
                       'scopes', JSON_QUERY(CONVERT(fi_udf_scopes_json(s) USING utf8mb4), '$'));
END//

-- Frappe's generate_keys: a new 15-hex api_secret (returned, stored in
-- __Auth as a Password field), an api_key when the user has none.
CREATE OR REPLACE FUNCTION @SITE@.generate_keys(user_name LONGTEXT CHARSET utf8mb4)
    RETURNS VARCHAR(15) CHARSET ascii
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE k VARCHAR(64) DEFAULT @SITE@.fi_site_key();
    DECLARE secret VARCHAR(15) CHARSET ascii DEFAULT integrations.generate_hash(15);
    DECLARE found_user VARCHAR(140) CHARSET utf8mb4 DEFAULT NULL;
    DECLARE msg VARCHAR(300) CHARSET utf8mb4;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET found_user = NULL;
    SELECT us.name INTO found_user FROM @SITE@.tabUser us
     WHERE us.name = user_name COLLATE utf8mb4_unicode_ci LIMIT 1 FOR UPDATE;
    IF found_user IS NULL THEN
        SET msg = CONCAT('User ', LEFT(COALESCE(user_name, 'NULL'), 200), ' not found');
        SIGNAL SQLSTATE 'P0002' SET MESSAGE_TEXT = msg;
    END IF;
    UPDATE @SITE@.tabUser us SET us.api_key = COALESCE(NULLIF(us.api_key, ''), integrations.generate_hash(15))
     WHERE us.name = found_user COLLATE utf8mb4_unicode_ci;
    CALL @SITE@.set_password('User', found_user, 'api_secret', secret);
    RETURN secret;
END//


-- A tabIntegration Request row as Frappe's create_request_log writes it,
-- from the "log" object of fi_udf_http_request's answer (a: the answer),
-- with status and request_description; returns its name, NULL when the
-- site has no such table.
CREATE OR REPLACE FUNCTION @SITE@.fi_http_log_row(ir VARCHAR(140) CHARSET utf8mb4, a LONGTEXT CHARSET utf8mb4,
                                                  st VARCHAR(140) CHARSET utf8mb4, descr LONGTEXT CHARSET utf8mb4)
    RETURNS VARCHAR(140) CHARSET utf8mb4
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE n DATETIME(6);
    IF NOT EXISTS (SELECT 1 FROM information_schema.TABLES
                    WHERE TABLE_SCHEMA = @SITE_LIT@ AND TABLE_NAME = 'tabIntegration Request') THEN
        RETURN NULL;
    END IF;
    SET n = COALESCE((SELECT CONVERT_TZ(UTC_TIMESTAMP(6), '+00:00', z.value) FROM @SITE@.tabSingles z
                       WHERE z.doctype = 'System Settings' AND z.field = 'time_zone' LIMIT 1), NOW(6));
    INSERT INTO @SITE@.`tabIntegration Request`
           (name, creation, modified, owner, modified_by, docstatus, idx, integration_request_service,
            status, url, request_headers, data, output, error, is_remote_request, request_description)
    VALUES (ir, n, n, 'Administrator', 'Administrator', 0, 0, JSON_VALUE(a, '$.log.service'), st,
            JSON_VALUE(a, '$.log.url'), JSON_VALUE(a, '$.log.request_headers'), JSON_VALUE(a, '$.log.data'),
            JSON_VALUE(a, '$.log.output'), JSON_VALUE(a, '$.log.error'), 0, descr);
    RETURN ir;
END//

-- One HTTP request from SQL (PostgreSQL's integrations.http_request, whose
-- rows come here as one JSON object): {"body": text, "status": int,
-- "headers": {lower-case name: value}}.  The checks, limits and messages
-- of engine/httpreq.c (http and https only, also when redirected; TLS
-- verified against the system's CAs or integrations.http_settings'
-- ca_bundle; its max_redirects (5) and max_response_kb (10 MB);
-- timeout_ms NULL: 30 s, at most 10 min).  The connection's thread waits
-- for the answer and never longer than timeout_ms: a KILL takes effect
-- when the request has ended.  Only the site's own database user may call
-- it (the server's HTTP gate is read here, as its definer, and passed to
-- the UDF).  With SET @frappe_integrations_http_log = 1 each answered
-- request also writes a tabIntegration Request row as the PostgreSQL
-- build's http_log does, in the caller's transaction.
CREATE OR REPLACE FUNCTION @SITE@.fi_http(method LONGTEXT CHARSET utf8mb4, url LONGTEXT CHARSET utf8mb4,
                                          headers LONGTEXT CHARSET utf8mb4, body LONGBLOB, timeout_ms INT,
                                          as_bytes INT)
    RETURNS LONGTEXT CHARSET utf8mb4
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE g CHAR(64) CHARSET ascii DEFAULT NULL;
    -- (compared as text: mixed with numbers, 'on' would read as 0 and 0 as on)
    DECLARE lg INT DEFAULT IF(LOWER(CAST(COALESCE(@frappe_integrations_http_log, '') AS CHAR)) IN ('1', 'on', 'true'), 1, 0);
    DECLARE r LONGBLOB;
    DECLARE a LONGTEXT CHARSET utf8mb4;
    DECLARE cab VARCHAR(4096) CHARSET utf8mb4 DEFAULT NULL;
    DECLARE mr INT DEFAULT 5;
    DECLARE mx INT DEFAULT 10240;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET g = NULL;
    SELECT hg.secret, hs.ca_bundle, COALESCE(hs.max_redirects, 5), COALESCE(hs.max_response_kb, 10240)
      INTO g, cab, mr, mx
      FROM integrations.http_gate hg JOIN integrations.site_keys sk
        ON sk.site = @SITE_LIT@ AND sk.site_user = SUBSTRING_INDEX(USER(), '@', 1)
      LEFT JOIN integrations.http_settings hs ON hs.id = 1
     WHERE hg.id = 1;
    IF g IS NULL THEN
        SIGNAL SQLSTATE '42501' SET MESSAGE_TEXT = 'permission denied: only the site''s own database user sends HTTP requests from SQL';
    END IF;
    SET r = fi_udf_http_request(g, method, url, headers, body, timeout_ms, mr, mx * 1024, as_bytes, lg, NULLIF(cab, ''));
    SET g = NULL;
    IF r IS NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    SET a = CONVERT(r USING utf8mb4);
    IF lg = 1 THEN
        DO @SITE@.fi_http_log_row(integrations.random_name(), a, JSON_VALUE(a, '$.log.status'),
                                  JSON_VALUE(a, '$.log.description'));
        SET a = JSON_REMOVE(a, '$.log');
    END IF;
    RETURN a;
END//

CREATE OR REPLACE FUNCTION @SITE@.http_request(method LONGTEXT CHARSET utf8mb4, url LONGTEXT CHARSET utf8mb4,
                                               headers LONGTEXT CHARSET utf8mb4, body LONGBLOB, timeout_ms INT)
    RETURNS LONGTEXT CHARSET utf8mb4
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
RETURN @SITE@.fi_http(method, url, headers, body, timeout_ms, 0)//

-- the same with the answer's body as base64 (FROM_BASE64 gives its bytes)
CREATE OR REPLACE FUNCTION @SITE@.http_request_bytes(method LONGTEXT CHARSET utf8mb4, url LONGTEXT CHARSET utf8mb4,
                                                     headers LONGTEXT CHARSET utf8mb4, body LONGBLOB, timeout_ms INT)
    RETURNS LONGTEXT CHARSET utf8mb4
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
RETURN @SITE@.fi_http(method, url, headers, body, timeout_ms, 1)//


-- Frappe's make_get_request … make_delete_request (PostgreSQL's http_get …
-- http_delete): an HTTP status of 400 or more raises 08006 ("HTTP 404
-- Client Error", raise_for_status); the answer by its Content-Type:
-- application/…json parsed, exactly "text/plain; charset=utf-8" as
-- parse_qs's object of lists, other text as a JSON string, none: NULL
-- (engine/httpreq.c's rule).  JSON text as PostgreSQL's jsonb prints it.
CREATE OR REPLACE FUNCTION @SITE@.http_get(url LONGTEXT CHARSET utf8mb4, headers LONGTEXT CHARSET utf8mb4, timeout_ms INT)
    RETURNS LONGTEXT CHARSET utf8mb4
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
RETURN JSON_EXTRACT(@SITE@.fi_http('GET', url, headers, NULL, timeout_ms, 2), '$.result')//

CREATE OR REPLACE FUNCTION @SITE@.http_post(url LONGTEXT CHARSET utf8mb4, body LONGBLOB, headers LONGTEXT CHARSET utf8mb4,
                                            timeout_ms INT)
    RETURNS LONGTEXT CHARSET utf8mb4
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
RETURN JSON_EXTRACT(@SITE@.fi_http('POST', url, headers, body, timeout_ms, 2), '$.result')//

CREATE OR REPLACE FUNCTION @SITE@.http_put(url LONGTEXT CHARSET utf8mb4, body LONGBLOB, headers LONGTEXT CHARSET utf8mb4,
                                           timeout_ms INT)
    RETURNS LONGTEXT CHARSET utf8mb4
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
RETURN JSON_EXTRACT(@SITE@.fi_http('PUT', url, headers, body, timeout_ms, 2), '$.result')//

CREATE OR REPLACE FUNCTION @SITE@.http_patch(url LONGTEXT CHARSET utf8mb4, body LONGBLOB, headers LONGTEXT CHARSET utf8mb4,
                                             timeout_ms INT)
    RETURNS LONGTEXT CHARSET utf8mb4
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
RETURN JSON_EXTRACT(@SITE@.fi_http('PATCH', url, headers, body, timeout_ms, 2), '$.result')//

CREATE OR REPLACE FUNCTION @SITE@.http_delete(url LONGTEXT CHARSET utf8mb4, headers LONGTEXT CHARSET utf8mb4, timeout_ms INT)
    RETURNS LONGTEXT CHARSET utf8mb4
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
RETURN JSON_EXTRACT(@SITE@.fi_http('DELETE', url, headers, NULL, timeout_ms, 2), '$.result')//


-- ---- http_request_async: the request queued, sent by the worker ----
--
-- PostgreSQL's integrations.http_queue, one per site (the worker serves a
-- site on the site's own connection): http_request_async checks a request
-- as http_request does and writes a row here in the caller's transaction;
-- once it commits, `frappe-integrations worker` sends it (one attempt: a
-- request from SQL need not be idempotent) and writes the response into the
-- same row.  status: pending, sending (claimed, lease_until: sent again if
-- the worker stopped, three sends at most), done (a response came, whatever
-- its HTTP status) or failed (none came: error says why).  Times are UTC.
-- Finished rows are deleted by the worker --http-retention (a day) after
-- finished_at.
CREATE TABLE IF NOT EXISTS @SITE@.`__fi_http_queue` (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    method VARCHAR(7) CHARSET ascii NOT NULL,
    url TEXT NOT NULL,
    headers LONGTEXT NOT NULL DEFAULT '{}' COMMENT 'a JSON object of strings, as given',
    body LONGBLOB NULL,
    timeout_ms INT NOT NULL,
    max_redirects INT NOT NULL DEFAULT 5,
    max_response BIGINT NOT NULL COMMENT 'bytes of response body at most (64 MB at most)',
    status ENUM('pending', 'sending', 'done', 'failed') CHARSET ascii NOT NULL DEFAULT 'pending',
    attempts INT NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6) NOT NULL,
    lease_until DATETIME(6) NULL,
    response_status INT NULL,
    response_headers LONGTEXT NULL COMMENT 'lower-case names, a repeated one joined with ", "',
    response_body LONGBLOB NULL,
    error TEXT NULL,
    integration_request VARCHAR(140) NULL COMMENT 'the Queued tabIntegration Request the worker completes',
    requested_by VARCHAR(400) NOT NULL COMMENT 'USER() of the caller',
    created_at DATETIME(6) NOT NULL,
    finished_at DATETIME(6) NULL,
    KEY due (status, next_attempt_at),
    KEY finished (finished_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='frappe_integrations: requests of http_request_async and their responses'//

-- Only the site's own database user writes the queues of the worker
-- (__fi_http_queue, __fi_jobs: their functions as its caller, the worker on
-- the site's connection): another account granted INSERT or UPDATE on the
-- site's tables cannot queue a request around the HTTP gate, nor a job,
-- nor change one.  (what: what the refused account tried, for the message)
CREATE OR REPLACE PROCEDURE @SITE@.fi_site_writer(what VARCHAR(200) CHARSET utf8mb4)
    READS SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE msg VARCHAR(300) CHARSET utf8mb4;
    IF NOT EXISTS (SELECT 1 FROM integrations.site_keys sk
                    WHERE sk.site = @SITE_LIT@ AND sk.site_user = SUBSTRING_INDEX(USER(), '@', 1)) THEN
        SET msg = CONCAT('permission denied: only the site''s own database user ', what);
        SIGNAL SQLSTATE '42501' SET MESSAGE_TEXT = msg;
    END IF;
END//
CREATE OR REPLACE TRIGGER @SITE@.`__fi_http_queue_insert` BEFORE INSERT ON @SITE@.`__fi_http_queue`
FOR EACH ROW CALL @SITE@.fi_site_writer('queues HTTP requests (http_request_async)')//
CREATE OR REPLACE TRIGGER @SITE@.`__fi_http_queue_update` BEFORE UPDATE ON @SITE@.`__fi_http_queue`
FOR EACH ROW CALL @SITE@.fi_site_writer('queues HTTP requests (http_request_async)')//
-- (0.10.0's writer procedure, replaced by fi_site_writer once the triggers call it)
DROP PROCEDURE IF EXISTS @SITE@.fi_http_queue_writer//

-- PostgreSQL's http_request_async(method, url, headers, body, timeout_ms):
-- the request checked exactly as http_request checks it (the same
-- refusals, nothing queued) and queued under the server's limits
-- (integrations.http_settings' max_redirects and max_response_kb, 64 MB at
-- most; timeout_ms NULL: 30 s); returns the row's id.  Nothing is sent
-- before the caller's transaction commits, nothing ever if it rolls back.
-- With SET @frappe_integrations_http_log = 1 a Queued tabIntegration Request
-- row is written with it ("<METHOD> (queued)") and completed by the worker.
CREATE OR REPLACE FUNCTION @SITE@.http_request_async(method LONGTEXT CHARSET utf8mb4, url LONGTEXT CHARSET utf8mb4,
                                                     headers LONGTEXT CHARSET utf8mb4, body LONGBLOB, timeout_ms INT)
    RETURNS BIGINT UNSIGNED
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE g CHAR(64) CHARSET ascii DEFAULT NULL;
    DECLARE lg INT DEFAULT IF(LOWER(CAST(COALESCE(@frappe_integrations_http_log, '') AS CHAR)) IN ('1', 'on', 'true'), 1, 0);
    DECLARE r LONGBLOB;
    DECLARE a LONGTEXT CHARSET utf8mb4;
    DECLARE ir VARCHAR(140) CHARSET utf8mb4 DEFAULT NULL;
    DECLARE t INT DEFAULT COALESCE(timeout_ms, 30000);
    DECLARE mr INT DEFAULT 5;
    DECLARE mx INT DEFAULT 10240;
    DECLARE cab VARCHAR(4096) CHARSET utf8mb4 DEFAULT NULL;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET g = NULL;
    -- (the gate is read here and in fi_http, not in a routine of its own: one
    -- handing it to its caller would let the site's SQL read it)
    SELECT hg.secret, hs.ca_bundle, COALESCE(hs.max_redirects, 5), COALESCE(hs.max_response_kb, 10240)
      INTO g, cab, mr, mx
      FROM integrations.http_gate hg JOIN integrations.site_keys sk
        ON sk.site = @SITE_LIT@ AND sk.site_user = SUBSTRING_INDEX(USER(), '@', 1)
      LEFT JOIN integrations.http_settings hs ON hs.id = 1
     WHERE hg.id = 1;
    IF g IS NULL THEN
        SIGNAL SQLSTATE '42501' SET MESSAGE_TEXT = 'permission denied: only the site''s own database user sends HTTP requests from SQL';
    END IF;
    -- (mode 3: the checks of a request, nothing sent)
    SET r = fi_udf_http_request(g, method, url, headers, body, t, mr, 1048576, 3, lg, NULL);
    SET g = NULL;
    IF r IS NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    SET a = CONVERT(r USING utf8mb4);
    IF lg = 1 THEN
        SET ir = @SITE@.fi_http_log_row(integrations.random_name(), a, 'Queued', CONCAT(JSON_VALUE(a, '$.method'), ' (queued)'));
    END IF;
    INSERT INTO @SITE@.`__fi_http_queue`
           (method, url, headers, body, timeout_ms, max_redirects, max_response, next_attempt_at,
            integration_request, requested_by, created_at)
    VALUES (JSON_VALUE(a, '$.method'), url, COALESCE(NULLIF(headers, ''), '{}'), body, t, mr,
            LEAST(mx * 1024, 64 * 1024 * 1024), UTC_TIMESTAMP(6), ir, USER(), UTC_TIMESTAMP(6));
    RETURN LAST_INSERT_ID();
END//

-- PostgreSQL's http_result(id, wait_ms): the row's outcome as one JSON
-- object {"status", "response_status", "response_headers", "response_body",
-- "error"}, waiting up to wait_ms (at most 10 min) for it to finish.  The
-- body as UTF-8 text (22021 when it is not: read response_body from
-- __fi_http_queue for its bytes).  A function sees what was committed when
-- the statement calling it began (InnoDB's snapshot of one statement), so
-- the wait is a procedure's: CALL http_wait(id, wait_ms) looks every 10 ms
-- with a statement of its own, then answers as http_result.
CREATE OR REPLACE FUNCTION @SITE@.http_result(req_id BIGINT UNSIGNED)
    RETURNS LONGTEXT CHARSET utf8mb4
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE st VARCHAR(10) CHARSET ascii DEFAULT NULL;
    DECLARE rs INT;
    DECLARE rh LONGTEXT CHARSET utf8mb4;
    DECLARE rb LONGBLOB;
    DECLARE er TEXT CHARSET utf8mb4;
    DECLARE msg VARCHAR(200) CHARSET utf8mb4;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET st = NULL;
    SELECT q.status, q.response_status, q.response_headers, q.response_body, q.error INTO st, rs, rh, rb, er
      FROM @SITE@.`__fi_http_queue` q WHERE q.id = req_id;
    IF st IS NULL THEN
        SET msg = CONCAT('no queued HTTP request ', COALESCE(req_id, 'NULL'),
                         ' (results are deleted a day after the request finished)');
        SIGNAL SQLSTATE 'P0002' SET MESSAGE_TEXT = msg;
    END IF;
    IF rb IS NOT NULL AND CAST(CONVERT(rb USING utf8mb4) AS BINARY) <> rb THEN
        SIGNAL SQLSTATE '22021' SET MESSAGE_TEXT = 'the response body is not UTF-8 text (read response_body from __fi_http_queue for its bytes)';
    END IF;
    -- (a routine's INT variable would be a JSON string: through JSON_EXTRACT, a number)
    RETURN JSON_OBJECT('status', st, 'response_status', JSON_EXTRACT(IFNULL(rs, 'null'), '$'), 'response_headers', JSON_QUERY(rh, '$'),
                       'response_body', CONVERT(rb USING utf8mb4), 'error', er);
END//

CREATE OR REPLACE PROCEDURE @SITE@.http_wait(req_id BIGINT UNSIGNED, wait_ms INT)
    READS SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE st VARCHAR(10) CHARSET ascii DEFAULT NULL;
    DECLARE deadline DATETIME(6) DEFAULT SYSDATE(6) + INTERVAL LEAST(GREATEST(COALESCE(wait_ms, 0), 0), 600000) * 1000 MICROSECOND;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET st = NULL;
    w: LOOP
        SELECT q.status INTO st FROM @SITE@.`__fi_http_queue` q WHERE q.id = req_id;
        IF st IS NULL OR st IN ('done', 'failed') OR SYSDATE(6) >= deadline THEN
            LEAVE w;
        END IF;
        DO SLEEP(0.01);
    END LOOP w;
    SELECT @SITE@.http_result(req_id) AS result;
END//

-- ---- import and export from SQL: jobs the worker runs ----
--
-- MariaDB gives SQL no way to run the import's or the export's statements
-- inside a function (no dynamic SQL in a function, none at all in a UDF),
-- so from SQL they are jobs: import_csv_async / export_*_async write a row
-- here in the caller's transaction and return its id; once it commits,
-- `frappe-integrations worker` runs it in a process of its own
-- (`frappe-integrations job`: the code of the import and export commands,
-- on the site's own connection) and writes the outcome back.  status:
-- queued, running (its process holds the named lock fi_job:<database>:<id>
-- while it runs; a running job whose lock is free lost its process and is
-- marked failed), done (result: the import's JSON result, which may report
-- failed documents, or the export's {"doctype", "documents", "lines"}, its
-- file in output) or failed (error_sqlstate, error, error_detail, error_hint).  A
-- job runs at most once: an import is never started again (the batches it
-- committed stay).  Finished rows are deleted by the worker --job-retention
-- (a day) after finished_at.  Times are UTC.
CREATE TABLE IF NOT EXISTS @SITE@.`__fi_jobs` (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind ENUM('import', 'export') CHARSET ascii NOT NULL,
    doctype VARCHAR(140) NOT NULL,
    file_type ENUM('csv', 'xlsx', 'json', 'doc') CHARSET ascii NOT NULL DEFAULT 'csv',
    import_type VARCHAR(40) NULL,
    docname VARCHAR(255) NULL COMMENT 'export_doc_async: the document',
    options LONGTEXT NOT NULL DEFAULT '{}' COMMENT 'a JSON object, as given',
    data LONGBLOB NULL COMMENT 'import_csv_async: the file',
    status ENUM('queued', 'running', 'done', 'failed') CHARSET ascii NOT NULL DEFAULT 'queued',
    result LONGTEXT NULL COMMENT 'JSON: the import''s result, the export''s counts',
    output LONGBLOB NULL COMMENT 'the export''s file',
    error_sqlstate CHAR(5) CHARSET ascii NULL,
    error TEXT NULL,
    error_detail TEXT NULL,
    error_hint TEXT NULL,
    requested_by VARCHAR(400) NOT NULL COMMENT 'USER() of the caller',
    created_at DATETIME(6) NOT NULL,
    started_at DATETIME(6) NULL,
    finished_at DATETIME(6) NULL,
    KEY due (status, id),
    KEY finished (finished_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='frappe_integrations: import and export jobs of SQL and their outcome'//

-- (only the site's own database user writes the jobs: fi_site_writer)
CREATE OR REPLACE TRIGGER @SITE@.`__fi_jobs_insert` BEFORE INSERT ON @SITE@.`__fi_jobs`
FOR EACH ROW CALL @SITE@.fi_site_writer('queues imports and exports')//
CREATE OR REPLACE TRIGGER @SITE@.`__fi_jobs_update` BEFORE UPDATE ON @SITE@.`__fi_jobs`
FOR EACH ROW CALL @SITE@.fi_site_writer('queues imports and exports')//

-- a job's arguments checked as the functions take them, then queued
CREATE OR REPLACE FUNCTION @SITE@.fi_job_queue(kind VARCHAR(10) CHARSET ascii, doctype LONGTEXT CHARSET utf8mb4,
                                               file_type VARCHAR(10) CHARSET ascii, import_type LONGTEXT CHARSET utf8mb4,
                                               docname LONGTEXT CHARSET utf8mb4, options LONGTEXT CHARSET utf8mb4,
                                               data LONGBLOB)
    RETURNS BIGINT UNSIGNED
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE o LONGTEXT CHARSET utf8mb4 DEFAULT COALESCE(NULLIF(TRIM(options), ''), '{}');
    DECLARE extra LONGTEXT CHARSET utf8mb4;
    DECLARE msg VARCHAR(500) CHARSET utf8mb4;
    IF doctype IS NULL OR doctype = '' THEN
        SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = 'doctype must be given';
    END IF;
    IF CHAR_LENGTH(doctype) > 140 THEN
        SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = 'doctype is longer than 140 characters: no DocType has such a name';
    END IF;
    IF NOT JSON_VALID(o) OR JSON_TYPE(o) <> 'OBJECT' THEN
        SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = 'options must be a JSON object';
    END IF;
    IF kind = 'import' THEN
        IF data IS NULL THEN
            SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = 'data must be given: the text of the CSV file';
        END IF;
        IF import_type IS NULL OR import_type NOT IN ('Insert New Records', 'Update Existing Records') THEN
            SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = 'import_type must be "Insert New Records" or "Update Existing Records"';
        END IF;
        -- the options the MariaDB import takes (PostgreSQL's names)
        SET extra = JSON_KEYS(JSON_REMOVE(o, '$.user', '$.atomic', '$.dry_run', '$.submit_after_import', '$.batch_size', '$.data_import',
                                          '$.webhooks', '$.column_to_field_map'));
        IF JSON_LENGTH(extra) > 0 THEN
            SET msg = CONCAT('unknown or unsupported import option(s) on MariaDB: ', extra,
                             ' (it takes user, atomic, dry_run, submit_after_import, webhooks, batch_size, data_import, column_to_field_map)');
            SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = msg;
        END IF;
        IF JSON_EXISTS(o, '$.user') AND JSON_TYPE(JSON_EXTRACT(o, '$.user')) <> 'STRING' THEN
            SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = 'options.user must be a string (the Frappe user who owns the documents)';
        END IF;
        IF JSON_EXISTS(o, '$.data_import') AND JSON_TYPE(JSON_EXTRACT(o, '$.data_import')) <> 'STRING' THEN
            SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = 'options.data_import must be a string (the tabData Import document to log to)';
        END IF;
        IF JSON_EXISTS(o, '$.batch_size') AND (JSON_TYPE(JSON_EXTRACT(o, '$.batch_size')) <> 'INTEGER'
               OR JSON_EXTRACT(o, '$.batch_size') NOT BETWEEN 1 AND 100000) THEN
            SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = 'options.batch_size must be a number from 1 to 100000';
        END IF;
        IF (JSON_EXISTS(o, '$.atomic') AND JSON_TYPE(JSON_EXTRACT(o, '$.atomic')) <> 'BOOLEAN')
           OR (JSON_EXISTS(o, '$.dry_run') AND JSON_TYPE(JSON_EXTRACT(o, '$.dry_run')) <> 'BOOLEAN')
           OR (JSON_EXISTS(o, '$.submit_after_import') AND JSON_TYPE(JSON_EXTRACT(o, '$.submit_after_import')) <> 'BOOLEAN')
           OR (JSON_EXISTS(o, '$.webhooks') AND JSON_TYPE(JSON_EXTRACT(o, '$.webhooks')) <> 'BOOLEAN') THEN
            SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = 'options.atomic, options.dry_run, options.submit_after_import and options.webhooks must be true or false';
        END IF;
        IF JSON_EXISTS(o, '$.column_to_field_map') AND JSON_TYPE(JSON_EXTRACT(o, '$.column_to_field_map')) <> 'OBJECT' THEN
            SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = 'option "column_to_field_map" must be an object of column index to field';
        END IF;
    END IF;
    IF file_type = 'doc' AND (docname IS NULL OR docname = '') THEN
        SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = 'name must be given: the document to export';
    END IF;
    INSERT INTO @SITE@.`__fi_jobs` (kind, doctype, file_type, import_type, docname, options, data, requested_by, created_at)
    VALUES (kind, doctype, file_type, import_type, docname, o, data, USER(), UTC_TIMESTAMP(6));
    RETURN LAST_INSERT_ID();
END//

-- PostgreSQL's import_csv(doctype, data, import_type, options), run by the
-- worker after commit: returns the job's id (job_result, CALL job_wait)
CREATE OR REPLACE FUNCTION @SITE@.import_csv_async(doctype LONGTEXT CHARSET utf8mb4, data LONGBLOB,
                                                   import_type LONGTEXT CHARSET utf8mb4, options LONGTEXT CHARSET utf8mb4)
    RETURNS BIGINT UNSIGNED
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
    RETURN @SITE@.fi_job_queue('import', doctype, 'csv', COALESCE(import_type, 'Insert New Records'), NULL, options, data)//

-- PostgreSQL's export_csv / export_xlsx / export_json (doctype, options)
-- and export_doc(doctype, name): the file in the job's output
CREATE OR REPLACE FUNCTION @SITE@.export_csv_async(doctype LONGTEXT CHARSET utf8mb4, options LONGTEXT CHARSET utf8mb4)
    RETURNS BIGINT UNSIGNED
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
    RETURN @SITE@.fi_job_queue('export', doctype, 'csv', NULL, NULL, options, NULL)//
CREATE OR REPLACE FUNCTION @SITE@.export_xlsx_async(doctype LONGTEXT CHARSET utf8mb4, options LONGTEXT CHARSET utf8mb4)
    RETURNS BIGINT UNSIGNED
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
    RETURN @SITE@.fi_job_queue('export', doctype, 'xlsx', NULL, NULL, options, NULL)//
CREATE OR REPLACE FUNCTION @SITE@.export_json_async(doctype LONGTEXT CHARSET utf8mb4, options LONGTEXT CHARSET utf8mb4)
    RETURNS BIGINT UNSIGNED
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
    RETURN @SITE@.fi_job_queue('export', doctype, 'json', NULL, NULL, options, NULL)//
CREATE OR REPLACE FUNCTION @SITE@.export_doc_async(doctype LONGTEXT CHARSET utf8mb4, name LONGTEXT CHARSET utf8mb4)
    RETURNS BIGINT UNSIGNED
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
    RETURN @SITE@.fi_job_queue('export', doctype, 'doc', NULL, name, NULL, NULL)//

-- a job as one JSON object: {"id", "kind", "doctype", "status", "result",
-- "error": null or {"sqlstate", "message", "detail", "hint"}, "created_at",
-- "started_at", "finished_at"}; an export's file is job_output(id)
CREATE OR REPLACE FUNCTION @SITE@.job_result(job_id BIGINT UNSIGNED)
    RETURNS LONGTEXT CHARSET utf8mb4
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE r LONGTEXT CHARSET utf8mb4 DEFAULT NULL;
    DECLARE msg VARCHAR(200) CHARSET utf8mb4;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET r = NULL;
    SELECT JSON_OBJECT('id', j.id, 'kind', j.kind, 'doctype', j.doctype, 'status', j.status,
                       'result', JSON_QUERY(j.result, '$'),
                       'error', IF(j.status = 'failed', JSON_OBJECT('sqlstate', j.error_sqlstate, 'message', j.error,
                                                                   'detail', j.error_detail, 'hint', j.error_hint), NULL),
                       'created_at', j.created_at, 'started_at', j.started_at, 'finished_at', j.finished_at)
      INTO r FROM @SITE@.`__fi_jobs` j WHERE j.id = job_id;
    IF r IS NULL THEN
        SET msg = CONCAT('no import or export job ', COALESCE(job_id, 'NULL'),
                         ' (finished jobs are deleted a day after they finished)');
        SIGNAL SQLSTATE 'P0002' SET MESSAGE_TEXT = msg;
    END IF;
    RETURN r;
END//

-- an export's file (CSV or JSON text, or the workbook's bytes); an error
-- while the job is not done
CREATE OR REPLACE FUNCTION @SITE@.job_output(job_id BIGINT UNSIGNED)
    RETURNS LONGBLOB
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE st VARCHAR(10) CHARSET ascii DEFAULT NULL;
    DECLARE k VARCHAR(10) CHARSET ascii;
    DECLARE o LONGBLOB;
    DECLARE ss CHAR(5) CHARSET ascii;
    DECLARE er TEXT CHARSET utf8mb4;
    DECLARE msg VARCHAR(500) CHARSET utf8mb4;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET st = NULL;
    SELECT j.status, j.kind, j.output, j.error_sqlstate, j.error INTO st, k, o, ss, er FROM @SITE@.`__fi_jobs` j WHERE j.id = job_id;
    IF st IS NULL THEN
        SET msg = CONCAT('no import or export job ', COALESCE(job_id, 'NULL'),
                         ' (finished jobs are deleted a day after they finished)');
        SIGNAL SQLSTATE 'P0002' SET MESSAGE_TEXT = msg;
    END IF;
    IF st = 'failed' THEN
        SET msg = CONCAT('job ', job_id, ' failed (', ss, '): ', LEFT(er, 400));
        SIGNAL SQLSTATE '55000' SET MESSAGE_TEXT = msg;
    END IF;
    IF st <> 'done' THEN
        SET msg = CONCAT('job ', job_id, ' is ', st, ' (CALL job_wait(', job_id, ', milliseconds) waits for it)');
        SIGNAL SQLSTATE '55000' SET MESSAGE_TEXT = msg;
    END IF;
    IF k <> 'export' THEN
        SET msg = CONCAT('job ', job_id, ' is an import: its outcome is job_result(', job_id, ')');
        SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = msg;
    END IF;
    RETURN o;
END//

-- waits (up to wait_ms, at most 10 min) for the job to finish, then
-- answers as job_result (a procedure: see http_wait)
CREATE OR REPLACE PROCEDURE @SITE@.job_wait(job_id BIGINT UNSIGNED, wait_ms INT)
    READS SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE st VARCHAR(10) CHARSET ascii DEFAULT NULL;
    DECLARE deadline DATETIME(6) DEFAULT SYSDATE(6) + INTERVAL LEAST(GREATEST(COALESCE(wait_ms, 0), 0), 600000) * 1000 MICROSECOND;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET st = NULL;
    w: LOOP
        SELECT j.status INTO st FROM @SITE@.`__fi_jobs` j WHERE j.id = job_id;
        IF st IS NULL OR st IN ('done', 'failed') OR SYSDATE(6) >= deadline THEN
            LEAVE w;
        END IF;
        DO SLEEP(0.02);
    END LOOP w;
    SELECT @SITE@.job_result(job_id) AS result;
END//

DELIMITER ;
