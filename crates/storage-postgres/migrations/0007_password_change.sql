-- A password chosen by someone else (the first start's one-time admin
-- password) must be changed before the account may do anything else.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
