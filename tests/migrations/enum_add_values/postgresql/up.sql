ALTER TYPE "post_status" ADD VALUE 'archived';
CREATE TYPE "visibility" AS ENUM ('public', 'private');
ALTER TABLE "posts" ADD COLUMN "visibility" "visibility";
