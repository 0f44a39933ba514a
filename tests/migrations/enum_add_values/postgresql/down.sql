ALTER TABLE "posts" DROP COLUMN "visibility";
DROP TYPE "visibility";
DO $orm$ BEGIN IF EXISTS (SELECT 1 FROM "posts" WHERE CAST("status" AS TEXT) NOT IN ('draft', 'published')) THEN RAISE EXCEPTION '%', 'rows of posts.status hold labels that enum post_status no longer has: the change would lose or alter them'; END IF; END $orm$;
ALTER TYPE "post_status" RENAME TO "post_status__orm_old";
CREATE TYPE "post_status" AS ENUM ('draft', 'published');
ALTER TABLE "posts" ALTER COLUMN "status" DROP DEFAULT;
ALTER TABLE "posts" ALTER COLUMN "status" TYPE "post_status" USING CAST(CAST("status" AS TEXT) AS "post_status");
ALTER TABLE "posts" ALTER COLUMN "status" SET DEFAULT 'draft'::"post_status";
DROP TYPE "post_status__orm_old";
