-- Outbreak response: incidents, their tubes and members, control orders,
-- tasks, decisions, the timeline, and coverage marks. Times are Unix
-- milliseconds (UTC). Area and person snapshots (name, masked document)
-- are kept as JSON beside their indexed ids: the incident tables never
-- hold a full ID number.

CREATE TABLE incidents (
    id              BIGINT PRIMARY KEY,
    parent_id       BIGINT REFERENCES incidents(id),
    title           TEXT NOT NULL,
    area_id         BIGINT NOT NULL REFERENCES areas(id),
    area            TEXT NOT NULL,
    status          TEXT NOT NULL,
    opened_at       BIGINT NOT NULL,
    closed_at       BIGINT,
    trigger_tube    TEXT,
    case_person     TEXT,
    expansion_round BIGINT REFERENCES rounds(id),
    retest_round    BIGINT REFERENCES rounds(id)
);
CREATE INDEX incidents_area ON incidents(area_id, status);
CREATE INDEX incidents_parent ON incidents(parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX incidents_expansion ON incidents(expansion_round);
CREATE INDEX incidents_retest ON incidents(retest_round);

CREATE TABLE incident_tubes (
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    tube        TEXT NOT NULL REFERENCES tubes(barcode),
    role        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (incident_id, tube)
);
CREATE INDEX incident_tubes_tube ON incident_tubes(tube);

CREATE TABLE incident_members (
    incident_id  BIGINT NOT NULL REFERENCES incidents(id),
    person_id    BIGINT NOT NULL REFERENCES persons(id),
    person       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    source       TEXT NOT NULL,
    household_id BIGINT NOT NULL,
    address      TEXT NOT NULL,
    affiliations TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    PRIMARY KEY (incident_id, person_id)
);
CREATE INDEX incident_members_person ON incident_members(person_id);

CREATE TABLE control_orders (
    id          BIGINT PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    kind        TEXT NOT NULL,
    area_id     BIGINT,
    area        TEXT,
    person_id   BIGINT,
    person      TEXT,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT,
    ordered_by  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    lifted_at   BIGINT,
    lifted_by   TEXT
);
CREATE INDEX control_orders_incident ON control_orders(incident_id);

CREATE TABLE tasks (
    id          BIGINT PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    area_id     BIGINT,
    area        TEXT,
    person_id   BIGINT,
    person      TEXT,
    assignee    TEXT NOT NULL,
    target      BIGINT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    done_at     BIGINT,
    done_by     TEXT
);
CREATE INDEX tasks_incident ON tasks(incident_id);

CREATE TABLE decisions (
    id           BIGINT PRIMARY KEY,
    incident_id  BIGINT NOT NULL REFERENCES incidents(id),
    kind         TEXT NOT NULL,
    person_id    BIGINT,
    person       TEXT,
    status       TEXT NOT NULL,
    reason       TEXT NOT NULL,
    proposed_at  BIGINT NOT NULL,
    proposed_by  TEXT NOT NULL,
    decided_at   BIGINT,
    decided_by   TEXT,
    decided_role TEXT,
    note         TEXT
);
CREATE INDEX decisions_incident ON decisions(incident_id);

CREATE TABLE timeline (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL
);
CREATE INDEX timeline_incident ON timeline(incident_id, at);

CREATE TABLE person_marks (
    round_id  BIGINT NOT NULL REFERENCES rounds(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    kind      TEXT NOT NULL,
    note      TEXT NOT NULL,
    at        BIGINT NOT NULL,
    marked_by TEXT NOT NULL,
    PRIMARY KEY (round_id, person_id)
);
