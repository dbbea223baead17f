/**
 * \file
 * The state file (state.h).
 */
#include "state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "safefile.h"

#define HEADER "# dnswarden state v2"
/** The header before domain lines (still read). */
#define HEADER_V1 "# dnswarden state v1"
#define MAX_LINE 4096

/** What dw_state_save hands to the safe writer. */
struct state_fill {
	struct dw_policy *policy;
	struct dw_exempt *exempt;
	const struct dw_state_extra *extra;
};

/** dw_safefile_write callback: the header, then each unit's lines. The
 *  writer checks every write once at the end (fprintf's errors stick to the
 *  stream), so nothing to check here. */
static int fill_state(void *arg, FILE *f)
{
	const struct state_fill *s = arg;
	const struct dw_state_extra *x;
	fprintf(f, "%s saved=%" PRId64 "\n", HEADER, (int64_t)time(NULL));
	dw_policy_save(s->policy, f);
	dw_exempt_save(s->exempt, f);
	for (x = s->extra; x; x = x->next)
		if (x->save)
			x->save(x->arg, f);
	return 0;
}

/** Through safefile.h: exclusive no-follow PATH.tmp, mode 0600, every write
 *  checked, fsync, rename, fsync of the directory: all or nothing. */
int dw_state_save(const char *path, struct dw_policy *policy, struct dw_exempt *exempt,
		  const struct dw_state_extra *extra, char *err, size_t errlen)
{
	struct state_fill s = {policy, exempt, extra};
	return dw_safefile_write(path, 0600, fill_state, &s, err, errlen);
}

/** See state.h: keep a file that did not load whole next to it, named
 *  PATH.bad.YYYYmmddTHHMMSSZ (a -N suffix when that exists). A hard link
 *  when the file system allows, so PATH itself stays until the next save
 *  replaces it; else a rename. */
int dw_state_set_aside(const char *path, int64_t now, char *aside, size_t len, char *err,
		       size_t errlen)
{
	char stamp[32], eb[128];
	struct tm tm;
	time_t t = (time_t)now;
	int i;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < 100; i++) {
		int n = i ? snprintf(aside, len, "%s.bad.%s-%d", path, stamp, i)
			  : snprintf(aside, len, "%s.bad.%s", path, stamp);
		if (n < 0 || (size_t)n >= len) {
			snprintf(err, errlen, "%s: path too long", path);
			return -1;
		}
		if (link(path, aside) == 0)
			return 0;
		if (errno == EEXIST)
			continue;
		if (rename(path, aside) == 0) /* no hard links here: move it */
			return 0;
		snprintf(err, errlen, "cannot set %s aside as %s: %s", path, aside,
			 dw_strerror(errno, eb, sizeof(eb)));
		return -1;
	}
	snprintf(err, errlen, "cannot set %s aside: too many %s.bad.%s*", path, path, stamp);
	return -1;
}

/** Hand each line to the unit its first word names; count what is
 *  dropped and why (state.h). */
int dw_state_load(const char *path, struct dw_policy *policy, struct dw_exempt *exempt,
		  const struct dw_state_extra *extra, int64_t now, struct dw_state_report *r,
		  char *err, size_t errlen)
{
	char line[MAX_LINE], why[256], eb[128];
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");
	memset(r, 0, sizeof(*r));
	if (!f) {
		if (errno == ENOENT)
			return 0; /* first start */
		snprintf(err, errlen, "%s: %s", path, dw_strerror(errno, eb, sizeof(eb)));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		int rc = 0;
		lineno++;
		if (n && line[n - 1] == '\n') {
			line[--n] = '\0';
		} else if (feof(f)) { /* no newline: a write cut short, or a hand edit */
			r->truncated++;
			if (!r->malformed && !r->bad_header)
				snprintf(err, errlen, "%s:%u: incomplete last line", path, lineno);
			break;
		} else { /* over-long line: skip the rest of it */
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			rc = -1;
			snprintf(why, sizeof(why), "line too long");
		}
		if (lineno == 1 && rc == 0) {
			if (strncmp(line, HEADER, strlen(HEADER)) == 0 ||
			    strncmp(line, HEADER_V1, strlen(HEADER_V1)) == 0)
				continue;
			r->bad_header = 1; /* damaged: still take every line that loads */
			if (!r->malformed)
				snprintf(err, errlen, "%s:1: not the dnswarden state header", path);
			if (line[0] == '#')
				continue;
		}
		if (rc == 0) {
			if (line[0] == '#' || line[0] == '\0')
				continue;
			if (strncmp(line, "block ", 6) == 0)
				rc = dw_policy_load_line(policy, line, now, why, sizeof(why));
			else if (strncmp(line, "exempt ", 7) == 0)
				rc = dw_exempt_load_line(exempt, line, why, sizeof(why));
			else {
				const struct dw_state_extra *x = extra;
				while (x && !(x->load_line &&
				              strncmp(line, x->prefix, strlen(x->prefix)) == 0 &&
				              line[strlen(x->prefix)] == ' '))
					x = x->next;
				if (x) {
					rc = x->load_line(x->arg, line, why, sizeof(why));
				} else {
					rc = -1;
					snprintf(why, sizeof(why), "unknown record");
				}
			}
		}
		if (rc == 0)
			r->loaded++;
		else if (rc == 1)
			r->full++;
		else if (r->malformed++ == 0 && !r->bad_header)
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error after line %u", path, lineno);
		r->truncated++;
	}
	fclose(f);
	return 0;
}

/** Lines the load left out, for whatever reason. */
size_t dw_state_dropped(const struct dw_state_report *r)
{
	return r->malformed + r->full + r->truncated + (size_t)r->bad_header;
}
