/**
 * \file
 * The incident history in SQLite (incidents.h): a bounded queue on the
 * module's thread, written in batches; every database failure is survived.
 */
#include "incidents.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "errbuf.h"

/** Error lines (incidents_error) at most this often (ms). */
#define ERR_LOG_MS 60000
/** Retention is checked this often (ms). */
#define PRUNE_MS 60000
/** A query on the module's thread may take this long (ms) before it is cut. */
#define QUERY_MS 2000

struct dw_incidents {
	char *path;
	uint32_t keep;
	dw_log_fn log;
	void *log_arg;
	sqlite3 *db;
	sqlite3_stmt *ins;
	struct dw_incident *q; /* DW_INC_QUEUE rows, ring */
	size_t head, count;
	uint64_t last_batch_ms, next_try_ms, last_err_ms, last_prune_ms;
	int failing;             /* a write or open failed since the last success */
	int prune_more;          /* the last prune hit DW_INC_PRUNE_ROWS */
	uint64_t dropped_at_fail; /* drops at the last successful write */
	uint64_t errors_logged;  /* failures not yet reported (rate limit) */
	struct dw_inc_stats st;
	uint64_t deadline_ms;    /* for the progress handler */
};

static const char *const event_names[DW_INC_EVENT_COUNT] = {"verdict",
                                                            "would_block",
                                                            "block",
                                                            "unblock",
                                                            "expire",
                                                            "exempt_add",
                                                            "exempt_remove",
                                                            "block_failed",
                                                            "block_domain",
                                                            "would_block_domain",
                                                            "unblock_domain",
                                                            "expire_domain",
                                                            "domain_block_refused"};

/** Event name of an id. */
const char *dw_inc_event_name(enum dw_inc_event ev)
{
	return (unsigned)ev < DW_INC_EVENT_COUNT ? event_names[ev] : "?";
}

/* Version 0 -> 1: the first schema. Each later version appends one step;
 * a step runs inside the migration's transaction. */
