-- A Chinook-like database as an existing application would have written it, with every type
-- SQLite reflection maps, for `cargo db models` (tests/models_codegen.rs), and types other tools
-- declare (NUMERIC(10,2), DECIMAL(6), CHAR(2), JSON).
CREATE TABLE "Artist" (
    "ArtistId" INTEGER PRIMARY KEY NOT NULL,
    "Name" VARCHAR(120)
);
CREATE TABLE "Album" (
    "AlbumId" INTEGER PRIMARY KEY NOT NULL,
    "Title" VARCHAR(160) NOT NULL,
    "ArtistId" INTEGER NOT NULL REFERENCES "Artist" ("ArtistId") ON DELETE CASCADE
);
CREATE INDEX "IFK_AlbumArtistId" ON "Album" ("ArtistId");
CREATE TABLE "Genre" (
    "GenreId" INTEGER PRIMARY KEY NOT NULL,
    "Name" VARCHAR(120) UNIQUE
);
CREATE TABLE "MediaType" (
    "MediaTypeId" INTEGER PRIMARY KEY NOT NULL,
    "Name" VARCHAR(120)
);
CREATE TABLE "Track" (
    "TrackId" INTEGER PRIMARY KEY NOT NULL,
    "Name" VARCHAR(200) NOT NULL,
    "AlbumId" INTEGER REFERENCES "Album" ("AlbumId") ON DELETE SET NULL ON UPDATE CASCADE,
    "GenreId" INTEGER REFERENCES "Genre" ("GenreId"),
    "MediaTypeId" INTEGER NOT NULL DEFAULT 1 REFERENCES "MediaType" ("MediaTypeId"),
    "Milliseconds" INTEGER NOT NULL,
    "Bytes" INTEGER,
    "UnitPrice" NUMERIC(10,2) NOT NULL DEFAULT 0.99,
    "type" TEXT NOT NULL DEFAULT 'audio',
    "Explicit" BOOLEAN NOT NULL DEFAULT 0,
    CONSTRAINT "ck_track_length" CHECK ("Milliseconds" > 0)
);
CREATE INDEX "ix_track_lower_name" ON "Track" (lower("Name"));
CREATE INDEX "ix_track_explicit_genre" ON "Track" ("GenreId") WHERE "Explicit" = 1;
-- A rowid key declared without NOT NULL (pragma_table_info says it is nullable; it is not).
CREATE TABLE "Playlist" (
    "PlaylistId" INTEGER PRIMARY KEY,
    "Name" TEXT
);
CREATE TABLE "PlaylistTrack" (
    "PlaylistId" INTEGER NOT NULL REFERENCES "Playlist" ("PlaylistId") ON DELETE CASCADE,
    "TrackId" INTEGER NOT NULL REFERENCES "Track" ("TrackId") ON DELETE CASCADE,
    PRIMARY KEY ("PlaylistId", "TrackId")
);
CREATE TABLE "Employee" (
    "EmployeeId" INTEGER PRIMARY KEY NOT NULL,
    "LastName" VARCHAR(20) NOT NULL,
    "FirstName" VARCHAR(20) NOT NULL,
    "ReportsTo" INTEGER REFERENCES "Employee" ("EmployeeId"),
    "BirthDate" DATE_TEXT,
    "HireDate" TIMESTAMP_TEXT,
    "Email" VARCHAR(60)
);
CREATE UNIQUE INDEX "ux_employee_name" ON "Employee" ("LastName", "FirstName");
CREATE TABLE "EmployeeMentor" (
    "MentorId" INTEGER NOT NULL REFERENCES "Employee" ("EmployeeId"),
    "MenteeId" INTEGER NOT NULL REFERENCES "Employee" ("EmployeeId"),
    PRIMARY KEY ("MentorId", "MenteeId")
);
CREATE TABLE "Customer" (
    "CustomerId" INTEGER PRIMARY KEY NOT NULL,
    "FirstName" VARCHAR(40) NOT NULL,
    "Company" VARCHAR(80),
    "SupportRepId" INTEGER REFERENCES "Employee" ("EmployeeId")
);
CREATE TABLE "Invoice" (
    "InvoiceId" INTEGER PRIMARY KEY NOT NULL,
    "CustomerId" INTEGER NOT NULL REFERENCES "Customer" ("CustomerId"),
    "SoldById" INTEGER NOT NULL REFERENCES "Employee" ("EmployeeId"),
    "CheckedById" INTEGER REFERENCES "Employee" ("EmployeeId"),
    "InvoiceDate" TIMESTAMPTZ_TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "Total" NUMERIC(10,2) NOT NULL,
    "Rate" REAL
);
CREATE TABLE "InvoiceLine" (
    "InvoiceId" INTEGER NOT NULL REFERENCES "Invoice" ("InvoiceId") ON DELETE CASCADE,
    "LineNo" INTEGER NOT NULL,
    "TrackId" INTEGER NOT NULL REFERENCES "Track" ("TrackId"),
    "Quantity" INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY ("InvoiceId", "LineNo")
);
CREATE TABLE customer_profiles (
    customer_id INTEGER PRIMARY KEY NOT NULL REFERENCES "Customer" ("CustomerId") ON DELETE CASCADE,
    public_id UUID_TEXT NOT NULL UNIQUE,
    settings JSON_TEXT,
    tags STRING_ARRAY_TEXT NOT NULL,
    scores I64_ARRAY_TEXT,
    avatar BLOB,
    updated_at TIMESTAMPTZ_TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    country CHAR(2),
    raw_settings JSON,
    balance NUMERIC(12,2) NOT NULL DEFAULT 0,
    points DECIMAL(6),
    exact NUMERIC
);
-- Names a Rust identifier cannot be: quotes, spaces, a digit first, keywords, two columns that
-- are one snake_case name, a table named like a prelude type.
CREATE TABLE "odd ""names"" table" (
    "Id" INTEGER PRIMARY KEY NOT NULL,
    "it's" TEXT,
    "1st" INTEGER,
    "self" TEXT,
    "UserName" TEXT,
    "user_name" TEXT,
    "Note" TEXT NOT NULL DEFAULT 'it''s'
);
CREATE INDEX "ix odd ""names""" ON "odd ""names"" table" ("it's", "1st");
CREATE TABLE "value" (
    "id" INTEGER PRIMARY KEY NOT NULL,
    "odd_id" INTEGER REFERENCES "odd ""names"" table" ("Id")
);
CREATE TABLE session (
    id UUID_TEXT PRIMARY KEY NOT NULL,
    started_at TIMESTAMPTZ_TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
