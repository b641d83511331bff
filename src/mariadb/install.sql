-- frappe_integrations on MariaDB, part 1: the pure functions (issue 18).
-- Run by `frappe-integrations install` as a user with INSERT on mysql.func
-- (CREATE FUNCTION ... SONAME) and CREATE ROUTINE, after the library
-- frappe_integrations.so was copied into the server's plugin_dir.
--
-- The UDFs (fi_udf_*) are server-wide and any connected user can call
-- them; none takes a secret (fi_udf_http_request asks for the server's
-- HTTP gate, below, which only the per-site http_request reads).  What users call are the SQL functions of
-- the database `integrations`, with PostgreSQL's names: they give text as
-- utf8mb4 (a UDF's string is binary), raise the engine's errors as SQL
-- errors with PostgreSQL's SQLSTATEs, and pass the clock.
CREATE DATABASE IF NOT EXISTS integrations CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE OR REPLACE FUNCTION fi_udf_version RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_last_error RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_render_template RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_eval_condition RETURNS INTEGER SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_normalize_json RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_hmac_sha256 RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_secure_compare RETURNS INTEGER SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_url_encode RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_random_name RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_generate_hash RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_generate_token RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_passlib_hash RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_passlib_verify RETURNS INTEGER SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_verify_signature RETURNS INTEGER SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_fernet_encrypt RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_fernet_decrypt RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_jwt_hs256 RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_jwt_decode_hs256 RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_auth_header RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_fernet_equal RETURNS INTEGER SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_bearer_scopes_ok RETURNS INTEGER SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_scopes_json RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_http_request RETURNS STRING SONAME 'frappe_integrations.so';
CREATE OR REPLACE FUNCTION fi_udf_oauth RETURNS STRING SONAME 'frappe_integrations.so';

-- Each site's encryption_key (from its site_config.json), written by
-- `frappe-integrations install --site`; readable only by the installing
-- account and the per-site SQL SECURITY DEFINER functions it defines
-- (a role given EXECUTE ON integrations.* gets no SELECT here).  A site's
-- functions answer only its own database user.
CREATE TABLE IF NOT EXISTS integrations.site_keys (
    site VARCHAR(64) NOT NULL PRIMARY KEY,
    site_user VARCHAR(80) NOT NULL,
    fernet_key VARCHAR(64) NOT NULL
) ENGINE=InnoDB CHARACTER SET ascii;
-- the site's URL (the OAuth issuer, Connected App's redirect URI):
-- `install --site-url`, else site_config.json's host_name
ALTER TABLE integrations.site_keys ADD COLUMN IF NOT EXISTS site_url VARCHAR(255) CHARACTER SET utf8mb4 NULL;

-- The server's HTTP gate: 64 hex digits of random, written once by
-- `frappe-integrations install`, which also writes their SHA-256 beside
-- the library (frappe_integrations.gate) for fi_udf_http_request to check.
-- Readable as site_keys is: only the per-site http_request (DEFINER, for
-- the site's own user) passes it on, so no other account of the server
-- can send HTTP from SQL.
CREATE TABLE IF NOT EXISTS integrations.http_gate (
    id TINYINT NOT NULL PRIMARY KEY,
    secret CHAR(64) NOT NULL
) ENGINE=InnoDB CHARACTER SET ascii;

-- The server's settings of http_request (PostgreSQL's ca_bundle,
-- http_max_redirects, http_max_response), one row; UPDATE it as root, it
-- takes effect at the next request.
CREATE TABLE IF NOT EXISTS integrations.http_settings (
    id TINYINT NOT NULL PRIMARY KEY,
    ca_bundle VARCHAR(4096) NULL,
    max_redirects INT NOT NULL DEFAULT 5,
    max_response_kb INT NOT NULL DEFAULT 10240,
    CONSTRAINT http_settings_one CHECK (id = 1),
    CONSTRAINT http_settings_redirects CHECK (max_redirects BETWEEN 0 AND 20),
    CONSTRAINT http_settings_response CHECK (max_response_kb BETWEEN 1 AND 524288)
) ENGINE=InnoDB CHARACTER SET utf8mb4;
INSERT IGNORE INTO integrations.http_settings (id) VALUES (1);

DELIMITER //

-- the error of the call that just returned NULL, as an SQL error
CREATE OR REPLACE PROCEDURE integrations.raise_last_error()
    SQL SECURITY INVOKER
