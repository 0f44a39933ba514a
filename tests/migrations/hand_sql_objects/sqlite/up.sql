ALTER TABLE "posts" ADD COLUMN "modified_at" TIMESTAMPTZ_TEXT;
CREATE TRIGGER trg_posts_modified AFTER UPDATE ON posts
FOR EACH ROW WHEN NEW.modified_at IS OLD.modified_at BEGIN
  UPDATE posts SET modified_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
