ALTER TABLE "users" DROP COLUMN "age";
ALTER TABLE "users" DROP COLUMN "score";
ALTER TABLE "users" DROP COLUMN "joined";
