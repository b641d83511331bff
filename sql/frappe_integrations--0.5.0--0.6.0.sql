-- frappe_integrations 0.5.0 -> 0.6.0: the OAuth 2 / OpenID Connect provider.
\echo Use "ALTER EXTENSION frappe_integrations UPDATE TO '0.6.0'" to load this file. \quit

-- The flows are SQL over Frappe's own tables (OAuth Client, OAuth
-- Authorization Code, OAuth Bearer Token, tabSingles), written as Frappe
-- writes them, with the holes of Frappe v15 closed (frappe-facts 5.4): the
-- client secret is checked, the redirect URI is bound to the code, codes
-- expire after 10 minutes and serve once, a refresh revokes the token it
-- replaces, introspection says inactive once expired, the client's allowed
-- roles are enforced.  Errors are raised with the OAuth error code first in
-- the message ("invalid_grant: ..."): 22023 for a bad request, 28000 for a
-- refused client or grant, 42501 for a user without an allowed role.  The
-- caller (a gateway, a job) maps them to HTTP 400 / 401.

-- ---------------------------------------------------------------- C pieces

CREATE FUNCTION integrations.jwt_hs256(claims jsonb, key text)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_jwt_hs256'
LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION integrations.jwt_hs256(jsonb, text) IS
'An HS256 JSON Web Token of the claims, with Frappe''s header {"alg":"HS256","typ":"jwt"}';

