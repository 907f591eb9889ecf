-- Runs once, when the postgres volume is created (docker-entrypoint-initdb.d): Rasa's tracker
-- store gets a database of its own beside the help desk's (POSTGRES_DB).
CREATE DATABASE rasa;
