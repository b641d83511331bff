/* frappe_integrations 0.1.0 -> 0.2.0: Frappe's Jinja templates and webhook conditions */
\echo Use "ALTER EXTENSION frappe_integrations UPDATE TO '0.2.0'" to load this file. \quit

CREATE FUNCTION integrations.render_template(template text, context jsonb DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'fi_render_template'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION integrations.render_template(text, jsonb) IS
'frappe.render_template: a Jinja template rendered as Frappe''s sandbox renders it; the context''s keys are the template''s names (utils and frappe.utils are always there)';

CREATE FUNCTION integrations.eval_condition(condition text, context jsonb DEFAULT '{}')
RETURNS boolean
AS 'MODULE_PATHNAME', 'fi_eval_condition'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION integrations.eval_condition(text, jsonb) IS
'frappe.safe_eval of a webhook condition (a Python expression over doc, utils, int, float, long, round); an empty condition is true';

CREATE FUNCTION integrations.normalize_json(json text)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_normalize_json'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION integrations.normalize_json(text) IS
'json.dumps(json.loads(json)): the exact body Frappe sends for a rendered JSON webhook template';
