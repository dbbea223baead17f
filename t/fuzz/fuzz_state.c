/**
 * \file
 * libFuzzer target: the state-file loader (module/engine/state.c with the block
 * list, the exemption changes and the whitelist records it hands lines to).
 *
 * Input: a whole state file. It is loaded into fresh units (block list,
 * exemptions, whitelist), saved (A), loaded again into fresh units and saved
 * again (B). Invariants checked on top of ASan/UBSan and LeakSanitizer:
 * - load returns 0 or -1 (with a reason), never more bad lines than lines;
 * - what a load keeps survives a save and a load unchanged: A and B hold the
 *   same records (compared as sorted lines, since a table's iteration order
 *   may depend on its hash key; the header's saved= time is left out), and
 *   loading A reports no bad line;
 * - the blocks and exemptions the units hold after the first load equal
 *   those after the second, field by field (read through the units' own
 *   iterators, not through the save: a save that always drops a field would
 *   otherwise go unnoticed). The whitelist is compared through its saves.
 * Small caps (8 blocks, 64 whitelist entries) make the "full" paths reachable.
 * Domain blocks ("domain ..." lines, domain_blocks.h) load into a bare engine
 * holding only the domain set and the block clock; they are compared
 * through their saves like the whitelist.
 */
#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "domain_blocks.h"
#include "engine_int.h"
#include "exempt.h"
#include "fuzz_util.h"
#include "policy.h"
#include "state.h"
#include "whitelist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** The time the loads treat as now (fixed: runs must be reproducible). */
#define NOW 1750000000

static struct dw_conf *conf;

/** The units a state file fills. */
struct units {
	struct dw_policy *policy;
	struct dw_exempt *exempt;
	struct dw_whitelist *wl;
	struct dw_state_extra extra;
	struct dw_engine *eng; /* only conf, domains and the block clock are set */
	struct dw_state_extra dom;
};

/** Fresh, empty units. */
static void units_new(struct units *u)
{
	char err[256];
	memset(u, 0, sizeof(*u));
	u->policy = dw_policy_new(conf);
	u->exempt = dw_exempt_new(conf);
	u->wl = dw_whitelist_new(conf, err, sizeof(err));
	FUZZ_CHECK(u->policy && u->exempt && u->wl, "units: %s", err);
	u->extra.prefix = "wl";
	u->extra.save = dw_whitelist_state_save;
	u->extra.load_line = dw_whitelist_state_load_line;
	u->extra.arg = u->wl;
	u->eng = calloc(1, sizeof(*u->eng));
	FUZZ_CHECK(u->eng != NULL, "units: out of memory");
	u->eng->conf = conf;
	u->eng->start_wall = time(NULL);
	u->eng->start_mono = dw_mono_now();
	u->eng->domains = dw_domains_new();
	FUZZ_CHECK(u->eng->domains != NULL, "units: out of memory");
	u->dom.prefix = "domain";
	u->dom.save = dw_domains_state_save;
	u->dom.load_line = dw_domains_state_load_line;
	u->dom.arg = u->eng;
	u->extra.next = &u->dom;
}

/** Release the units. */
static void units_free(struct units *u)
{
	dw_policy_free(u->policy);
	dw_exempt_free(u->exempt);
	dw_whitelist_free(u->wl);
	dw_domains_free(u->eng->domains);
	free(u->eng);
}

/** qsort comparator for line pointers. */
static int line_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/** The file's records after its header line, sorted, joined by '\n'. */
static char *records(const char *path)
{
	size_t len = 0, n = 0, i, off = 0;
	char *text = fuzz_slurp(path, &len), *p, **v, *out;

	FUZZ_CHECK(text != NULL, "saved file %s missing", path);
	p = strchr(text, '\n');
	p = p ? p + 1 : text + len;
	v = malloc((len + 1) * sizeof(*v));
	out = malloc(len + 2);
	FUZZ_CHECK(v && out, "out of memory");
	while (*p) {
		char *nl = strchr(p, '\n');
		FUZZ_CHECK(nl != NULL, "saved file ends without a newline");
		*nl = '\0';
		v[n++] = p;
		p = nl + 1;
	}
	qsort(v, n, sizeof(*v), line_cmp);
	for (i = 0; i < n; i++)
		off += (size_t)sprintf(out + off, "%s\n", v[i]);
	out[off] = '\0';
	free(v);
	free(text);
	return out;
}

/** A growing text of lines, for the in-memory views. */
struct text {
	char *s;
	size_t len, cap;
};

