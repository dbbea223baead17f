/**
 * \file
 * libFuzzer target: the YAML configuration loader (module/engine/conf.c).
 *
 * Input: a whole dnswarden.yaml. dw_conf_load() reads it from a file in the
 * fuzzer's scratch directory. Invariants checked on top of ASan/UBSan (and
 * LeakSanitizer, which libFuzzer runs):
 * - it returns a config or NULL with a non-empty, NUL-terminated,
 *   single-line error;
 * - an accepted config holds only values the header promises (detector
 *   windows, thresholds, IPv6 prefix, keyword and list counts, lists that
 *   are present when counted), and its feature set builds.
 */
#include <stdint.h>

#include "conf.h"
#include "feature.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** What conf.h promises about a loaded config. */
static void check_conf(const struct dw_conf *c)
{
	char err[256];
	struct dw_feature_set *fs;

	FUZZ_CHECK(c->ipv6_prefix >= 32 && c->ipv6_prefix <= 64, "ipv6_prefix %u", c->ipv6_prefix);
	FUZZ_CHECK(c->clients_max >= 1, "clients_max %u", c->clients_max);
	FUZZ_CHECK(c->keyword_count <= DW_CONF_MAX_KEYWORDS, "%zu keywords", c->keyword_count);
	for (size_t i = 0; i < c->keyword_count; i++)
		FUZZ_CHECK(c->keywords[i] != NULL && strlen(c->keywords[i]) >= 1 &&
		               strlen(c->keywords[i]) <= DW_CONF_MAX_KEYWORD,
		           "keyword %zu", i);
	FUZZ_CHECK(c->exempt_count == 0 || c->exempt != NULL, "exempt list missing");
	FUZZ_CHECK(c->wl_static_count == 0 || c->wl_static != NULL, "whitelist.static missing");
	FUZZ_CHECK(c->signature_count == 0 || c->signatures != NULL, "signature list missing");
	for (int d = 0; d < DW_DET_COUNT; d++) {
		const struct dw_detector_conf *dc = &c->det[d];
		FUZZ_CHECK(dc->threshold >= 1, "%s.threshold %u", dw_detector_name(d),
		           dc->threshold);
		FUZZ_CHECK(dc->window >= 1 && dc->window <= 86400, "%s.window %u",
		           dw_detector_name(d), dc->window);
		FUZZ_CHECK((int)dc->action >= 0 && dc->action < DW_ACT_COUNT, "%s.action %d",
		           dw_detector_name(d), (int)dc->action);
	}
	fs = dw_feature_set_new((const char *const *)c->keywords, c->keyword_count,
	                        (const char *const *)c->signatures, c->signature_count, err,
	                        sizeof(err));
	FUZZ_CHECK(fs != NULL, "the loaded config's feature set does not build: %s", err);
	dw_feature_set_free(fs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[PATH_MAX];
	char err[DW_CONF_ERRLEN];
	struct dw_conf *c;

	if (path[0] == '\0')
		fuzz_path("dnswarden.yaml", path, sizeof(path));
	fuzz_write(path, data, size);
	err[0] = '\0';
	c = dw_conf_load(path, err, sizeof(err));
	if (c == NULL) {
		size_t n = strnlen(err, sizeof(err));
		FUZZ_CHECK(n > 0 && n < sizeof(err), "refused without a reason");
		FUZZ_CHECK(strchr(err, '\n') == NULL, "error of more than one line: %s", err);
		return 0;
	}
	FUZZ_CHECK(c->path != NULL && strcmp(c->path, path) == 0, "path not kept");
	check_conf(c);
	dw_conf_free(c);
	return 0;
}
