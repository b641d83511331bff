-- frappe_integrations on MariaDB: a site's OAuth 2 / OpenID Connect
-- provider (issue 20, point 4), PostgreSQL's integrations.oauth_* with the
-- same names, parameters (a JSON object of the request's form parameters),
-- answers and errors.  Every decision is engine/oauth.c's, through
-- fi_udf_oauth; these functions only read and write Frappe's tables
-- (tabOAuth Client, tabOAuth Authorization Code, tabOAuth Bearer Token,
-- tabUser, tabHas Role, tabOAuth Client Role, tabUser Social Login,
-- tabSingles).  Run by `frappe-integrations install --site` after site.sql,
-- with @SITE@ / @SITE_LIT@ replaced as there.
--
-- SQL SECURITY DEFINER, and each public one first checks that its caller
-- is the site's own database user (42501 for anyone else), as PostgreSQL
-- revokes them from PUBLIC.  Locals are v_*: in a MariaDB routine a local
-- hides a column of the same name, so every column is qualified too.
DELIMITER //

-- 42501 unless the caller is the site's own database user
CREATE OR REPLACE PROCEDURE @SITE@.fi_site_caller()
    READS SQL DATA SQL SECURITY DEFINER
BEGIN
    IF NOT EXISTS (SELECT 1 FROM integrations.site_keys s
                    WHERE s.site = @SITE_LIT@ AND s.site_user = SUBSTRING_INDEX(USER(), '@', 1)) THEN
        SIGNAL SQLSTATE '42501' SET MESSAGE_TEXT = 'permission denied: only the site''s own database user calls its OAuth functions';
    END IF;
END//

-- the site's wall clock (System Settings' time_zone; the server's when the
-- time zone tables do not know it), as Frappe's now_datetime()
CREATE OR REPLACE FUNCTION @SITE@.fi_site_now() RETURNS DATETIME(6)
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY INVOKER
RETURN COALESCE((SELECT CONVERT_TZ(UTC_TIMESTAMP(6), '+00:00', z.value)
                   FROM @SITE@.tabSingles z
                  WHERE z.doctype = 'System Settings' AND z.field = 'time_zone' LIMIT 1),
                NOW(6))//

