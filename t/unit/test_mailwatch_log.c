/**
 * \file
 * Unit tests of dnswarden-mailwatch's log parser and model: the log lines
 * quoted by the slides on DNS and SMTP/POP3 accesses (2003), Postfix 3.7's
 * current formats (syslog, journalctl, RFC 3339, maillog_file), Dovecot,
 * sendmail; the least-squares fit and the flags.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../tools/mailwatch/log.h"
#include "../../tools/mailwatch/model.h"
#include "tap.h"

struct fixture {
	const char *line;
	int kind; /* 0: not counted */
	const char *client;
	int status, reason;
};

static const struct fixture fixtures[] = {
    /* the three reject lines the slides quote (Postfix 2.0, 2003) */
    {"Apr 13 18:55:06 gpo postfix/smtpd[25182]: 6B7275F30: reject: RCPT from "
     "unknown[211.202.51.252]: 554 <mh4495.@co.kr>: Relay access denied; "
     "from=<test1@test1.com> to=<mh4495.@co.kr> proto=SMTP helo=<test1.com>",
     MWL_REJECT, "211.202.51.252", 0, MWL_RELAY},
    {"Apr 13 00:47:54 gpo postfix/smtpd[16733]: D0FAE5F34: reject: RCPT from "
     "unknown[2xx.216.xyy.2zz]: 504 < @ .com>: Recipient address rejected: need "
     "fully-qualified address; from=<tbillion@indot.com> to=<?????@??.com> proto=SMTP "
     "helo=<XaP0paHgf>",
     MWL_REJECT, "2xx.216.xyy.2zz", 0, MWL_RCPT_REJECTED},
    {"Apr 28 23:13:59 mailserver postfix/smtpd[19610]: 9A48C5F34: reject: RCPT from "
     "mailer.xxxx.com [192.168.1.50]: 450 <xxxx@mailserver.kumamoto-u.ac.jp>: User unknown "
     "in local recipient table; from=<getyou87@gehehe.com> proto=SMTP "
     "helo=<mailer.xxxx.com>",
     MWL_REJECT, "192.168.1.50", 0, MWL_USER_UNKNOWN},
    /* Postfix 3.7 (Debian 12), syslog / maillog_file */
    {"Dec  2 03:10:01 mx postfix/smtpd[4242]: connect from unknown[127.13.1.1]", MWL_CONNECT,
     "127.13.1.1", 0, 0},
    {"Dec  2 03:10:01 mx postfix/smtpd[4242]: connect from mail.example.org[2001:db8::25]",
     MWL_CONNECT, "2001:db8::25", 0, 0},
    {"Dec  2 03:10:01 mx postfix/submission/smtpd[77]: connect from pc1.campus.test[10.1.2.3]",
     MWL_CONNECT, "10.1.2.3", 0, 0},
    {"Dec  2 03:10:01 mx postfix/smtpd[4242]: disconnect from unknown[127.13.1.1] ehlo=1 "
     "mail=1 rcpt=1 data=1 quit=1 commands=5",
     0, NULL, 0, 0},
    {"Dec  2 03:10:02 mx postfix/smtpd[4242]: NOQUEUE: reject: RCPT from "
     "unknown[127.13.9.9]: 550 5.1.1 <nobody7@campus.test>: Recipient address rejected: User "
     "unknown in local recipient table; from=<x@d1.victim.lab> to=<nobody7@campus.test> "
     "proto=ESMTP helo=<spam>",
     MWL_REJECT, "127.13.9.9", 0, MWL_USER_UNKNOWN},
    {"Dec  2 03:10:02 mx postfix/smtpd[4242]: NOQUEUE: reject: RCPT from "
     "unknown[127.13.9.9]: 454 4.7.1 <a@corp.lab>: Relay access denied; from=<x@y.lab> "
     "to=<a@corp.lab> proto=ESMTP helo=<spam>",
     MWL_REJECT, "127.13.9.9", 0, MWL_RELAY},
    {"Dec  2 03:10:02 mx postfix/smtpd[4242]: NOQUEUE: reject: CONNECT from "
     "unknown[127.13.9.9]: 554 5.7.1 <unknown[127.13.9.9]>: Client host rejected: "
     "mail_anomaly; proto=SMTP",
     MWL_REJECT, "127.13.9.9", 0, MWL_OTHER_REJECT},
    {"Dec  2 03:10:02 mx postfix/qmgr[100]: 4NB1x23kz9z1: from=<alice@campus.test>, "
     "size=412, nrcpt=1 (queue active)",
     MWL_FROM, NULL, 0, 0},
    {"Dec  2 03:10:02 mx postfix/qmgr[100]: 4NB1x23kz9z1: from=<>, status=expired, returned "
     "to sender",
     0, NULL, 0, 0},
    {"Dec  2 03:10:03 mx postfix/local[101]: 4NB1x23kz9z1: to=<bob@campus.test>, "
     "relay=local, delay=0.02, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to mailbox)",
     MWL_TO, NULL, MWL_SENT, 0},
    {"Dec  2 03:10:03 mx postfix/smtp[102]: 4NB1x23kz9z2: to=<u@d3.victim.lab>, "
     "relay=none, delay=0.1, delays=0/0/0.1/0, dsn=4.4.1, status=deferred (connect to "
     "mx.victim.lab[192.0.2.11]:25: Connection refused)",
     MWL_TO, NULL, MWL_DEFERRED, 0},
    {"Dec  2 03:10:03 mx postfix/local[101]: 4NB1x23kz9z3: to=<zz@campus.test>, "
     "relay=local, dsn=5.1.1, status=bounced (unknown user: \"zz\")",
     MWL_TO, NULL, MWL_BOUNCED, 0},
    /* journalctl -o short-iso, RFC 3339 syslog */
    {"2026-12-02T03:10:04+0000 mx postfix/smtpd[4243]: connect from unknown[127.13.1.2]",
     MWL_CONNECT, "127.13.1.2", 0, 0},
    {"2026-12-02T03:10:04.123456+00:00 mx postfix/qmgr[100]: ABC: from=<a@b>, size=1, "
     "nrcpt=1 (queue active)",
     MWL_FROM, NULL, 0, 0},
    /* Dovecot and qpopper logins (N_P), sendmail deliveries */
    {"Dec  2 03:10:05 mx dovecot: pop3-login: Login: user=<alice>, method=PLAIN, "
     "rip=10.1.2.3, lip=10.0.0.25, mpid=4711, session=<abc>",
     MWL_LOGIN, NULL, 0, 0},
    {"Dec  2 03:10:05 mx dovecot[99]: imap-login: Login: user=<bob>, method=PLAIN, "
     "rip=10.1.2.4, lip=10.0.0.25",
     MWL_LOGIN, NULL, 0, 0},
    {"Dec  2 03:10:05 mx dovecot: imap-login: Disconnected (auth failed, 1 attempts): "
     "user=<bob>",
     0, NULL, 0, 0},
    {"Jul 15 18:00:01 mx popper[1234]: Stats: alice 0 0 0 0 host.campus [10.1.2.3]", MWL_LOGIN,
     NULL, 0, 0},
    {"Jul 15 18:00:02 mx sendmail[555]: h6F90123: to=<a@frethem.example>, delay=00:00:01, "
     "mailer=esmtp, stat=Deferred: Connection refused",
     MWL_TO, NULL, MWL_DEFERRED, 0},
    /* not mail lines, and malformed ones */
    {"Dec  2 03:10:05 mx CRON[1]: (root) CMD (true)", 0, NULL, 0, 0},
    {"garbage", 0, NULL, 0, 0},
    {"Dec 32 03:10:05", 0, NULL, 0, 0},
    {"Dec  2 03:10:01 mx postfix/smtpd[4242]: connect from unknown[127.13.1.1 x]", 0, NULL, 0, 0},
};