static const char *const migrations[DW_INC_SCHEMA] = {
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE incidents ("
    " id INTEGER PRIMARY KEY,"
    " time INTEGER NOT NULL,"
    " event TEXT NOT NULL,"
    " client TEXT NOT NULL,"
    " prefix INTEGER NOT NULL,"
    " addr BLOB NOT NULL,"
    " detector TEXT,"
    " action TEXT,"
    " duration INTEGER,"
    " step INTEGER,"
    " mode TEXT NOT NULL,"
    " backend TEXT NOT NULL,"
    " uid INTEGER,"
    " country TEXT,"
    " asn INTEGER,"
    " evidence TEXT NOT NULL);"
    "CREATE INDEX incidents_time ON incidents(time);"
    "CREATE INDEX incidents_addr ON incidents(addr, id);",
    /* 1 -> 2: domain blocks (a column an old row reads as NULL) */
    "ALTER TABLE incidents ADD COLUMN domain TEXT;"
    "CREATE INDEX incidents_domain ON incidents(domain, id) WHERE domain IS NOT NULL;"};

/** Monotonic milliseconds. */
static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/** One log line of the store's own (always through the caller's limiter). */
static void say(struct dw_incidents *s, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct dw_incidents *s, int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	if (!s->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->log(s->log_arg, prio, line);
}

/** See incidents.h. */
struct dw_incidents *dw_incidents_new(const char *path, uint32_t keep, dw_log_fn log,
				      void *log_arg, char *err, size_t errlen)
{
	struct dw_incidents *s;
	if (!path || !path[0] || strlen(path) > 4000) {
		dw_set_err(err, errlen, "incidents.database: empty or too long a path");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s)
		s->q = calloc(DW_INC_QUEUE, sizeof(*s->q));
	if (s && s->q)
		s->path = strdup(path);
	if (!s || !s->q || !s->path) {
		if (s)
			free(s->q);
		free(s);
		dw_set_err(err, errlen, "out of memory");
		return NULL;
	}
	s->keep = keep;
	s->log = log;
	s->log_arg = log_arg;
	return s;
}

/** Close the connection (the queue stays). */
static void db_close(struct dw_incidents *s)
{
	sqlite3_finalize(s->ins);
	s->ins = NULL;
	sqlite3_close_v2(s->db);
	s->db = NULL;
	s->st.ok = 0;
}

/** See incidents.h. */
void dw_incidents_free(struct dw_incidents *s)
{
	if (!s)
		return;
	s->next_try_ms = 0; /* one last attempt, whatever the retry plan */
	if (s->count)
		dw_incidents_flush(s, mono_ms());
	if (s->count)
		say(s, LOG_WARNING,
		    "dnswarden: event=incidents_error file=%s error=\"%zu rows not written at "
		    "shutdown\"",
		    s->path, s->count);
	db_close(s);
	free(s->q);
	free(s->path);
	free(s);
}

/** See incidents.h. */
int dw_incidents_add(struct dw_incidents *s, const struct dw_incident *row)
{
	if (s->count == DW_INC_QUEUE) {
		s->st.dropped++;
		return -1;
	}
	s->q[(s->head + s->count) % DW_INC_QUEUE] = *row;
	s->count++;
	return 0;
}

/** Abort a query that runs past its deadline (progress handler). */
static int past_deadline(void *arg)
{
	struct dw_incidents *s = arg;
	return s->deadline_ms && mono_ms() > s->deadline_ms;
}

/** A random id for this file (meta.uuid: dnswarden-report's --new state
 *  follows the file, not its name). */
static void make_uuid(char *buf, size_t len)
{
	unsigned char r[16];
	FILE *f = fopen("/dev/urandom", "rb");
	size_t i, n = 0;
	if (!f || fread(r, 1, sizeof(r), f) != sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		for (i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)((uint64_t)ts.tv_nsec >> (i % 8) ^ (uint64_t)getpid() >> i);
	}
	if (f)
		fclose(f);
	for (i = 0; i < sizeof(r) && n + 3 <= len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%02x", r[i]);
}

/** Bring the schema to DW_INC_SCHEMA; returns an SQLite code, with a text. */
static int migrate(struct dw_incidents *s, char *why, size_t whylen)
{
	sqlite3_stmt *st = NULL;
	int rc, v = 0, i;
	char *msg = NULL;
	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		snprintf(why, whylen, "%s", sqlite3_errmsg(s->db));
		return rc;
	}
	if (v > DW_INC_SCHEMA) {
		snprintf(why, whylen,
			 "schema version %d is newer than this module's (%d): left alone, nothing "
			 "written",
			 v, DW_INC_SCHEMA);
		return SQLITE_ERROR;
	}
	if (v == DW_INC_SCHEMA)
		return SQLITE_OK;
	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
	for (i = v; rc == SQLITE_OK && i < DW_INC_SCHEMA; i++)
		rc = sqlite3_exec(s->db, migrations[i], NULL, NULL, &msg);
	if (rc == SQLITE_OK && v == 0) {
		char sql[512], uuid[40] = "", host[128] = "";
		make_uuid(uuid, sizeof(uuid));
		if (gethostname(host, sizeof(host) - 1) != 0)
			snprintf(host, sizeof(host), "unknown");
		host[sizeof(host) - 1] = '\0';
		sqlite3_snprintf(sizeof(sql), sql,
				 "INSERT INTO meta VALUES ('created', '%lld'), ('uuid', %Q), "
				 "('host', %Q)",
				 (long long)time(NULL), uuid, host);
		rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	}
	if (rc == SQLITE_OK) {
		char sql[160];
		snprintf(sql, sizeof(sql),
			 "INSERT OR REPLACE INTO meta VALUES ('schema', '%d'); PRAGMA user_version = %d; "
			 "COMMIT",
			 DW_INC_SCHEMA, DW_INC_SCHEMA);
		rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	}
	if (rc != SQLITE_OK) {
		snprintf(why, whylen, "schema %d -> %d: %s", v, DW_INC_SCHEMA,
			 msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	} else if (v > 0) {
		say(s, LOG_NOTICE, "dnswarden: event=incidents_migrated file=%s from=%d to=%d",
		    s->path, v, DW_INC_SCHEMA);
	}
	sqlite3_free(msg);
	return rc;
}

/** Open the database, WAL mode, schema, insert statement. SQLite code. */
static int db_open(struct dw_incidents *s, char *why, size_t whylen)
{
	int rc = sqlite3_open_v2(s->path, &s->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	char *msg = NULL;
	if (rc != SQLITE_OK) {
		snprintf(why, whylen, "%s", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		db_close(s);
		return rc;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 0); /* never wait for a lock: retry on a later tick */
	sqlite3_progress_handler(s->db, 10000, past_deadline, s);
	rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", NULL,
			  NULL, &msg);
	if (rc == SQLITE_OK)
		rc = migrate(s, why, whylen);
	else
		snprintf(why, whylen, "%s", msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	if (rc == SQLITE_OK) {
		rc = sqlite3_prepare_v2(
		    s->db,
		    "INSERT INTO incidents (time, event, client, prefix, addr, detector, action, "
		    "duration, step, mode, backend, uid, country, asn, evidence, domain) VALUES "
		    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		    -1, &s->ins, NULL);
		if (rc != SQLITE_OK)
			snprintf(why, whylen, "%s", sqlite3_errmsg(s->db));
	}
	if (rc != SQLITE_OK)
		db_close(s);
	return rc;
}

/** Is this SQLite code a damaged file (as opposed to locked, full, read-only)? */
static int damaged(int rc)
{
	return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

/** Move a damaged file (and its -wal, -shm) aside; 0 when done. */
static int move_aside(struct dw_incidents *s, char *to, size_t tolen)
{
	char stamp[32], a[4200], b[4200];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(to, tolen, "%s.damaged-%s", s->path, stamp);
	db_close(s);
	if (rename(s->path, to) != 0)
		return -1;
	snprintf(a, sizeof(a), "%s-wal", s->path);
	snprintf(b, sizeof(b), "%s-wal", to);
	if (rename(a, b) != 0 && errno != ENOENT)
		unlink(a);
	snprintf(a, sizeof(a), "%s-shm", s->path);
	unlink(a);
	return 0;
}

/** Count a failure, log it (rate-limited), plan the retry. */
static void failed(struct dw_incidents *s, uint64_t now_ms, const char *what, const char *why)
{
	s->st.errors++;
	s->failing = 1;
	s->next_try_ms = now_ms + DW_INC_RETRY_MS;
	if (s->last_err_ms && now_ms - s->last_err_ms < ERR_LOG_MS) {
		s->errors_logged++;
		return;
	}
	s->last_err_ms = now_ms;
	say(s, LOG_ERR,
	    "dnswarden: event=incidents_error file=%s op=%s error=\"%s\" queued=%zu dropped=%llu "
	    "retry=%us%s",
	    s->path, what, why, s->count, (unsigned long long)s->st.dropped,
	    DW_INC_RETRY_MS / 1000, s->errors_logged ? " (more errors since the last line)" : "");
	s->errors_logged = 0;
}

/** Open if needed; on a damaged file start a new one. 0 when open. */
static int ensure_open(struct dw_incidents *s, uint64_t now_ms)
{
	char why[512] = "", to[4200];
	int rc;
	if (s->db)
		return 0;
	if (now_ms < s->next_try_ms)
		return -1;
	rc = db_open(s, why, sizeof(why));
	if (rc != SQLITE_OK && damaged(rc)) {
		if (move_aside(s, to, sizeof(to)) == 0) {
			say(s, LOG_WARNING,
			    "dnswarden: event=incidents_new_file file=%s damaged=%s error=\"%s\"",
			    s->path, to, why);
			rc = db_open(s, why, sizeof(why));
		}
	}
	if (rc != SQLITE_OK) {
		failed(s, now_ms, "open", why);
		return -1;
	}
	s->last_prune_ms = 0; /* prune soon after every open */
	return 0;
}

/** Bind one row to the insert statement. */
static int bind_row(sqlite3_stmt *st, const struct dw_incident *r)
{
	char client[DW_ADDR_STRLEN];
	unsigned char blob[16];
	const char *mode = r->mode == DW_MODE_ENFORCE ? "enforce" : "observe";
	memset(blob, 0, sizeof(blob));
	if (r->client.family == 4) { /* IPv4-mapped, so one index orders both families */
		blob[10] = blob[11] = 0xff;
		memcpy(blob + 12, r->client.b, 4);
	} else {
		memcpy(blob, r->client.b, 16);
	}
	dw_addr_format(&r->client, client, sizeof(client));
	sqlite3_bind_int64(st, 1, r->time);
	sqlite3_bind_text(st, 2, dw_inc_event_name((enum dw_inc_event)r->event), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, client, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, r->prefix);
	sqlite3_bind_blob(st, 5, blob, sizeof(blob), SQLITE_TRANSIENT);
	if (r->detector >= 0 && r->detector < DW_DET_COUNT)
		sqlite3_bind_text(st, 6, dw_detector_name((enum dw_detector)r->detector), -1,
				  SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	if (r->action >= 0 && r->action < DW_ACT_COUNT)
		sqlite3_bind_text(st, 7, dw_action_name((enum dw_action)r->action), -1,
				  SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_int64(st, 8, r->duration);
	if (r->step)
		sqlite3_bind_int64(st, 9, r->step);
	else
		sqlite3_bind_null(st, 9);
	sqlite3_bind_text(st, 10, mode, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, r->backend[0] ? r->backend : "none", -1, SQLITE_TRANSIENT);
	if (r->uid >= 0)
		sqlite3_bind_int64(st, 12, r->uid);
	else
		sqlite3_bind_null(st, 12);
	if (r->country[0])
		sqlite3_bind_text(st, 13, r->country, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 13);
	if (r->asn)
		sqlite3_bind_int64(st, 14, r->asn);
	else
		sqlite3_bind_null(st, 14);
	if (r->domain[0])
		sqlite3_bind_text(st, 16, r->domain, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 16);
	return sqlite3_bind_text(st, 15, r->evidence[0] ? r->evidence : "{}", -1,
				 SQLITE_TRANSIENT);
}

/** Write every queued row in one transaction. SQLite code, with a text. */
static int write_batch(struct dw_incidents *s, char *why, size_t whylen, size_t *written)
{
	size_t i;
	int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	*written = 0;
	for (i = 0; rc == SQLITE_OK && i < s->count; i++) {
		const struct dw_incident *r = &s->q[(s->head + i) % DW_INC_QUEUE];
		bind_row(s->ins, r);
		rc = sqlite3_step(s->ins);
		sqlite3_reset(s->ins);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(why, whylen, "%s", sqlite3_errmsg(s->db));
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	*written = s->count;
	return SQLITE_OK;
}

/** Write the queue now; 0 when it is empty afterwards. */
int dw_incidents_flush(struct dw_incidents *s, uint64_t now_ms)
{
	char why[512] = "", to[4200];
	size_t n;
	uint64_t t0;
	int rc;
	struct timespec a, b;
	if (!s->count)
		return 0;
	if (ensure_open(s, now_ms) != 0)
		return -1;
	s->last_batch_ms = now_ms;
	clock_gettime(CLOCK_MONOTONIC, &a);
	rc = write_batch(s, why, sizeof(why), &n);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (rc != SQLITE_OK) {
		if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
			failed(s, now_ms, "write", why); /* someone holds the lock: keep the connection */
			s->next_try_ms = 0;
			return -1;
		}
		if (damaged(rc) && move_aside(s, to, sizeof(to)) == 0) {
			say(s, LOG_WARNING,
			    "dnswarden: event=incidents_new_file file=%s damaged=%s error=\"%s\"",
			    s->path, to, why);
			s->next_try_ms = 0;
			return dw_incidents_flush(s, now_ms);
		}
		db_close(s); /* full disk, read-only, I/O error: reopen on retry */
		failed(s, now_ms, "write", why);
		return -1;
	}
	t0 = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)b.tv_nsec -
	     (uint64_t)a.tv_nsec;
	s->st.write_ns += t0;
	s->st.written += n;
	s->st.batches++;
	s->head = (s->head + n) % DW_INC_QUEUE;
	s->count -= n;
	s->st.ok = 1;
	if (s->failing) {
		s->failing = 0;
		s->last_err_ms = 0; /* the next failure is news again: logged at once */
		say(s, LOG_NOTICE,
		    "dnswarden: event=incidents_resumed file=%s written=%zu dropped=%llu", s->path, n,
		    (unsigned long long)(s->st.dropped - s->dropped_at_fail));
	}
	s->dropped_at_fail = s->st.dropped;
	return s->count ? -1 : 0;
}

/** Delete rows past incidents.keep, a bounded number per call. */
static void prune(struct dw_incidents *s, uint64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	if (!s->keep || !s->db)
		return;
	if (!s->prune_more && s->last_prune_ms && now_ms - s->last_prune_ms < PRUNE_MS)
		return;
	s->last_prune_ms = now_ms;
	s->prune_more = 0;
	if (sqlite3_prepare_v2(s->db,
			       "DELETE FROM incidents WHERE id IN (SELECT id FROM incidents WHERE "
			       "time < ? ORDER BY time LIMIT ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, (int64_t)time(NULL) - (int64_t)s->keep);
	sqlite3_bind_int(st, 2, DW_INC_PRUNE_ROWS);
	if (sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(s->db) >= DW_INC_PRUNE_ROWS)
		s->prune_more = 1;
	sqlite3_finalize(st);
}

/** See incidents.h. */
void dw_incidents_tick(struct dw_incidents *s, uint64_t now_ms)
{
	if (ensure_open(s, now_ms) != 0)
		return;
	if (s->count && (now_ms - s->last_batch_ms >= DW_INC_BATCH_MS ||
			 s->count >= DW_INC_QUEUE / 4) &&
	    now_ms >= s->next_try_ms)
		dw_incidents_flush(s, now_ms);
	prune(s, now_ms);
}

/** See incidents.h. */
void dw_incidents_stats(const struct dw_incidents *s, struct dw_inc_stats *out)
{
	*out = s->st;
	out->queued = s->count;
}

/** See incidents.h. */
const char *dw_incidents_path(const struct dw_incidents *s)
{
	return s->path;
}

/** Column text or "" (NULL-safe). */
static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

/** Column integer or -1 for NULL. */
static int64_t col_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}

/** The 16-byte key of an address (IPv4-mapped for IPv4), masked to len,
 *  and its highest address: the range of a prefix in the addr index. */
static void blob_range(const struct dw_cidr *c, unsigned char lo[16], unsigned char hi[16])
{
	unsigned i, len = c->addr.family == 4 ? 96u + c->len : c->len;
	memset(lo, 0, 16);
	if (c->addr.family == 4) {
		lo[10] = lo[11] = 0xff;
		memcpy(lo + 12, c->addr.b, 4);
	} else {
		memcpy(lo, c->addr.b, 16);
	}
	for (i = 0; i < 16; i++) {
		unsigned bits = len > i * 8 ? (len - i * 8 >= 8 ? 8 : len - i * 8) : 0;
		unsigned char mask = (unsigned char)(bits ? 0xff << (8 - bits) : 0);
		lo[i] &= mask;
		hi[i] = (unsigned char)(lo[i] | (unsigned char)~mask);
	}
}

/** Ready for a query: queued rows written, the connection open. */
static int query_ready(struct dw_incidents *s, char *err, size_t errlen)
{
	uint64_t now = mono_ms();
	dw_incidents_flush(s, now);
	if (!s->db && ensure_open(s, now) != 0) {
		dw_set_err(err, errlen, "the incident database %s cannot be opened now (see the log)",
			   s->path);
		return -1;
	}
	s->deadline_ms = mono_ms() + QUERY_MS;
	return 0;
}

/** See incidents.h. */
int dw_incidents_query(struct dw_incidents *s, const struct dw_inc_filter *f,
		       int (*fn)(void *arg, const struct dw_inc_row *row), void *arg, char *err,
		       size_t errlen)
{
	char sql[2048];
	size_t n;
	sqlite3_stmt *st = NULL;
	unsigned char lo[16], hi[16];
	int rc, k = 1;
	if (query_ready(s, err, errlen) != 0)
		return -1;
	n = (size_t)snprintf(
	    sql, sizeof(sql),
	    "SELECT i.id, i.time, i.event, i.client, i.prefix, i.detector, i.action, "
	    "i.duration, i.step, i.mode, i.backend, i.uid, i.country, i.asn, "
	    "CASE WHEN json_valid(i.evidence) THEN i.evidence ELSE json_quote(i.evidence) END, "
	    "coalesce((SELECT group_concat(value, ' ') FROM json_each(CASE WHEN "
	    "json_valid(i.evidence) AND json_type(i.evidence, '$.names') = 'array' THEN "
	    "i.evidence ELSE '{\"names\":[]}' END, '$.names')), ''), "
	    "(SELECT count(*) FROM incidents b WHERE b.addr = i.addr AND b.event = 'block' "
	    "AND b.id < i.id), coalesce(i.domain, '') FROM incidents i WHERE 1");
	if (f->has_cidr)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND i.addr BETWEEN ? AND ?");
	if (f->detector >= 0)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND i.detector = ?");
	if (f->since)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND i.time >= ?");
	if (f->domain)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND i.domain = ? COLLATE NOCASE");
	snprintf(sql + n, sizeof(sql) - n, " ORDER BY i.id DESC LIMIT ?");
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		dw_set_err(err, errlen, "%s: %s", s->path, sqlite3_errmsg(s->db));
		s->deadline_ms = 0;
		return -1;
	}
	if (f->has_cidr) {
		blob_range(&f->cidr, lo, hi);
		sqlite3_bind_blob(st, k++, lo, 16, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, k++, hi, 16, SQLITE_TRANSIENT);
	}
	if (f->detector >= 0)
		sqlite3_bind_text(st, k++, dw_detector_name((enum dw_detector)f->detector), -1,
				  SQLITE_STATIC);
	if (f->since)
		sqlite3_bind_int64(st, k++, f->since);
	if (f->domain)
		sqlite3_bind_text(st, k++, f->domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, k, f->limit ? f->limit : 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dw_inc_row r;
		r.id = sqlite3_column_int64(st, 0);
		r.time = sqlite3_column_int64(st, 1);
		r.event = col_text(st, 2);
		r.client = col_text(st, 3);
		r.prefix = (unsigned)sqlite3_column_int(st, 4);
		r.detector = col_text(st, 5);
		r.action = col_text(st, 6);
		r.duration = col_int(st, 7);
		r.step = col_int(st, 8);
		r.mode = col_text(st, 9);
		r.backend = col_text(st, 10);
		r.uid = col_int(st, 11);
		r.country = col_text(st, 12);
		r.asn = col_int(st, 13);
		r.evidence = col_text(st, 14);
		r.names = col_text(st, 15);
		r.blocked_before = sqlite3_column_int64(st, 16);
		r.domain = col_text(st, 17);
		if (fn(arg, &r))
			break;
	}
	s->deadline_ms = 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		dw_set_err(err, errlen, "%s: %s", s->path,
			   (rc & 0xff) == SQLITE_INTERRUPT ? "the query took too long (narrow it)"
							   : sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/** See incidents.h. */
int dw_incidents_history(struct dw_incidents *s, const struct dw_addr *a,
			 struct dw_inc_history *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	struct dw_cidr c = {.addr = *a, .len = (uint8_t)(a->family == 4 ? 32 : 128)};
	unsigned char lo[16], hi[16];
	int rc;
	memset(out, 0, sizeof(*out));
	if (query_ready(s, err, errlen) != 0)
		return -1;
	rc = sqlite3_prepare_v2(
		s->db,
		"SELECT min(time), max(time), count(*), "
		"coalesce(sum(event IN ('verdict', 'would_block')), 0), "
		"coalesce(sum(event = 'block'), 0), coalesce(sum(event = 'block' AND step >= 2), 0), "
		"coalesce(group_concat(DISTINCT detector), '') FROM incidents WHERE addr = ?",
		-1, &st, NULL);
	if (rc == SQLITE_OK) {
		blob_range(&c, lo, hi);
		sqlite3_bind_blob(st, 1, lo, 16, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
	}
	s->deadline_ms = 0;
	if (rc != SQLITE_ROW) {
		dw_set_err(err, errlen, "%s: %s", s->path, sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return -1;
	}
	out->first_seen = sqlite3_column_int64(st, 0);
	out->last_seen = sqlite3_column_int64(st, 1);
	out->incidents = (uint64_t)sqlite3_column_int64(st, 2);
	out->verdicts = (uint64_t)sqlite3_column_int64(st, 3);
	out->blocks = (uint64_t)sqlite3_column_int64(st, 4);
	out->repeat_offences = (uint64_t)sqlite3_column_int64(st, 5);
	snprintf(out->detectors, sizeof(out->detectors), "%s", col_text(st, 6));
	sqlite3_finalize(st);
	return 0;
}
