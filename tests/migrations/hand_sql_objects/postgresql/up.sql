ALTER TABLE "posts" ADD COLUMN "modified_at" TIMESTAMPTZ;
CREATE FUNCTION update_modified_column() RETURNS trigger AS $$
BEGIN
  NEW.modified_at = now();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER trg_posts_modified BEFORE UPDATE ON posts
FOR EACH ROW EXECUTE FUNCTION update_modified_column();
