/**
 * \file
 * DNS messages out of captured packets (pcapdns.h): every read of packet
 * bytes is checked against the captured length.
 */
#include "pcapdns.h"

#include <pcap/pcap.h>
#include <string.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

/** One walk: where messages go and what is counted. */
struct walk {
	uint16_t port;
	int dirs;
	dw_pcapdns_fn fn;
	void *arg;
	struct dw_pcapdns_stats *st;
	struct dw_pcapdns_msg m; /* addresses filled by the IP layer */
};

/** Big-endian 16 bits. */
static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/** Whether a message between these ports is one the caller asked for. */
static int wanted(const struct walk *w, uint16_t sport, uint16_t dport)
{
	return ((w->dirs & DW_PCAPDNS_TO53) && dport == w->port) ||
	       ((w->dirs & DW_PCAPDNS_FROM53) && sport == w->port);
}

/** UDP or TCP payload: the DNS message(s) in it. */
static void transport(struct walk *w, int proto, const uint8_t *p, size_t len)
{
	if (proto == 17) {
		size_t ulen;
		if (len < 8) {
			w->st->malformed++;
			return;
		}
		w->m.sport = get16(p);
		w->m.dport = get16(p + 2);
		if (!wanted(w, w->m.sport, w->m.dport))
			return;
		ulen = get16(p + 4);
		if (ulen >= 8 && ulen < len)
			len = ulen; /* trailing padding */
		w->m.tcp = 0;
		w->m.msg = p + 8;
		w->m.len = len - 8;
		if (w->fn(w->arg, &w->m) != 0)
			w->st->malformed++;
	} else if (proto == 6) {
		size_t off;
		if (len < 20) {
			w->st->malformed++;
			return;
		}
		w->m.sport = get16(p);
		w->m.dport = get16(p + 2);
		if (!wanted(w, w->m.sport, w->m.dport))
			return;
		off = (size_t)(p[12] >> 4) * 4;
		if (off < 20 || off > len) {
			w->st->malformed++;
			return;
		}
		w->m.tcp = 1;
		while (off + 2 <= len) { /* length-prefixed messages */
			size_t mlen = get16(p + off);
			if (mlen < 12 || off + 2 + mlen > len) {
				w->st->tcp_skipped++;
				return;
			}
			w->m.msg = p + off + 2;
			w->m.len = mlen;
			if (w->fn(w->arg, &w->m) != 0) {
				w->st->tcp_skipped++;
				return;
			}
			off += 2 + mlen;
		}
	}
}

/** An IPv4 header and what it carries. */
static void ipv4(struct walk *w, const uint8_t *p, size_t len)
{
	size_t ihl, tot;

	if (len < 20 || (p[0] >> 4) != 4) {
		w->st->malformed++;
		return;
	}
	ihl = (size_t)(p[0] & 15) * 4;
	tot = get16(p + 2);
	if (ihl < 20 || ihl > len || tot < ihl) {
		w->st->malformed++;
		return;
	}
	if (tot < len)
		len = tot; /* Ethernet padding */
	if ((get16(p + 6) & 0x1fff) != 0) {
		w->st->skipped++; /* not the first fragment */
		return;
	}
	w->m.family = 4;
	w->m.src = p + 12;
	w->m.dst = p + 16;
	transport(w, p[9], p + ihl, len - ihl);
}

/** An IPv6 header, its extension headers, and what it carries. */
static void ipv6(struct walk *w, const uint8_t *p, size_t len)
{
	size_t off = 40, plen;
	int nh, hops;

	if (len < 40 || (p[0] >> 4) != 6) {
		w->st->malformed++;
		return;
	}
	plen = get16(p + 4);
	if (40 + plen < len)
		len = 40 + plen;
	nh = p[6];
	for (hops = 0; hops < 8; hops++) {
		if (nh == 0 || nh == 43 || nh == 60) {
			if (off + 8 > len)
				goto bad;
			nh = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
		} else if (nh == 44) {
			if (off + 8 > len)
				goto bad;
			if ((get16(p + off + 2) & 0xfff8) != 0) {
				w->st->skipped++; /* not the first fragment */
				return;
			}
			nh = p[off];
			off += 8;
		} else if (nh == 51) {
			if (off + 8 > len)
				goto bad;
			nh = p[off];
			off += ((size_t)p[off + 1] + 2) * 4;
		} else {
			break;
		}
		if (off > len)
			goto bad;
	}
	if (nh != 6 && nh != 17)
		return;
	w->m.family = 6;
	w->m.src = p + 8;
	w->m.dst = p + 24;
	transport(w, nh, p + off, len - off);
	return;
bad:
	w->st->malformed++;
}

