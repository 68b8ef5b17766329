-- Rounds, tubes and their samples, transfer boxes, results, and the
-- device sync log. Times are Unix milliseconds (UTC).

ALTER TABLE sites ADD COLUMN direct_results BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE rounds (
    id         BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    pool_size  INTEGER NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    closed     BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE round_areas (
    round_id BIGINT NOT NULL REFERENCES rounds(id),
    area_id  BIGINT NOT NULL REFERENCES areas(id),
    PRIMARY KEY (round_id, area_id)
);

CREATE TABLE tubes (
    barcode     TEXT PRIMARY KEY,
    round_id    BIGINT NOT NULL REFERENCES rounds(id),
    site_id     BIGINT NOT NULL REFERENCES sites(id),
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    capacity    INTEGER NOT NULL,
    samples     INTEGER NOT NULL,
    opened_at   BIGINT NOT NULL,
    opened_by   TEXT NOT NULL,
    sealed_at   BIGINT,
    box_barcode TEXT,
    received_at BIGINT,
    received_by TEXT,
    resulted_at BIGINT
);
CREATE INDEX tubes_round ON tubes(round_id);
CREATE INDEX tubes_box ON tubes(box_barcode) WHERE box_barcode IS NOT NULL;

CREATE TABLE samples (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tube      TEXT NOT NULL REFERENCES tubes(barcode),
    round_id  BIGINT NOT NULL,
    person_id BIGINT REFERENCES persons(id),
    point     TEXT,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL
);
CREATE UNIQUE INDEX samples_tube_person ON samples(tube, person_id) WHERE person_id IS NOT NULL;
CREATE UNIQUE INDEX samples_tube_point ON samples(tube, point) WHERE point IS NOT NULL;
CREATE INDEX samples_round_person ON samples(round_id, person_id);

CREATE TABLE boxes (
    barcode        TEXT PRIMARY KEY,
    status         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    handed_over_at BIGINT
);

CREATE TABLE results (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tube       TEXT NOT NULL REFERENCES tubes(barcode),
    outcome    TEXT NOT NULL,
    ct_orf1ab  DOUBLE PRECISION,
    ct_n       DOUBLE PRECISION,
    grey_zone  BOOLEAN NOT NULL,
    posted_at  BIGINT NOT NULL,
    posted_by  TEXT NOT NULL,
    correction BOOLEAN NOT NULL,
    current    BOOLEAN NOT NULL
);
CREATE INDEX results_tube ON results(tube);

CREATE TABLE device_cursors (
    device_id TEXT PRIMARY KEY,
    next_seq  BIGINT NOT NULL
);

CREATE TABLE device_events (
    device_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    command     TEXT NOT NULL,
    state       TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
