-- An event is the same event when its person, source and id are: the unique key includes the
-- person, as on PostgreSQL, where every unique key of a person's rows must include the person
-- so that people can be spread over servers (docs/sharding.md).
DROP INDEX IF EXISTS events_by_source_id;
CREATE UNIQUE INDEX IF NOT EXISTS events_by_person_source_id ON events(person, source, id);
