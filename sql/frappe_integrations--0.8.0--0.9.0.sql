-- frappe_integrations 0.8.0 -> 0.9.0: the OAuth provider's rules in C
-- (src/engine/oauth.c, shared with the MariaDB build); the flows below keep
-- their tables, rows and answers.
\echo Use "ALTER EXTENSION frappe_integrations UPDATE TO '0.9.0'" to load this file. \quit

-- ---------------------------------------------------------- the rules (C)

CREATE OR REPLACE FUNCTION integrations.oauth_scopes(client_scopes text, requested text)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_oauth_scopes_sql'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION integrations.oauth_scopes(text, text) IS
'The scopes granted: those asked for (in the order asked, once each) when all are the client''s; none asked: all the client''s; NULL when one is not';

CREATE OR REPLACE FUNCTION integrations.oauth_half_hash(value text)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_oauth_half_hash_sql'
LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION integrations.oauth_half_hash(text) IS
'base64url of the left half of SHA-256: an id_token''s at_hash and c_hash (OpenID Core 3.1.3.6)';

CREATE FUNCTION integrations.oauth_redirect_uri(client jsonb, redirect_uri text)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_oauth_redirect_uri_sql'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION integrations.oauth_redirect_uri(jsonb, text) IS
'The redirect URI of an authorization request: the one asked for when the client registered it, else its default; invalid_request (raised) when it has none that fits';

