ALTER TABLE "users" ADD CONSTRAINT "ck_users_name_not_empty" CHECK (name <> '');
ALTER TABLE "users" DROP COLUMN "nickname";
DROP INDEX "ix_users_name_concurrently";
DROP TRIGGER users_upper_name ON users;
DROP FUNCTION users_upper_name();
DROP VIEW named_users;
ALTER TABLE "users" DROP CONSTRAINT "ck_users_name_not_empty";
