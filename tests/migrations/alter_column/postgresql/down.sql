ALTER TABLE "users" ALTER COLUMN "active" DROP DEFAULT;
DO $orm$ BEGIN IF EXISTS (SELECT 1 FROM "users" WHERE CAST("level" AS NUMERIC) NOT BETWEEN -2147483648 AND 2147483647) THEN RAISE EXCEPTION '%', 'rows of users.level are out of the range of integer (-2147483648 to 2147483647): the change would lose or alter them'; END IF; END $orm$;
ALTER TABLE "users" ALTER COLUMN "level" TYPE INTEGER;
ALTER TABLE "users" ALTER COLUMN "age" DROP DEFAULT;
ALTER TABLE "users" ALTER COLUMN "age" DROP NOT NULL;
DO $orm$ BEGIN IF EXISTS (SELECT 1 FROM "users" WHERE length("name") > 40) THEN RAISE EXCEPTION '%', 'rows of users.name are longer than 40 characters: the change would lose or alter them'; END IF; END $orm$;
ALTER TABLE "users" ALTER COLUMN "name" TYPE VARCHAR(40);
