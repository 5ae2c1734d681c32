-- Run once by the postgres image on an empty data directory: Dagster's own storage lives in its
-- own database next to lotline's, so neither's tables or migrations touch the other's.
CREATE DATABASE dagster OWNER lotline;
