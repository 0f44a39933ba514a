ALTER TABLE "users" DROP COLUMN "joined";
ALTER TABLE "users" DROP COLUMN "score";
ALTER TABLE "users" DROP COLUMN "age";
