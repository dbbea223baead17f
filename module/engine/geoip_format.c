/**
 * \file
 * dw_geoip_format(): what is known about an address as " PREFIX_cc=SE ..."
 * fields of a log line (see geoip.h). Kept apart from geoip.c so that a build
 * without libmaxminddb (geoip_none.c) formats the same way.
 */
#include "geoip.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

/**
 * Append " PREFIX_key=val" at *pos if it fits whole.
 * \return false (and nothing written) when it does not fit.
 */
static bool put(char *buf, size_t len, size_t *pos, const char *prefix, const char *key,
                const char *val)
{
	size_t room = len - *pos;
	int n =
	    snprintf(buf + *pos, room, " %s%s%s=%s", prefix, *prefix != '\0' ? "_" : "", key, val);

	if (n < 0 || (size_t)n >= room) {
		buf[*pos] = '\0';
		return false;
	}
	*pos += (size_t)n;
	return true;
}

size_t dw_geoip_format(const struct dw_geo *geo, const char *prefix, char *buf, size_t len)
{
	size_t pos = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (geo == NULL)
		return 0;
	if (prefix == NULL)
		prefix = "";
	if (geo->country[0] != '\0' && !put(buf, len, &pos, prefix, "cc", geo->country))
		return pos;
	if (geo->asn != 0) {
		char num[16];

		snprintf(num, sizeof(num), "%" PRIu32, geo->asn);
		if (!put(buf, len, &pos, prefix, "asn", num))
			return pos;
	}
	if (geo->as_org[0] != '\0')
		(void)put(buf, len, &pos, prefix, "as_org", geo->as_org);
	return pos;
}
