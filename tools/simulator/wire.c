/**
 * \file
 * dwsim's DNS wire format (sim.h): type and rcode mnemonics, the query it
 * sends and the bounds-checked reading of the answers. Names between
 * presentation and wire form are the engine's (feature.h:
 * dw_name_from_text(), dw_name_to_text()).
 */
#include "sim.h"

/* ------------------------------------------------------------------------ */
/* Mnemonics */

/** Mnemonics of the types dwsim knows by name. */
static const struct {
	const char *name;
	uint16_t type;
} type_names[] = {
    {"A", T_A},     {"NS", T_NS},       {"CNAME", T_CNAME}, {"SOA", T_SOA},
    {"PTR", T_PTR}, {"MX", T_MX},       {"TXT", T_TXT},     {"AAAA", T_AAAA},
    {"SRV", T_SRV}, {"NAPTR", 35},      {"DS", 43},         {"DNSKEY", 48},
    {"SVCB", 64},   {"HTTPS", T_HTTPS}, {"CAA", 257},       {"ANY", 255},
};

/** Name of a qtype: its mnemonic or TYPEnnn (into buf, 12 bytes). */
const char *dwsim_type_to_text(uint16_t t, char *buf)
{
	size_t i;

	for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (type_names[i].type == t)
			return type_names[i].name;
	snprintf(buf, 12, "TYPE%u", (unsigned)t);
	return buf;
}

/** Parse a qtype: mnemonic (any case), TYPEnnn or a number. -1 if bad. */
int dwsim_text_to_type(const char *s)
{
	size_t i;
	char *end;
	unsigned long v;

	for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (strcasecmp(s, type_names[i].name) == 0)
			return type_names[i].type;
	if (strncasecmp(s, "TYPE", 4) == 0)
		s += 4;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -1;
	return (int)v;
}

/** Name of an rcode. */
const char *dwsim_rcode_to_text(unsigned rc, char *buf)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
	                                    "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
	                                    "NXRRSET", "NOTAUTH", "NOTZONE"};

	if (rc < sizeof names / sizeof names[0])
		return names[rc];
	snprintf(buf, 16, "RCODE%u", rc);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Wire: queries out, answers in */

/** Put a 16-bit value in network order. */
static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/** Read a 16-bit value in network order. */
unsigned dwsim_get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/**
 * Build a query (RD set, one question, EDNS0 OPT unless --no-edns).
 * \return its length (buf holds at least 12 + 255 + 4 + 11 bytes)
 */
size_t dwsim_build_query(const struct sim *s, uint8_t *buf, uint16_t id, const struct name_item *q)
{
	size_t n = 12;

	put16(buf, id);
	put16(buf + 2, 0x0100); /* RD */
	put16(buf + 4, 1);
	put16(buf + 6, 0);
	put16(buf + 8, 0);
	put16(buf + 10, s->edns ? 1 : 0);
	memcpy(buf + n, q->qname, q->qlen);
	n += q->qlen;
	put16(buf + n, q->qtype);
	put16(buf + n + 2, 1); /* IN */
	n += 4;
	if (s->edns) {
		buf[n] = 0; /* root owner */
		put16(buf + n + 1, T_OPT);
		put16(buf + n + 3, EDNS_BUFSZ);
		memset(buf + n + 5, 0, 6); /* ext-rcode, version, flags, rdlen */
		n += 11;
	}
	return n;
}

/**
 * Read a name at *pos of msg (compression allowed) into out in wire form.
 * Pointers must point backwards and at most 127 are followed, so a hostile
 * packet cannot loop; the result is at most 255 bytes.
 * \return 0 with *pos past the name, or -1 if malformed
 */
int dwsim_read_name(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out, size_t *outlen)
{
	size_t p = *pos, o = 0, end = 0;
	int jumped = 0, hops = 0;

	for (;;) {
		unsigned c;

		if (p >= len)
			return -1;
		c = msg[p];
		if ((c & 0xC0) == 0xC0) {
			size_t ptr;

			if (p + 1 >= len)
				return -1;
			ptr = (size_t)(c & 0x3F) << 8 | msg[p + 1];
			if (!jumped)
				end = p + 2;
			jumped = 1;
			if (ptr >= p || ++hops > 127)
				return -1;
			p = ptr;
			continue;
		}
		if (c & 0xC0)
			return -1; /* extended label types: not in a question */
		if (o + c + 1 > WIRE_MAX || p + 1 + c > len)
			return -1;
		memcpy(out + o, msg + p, c + 1);
		o += c + 1;
		p += c + 1;
		if (c == 0)
			break;
	}
	*outlen = o;
	*pos = jumped ? end : p;
	return 0;
}

/** Skip a (possibly compressed) name at *pos. \return 0, or -1 if malformed. */
static int skip_name(const uint8_t *msg, size_t len, size_t *pos)
{
	size_t p = *pos;

	for (;;) {
		unsigned c;

		if (p >= len)
			return -1;
		c = msg[p];
		if ((c & 0xC0) == 0xC0) {
			p += 2;
			break;
		}
		if (c & 0xC0)
			return -1;
		p += c + 1;
		if (c == 0)
			break;
	}
	if (p > len)
		return -1;
	*pos = p;
	return 0;
}

/** Compare two wire names, ASCII case-insensitively. \return 1 if equal. */
int dwsim_wire_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++) {
		unsigned x = a[i], y = b[i];

		/* length bytes are <= 63, below 'A', so folding them is harmless */
		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return 0;
	}
	return 1;
}

/**
 * Walk the answer, authority and additional sections after the question:
 * find the first A record in the answer section and the extended rcode bits
 * of an OPT record. Stops quietly at the first malformed record.
 * \param answer  out: first A as dotted quad, or "" (16 bytes)
 * \param rcode   in/out: header rcode, widened by an OPT record's bits
 */
void dwsim_scan_sections(const uint8_t *msg, size_t len, size_t pos, char *answer, unsigned *rcode)
{
	unsigned sec;
	const unsigned counts[3] = {dwsim_get16(msg + 6), dwsim_get16(msg + 8),
	                            dwsim_get16(msg + 10)};

	answer[0] = '\0';
	for (sec = 0; sec < 3; sec++) {
		unsigned i;

		for (i = 0; i < counts[sec]; i++) {
			unsigned type, class, rdlen;

			if (skip_name(msg, len, &pos) < 0 || pos + 10 > len)
				return;
			type = dwsim_get16(msg + pos);
			class = dwsim_get16(msg + pos + 2);
			rdlen = dwsim_get16(msg + pos + 8);
			pos += 10;
			if (pos + rdlen > len)
				return;
			if (sec == 0 && type == T_A && class == 1 && rdlen == 4 && !answer[0])
				snprintf(answer, 16, "%u.%u.%u.%u", msg[pos], msg[pos + 1],
				         msg[pos + 2], msg[pos + 3]);
			if (sec == 2 && type == T_OPT)
				*rcode |= (unsigned)msg[pos - 6] << 4; /* TTL's top byte */
			pos += rdlen;
		}
	}
}
