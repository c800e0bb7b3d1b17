-- Notices to the archivists: disruptions, maintenance windows and other information, shown as a
-- banner on every page and served in the public feeds (/notices.json, /notices.atom). They hold
-- no client data. Every instance reads the notices not yet ended every few seconds, so that a
-- change made on one instance (or with `archivist notice …`) reaches all of them.
--
-- A notice is never deleted: ending one records when and by whom (its planned end stays as it was
-- announced), and the audit log holds every change with its actor.
CREATE TABLE notice (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('disruption', 'maintenance', 'information')),
    -- Finnish and Swedish are required (the service's languages); English falls back to Finnish.
    text_fi        text NOT NULL CHECK (length(btrim(text_fi)) BETWEEN 1 AND 2000),
    text_sv        text NOT NULL CHECK (length(btrim(text_sv)) BETWEEN 1 AND 2000),
    text_en        text CHECK (text_en IS NULL OR length(btrim(text_en)) BETWEEN 1 AND 2000),
    -- What the disruption or break concerns, in free text ('' when it concerns everything).
    affected       text NOT NULL DEFAULT '' CHECK (length(affected) <= 500),
    starts_at      timestamptz NOT NULL,
    -- Open-ended until someone ends it.
    ends_at        timestamptz CHECK (ends_at IS NULL OR ends_at > starts_at),
    -- A maintenance window that closes the service to everyone but administrators. Only a
    -- window with an end can close it, so that no notice closes the service for good.
    closes_service boolean NOT NULL DEFAULT false
                   CHECK (NOT closes_service OR (kind = 'maintenance' AND ends_at IS NOT NULL)),
    -- Why an operator closed the service (`archivist maintenance start --reason`); not shown to
    -- archivists, only to administrators and in the audit log.
    reason         text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     text,
    updated_at     timestamptz,
    -- Ended ahead of its planned end (or, open-ended, at all).
    ended_at       timestamptz,
    ended_by       text,
    CHECK ((updated_by IS NULL) = (updated_at IS NULL)),
    CHECK ((ended_by IS NULL) = (ended_at IS NULL))
);

-- What the instances read every few seconds: the notices that have not ended.
CREATE INDEX notice_open ON notice (ends_at) WHERE ended_at IS NULL;
