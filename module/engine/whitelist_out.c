/**
 * \file
 * The NS/glue whitelist as the control socket shows it (whitelist_out.h):
 * the fields of one address, the dump_whitelist list and the check_ns
 * answer, written through the output builder (control_out.h).
 */
#include "whitelist_out.h"

#include <stdio.h>

#include "wallclock.h"

/** The fields of one whitelist entry (dump_whitelist, check_ns). */
static void out_wl(struct dw_out *out, const struct dw_wl_view *v)
{
	char a[DW_ADDR_STRLEN], t[32], src[64], list[2048];
	size_t n = 0;
	unsigned i;
	dw_addr_format(&v->addr, a, sizeof(a));
	dw_out_kv(out, "addr", "%s", a);
	dw_out_kv(out, "src", "%s", dw_whitelist_src_text(v->src, src, sizeof(src)));
	list[0] = '\0';
	for (i = 0; i < v->nnames && n < sizeof(list); i++)
		n +=
		    (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? "," : "", v->names[i]);
	dw_out_kv(out, "ns", "%s", v->nnames ? list : "-");
	n = 0;
	list[0] = '\0';
	for (i = 0; i < v->nzones && n < sizeof(list); i++)
		n +=
		    (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? "," : "", v->zones[i]);
	dw_out_kv(out, "zones", "%s", v->nzones ? list : "-");
	if (v->first_seen) {
		dw_format_wall(v->first_seen, t, sizeof(t));
		dw_out_kv(out, "first_seen", "%s", t);
		dw_format_wall(v->last_seen, t, sizeof(t));
		dw_out_kv(out, "last_seen", "%s", t);
	}
	if (v->expires)
		dw_format_wall(v->expires, t, sizeof(t));
	else
		snprintf(t, sizeof(t), "never");
	dw_out_kv(out, "expires", "%s", t);
}

/** dw_whitelist_foreach callback for dump_whitelist. */
static int wl_one(void *arg, const struct dw_wl_view *v)
{
	struct dw_out *out = arg;
	dw_out_item_begin(out);
	out_wl(out, v);
	dw_out_item_end(out);
	return 0;
}

/** See whitelist_out.h: every known address as one list item. */
void dw_whitelist_out_dump(struct dw_out *out, struct dw_whitelist *wl, time_t now)
{
	dw_out_list_begin(out, "whitelist");
	dw_whitelist_foreach(wl, now, wl_one, out);
	dw_out_list_end(out);
}

/** See whitelist_out.h: known or not, and the fields when known. */
void dw_whitelist_out_check(struct dw_out *out, struct dw_whitelist *wl, const struct dw_addr *a,
                            time_t now)
{
	struct dw_wl_view v;
	if (dw_whitelist_check(wl, a, now, &v) != 1) {
		char buf[DW_ADDR_STRLEN];
		dw_addr_format(a, buf, sizeof(buf));
		dw_out_kv(out, "addr", "%s", buf);
		dw_out_kv_bool(out, "known", 0);
		return;
	}
	out_wl(out, &v);
	dw_out_kv_bool(out, "known", 1);
}
