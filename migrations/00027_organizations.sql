-- +goose Up
-- Organizations (issue 14): an organizer sees and changes only the events of
-- its organization; reviewers review its entries. Accounts made before
-- organizations existed, and `staff add` without --org, belong to
-- "default".
CREATE TABLE organizations (
    id         bigserial PRIMARY KEY,
    slug       text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO organizations (slug, name) VALUES ('default', 'Default organization');

ALTER TABLE staff ADD COLUMN org_id bigint REFERENCES organizations (id);
UPDATE staff SET org_id = (SELECT id FROM organizations WHERE slug = 'default');
ALTER TABLE staff ALTER COLUMN org_id SET NOT NULL;
CREATE INDEX staff_org_idx ON staff (org_id);

ALTER TABLE events ADD COLUMN org_id bigint REFERENCES organizations (id);
UPDATE events SET org_id = (SELECT id FROM organizations WHERE slug = 'default');
ALTER TABLE events ALTER COLUMN org_id SET NOT NULL;
CREATE INDEX events_org_idx ON events (org_id, opens_at DESC);

ALTER TABLE series ADD COLUMN org_id bigint REFERENCES organizations (id);
UPDATE series SET org_id = (SELECT id FROM organizations WHERE slug = 'default');
ALTER TABLE series ALTER COLUMN org_id SET NOT NULL;

-- +goose Down
ALTER TABLE series DROP COLUMN org_id;
ALTER TABLE events DROP COLUMN org_id;
ALTER TABLE staff DROP COLUMN org_id;
DROP TABLE organizations;
