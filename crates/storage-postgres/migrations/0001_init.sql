-- Grid tree, population and sampling sites.
-- Paths are materialised ('/1/7/42/') so a subtree is a range of strings;
-- COLLATE "C" makes that range byte-ordered, as in SQLite.

CREATE TABLE id_counters (
    kind    TEXT PRIMARY KEY,
    next_id BIGINT NOT NULL
);

CREATE TABLE areas (
    id             BIGINT PRIMARY KEY,
    parent_id      BIGINT REFERENCES areas(id),
    level          TEXT NOT NULL,
    name           TEXT COLLATE "C" NOT NULL,
    path           TEXT COLLATE "C" NOT NULL UNIQUE,
    resident_count BIGINT NOT NULL DEFAULT 0,
    UNIQUE (parent_id, name)
);
CREATE INDEX areas_name ON areas(name);

CREATE TABLE persons (
    id           BIGINT PRIMARY KEY,
    name         TEXT COLLATE "C" NOT NULL,
    doc_kind     TEXT NOT NULL,
    doc_number   TEXT NOT NULL,
    gender       TEXT,
    birth_date   TEXT,
    phone        TEXT,
    household_id BIGINT NOT NULL REFERENCES areas(id),
    area_path    TEXT COLLATE "C" NOT NULL,
    UNIQUE (doc_number, doc_kind)
);
CREATE INDEX persons_path ON persons(area_path);
CREATE INDEX persons_name ON persons(name);

CREATE TABLE affiliations (
    person_id BIGINT NOT NULL REFERENCES persons(id),
    area_id   BIGINT NOT NULL REFERENCES areas(id),
    kind      TEXT NOT NULL,
    PRIMARY KEY (person_id, area_id)
);
CREATE INDEX affiliations_area ON affiliations(area_id);

CREATE TABLE sites (
    id        BIGINT PRIMARY KEY,
    area_id   BIGINT NOT NULL REFERENCES areas(id),
    area_path TEXT COLLATE "C" NOT NULL,
    kind      TEXT NOT NULL,
    name      TEXT NOT NULL
);
CREATE INDEX sites_path ON sites(area_path);
