-- A lift confirmed while a controlled compound was below the playbook's
-- coverage requirement is an explicit override: its reason is kept with
-- the decision and shown in the report (SPEC §8, "no blind spot").
ALTER TABLE decisions ADD COLUMN override_reason TEXT;
