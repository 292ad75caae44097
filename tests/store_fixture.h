/* store_fixture.h — helpers shared by the results-store test files (tests/test_store.c, tests/test_store_open.c).
 *
 * Every case works in its own files under one temporary directory made by store_fixture_init and removed by
 * store_fixture_cleanup; raw_exec/raw_int reach the database around the store (to build fixtures by hand and to
 * check what the store wrote). */
#ifndef GE_STORE_FIXTURE_H
#define GE_STORE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "harness/error.h"
#include "results/store.h"

/* Identity hash of the remote model of tests/data/store_v1.sql, and a valid content hash. */
#define MODEL_A "f5f4b6cfa3c5864438a293621a4d02c648017b13baca38c46fe69579df213498"
#define DOC_HASH "f91335dfc8fb48175d98bdcf105519cd6cbb03985ee72762e05a46444d732e65"

/* Makes the temporary directory ($TMPDIR or /tmp); returns 0 or -1. */
int store_fixture_init(void);
/* Removes the directory and everything in it. */
void store_fixture_cleanup(void);
/* The temporary directory. */
const char *store_fixture_dir(void);

/* A fresh path "<dir>/<name>" in buf, with any file of that name and its -wal/-shm/-journal removed. */
const char *case_path(char *buf, size_t cap, const char *name);
/* 1 when "<path><suffix>" exists. */
int has_sidecar(const char *path, const char *suffix);
/* SHA-256 hex of a file's bytes, "(missing)" when it cannot be read. */
void digest(const char *path, char hex[65]);
/* Clears err and returns it: passed as the err argument so a test name printing err.msg shows that call's. */
struct ge_error *fresh(struct ge_error *err);
int contains(const char *haystack, const char *needle);
/* Runs SQL on a raw connection; returns the SQLite code (and prints a diagnostic on failure). */
int raw_exec(const char *path, const char *sql);
/* The first column of the first row of a read-only raw query, or -1. */
long long raw_int(const char *path, const char *sql);
/* Puts model MODEL_A, one run and one task run ("toy", 2-shot, validation) into st. */
int setup_run(struct store *st, int64_t *model_id, int64_t *run_id, int64_t *task_run_id, struct ge_error *err);

/* The cases of tests/test_store_open.c: refusals, locks, permissions, migrations. */
void test_store_refusals(void);
void test_store_locked(void);
void test_store_reader(void);
void test_store_permissions(void);
void test_store_migrations(void);

#endif