BEGIN
    DECLARE e TEXT DEFAULT fi_udf_last_error();
    DECLARE msg VARCHAR(500);
    IF e IS NOT NULL THEN
        SET msg = CONVERT(SUBSTRING(e, 7) USING utf8mb4);
        CASE LEFT(e, 5)
            WHEN '42601' THEN SIGNAL SQLSTATE '42601' SET MESSAGE_TEXT = msg;
            WHEN '54000' THEN SIGNAL SQLSTATE '54000' SET MESSAGE_TEXT = msg;
            WHEN '54001' THEN SIGNAL SQLSTATE '54001' SET MESSAGE_TEXT = msg;
            WHEN '53200' THEN SIGNAL SQLSTATE '53200' SET MESSAGE_TEXT = msg;
            WHEN 'XX000' THEN SIGNAL SQLSTATE 'XX000' SET MESSAGE_TEXT = msg;
            WHEN '22P02' THEN SIGNAL SQLSTATE '22P02' SET MESSAGE_TEXT = msg;
            WHEN '22P05' THEN SIGNAL SQLSTATE '22P05' SET MESSAGE_TEXT = msg;
            WHEN '22003' THEN SIGNAL SQLSTATE '22003' SET MESSAGE_TEXT = msg;
            WHEN '22021' THEN SIGNAL SQLSTATE '22021' SET MESSAGE_TEXT = msg;
            WHEN '08006' THEN SIGNAL SQLSTATE '08006' SET MESSAGE_TEXT = msg;
            WHEN '42501' THEN SIGNAL SQLSTATE '42501' SET MESSAGE_TEXT = msg;
            ELSE SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = msg;
        END CASE;
    END IF;
END//

-- the session's wall clock, microseconds since 1970-01-01 00:00 local time
CREATE OR REPLACE FUNCTION integrations.now_usec() RETURNS BIGINT
    NOT DETERMINISTIC NO SQL SQL SECURITY INVOKER
RETURN TIMESTAMPDIFF(MICROSECOND, TIMESTAMP '1970-01-01 00:00:00', NOW(6))//

CREATE OR REPLACE FUNCTION integrations.version() RETURNS VARCHAR(16) CHARSET utf8mb4
    DETERMINISTIC NO SQL SQL SECURITY INVOKER
RETURN CONVERT(fi_udf_version() USING utf8mb4)//

CREATE OR REPLACE FUNCTION integrations.render_template(template LONGTEXT CHARSET utf8mb4,
                                                        context LONGTEXT CHARSET utf8mb4)
    RETURNS LONGTEXT CHARSET utf8mb4
    NOT DETERMINISTIC NO SQL SQL SECURITY INVOKER
BEGIN
    DECLARE r LONGBLOB DEFAULT fi_udf_render_template(template, COALESCE(context, '{}'), integrations.now_usec());
    IF r IS NULL AND template IS NOT NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN CONVERT(r USING utf8mb4);
END//

CREATE OR REPLACE FUNCTION integrations.eval_condition(cond LONGTEXT CHARSET utf8mb4,
                                                       context LONGTEXT CHARSET utf8mb4)
    RETURNS BOOLEAN
    NOT DETERMINISTIC NO SQL SQL SECURITY INVOKER
BEGIN
    DECLARE r INT;
    IF cond IS NULL OR TRIM(cond) = '' THEN
        RETURN TRUE;            -- an empty condition: the webhook fires (as on PostgreSQL)
    END IF;
    SET r = fi_udf_eval_condition(cond, COALESCE(context, '{}'), integrations.now_usec());
    IF r IS NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN r = 1;
END//

CREATE OR REPLACE FUNCTION integrations.normalize_json(js LONGTEXT CHARSET utf8mb4)
    RETURNS LONGTEXT CHARSET utf8mb4
    DETERMINISTIC NO SQL SQL SECURITY INVOKER
BEGIN
    DECLARE r LONGBLOB DEFAULT fi_udf_normalize_json(js);
    IF r IS NULL AND js IS NOT NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN CONVERT(r USING utf8mb4);
END//

CREATE OR REPLACE FUNCTION integrations.hmac_sha256(k LONGBLOB, message LONGBLOB, encoding VARCHAR(16))
    RETURNS VARCHAR(64) CHARSET ascii
    DETERMINISTIC NO SQL SQL SECURITY INVOKER
BEGIN
    DECLARE r VARBINARY(64) DEFAULT fi_udf_hmac_sha256(k, message, COALESCE(encoding, 'base64'));
    IF r IS NULL AND k IS NOT NULL AND message IS NOT NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN CONVERT(r USING ascii);
END//

CREATE OR REPLACE FUNCTION integrations.secure_compare(a LONGBLOB, b LONGBLOB) RETURNS BOOLEAN
    DETERMINISTIC NO SQL SQL SECURITY INVOKER
RETURN fi_udf_secure_compare(a, b) = 1//

CREATE OR REPLACE FUNCTION integrations.url_encode(value LONGTEXT CHARSET utf8mb4)
    RETURNS LONGTEXT CHARSET ascii
    DETERMINISTIC NO SQL SQL SECURITY INVOKER
RETURN CONVERT(fi_udf_url_encode(value) USING ascii)//

