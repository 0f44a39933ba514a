ALTER TABLE "posts" ALTER COLUMN "title" TYPE VARCHAR(200);
DO $orm$ BEGIN IF EXISTS (SELECT 1 FROM "posts" WHERE length("summary") > 50) THEN RAISE EXCEPTION '%', 'rows of posts.summary are longer than 50 characters: the change would lose or alter them'; END IF; END $orm$;
ALTER TABLE "posts" ALTER COLUMN "summary" TYPE VARCHAR(50);
