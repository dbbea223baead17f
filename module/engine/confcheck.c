/**
 * \file
 * Everything the engine would refuse in a configuration (confcheck.h).
 */
#include "confcheck.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "detect.h"
#include "errbuf.h"
#include "feature.h"
#include "geoip.h"

/** See confcheck.h. */
int dw_conf_dirname(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n;
	if (!slash) {
		if (len < 2)
			return -1;
		strcpy(buf, ".");
		return 0;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= len)
		return -1;
	memcpy(buf, path, n);
	buf[n] = '\0';
	return 0;
}

/** The directory that will hold a file we create (key names it in messages):
 *  exists, is a directory, and this process may create files in it. */
static int check_dir(const char *key, const char *path, char *err, size_t errlen)
{
	char dir[DW_CONF_MAX_PATH + 1], eb[128];
	struct stat st;
	if (dw_conf_dirname(path, dir, sizeof(dir)) != 0) {
		dw_set_err(err, errlen, "%s: '%s' is too long", key, path);
		return -1;
	}
	if (stat(dir, &st) != 0) {
		dw_set_err(err, errlen, "%s: %s: directory %s: %s", key, path, dir,
		           dw_strerror(errno, eb, sizeof(eb)));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		dw_set_err(err, errlen, "%s: %s: %s is not a directory", key, path, dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		dw_set_err(err, errlen, "%s: %s: cannot create files in %s: %s", key, path, dir,
		           dw_strerror(errno, eb, sizeof(eb)));
		return -1;
	}
	return 0;
}

/** control.socket and control.group: what dw_control_new() refuses before
 *  it binds (a live listener on the path is only found by binding). */
static int check_control(const struct dw_conf *c, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	const char *p = c->control_socket;
	if (!p || !p[0])
		return 0;
	if (strlen(p) >= sizeof(sa.sun_path)) {
		dw_set_err(err, errlen, "control.socket: '%s' is longer than %zu bytes", p,
		           sizeof(sa.sun_path) - 1);
		return -1;
	}
	if (check_dir("control.socket", p, err, errlen) != 0)
		return -1;
	if (lstat(p, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		dw_set_err(err, errlen, "control.socket: %s exists and is not a socket", p);
		return -1;
	}
	if (c->control_group && c->control_group[0]) {
		struct group gr, *res = NULL;
		char buf[16384], *end = NULL;
		const char *g = c->control_group;
		int numeric = g[0] >= '0' && g[0] <= '9';
		if (numeric) {
			errno = 0;
			(void)strtoul(g, &end, 10);
			numeric = errno == 0 && *end == '\0';
		}
		if ((getgrnam_r(g, &gr, buf, sizeof(buf), &res) != 0 || !res) && !numeric) {
			dw_set_err(err, errlen, "control.group '%s': no such group", g);
			return -1;
		}
	}
	return 0;
}

/** state_file: a file (or nothing yet) that can be read, in a directory the
 *  module can save into (temp file + rename). */
static int check_state(const struct dw_conf *c, char *err, size_t errlen)
{
	struct stat st;
	char eb[128];
	const char *p = c->state_file;
	if (!p || !p[0])
		return 0;
	if (lstat(p, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			dw_set_err(err, errlen, "state_file: %s is a directory", p);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			dw_set_err(err, errlen, "state_file: %s is not a regular file", p);
			return -1;
		}
		if (access(p, R_OK) != 0) {
			dw_set_err(err, errlen, "state_file: %s: %s", p,
			           dw_strerror(errno, eb, sizeof(eb)));
			return -1;
		}
	} else if (errno != ENOENT) {
		dw_set_err(err, errlen, "state_file: %s: %s", p,
		           dw_strerror(errno, eb, sizeof(eb)));
		return -1;
	}
	return check_dir("state_file", p, err, errlen);
}

/** See confcheck.h. */
int dw_conf_check(const struct dw_conf *c, char *err, size_t errlen)
{
	struct dw_detect d;
	struct dw_feature_set *fs;
	struct dw_geoip *g;

	if (dw_detect_init(&d, c, NULL, err, errlen) != 0)
		return -1;
	fs =
	    dw_feature_set_new((const char *const *)c->keywords, c->keyword_count,
	                       (const char *const *)c->signatures, c->signature_count, err, errlen);
	if (!fs)
		return -1;
	dw_feature_set_free(fs);
	g = dw_geoip_open(c->geoip_country_db, c->geoip_asn_db, err, errlen);
	if (!g)
		return -1;
	dw_geoip_close(g);
	if (check_control(c, err, errlen) != 0 || check_state(c, err, errlen) != 0)
		return -1;
	return 0;
}
