-- frappe_integrations 0.4.0 -> 0.5.0: Data Import and Export from SQL; token validation.
\echo Use "ALTER EXTENSION frappe_integrations UPDATE TO '0.5.0'" to load this file. \quit

-- Frappe's Data Import: CSV text into a DocType, with its children.  The
-- caller's own privileges on the site's tables apply (checked per table).
CREATE FUNCTION integrations.import_csv(doctype text, data text,
                                        import_type text DEFAULT 'Insert New Records',
                                        options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_import_csv'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.import_csv(text, text, text, jsonb) IS
'Import CSV into a DocType with Frappe''s Data Import rules; a bad document fails alone (options: user, atomic, dry_run, webhooks, data_import, submit_after_import, column_to_field_map, batch_size, progress_seconds)';

-- The same from a file on the server: superuser or pg_read_server_files only.
CREATE FUNCTION integrations.import_csv_file(doctype text, path text,
                                             import_type text DEFAULT 'Insert New Records',
                                             options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_import_csv_file'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.import_csv_file(text, text, text, jsonb) IS
'Import a CSV file on the database server into a DocType (superuser or pg_read_server_files)';
REVOKE ALL ON FUNCTION integrations.import_csv_file(text, text, text, jsonb) FROM PUBLIC;

-- Frappe's Data Import template: the header row to fill in.
CREATE FUNCTION integrations.import_template(doctype text, options jsonb DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'fi_import_template'
LANGUAGE C STABLE;
COMMENT ON FUNCTION integrations.import_template(text, jsonb) IS
'The Data Import template header of a DocType (options: children, mandatory_only)';

-- Data Export in the Data Import template layout (it imports back unchanged).
-- The caller's own privileges on the site's tables apply.
CREATE FUNCTION integrations.export_csv(doctype text, options jsonb DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'fi_export_csv'
LANGUAGE C STABLE;
COMMENT ON FUNCTION integrations.export_csv(text, jsonb) IS
'Export a DocType as CSV in Frappe''s Data Import layout (options: fields, filters, order_by, limit, children, header, escape_formulas)';

-- The same into a file on the server, streamed: superuser or pg_write_server_files only.
CREATE FUNCTION integrations.export_csv_file(doctype text, path text, options jsonb DEFAULT '{}')
RETURNS bigint
AS 'MODULE_PATHNAME', 'fi_export_csv_file'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.export_csv_file(text, text, jsonb) IS
'Export a DocType as CSV into a file on the database server (superuser or pg_write_server_files); returns the lines written';
REVOKE ALL ON FUNCTION integrations.export_csv_file(text, text, jsonb) FROM PUBLIC;

-- What bench export-json and bench export-doc write, as jsonb.
CREATE FUNCTION integrations.export_json(doctype text, options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_export_json'
LANGUAGE C STABLE;
COMMENT ON FUNCTION integrations.export_json(text, jsonb) IS
'Documents as bench export-json writes them (options: name, filters, order_by, limit)';
CREATE FUNCTION integrations.export_doc(doctype text, name text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_export_doc'
LANGUAGE C STABLE;
COMMENT ON FUNCTION integrations.export_doc(text, text) IS
'A document as bench export-doc writes it';

-- Who is this request?  Frappe's REST API authentication against the site's
-- tables.  They read secrets: not for PUBLIC (grant them to a gateway role
-- with SELECT on the tables they read).
CREATE TYPE integrations.auth_identity AS (user_name text, method text, scopes text[]);
CREATE FUNCTION integrations.authenticate_one(authorization text, source_doctype text DEFAULT 'User')
RETURNS integrations.auth_identity
AS 'MODULE_PATHNAME', 'fi_authenticate_one'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION integrations.authenticate_one(text, text) FROM PUBLIC;
CREATE FUNCTION integrations.authenticate(authorization text, source_doctype text DEFAULT 'User')
RETURNS TABLE (user_name text, method text, scopes text[])
LANGUAGE sql VOLATILE
AS $$ SELECT * FROM integrations.authenticate_one($1, $2) $$;
COMMENT ON FUNCTION integrations.authenticate(text, text) IS
'Frappe''s validate_auth for an Authorization header (token key:secret, Basic, Bearer): the user, or 22023 (malformed) / 28000 (refused)';
REVOKE ALL ON FUNCTION integrations.authenticate(text, text) FROM PUBLIC;

CREATE FUNCTION integrations.validate_api_key(key text, secret text, source_doctype text DEFAULT 'User')
RETURNS text
AS 'MODULE_PATHNAME', 'fi_validate_api_key'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.validate_api_key(text, text, text) IS
'The user of an API key and secret (secret compared in constant time; disabled users refused), or NULL';
REVOKE ALL ON FUNCTION integrations.validate_api_key(text, text, text) FROM PUBLIC;

CREATE FUNCTION integrations.validate_bearer_token(token text, required_scopes text[] DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_validate_bearer_token'
LANGUAGE C STABLE;
COMMENT ON FUNCTION integrations.validate_bearer_token(text, text[]) IS
'The user of an OAuth bearer token (not expired, not Revoked, scopes within the client''s and the required ones), or NULL';
REVOKE ALL ON FUNCTION integrations.validate_bearer_token(text, text[]) FROM PUBLIC;

CREATE FUNCTION integrations.check_password(user_name text, password text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'fi_check_password'
LANGUAGE C STABLE;
COMMENT ON FUNCTION integrations.check_password(text, text) IS
'Frappe''s check_password: the login hash of __Auth (pbkdf2_sha256, argon2)';
REVOKE ALL ON FUNCTION integrations.check_password(text, text) FROM PUBLIC;

-- Frappe's generate_keys: a new api_secret (and an api_key when the user has none).
CREATE FUNCTION integrations.generate_keys(user_name text)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    secret text := integrations.generate_hash(15);
    found_user boolean;
BEGIN
    EXECUTE format('UPDATE %I.%I SET api_key = coalesce(nullif(api_key, ''''), $2) WHERE name = $1 RETURNING true',
                   site, 'tabUser')
       INTO found_user USING user_name, integrations.generate_hash(15);
    IF found_user IS NULL THEN
        RAISE EXCEPTION 'User % not found', user_name USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM integrations.set_password('User', user_name, 'api_secret', secret);
    RETURN secret;
END
$$;
COMMENT ON FUNCTION integrations.generate_keys(text) IS
'Frappe''s generate_keys: a new api_secret (returned; stored as Frappe stores it) and an api_key if the user has none';
REVOKE ALL ON FUNCTION integrations.generate_keys(text) FROM PUBLIC;
