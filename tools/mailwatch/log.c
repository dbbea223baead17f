/**
 * \file
 * MTA log lines (log.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *const reason_names[MWL_NREASONS] = {"relay_denied", "user_unknown",
                                                       "recipient_rejected", "other"};

const char *mwl_reason_name(enum mwl_reason r)
{
	return (unsigned)r < MWL_NREASONS ? reason_names[r] : "other";
}

/** n digits at s into *v; 0 or -1. */
static int digits(const char *s, int n, int *v)
{
	int i, x = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

/** "Mmm dd HH:MM:SS " (local time, no year); returns the rest or NULL. */
static const char *traditional(const char *s, time_t now, int64_t *when)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *m;
	struct tm tm, nowtm;
	int day, h, mi, se;
	time_t t;

	if (strlen(s) < 16)
		return NULL;
	for (m = months; *m; m += 3)
		if (strncmp(s, m, 3) == 0)
			break;
	if (!*m || s[3] != ' ')
		return NULL;
	if (s[4] == ' ' ? digits(s + 5, 1, &day) : digits(s + 4, 2, &day))
		return NULL;
	if (s[6] != ' ' || digits(s + 7, 2, &h) || s[9] != ':' || digits(s + 10, 2, &mi) ||
	    s[12] != ':' || digits(s + 13, 2, &se))
		return NULL;
	s += 15;
	if (*s == '.') /* high-resolution variants: ignore the fraction */
		while (isdigit((unsigned char)*++s))
			;
	if (*s != ' ')
		return NULL;
	localtime_r(&now, &nowtm);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = nowtm.tm_year;
	tm.tm_mon = (int)(m - months) / 3;
	tm.tm_mday = day;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t > now + 86400) {
		tm.tm_year--;
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	*when = (int64_t)t;
	return s + 1;
}

/** "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|+HHMM) "; returns the rest or NULL. */
static const char *iso(const char *s, int64_t *when)
{
	struct tm tm;
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
		return NULL;
	s += 19;
	if (*s == '.' || *s == ',')
		while (isdigit((unsigned char)*++s))
			;
	if (*s == 'Z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		if (digits(s + 1, 2, &oh))
			return NULL;
		s += 3;
		if (*s == ':')
			s++;
		if (digits(s, 2, &om))
			return NULL;
		s += 2;
	}
	if (*s != ' ')
		return NULL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*when = (int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60);
	return s + 1;
}

/** The client address of "NAME[ADDR]" or "NAME [ADDR]" at s: 0 or -1. */
static int client_of(const char *s, char *out, size_t len)
{
	const char *open = NULL, *p;
	size_t n;
	for (p = s; *p && *p != ':' && *p != ','; p++) {
		if (*p == '[') {
			open = p;
			break;
		}
		if (*p == ' ' && p[1] != '[')
			return -1; /* "NAME [ADDR]" allows one space before '[' only */
	}
	if (!open)
		return -1;
	for (p = open + 1; *p && *p != ']'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return -1;
	n = (size_t)(p - open - 1);
	if (*p != ']' || n == 0 || n >= len)
		return -1;
	memcpy(out, open + 1, n);
	out[n] = '\0';
	return 0;
}

/** True when prog is NAME or ends in "/NAME" (postfix/submission/smtpd). */
static int prog_is(const char *prog, size_t plen, const char *name)
{
	size_t n = strlen(name);
	if (plen < n || memcmp(prog + plen - n, name, n) != 0)
		return 0;
	return plen == n || prog[plen - n - 1] == '/';
}

static enum mwl_reason reason_of(const char *msg)
{
	if (strstr(msg, "User unknown"))
		return MWL_USER_UNKNOWN;
	if (strstr(msg, "Relay access denied"))
		return MWL_RELAY;
	if (strstr(msg, "Recipient address rejected"))
		return MWL_RCPT_REJECTED;
	return MWL_OTHER_REJECT;
}

/** See log.h. */
int mwl_parse(const char *line, time_t now, struct mwl_line *out)
{
	const char *s, *prog, *p, *msg;
	size_t plen;

	memset(out, 0, sizeof(*out));
	if (!(s = iso(line, &out->when)) && !(s = traditional(line, now, &out->when)))
		return -1;
	/* host */
	if (!(p = strchr(s, ' ')))
		return -1;
	prog = p + 1;
	for (p = prog; *p && *p != '[' && *p != ':' && *p != ' '; p++)
		;
	plen = (size_t)(p - prog);
	if (*p == '[')
		p = strchr(p, ']') ? strchr(p, ']') + 1 : p;
	if (*p != ':' || p[1] != ' ')
		return -1;
	msg = p + 2;

	if (prog_is(prog, plen, "smtpd")) {
		if (strncmp(msg, "connect from ", 13) == 0) {
			if (client_of(msg + 13, out->client, sizeof(out->client)) < 0)
				return -1;
			out->kind = MWL_CONNECT;
			return 0;
		}
		if ((p = strstr(msg, "reject: ")) != NULL) {
			p += 8;
			while (*p && *p != ' ') /* RCPT, MAIL, CONNECT, DATA, ... */
				p++;
			if (strncmp(p, " from ", 6) != 0 ||
			    client_of(p + 6, out->client, sizeof(out->client)) < 0)
				return -1;
			out->kind = MWL_REJECT;
			out->reason = reason_of(p);
			return 0;
		}
		return -1;
	}
	if (prog_is(prog, plen, "qmgr")) {
		if (!strstr(msg, ": from=<") || strstr(msg, "status=expired"))
			return -1;
		out->kind = MWL_FROM;
		return 0;
	}
	if (prog_is(prog, plen, "dovecot") || (plen >= 7 && memcmp(prog, "dovecot", 7) == 0)) {
		if ((strstr(msg, "pop3-login: Login:") || strstr(msg, "imap-login: Login:"))) {
			out->kind = MWL_LOGIN;
			return 0;
		}
		return -1;
	}
	if (prog_is(prog, plen, "popper")) { /* the slides counted every "popper:" line */
		out->kind = MWL_LOGIN;
		return 0;
	}
	if (strstr(msg, " to=") || strncmp(msg, "to=", 3) == 0 || strstr(msg, ": to=")) {
		if ((p = strstr(msg, "status=")) != NULL) { /* Postfix delivery agents */
			p += 7;
			out->status = strncmp(p, "sent", 4) == 0       ? MWL_SENT
			              : strncmp(p, "deferred", 8) == 0 ? MWL_DEFERRED
			              : strncmp(p, "bounced", 7) == 0  ? MWL_BOUNCED
			                                               : MWL_OTHER_STATUS;
		} else if ((p = strstr(msg, "stat=")) != NULL) { /* sendmail */
			p += 5;
			out->status = strncmp(p, "Sent", 4) == 0       ? MWL_SENT
			              : strncmp(p, "Deferred", 8) == 0 ? MWL_DEFERRED
			                                               : MWL_OTHER_STATUS;
		} else
			return -1;
		out->kind = MWL_TO;
		return 0;
	}
	return -1;
}
