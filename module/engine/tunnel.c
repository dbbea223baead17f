/**
 * \file
 * What a tunnel's query name looks like (tunnel.h).
 */
#include "tunnel.h"

#include <math.h>
#include <string.h>

/** n * log2(n) in millibits for n = 0..255 (a subdomain has < 255 bytes). */
static uint32_t nlogn[256];

/** Fill the table once. */
void dw_tunnel_init(void)
{
	unsigned n;
	if (nlogn[2] != 0)
		return;
	for (n = 2; n < 256; n++)
		nlogn[n] = (uint32_t)lround((double)n * log2((double)n) * 1000.0);
}

/** H = log2(N) - sum(c log2 c) / N over the case-folded bytes. */
unsigned dw_tunnel_entropy(const uint8_t *qname, size_t sub_len, unsigned *nchars)
{
	uint16_t hist[256];
	size_t p = 0;
	unsigned n = 0, i;
	uint64_t sum = 0;
	memset(hist, 0, sizeof(hist));
	while (p < sub_len) {
		unsigned l = qname[p], k;
		if (l == 0 || l > 63 || p + 1 + l > sub_len)
			break;
		for (k = 0; k < l; k++) {
			uint8_t c = qname[p + 1 + k];
			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c | 0x20);
			hist[c]++;
		}
		n += l;
		p += 1u + l;
	}
	if (nchars)
		*nchars = n;
	if (n < 2 || n > 255)
		return 0;
	for (i = 0; i < 256; i++)
		sum += nlogn[hist[i]];
	return (unsigned)(nlogn[n] - sum) / n;
}

/** Long and random enough? */
int dw_tunnel_name(const uint8_t *qname, size_t sub_len)
{
	return dw_tunnel_weight(qname, sub_len) > 0;
}

/** Payload units of a tunnel name: one per started DW_TUNNEL_UNIT_CHARS
 *  characters, at most DW_TUNNEL_MAX_WEIGHT; 0 for a name that is none. */
unsigned dw_tunnel_weight(const uint8_t *qname, size_t sub_len)
{
	unsigned n = 0, h, w;
	if (!qname || sub_len < DW_TUNNEL_MIN_CHARS)
		return 0;
	h = dw_tunnel_entropy(qname, sub_len, &n);
	if (n < DW_TUNNEL_MIN_CHARS || h < DW_TUNNEL_MIN_ENTROPY_MILLIBITS)
		return 0;
	w = (n + DW_TUNNEL_UNIT_CHARS - 1) / DW_TUNNEL_UNIT_CHARS;
	return w > DW_TUNNEL_MAX_WEIGHT ? DW_TUNNEL_MAX_WEIGHT : w;
}