CREATE FUNCTION integrations.oauth_authorize_rules(response_type text, scope text, nonce text,
                                                   code_challenge text, code_challenge_method text,
                                                   client jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_oauth_authorize_rules'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION integrations.oauth_authorize_rules(text, text, text, text, text, jsonb) IS
'What the authorization endpoint grants the client: {code, token, id_token, in_fragment} and {scopes, challenge_method}, or {error, error_description}';

CREATE FUNCTION integrations.oauth_redirect(uri text, in_fragment boolean, pairs text[])
RETURNS text
AS 'MODULE_PATHNAME', 'fi_oauth_redirect_sql'
LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION integrations.oauth_redirect(text, boolean, text[]) IS
'uri with the pairs (key, value, ...; a NULL value leaves its pair out) form-urlencoded in its fragment or query';

CREATE FUNCTION integrations.oauth_grant_type(grant_type text)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_oauth_grant_type_sql'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION integrations.oauth_grant_type(text) IS
'The token request''s grant_type when Frappe supports it (authorization_code, refresh_token, password); else the OAuth error, raised';

CREATE FUNCTION integrations.oauth_pkce_syntax(value text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'fi_oauth_pkce_syntax_sql'
LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION integrations.oauth_pkce_syntax(text) IS
'A PKCE code_verifier or code_challenge: 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 4.1)';

CREATE FUNCTION integrations.oauth_code_exchange_ok(code jsonb, redirect_uri text, code_verifier text, client jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'fi_oauth_code_exchange_ok_sql'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION integrations.oauth_code_exchange_ok(jsonb, text, text, jsonb) IS
'An OAuth Authorization Code row may be exchanged with this redirect_uri and code_verifier: the redirect URI it was issued for, PKCE, a public client''s proof';

CREATE FUNCTION integrations.oauth_basic_credentials(header text, client_id text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'fi_oauth_basic_credentials_sql'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION integrations.oauth_basic_credentials(text, text) IS
'{client id, secret} of HTTP Basic client credentials (RFC 6749 2.3.1); invalid_request when they are not that or name another client';

-- ------------------------------------------------------------ the flows

CREATE OR REPLACE FUNCTION integrations.oauth_authenticate_client(params jsonb, fallback_client text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    id text := integrations.oauth_param(params, 'client_id', 140);
    secret text := integrations.oauth_param(params, 'client_secret', 255);
    basic text := integrations.oauth_param(params, 'authorization', 1024);
    pair text[];
    c jsonb;
    ok boolean;
BEGIN
    IF basic IS NOT NULL THEN
        pair := integrations.oauth_basic_credentials(basic, id);
        id := pair[1];
        secret := pair[2];
    END IF;
    id := coalesce(id, fallback_client);
    IF id IS NULL THEN
        PERFORM integrations.oauth_fail('invalid_request', 'client_id is missing');
    END IF;
    c := integrations.oauth_client(id);
    -- one answer for an unknown client, a missing secret and a wrong one;
    -- the comparison runs either way
    ok := integrations.secure_compare(coalesce(c ->> 'client_secret', '-'), coalesce(secret, ''));
    IF c IS NULL OR (coalesce(c ->> 'client_secret', '') <> '' AND NOT ok) THEN
        PERFORM integrations.oauth_fail('invalid_client', 'client authentication failed', '28000');
    END IF;
    RETURN c;
END
$$;

CREATE OR REPLACE FUNCTION integrations.oauth_authorize(user_name text, params jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    client_id text := integrations.oauth_param(params, 'client_id', 140);
    redirect_uri text := integrations.oauth_param(params, 'redirect_uri');
    response_type text := integrations.oauth_param(params, 'response_type', 64);
    state text := integrations.oauth_param(params, 'state');
    nonce text := integrations.oauth_param(params, 'nonce', 140);
    challenge text := integrations.oauth_param(params, 'code_challenge', 140);
    method text := integrations.oauth_param(params, 'code_challenge_method', 16);
    requested text := integrations.oauth_param(params, 'scope');
    c jsonb;
    g jsonb;
    scopes text;
    code text;
    tok jsonb;
    id_token text;
    out jsonb := '{}';
BEGIN
    IF params IS NULL OR jsonb_typeof(params) <> 'object' THEN
        PERFORM integrations.oauth_fail('invalid_request', 'the parameters must be a JSON object');
    END IF;
    c := integrations.oauth_client(client_id);
    IF c IS NULL THEN
        PERFORM integrations.oauth_fail('invalid_client', 'client_id is missing or not an OAuth Client', '28000');
    END IF;
    redirect_uri := integrations.oauth_redirect_uri(c, redirect_uri);
    PERFORM integrations.oauth_check_user(c, user_name);

    -- from here on, errors go back to the client through the redirect
    g := integrations.oauth_authorize_rules(response_type, requested, nonce, challenge, method, c);
    IF g ? 'error' THEN
        RETURN jsonb_build_object('error', g ->> 'error', 'error_description', g ->> 'error_description',
                                  'redirect_to', integrations.oauth_redirect(redirect_uri, (g ->> 'in_fragment')::boolean,
                                      ARRAY['error', g ->> 'error', 'error_description', g ->> 'error_description',
                                            'state', state]));
    END IF;
    scopes := g ->> 'scopes';

    IF (g ->> 'code')::boolean THEN
        code := integrations.generate_token(30);
        EXECUTE format('INSERT INTO %I.%I (name, creation, modified, modified_by, owner, docstatus, idx, client, "user", '
                       'scopes, authorization_code, expiration_time, redirect_uri_bound_to_authorization_code, '
                       'validity, nonce, code_challenge, code_challenge_method) '
                       'VALUES ($1, $2, $2, $3, $3, 0, 0, $4, $3, $5, $1, $2 + interval ''10 minutes'', $6, ''Valid'', '
                       '$7, $8, $9)', site, 'tabOAuth Authorization Code')
           USING code, integrations.site_now(), user_name, c ->> 'name', scopes, redirect_uri, nonce, challenge,
                 g ->> 'challenge_method';
        out := jsonb_build_object('code', code);
    END IF;
    IF (g ->> 'token')::boolean THEN
        tok := integrations.oauth_issue_token(c, user_name, scopes, false, nonce, user_name, false);
        out := out || tok;
    END IF;
    IF (g ->> 'id_token')::boolean THEN
        id_token := integrations.oauth_id_token(c, user_name, nonce, tok ->> 'access_token', code);
        out := out || jsonb_build_object('id_token', id_token);
    END IF;
    IF state IS NOT NULL THEN
        out := out || jsonb_build_object('state', state);
    END IF;
    RETURN out || jsonb_build_object('redirect_to', integrations.oauth_redirect(redirect_uri,
        (g ->> 'in_fragment')::boolean,
        ARRAY['code', code,
              'access_token', tok ->> 'access_token',
              'expires_in', CASE WHEN tok IS NOT NULL THEN '3600' END,
              'token_type', CASE WHEN tok IS NOT NULL THEN 'Bearer' END,
              'scope', CASE WHEN tok IS NOT NULL THEN scopes END,
              'id_token', id_token,
              'state', state]));
END
$$;
COMMENT ON FUNCTION integrations.oauth_authorize(text, jsonb) IS
'The OAuth authorization endpoint after the user''s consent (Frappe''s approve): a code (10 minutes, once, PKCE) or an implicit token, and where to redirect';

CREATE OR REPLACE FUNCTION integrations.oauth_token(params jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    grant_type text;
    c jsonb;
    row jsonb;
    code text;
    verifier text;
    redirect_uri text;
    refresh text;
    scopes text;
    username text;
    password text;
    user_name text;
    bad constant text := 'the authorization code is invalid, expired, already used, or was issued to another client or redirect URI';
BEGIN
    IF params IS NULL OR jsonb_typeof(params) <> 'object' THEN
        PERFORM integrations.oauth_fail('invalid_request', 'the parameters must be a JSON object');
    END IF;
    grant_type := integrations.oauth_grant_type(integrations.oauth_param(params, 'grant_type', 64));

    IF grant_type = 'authorization_code' THEN
        code := integrations.oauth_param(params, 'code', 255);
        verifier := integrations.oauth_param(params, 'code_verifier', 255);
        redirect_uri := integrations.oauth_param(params, 'redirect_uri');
        c := integrations.oauth_authenticate_client(params);
        IF code IS NULL THEN
            PERFORM integrations.oauth_fail('invalid_request', 'code is missing');
        END IF;
        IF verifier IS NOT NULL AND NOT integrations.oauth_pkce_syntax(verifier) THEN
            PERFORM integrations.oauth_fail('invalid_request', 'code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~');
        END IF;
        -- the code, locked: of this client, Valid, not expired (Frappe's
        -- codes without an expiration_time last 10 minutes from creation)
        EXECUTE format('SELECT to_jsonb(a) FROM %I.%I a WHERE name = $1 AND client = $2 AND validity = ''Valid'' '
                       'AND coalesce(expiration_time, creation + interval ''10 minutes'') > $3 FOR UPDATE',
                       site, 'tabOAuth Authorization Code')
           INTO row USING code, c ->> 'name', integrations.site_now();
        IF row IS NULL OR NOT integrations.oauth_code_exchange_ok(row, redirect_uri, verifier, c) THEN
            PERFORM integrations.oauth_fail('invalid_grant', bad, '28000');
        END IF;
        user_name := row ->> 'user';
        PERFORM integrations.oauth_check_user(c, user_name);
        EXECUTE format('UPDATE %I.%I SET validity = ''Invalid'', modified = $2 WHERE name = $1',
                       site, 'tabOAuth Authorization Code')
           USING code, integrations.site_now();
        RETURN integrations.oauth_issue_token(c, user_name, row ->> 'scopes', true,
                                              nullif(row ->> 'nonce', ''), 'Guest');

    ELSIF grant_type = 'refresh_token' THEN
        refresh := integrations.oauth_param(params, 'refresh_token', 255);
        IF refresh IS NULL THEN
            PERFORM integrations.oauth_fail('invalid_request', 'refresh_token is missing');
        END IF;
        EXECUTE format('SELECT to_jsonb(t) FROM %I.%I t WHERE refresh_token = $1 AND status = ''Active'' FOR UPDATE',
                       site, 'tabOAuth Bearer Token')
           INTO row USING refresh;
        c := integrations.oauth_authenticate_client(params, row ->> 'client');
        IF row IS NULL OR row ->> 'client' IS DISTINCT FROM c ->> 'name' THEN
            PERFORM integrations.oauth_fail('invalid_grant', 'the refresh token is invalid, revoked, or was issued to another client', '28000');
        END IF;
        scopes := integrations.oauth_scopes(row ->> 'scopes', integrations.oauth_param(params, 'scope'));
        IF scopes IS NULL THEN
            PERFORM integrations.oauth_fail('invalid_scope', 'a scope asked for was not granted to this refresh token');
        END IF;
        user_name := row ->> 'user';
        PERFORM integrations.oauth_check_user(c, user_name);
        -- rotation: the token it replaces stops working now
        EXECUTE format('UPDATE %I.%I SET status = ''Revoked'', modified = $2 WHERE name = $1', site, 'tabOAuth Bearer Token')
           USING row ->> 'name', integrations.site_now();
        RETURN integrations.oauth_issue_token(c, user_name, scopes, true, NULL, 'Guest');

    ELSE
        username := integrations.oauth_param(params, 'username', 140);
        password := integrations.oauth_param(params, 'password', 1024);
        c := integrations.oauth_authenticate_client(params);
        IF username IS NULL OR password IS NULL THEN
            PERFORM integrations.oauth_fail('invalid_request', 'username and password are required');
        END IF;
        EXECUTE format('SELECT name FROM %I.%I WHERE name = $1 OR email = $1 ORDER BY name = $1 DESC LIMIT 1',
                       site, 'tabUser')
           INTO user_name USING username;
        -- check_password verifies a dummy hash for an unknown user: same time
        IF NOT integrations.check_password(coalesce(user_name, username), password) OR user_name IS NULL THEN
            PERFORM integrations.oauth_fail('invalid_grant', 'the username or password is not valid', '28000');
        END IF;
        PERFORM integrations.oauth_check_user(c, user_name);
        scopes := integrations.oauth_scopes(c ->> 'scopes', integrations.oauth_param(params, 'scope'));
        IF scopes IS NULL THEN
            PERFORM integrations.oauth_fail('invalid_scope', 'a scope asked for is not one of the client''s');
        END IF;
        RETURN integrations.oauth_issue_token(c, user_name, scopes, true, NULL, 'Guest');
    END IF;
END
$$;
COMMENT ON FUNCTION integrations.oauth_token(jsonb) IS
'The OAuth token endpoint (authorization_code with PKCE and redirect binding, refresh_token with rotation, password); the client secret is checked';

-- ------------------------------------------------------ Data Import: Excel

-- The active sheet of an Excel workbook (.xlsx), read as Frappe reads it
-- (openpyxl data_only: values, cached formula results, dates by number
-- format), imported with import_csv's rules, options and result.
-- (import_csv_file reads a path ending in .xlsx the same way.)
CREATE FUNCTION integrations.import_xlsx(doctype text, data bytea,
                                         import_type text DEFAULT 'Insert New Records',
                                         options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_import_xlsx'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.import_xlsx(text, bytea, text, jsonb) IS
'Import the active sheet of an Excel workbook (.xlsx) into a DocType with Frappe''s Data Import rules, as import_csv does (options as import_csv''s, and xlsx_max_part)';

-- the replaced SQL and PL/pgSQL functions pin search_path again, as 0.8.0's did
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
             JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype = 'e'
             JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'frappe_integrations'
             JOIN pg_catalog.pg_language l ON l.oid = p.prolang
             WHERE l.lanname IN ('sql', 'plpgsql') AND p.proconfig IS NULL
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
    END LOOP;
END
$$;
