/**
 * \file
 * Unit tests of state.c against hostile surroundings: a symlink planted at
 * PATH.tmp is never followed, the file is created 0600; a damaged file loads
 * every line it can, counts the rest by reason and is set aside intact.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "exempt.h"
#include "policy.h"
#include "state.h"
#include "tap.h"

/** The whole content of a file ("" when missing), in buf. */
static const char *slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	buf[0] = '\0';
	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

/** Files in dir whose name starts with prefix (the first one's name in out). */
static int count_prefixed(const char *dir, const char *prefix, char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d)))
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 && n++ == 0)
			snprintf(out, len, "%s/%s", dir, de->d_name);
	if (d)
		closedir(d);
	return n;
}

int main(void)
{
	struct dw_conf *c = dw_conf_defaults();
	char dir[] = "/tmp/dw-state-test-XXXXXX", path[256], tmp[300], victim[300], aside[512];
	char err[512], buf[4096], buf2[4096], found[512];
	int64_t t0 = 1700000000;
	struct dw_policy *p;
	struct dw_exempt *x;
	struct dw_state_report r;
	struct dw_addr a;
	struct stat st;
	const char *good = "block 10.9.0.1/32 nxdomain manual 1 1 0 1700000000 0\n"
	                   "block 10.9.0.2/32 drop manual 1 1 0 1700000000 0\n"
	                   "exempt + 192.0.2.25/32\n";

	if (!c || !mkdtemp(dir)) {
		printf("Bail out! setup\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/dnswarden.state", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(victim, sizeof(victim), "%s/victim", dir);

	/* item 2: a symlink at PATH.tmp is removed, not followed */
	put(victim, "precious\n");
	if (symlink(victim, tmp) != 0) {
		printf("Bail out! symlink\n");
		return 1;
	}
	p = dw_policy_new(c);
	x = dw_exempt_new(c);
	dw_addr_parse("10.9.0.1", &a);
	dw_policy_block(p, &a, DW_ACT_NXDOMAIN, 0, -1, t0, NULL);
	ok(dw_state_save(path, p, x, NULL, err, sizeof(err)) == 0,
	   "saved with a symlink at PATH.tmp");
	ok(strcmp(slurp(victim, buf, sizeof(buf)), "precious\n") == 0,
	   "the symlink's target is untouched");
	memset(&st, 0, sizeof(st));
	(void)lstat(path, &st);
	ok(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600,
	   "the state file is a regular file, mode 0600 (%o)", (unsigned)(st.st_mode & 0777));
	ok(strstr(slurp(path, buf, sizeof(buf)), "block 10.9.0.1/32 nxdomain") != NULL,
	   "the state file holds the block");
	ok(lstat(tmp, &st) != 0, "no PATH.tmp left behind");

	/* a crash's leftover PATH.tmp (someone else's file) is replaced, not appended to */
	put(tmp, "leftover that must not survive\n");
	ok(dw_state_save(path, p, x, NULL, err, sizeof(err)) == 0,
	   "saved over a leftover PATH.tmp");
	ok(strstr(slurp(path, buf, sizeof(buf)), "leftover") == NULL, "the leftover is gone");
	dw_policy_free(p);
	dw_exempt_free(x);

	/* item 3: one changed byte in the header; a bad line; an incomplete last line */
	snprintf(buf2, sizeof(buf2),
	         "# dnswarden stat! v1 saved=1\n%sgarbage here\n"
	         "block 10.9.0.3/32 nxdomain manual 1 1 0 1700000000 0\nblock 10.9.0.4/32 nxd",
	         good);
	put(path, buf2);
	p = dw_policy_new(c);
	x = dw_exempt_new(c);
	is_int(dw_state_load(path, p, x, NULL, t0, &r, err, sizeof(err)), 0,
	       "a damaged file loads");
	is_int(r.loaded, 4, "every good line is taken (3 blocks, 1 exemption)");
	ok(r.bad_header == 1 && r.malformed == 1 && r.truncated == 1 && r.full == 0,
	   "dropped lines counted by reason (header %d, malformed %zu, incomplete %zu)",
	   r.bad_header, r.malformed, r.truncated);
	is_int(dw_state_dropped(&r), 3, "three things dropped");
	dw_addr_parse("10.9.0.3", &a);
	ok(dw_policy_lookup(p, &a, t0 + 1) == DW_ACT_NXDOMAIN,
	   "a block after the bad line is back");
	dw_addr_parse("10.9.0.4", &a);
	ok(dw_policy_lookup(p, &a, t0 + 1) == DW_ACT_LOG, "the incomplete last line is not taken");
	ok(strstr(err, ":1:") != NULL, "the reason names the first damage (%s)", err);
	ok(dw_state_set_aside(path, t0, aside, sizeof(aside), err, sizeof(err)) == 0 &&
	       strstr(aside, ".bad.20231114T221320Z") != NULL,
	   "set aside as PATH.bad.TIMESTAMP (%s)", aside);
	ok(strcmp(slurp(aside, buf, sizeof(buf)), buf2) == 0,
	   "the copy aside is the damaged file, byte for byte");
	ok(dw_state_save(path, p, x, NULL, err, sizeof(err)) == 0, "the next save succeeds");
	ok(strcmp(slurp(aside, buf, sizeof(buf)), buf2) == 0,
	   "... and does not touch the copy aside");
	ok(dw_state_set_aside(path, t0, found, sizeof(found), err, sizeof(err)) == 0 &&
	       strstr(found, ".bad.20231114T221320Z-1") != NULL,
	   "a second set-aside in the same second gets its own name (%s)", found);
	is_int(count_prefixed(dir, "dnswarden.state.bad.", found, sizeof(found)), 2,
	       "two copies aside");
	dw_policy_free(p);
	dw_exempt_free(x);

	/* lines left out at policy.max_blocks are counted */
	snprintf(buf, sizeof(buf), "# dnswarden state v1 saved=1\n%s", good);
	put(path, buf);
	c->policy_max_blocks = 1;
	p = dw_policy_new(c);
	x = dw_exempt_new(c);
	is_int(dw_state_load(path, p, x, NULL, t0, &r, err, sizeof(err)), 0, "loaded with a cap");
	ok(r.loaded == 2 && r.full == 1 && dw_state_dropped(&r) == 1,
	   "one block over policy.max_blocks counted (loaded %zu, full %zu)", r.loaded, r.full);
	dw_policy_free(p);
	dw_exempt_free(x);

	/* a whole good file drops nothing */
	c->policy_max_blocks = 100;
	p = dw_policy_new(c);
	x = dw_exempt_new(c);
	ok(dw_state_load(path, p, x, NULL, t0, &r, err, sizeof(err)) == 0 &&
	       dw_state_dropped(&r) == 0 && r.loaded == 3,
	   "a good file loads whole");
	dw_policy_free(p);
	dw_exempt_free(x);

	/* the list keeps its own (monotonic) clock, the file the wall clock */
	p = dw_policy_new(c);
	x = dw_exempt_new(c);
	dw_addr_parse("10.9.0.7", &a);
	dw_policy_block(p, &a, DW_ACT_NXDOMAIN, 600, -1, 5000, NULL);
	dw_policy_set_wall_offset(p, t0 - 5000);
	ok(dw_state_save(path, p, x, NULL, err, sizeof(err)) == 0 &&
	       strstr(slurp(path, buf, sizeof(buf)),
	              "block 10.9.0.7/32 nxdomain manual 1 1 600 1700000000 1700000600\n"),
	   "saved with wall-clock times (list clock + offset)");
	dw_policy_free(p);
	p = dw_policy_new(c);
	dw_policy_set_wall_offset(p, t0 - 100); /* restarted: list clock 100 = wall t0 */
	ok(dw_state_load(path, p, x, NULL, 100, &r, err, sizeof(err)) == 0 &&
	       dw_policy_lookup(p, &a, 100 + 599) == DW_ACT_NXDOMAIN &&
	       dw_policy_lookup(p, &a, 100 + 600) == DW_ACT_LOG,
	   "loaded onto the new list clock: expires 600 s after the save, as saved");
	dw_policy_free(p);
	dw_exempt_free(x);

	snprintf(buf, sizeof(buf), "rm -rf '%s'", dir);
	if (system(buf) != 0)
		printf("# could not remove %s\n", dir);
	dw_conf_free(c);
	return done_testing();
}
