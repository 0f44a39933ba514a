ALTER TABLE "users" ALTER COLUMN "name" TYPE VARCHAR(80);
DO $orm$ BEGIN IF EXISTS (SELECT 1 FROM "users" WHERE "age" IS NULL) THEN RAISE EXCEPTION '%', 'rows of users.age are NULL, and the column becomes NOT NULL: the change would lose or alter them'; END IF; END $orm$;
ALTER TABLE "users" ALTER COLUMN "age" SET DEFAULT 0;
ALTER TABLE "users" ALTER COLUMN "age" SET NOT NULL;
ALTER TABLE "users" ALTER COLUMN "level" TYPE BIGINT;
ALTER TABLE "users" ALTER COLUMN "active" SET DEFAULT TRUE;
