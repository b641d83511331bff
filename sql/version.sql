-- version: the library refuses to run over SQL objects of another version
\set VERBOSITY terse
\c
BEGIN;
UPDATE pg_extension SET extversion = '0.0.1' WHERE extname = 'frappe_integrations';
SELECT integrations.doctype_meta('Webhook');
ROLLBACK;
\set VERBOSITY default
\c
BEGIN;
UPDATE pg_extension SET extversion = '0.0.1' WHERE extname = 'frappe_integrations';
SELECT integrations.passlib_hash('x');
ROLLBACK;
\set VERBOSITY terse
SELECT integrations.doctype_meta('Webhook')->>'name' AS works_again;
