-- The OAuth provider's pure pieces and one code flow with the PKCE example
-- of RFC 7636 appendix B (random tokens are not printed).
SET frappe_integrations.site_url = 'https://erp.example.com';

-- JWTs: our compact claims, our header (the bytes Python's hmac gives for the same input);
-- a JWT of another algorithm or key is not ours
SELECT integrations.jwt_hs256('{"b": [1, "x y", null, true], "a": {"é": 1.50}}', 'secret');
SELECT integrations.jwt_decode_hs256(integrations.jwt_hs256('{"sub": "x"}', 'k'), 'k');
SELECT integrations.jwt_decode_hs256(integrations.jwt_hs256('{"sub": "x"}', 'k'), 'K') IS NULL AS other_key;
-- {"alg":"none"} with the same body and signature
SELECT integrations.jwt_decode_hs256('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' || split_part(integrations.jwt_hs256('{"sub": "x"}', 'k'), '.', 3), 'k') IS NULL AS alg_none;
SELECT integrations.jwt_decode_hs256('not.a', 'k');
SELECT integrations.jwt_decode_hs256('a.b.c.d', 'k');
SELECT integrations.jwt_hs256('[1]', 'k');

-- form encoding as Python's urlencode; scopes; half hashes
SELECT integrations.url_encode('a b&c=d/é~_.-'), integrations.url_encode('');
SELECT integrations.oauth_scopes('all openid', NULL), integrations.oauth_scopes('all openid', 'openid openid all'),
       integrations.oauth_scopes('all openid', 'all admin') IS NULL AS refused;
-- OpenID Connect Core A.3: this access token's at_hash is 77QmUPtjPfzWtF2AnpK9RQ
SELECT integrations.oauth_half_hash('jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y');

-- RFC 7636 appendix B: this verifier's S256 challenge
INSERT INTO "tabOAuth Client"(name, client_id, app_name, client_secret, scopes, redirect_uris, default_redirect_uri, response_type)
VALUES ('rc1', 'rc1', 'Regress', '1234567890', 'all openid', 'https://rp.example/cb', 'https://rp.example/cb', 'Code');
CREATE TEMP TABLE flow AS
SELECT integrations.oauth_authorize('jane@example.com', '{"client_id": "rc1", "response_type": "code", "scope": "all", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}') AS a;
SELECT a ->> 'redirect_to' = 'https://rp.example/cb?code=' || (a ->> 'code') AS redirect_ok FROM flow;
SELECT integrations.oauth_token(jsonb_build_object('grant_type', 'authorization_code', 'code', a ->> 'code',
         'client_id', 'rc1', 'client_secret', '1234567890', 'code_verifier', 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'))
       - 'access_token' - 'refresh_token' AS response FROM flow;
SELECT client, "user", scopes, status, expires_in, refresh_token IS NOT NULL AS has_refresh FROM "tabOAuth Bearer Token" WHERE client = 'rc1';
SELECT validity, code_challenge_method FROM "tabOAuth Authorization Code" WHERE client = 'rc1';
