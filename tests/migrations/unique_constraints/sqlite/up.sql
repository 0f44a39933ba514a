-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'contacts'
CREATE TABLE "_orm_new_contacts" ("id" INTEGER NOT NULL, "name" TEXT NOT NULL, "email" TEXT NOT NULL, "city" TEXT NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "uq_contacts_email" UNIQUE ("email"), CONSTRAINT "uq_contacts_name_city" UNIQUE ("name", "city"));
INSERT INTO "_orm_new_contacts" ("id", "name", "email", "city") SELECT "id", "name", "email", "city" FROM "contacts";
DROP TABLE "contacts";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_contacts" RENAME TO "contacts";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