static void test_fixtures(void)
{
	time_t now = time(NULL);
	size_t i;
	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		const struct fixture *f = &fixtures[i];
		struct mwl_line l;
		int rc = mwl_parse(f->line, now, &l);
		int good = f->kind ? rc == 0 && (int)l.kind == f->kind : rc < 0;
		if (good && f->client)
			good = strcmp(l.client, f->client) == 0;
		if (good && f->kind == MWL_TO)
			good = (int)l.status == f->status;
		if (good && f->kind == MWL_REJECT)
			good = (int)l.reason == f->reason;
		if (!ok(good, "fixture %zu: %.60s...", i, f->line))
			printf("#   rc=%d kind=%d client=%s status=%d reason=%d\n", rc, l.kind,
			       l.client, l.status, l.reason);
	}
}

static void test_times(void)
{
	struct mwl_line l;
	struct tm tm;
	time_t now = time(NULL), t;
	char line[200];

	ok(mwl_parse("2026-12-02T03:10:04Z h postfix/smtpd[1]: connect from x[1.2.3.4]", now, &l) ==
	           0 &&
	       l.when == 1796181004,
	   "RFC 3339 UTC time stamp");
	ok(mwl_parse("2026-12-02T05:10:04+02:00 h postfix/smtpd[1]: connect from x[1.2.3.4]", now,
	             &l) == 0 &&
	       l.when == 1796181004,
	   "RFC 3339 offset applied");
	/* a traditional stamp one minute ago is this year; one in 2 days: last year */
	t = now - 60;
	localtime_r(&t, &tm);
	strftime(line, sizeof(line), "%b %e %H:%M:%S h postfix/smtpd[1]: connect from x[1.2.3.4]",
	         &tm);
	ok(mwl_parse(line, now, &l) == 0 && l.when == (int64_t)t, "traditional: this year");
	t = now + 2 * 86400;
	localtime_r(&t, &tm);
	strftime(line, sizeof(line), "%b %e %H:%M:%S h postfix/smtpd[1]: connect from x[1.2.3.4]",
	         &tm);
	ok(mwl_parse(line, now, &l) == 0 && l.when < (int64_t)now - 300 * 86400,
	   "traditional: a date ahead is last year's");
}

