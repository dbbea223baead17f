/**
 * \file
 * libFuzzer target: the state-file loader (module/state.c with the block
 * list, the exemption changes and the whitelist records it hands lines to).
 *
 * Input: a whole state file. It is loaded into fresh units (block list,
 * exemptions, whitelist), saved (A), loaded again into fresh units and saved
 * again (B). Invariants checked on top of ASan/UBSan and LeakSanitizer:
 * - load returns 0 or -1 (with a reason), never more bad lines than lines;
 * - what a load keeps survives a save and a load unchanged: A and B hold the
 *   same records (compared as sorted lines, since a table's iteration order
 *   may depend on its hash key; the header's saved= time is left out), and
 *   loading A reports no bad line.
 * Small caps (8 blocks, 64 whitelist entries) make the "full" paths reachable.
 */
#include <stdint.h>

#include "conf.h"
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
};

/** Fresh, empty units. */
static void units_new(struct units *u)
{
	char err[256];
	u->policy = dw_policy_new(conf);
	u->exempt = dw_exempt_new(conf);
	u->wl = dw_whitelist_new(conf, err, sizeof(err));
	FUZZ_CHECK(u->policy && u->exempt && u->wl, "units: %s", err);
	u->extra.prefix = "wl";
	u->extra.save = dw_whitelist_state_save;
	u->extra.load_line = dw_whitelist_state_load_line;
	u->extra.arg = u->wl;
}

/** Release the units. */
static void units_free(struct units *u)
{
	dw_policy_free(u->policy);
	dw_exempt_free(u->exempt);
	dw_whitelist_free(u->wl);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char in[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	char err[512];
	struct units u1, u2;
	size_t bad = 0, lines = 1;
	char *ra, *rb;
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
	rc = dw_state_load(in, u1.policy, u1.exempt, &u1.extra, NOW, &bad, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1, "load returned %d", rc);
	FUZZ_CHECK(rc == 0 || err[0] != '\0', "refused without a reason");
	FUZZ_CHECK(bad <= lines, "%zu bad lines of %zu", bad, lines);
	if (rc != 0) {
		units_free(&u1);
		return 0;
	}
	FUZZ_CHECK(dw_state_save(a, u1.policy, u1.exempt, &u1.extra, err, sizeof(err)) == 0,
	           "save A: %s", err);
	units_free(&u1);

	units_new(&u2);
	bad = 0;
	rc = dw_state_load(a, u2.policy, u2.exempt, &u2.extra, NOW, &bad, err, sizeof(err));
	FUZZ_CHECK(rc == 0 && bad == 0, "the saved file does not load back cleanly: %s", err);
	FUZZ_CHECK(dw_state_save(b, u2.policy, u2.exempt, &u2.extra, err, sizeof(err)) == 0,
	           "save B: %s", err);
	units_free(&u2);

	ra = records(a);
	rb = records(b);
	FUZZ_CHECK(strcmp(ra, rb) == 0, "load-save-load changed the state:\n--- A\n%s--- B\n%s", ra,
	           rb);
	free(ra);
	free(rb);
	return 0;
}
