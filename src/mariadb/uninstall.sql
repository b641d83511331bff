-- frappe_integrations on MariaDB: remove what install.sql made.  Frappe's
-- tables (tab..., __Auth) are never touched.
DROP DATABASE IF EXISTS integrations;
DROP FUNCTION IF EXISTS fi_udf_version;
DROP FUNCTION IF EXISTS fi_udf_last_error;
DROP FUNCTION IF EXISTS fi_udf_render_template;
DROP FUNCTION IF EXISTS fi_udf_eval_condition;
DROP FUNCTION IF EXISTS fi_udf_normalize_json;
DROP FUNCTION IF EXISTS fi_udf_hmac_sha256;
DROP FUNCTION IF EXISTS fi_udf_secure_compare;
DROP FUNCTION IF EXISTS fi_udf_url_encode;
DROP FUNCTION IF EXISTS fi_udf_random_name;
DROP FUNCTION IF EXISTS fi_udf_generate_hash;
DROP FUNCTION IF EXISTS fi_udf_generate_token;
DROP FUNCTION IF EXISTS fi_udf_passlib_hash;
DROP FUNCTION IF EXISTS fi_udf_passlib_verify;
DROP FUNCTION IF EXISTS fi_udf_verify_signature;
DROP FUNCTION IF EXISTS fi_udf_fernet_encrypt;
DROP FUNCTION IF EXISTS fi_udf_fernet_decrypt;
DROP FUNCTION IF EXISTS fi_udf_jwt_hs256;
DROP FUNCTION IF EXISTS fi_udf_jwt_decode_hs256;
DROP FUNCTION IF EXISTS fi_udf_auth_header;
DROP FUNCTION IF EXISTS fi_udf_fernet_equal;
DROP FUNCTION IF EXISTS fi_udf_bearer_scopes_ok;
DROP FUNCTION IF EXISTS fi_udf_scopes_json;
DROP FUNCTION IF EXISTS fi_udf_http_request;
DROP FUNCTION IF EXISTS fi_udf_oauth;