static void test_model(void)
{
	struct mwm_model m;
	struct mwm_opts o = {.mee_floor = 0, .dq_factor = 1.5, .min_dq = 20};
	struct mwm_result r;
	struct mwm_counts c;
	int i;

	mwm_init(&m);
	ok(m.a == 8.8 && m.b == 1 && m.c == 0.95, "starts from the studies' 8.8, 1, 0.95");
	memset(&c, 0, sizeof(c));
	c.nc = 10, c.np = 5, c.dq = 93;
	mwm_judge(&m, &o, &c, 1, &r);
	ok(r.expected > 92.99 && r.expected < 93.01, "expected D_q = 8.8 N_c + N_P");
	/* baseline: dq = 3 nc + 2 np + noise, nf = 0.7 nc */
	for (i = 1; i <= 20; i++) {
		memset(&c, 0, sizeof(c));
		c.nc = (uint64_t)(10 + i % 7 * 3);
		c.np = (uint64_t)(i % 5);
		c.nf = c.nc * 7 / 10;
		c.dq = (int64_t)(3 * c.nc + 2 * c.np) + (i % 2 ? 1 : -1);
		mwm_learn(&m, &c);
	}
	c.dq = -1;
	mwm_learn(&m, &c);
	mwm_fit(&m);
	ok(m.fitted && m.n == 20, "fitted over the 20 intervals with a known D_q");
	ok(m.a > 2.9 && m.a < 3.1 && m.b > 1.8 && m.b < 2.2, "least squares: a=%.3f b=%.3f", m.a,
	   m.b);
	ok(m.c > 0.66 && m.c < 0.71 && m.base_mee > 0.66 && m.base_mee < 0.71,
	   "N_f/N_c and baseline MEE about 0.7 (c=%.3f mee=%.3f)", m.c, m.base_mee);
	/* a normal interval */
	memset(&c, 0, sizeof(c));
	c.nc = 20, c.nf = 14, c.dq = 61;
	mwm_judge(&m, &o, &c, 1, &r);
	ok(!r.flagged, "normal interval not flagged (ratio %.2f)", r.ratio);
	/* flood: MEE 0.1 and D_q 4x expected */
	c.nc = 100, c.nf = 10, c.dq = 1200;
	mwm_judge(&m, &o, &c, 1, &r);
	ok(r.flagged && strcmp(r.why, "mee_low") == 0, "flood flagged mee_low (%s)", r.why);
	mwm_judge(&m, &o, &c, 0, &r);
	ok(!r.flagged, "never flagged during the baseline");
	/* MEE low but D_q as expected: a quiet error, not flagged */
	c.nc = 100, c.nf = 10, c.dq = 310;
	mwm_judge(&m, &o, &c, 1, &r);
	ok(!r.flagged, "low MEE alone is not flagged");
	/* deferred mail and D_q together */
	c.nc = 10, c.nf = 9, c.deferred = 12, c.dq = 200;
	mwm_judge(&m, &o, &c, 1, &r);
	ok(r.flagged && strcmp(r.why, "deferred") == 0, "deferred + D_q flagged (%s)", r.why);
	c.dq = -1;
	mwm_judge(&m, &o, &c, 1, &r);
	ok(!r.flagged && r.ratio < 0, "unknown D_q never flagged");
	c.nc = 1, c.nf = 0, c.deferred = 0, c.dq = 19;
	mwm_judge(&m, &o, &c, 1, &r);
	ok(!r.flagged, "below min_dq never flagged");
	/* no N_P in the baseline: b stays 1, a alone fitted */
	mwm_init(&m);
	for (i = 1; i <= 5; i++) {
		memset(&c, 0, sizeof(c));
		c.nc = (uint64_t)i;
		c.dq = 4 * i;
		mwm_learn(&m, &c);
	}
	mwm_fit(&m);
	ok(m.b == 1 && m.a > 3.99 && m.a < 4.01, "without N_P: b=1, a=%.3f", m.a);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_fixtures();
	test_times();
	test_model();
	return done_testing();
}