-- one OAuth error: "<code>: <description>" under the SQLSTATE PostgreSQL gives it
CREATE OR REPLACE PROCEDURE @SITE@.fi_oauth_fail(st CHAR(5) CHARSET ascii, msg VARCHAR(500) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    NO SQL SQL SECURITY INVOKER
BEGIN
    CASE st
        WHEN '28000' THEN SIGNAL SQLSTATE '28000' SET MESSAGE_TEXT = msg;
        WHEN '42501' THEN SIGNAL SQLSTATE '42501' SET MESSAGE_TEXT = msg;
        WHEN '55000' THEN SIGNAL SQLSTATE '55000' SET MESSAGE_TEXT = msg;
        ELSE SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = msg;
    END CASE;
END//

-- a form parameter: a JSON string or absent; empty is absent (RFC 6749 3.1)
CREATE OR REPLACE FUNCTION @SITE@.fi_oauth_param(params LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci, k VARCHAR(64) CHARSET ascii,
                                                 maxlen INT)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    DETERMINISTIC NO SQL SQL SECURITY INVOKER
BEGIN
    DECLARE v_path VARCHAR(80) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT CONCAT('$."', k, '"');
    DECLARE v_type VARCHAR(16) CHARSET ascii DEFAULT JSON_TYPE(JSON_EXTRACT(params, v_path));
    DECLARE v LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_msg VARCHAR(300) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    IF v_type IS NULL OR v_type = 'NULL' THEN
        RETURN NULL;
    END IF;
    IF v_type <> 'STRING' THEN
        SET v_msg = CONCAT('invalid_request: parameter ', k, ' must be a string');
        CALL @SITE@.fi_oauth_fail('22023', v_msg);
    END IF;
    SET v = JSON_UNQUOTE(JSON_EXTRACT(params, v_path));
    IF CHAR_LENGTH(v) > COALESCE(maxlen, 2048) THEN
        SET v_msg = CONCAT('invalid_request: parameter ', k, ' is longer than ', COALESCE(maxlen, 2048), ' characters');
        CALL @SITE@.fi_oauth_fail('22023', v_msg);
    END IF;
    RETURN NULLIF(v, '');
END//

-- the params are a JSON object, else invalid_request
CREATE OR REPLACE PROCEDURE @SITE@.fi_oauth_params_ok(params LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    NO SQL SQL SECURITY INVOKER
BEGIN
    IF params IS NULL OR NOT JSON_VALID(params) OR JSON_TYPE(params) <> 'OBJECT' THEN
        CALL @SITE@.fi_oauth_fail('22023', 'invalid_request: the parameters must be a JSON object');
    END IF;
END//

-- the answer of fi_udf_oauth, or its error raised
CREATE OR REPLACE FUNCTION @SITE@.fi_oauth_rule(r LONGBLOB)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NO SQL SQL SECURITY INVOKER
BEGIN
    IF r IS NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN CONVERT(r USING utf8mb4);
END//

-- The site's URL, the OAuth issuer: `install --site-url` (or site_config's
-- host_name), kept in integrations.site_keys.  PostgreSQL reads Social
-- Login Key "frappe" first; a MariaDB routine cannot read a table the site
-- may lack (its tables are opened before it runs).
CREATE OR REPLACE FUNCTION @SITE@.oauth_issuer() RETURNS VARCHAR(255) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_url VARCHAR(255) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT
        (SELECT NULLIF(s.site_url, '') FROM integrations.site_keys s WHERE s.site = @SITE_LIT@);
    CALL @SITE@.fi_site_caller();
    IF v_url IS NULL THEN
        SIGNAL SQLSTATE '55000' SET MESSAGE_TEXT = 'the site''s URL is not known: it is the OAuth issuer (frappe-integrations install --site ... --site-url https://erp.example.com)';
    END IF;
    RETURN TRIM(TRAILING '/' FROM v_url);
END//

-- Frappe's get_roles(user) as a JSON array: the user's roles, then All,
-- Guest and (system users) Desk User; every role for Administrator
CREATE OR REPLACE FUNCTION @SITE@.user_roles(user_name VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_roles LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    CALL @SITE@.fi_site_caller();
    IF user_name IS NULL OR user_name = 'Guest' THEN
        RETURN JSON_ARRAY('Guest');
    END IF;
    IF user_name = 'Administrator' THEN
        RETURN COALESCE((SELECT JSON_ARRAYAGG(r.name ORDER BY r.name) FROM @SITE@.tabRole r), JSON_ARRAY());
    END IF;
    SET v_roles = COALESCE((SELECT JSON_ARRAYAGG(h.role ORDER BY h.idx) FROM @SITE@.`tabHas Role` h
                             WHERE h.parenttype = 'User' AND h.parent = user_name
                               AND h.role NOT IN ('Guest', 'All', 'Desk User', 'Administrator')), JSON_ARRAY());
    SET v_roles = JSON_ARRAY_APPEND(v_roles, '$', 'All', '$', 'Guest');
    IF EXISTS (SELECT 1 FROM @SITE@.tabUser u WHERE u.name = user_name AND u.user_type = 'System User') THEN
        SET v_roles = JSON_ARRAY_APPEND(v_roles, '$', 'Desk User');
    END IF;
    RETURN v_roles;
END//

-- Frappe's get_userinfo: the OpenID claims of a user
CREATE OR REPLACE FUNCTION @SITE@.fi_oauth_userinfo_claims(user_name VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                           issuer VARCHAR(255) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_first, v_last, v_email, v_picture, v_sub VARCHAR(1000) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT NULL;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_first = v_first;
    SELECT u.first_name, u.last_name, u.email, NULLIF(u.user_image, '') INTO v_first, v_last, v_email, v_picture
      FROM @SITE@.tabUser u WHERE u.name = user_name LIMIT 1;
    SET v_sub = (SELECT s.userid FROM @SITE@.`tabUser Social Login` s
                  WHERE s.parent = user_name AND s.provider = 'frappe' ORDER BY s.idx LIMIT 1);
    IF v_picture IS NOT NULL AND v_picture NOT RLIKE '^(https?|ftps?)://' THEN
        SET v_picture = CONCAT(issuer, IF(v_picture LIKE '/%', '', '/'), v_picture);
    END IF;
    RETURN JSON_OBJECT('sub', v_sub,
                       'name', NULLIF(CONCAT_WS(' ', NULLIF(v_first, ''), NULLIF(v_last, '')), ''),
                       'given_name', v_first, 'family_name', v_last, 'email', v_email, 'picture', v_picture,
                       'roles', JSON_EXTRACT(@SITE@.user_roles(user_name), '$'), 'iss', issuer);
END//

-- The client of a token request, authenticated (its secret, from the form
-- or an HTTP Basic "authorization" parameter, compared in constant time);
-- a client without a secret is public.  fallback: the refresh token's
-- client when the request names none.  Returns the client's name.
CREATE OR REPLACE FUNCTION @SITE@.fi_oauth_authenticate_client(params LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                               fallback VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_id LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT @SITE@.fi_oauth_param(params, 'client_id', 140);
    DECLARE v_secret LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT @SITE@.fi_oauth_param(params, 'client_secret', 255);
    DECLARE v_basic LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT @SITE@.fi_oauth_param(params, 'authorization', 1024);
    DECLARE v_pair LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_name VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT NULL;
    DECLARE v_have VARCHAR(255) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT NULL;
    DECLARE v_ok INT;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_name = NULL;
    IF v_basic IS NOT NULL THEN
        SET v_pair = @SITE@.fi_oauth_rule(fi_udf_oauth('basic', v_basic, v_id));
        SET v_id = JSON_UNQUOTE(JSON_EXTRACT(v_pair, '$[0]')), v_secret = JSON_UNQUOTE(JSON_EXTRACT(v_pair, '$[1]')),
            v_pair = NULL;
    END IF;
    SET v_id = COALESCE(v_id, fallback);
    IF v_id IS NULL THEN
        CALL @SITE@.fi_oauth_fail('22023', 'invalid_request: client_id is missing');
    END IF;
    SELECT c.name, c.client_secret INTO v_name, v_have FROM @SITE@.`tabOAuth Client` c
     WHERE c.name = v_id AND CAST(c.name AS BINARY) = CAST(v_id AS BINARY) LIMIT 1;
    -- one answer for an unknown client, a missing secret and a wrong one; the comparison runs either way
    SET v_ok = fi_udf_secure_compare(COALESCE(v_have, '-'), COALESCE(v_secret, ''));
    SET v_secret = NULL;
    IF v_name IS NULL OR (COALESCE(v_have, '') <> '' AND v_ok <> 1) THEN
        CALL @SITE@.fi_oauth_fail('28000', 'invalid_client: client authentication failed');
    END IF;
    RETURN v_name;
END//

-- The user may use this client: enabled, not Guest, holding one of its
-- allowed roles (none listed: Desk User, as Frappe adds on save)
CREATE OR REPLACE PROCEDURE @SITE@.fi_oauth_check_user(client VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                       user_name VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    READS SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_allowed LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_msg VARCHAR(500) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    IF user_name IS NULL OR user_name = 'Guest'
       OR NOT EXISTS (SELECT 1 FROM @SITE@.tabUser u WHERE u.name = user_name AND u.enabled = 1) THEN
        CALL @SITE@.fi_oauth_fail('28000', 'access_denied: the user is not logged in, does not exist or is disabled');
    END IF;
    SET v_allowed = (SELECT JSON_ARRAYAGG(r.role) FROM @SITE@.`tabOAuth Client Role` r
                      WHERE r.parent = client AND r.parenttype = 'OAuth Client');
    IF NOT JSON_OVERLAPS(COALESCE(v_allowed, JSON_ARRAY('Desk User')), @SITE@.user_roles(user_name)) THEN
        SET v_msg = CONCAT('access_denied: user ', LEFT(user_name, 140), ' has none of the roles allowed for OAuth Client ',
                           LEFT(client, 140));
        CALL @SITE@.fi_oauth_fail('42501', v_msg);
    END IF;
END//

-- Frappe's id_token (finalize_id_token): the userinfo claims, aud, iat,
-- exp, iss, nonce, at_hash / c_hash, HS256 with the client's secret.  NULL
-- for a client without a secret (nothing to sign with).
CREATE OR REPLACE FUNCTION @SITE@.fi_oauth_id_token(client VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                    user_name VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                    nonce LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci, access_token LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                    code LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET ascii
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_secret VARCHAR(255) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT
        (SELECT c.client_secret FROM @SITE@.`tabOAuth Client` c WHERE c.name = client LIMIT 1);
    DECLARE v_issuer VARCHAR(255) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_iat BIGINT DEFAULT UNIX_TIMESTAMP();
    DECLARE v_claims LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    IF COALESCE(v_secret, '') = '' THEN
        RETURN NULL;
    END IF;
    SET v_issuer = @SITE@.oauth_issuer();
    SET v_claims = JSON_SET(@SITE@.fi_oauth_userinfo_claims(user_name, v_issuer),
                            '$.aud', client, '$.iat', v_iat, '$.exp', v_iat + 3600, '$.iss', v_issuer);
    IF access_token IS NOT NULL THEN
        SET v_claims = JSON_SET(v_claims, '$.at_hash', @SITE@.fi_oauth_rule(fi_udf_oauth('half_hash', access_token)));
    END IF;
    IF code IS NOT NULL THEN
        SET v_claims = JSON_SET(v_claims, '$.c_hash', @SITE@.fi_oauth_rule(fi_udf_oauth('half_hash', code)));
    END IF;
    IF nonce IS NOT NULL THEN
        SET v_claims = JSON_SET(v_claims, '$.nonce', nonce);
    END IF;
    RETURN integrations.jwt_hs256(v_claims, v_secret);
END//

-- A new OAuth Bearer Token row (Active, 3600 s) and the token endpoint's
-- answer in Frappe's shape, with an id_token when openid is a scope (and
-- with_id_token)
CREATE OR REPLACE FUNCTION @SITE@.fi_oauth_issue_token(client VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                       user_name VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                       scopes LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci, with_refresh BOOLEAN,
                                                       nonce LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                       owner VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci, with_id_token BOOLEAN)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_access VARCHAR(30) CHARSET ascii DEFAULT integrations.generate_token(30);
    DECLARE v_refresh VARCHAR(30) CHARSET ascii DEFAULT IF(with_refresh, integrations.generate_token(30), NULL);
    DECLARE v_now DATETIME(6) DEFAULT @SITE@.fi_site_now();
    DECLARE v_out LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_id_token LONGTEXT CHARSET ascii;
    INSERT INTO @SITE@.`tabOAuth Bearer Token` (name, creation, modified, modified_by, owner, docstatus, idx, client,
                                                `user`, scopes, access_token, refresh_token, expiration_time,
                                                expires_in, status)
    VALUES (v_access, v_now, v_now, owner, owner, 0, 0, client, user_name, scopes, v_access, v_refresh,
            v_now + INTERVAL 3600 SECOND, 3600, 'Active');
    SET v_out = JSON_OBJECT('access_token', v_access, 'expires_in', 3600, 'token_type', 'Bearer', 'scope', scopes);
    IF v_refresh IS NOT NULL THEN
        SET v_out = JSON_SET(v_out, '$.refresh_token', v_refresh);
    END IF;
    IF with_id_token AND FIND_IN_SET('openid', REPLACE(COALESCE(scopes, ''), ' ', ',')) > 0 THEN
        SET v_id_token = @SITE@.fi_oauth_id_token(client, user_name, nonce, v_access, NULL);
        IF v_id_token IS NOT NULL THEN
            SET v_out = JSON_SET(v_out, '$.id_token', v_id_token);
        END IF;
    END IF;
    RETURN v_out;
END//

-- ---------------------------------------------------------------- endpoints

-- frappe.integrations.oauth2.approve: the logged-in user grants the client
-- what it asked for (params: the authorization request's query parameters,
-- as a JSON object).  Asking the user ("Confirm Access") is the caller's
-- part.  Returns {"redirect_to", and the code and/or tokens}; errors the
-- client may hear of come back as {"error", "error_description",
-- "redirect_to"} and write nothing; an unknown client or redirect URI, or
-- a user who may not use the client, are raised (never redirected).
CREATE OR REPLACE FUNCTION @SITE@.oauth_authorize(user_name VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci, params LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_client_id, v_redirect, v_rt, v_state, v_nonce, v_challenge, v_method, v_asked LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_client VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT NULL;
    DECLARE v_c_rt, v_c_uris, v_c_default, v_c_scopes, v_c_secret LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_g, v_tok LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_scopes LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_frag CHAR(1) CHARSET ascii;
    DECLARE v_code VARCHAR(30) CHARSET ascii DEFAULT NULL;
    DECLARE v_id_token LONGTEXT CHARSET ascii DEFAULT NULL;
    DECLARE v_now DATETIME(6);
    DECLARE v_out LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT JSON_OBJECT();
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_client = NULL;
    CALL @SITE@.fi_site_caller();
    CALL @SITE@.fi_oauth_params_ok(params);
    SET v_client_id = @SITE@.fi_oauth_param(params, 'client_id', 140),
        v_redirect = @SITE@.fi_oauth_param(params, 'redirect_uri', 2048),
        v_rt = @SITE@.fi_oauth_param(params, 'response_type', 64),
        v_state = @SITE@.fi_oauth_param(params, 'state', 2048),
        v_nonce = @SITE@.fi_oauth_param(params, 'nonce', 140),
        v_challenge = @SITE@.fi_oauth_param(params, 'code_challenge', 140),
        v_method = @SITE@.fi_oauth_param(params, 'code_challenge_method', 16),
        v_asked = @SITE@.fi_oauth_param(params, 'scope', 2048);
    SELECT c.name, c.response_type, c.redirect_uris, c.default_redirect_uri, c.scopes, c.client_secret
      INTO v_client, v_c_rt, v_c_uris, v_c_default, v_c_scopes, v_c_secret
      FROM @SITE@.`tabOAuth Client` c
     WHERE c.name = v_client_id AND CAST(c.name AS BINARY) = CAST(v_client_id AS BINARY) LIMIT 1;
    IF v_client IS NULL THEN
        CALL @SITE@.fi_oauth_fail('28000', 'invalid_client: client_id is missing or not an OAuth Client');
    END IF;
    SET v_redirect = @SITE@.fi_oauth_rule(fi_udf_oauth('redirect_uri', v_redirect, v_c_uris, v_c_default));
    CALL @SITE@.fi_oauth_check_user(v_client, user_name);

    -- from here on, errors go back to the client through the redirect
    SET v_g = @SITE@.fi_oauth_rule(fi_udf_oauth('authorize', v_rt, v_asked, v_nonce, v_challenge, v_method,
                                                v_c_rt, v_c_scopes, IF(COALESCE(v_c_secret, '') <> '', '1', '0')));
    SET v_c_secret = NULL;
    SET v_frag = IF(JSON_EXTRACT(v_g, '$.in_fragment') = 'true', '1', '0');
    IF JSON_CONTAINS_PATH(v_g, 'one', '$.error') THEN
        RETURN JSON_OBJECT('error', JSON_VALUE(v_g, '$.error'), 'error_description', JSON_VALUE(v_g, '$.error_description'),
                           'redirect_to', @SITE@.fi_oauth_rule(fi_udf_oauth('redirect', v_redirect, v_frag,
                               'error', JSON_VALUE(v_g, '$.error'), 'error_description', JSON_VALUE(v_g, '$.error_description'),
                               'state', v_state)));
    END IF;
    SET v_scopes = JSON_UNQUOTE(JSON_EXTRACT(v_g, '$.scopes'));

    IF JSON_EXTRACT(v_g, '$.code') = 'true' THEN
        SET v_code = integrations.generate_token(30), v_now = @SITE@.fi_site_now();
        INSERT INTO @SITE@.`tabOAuth Authorization Code` (name, creation, modified, modified_by, owner, docstatus, idx,
                    client, `user`, scopes, authorization_code, expiration_time, redirect_uri_bound_to_authorization_code,
                    validity, nonce, code_challenge, code_challenge_method)
        VALUES (v_code, v_now, v_now, user_name, user_name, 0, 0, v_client, user_name, v_scopes, v_code,
                v_now + INTERVAL 10 MINUTE, v_redirect, 'Valid', v_nonce, v_challenge,
                JSON_UNQUOTE(JSON_EXTRACT(v_g, '$.challenge_method')));
        SET v_out = JSON_OBJECT('code', v_code);
    END IF;
    IF JSON_EXTRACT(v_g, '$.token') = 'true' THEN
        SET v_tok = @SITE@.fi_oauth_issue_token(v_client, user_name, v_scopes, FALSE, v_nonce, user_name, FALSE);
        SET v_out = JSON_MERGE_PRESERVE(v_out, v_tok);
    END IF;
    IF JSON_EXTRACT(v_g, '$.id_token') = 'true' THEN
        SET v_id_token = @SITE@.fi_oauth_id_token(v_client, user_name, v_nonce,
                                                  JSON_UNQUOTE(JSON_EXTRACT(v_tok, '$.access_token')), v_code);
        SET v_out = JSON_SET(v_out, '$.id_token', v_id_token);
    END IF;
    IF v_state IS NOT NULL THEN
        SET v_out = JSON_SET(v_out, '$.state', v_state);
    END IF;
    RETURN JSON_SET(v_out, '$.redirect_to', @SITE@.fi_oauth_rule(fi_udf_oauth('redirect', v_redirect, v_frag,
        'code', v_code,
        'access_token', JSON_UNQUOTE(JSON_EXTRACT(v_tok, '$.access_token')),
        'expires_in', IF(v_tok IS NOT NULL, '3600', NULL),
        'token_type', IF(v_tok IS NOT NULL, 'Bearer', NULL),
        'scope', IF(v_tok IS NOT NULL, v_scopes, NULL),
        'id_token', v_id_token,
        'state', v_state)));
END//

-- The OAuth token endpoint: authorization_code (PKCE, the redirect URI it
-- was issued for, once, within 10 minutes), refresh_token (rotation: the
-- token it replaces is Revoked) and password; the client secret checked.
CREATE OR REPLACE FUNCTION @SITE@.oauth_token(params LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_grant, v_code, v_verifier, v_redirect, v_refresh, v_username, v_password LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_client VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_c_default LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_c_has_secret CHAR(1) CHARSET ascii;
    DECLARE v_row VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT NULL;
    DECLARE v_row_client VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_user VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_scopes, v_nonce, v_bound, v_challenge, v_method LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_ok BOOLEAN;
    DECLARE v_bad VARCHAR(200) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT
        'invalid_grant: the authorization code is invalid, expired, already used, or was issued to another client or redirect URI';
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_row = NULL;
    CALL @SITE@.fi_site_caller();
    CALL @SITE@.fi_oauth_params_ok(params);
    SET v_grant = @SITE@.fi_oauth_rule(fi_udf_oauth('grant_type', @SITE@.fi_oauth_param(params, 'grant_type', 64)));

    IF v_grant = 'authorization_code' THEN
        SET v_code = @SITE@.fi_oauth_param(params, 'code', 255),
            v_verifier = @SITE@.fi_oauth_param(params, 'code_verifier', 255),
            v_redirect = @SITE@.fi_oauth_param(params, 'redirect_uri', 2048);
        SET v_client = @SITE@.fi_oauth_authenticate_client(params, NULL);
        IF v_code IS NULL THEN
            CALL @SITE@.fi_oauth_fail('22023', 'invalid_request: code is missing');
        END IF;
        IF v_verifier IS NOT NULL AND fi_udf_oauth('pkce', v_verifier) = '0' THEN
            CALL @SITE@.fi_oauth_fail('22023', 'invalid_request: code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~');
        END IF;
        SELECT c.default_redirect_uri, IF(COALESCE(c.client_secret, '') <> '', '1', '0') INTO v_c_default, v_c_has_secret
          FROM @SITE@.`tabOAuth Client` c WHERE c.name = v_client LIMIT 1;
        -- the code, locked: this client's, Valid, not expired (Frappe's codes
        -- without an expiration_time last 10 minutes from creation)
        SELECT a.name, a.`user`, a.scopes, NULLIF(a.nonce, ''), a.redirect_uri_bound_to_authorization_code,
               a.code_challenge, a.code_challenge_method
          INTO v_row, v_user, v_scopes, v_nonce, v_bound, v_challenge, v_method
          FROM @SITE@.`tabOAuth Authorization Code` a
         WHERE a.name = v_code AND CAST(a.name AS BINARY) = CAST(v_code AS BINARY) AND a.client = v_client
           AND a.validity = 'Valid'
           AND COALESCE(a.expiration_time, a.creation + INTERVAL 10 MINUTE) > @SITE@.fi_site_now()
         LIMIT 1 FOR UPDATE;
        IF v_row IS NULL OR fi_udf_oauth('code_ok', v_bound, v_challenge, v_method, v_redirect, v_verifier,
                                          v_c_default, v_c_has_secret) <> '1' THEN
            CALL @SITE@.fi_oauth_fail('28000', v_bad);
        END IF;
        CALL @SITE@.fi_oauth_check_user(v_client, v_user);
        UPDATE @SITE@.`tabOAuth Authorization Code` a SET a.validity = 'Invalid', a.modified = @SITE@.fi_site_now()
         WHERE a.name = v_row;
        RETURN @SITE@.fi_oauth_issue_token(v_client, v_user, v_scopes, TRUE, v_nonce, 'Guest', TRUE);

    ELSEIF v_grant = 'refresh_token' THEN
        SET v_refresh = @SITE@.fi_oauth_param(params, 'refresh_token', 255);
        IF v_refresh IS NULL THEN
            CALL @SITE@.fi_oauth_fail('22023', 'invalid_request: refresh_token is missing');
        END IF;
        SELECT t.name, t.client, t.`user`, t.scopes INTO v_row, v_row_client, v_user, v_scopes
          FROM @SITE@.`tabOAuth Bearer Token` t
         WHERE t.refresh_token = v_refresh AND CAST(t.refresh_token AS BINARY) = CAST(v_refresh AS BINARY)
           AND t.status = 'Active'
         LIMIT 1 FOR UPDATE;
        SET v_client = @SITE@.fi_oauth_authenticate_client(params, IF(v_row IS NULL, NULL, v_row_client));
        IF v_row IS NULL OR NOT (v_row_client <=> v_client) THEN
            CALL @SITE@.fi_oauth_fail('28000', 'invalid_grant: the refresh token is invalid, revoked, or was issued to another client');
        END IF;
        SET v_scopes = CONVERT(fi_udf_oauth('scopes', v_scopes, @SITE@.fi_oauth_param(params, 'scope', 2048)) USING utf8mb4);
        IF v_scopes IS NULL THEN
            CALL @SITE@.fi_oauth_fail('22023', 'invalid_scope: a scope asked for was not granted to this refresh token');
        END IF;
        CALL @SITE@.fi_oauth_check_user(v_client, v_user);
        -- rotation: the token it replaces stops working now
        UPDATE @SITE@.`tabOAuth Bearer Token` t SET t.status = 'Revoked', t.modified = @SITE@.fi_site_now()
         WHERE t.name = v_row;
        RETURN @SITE@.fi_oauth_issue_token(v_client, v_user, v_scopes, TRUE, NULL, 'Guest', TRUE);

    ELSE
        SET v_username = @SITE@.fi_oauth_param(params, 'username', 140),
            v_password = @SITE@.fi_oauth_param(params, 'password', 1024);
        SET v_client = @SITE@.fi_oauth_authenticate_client(params, NULL);
        IF v_username IS NULL OR v_password IS NULL THEN
            CALL @SITE@.fi_oauth_fail('22023', 'invalid_request: username and password are required');
        END IF;
        SET v_user = (SELECT u.name FROM @SITE@.tabUser u WHERE u.name = v_username OR u.email = v_username
                       ORDER BY u.name = v_username DESC LIMIT 1);
        -- check_password verifies a dummy hash for an unknown user: the same time
        SET v_ok = @SITE@.check_password(COALESCE(v_user, v_username), v_password);
        SET v_password = NULL;
        IF NOT v_ok OR v_user IS NULL THEN
            CALL @SITE@.fi_oauth_fail('28000', 'invalid_grant: the username or password is not valid');
        END IF;
        CALL @SITE@.fi_oauth_check_user(v_client, v_user);
        SET v_scopes = CONVERT(fi_udf_oauth('scopes', (SELECT c.scopes FROM @SITE@.`tabOAuth Client` c WHERE c.name = v_client),
                                            @SITE@.fi_oauth_param(params, 'scope', 2048)) USING utf8mb4);
        IF v_scopes IS NULL THEN
            CALL @SITE@.fi_oauth_fail('22023', 'invalid_scope: a scope asked for is not one of the client''s');
        END IF;
        RETURN @SITE@.fi_oauth_issue_token(v_client, v_user, v_scopes, TRUE, NULL, 'Guest', TRUE);
    END IF;
END//

-- The OAuth revocation endpoint (RFC 7009): the access or refresh token
-- Revoked; always {}
CREATE OR REPLACE FUNCTION @SITE@.oauth_revoke(token LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci, token_type_hint VARCHAR(32) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_refresh_first BOOLEAN DEFAULT COALESCE(token_type_hint = 'refresh_token', FALSE);
    CALL @SITE@.fi_site_caller();
    IF token IS NULL OR token = '' OR CHAR_LENGTH(token) > 255 THEN
        RETURN '{}';
    END IF;
    UPDATE @SITE@.`tabOAuth Bearer Token` t SET t.status = 'Revoked', t.modified = @SITE@.fi_site_now()
     WHERE t.status = 'Active'
       AND IF(v_refresh_first, t.refresh_token = token AND CAST(t.refresh_token AS BINARY) = CAST(token AS BINARY),
                               t.name = token AND CAST(t.name AS BINARY) = CAST(token AS BINARY));
    IF ROW_COUNT() = 0 THEN
        UPDATE @SITE@.`tabOAuth Bearer Token` t SET t.status = 'Revoked', t.modified = @SITE@.fi_site_now()
         WHERE t.status = 'Active'
           AND IF(v_refresh_first, t.name = token AND CAST(t.name AS BINARY) = CAST(token AS BINARY),
                                   t.refresh_token = token AND CAST(t.refresh_token AS BINARY) = CAST(token AS BINARY));
    END IF;
    RETURN '{}';
END//

-- frappe.integrations.oauth2.introspect_token (RFC 7662) in Frappe's
-- shape; {"active": false} for an unknown, revoked or expired token (a
-- refresh token lives until it is used or revoked)
CREATE OR REPLACE FUNCTION @SITE@.oauth_introspect(token LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci, token_type_hint VARCHAR(32) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_refresh BOOLEAN DEFAULT COALESCE(token_type_hint = 'refresh_token', FALSE);
    DECLARE v_name VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT NULL;
    DECLARE v_status, v_client, v_user, v_skip VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_scopes LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_expires DATETIME(6);
    DECLARE v_now DATETIME(6) DEFAULT @SITE@.fi_site_now();
    DECLARE v_out, v_claims LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_name = NULL;
    CALL @SITE@.fi_site_caller();
    IF token IS NULL OR token = '' OR CHAR_LENGTH(token) > 255 THEN
        RETURN '{"active": false}';
    END IF;
    SELECT t.name, t.status, c.name, t.`user`, COALESCE(c.skip_authorization, 0), t.scopes, t.expiration_time
      INTO v_name, v_status, v_client, v_user, v_skip, v_scopes, v_expires
      FROM @SITE@.`tabOAuth Bearer Token` t
      LEFT JOIN @SITE@.`tabOAuth Client` c ON c.name = t.client
     WHERE IF(v_refresh, t.refresh_token = token AND CAST(t.refresh_token AS BINARY) = CAST(token AS BINARY),
                         t.name = token AND CAST(t.name AS BINARY) = CAST(token AS BINARY))
     LIMIT 1;
    IF v_name IS NULL OR NOT (v_status <=> 'Active') OR v_client IS NULL
       OR (NOT v_refresh AND (v_expires IS NULL OR v_expires <= v_now)) THEN
        RETURN '{"active": false}';
    END IF;
    SET v_out = JSON_OBJECT('client_id', v_client, 'trusted_client', CAST(v_skip AS SIGNED), 'active', TRUE,
                            -- the naive site-local time as a Unix time
                            'exp', ROUND(UNIX_TIMESTAMP(NOW(6)) + TIMESTAMPDIFF(MICROSECOND, v_now, v_expires) / 1000000),
                            'scope', v_scopes);
    IF FIND_IN_SET('openid', REPLACE(REGEXP_REPLACE(COALESCE(v_scopes, ''), '\\s+', ' '), ' ', ',')) > 0 THEN
        SET v_claims = @SITE@.fi_oauth_userinfo_claims(v_user, @SITE@.oauth_issuer());
        IF JSON_VALUE(v_claims, '$.sub') IS NOT NULL THEN
            -- (keys apart: a union that keeps the claims' nulls, as PostgreSQL's ||)
            SET v_out = JSON_MERGE_PRESERVE(v_out, v_claims);
        END IF;
    END IF;
    RETURN v_out;
END//

-- frappe.integrations.oauth2.openid_profile: the userinfo of a valid
-- bearer token with the openid scope
CREATE OR REPLACE FUNCTION @SITE@.oauth_userinfo(access_token LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_user VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT NULL;
    CALL @SITE@.fi_site_caller();
    SET v_user = @SITE@.validate_bearer_token(access_token, 'openid');
    IF v_user IS NULL THEN
        CALL @SITE@.fi_oauth_fail('28000', 'invalid_token: the access token is invalid, expired, revoked or lacks the openid scope');
    END IF;
    RETURN @SITE@.fi_oauth_userinfo_claims(v_user, @SITE@.oauth_issuer());
END//

-- frappe.integrations.oauth2.authorize's question: show "Confirm Access"?
-- No when the client skips authorization, or OAuth Provider Settings say
-- "Auto" and this user already holds an Active token of this client.
CREATE OR REPLACE FUNCTION @SITE@.oauth_needs_consent(user_name VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                      client_id VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS BOOLEAN
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_client VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT NULL;
    DECLARE v_skip INT DEFAULT 0;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_client = NULL;
    CALL @SITE@.fi_site_caller();
    SELECT c.name, COALESCE(c.skip_authorization, 0) INTO v_client, v_skip FROM @SITE@.`tabOAuth Client` c
     WHERE c.name = client_id AND CAST(c.name AS BINARY) = CAST(client_id AS BINARY) LIMIT 1;
    IF v_client IS NULL THEN
        CALL @SITE@.fi_oauth_fail('28000', 'invalid_client: client_id is missing or not an OAuth Client');
    END IF;
    IF v_skip = 1 THEN
        RETURN FALSE;
    END IF;
    IF NOT ((SELECT z.value FROM @SITE@.tabSingles z WHERE z.doctype = 'OAuth Provider Settings'
               AND z.field = 'skip_authorization' LIMIT 1) <=> 'Auto') THEN
        RETURN TRUE;
    END IF;
    RETURN NOT EXISTS (SELECT 1 FROM @SITE@.`tabOAuth Bearer Token` t
                        WHERE t.`user` = user_name AND t.client = v_client AND t.status = 'Active'
                          AND t.expiration_time > @SITE@.fi_site_now());
END//

-- frappe.integrations.oauth2.openid_configuration for the site's URL (or base_url)
CREATE OR REPLACE FUNCTION @SITE@.oauth_openid_configuration(base_url VARCHAR(255) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_base VARCHAR(255) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_m VARCHAR(320) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    CALL @SITE@.fi_site_caller();
    SET v_base = TRIM(TRAILING '/' FROM COALESCE(base_url, @SITE@.oauth_issuer())),
        v_m = CONCAT(v_base, '/api/method/frappe.integrations.oauth2.');
    RETURN JSON_OBJECT('issuer', v_base,
                       'authorization_endpoint', CONCAT(v_m, 'authorize'),
                       'token_endpoint', CONCAT(v_m, 'get_token'),
                       'userinfo_endpoint', CONCAT(v_m, 'openid_profile'),
                       'revocation_endpoint', CONCAT(v_m, 'revoke_token'),
                       'introspection_endpoint', CONCAT(v_m, 'introspect_token'),
                       'response_types_supported', JSON_ARRAY('code', 'token', 'code id_token', 'code token id_token',
                                                              'id_token', 'id_token token'),
                       'subject_types_supported', JSON_ARRAY('public'),
                       'id_token_signing_alg_values_supported', JSON_ARRAY('HS256'));
END//

-- ------------------------------------------------------------ Connected App
-- Frappe as an OAuth client (frappe/integrations/doctype/connected_app,
-- token_cache), PostgreSQL's connected_app_* with the same names: its
-- tables tabConnected App, tabToken Cache, tabOAuth Scope, tabQuery
-- Parameters and __Auth, its HTTP through the site's http_request (the
-- server's limits and CAs).  Token endpoints must be https (requests-
-- oauthlib's rule), except on the loopback interface.

-- key=value&... of a JSON object's non-null values, form-encoded, in the
-- order PostgreSQL's jsonb keeps keys (shorter first, then bytewise)
CREATE OR REPLACE FUNCTION @SITE@.fi_form_encode(params LONGTEXT CHARSET utf8mb4)
    RETURNS LONGTEXT CHARSET ascii
    DETERMINISTIC NO SQL SQL SECURITY INVOKER
RETURN COALESCE((SELECT GROUP_CONCAT(CONCAT(integrations.url_encode(j.k), '=', integrations.url_encode(
                                                JSON_UNQUOTE(JSON_EXTRACT(params, CONCAT('$."', j.k, '"')))))
                                     ORDER BY LENGTH(j.k), CAST(j.k AS BINARY) SEPARATOR '&')
                   FROM JSON_TABLE(JSON_KEYS(params), '$[*]' COLUMNS (k VARCHAR(255) CHARSET utf8mb4 PATH '$')) j
                  WHERE JSON_TYPE(JSON_EXTRACT(params, CONCAT('$."', j.k, '"'))) <> 'NULL'), '')//

-- a Connected App as a JSON object: its fields, its scopes (space-joined),
-- its query parameters (an object) and its redirect_uri (the one Frappe
-- wrote on save, else one on the site's URL)
CREATE OR REPLACE FUNCTION @SITE@.fi_connected_app(app VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_a LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT NULL;
    DECLARE v_msg VARCHAR(300) CHARSET utf8mb4;
    SET v_a = (SELECT JSON_OBJECT('name', c.name, 'provider_name', c.provider_name,
                                  'openid_configuration', c.openid_configuration, 'client_id', c.client_id,
                                  'redirect_uri', c.redirect_uri, 'authorization_uri', c.authorization_uri,
                                  'token_uri', c.token_uri)
                 FROM @SITE@.`tabConnected App` c WHERE c.name = app LIMIT 1);
    IF v_a IS NULL THEN
        SET v_msg = CONCAT('Connected App ', LEFT(COALESCE(app, 'NULL'), 140), ' not found');
        SIGNAL SQLSTATE 'P0002' SET MESSAGE_TEXT = v_msg;
    END IF;
    RETURN JSON_SET(v_a,
        '$.scope', COALESCE((SELECT GROUP_CONCAT(o.scope ORDER BY o.idx SEPARATOR ' ') FROM @SITE@.`tabOAuth Scope` o
                              WHERE o.parent = app AND o.parenttype = 'Connected App'), ''),
        '$.query', JSON_EXTRACT(COALESCE((SELECT JSON_OBJECTAGG(q.`key`, q.value) FROM @SITE@.`tabQuery Parameters` q
                                           WHERE q.parent = app AND q.parenttype = 'Connected App'), '{}'), '$'),
        '$.redirect_uri', COALESCE(NULLIF(JSON_VALUE(v_a, '$.redirect_uri'), ''),
            CONCAT(@SITE@.oauth_issuer(), '/api/method/frappe.integrations.doctype.connected_app.connected_app.callback/', app)));
END//

-- the app's client secret, or NULL when it has none
CREATE OR REPLACE FUNCTION @SITE@.fi_connected_app_secret(app VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE EXIT HANDLER FOR SQLSTATE 'P0002' RETURN NULL;
    RETURN @SITE@.get_password('Connected App', app, 'client_secret');
END//

-- get_password as of now: the __Auth row read with a locking read, so a
-- session that waited for a Token Cache row sees the tokens the session
-- before it stored (a plain read sees the transaction's snapshot, taken
-- before the wait, under REPEATABLE READ); NULL when there is none
CREATE OR REPLACE FUNCTION @SITE@.fi_password_current(doctype VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                      name VARCHAR(280) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                      fieldname VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_tok TEXT CHARSET utf8mb4 DEFAULT NULL;
    DECLARE v_r LONGBLOB;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_tok = NULL;
    SELECT a.password INTO v_tok FROM @SITE@.`__Auth` a
     WHERE a.doctype = doctype AND a.name = name AND a.fieldname = fieldname AND a.encrypted = 1
     LIMIT 1 LOCK IN SHARE MODE;
    IF v_tok IS NULL THEN
        RETURN NULL;
    END IF;
    SET v_r = fi_udf_fernet_decrypt(@SITE@.fi_site_key(), v_tok);
    IF v_r IS NULL THEN
        CALL integrations.raise_last_error();
    END IF;
    RETURN CONVERT(v_r USING utf8mb4);
END//

-- POST a form to the app's token endpoint; its JSON answer, or 28000
CREATE OR REPLACE FUNCTION @SITE@.fi_connected_app_post(a LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                        form LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                        auth_header LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_url LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT JSON_VALUE(a, '$.token_uri');
    DECLARE v_headers LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT
        JSON_OBJECT('Accept', 'application/json', 'Content-Type', 'application/x-www-form-urlencoded;charset=UTF-8');
    DECLARE v_r, v_j LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_status INT;
    DECLARE v_msg VARCHAR(500) CHARSET utf8mb4;
    IF v_url IS NULL OR v_url = '' THEN
        SET v_msg = CONCAT('Connected App ', LEFT(JSON_VALUE(a, '$.name'), 140), ' has no token_uri (fill it, or call connected_app_fetch_openid_configuration)');
        SIGNAL SQLSTATE '55000' SET MESSAGE_TEXT = v_msg;
    END IF;
    IF NOT (v_url RLIKE '^(?i)https://' OR v_url RLIKE '^(?i)http://(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]+)?/') THEN
        SET v_msg = CONCAT('the token_uri of Connected App ', LEFT(JSON_VALUE(a, '$.name'), 140), ' must be https');
        SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = v_msg;
    END IF;
    IF auth_header IS NOT NULL THEN
        SET v_headers = JSON_SET(v_headers, '$.Authorization', auth_header);
    END IF;
    SET v_r = @SITE@.http_request('POST', v_url, v_headers,
                                  @SITE@.fi_form_encode(JSON_MERGE_PATCH(form, COALESCE(JSON_EXTRACT(a, '$.query'), '{}'))), NULL);
    SET v_headers = NULL;
    SET v_status = JSON_VALUE(v_r, '$.status'), v_j = JSON_UNQUOTE(JSON_EXTRACT(v_r, '$.body'));
    IF NOT JSON_VALID(v_j) OR JSON_TYPE(v_j) <> 'OBJECT' THEN
        SET v_j = NULL;
    END IF;
    IF v_status >= 400 OR v_j IS NULL OR NOT JSON_CONTAINS_PATH(v_j, 'one', '$.access_token') THEN
        SET v_msg = CONCAT('the token endpoint of Connected App ', LEFT(JSON_VALUE(a, '$.name'), 140), ' refused: HTTP ', v_status,
                           IF(v_j IS NULL, '', CONCAT(' (', LEFT(TRIM(CONCAT(COALESCE(JSON_VALUE(v_j, '$.error'), ''), ' ',
                                                                             COALESCE(JSON_VALUE(v_j, '$.error_description'), ''))), 200), ')')));
        SIGNAL SQLSTATE '28000' SET MESSAGE_TEXT = v_msg;
    END IF;
    IF LOWER(COALESCE(JSON_VALUE(v_j, '$.token_type'), '')) NOT IN ('bearer', 'mac') THEN
        SIGNAL SQLSTATE '28000' SET MESSAGE_TEXT = 'Received an invalid token type.';
    END IF;
    RETURN v_j;
END//

-- Token Cache.update_data: the tokens into __Auth (the columns masked as
-- Frappe masks a Password field), expires_in, token type, the granted
-- scopes; the state cleared
CREATE OR REPLACE PROCEDURE @SITE@.fi_token_cache_store(cache_name VARCHAR(280) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                        tok LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_access LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT JSON_VALUE(tok, '$.access_token');
    DECLARE v_refresh LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT NULLIF(JSON_VALUE(tok, '$.refresh_token'), '');
    DECLARE v_scopes LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_now DATETIME(6) DEFAULT @SITE@.fi_site_now();
    DECLARE v_i INT DEFAULT 0;
    DECLARE v_n INT;
    UPDATE @SITE@.`tabToken Cache` t
       SET t.expires_in = COALESCE(ROUND(JSON_VALUE(tok, '$.expires_in')), 0),
           t.token_type = IF(LOWER(JSON_VALUE(tok, '$.token_type')) = 'mac', 'MAC', 'Bearer'),
           t.state = NULL, t.modified = v_now,
           t.access_token = REPEAT('*', CHAR_LENGTH(v_access)),
           t.refresh_token = IF(v_refresh IS NULL, t.refresh_token, REPEAT('*', CHAR_LENGTH(v_refresh)))
     WHERE t.name = cache_name;
    CALL @SITE@.set_password('Token Cache', cache_name, 'access_token', v_access);
    IF v_refresh IS NOT NULL THEN
        CALL @SITE@.set_password('Token Cache', cache_name, 'refresh_token', v_refresh);
    END IF;
    SET v_access = NULL, v_refresh = NULL;
    IF JSON_CONTAINS_PATH(tok, 'one', '$.scope') THEN
        -- a list of scopes, or one space-separated string of them
        SET v_scopes = IF(JSON_TYPE(JSON_EXTRACT(tok, '$.scope')) = 'ARRAY', JSON_EXTRACT(tok, '$.scope'),
                          CONCAT('["', REPLACE(REPLACE(REGEXP_REPLACE(TRIM(COALESCE(JSON_VALUE(tok, '$.scope'), '')), '\\s+', ' '),
                                                       '\\', '\\\\'), ' ', '", "'), '"]'));
        IF NOT JSON_VALID(v_scopes) THEN
            SET v_scopes = JSON_ARRAY();
        END IF;
        DELETE FROM @SITE@.`tabOAuth Scope` WHERE parent = cache_name AND parenttype = 'Token Cache';
        SET v_n = JSON_LENGTH(v_scopes);
        WHILE v_i < v_n DO
            IF COALESCE(JSON_VALUE(v_scopes, CONCAT('$[', v_i, ']')), '') <> '' THEN
                INSERT INTO @SITE@.`tabOAuth Scope` (name, creation, modified, owner, modified_by, docstatus, idx,
                                                     parent, parenttype, parentfield, scope)
                VALUES (integrations.random_name(), v_now, v_now, 'Administrator', 'Administrator', 0, v_i + 1,
                        cache_name, 'Token Cache', 'scopes', JSON_VALUE(v_scopes, CONCAT('$[', v_i, ']')));
            END IF;
            SET v_i = v_i + 1;
        END WHILE;
    END IF;
END//

-- initiate_web_application_flow: the provider's authorization URL (state,
-- and PKCE S256, which Frappe v15 lacks; the verifier kept encrypted in
-- __Auth); the user's Token Cache <app>-<user> keeps the state
CREATE OR REPLACE FUNCTION @SITE@.connected_app_authorize_url(app VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                              user_name VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                              success_uri LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_a LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_cache VARCHAR(280) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT CONCAT(app, '-', user_name);
    DECLARE v_state VARCHAR(30) CHARSET ascii DEFAULT integrations.generate_token(30);
    DECLARE v_verifier VARCHAR(64) CHARSET ascii DEFAULT integrations.generate_token(64);
    DECLARE v_now DATETIME(6) DEFAULT @SITE@.fi_site_now();
    DECLARE v_auth LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_msg VARCHAR(300) CHARSET utf8mb4;
    CALL @SITE@.fi_site_caller();
    SET v_a = @SITE@.fi_connected_app(app), v_auth = JSON_VALUE(v_a, '$.authorization_uri');
    IF COALESCE(v_auth, '') = '' THEN
        SET v_msg = CONCAT('Connected App ', LEFT(app, 140), ' has no authorization_uri');
        SIGNAL SQLSTATE '55000' SET MESSAGE_TEXT = v_msg;
    END IF;
    INSERT INTO @SITE@.`tabToken Cache` (name, creation, modified, owner, modified_by, docstatus, idx, `user`,
                                         connected_app, provider_name, state, success_uri)
    VALUES (v_cache, v_now, v_now, user_name, user_name, 0, 0, user_name, app, JSON_VALUE(v_a, '$.provider_name'),
            v_state, success_uri)
    ON DUPLICATE KEY UPDATE state = VALUES(state), success_uri = VALUES(success_uri);
    CALL @SITE@.set_password('Token Cache', v_cache, 'code_verifier', v_verifier);
    RETURN CONCAT(v_auth, IF(LOCATE('?', v_auth) > 0, '&', '?'),
        @SITE@.fi_form_encode(JSON_MERGE_PATCH(JSON_OBJECT('response_type', 'code', 'client_id', JSON_VALUE(v_a, '$.client_id'),
            'redirect_uri', JSON_VALUE(v_a, '$.redirect_uri'), 'scope', JSON_VALUE(v_a, '$.scope'), 'state', v_state,
            'code_challenge', TRIM(TRAILING '=' FROM REPLACE(REPLACE(TO_BASE64(UNHEX(SHA2(v_verifier, 256))), '+', '-'), '/', '_')),
            'code_challenge_method', 'S256'), JSON_EXTRACT(v_a, '$.query'))));
END//

-- Frappe's Connected App callback: the code exchanged (state checked, the
-- PKCE verifier sent), the tokens stored as Frappe stores them; returns
-- where to send the user
CREATE OR REPLACE FUNCTION @SITE@.connected_app_callback(code LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                         state LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_cache VARCHAR(280) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT NULL;
    DECLARE v_app VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_success LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_a, v_tok, v_verifier LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_cache = NULL;
    CALL @SITE@.fi_site_caller();
    IF COALESCE(state, '') = '' OR COALESCE(code, '') = '' OR CHAR_LENGTH(state) > 140 THEN
        SIGNAL SQLSTATE '28000' SET MESSAGE_TEXT = 'Invalid token state! Check if the token has been created by the OAuth user.';
    END IF;
    SELECT t.name, t.connected_app, t.success_uri INTO v_cache, v_app, v_success FROM @SITE@.`tabToken Cache` t
     WHERE t.state = state AND CAST(t.state AS BINARY) = CAST(state AS BINARY) LIMIT 1 FOR UPDATE;
    IF v_cache IS NULL THEN
        SIGNAL SQLSTATE '28000' SET MESSAGE_TEXT = 'Invalid token state! Check if the token has been created by the OAuth user.';
    END IF;
    SET v_a = @SITE@.fi_connected_app(v_app);
    BEGIN
        DECLARE EXIT HANDLER FOR SQLSTATE 'P0002' SET v_verifier = NULL;
        SET v_verifier = @SITE@.get_password('Token Cache', v_cache, 'code_verifier');
    END;
    SET v_tok = @SITE@.fi_connected_app_post(v_a, JSON_OBJECT('grant_type', 'authorization_code', 'code', code,
                    'redirect_uri', JSON_VALUE(v_a, '$.redirect_uri'), 'client_id', JSON_VALUE(v_a, '$.client_id'),
                    'client_secret', @SITE@.fi_connected_app_secret(v_app), 'code_verifier', v_verifier), NULL);
    SET v_verifier = NULL;
    CALL @SITE@.fi_token_cache_store(v_cache, v_tok);
    SET v_tok = NULL;
    CALL @SITE@.set_password('Token Cache', v_cache, 'code_verifier', NULL);
    RETURN COALESCE(NULLIF(v_success, ''), CONCAT('/app/connected-app/', v_app));
END//

-- get_active_token / get_backend_app_token: a valid access token of the
-- user (NULL: the app's own, client credentials), refreshed when it
-- expires within a minute.  The Token Cache row is locked while
-- refreshing, so sessions asking at the same moment wait for one refresh
-- and share it.
CREATE OR REPLACE FUNCTION @SITE@.connected_app_token(app VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci,
                                                      user_name VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_a LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_cache VARCHAR(280) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT CONCAT(app, '-', COALESCE(user_name, ''));
    DECLARE v_found VARCHAR(280) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT NULL;
    DECLARE v_left DOUBLE;
    DECLARE v_tok, v_secret, v_refresh, v_access LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_msg VARCHAR(500) CHARSET utf8mb4;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_found = NULL;
    CALL @SITE@.fi_site_caller();
    SET v_a = @SITE@.fi_connected_app(app);
    IF user_name IS NULL THEN
        -- the backend token's row exists or is made now (then locked either way)
        INSERT IGNORE INTO @SITE@.`tabToken Cache` (name, creation, modified, owner, modified_by, docstatus, idx,
                                                    connected_app, provider_name, expires_in)
        VALUES (v_cache, @SITE@.fi_site_now() - INTERVAL 1 DAY, @SITE@.fi_site_now() - INTERVAL 1 DAY, 'Administrator',
                'Administrator', 0, 0, app, JSON_VALUE(v_a, '$.provider_name'), 0);
    END IF;
    SELECT t.name, TIMESTAMPDIFF(MICROSECOND, @SITE@.fi_site_now(), t.modified + INTERVAL COALESCE(t.expires_in, 0) SECOND) / 1e6
      INTO v_found, v_left
      FROM @SITE@.`tabToken Cache` t WHERE t.name = v_cache LIMIT 1 FOR UPDATE;
    IF v_found IS NULL THEN
        SET v_msg = CONCAT('re-authorisation required: user ', LEFT(user_name, 140), ' has not connected Connected App ', LEFT(app, 140),
                           ' (send the user to connected_app_authorize_url(app, user))');
        SIGNAL SQLSTATE '28000' SET MESSAGE_TEXT = v_msg;
    END IF;
    IF v_left > 60 THEN
        SET v_access = @SITE@.fi_password_current('Token Cache', v_cache, 'access_token');
        IF v_access IS NOT NULL THEN
            RETURN v_access;
        END IF;
    END IF;
    SET v_secret = @SITE@.fi_connected_app_secret(app);
    IF user_name IS NULL THEN
        SET v_tok = @SITE@.fi_connected_app_post(v_a, JSON_OBJECT('grant_type', 'client_credentials',
                        'scope', NULLIF(JSON_VALUE(v_a, '$.scope'), '')),
                        CONCAT('Basic ', REPLACE(TO_BASE64(CONCAT(JSON_VALUE(v_a, '$.client_id'), ':', COALESCE(v_secret, ''))), '\n', '')));
    ELSE
        SET v_refresh = @SITE@.fi_password_current('Token Cache', v_cache, 'refresh_token');
        IF v_refresh IS NULL THEN
            SET v_msg = CONCAT('re-authorisation required: no refresh token for Connected App ', LEFT(app, 140), ' and user ', LEFT(user_name, 140));
            SIGNAL SQLSTATE '28000' SET MESSAGE_TEXT = v_msg;
        END IF;
        BEGIN
            DECLARE EXIT HANDLER FOR SQLSTATE '28000', SQLSTATE '08006'
            BEGIN
                SET v_msg = CONCAT('re-authorisation required: the token of Connected App ', LEFT(app, 140), ' for user ',
                                   LEFT(user_name, 140), ' could not be refreshed');
                SIGNAL SQLSTATE '28000' SET MESSAGE_TEXT = v_msg;
            END;
            SET v_tok = @SITE@.fi_connected_app_post(v_a, JSON_OBJECT('grant_type', 'refresh_token', 'refresh_token', v_refresh,
                            'scope', NULLIF(JSON_VALUE(v_a, '$.scope'), ''), 'redirect_uri', JSON_VALUE(v_a, '$.redirect_uri'),
                            'client_id', JSON_VALUE(v_a, '$.client_id'), 'client_secret', v_secret), NULL);
        END;
    END IF;
    SET v_secret = NULL, v_refresh = NULL;
    CALL @SITE@.fi_token_cache_store(v_cache, v_tok);
    RETURN JSON_VALUE(v_tok, '$.access_token');
END//

-- connected_app.js "Get OpenID Configuration", done by the server: the
-- provider's endpoints written into the app's row
CREATE OR REPLACE FUNCTION @SITE@.connected_app_fetch_openid_configuration(app VARCHAR(140) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci
    NOT DETERMINISTIC MODIFIES SQL DATA SQL SECURITY DEFINER
BEGIN
    DECLARE v_a, v_c LONGTEXT CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_msg VARCHAR(300) CHARSET utf8mb4;
    CALL @SITE@.fi_site_caller();
    SET v_a = @SITE@.fi_connected_app(app);
    IF COALESCE(JSON_VALUE(v_a, '$.openid_configuration'), '') = '' THEN
        SET v_msg = CONCAT('Connected App ', LEFT(app, 140), ' has no openid_configuration URL');
        SIGNAL SQLSTATE '55000' SET MESSAGE_TEXT = v_msg;
    END IF;
    SET v_c = @SITE@.http_get(JSON_VALUE(v_a, '$.openid_configuration'), NULL, NULL);
    IF v_c IS NULL OR NOT JSON_VALID(v_c) OR JSON_TYPE(v_c) <> 'OBJECT' THEN
        SET v_msg = CONCAT('the OpenID configuration of Connected App ', LEFT(app, 140), ' is not a JSON object');
        SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = v_msg;
    END IF;
    UPDATE @SITE@.`tabConnected App` c
       SET c.authorization_uri = COALESCE(JSON_VALUE(v_c, '$.authorization_endpoint'), c.authorization_uri),
           c.token_uri = COALESCE(JSON_VALUE(v_c, '$.token_endpoint'), c.token_uri),
           c.userinfo_uri = COALESCE(JSON_VALUE(v_c, '$.userinfo_endpoint'), c.userinfo_uri),
           c.introspection_uri = COALESCE(JSON_VALUE(v_c, '$.introspection_endpoint'), c.introspection_uri),
           c.revocation_uri = COALESCE(JSON_VALUE(v_c, '$.revocation_endpoint'), c.revocation_uri),
           c.modified = @SITE@.fi_site_now()
     WHERE c.name = app;
    RETURN v_c;
END//

DELIMITER ;
