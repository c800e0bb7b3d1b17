-- Signed-in sessions, shared by every instance of the server so that either of a duplexed pair
-- can serve any request. The layout is the one tower-sessions-sqlx-store reads and writes
-- (PostgresStore with its default schema and table names); we create it here rather than letting
-- the store create it at run time, so that the schema is all in migrations.
--
-- A session holds no client data: the card's key binding, the sign-in time, the CSRF token and
-- the archivist's choice of active controller (MessagePack in `data`). The id is the cookie's
-- value; the session is worthless without the card's private key, since every request's
-- certificate must have the public key the session was bound to.
CREATE SCHEMA tower_sessions;

CREATE TABLE tower_sessions.session (
    id          text PRIMARY KEY NOT NULL,
    data        bytea NOT NULL,
    expiry_date timestamptz NOT NULL
);

-- The store's periodic clean-up deletes by expiry.
CREATE INDEX session_expiry ON tower_sessions.session (expiry_date);
