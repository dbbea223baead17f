/**
 * \file
 * The whitelist as an nftables set (whitelist.h, dw_whitelist_export_nft()):
 * a file for `nft -f` that replaces the sets dnswarden_ns4/ns6 atomically.
 */
#include "whitelist.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#define NFT_CHUNK 256 /* elements per "add element" statement */

static void fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%" PRId64, (int64_t)t);
}

struct nft_ctx {
	FILE *f;
	int family; /* which set this pass writes */
	long n, inset;
};

static int nft_one(void *arg, const struct dw_wl_view *v)
{
	struct nft_ctx *c = arg;
	char a[DW_ADDR_STRLEN];

	if (v->addr.family != c->family)
		return 0;
	dw_addr_format(&v->addr, a, sizeof(a));
	if (c->inset == 0)
		fprintf(c->f, "add element inet dnswarden dnswarden_ns%d { %s", c->family, a);
	else
		fprintf(c->f, ", %s", a);
	c->n++;
	if (++c->inset == NFT_CHUNK) {
		fprintf(c->f, " }\n");
		c->inset = 0;
	}
	return 0;
}

static int count_family(void *arg, const struct dw_wl_view *v)
{
	long *n = arg;
	n[v->addr.family == 4 ? 0 : 1]++;
	return 0;
}

long dw_whitelist_export_nft(struct dw_whitelist *wl, time_t now, FILE *f)
{
	struct nft_ctx c = {f, 4, 0, 0};
	long count[2] = {0, 0};
	char t[40];

	dw_whitelist_foreach(wl, now, count_family, count);
	fmt_time(now, t, sizeof(t));
	fprintf(f,
	        "# dnswarden export_nft %s: %ld IPv4 and %ld IPv6 nameserver addresses.\n"
	        "# Load with `nft -f FILE`: one transaction declares the table and sets (a no-op\n"
	        "# when they exist, as in etc/nftables-dnswarden.nft), empties both sets and\n"
	        "# fills them, so the sets are replaced atomically.\n"
	        "table inet dnswarden {\n"
	        "\tset dnswarden_ns4 {\n"
	        "\t\ttype ipv4_addr\n"
	        "\t}\n"
	        "\tset dnswarden_ns6 {\n"
	        "\t\ttype ipv6_addr\n"
	        "\t}\n"
	        "}\n"
	        "flush set inet dnswarden dnswarden_ns4\n"
	        "flush set inet dnswarden dnswarden_ns6\n",
	        t, count[0], count[1]);
	dw_whitelist_foreach(wl, now, nft_one, &c);
	if (c.inset)
		fprintf(f, " }\n");
	c.family = 6;
	c.inset = 0;
	dw_whitelist_foreach(wl, now, nft_one, &c);
	if (c.inset)
		fprintf(f, " }\n");
	if (fflush(f) != 0 || ferror(f))
		return -1;
	return c.n;
}