-- HS256 JSON Web Tokens with Frappe's header {"alg":"HS256","typ":"jwt"}:
-- the claims signed as the PostgreSQL build signs them (jsonb's order of
-- keys, numbers as numeric prints them), so both give the same token
CREATE OR REPLACE FUNCTION integrations.jwt_hs256(claims LONGTEXT CHARSET utf8mb4, k LONGTEXT CHARSET utf8mb4)
    RETURNS LONGTEXT CHARSET ascii
    DETERMINISTIC NO SQL SQL SECURITY INVOKER
BEGIN
    DECLARE r LONGBLOB DEFAULT fi_udf_jwt_hs256(claims, k);
    IF r IS NULL AND claims IS NOT NULL AND k IS NOT NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN CONVERT(r USING ascii);
END//

-- the claims (as jsonb prints them) of a token whose header says HS256 and
-- whose signature the key makes, else NULL; times are the caller's business
CREATE OR REPLACE FUNCTION integrations.jwt_decode_hs256(token LONGTEXT CHARSET utf8mb4, k LONGTEXT CHARSET utf8mb4)
    RETURNS LONGTEXT CHARSET utf8mb4
    DETERMINISTIC NO SQL SQL SECURITY INVOKER
BEGIN
    DECLARE r LONGBLOB DEFAULT fi_udf_jwt_decode_hs256(token, k);
    IF r IS NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN CONVERT(r USING utf8mb4);
END//

CREATE OR REPLACE FUNCTION integrations.random_name() RETURNS CHAR(10) CHARSET ascii
    NOT DETERMINISTIC NO SQL SQL SECURITY INVOKER
RETURN CONVERT(fi_udf_random_name() USING ascii)//

CREATE OR REPLACE FUNCTION integrations.generate_hash(len INT) RETURNS VARCHAR(1024) CHARSET ascii
    NOT DETERMINISTIC NO SQL SQL SECURITY INVOKER
BEGIN
    DECLARE r VARBINARY(1024) DEFAULT fi_udf_generate_hash(COALESCE(len, 56));
    IF r IS NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN CONVERT(r USING ascii);
END//

CREATE OR REPLACE FUNCTION integrations.generate_token(len INT) RETURNS VARCHAR(1024) CHARSET ascii
    NOT DETERMINISTIC NO SQL SQL SECURITY INVOKER
BEGIN
    DECLARE r VARBINARY(1024) DEFAULT fi_udf_generate_token(COALESCE(len, 30));
    IF r IS NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN CONVERT(r USING ascii);
END//

CREATE OR REPLACE FUNCTION integrations.passlib_hash(password LONGTEXT CHARSET utf8mb4, rounds INT)
    RETURNS VARCHAR(160) CHARSET ascii
    NOT DETERMINISTIC NO SQL SQL SECURITY INVOKER
BEGIN
    DECLARE r VARBINARY(160) DEFAULT fi_udf_passlib_hash(password, COALESCE(rounds, 29000));
    IF r IS NULL AND password IS NOT NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN CONVERT(r USING ascii);
END//

CREATE OR REPLACE FUNCTION integrations.passlib_verify(password LONGTEXT CHARSET utf8mb4, hash LONGTEXT CHARSET utf8mb4)
    RETURNS BOOLEAN
    DETERMINISTIC NO SQL SQL SECURITY INVOKER
BEGIN
    DECLARE r INT DEFAULT fi_udf_passlib_verify(password, hash);
    IF r IS NULL AND password IS NOT NULL AND hash IS NOT NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN r = 1;
END//

-- headers: a JSON object; webhook-id and webhook-timestamp are looked up by
-- their lower-case names and as Webhook-Id / Webhook-Timestamp
CREATE OR REPLACE FUNCTION integrations.verify_signature(scheme VARCHAR(32), payload LONGBLOB, secret LONGBLOB,
                                                         signature LONGBLOB, headers LONGTEXT CHARSET utf8mb4,
                                                         tolerance_seconds INT)
    RETURNS BOOLEAN
    NOT DETERMINISTIC NO SQL SQL SECURITY INVOKER
BEGIN
    DECLARE h LONGTEXT CHARSET utf8mb4 DEFAULT COALESCE(headers, '{}');
    DECLARE r INT DEFAULT fi_udf_verify_signature(scheme, payload, secret, signature,
        COALESCE(JSON_VALUE(h, '$."webhook-id"'), JSON_VALUE(h, '$."Webhook-Id"')),
        COALESCE(JSON_VALUE(h, '$."webhook-timestamp"'), JSON_VALUE(h, '$."Webhook-Timestamp"')),
        tolerance_seconds, UNIX_TIMESTAMP());
    IF r IS NULL AND scheme IS NOT NULL AND payload IS NOT NULL AND secret IS NOT NULL AND signature IS NOT NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN r = 1;
END//

DELIMITER ;
