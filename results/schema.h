/* schema.h — the results database schema as an ordered list of migrations keyed by PRAGMA user_version.
 *
 * A results database at version N has had migrations 1..N applied, in order, each in its own transaction that
 * also sets user_version = N and the glam-eval application_id; so a database is always at exactly one version,
 * never between two. Migration 1 is the base schema. An applied migration is never edited: a change to the
 * schema is a new migration appended to the list (docs/schema.md states the policy; tests/test_store.c checks
 * migration 1 against a frozen copy in tests/data/store_v1.sql).
 *
 * Only results/ (store.c) and tests use this header; everyone else goes through results/store.h. */
#ifndef GE_SCHEMA_H
#define GE_SCHEMA_H

#include <stddef.h>

#include "harness/error.h"

/* The newest schema version this program knows; store_open refuses a database with a higher user_version. */
#define SCHEMA_VERSION 5
/* PRAGMA application_id of a glam-eval results database: the ASCII bytes "GLaM". */
#define SCHEMA_APPLICATION_ID 0x474c614d

struct sqlite3; /* from <sqlite3.h>; kept out of this header's includes */

/* The name of migration `version` ("base", "contamination", "published"), or NULL when there is no such migration. */
const char *schema_migration_name(int version);

/* The i-th table that some schema version defines (in creation order), or NULL past the end. For reports that
 * list row counts per table: names are compile-time constants, safe to use as SQL identifiers. */
const char *schema_table_name(size_t i);

/* Reads PRAGMA user_version and PRAGMA application_id of db (path names it in messages). Fails with
 * GE_ERR_FORMAT when the file is not a database or is corrupt, GE_ERR_DB when it is locked or unreadable. */
int schema_read_version(struct sqlite3 *db, const char *path, int *user_version, int *application_id,
                        struct ge_error *err);

/* Applies migrations (current user_version + 1) .. target_version in order, each in one BEGIN IMMEDIATE
 * transaction that re-reads user_version first (so two processes migrating at once apply each step once) and
 * checks foreign keys before it commits. *from_version (may be NULL) receives the version found before the first
 * step. A failing step is rolled back and reported with its number and name; steps before it stay applied.
 * Fails with GE_ERR_STATE when the database is newer than target_version or target_version > SCHEMA_VERSION.
 * The caller has checked that db is a glam-eval database (or empty) and holds no open transaction. */
int schema_migrate(struct sqlite3 *db, const char *path, int target_version, int *from_version,
                   struct ge_error *err);

#endif
