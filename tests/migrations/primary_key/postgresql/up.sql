DO $orm$ DECLARE pk text; BEGIN SELECT conname INTO pk FROM pg_constraint WHERE conrelid = '"items"'::regclass AND contype = 'p'; IF pk IS NOT NULL THEN EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', 'items', pk); END IF; END $orm$;
ALTER TABLE "items" ADD PRIMARY KEY ("code", "version");
