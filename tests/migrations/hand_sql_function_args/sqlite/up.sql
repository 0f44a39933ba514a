CREATE VIEW user_labels AS SELECT id, name FROM users;
