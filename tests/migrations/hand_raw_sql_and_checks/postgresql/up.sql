ALTER TABLE "users" ADD CONSTRAINT "ck_users_name_not_empty" CHECK (name <> '');
CREATE VIEW named_users AS SELECT id, name FROM users WHERE name <> '';
CREATE FUNCTION users_upper_name() RETURNS trigger AS $$
BEGIN
  NEW.name := upper(NEW.name);
  RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER users_upper_name BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION users_upper_name();
-- outside the transaction:
COMMIT;
CREATE INDEX CONCURRENTLY "ix_users_name_concurrently" ON "users" ("name");
BEGIN;
ALTER TABLE "users" ADD COLUMN "nickname" TEXT;
ALTER TABLE "users" DROP CONSTRAINT "ck_users_name_not_empty";
