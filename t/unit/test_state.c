/**
 * \file
 * Unit tests of state.c against hostile surroundings: a symlink planted at
 * PATH.tmp is never followed, the file is created 0600; a damaged file loads
 * every line it can, counts the rest by reason and is set aside intact; a
 * symlink at PATH is replaced, not written through; a full disk (a file
 * size limit) and a kill -9 in the middle of a save leave the old file whole.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

/** A policy of n manual blocks 10.8.x.y (a state file of about 60 n bytes). */
static struct dw_policy *many_blocks(struct dw_conf *c, unsigned n)
{
	struct dw_policy *p;
	struct dw_addr a;
	char ip[32];
	unsigned i;
	c->policy_max_blocks = n + 1;
	p = dw_policy_new(c);
	for (i = 0; p && i < n; i++) {
		snprintf(ip, sizeof(ip), "10.8.%u.%u", i / 250, i % 250 + 1);
		dw_addr_parse(ip, &a);
		dw_policy_block(p, &a, DW_ACT_NXDOMAIN, 0, -1, 1700000000, NULL);
	}
	return p;
}

/** Blocks a load of path finds, or -1 when anything in it was dropped. */
static long load_count(struct dw_conf *c, const char *path)
{
	struct dw_policy *p = dw_policy_new(c);
	struct dw_exempt *x = dw_exempt_new(c);
	struct dw_state_report r;
	char err[512];
	long n = -1;
	if (p && x && dw_state_load(path, p, x, NULL, 1700000000, &r, err, sizeof(err)) == 0 &&
	    dw_state_dropped(&r) == 0)
		n = (long)r.loaded;
	dw_policy_free(p);
	dw_exempt_free(x);
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

	/* a symlink at PATH itself is replaced by the new file, its target untouched */
	{
		char victim2[300];
		snprintf(victim2, sizeof(victim2), "%s/victim2", dir);
		put(victim2, "precious too\n");
		unlink(path);
		if (symlink(victim2, path) != 0) {
			printf("Bail out! symlink\n");
			return 1;
		}
		p = dw_policy_new(c);
		x = dw_exempt_new(c);
		ok(dw_state_save(path, p, x, NULL, err, sizeof(err)) == 0,
		   "saved with a symlink at PATH");
		ok(strcmp(slurp(victim2, buf, sizeof(buf)), "precious too\n") == 0,
		   "the target of the symlink at PATH is untouched");
		memset(&st, 0, sizeof(st));
		(void)lstat(path, &st);
		ok(S_ISREG(st.st_mode), "PATH is now a regular file");
		dw_policy_free(p);
		dw_exempt_free(x);
	}

	/* a full disk (here: a file size limit, EFBIG) fails the save and keeps
	 * the old file byte for byte, with no PATH.tmp left */
	{
		struct rlimit old, lim;
		int rc;
		p = many_blocks(c, 1000);
		x = dw_exempt_new(c);
		dw_addr_parse("10.9.0.1", &a);
		slurp(path, buf2, sizeof(buf2));
		signal(SIGXFSZ, SIG_IGN);
		getrlimit(RLIMIT_FSIZE, &old);
		lim = old;
		lim.rlim_cur = 8192;
		setrlimit(RLIMIT_FSIZE, &lim);
		rc = dw_state_save(path, p, x, NULL, err, sizeof(err));
		setrlimit(RLIMIT_FSIZE, &old);
		ok(rc == -1 && strstr(err, ".tmp") != NULL,
		   "a save that does not fit fails, naming the file (%s)", err);
		ok(strcmp(slurp(path, buf, sizeof(buf)), buf2) == 0,
		   "the old state file is kept byte for byte");
		ok(lstat(tmp, &st) != 0, "no PATH.tmp left behind");
		ok(dw_state_save(path, p, x, NULL, err, sizeof(err)) == 0 &&
		       load_count(c, path) == 1000,
		   "with room again the next save writes it whole");
		dw_policy_free(p);
		dw_exempt_free(x);
	}

	/* kill -9 in the middle of saves: the file loads whole, old or new */
	{
		int round, whole = 0, mid = 0;
		c->policy_max_blocks = 10000;
		p = dw_policy_new(c);
		x = dw_exempt_new(c);
		dw_addr_parse("10.9.0.1", &a);
		dw_policy_block(p, &a, DW_ACT_NXDOMAIN, 0, -1, t0, NULL);
		dw_state_save(path, p, x, NULL, err, sizeof(err));
		dw_policy_free(p);
		dw_exempt_free(x);
		for (round = 0; round < 10; round++) {
			struct timespec ts = {0, 1000000L * (round * 7 + 5)};
			long n;
			pid_t pid;
			fflush(stdout);
			pid = fork();
			if (pid == 0) {
				struct dw_policy *cp = many_blocks(c, 5000);
				struct dw_exempt *cx = dw_exempt_new(c);
				for (;;)
					dw_state_save(path, cp, cx, NULL, err, sizeof(err));
			}
			nanosleep(&ts, NULL);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			mid += lstat(tmp, &st) == 0;
			n = load_count(c, path);
			whole += n == 1 || n == 5000;
		}
		is_int(whole, 10, "after each of 10 kill -9 the file loads whole (old or new)");
		printf("# %d of the 10 kills left a PATH.tmp (killed mid-write)\n", mid);
	}

	snprintf(buf, sizeof(buf), "rm -rf '%s'", dir);
	if (system(buf) != 0)
		printf("# could not remove %s\n", dir);
	dw_conf_free(c);
	return done_testing();
}
