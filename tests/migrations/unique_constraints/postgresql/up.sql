ALTER TABLE "contacts" ADD CONSTRAINT "uq_contacts_email" UNIQUE ("email");
ALTER TABLE "contacts" ADD CONSTRAINT "uq_contacts_name_city" UNIQUE ("name", "city");
