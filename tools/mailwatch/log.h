/**
 * \file
 * What one MTA log line says, for dnswarden-mailwatch(8): Postfix's syslog
 * lines (the traditional "Mmm dd HH:MM:SS host prog[pid]: msg" of syslog,
 * journalctl and Postfix's own maillog_file, and RFC 3339 time stamps),
 * Dovecot logins and qpopper lines (N_P), and sendmail's stat= lines.
 *
 * The counts follow "Statistical Analysis in Logs of DNS Traffic and E-mail
 * Server" (Musashi, Matsuba, Sugitani, 2003) and the same authors' slides on
 * DNS and SMTP/POP3 accesses (2003): N_c counts "smtpd: connect from"
 * lines, N_f "qmgr: from=" lines, N_to the delivery agents' "to=" lines
 * (with status=deferred / status=bounced), N_P POP3/IMAP logins; rejects
 * are classed as in those slides' table (Relay access denied, User
 * unknown, Recipient address rejected, others).
 *
 * Cost: O(line length), no allocation. Thread safety: pure.
 * Errors: mwl_parse() returns -1 for lines it does not count (the caller
 * ignores them) and for lines without a time stamp it understands.
 */
#ifndef DW_MAILWATCH_LOG_H
#define DW_MAILWATCH_LOG_H

#include <stdint.h>
#include <time.h>

enum mwl_kind {
	MWL_CONNECT = 1, /**< smtpd: connect from NAME[ADDR] */
	MWL_FROM,        /**< qmgr: QID: from=<...>, size=... */
	MWL_TO,          /**< smtp/local/...: QID: to=<...>, ... status=... */
	MWL_REJECT,      /**< smtpd: ... reject: RCPT from NAME[ADDR]: ... */
	MWL_LOGIN,       /**< dovecot pop3-login/imap-login: Login:, qpopper */
};

enum mwl_status { MWL_SENT = 0, MWL_DEFERRED, MWL_BOUNCED, MWL_OTHER_STATUS };

/** Reject reasons, in the order of the report's columns. */
enum mwl_reason {
	MWL_RELAY = 0,     /**< Relay access denied */
	MWL_USER_UNKNOWN,  /**< User unknown (in local recipient table, ...) */
	MWL_RCPT_REJECTED, /**< Recipient address rejected (other than User unknown) */
	MWL_OTHER_REJECT,  /**< anything else */
	MWL_NREASONS
};

struct mwl_line {
	int64_t when; /**< Unix seconds */
	enum mwl_kind kind;
	enum mwl_status status; /**< MWL_TO */
	enum mwl_reason reason; /**< MWL_REJECT */
	char client[64];        /**< MWL_CONNECT, MWL_REJECT: the client's address */
};

/** Parse one line (no newline needed). Traditional time stamps carry no
 *  year: the year of now is taken, the previous one when that would put
 *  the line more than a day in the future; they are local time.
 *  0 when the line counts, -1 when it does not. */
int mwl_parse(const char *line, time_t now, struct mwl_line *out);

/** "relay_denied", "user_unknown", "recipient_rejected", "other". */
const char *mwl_reason_name(enum mwl_reason r);

#endif
