-- Rounds, tubes and their samples, transfer boxes, results, and the
-- device sync log. Times are Unix milliseconds (UTC).

ALTER TABLE sites ADD COLUMN direct_results INTEGER NOT NULL DEFAULT 0;

CREATE TABLE rounds (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    pool_size  INTEGER NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    closed     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE round_areas (
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    area_id  INTEGER NOT NULL REFERENCES areas(id),
    PRIMARY KEY (round_id, area_id)
) WITHOUT ROWID;

CREATE TABLE tubes (
    barcode     TEXT PRIMARY KEY,
    round_id    INTEGER NOT NULL REFERENCES rounds(id),
    site_id     INTEGER NOT NULL REFERENCES sites(id),
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    capacity    INTEGER NOT NULL,
    samples     INTEGER NOT NULL,
    opened_at   INTEGER NOT NULL,
    opened_by   TEXT NOT NULL,
    sealed_at   INTEGER,
    box_barcode TEXT,
    received_at INTEGER,
    received_by TEXT,
    resulted_at INTEGER
) WITHOUT ROWID;
CREATE INDEX tubes_round ON tubes(round_id);
CREATE INDEX tubes_box ON tubes(box_barcode) WHERE box_barcode IS NOT NULL;

CREATE TABLE samples (
    id        INTEGER PRIMARY KEY,
    tube      TEXT NOT NULL REFERENCES tubes(barcode),
    round_id  INTEGER NOT NULL,
    person_id INTEGER REFERENCES persons(id),
    point     TEXT,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL
);
CREATE UNIQUE INDEX samples_tube_person ON samples(tube, person_id) WHERE person_id IS NOT NULL;
CREATE UNIQUE INDEX samples_tube_point ON samples(tube, point) WHERE point IS NOT NULL;
CREATE INDEX samples_round_person ON samples(round_id, person_id);

CREATE TABLE boxes (
    barcode        TEXT PRIMARY KEY,
    status         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    handed_over_at INTEGER
) WITHOUT ROWID;

CREATE TABLE results (
    id         INTEGER PRIMARY KEY,
    tube       TEXT NOT NULL REFERENCES tubes(barcode),
    outcome    TEXT NOT NULL,
    ct_orf1ab  REAL,
    ct_n       REAL,
    grey_zone  INTEGER NOT NULL,
    posted_at  INTEGER NOT NULL,
    posted_by  TEXT NOT NULL,
    correction INTEGER NOT NULL,
    current    INTEGER NOT NULL
);
CREATE INDEX results_tube ON results(tube);

CREATE TABLE device_cursors (
    device_id TEXT PRIMARY KEY,
    next_seq  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE device_events (
    device_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    command     TEXT NOT NULL,
    state       TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
