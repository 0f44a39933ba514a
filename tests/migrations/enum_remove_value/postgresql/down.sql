CREATE TYPE "visibility" AS ENUM ('public', 'private');
ALTER TABLE "posts" ADD COLUMN "visibility" "visibility";
ALTER TYPE "post_status" RENAME TO "post_status__orm_old";
CREATE TYPE "post_status" AS ENUM ('draft', 'published', 'archived');
ALTER TABLE "posts" ALTER COLUMN "status" DROP DEFAULT;
ALTER TABLE "posts" ALTER COLUMN "status" TYPE "post_status" USING CAST(CAST("status" AS TEXT) AS "post_status");
ALTER TABLE "posts" ALTER COLUMN "status" SET DEFAULT 'draft'::"post_status";
DROP TYPE "post_status__orm_old";