/** Raw IP: the version nibble decides. */
static void network(struct walk *w, const uint8_t *p, size_t len)
{
	if (len < 1) {
		w->st->malformed++;
		return;
	}
	if ((p[0] >> 4) == 4)
		ipv4(w, p, len);
	else if ((p[0] >> 4) == 6)
		ipv6(w, p, len);
	else
		w->st->skipped++;
}

/** An ethertype's payload. */
static void by_ethertype(struct walk *w, unsigned type, const uint8_t *p, size_t len)
{
	if (type == 0x0800)
		ipv4(w, p, len);
	else if (type == 0x86dd)
		ipv6(w, p, len);
	else
		w->st->skipped++;
}

/** One packet of link type dlt. */
void dw_pcapdns_packet(int dlt, const uint8_t *p, size_t len, uint16_t port, int dirs,
                       dw_pcapdns_fn fn, void *arg, struct dw_pcapdns_stats *st)
{
	struct walk w;
	memset(&w, 0, sizeof(w));
	w.port = port;
	w.dirs = dirs;
	w.fn = fn;
	w.arg = arg;
	w.st = st;
	st->packets++;
	switch (dlt) {
	case DLT_EN10MB: {
		size_t off = 12;
		unsigned type;
		int tags = 0;
		if (len < 14)
			goto bad;
		type = get16(p + off);
		while ((type == 0x8100 || type == 0x88a8 || type == 0x9100) && tags++ < 2) {
			off += 4;
			if (off + 2 > len)
				goto bad;
			type = get16(p + off);
		}
		by_ethertype(&w, type, p + off + 2, len - off - 2);
		return;
	}
	case DLT_LINUX_SLL:
		if (len < 16)
			goto bad;
		by_ethertype(&w, get16(p + 14), p + 16, len - 16);
		return;
	case DLT_LINUX_SLL2:
		if (len < 20)
			goto bad;
		by_ethertype(&w, get16(p), p + 20, len - 20);
		return;
	case DLT_NULL:
	case DLT_LOOP: {
		uint32_t le, be;
		if (len < 4)
			goto bad;
		le = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		     (uint32_t)p[3] << 24;
		be = (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 |
		     (uint32_t)p[0] << 24;
		/* AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30 */
		if (le == 2 || be == 2)
			ipv4(&w, p + 4, len - 4);
		else if (le == 10 || le == 24 || le == 28 || le == 30 || be == 10 || be == 24 ||
		         be == 28 || be == 30)
			ipv6(&w, p + 4, len - 4);
		else
			st->skipped++;
		return;
	}
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
#if defined(DLT_RAW) && DLT_RAW != 12
	case 12:
#endif
		network(&w, p, len);
		return;
	default:
		st->skipped++;
		return;
	}
bad:
	st->malformed++;
}

/** Label by label, as dnswarden-scan and dwpcap both read a question. */
int dw_pcapdns_question(const uint8_t *m, size_t len, uint8_t qname[DW_PCAPDNS_NAME_MAX],
                        uint16_t *qtype)
{
	size_t off = 12, wl = 0;

	for (;;) {
		uint8_t lab;
		if (off >= len)
			return -1;
		lab = m[off];
		if (lab > 63 || off + 1 + lab > len || wl + 1 + lab > DW_PCAPDNS_NAME_MAX)
			return -1;
		memcpy(qname + wl, m + off, (size_t)lab + 1);
		wl += (size_t)lab + 1;
		off += (size_t)lab + 1;
		if (lab == 0)
			break;
	}
	if (off + 4 > len)
		return -1;
	*qtype = get16(m + off);
	return (int)wl;
}
