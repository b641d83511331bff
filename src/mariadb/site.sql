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

DELIMITER ;
