DROP VIEW "user_labels";