/** Append one printf-formatted line. */
static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->cap - t->len < 512) {
		t->cap = t->cap * 2 + 4096;
		t->s = realloc(t->s, t->cap);
		FUZZ_CHECK(t->s != NULL, "out of memory");
	}
	va_start(ap, fmt);
	n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	FUZZ_CHECK(n >= 0 && (size_t)n < t->cap - t->len, "view line too long");
	t->len += (size_t)n;
}

/** dw_policy_foreach callback: every field of a block but the backend's. */
static int view_block(void *arg, const struct dw_block *b)
{
	char a[DW_ADDR_STRLEN];
	dw_addr_format(&b->client, a, sizeof(a));
	text_add(arg, "block %s/%u %u %d %u %u %u %lld %lld\n", a, b->prefix, b->action,
	         b->detector, b->active, b->offences, b->duration, (long long)b->created,
	         (long long)b->expires);
	return 0;
}

/** dw_exempt_foreach callback. */
static void view_exempt(void *arg, const struct dw_cidr *c, const char *origin)
{
	char a[DW_ADDR_STRLEN];
	dw_cidr_format(c, a, sizeof(a));
	text_add(arg, "exempt %s %s\n", a, origin);
}

/** The blocks and exemptions as the units hold them (not as saved), sorted:
 *  a save that loses a field is caught even when it loses it every time. */
static char *view(struct units *u)
{
	struct text t = {0};
	char *sorted, **v, *p;
	size_t n = 0, off = 0, i;

	text_add(&t, "%s", "");
	dw_policy_foreach(u->policy, view_block, &t);
	dw_exempt_foreach(u->exempt, view_exempt, &t);
	v = malloc((t.len + 1) * sizeof(*v));
	sorted = malloc(t.len + 1);
	FUZZ_CHECK(v && sorted, "out of memory");
	for (p = t.s; *p;) {
		char *nl = strchr(p, '\n');
		*nl = '\0';
		v[n++] = p;
		p = nl + 1;
	}
	qsort(v, n, sizeof(*v), line_cmp);
	for (i = 0; i < n; i++)
		off += (size_t)sprintf(sorted + off, "%s\n", v[i]);
	sorted[off] = '\0';
	free(v);
	free(t.s);
	return sorted;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char in[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	char err[512];
	struct units u1, u2;
	struct dw_state_report r;
	size_t lines = 1;
	char *ra, *rb, *v1, *v2;
	int rc;

	if (conf == NULL) {
		conf = dw_conf_defaults();
		FUZZ_CHECK(conf != NULL, "no memory for the defaults");
		conf->policy_max_blocks = 8;
		conf->wl_max_entries = 64;
		fuzz_path("in.state", in, sizeof(in));
		fuzz_path("a.state", a, sizeof(a));
		fuzz_path("b.state", b, sizeof(b));
	}
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	fuzz_dir_clean();
	fuzz_write(in, data, size);

	units_new(&u1);
	err[0] = '\0';
	rc = dw_state_load(in, u1.policy, u1.exempt, &u1.extra, NOW, &r, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1, "load returned %d", rc);
	FUZZ_CHECK(rc == 0 || err[0] != '\0', "refused without a reason");
	FUZZ_CHECK(r.loaded <= lines && r.malformed <= lines && r.full <= lines,
	           "%zu loaded, %zu malformed, %zu over max_blocks of %zu lines", r.loaded,
	           r.malformed, r.full, lines);
	if (rc != 0) {
		units_free(&u1);
		return 0;
	}
	FUZZ_CHECK(dw_state_save(a, u1.policy, u1.exempt, &u1.extra, err, sizeof(err)) == 0,
	           "save A: %s", err);
	v1 = view(&u1);
	units_free(&u1);

	units_new(&u2);
	rc = dw_state_load(a, u2.policy, u2.exempt, &u2.extra, NOW, &r, err, sizeof(err));
	FUZZ_CHECK(rc == 0 && dw_state_dropped(&r) == 0,
	           "the saved file does not load back cleanly: %s", err);
	FUZZ_CHECK(dw_state_save(b, u2.policy, u2.exempt, &u2.extra, err, sizeof(err)) == 0,
	           "save B: %s", err);
	v2 = view(&u2);
	units_free(&u2);
	FUZZ_CHECK(strcmp(v1, v2) == 0, "a save and a load changed the units:\n--- 1\n%s--- 2\n%s",
	           v1, v2);
	free(v1);
	free(v2);

	ra = records(a);
	rb = records(b);
	FUZZ_CHECK(strcmp(ra, rb) == 0, "load-save-load changed the state:\n--- A\n%s--- B\n%s", ra,
	           rb);
	free(ra);
	free(rb);
	return 0;
}
