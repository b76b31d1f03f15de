-- Nothing ever wrote or read apps.settings; per-app policy gets typed columns of its own when it comes.
ALTER TABLE apps DROP COLUMN IF EXISTS settings;
