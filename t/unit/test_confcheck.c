/**
 * \file
 * Unit tests of confcheck.c: what the engine would refuse is found when the
 * file is read — and every value the man page allows passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confcheck.h"
#include "tap.h"

/** Replace a string field of the config. */
static void set(char **field, const char *v)
{
	free(*field);
	*field = v ? strdup(v) : NULL;
}

/** A config with the test's own paths, valid as it stands. */
static struct dw_conf *fresh(const char *dir)
{
	char p[512];
	struct dw_conf *c = dw_conf_defaults();
	snprintf(p, sizeof(p), "%s/dnswarden.state", dir);
	set(&c->state_file, p);
	snprintf(p, sizeof(p), "%s/dnswarden.ctl", dir);
	set(&c->control_socket, p);
	set(&c->control_group, "");
	return c;
}

/** dw_conf_check's verdict and message, printed on failure. */
static int check(struct dw_conf *c, const char *want, const char *name)
{
	char err[1024] = "";
	int rc = dw_conf_check(c, err, sizeof(err));
	int good = want ? rc == -1 && strstr(err, want) != NULL : rc == 0;
	if (!ok(good, "%s", name))
		printf("#   rc %d, err '%s', want '%s'\n", rc, err, want ? want : "(ok)");
	dw_conf_free(c);
	return good;
}

int main(void)
{
	char dir[] = "/tmp/dw-confcheck-XXXXXX", p[512], buf[600];
	struct dw_conf *c;
	unsigned i;

	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	check(fresh(dir), NULL, "the defaults with writable paths pass");

	/* every detector its own window, up to 1 day: 9 counters */
	c = fresh(dir);
	for (i = 0; i < DW_DET_COUNT; i++) {
		c->det[i].enabled = true;
		c->det[i].window = 86400 - i;
	}
	check(c, NULL, "every detector with its own window, up to 1d, passes");
	c = fresh(dir);
	c->det[DW_DET_MX_WORM].window = 86400;
	check(c, NULL, "detectors.mx_worm.window: 1d passes");

	c = fresh(dir);
	snprintf(p, sizeof(p), "%s/no-such.mmdb", dir);
	set(&c->geoip_country_db, p);
	snprintf(buf, sizeof(buf), "geoip.country_db: %s", p);
	check(c, buf, "a missing geoip.country_db is refused, named");

	c = fresh(dir);
	snprintf(p, sizeof(p), "%s/no-such-dir/dnswarden.ctl", dir);
	set(&c->control_socket, p);
	check(c, "control.socket: ", "a control socket in a missing directory is refused");

	c = fresh(dir);
	snprintf(p, sizeof(p), "%s/plain-file", dir);
	fclose(fopen(p, "w"));
	set(&c->control_socket, p);
	check(c, "exists and is not a socket", "a control socket path that is a file is refused");

	c = fresh(dir);
	set(&c->control_group, "no-such-group-dw");
	check(c, "control.group 'no-such-group-dw': no such group", "an unknown group is refused");
	c = fresh(dir);
	set(&c->control_group, "4242");
	check(c, NULL, "a numeric group passes");

	c = fresh(dir);
	snprintf(p, sizeof(p), "%s/a-dir", dir);
	mkdir(p, 0700);
	set(&c->state_file, p);
	check(c, "is a directory", "a state_file that is a directory is refused");

	c = fresh(dir);
	snprintf(p, sizeof(p), "%s/no-such-dir/dnswarden.state", dir);
	set(&c->state_file, p);
	check(c, "state_file: ", "a state_file in a missing directory is refused");

	c = fresh(dir);
	set(&c->state_file, "");
	set(&c->control_socket, "");
	check(c, NULL, "no state file and no control socket pass");

	snprintf(buf, sizeof(buf), "rm -rf '%s'", dir);
	if (system(buf) != 0)
		printf("# could not remove %s\n", dir);
	return done_testing();
}
