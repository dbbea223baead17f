/* Unit tests: RPZ trigger labels, the zone file written and read back, the
 * serial, the symlink-safe writer, the publish command's time limit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pubcmd.h"
#include "rpzfile.h"
#include "safefile.h"
#include "tap.h"

static void label_round_trip(const char *cidr, const char *want)
{
	struct dw_cidr c, back;
	char buf[DW_RPZ_LABEL_MAX];
	if (!ok(dw_cidr_parse(cidr, &c) == 0, "parse %s", cidr))
		return;
	ok(dw_rpz_label(&c, buf, sizeof(buf)) == 0 && strcmp(buf, want) == 0, "%s -> %s (got %s)",
	   cidr, want, buf);
	ok(dw_rpz_label_parse(buf, strlen(buf), &back) == 0 && back.len == c.len &&
	       dw_addr_equal(&back.addr, &c.addr),
	   "%s parses back to %s", buf, cidr);
}

struct seen {
	struct dw_cidr k[8];
	enum dw_action a[8];
	int n;
};

static int collect(void *arg, const struct dw_cidr *key, enum dw_action action)
{
	struct seen *s = arg;
	if (s->n < 8) {
		s->k[s->n] = *key;
		s->a[s->n] = action;
	}
	s->n++;
	return 0;
}

static int fill(void *arg, FILE *f)
{
	return dw_rpzfile_format(f, arg);
}

static int fill_fail(void *arg, FILE *f)
{
	(void)arg, (void)f;
	return -1;
}

int main(void)
{
	char dir[] = "/tmp/dw-rpzfile-XXXXXX", path[256], tmp[300], victim[300], err[512];
	struct dw_rpz_trigger t[4];
	struct dw_rpz_zone z;
	struct seen s;
	struct stat st;
	uint32_t serial;
	long n;
	int i;

	label_round_trip("10.1.2.3/32", "32.3.2.1.10");
	label_round_trip("2001:db8:1:2::/64", "64.zz.2.1.db8.2001");
	label_round_trip("2001:db8::1/128", "128.1.zz.db8.2001");
	label_round_trip("192.0.2.0/24", "24.0.2.0.192");
	{
		struct dw_cidr c;
		ok(dw_rpz_label_parse("32.3.2.1", 8, &c) != 0, "a label of 3 octets is refused");
		ok(dw_rpz_label_parse("64.zz.zz.2001", 13, &c) != 0, "two zz are refused");
		ok(dw_rpz_label_parse("999.1.2.3.4", 11, &c) != 0, "prefix 999 is refused");
	}

	is_int(dw_rpzfile_next_serial(100, 50), 101, "clock behind the serial: serial + 1");
	is_int(dw_rpzfile_next_serial(100, 5000), 5000, "clock ahead: the time");
	is_int(dw_rpzfile_next_serial(0xffffffffu, 0x100000000LL), 1, "wraps, never 0");

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/z.zone", dir);
	memset(t, 0, sizeof(t));
	dw_cidr_parse("10.1.2.3/32", &t[0].key);
	t[0].action = DW_ACT_NXDOMAIN;
	t[0].detector = 0;
	t[0].expires = 1800000000;
	dw_cidr_parse("10.1.2.4/32", &t[1].key);
	t[1].action = DW_ACT_SINKHOLE;
	t[1].detector = -1;
	dw_cidr_parse("2001:db8:1:2::/64", &t[2].key);
	t[2].action = DW_ACT_DROP;
	dw_cidr_parse("10.1.2.5/32", &t[3].key);
	t[3].action = DW_ACT_REFUSE;
	memset(&z, 0, sizeof(z));
	z.zone = "a.dnswarden.rpz.";
	z.serial = 1234;
	dw_addr_parse("192.0.2.66", &z.sink4);
	dw_addr_parse("2001:db8::66", &z.sink6);
	z.t = t;
	z.n = 4;
	ok(dw_safefile_write(path, 0644, fill, &z, err, sizeof(err)) == 0, "zone written (%s)", err);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "mode 0644");
	memset(&s, 0, sizeof(s));
	n = dw_rpzfile_read(path, "a.dnswarden.rpz.", collect, &s, &serial, err, sizeof(err));
	is_int(n, 4, "4 triggers read back (sinkhole A + AAAA once)");
	is_int(serial, 1234, "serial read back");
	for (i = 0; i < 4 && i < s.n; i++)
		ok(s.k[i].len == t[i].key.len && dw_addr_equal(&s.k[i].addr, &t[i].key.addr),
		   "trigger %d: same prefix", i);
	is_int(s.a[0], DW_ACT_NXDOMAIN, "nxdomain read back");
	is_int(s.a[1], DW_ACT_SINKHOLE, "sinkhole read back");
	is_int(s.a[2], DW_ACT_DROP, "drop read back");
	is_int(s.a[3], DW_ACT_NXDOMAIN, "refuse is published as nxdomain");
	ok(dw_rpzfile_read_serial(path, "b.dnswarden.rpz.", &serial) != 0,
	   "another zone's file has no SOA of ours");

	/* a file as Unbound writes it after a transfer: tabs, other records */
	{
		FILE *f = fopen(path, "w");
		fputs("a.dnswarden.rpz.\t60\tIN\tSOA\tlocalhost. h.localhost. 77 60 30 604800 60\n"
		      "a.dnswarden.rpz.\t60\tIN\tNS\tlocalhost.\n"
		      "32.9.2.1.10.rpz-client-ip.a.dnswarden.rpz.\t60\tIN\tCNAME\t*.\n"
		      "32.8.2.1.10.rpz-client-ip.a.dnswarden.rpz.\t60\tIN\tCNAME\trpz-passthru.\n"
		      "www.example.a.dnswarden.rpz.\t60\tIN\tCNAME\t.\n"
		      "32.7.2.1.10.rpz-client-ip.b.dnswarden.rpz.\t60\tIN\tCNAME\t.\n"
		      "32.6.2.1.10.RPZ-CLIENT-IP.A.DNSWARDEN.RPZ.\t60\tIN\tCNAME\trpz-tcp-only.\n",
		      f);
		fclose(f);
	}
	memset(&s, 0, sizeof(s));
	n = dw_rpzfile_read(path, "a.dnswarden.rpz.", collect, &s, &serial, err, sizeof(err));
	is_int(n, 2, "only client-ip triggers of the zone that block (not passthru, qname, other zone)");
	is_int(serial, 77, "serial of Unbound's file");
	is_int(s.a[0], DW_ACT_NODATA, "nodata");
	is_int(s.a[1], DW_ACT_TCP_ONLY, "tcp-only, names case-insensitive");

	/* the writer never follows a symlink planted at PATH.tmp */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	{
		FILE *f = fopen(victim, "w");
		fputs("precious\n", f);
		fclose(f);
	}
	ok(symlink(victim, tmp) == 0, "symlink planted at PATH.tmp");
	ok(dw_safefile_write(path, 0644, fill, &z, err, sizeof(err)) == 0, "write succeeds (%s)", err);
	{
		char buf[32] = "";
		FILE *f = fopen(victim, "r");
		ok(f && fgets(buf, sizeof(buf), f) && strcmp(buf, "precious\n") == 0,
		   "the symlink's target is untouched");
		if (f)
			fclose(f);
	}
	ok(lstat(tmp, &st) != 0 && errno == ENOENT, "no PATH.tmp left");
	ok(dw_safefile_write(path, 0644, fill_fail, &z, err, sizeof(err)) != 0,
	   "an abandoned write fails");
	n = dw_rpzfile_read(path, "a.dnswarden.rpz.", NULL, NULL, &serial, err, sizeof(err));
	is_int(serial, 1234, "and leaves the old file in place");
	ok(dw_safefile_write("/nonexistent-dir/x", 0644, fill, &z, err, sizeof(err)) != 0 &&
	       strstr(err, "/nonexistent-dir/x.tmp") != NULL,
	   "a missing directory is reported with the path: %s", err);

	/* the publish command: runs, is reaped, and one that hangs is killed */
	{
		struct dw_spawn sp = {0, 0};
		int st2 = -1, r = 0, k;
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "echo ran > %s/ran", dir);
		ok(dw_spawn_start(&sp, cmd, 0, err, sizeof(err)) == 0, "command started");
		ok(dw_spawn_start(&sp, cmd, 0, err, sizeof(err)) != 0, "a second one waits");
		for (k = 0; k < 200 && (r = dw_spawn_poll(&sp, 0, 10000, &st2)) == 0; k++)
			usleep(10000);
		ok(r == 1 && WIFEXITED(st2) && WEXITSTATUS(st2) == 0, "reaped with exit status 0");
		snprintf(tmp, sizeof(tmp), "%s/ran", dir);
		ok(access(tmp, F_OK) == 0, "it ran");
		ok(dw_spawn_start(&sp, "sleep 30", 0, err, sizeof(err)) == 0, "a slow command");
		is_int(dw_spawn_poll(&sp, 100, 1000, &st2), 0, "still running within its limit");
		is_int(dw_spawn_poll(&sp, 2000, 1000, &st2), 2, "killed past its limit");
		is_int(sp.pid, 0, "and reaped");
		unlink(tmp);
	}
	unlink(path);
	unlink(victim);
	rmdir(dir);
	return done_testing();
}
