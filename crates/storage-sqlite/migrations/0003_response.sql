-- Outbreak response: incidents, their tubes and members, control orders,
-- tasks, decisions, the timeline, and coverage marks. Times are Unix
-- milliseconds (UTC). Area and person snapshots (name, masked document)
-- are kept as JSON beside their indexed ids: the incident tables never
-- hold a full ID number.

CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY,
    parent_id       INTEGER REFERENCES incidents(id),
    title           TEXT NOT NULL,
    area_id         INTEGER NOT NULL REFERENCES areas(id),
    area            TEXT NOT NULL,
    status          TEXT NOT NULL,
    opened_at       INTEGER NOT NULL,
    closed_at       INTEGER,
    trigger_tube    TEXT,
    case_person     TEXT,
    expansion_round INTEGER REFERENCES rounds(id),
    retest_round    INTEGER REFERENCES rounds(id)
);
CREATE INDEX incidents_area ON incidents(area_id, status);
CREATE INDEX incidents_parent ON incidents(parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX incidents_expansion ON incidents(expansion_round);
CREATE INDEX incidents_retest ON incidents(retest_round);

CREATE TABLE incident_tubes (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    tube        TEXT NOT NULL REFERENCES tubes(barcode),
    role        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (incident_id, tube)
) WITHOUT ROWID;
CREATE INDEX incident_tubes_tube ON incident_tubes(tube);

CREATE TABLE incident_members (
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    person_id    INTEGER NOT NULL REFERENCES persons(id),
    person       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    source       TEXT NOT NULL,
    household_id INTEGER NOT NULL,
    address      TEXT NOT NULL,
    affiliations TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    PRIMARY KEY (incident_id, person_id)
) WITHOUT ROWID;
CREATE INDEX incident_members_person ON incident_members(person_id);

CREATE TABLE control_orders (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    kind        TEXT NOT NULL,
    area_id     INTEGER,
    area        TEXT,
    person_id   INTEGER,
    person      TEXT,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER,
    ordered_by  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    lifted_at   INTEGER,
    lifted_by   TEXT
);
CREATE INDEX control_orders_incident ON control_orders(incident_id);

CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    area_id     INTEGER,
    area        TEXT,
    person_id   INTEGER,
    person      TEXT,
    assignee    TEXT NOT NULL,
    target      INTEGER NOT NULL,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    done_at     INTEGER,
    done_by     TEXT
);
CREATE INDEX tasks_incident ON tasks(incident_id);

CREATE TABLE decisions (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    kind         TEXT NOT NULL,
    person_id    INTEGER,
    person       TEXT,
    status       TEXT NOT NULL,
    reason       TEXT NOT NULL,
    proposed_at  INTEGER NOT NULL,
    proposed_by  TEXT NOT NULL,
    decided_at   INTEGER,
    decided_by   TEXT,
    decided_role TEXT,
    note         TEXT
);
CREATE INDEX decisions_incident ON decisions(incident_id);

CREATE TABLE timeline (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL
);
CREATE INDEX timeline_incident ON timeline(incident_id, at);

CREATE TABLE person_marks (
    round_id  INTEGER NOT NULL REFERENCES rounds(id),
    person_id INTEGER NOT NULL REFERENCES persons(id),
    kind      TEXT NOT NULL,
    note      TEXT NOT NULL,
    at        INTEGER NOT NULL,
    marked_by TEXT NOT NULL,
    PRIMARY KEY (round_id, person_id)
) WITHOUT ROWID;
