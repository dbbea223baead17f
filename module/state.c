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

#define HEADER "# dnswarden state v1"
#define MAX_LINE 4096

/** Temp file, fsync, rename: all or nothing. */
int dw_state_save(const char *path, struct dw_policy *policy, struct dw_exempt *exempt,
		  const struct dw_state_extra *extra, char *err, size_t errlen)
{
	char tmp[4200];
	FILE *f;
	int ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "%s saved=%" PRId64 "\n", HEADER, (int64_t)time(NULL));
	dw_policy_save(policy, f);
	dw_exempt_save(exempt, f);
	if (extra && extra->save)
		extra->save(extra->arg, f);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", ok ? path : tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/** Hand each line to the unit its first word names. */
int dw_state_load(const char *path, struct dw_policy *policy, struct dw_exempt *exempt,
		  const struct dw_state_extra *extra, int64_t now, size_t *bad, char *err,
		  size_t errlen)
{
	char line[MAX_LINE], why[256];
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");
	*bad = 0;
	if (!f) {
		if (errno == ENOENT)
			return 0; /* first start */
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		int rc = 0;
		lineno++;
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(f)) { /* over-long line: skip the rest of it */
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			rc = -1;
			snprintf(why, sizeof(why), "line too long");
		}
		if (lineno == 1) {
			if (strncmp(line, HEADER, strlen(HEADER)) != 0) {
				snprintf(err, errlen, "%s: not a dnswarden state file", path);
				fclose(f);
				return -1;
			}
			continue;
		}
		if (rc == 0) {
			if (line[0] == '#' || line[0] == '\0')
				continue;
			if (strncmp(line, "block ", 6) == 0)
				rc = dw_policy_load_line(policy, line, now, why, sizeof(why));
			else if (strncmp(line, "exempt ", 7) == 0)
				rc = dw_exempt_load_line(exempt, line, why, sizeof(why));
			else if (extra && extra->load_line &&
				 strncmp(line, extra->prefix, strlen(extra->prefix)) == 0 &&
				 line[strlen(extra->prefix)] == ' ')
				rc = extra->load_line(extra->arg, line, why, sizeof(why));
			else {
				rc = -1;
				snprintf(why, sizeof(why), "unknown record");
			}
		}
		if (rc != 0 && (*bad)++ == 0)
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
	}
	fclose(f);
	return 0;
}
