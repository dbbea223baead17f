/**
 * \file
 * dnswarden-scan(8)'s inputs: one query record as every reader produces it,
 * and the line parsers of the text formats (Zeek dns.log in TSV and JSON
 * lines, Unbound's log-queries / log-replies lines).
 *
 * What it is for: the readers turn hostile text into small checked records;
 * the scanner feeds those to the engine. The parsers are pure functions
 * (no I/O, no allocation, no global state), so the fuzz target
 * (t/fuzz/fuzz_scan_lines.c) drives them directly.
 *
 * Cost: O(line length). Thread safety: reentrant. Errors: a line that is not
 * a record returns 0 (ignored, counted by the caller); -1 is a line of the
 * right kind that does not parse (counted as malformed).
 */
#ifndef DW_SCAN_RECORDS_H
#define DW_SCAN_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/** What a record says. */
enum dw_scan_kind {
	DW_SCAN_QUERY = 0, /**< a client's query, no answer seen (yet) */
	DW_SCAN_REPLY,     /**< the resolver's answer (rcode known) */
	DW_SCAN_PAIR       /**< a query with its answer (Zeek: rcode may be unknown) */
};

/** One record. Addresses of family 0 are unknown. */
struct dw_scan_rec {
	uint8_t kind;          /**< enum dw_scan_kind */
	int64_t t;             /**< unix seconds */
	struct dw_addr client; /**< who asked */
	struct dw_addr server; /**< whom (family 0: unknown) */
	uint16_t cport, id;    /**< client port and DNS id (0 when unknown) */
	uint8_t qname[256];    /**< wire format */
	size_t qname_len;      /**< with the final zero; 0: none */
	uint16_t qtype;
	int rcode; /**< 0..15, or -1 when unknown */
};

/** The layout of a Zeek TSV log, from its #separator and #fields lines. */
struct dw_scan_zeek {
	char sep;        /**< field separator (default tab) */
	int have_fields; /**< a #fields line was seen */
	int f_ts, f_orig_h, f_orig_p, f_resp_h, f_trans_id, f_query, f_qtype, f_rcode;
};

/** Reset z to Zeek's defaults (tab separated, no #fields yet). */
void dw_scan_zeek_init(struct dw_scan_zeek *z);

/** One line of a Zeek TSV dns.log (without its newline): a header line
 *  updates z (0), a data line fills r (1, kind DW_SCAN_PAIR), a data line
 *  without the fields needed or a bad value gives -1. */
int dw_scan_zeek_line(struct dw_scan_zeek *z, const char *line, size_t len, struct dw_scan_rec *r);

/** One line of a Zeek dns.log in JSON (one object a line, as Zeek's
 *  LogAscii::use_json writes): 1 with r filled, 0 for a blank line,
 *  -1 when it is no such object. ts may be a number or ISO 8601 text. */
int dw_scan_zeek_json(const char *line, size_t len, struct dw_scan_rec *r);

/** One line of an Unbound log (verbosity file or syslog form, epoch
 *  "[N]" or log-time-ascii "Mon DD HH:MM:SS" stamps; year is used for the
 *  latter): a log-queries line gives DW_SCAN_QUERY, a log-replies line
 *  DW_SCAN_REPLY (1); any other Unbound line 0; -1 for a query/reply line
 *  that does not parse. */
int dw_scan_unbound_line(const char *line, size_t len, int year, struct dw_scan_rec *r);

/** A qtype from its mnemonic ("MX", "TYPE65"); -1 when unknown. */
int dw_scan_qtype(const char *s, size_t len);

/** An rcode from its mnemonic ("NXDOMAIN", "RCODE9"); -1 when unknown. */
int dw_scan_rcode(const char *s, size_t len);

#endif
