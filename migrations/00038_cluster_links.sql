-- +goose Up
-- Farm links (issue 15): what links the entries of a cluster beyond
-- identity keys (a shared card, phone numbers in sequence, one rare mail
-- domain, one building with the unit varied, one browser setup arriving
-- together, one pickup address), by kind, for the reviewer's cluster view.
-- Rewritten by every clustering pass; no personal data (kinds and counts).
CREATE TABLE cluster_links (
    event_id   bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    cluster_id uuid   NOT NULL,
    kind       text   NOT NULL CHECK (kind IN ('card', 'address', 'address_unit', 'env_burst', 'phone_run', 'rare_domain')),
    groups     integer NOT NULL CHECK (groups >= 1),
    entries    integer NOT NULL CHECK (entries >= 1),
    PRIMARY KEY (event_id, cluster_id, kind)
);

-- +goose Down
DROP TABLE cluster_links;