CREATE FUNCTION integrations.jwt_decode_hs256(token text, key text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_jwt_decode_hs256'
LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION integrations.jwt_decode_hs256(text, text) IS
'The claims of an HS256 JWT signed with the key, else NULL (times are not checked)';

CREATE FUNCTION integrations.secure_compare(a text, b text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'fi_secure_compare'
LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION integrations.secure_compare(text, text) IS
'a = b in constant time (for secrets)';

CREATE FUNCTION integrations.url_encode(value text)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_url_encode'
LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION integrations.url_encode(text) IS
'A value form-urlencoded as Python''s urlencode writes it (quote_plus)';

-- ------------------------------------------------------------- SQL helpers

-- One OAuth error: the OAuth code first in the message.
CREATE FUNCTION integrations.oauth_fail(code text, description text, sqlstate text DEFAULT '22023')
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = code || ': ' || description;
END
$$;

-- A form parameter: a JSON string or absent; empty is absent (RFC 6749 3.1).
CREATE FUNCTION integrations.oauth_param(params jsonb, key text, maxlen integer DEFAULT 2048)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    v jsonb := params -> key;
BEGIN
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(v) <> 'string' THEN
        PERFORM integrations.oauth_fail('invalid_request', format('parameter %s must be a string', key));
    END IF;
    IF length(v #>> '{}') > maxlen THEN
        PERFORM integrations.oauth_fail('invalid_request',
                                        format('parameter %s is longer than %s characters', key, maxlen));
    END IF;
    RETURN nullif(v #>> '{}', '');
END
$$;

-- The site's URL: Social Login Key "frappe"'s base_url, else the setting.
CREATE FUNCTION integrations.oauth_issuer()
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    url text;
BEGIN
    IF to_regclass(format('%I.%I', site, 'tabSocial Login Key')) IS NOT NULL THEN
        EXECUTE format('SELECT nullif(base_url, '''') FROM %I.%I WHERE name = ''frappe''', site, 'tabSocial Login Key')
           INTO url;
    END IF;
    url := coalesce(url, nullif(current_setting('frappe_integrations.site_url', true), ''));
    IF url IS NULL THEN
        RAISE EXCEPTION 'the site''s URL is not known'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Set frappe_integrations.site_url (ALTER DATABASE ... SET frappe_integrations.site_url = ''https://erp.example.com''): it is the OAuth issuer.';
    END IF;
    RETURN rtrim(url, '/');
END
$$;

-- Frappe's get_roles(user).
CREATE FUNCTION integrations.user_roles(user_name text)
RETURNS text[]
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    roles text[];
    system_user boolean;
BEGIN
    IF user_name IS NULL OR user_name = 'Guest' THEN
        RETURN ARRAY['Guest'];
    END IF;
    IF user_name = 'Administrator' THEN
        EXECUTE format('SELECT array_agg(name ORDER BY name) FROM %I.%I', site, 'tabRole') INTO roles;
        RETURN coalesce(roles, '{}');
    END IF;
    EXECUTE format('SELECT array_agg(role ORDER BY idx) FROM %I.%I WHERE parenttype = ''User'' AND parent = $1 '
                   'AND role NOT IN (''Guest'', ''All'', ''Desk User'', ''Administrator'')', site, 'tabHas Role')
       INTO roles USING user_name;
    EXECUTE format('SELECT user_type = ''System User'' FROM %I.%I WHERE name = $1', site, 'tabUser')
       INTO system_user USING user_name;
    roles := coalesce(roles, '{}') || ARRAY['All', 'Guest'];
    IF system_user THEN
        roles := roles || 'Desk User'::text;
    END IF;
    RETURN roles;
END
$$;
COMMENT ON FUNCTION integrations.user_roles(text) IS
'Frappe''s get_roles: the user''s roles with All, Guest and (system users) Desk User; every role for Administrator';

-- Frappe's get_userinfo (the OpenID claims of a user).
CREATE FUNCTION integrations.oauth_userinfo_claims(user_name text, issuer text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    u jsonb;
    sub text;
    picture text;
BEGIN
    EXECUTE format('SELECT to_jsonb(u) FROM %I.%I u WHERE name = $1', site, 'tabUser') INTO u USING user_name;
    IF to_regclass(format('%I.%I', site, 'tabUser Social Login')) IS NOT NULL THEN
        EXECUTE format('SELECT userid FROM %I.%I WHERE parent = $1 AND provider = ''frappe'' ORDER BY idx LIMIT 1',
                       site, 'tabUser Social Login')
           INTO sub USING user_name;
    END IF;
    picture := nullif(u ->> 'user_image', '');
    IF picture IS NOT NULL AND picture !~* '^(https?|ftps?)://' THEN
        picture := issuer || CASE WHEN picture LIKE '/%' THEN '' ELSE '/' END || picture;
    END IF;
    RETURN jsonb_build_object(
        'sub', sub,
        'name', nullif(concat_ws(' ', nullif(u ->> 'first_name', ''), nullif(u ->> 'last_name', '')), ''),
        'given_name', u ->> 'first_name',
        'family_name', u ->> 'last_name',
        'email', u ->> 'email',
        'picture', picture,
        'roles', to_jsonb(integrations.user_roles(user_name)),
        'iss', issuer);
END
$$;

-- A client row (as jsonb) by client_id, or NULL.
CREATE FUNCTION integrations.oauth_client(client_id text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    c jsonb;
BEGIN
    IF client_id IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT to_jsonb(c) FROM %I.%I c WHERE name = $1',
                   current_setting('frappe_integrations.site_schema'), 'tabOAuth Client')
       INTO c USING client_id;
    RETURN c;
END
$$;

-- The client of a token request, authenticated: its secret is checked
-- (form parameters or an HTTP Basic "authorization" parameter).  A client
-- without a secret is public.  fallback_client: the client of the refresh
-- token, when the request names none.
CREATE FUNCTION integrations.oauth_authenticate_client(params jsonb, fallback_client text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    id text := integrations.oauth_param(params, 'client_id', 140);
    secret text := integrations.oauth_param(params, 'client_secret', 255);
    basic text := integrations.oauth_param(params, 'authorization', 1024);
    pair text;
    c jsonb;
    ok boolean;
BEGIN
    IF basic IS NOT NULL THEN
        IF basic !~* '^basic [A-Za-z0-9+/]+=*$' THEN
            PERFORM integrations.oauth_fail('invalid_request', 'the authorization parameter is not HTTP Basic credentials');
        END IF;
        BEGIN
            pair := convert_from(decode(substr(basic, 7), 'base64'), 'UTF8');
        EXCEPTION WHEN OTHERS THEN
            PERFORM integrations.oauth_fail('invalid_request', 'the authorization parameter is not HTTP Basic credentials');
        END;
        IF position(':' IN pair) = 0 OR (id IS NOT NULL AND id <> split_part(pair, ':', 1)) THEN
            PERFORM integrations.oauth_fail('invalid_request', 'the authorization parameter is not HTTP Basic credentials');
        END IF;
        id := split_part(pair, ':', 1);
        secret := substr(pair, position(':' IN pair) + 1);
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

-- The user may use this client: enabled, not Guest, one of its allowed
-- roles (none listed: Desk User, as Frappe adds on save).
CREATE FUNCTION integrations.oauth_check_user(client jsonb, user_name text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    enabled boolean;
    allowed text[];
BEGIN
    EXECUTE format('SELECT enabled = 1 FROM %I.%I WHERE name = $1', site, 'tabUser') INTO enabled USING user_name;
    IF user_name IS NULL OR user_name = 'Guest' OR enabled IS NOT TRUE THEN
        PERFORM integrations.oauth_fail('access_denied', 'the user is not logged in, does not exist or is disabled', '28000');
    END IF;
    IF to_regclass(format('%I.%I', site, 'tabOAuth Client Role')) IS NOT NULL THEN
        EXECUTE format('SELECT array_agg(role) FROM %I.%I WHERE parent = $1 AND parenttype = ''OAuth Client''',
                       site, 'tabOAuth Client Role')
           INTO allowed USING client ->> 'name';
    END IF;
    IF NOT (coalesce(allowed, ARRAY['Desk User']) && integrations.user_roles(user_name)) THEN
        PERFORM integrations.oauth_fail('access_denied',
                                        format('user %s has none of the roles allowed for OAuth Client %s',
                                               user_name, client ->> 'name'), '42501');
    END IF;
END
$$;

-- The scopes asked for, within the client's; none asked: all the client's.
CREATE FUNCTION integrations.oauth_scopes(client_scopes text, requested text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    have text[] := regexp_split_to_array(btrim(coalesce(client_scopes, ''), E' \t\n'), E'\\s+');
    want text[];
BEGIN
    IF requested IS NULL OR btrim(requested, E' \t\n') = '' THEN
        RETURN array_to_string(have, ' ');
    END IF;
    want := regexp_split_to_array(btrim(requested, E' \t\n'), E'\\s+');
    IF NOT want <@ have THEN
        RETURN NULL;
    END IF;
    -- in the order asked, once each
    RETURN (SELECT string_agg(s, ' ' ORDER BY i)
              FROM (SELECT s, min(i) AS i FROM unnest(want) WITH ORDINALITY AS w(s, i) GROUP BY s) AS d);
END
$$;

-- base64url of the left half of SHA-256 (at_hash, c_hash: OpenID Core 3.1.3.6)
CREATE FUNCTION integrations.oauth_half_hash(value text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT rtrim(translate(encode(substr(sha256(convert_to(value, 'UTF8')), 1, 16), 'base64'), '+/', '-_'), '=') $$;

-- Frappe's id_token (finalize_id_token): the userinfo claims, aud, iat,
-- exp, iss, nonce, at_hash / c_hash; HS256 with the client's secret.  NULL
-- for a client without a secret (nothing to sign with).
CREATE FUNCTION integrations.oauth_id_token(client jsonb, user_name text, nonce text, access_token text, code text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    issuer text;
    iat bigint := floor(extract(epoch FROM clock_timestamp()));
    claims jsonb;
BEGIN
    IF coalesce(client ->> 'client_secret', '') = '' THEN
        RETURN NULL;
    END IF;
    issuer := integrations.oauth_issuer();
    claims := integrations.oauth_userinfo_claims(user_name, issuer)
           || jsonb_build_object('aud', client ->> 'name', 'iat', iat, 'exp', iat + 3600, 'iss', issuer);
    IF access_token IS NOT NULL THEN
        claims := claims || jsonb_build_object('at_hash', integrations.oauth_half_hash(access_token));
    END IF;
    IF code IS NOT NULL THEN
        claims := claims || jsonb_build_object('c_hash', integrations.oauth_half_hash(code));
    END IF;
    IF nonce IS NOT NULL THEN
        claims := claims || jsonb_build_object('nonce', nonce);
    END IF;
    RETURN integrations.jwt_hs256(claims, client ->> 'client_secret');
END
$$;

-- A new OAuth Bearer Token row (status Active, 3600 s) and the token
-- endpoint's response: Frappe's JSON, with an id_token when openid is a
-- scope (and with_id_token).
CREATE FUNCTION integrations.oauth_issue_token(client jsonb, user_name text, scopes text, with_refresh boolean,
                                               nonce text, owner text, with_id_token boolean DEFAULT true)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    access text := integrations.generate_token(30);
    refresh text := CASE WHEN with_refresh THEN integrations.generate_token(30) END;
    now_local timestamp := integrations.site_now();
    response jsonb;
    id_token text;
BEGIN
    EXECUTE format('INSERT INTO %I.%I (name, creation, modified, modified_by, owner, docstatus, idx, client, "user", '
                   'scopes, access_token, refresh_token, expiration_time, expires_in, status) '
                   'VALUES ($1, $2, $2, $3, $3, 0, 0, $4, $5, $6, $1, $7, $2 + interval ''3600 seconds'', 3600, ''Active'')',
                   site, 'tabOAuth Bearer Token')
       USING access, now_local, owner, client ->> 'name', user_name, scopes, refresh;
    response := jsonb_build_object('access_token', access, 'expires_in', 3600, 'token_type', 'Bearer',
                                   'scope', scopes);
    IF refresh IS NOT NULL THEN
        response := response || jsonb_build_object('refresh_token', refresh);
    END IF;
    IF with_id_token AND 'openid' = ANY (regexp_split_to_array(coalesce(scopes, ''), ' ')) THEN
        id_token := integrations.oauth_id_token(client, user_name, nonce, access, NULL);
        IF id_token IS NOT NULL THEN
            response := response || jsonb_build_object('id_token', id_token);
        END IF;
    END IF;
    RETURN response;
END
$$;

-- -------------------------------------------------------------- endpoints

-- frappe.integrations.oauth2.approve: the logged-in user grants the client
-- what it asked for.  params are the authorization request's query
-- parameters (response_type, client_id, redirect_uri, scope, state, nonce,
-- code_challenge, code_challenge_method).  Asking the user (Frappe's
-- "Confirm Access" page) is the caller's part.  Returns {"redirect_to",
-- and the code and/or tokens}; errors the client may hear of are returned
-- as {"error", "error_description", "redirect_to"} and write nothing;
-- an unknown client or redirect URI, or a user who may not use the client,
-- are raised (they must not be redirected).
CREATE FUNCTION integrations.oauth_authorize(user_name text, params jsonb)
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
    rt text[];
    allowed text[];
    scopes text;
    err text;
    err_description text;
    code text;
    tok jsonb;
    id_token text;
    out jsonb := '{}';
    redirect text;
    pairs text[] := '{}';
BEGIN
    IF params IS NULL OR jsonb_typeof(params) <> 'object' THEN
        PERFORM integrations.oauth_fail('invalid_request', 'the parameters must be a JSON object');
    END IF;
    c := integrations.oauth_client(client_id);
    IF c IS NULL THEN
        PERFORM integrations.oauth_fail('invalid_client', 'client_id is missing or not an OAuth Client', '28000');
    END IF;
    -- the redirect URI: one registered (split on single blanks), else the default
    IF redirect_uri IS NULL THEN
        redirect_uri := nullif(c ->> 'default_redirect_uri', '');
    ELSIF NOT redirect_uri = ANY (string_to_array(coalesce(c ->> 'redirect_uris', ''), ' '))
          AND redirect_uri IS DISTINCT FROM (c ->> 'default_redirect_uri') THEN
        PERFORM integrations.oauth_fail('invalid_request', 'redirect_uri is not registered for this client');
    END IF;
    IF redirect_uri IS NULL OR length(redirect_uri) > 140 THEN
        PERFORM integrations.oauth_fail('invalid_request', 'the client has no usable redirect URI');
    END IF;
    PERFORM integrations.oauth_check_user(c, user_name);

    -- from here on, errors go back to the client through the redirect
    rt := ARRAY(SELECT DISTINCT x FROM unnest(regexp_split_to_array(coalesce(response_type, ''), ' +')) x
                WHERE x <> '' ORDER BY x);
    allowed := ARRAY[lower(coalesce(nullif(c ->> 'response_type', ''), 'Code'))];
    IF response_type IS NULL THEN
        err := 'invalid_request'; err_description := 'response_type is missing';
    ELSIF NOT (rt = allowed OR rt IN ('{id_token}', '{id_token,token}', '{code,id_token}', '{code,id_token,token}')) THEN
        err := 'unsupported_response_type'; err_description := 'this client may not ask for that response_type';
    ELSE
        scopes := integrations.oauth_scopes(c ->> 'scopes', requested);
        IF scopes IS NULL THEN
            err := 'invalid_scope'; err_description := 'a scope asked for is not one of the client''s';
        ELSIF 'id_token' = ANY (rt) AND NOT 'openid' = ANY (string_to_array(scopes, ' ')) THEN
            err := 'invalid_scope'; err_description := 'an id_token needs the openid scope';
        ELSIF 'id_token' = ANY (rt) AND coalesce(c ->> 'client_secret', '') = '' THEN
            err := 'unauthorized_client'; err_description := 'a client without a secret cannot be sent an id_token';
        ELSIF 'id_token' = ANY (rt) AND nonce IS NULL THEN
            err := 'invalid_request'; err_description := 'nonce is required when an id_token is returned from the authorization endpoint';
        ELSIF challenge IS NOT NULL AND coalesce(method, 'plain') NOT IN ('S256', 'plain') THEN
            err := 'invalid_request'; err_description := 'code_challenge_method must be S256 or plain';
        ELSIF challenge IS NOT NULL AND challenge !~ '^[A-Za-z0-9._~-]{43,128}$' THEN
            err := 'invalid_request'; err_description := 'code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~';
        ELSIF 'code' = ANY (rt) AND challenge IS NULL AND coalesce(c ->> 'client_secret', '') = '' THEN
            err := 'invalid_request'; err_description := 'a client without a secret must use PKCE (code_challenge)';
        END IF;
    END IF;
    IF err IS NOT NULL THEN
        pairs := ARRAY['error', err, 'error_description', err_description];
        IF state IS NOT NULL THEN
            pairs := pairs || ARRAY['state', state];
        END IF;
        SELECT string_agg(integrations.url_encode(pairs[i]) || '=' || integrations.url_encode(pairs[i + 1]), '&' ORDER BY i)
          INTO redirect FROM generate_series(1, array_length(pairs, 1), 2) i;
        RETURN jsonb_build_object('error', err, 'error_description', err_description,
                                  'redirect_to', redirect_uri
                                      || CASE WHEN rt && ARRAY['token', 'id_token'] AND err <> 'unsupported_response_type' THEN '#'
                                              WHEN position('?' IN redirect_uri) > 0 THEN '&' ELSE '?' END || redirect);
    END IF;

    IF 'code' = ANY (rt) THEN
        code := integrations.generate_token(30);
        EXECUTE format('INSERT INTO %I.%I (name, creation, modified, modified_by, owner, docstatus, idx, client, "user", '
                       'scopes, authorization_code, expiration_time, redirect_uri_bound_to_authorization_code, '
                       'validity, nonce, code_challenge, code_challenge_method) '
                       'VALUES ($1, $2, $2, $3, $3, 0, 0, $4, $3, $5, $1, $2 + interval ''10 minutes'', $6, ''Valid'', '
                       '$7, $8, $9)', site, 'tabOAuth Authorization Code')
           USING code, integrations.site_now(), user_name, c ->> 'name', scopes, redirect_uri, nonce, challenge,
                 CASE WHEN challenge IS NOT NULL THEN lower(coalesce(method, 'plain')) END;
        out := jsonb_build_object('code', code);
        pairs := ARRAY['code', code];
    END IF;
    IF 'token' = ANY (rt) THEN
        tok := integrations.oauth_issue_token(c, user_name, scopes, false, nonce, user_name, false);
        out := out || tok;
        pairs := pairs || ARRAY['access_token', tok ->> 'access_token', 'expires_in', '3600',
                                'token_type', 'Bearer', 'scope', scopes];
    END IF;
    IF 'id_token' = ANY (rt) THEN
        id_token := integrations.oauth_id_token(c, user_name, nonce, tok ->> 'access_token', code);
        out := out || jsonb_build_object('id_token', id_token);
        pairs := pairs || ARRAY['id_token', id_token];
    END IF;
    IF state IS NOT NULL THEN
        pairs := pairs || ARRAY['state', state];
        out := out || jsonb_build_object('state', state);
    END IF;
    SELECT string_agg(integrations.url_encode(pairs[i]) || '=' || integrations.url_encode(pairs[i + 1]), '&' ORDER BY i)
      INTO redirect FROM generate_series(1, array_length(pairs, 1), 2) i;
    RETURN out || jsonb_build_object('redirect_to',
        redirect_uri || CASE WHEN rt = '{code}' THEN CASE WHEN position('?' IN redirect_uri) > 0 THEN '&' ELSE '?' END
                             ELSE '#' END || redirect);
END
$$;
COMMENT ON FUNCTION integrations.oauth_authorize(text, jsonb) IS
'The OAuth authorization endpoint after the user''s consent (Frappe''s approve): a code (10 minutes, once, PKCE) or an implicit token, and where to redirect';
REVOKE ALL ON FUNCTION integrations.oauth_authorize(text, jsonb) FROM PUBLIC;

-- frappe.integrations.oauth2.get_token: the token endpoint.  params are its
-- form parameters (grant_type, code, redirect_uri, code_verifier,
-- refresh_token, scope, username, password, client_id, client_secret, or
-- the request's Authorization header as "authorization").
CREATE FUNCTION integrations.oauth_token(params jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    grant_type text := integrations.oauth_param(params, 'grant_type', 64);
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
    IF grant_type IS NULL THEN
        PERFORM integrations.oauth_fail('invalid_request', 'grant_type is missing');
    ELSIF grant_type NOT IN ('authorization_code', 'refresh_token', 'password') THEN
        PERFORM integrations.oauth_fail('unsupported_grant_type',
                                        'grant_type must be authorization_code, refresh_token or password');
    END IF;

    IF grant_type = 'authorization_code' THEN
        code := integrations.oauth_param(params, 'code', 255);
        verifier := integrations.oauth_param(params, 'code_verifier', 255);
        redirect_uri := integrations.oauth_param(params, 'redirect_uri');
        c := integrations.oauth_authenticate_client(params);
        IF code IS NULL THEN
            PERFORM integrations.oauth_fail('invalid_request', 'code is missing');
        END IF;
        IF verifier IS NOT NULL AND verifier !~ '^[A-Za-z0-9._~-]{43,128}$' THEN
            PERFORM integrations.oauth_fail('invalid_request', 'code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~');
        END IF;
        -- the code, locked: of this client, Valid, not expired (Frappe's
        -- codes without an expiration_time last 10 minutes from creation)
        EXECUTE format('SELECT to_jsonb(a) FROM %I.%I a WHERE name = $1 AND client = $2 AND validity = ''Valid'' '
                       'AND coalesce(expiration_time, creation + interval ''10 minutes'') > $3 FOR UPDATE',
                       site, 'tabOAuth Authorization Code')
           INTO row USING code, c ->> 'name', integrations.site_now();
        IF row IS NULL
           -- the redirect URI it was issued for (absent: it was the default)
           OR NOT (CASE WHEN redirect_uri IS NULL
                        THEN coalesce(row ->> 'redirect_uri_bound_to_authorization_code', c ->> 'default_redirect_uri')
                             = c ->> 'default_redirect_uri'
                        ELSE redirect_uri = coalesce(row ->> 'redirect_uri_bound_to_authorization_code',
                                                     c ->> 'default_redirect_uri') END)
           -- PKCE: a code with a challenge needs its verifier
           OR (coalesce(row ->> 'code_challenge', '') <> '' AND (verifier IS NULL OR NOT integrations.secure_compare(
                   CASE lower(coalesce(row ->> 'code_challenge_method', ''))
                        WHEN 's256' THEN rtrim(translate(encode(sha256(convert_to(verifier, 'UTF8')), 'base64'), '+/', '-_'), '=')
                        ELSE verifier END,
                   row ->> 'code_challenge')))
           -- a client without a secret proves itself with PKCE only
           OR (coalesce(c ->> 'client_secret', '') = '' AND coalesce(row ->> 'code_challenge', '') = '') THEN
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
REVOKE ALL ON FUNCTION integrations.oauth_token(jsonb) FROM PUBLIC;

-- frappe.integrations.oauth2.revoke_token (RFC 7009): the token, found as
-- an access token or a refresh token (the hint says which to try first),
-- is Revoked.  Always {} (an unknown token is no error).
CREATE FUNCTION integrations.oauth_revoke(token text, token_type_hint text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    n integer;
BEGIN
    IF token IS NULL OR token = '' OR length(token) > 255 THEN
        RETURN '{}';
    END IF;
    EXECUTE format('UPDATE %I.%I SET status = ''Revoked'', modified = $3 WHERE status = ''Active'' AND '
                   'CASE WHEN $2 = ''refresh_token'' THEN refresh_token = $1 ELSE name = $1 END', site, 'tabOAuth Bearer Token')
       USING token, token_type_hint, integrations.site_now();
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN
        EXECUTE format('UPDATE %I.%I SET status = ''Revoked'', modified = $3 WHERE status = ''Active'' AND '
                       'CASE WHEN $2 = ''refresh_token'' THEN name = $1 ELSE refresh_token = $1 END', site, 'tabOAuth Bearer Token')
           USING token, token_type_hint, integrations.site_now();
    END IF;
    RETURN '{}';
END
$$;
COMMENT ON FUNCTION integrations.oauth_revoke(text, text) IS
'The OAuth revocation endpoint: the access or refresh token is Revoked; always {}';
REVOKE ALL ON FUNCTION integrations.oauth_revoke(text, text) FROM PUBLIC;

-- frappe.integrations.oauth2.introspect_token (RFC 7662) in Frappe's
-- shape; {"active": false} for an unknown, revoked or expired token.
CREATE FUNCTION integrations.oauth_introspect(token text, token_type_hint text DEFAULT 'access_token')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    t jsonb;
    c jsonb;
    expires timestamp;
    now_local timestamp := integrations.site_now();
    out jsonb;
    claims jsonb;
BEGIN
    IF token IS NULL OR token = '' OR length(token) > 255 THEN
        RETURN '{"active": false}';
    END IF;
    EXECUTE format('SELECT to_jsonb(t) FROM %I.%I t WHERE '
                   'CASE WHEN $2 = ''refresh_token'' THEN refresh_token = $1 ELSE name = $1 END', site, 'tabOAuth Bearer Token')
       INTO t USING token, token_type_hint;
    IF t IS NULL OR t ->> 'status' IS DISTINCT FROM 'Active' THEN
        RETURN '{"active": false}';
    END IF;
    expires := (t ->> 'expiration_time')::timestamp;
    -- an access token lives until it expires; a refresh token until it is used or revoked
    IF coalesce(token_type_hint, '') <> 'refresh_token' AND (expires IS NULL OR expires <= now_local) THEN
        RETURN '{"active": false}';
    END IF;
    c := integrations.oauth_client(t ->> 'client');
    IF c IS NULL THEN
        RETURN '{"active": false}';
    END IF;
    out := jsonb_build_object('client_id', c ->> 'name',
                              'trusted_client', coalesce((c ->> 'skip_authorization')::int, 0),
                              'active', true,
                              -- the naive site-local time as a Unix time
                              'exp', round(extract(epoch FROM clock_timestamp())
                                           + extract(epoch FROM expires - now_local)),
                              'scope', t ->> 'scopes');
    IF 'openid' = ANY (regexp_split_to_array(coalesce(t ->> 'scopes', ''), E'\\s+')) THEN
        claims := integrations.oauth_userinfo_claims(t ->> 'user', integrations.oauth_issuer());
        IF claims ->> 'sub' IS NOT NULL THEN
            out := out || claims;
        END IF;
    END IF;
    RETURN out;
END
$$;
COMMENT ON FUNCTION integrations.oauth_introspect(text, text) IS
'The OAuth introspection endpoint in Frappe''s shape; {"active": false} once expired or revoked';
REVOKE ALL ON FUNCTION integrations.oauth_introspect(text, text) FROM PUBLIC;

-- frappe.integrations.oauth2.openid_profile: the userinfo of a valid
-- bearer token with the openid scope.
CREATE FUNCTION integrations.oauth_userinfo(access_token text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    user_name text := integrations.validate_bearer_token(access_token, ARRAY['openid']);
BEGIN
    IF user_name IS NULL THEN
        PERFORM integrations.oauth_fail('invalid_token', 'the access token is invalid, expired, revoked or lacks the openid scope', '28000');
    END IF;
    RETURN integrations.oauth_userinfo_claims(user_name, integrations.oauth_issuer());
END
$$;
COMMENT ON FUNCTION integrations.oauth_userinfo(text) IS
'The OpenID userinfo of a bearer token with the openid scope (Frappe''s openid_profile)';
REVOKE ALL ON FUNCTION integrations.oauth_userinfo(text) FROM PUBLIC;

-- frappe.integrations.oauth2.authorize's question: show "Confirm Access",
-- or go straight to approve?  No when the client skips authorization, or
-- when OAuth Provider Settings say "Auto" and this user already holds an
-- Active token of this client (Frappe v15 looks for any Active token of
-- anyone; develop for one of the user's).
CREATE FUNCTION integrations.oauth_needs_consent(user_name text, client_id text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    c jsonb := integrations.oauth_client(client_id);
    mode text;
    has_token boolean;
BEGIN
    IF c IS NULL THEN
        PERFORM integrations.oauth_fail('invalid_client', 'client_id is missing or not an OAuth Client', '28000');
    END IF;
    IF coalesce((c ->> 'skip_authorization')::int, 0) = 1 THEN
        RETURN false;
    END IF;
    EXECUTE format('SELECT value FROM %I.%I WHERE doctype = ''OAuth Provider Settings'' AND field = ''skip_authorization''',
                   site, 'tabSingles') INTO mode;
    IF mode IS DISTINCT FROM 'Auto' THEN
        RETURN true;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE "user" = $1 AND client = $2 AND status = ''Active'' '
                   'AND expiration_time > $3)', site, 'tabOAuth Bearer Token')
       INTO has_token USING user_name, client_id, integrations.site_now();
    RETURN NOT has_token;
END
$$;
COMMENT ON FUNCTION integrations.oauth_needs_consent(text, text) IS
'Whether Frappe''s authorize would show "Confirm Access" (client skip_authorization; OAuth Provider Settings "Auto" with an Active token of the user)';
REVOKE ALL ON FUNCTION integrations.oauth_needs_consent(text, text) FROM PUBLIC;

-- frappe.integrations.oauth2.openid_configuration.
CREATE FUNCTION integrations.oauth_openid_configuration(base_url text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    base text := rtrim(coalesce(base_url, integrations.oauth_issuer()), '/');
    m text := base || '/api/method/frappe.integrations.oauth2.';
BEGIN
    RETURN jsonb_build_object(
        'issuer', base,
        'authorization_endpoint', m || 'authorize',
        'token_endpoint', m || 'get_token',
        'userinfo_endpoint', m || 'openid_profile',
        'revocation_endpoint', m || 'revoke_token',
        'introspection_endpoint', m || 'introspect_token',
        'response_types_supported', jsonb_build_array('code', 'token', 'code id_token', 'code token id_token',
                                                      'id_token', 'id_token token'),
        'subject_types_supported', jsonb_build_array('public'),
        'id_token_signing_alg_values_supported', jsonb_build_array('HS256'));
END
$$;
COMMENT ON FUNCTION integrations.oauth_openid_configuration(text) IS
'Frappe''s /.well-known/openid-configuration for the site''s URL';

-- the helpers read the site's tables and secrets: not for PUBLIC either
REVOKE ALL ON FUNCTION integrations.oauth_issuer() FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.user_roles(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.oauth_userinfo_claims(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.oauth_client(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.oauth_authenticate_client(jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.oauth_check_user(jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.oauth_id_token(jsonb, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.oauth_issue_token(jsonb, text, text, boolean, text, text, boolean) FROM PUBLIC;

-- authenticate without its SQL wrapper: a volatile SQL function is not
-- inlined, and its body was parsed and planned again in every transaction.
-- The C function returns its one row itself, of the named row type (whose
-- descriptor the executor takes from the type cache rather than building it
-- from OUT parameters at every call).  Same columns as before.
DROP FUNCTION integrations.authenticate(text, text);
CREATE FUNCTION integrations.authenticate(authorization text, source_doctype text DEFAULT 'User')
RETURNS SETOF integrations.auth_identity
AS 'MODULE_PATHNAME', 'fi_authenticate_one'
LANGUAGE C VOLATILE ROWS 1;
COMMENT ON FUNCTION integrations.authenticate(text, text) IS
'Frappe''s validate_auth for an Authorization header (token key:secret, Basic, Bearer): (user_name, method, scopes), or 22023 (malformed) / 28000 (refused)';
REVOKE ALL ON FUNCTION integrations.authenticate(text, text) FROM PUBLIC;

-- tabSingles carries the invalidation trigger too: the site's time zone
-- (System Settings) is then kept across transactions, and a change of it
-- reaches every session.
SELECT integrations.sync_meta_triggers();

-- Webhook and payment-gateway signatures (src/engine/sigverify.c).
CREATE FUNCTION integrations.verify_signature(scheme text, payload bytea, secret text, signature text,
                                              headers jsonb DEFAULT '{}', tolerance_seconds integer DEFAULT 300)
RETURNS boolean
AS 'MODULE_PATHNAME', 'fi_verify_signature'
LANGUAGE C STABLE;
CREATE FUNCTION integrations.verify_signature(scheme text, payload text, secret text, signature text,
                                              headers jsonb DEFAULT '{}', tolerance_seconds integer DEFAULT 300)
RETURNS boolean
AS 'MODULE_PATHNAME', 'fi_verify_signature'
LANGUAGE C STABLE;
COMMENT ON FUNCTION integrations.verify_signature(text, bytea, text, text, jsonb, integer) IS
'A webhook or payment signature made with the secret for these bytes? Schemes frappe, standard-webhooks, stripe, razorpay, gocardless; constant time';
COMMENT ON FUNCTION integrations.verify_signature(text, text, text, text, jsonb, integer) IS
'verify_signature of the text''s UTF-8 bytes';

-- Outbound HTTP from SQL (src/http.c): http and https only, TLS verified,
-- a timeout always, redirects and the response size capped, Ctrl-C stops
-- it.  Not for PUBLIC: a request leaves the database server.
CREATE FUNCTION integrations.http_request(method text, url text, headers jsonb DEFAULT '{}',
                                          body text DEFAULT NULL, timeout_ms integer DEFAULT NULL)
RETURNS TABLE (status integer, response_headers jsonb, response_body text)
AS 'MODULE_PATHNAME', 'fi_http_request'
LANGUAGE C VOLATILE ROWS 1;
CREATE FUNCTION integrations.http_request(method text, url text, headers jsonb,
                                          body bytea, timeout_ms integer DEFAULT NULL)
RETURNS TABLE (status integer, response_headers jsonb, response_body text)
AS 'MODULE_PATHNAME', 'fi_http_request'
LANGUAGE C VOLATILE ROWS 1;
CREATE FUNCTION integrations.http_request_bytes(method text, url text, headers jsonb DEFAULT '{}',
                                                body bytea DEFAULT NULL, timeout_ms integer DEFAULT NULL)
RETURNS TABLE (status integer, response_headers jsonb, response_body bytea)
AS 'MODULE_PATHNAME', 'fi_http_request_bytes'
LANGUAGE C VOLATILE ROWS 1;
COMMENT ON FUNCTION integrations.http_request(text, text, jsonb, text, integer) IS
'One HTTP request (http/https only, TLS verified, timeout, redirects and size capped): status, headers (lower-case names), body text';
COMMENT ON FUNCTION integrations.http_request(text, text, jsonb, bytea, integer) IS
'http_request with a binary body';
COMMENT ON FUNCTION integrations.http_request_bytes(text, text, jsonb, bytea, integer) IS
'http_request with the response body as bytea';
REVOKE ALL ON FUNCTION integrations.http_request(text, text, jsonb, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.http_request(text, text, jsonb, bytea, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.http_request_bytes(text, text, jsonb, bytea, integer) FROM PUBLIC;

-- Frappe's make_get_request & co: an error status raises; the result by
-- Content-Type (JSON parsed; "text/plain; charset=utf-8" as parse_qs; other
-- text as a JSON string; none: NULL).
CREATE FUNCTION integrations.http_make_request(method text, url text, headers jsonb, body text, timeout_ms integer)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_http_make_request'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION integrations.http_make_request(text, text, jsonb, text, integer) FROM PUBLIC;
CREATE FUNCTION integrations.http_get(url text, headers jsonb DEFAULT '{}', timeout_ms integer DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE
AS $$ SELECT integrations.http_make_request('GET', url, headers, NULL::text, timeout_ms) $$;
CREATE FUNCTION integrations.http_post(url text, body text DEFAULT NULL, headers jsonb DEFAULT '{}', timeout_ms integer DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE
AS $$ SELECT integrations.http_make_request('POST', url, headers, body, timeout_ms) $$;
CREATE FUNCTION integrations.http_put(url text, body text DEFAULT NULL, headers jsonb DEFAULT '{}', timeout_ms integer DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE
AS $$ SELECT integrations.http_make_request('PUT', url, headers, body, timeout_ms) $$;
CREATE FUNCTION integrations.http_patch(url text, body text DEFAULT NULL, headers jsonb DEFAULT '{}', timeout_ms integer DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE
AS $$ SELECT integrations.http_make_request('PATCH', url, headers, body, timeout_ms) $$;
CREATE FUNCTION integrations.http_delete(url text, headers jsonb DEFAULT '{}', timeout_ms integer DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE
AS $$ SELECT integrations.http_make_request('DELETE', url, headers, NULL::text, timeout_ms) $$;
REVOKE ALL ON FUNCTION integrations.http_get(text, jsonb, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.http_post(text, text, jsonb, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.http_put(text, text, jsonb, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.http_patch(text, text, jsonb, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.http_delete(text, jsonb, integer) FROM PUBLIC;

-- ------------------------------------------------------------ Connected App
-- Frappe as an OAuth client (frappe-facts 6), on tabConnected App, tabToken
-- Cache, tabOAuth Scope, tabQuery Parameters and __Auth, through
-- integrations.http_request.  Tokens endpoints must be https (requests-
-- oauthlib's rule), except on the loopback interface.

-- key=value&… of a jsonb object of strings, form-encoded
CREATE FUNCTION integrations.form_encode(params jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT coalesce(string_agg(integrations.url_encode(key) || '=' || integrations.url_encode(value), '&'), '')
        FROM jsonb_each_text(params) WHERE value IS NOT NULL $$;

-- a Connected App row (jsonb) with its scopes (space-joined) and query parameters (jsonb)
CREATE FUNCTION integrations.connected_app(app text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    a jsonb;
    scopes text;
    qp jsonb;
BEGIN
    EXECUTE format('SELECT to_jsonb(c) FROM %I.%I c WHERE name = $1', site, 'tabConnected App') INTO a USING app;
    IF a IS NULL THEN
        RAISE EXCEPTION 'Connected App % not found', app USING ERRCODE = 'no_data_found';
    END IF;
    EXECUTE format('SELECT string_agg(scope, '' '' ORDER BY idx) FROM %I.%I WHERE parent = $1 AND parenttype = ''Connected App''',
                   site, 'tabOAuth Scope') INTO scopes USING app;
    EXECUTE format('SELECT coalesce(jsonb_object_agg(key, value), ''{}'') FROM %I.%I WHERE parent = $1 AND parenttype = ''Connected App''',
                   site, 'tabQuery Parameters') INTO qp USING app;
    RETURN a || jsonb_build_object('scope', coalesce(scopes, ''), 'query', qp,
        'redirect_uri', integrations.oauth_issuer() || '/api/method/frappe.integrations.doctype.connected_app.connected_app.callback/' || app);
END
$$;

-- POST a form to the app's token endpoint; the JSON answer, or an error
CREATE FUNCTION integrations.connected_app_post(a jsonb, form jsonb, auth_header text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    url text := a ->> 'token_uri';
    r record;
    j jsonb;
BEGIN
    IF url IS NULL OR url = '' THEN
        RAISE EXCEPTION 'Connected App % has no token_uri', a ->> 'name' USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Fill it, or call integrations.connected_app_fetch_openid_configuration.';
    END IF;
    IF url !~* '^https://' AND url !~* '^http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?/' THEN
        RAISE EXCEPTION 'the token_uri of Connected App % must be https', a ->> 'name' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO r FROM integrations.http_request('POST', url,
        jsonb_build_object('Accept', 'application/json', 'Content-Type', 'application/x-www-form-urlencoded;charset=UTF-8')
        || CASE WHEN auth_header IS NOT NULL THEN jsonb_build_object('Authorization', auth_header) ELSE '{}' END,
        integrations.form_encode(form || coalesce(a -> 'query', '{}')));
    BEGIN
        j := r.response_body::jsonb;
    EXCEPTION WHEN OTHERS THEN
        j := NULL;
    END;
    IF r.status >= 400 OR j IS NULL OR jsonb_typeof(j) <> 'object' OR NOT j ? 'access_token' THEN
        RAISE EXCEPTION 'the token endpoint of Connected App % refused: HTTP %', a ->> 'name', r.status
            USING ERRCODE = 'invalid_authorization_specification',
                  DETAIL = left(coalesce(j ->> 'error', '') || ' ' || coalesce(j ->> 'error_description', ''), 500);
    END IF;
    IF lower(coalesce(j ->> 'token_type', '')) NOT IN ('bearer', 'mac') THEN
        RAISE EXCEPTION 'Received an invalid token type.' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    RETURN j;
END
$$;

-- Token Cache.update_data: tokens into __Auth, expires_in, scopes, token type; state cleared
CREATE FUNCTION integrations.token_cache_store(cache_name text, tok jsonb)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    scopes text[];
BEGIN
    EXECUTE format('UPDATE %I.%I SET expires_in = $2, token_type = $3, state = NULL, modified = $4 WHERE name = $1',
                   site, 'tabToken Cache')
       USING cache_name, coalesce((tok ->> 'expires_in')::numeric::bigint, 0),
             CASE lower(tok ->> 'token_type') WHEN 'mac' THEN 'MAC' ELSE 'Bearer' END, integrations.site_now();
    PERFORM integrations.set_password('Token Cache', cache_name, 'access_token', tok ->> 'access_token');
    IF coalesce(tok ->> 'refresh_token', '') <> '' THEN
        PERFORM integrations.set_password('Token Cache', cache_name, 'refresh_token', tok ->> 'refresh_token');
    END IF;
    IF tok ? 'scope' THEN
        scopes := CASE jsonb_typeof(tok -> 'scope') WHEN 'array' THEN ARRAY(SELECT jsonb_array_elements_text(tok -> 'scope'))
                  ELSE regexp_split_to_array(btrim(tok ->> 'scope'), '\s+') END;
        EXECUTE format('DELETE FROM %I.%I WHERE parent = $1 AND parenttype = ''Token Cache''', site, 'tabOAuth Scope') USING cache_name;
        EXECUTE format('INSERT INTO %I.%I (name, creation, modified, owner, modified_by, docstatus, idx, parent, parenttype, parentfield, scope) '
                       'SELECT integrations.random_name(), $2, $2, ''Administrator'', ''Administrator'', 0, i, $1, ''Token Cache'', ''scopes'', s '
                       'FROM unnest($3::text[]) WITH ORDINALITY AS u(s, i) WHERE s <> ''''', site, 'tabOAuth Scope')
           USING cache_name, integrations.site_now(), scopes;
    END IF;
END
$$;

-- initiate_web_application_flow: the authorization URL (state, and PKCE
-- S256 which Frappe v15 lacks; the verifier kept encrypted in __Auth)
CREATE FUNCTION integrations.connected_app_authorize_url(app text, user_name text, success_uri text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    a jsonb := integrations.connected_app(app);
    cache_name text := app || '-' || user_name;
    state text := integrations.generate_token(30);
    verifier text := integrations.generate_token(64);
    now_local timestamp := integrations.site_now();
BEGIN
    IF coalesce(a ->> 'authorization_uri', '') = '' THEN
        RAISE EXCEPTION 'Connected App % has no authorization_uri', app USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    EXECUTE format('INSERT INTO %I.%I AS t (name, creation, modified, owner, modified_by, docstatus, idx, "user", connected_app, '
                   'provider_name, state, success_uri) VALUES ($1, $2, $2, $3, $3, 0, 0, $3, $4, $5, $6, $7) '
                   'ON CONFLICT (name) DO UPDATE SET state = $6, success_uri = $7, modified = t.modified',
                   site, 'tabToken Cache')
       USING cache_name, now_local, user_name, app, a ->> 'provider_name', state, success_uri;
    EXECUTE format('INSERT INTO %I.%I AS x (doctype, name, fieldname, password, encrypted) VALUES (''Token Cache'', $1, ''code_verifier'', $2, 1) '
                   'ON CONFLICT (doctype, name, fieldname) DO UPDATE SET password = $2, encrypted = 1', site, '__Auth')
       USING cache_name, integrations.fernet_encrypt(verifier);
    RETURN (a ->> 'authorization_uri')
        || CASE WHEN position('?' IN a ->> 'authorization_uri') > 0 THEN '&' ELSE '?' END
        || integrations.form_encode(jsonb_build_object('response_type', 'code', 'client_id', a ->> 'client_id',
               'redirect_uri', a ->> 'redirect_uri', 'scope', a ->> 'scope', 'state', state,
               'code_challenge', rtrim(translate(encode(sha256(convert_to(verifier, 'UTF8')), 'base64'), '+/', '-_'), '='),
               'code_challenge_method', 'S256') || (a -> 'query'));
END
$$;
COMMENT ON FUNCTION integrations.connected_app_authorize_url(text, text, text) IS
'Frappe''s initiate_web_application_flow: the provider''s authorization URL with state and PKCE; the user''s Token Cache keeps the state';

-- callback: the code exchanged (state checked, PKCE verifier sent), the
-- tokens stored as Frappe stores them; returns where to send the user
CREATE FUNCTION integrations.connected_app_callback(code text, state text)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    tc jsonb;
    a jsonb;
    tok jsonb;
    verifier text;
BEGIN
    IF coalesce(state, '') = '' OR coalesce(code, '') = '' OR length(state) > 140 THEN
        RAISE EXCEPTION 'Invalid token state! Check if the token has been created by the OAuth user.' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    EXECUTE format('SELECT to_jsonb(t) FROM %I.%I t WHERE state = $1 FOR UPDATE', site, 'tabToken Cache') INTO tc USING state;
    IF tc IS NULL THEN
        RAISE EXCEPTION 'Invalid token state! Check if the token has been created by the OAuth user.' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    a := integrations.connected_app(tc ->> 'connected_app');
    EXECUTE format('SELECT integrations.fernet_decrypt(password) FROM %I.%I WHERE doctype = ''Token Cache'' AND name = $1 '
                   'AND fieldname = ''code_verifier''', site, '__Auth') INTO verifier USING tc ->> 'name';
    tok := integrations.connected_app_post(a, jsonb_build_object('grant_type', 'authorization_code', 'code', code,
               'redirect_uri', a ->> 'redirect_uri', 'client_id', a ->> 'client_id',
               'client_secret', integrations.connected_app_secret(a ->> 'name'), 'code_verifier', verifier));
    PERFORM integrations.token_cache_store(tc ->> 'name', tok);
    EXECUTE format('DELETE FROM %I.%I WHERE doctype = ''Token Cache'' AND name = $1 AND fieldname = ''code_verifier''', site, '__Auth')
       USING tc ->> 'name';
    RETURN coalesce(nullif(tc ->> 'success_uri', ''), '/app/connected-app/' || (a ->> 'name'));
END
$$;
COMMENT ON FUNCTION integrations.connected_app_callback(text, text) IS
'Frappe''s Connected App callback: the code exchanged for tokens (state checked), stored in Token Cache and __Auth; returns the success URI';

-- the app's client secret, or NULL when it has none
CREATE FUNCTION integrations.connected_app_secret(app text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN integrations.get_password('Connected App', app, 'client_secret');
EXCEPTION WHEN no_data_found THEN
    RETURN NULL;
END
$$;

-- get_active_token / get_backend_app_token: a valid access token of the
-- user (NULL: the app's own, client credentials), refreshed when it expires
-- within a minute.  The Token Cache row is locked while refreshing, so
-- sessions asking at the same moment wait for one refresh and share it.
CREATE FUNCTION integrations.connected_app_token(app text, user_name text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    a jsonb := integrations.connected_app(app);
    cache_name text := app || '-' || coalesce(user_name, '');
    tc jsonb;
    left_s numeric;
    tok jsonb;
    refresh text;
    secret text;
BEGIN
    IF user_name IS NULL THEN
        -- the backend token row exists or is made now (then locked either way)
        EXECUTE format('INSERT INTO %I.%I (name, creation, modified, owner, modified_by, docstatus, idx, connected_app, provider_name, expires_in) '
                       'VALUES ($1, $2, $2, ''Administrator'', ''Administrator'', 0, 0, $3, $4, 0) ON CONFLICT (name) DO NOTHING',
                       site, 'tabToken Cache') USING cache_name, integrations.site_now() - interval '1 day', app, a ->> 'provider_name';
    END IF;
    EXECUTE format('SELECT to_jsonb(t) FROM %I.%I t WHERE name = $1 FOR UPDATE', site, 'tabToken Cache') INTO tc USING cache_name;
    IF tc IS NULL THEN
        RAISE EXCEPTION 're-authorisation required: user % has not connected Connected App %', user_name, app
            USING ERRCODE = 'invalid_authorization_specification',
                  HINT = 'Send the user to integrations.connected_app_authorize_url(app, user).';
    END IF;
    left_s := extract(epoch FROM ((tc ->> 'modified')::timestamp + make_interval(secs => coalesce((tc ->> 'expires_in')::bigint, 0))
                                  - integrations.site_now()));
    IF left_s > 60 THEN
        BEGIN
            RETURN integrations.get_password('Token Cache', cache_name, 'access_token');
        EXCEPTION WHEN no_data_found THEN
            NULL;
        END;
    END IF;
    secret := integrations.connected_app_secret(app);
    IF user_name IS NULL THEN
        tok := integrations.connected_app_post(a, jsonb_build_object('grant_type', 'client_credentials', 'scope', nullif(a ->> 'scope', '')),
                   'Basic ' || encode(convert_to((a ->> 'client_id') || ':' || coalesce(secret, ''), 'UTF8'), 'base64'));
    ELSE
        BEGIN
            refresh := integrations.get_password('Token Cache', cache_name, 'refresh_token');
        EXCEPTION WHEN no_data_found THEN
            RAISE EXCEPTION 're-authorisation required: no refresh token for Connected App % and user %', app, user_name
                USING ERRCODE = 'invalid_authorization_specification',
                      HINT = 'Send the user to integrations.connected_app_authorize_url(app, user).';
        END;
        BEGIN
            tok := integrations.connected_app_post(a, jsonb_build_object('grant_type', 'refresh_token', 'refresh_token', refresh,
                       'scope', nullif(a ->> 'scope', ''), 'redirect_uri', a ->> 'redirect_uri',
                       'client_id', a ->> 'client_id', 'client_secret', secret));
        EXCEPTION WHEN invalid_authorization_specification OR connection_failure THEN
            RAISE EXCEPTION 're-authorisation required: the token of Connected App % for user % could not be refreshed', app, user_name
                USING ERRCODE = 'invalid_authorization_specification', DETAIL = SQLERRM,
                      HINT = 'Send the user to integrations.connected_app_authorize_url(app, user).';
        END;
    END IF;
    PERFORM integrations.token_cache_store(cache_name, tok);
    RETURN tok ->> 'access_token';
END
$$;
COMMENT ON FUNCTION integrations.connected_app_token(text, text) IS
'A valid access token of the user for the Connected App (NULL user: client credentials), refreshed once when it expires within a minute';

-- connected_app.js "Get OpenID Configuration", done by the server
CREATE FUNCTION integrations.connected_app_fetch_openid_configuration(app text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    a jsonb := integrations.connected_app(app);
    c jsonb;
BEGIN
    IF coalesce(a ->> 'openid_configuration', '') = '' THEN
        RAISE EXCEPTION 'Connected App % has no openid_configuration URL', app USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    c := integrations.http_get(a ->> 'openid_configuration');
    IF c IS NULL OR jsonb_typeof(c) <> 'object' THEN
        RAISE EXCEPTION 'the OpenID configuration of Connected App % is not a JSON object', app USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE format('UPDATE %I.%I SET authorization_uri = coalesce($2, authorization_uri), token_uri = coalesce($3, token_uri), '
                   'userinfo_uri = coalesce($4, userinfo_uri), introspection_uri = coalesce($5, introspection_uri), '
                   'revocation_uri = coalesce($6, revocation_uri), modified = $7 WHERE name = $1', site, 'tabConnected App')
       USING app, c ->> 'authorization_endpoint', c ->> 'token_endpoint', c ->> 'userinfo_endpoint',
             c ->> 'introspection_endpoint', c ->> 'revocation_endpoint', integrations.site_now();
    RETURN c;
END
$$;

REVOKE ALL ON FUNCTION integrations.connected_app(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.connected_app_post(jsonb, jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.token_cache_store(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.connected_app_authorize_url(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.connected_app_callback(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.connected_app_secret(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.connected_app_token(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.connected_app_fetch_openid_configuration(text) FROM PUBLIC;

-- ------------------------------------------------- Integration Request helpers
-- frappe/integrations/utils.py create_request_log and the Integration Request
-- methods update_status / handle_success / handle_failure (frappe-facts 7).
-- JSON fields are written pretty-printed (Frappe: as_json with indent 1).

CREATE FUNCTION integrations.create_request_log(data jsonb, integration_type text DEFAULT NULL,
                                                service_name text DEFAULT NULL, name text DEFAULT NULL,
                                                error jsonb DEFAULT NULL, request_headers jsonb DEFAULT NULL,
                                                output jsonb DEFAULT NULL, reference_doctype text DEFAULT NULL,
                                                reference_docname text DEFAULT NULL, url text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    n text := coalesce(name, integrations.random_name());
    now_local timestamp := integrations.site_now();
BEGIN
    -- a reference not passed is taken from the data, as Frappe does
    IF reference_doctype IS NULL AND jsonb_typeof(data) = 'object' THEN
        reference_doctype := data ->> 'reference_doctype';
        reference_docname := data ->> 'reference_docname';
    END IF;
    EXECUTE format('INSERT INTO %I.%I (name, creation, modified, owner, modified_by, docstatus, idx, '
                   'integration_request_service, is_remote_request, request_description, status, url, '
                   'request_headers, data, output, error, reference_doctype, reference_docname) '
                   'VALUES ($1, $2, $2, ''Administrator'', ''Administrator'', 0, 0, $3, $4, $5, ''Queued'', $6, $7, $8, $9, $10, $11, $12)',
                   site, 'tabIntegration Request')
       USING n, now_local, service_name, CASE WHEN integration_type = 'Remote' THEN 1 ELSE 0 END,
             CASE WHEN integration_type = 'Subscription Notification' THEN integration_type END, url,
             CASE WHEN request_headers IS NOT NULL THEN jsonb_pretty(request_headers) END,
             CASE WHEN data IS NOT NULL THEN CASE WHEN jsonb_typeof(data) = 'string' THEN data #>> '{}' ELSE jsonb_pretty(data) END END,
             CASE WHEN output IS NOT NULL THEN jsonb_pretty(output) END,
             CASE WHEN error IS NOT NULL THEN jsonb_pretty(error) END,
             reference_doctype, reference_docname;
    RETURN n;
END
$$;
COMMENT ON FUNCTION integrations.create_request_log(jsonb, text, text, text, jsonb, jsonb, jsonb, text, text, text) IS
'Frappe''s create_request_log: a Queued tabIntegration Request row; returns its name';

-- Integration Request.update_status: params merged into data, the status set
CREATE FUNCTION integrations.integration_request_update_status(name text, params jsonb, status text)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    old text;
    merged jsonb;
    found_row boolean;
BEGIN
    IF status NOT IN ('', 'Queued', 'Authorized', 'Completed', 'Cancelled', 'Failed') THEN
        RAISE EXCEPTION 'invalid Integration Request status "%"', status USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Queued, Authorized, Completed, Cancelled or Failed.';
    END IF;
    EXECUTE format('SELECT data, true FROM %I.%I WHERE name = $1 FOR UPDATE', site, 'tabIntegration Request')
       INTO old, found_row USING name;
    IF found_row IS NULL THEN
        RAISE EXCEPTION 'Integration Request % not found', name USING ERRCODE = 'no_data_found';
    END IF;
    BEGIN
        merged := coalesce(nullif(old, '')::jsonb, '{}');
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'the data of Integration Request % is not JSON', name USING ERRCODE = 'data_exception';
    END;
    merged := merged || coalesce(params, '{}');
    EXECUTE format('UPDATE %I.%I SET data = $2, status = $3, modified = $4 WHERE name = $1', site, 'tabIntegration Request')
       USING name, jsonb_pretty(merged), status, integrations.site_now();
END
$$;

-- handle_success / handle_failure: Completed with output, Failed with error
CREATE FUNCTION integrations.integration_request_finish(name text, status text, response jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    n integer;
BEGIN
    EXECUTE format('UPDATE %I.%I SET status = $2, %I = $3, modified = $4 WHERE name = $1',
                   current_setting('frappe_integrations.site_schema'), 'tabIntegration Request',
                   CASE status WHEN 'Completed' THEN 'output' ELSE 'error' END)
       USING name, status, jsonb_pretty(response), integrations.site_now();
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN
        RAISE EXCEPTION 'Integration Request % not found', name USING ERRCODE = 'no_data_found';
    END IF;
END
$$;
CREATE FUNCTION integrations.integration_request_handle_success(name text, response jsonb)
RETURNS void LANGUAGE sql VOLATILE
AS $$ SELECT integrations.integration_request_finish(name, 'Completed', response) $$;
CREATE FUNCTION integrations.integration_request_handle_failure(name text, response jsonb)
RETURNS void LANGUAGE sql VOLATILE
AS $$ SELECT integrations.integration_request_finish(name, 'Failed', response) $$;
REVOKE ALL ON FUNCTION integrations.integration_request_finish(text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.create_request_log(jsonb, text, text, text, jsonb, jsonb, jsonb, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.integration_request_update_status(text, jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.integration_request_handle_success(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.integration_request_handle_failure(text, jsonb) FROM PUBLIC;
