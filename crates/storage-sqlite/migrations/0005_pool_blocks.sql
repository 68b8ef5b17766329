-- Non-negative pools decoded under a stage-2 design other than single
-- tubes (the playbook's `[stage2]`): the decoder's design and the members
-- in decoder order, fixed when the pool was planned, and the task of each
-- tube the decoder has asked for, per round after the pool. The decoder is
-- replayed from these and the retest round's results; nothing it decides
-- is stored here but what was already written to members and tasks.

CREATE TABLE pool_blocks (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    tube        TEXT NOT NULL REFERENCES tubes(barcode),
    design      TEXT NOT NULL,
    members     TEXT NOT NULL,
    tasks       TEXT NOT NULL,
    complete    INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (incident_id, tube)
) WITHOUT ROWID;
