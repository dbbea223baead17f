/**
 * \file
 * libFuzzer target: the control request parser and every command handler
 * (module/engine/control_request.c, module/engine/commands.c), without a socket.
 *
 * An engine is built once, in the first call, from the default config with
 * no control socket, no state file and the incident database in the
 * scratch directory (dw_engine_new(); its thread is not
 * started, so handlers run here as they would on the module's thread). Each
 * input is one request as a client sends it: bytes up to the first newline
 * (a request line longer than DW_CONTROL_MAX_LINE is refused before parsing,
 * as the server does). The engine keeps what earlier inputs did (blocks,
 * exemptions), so sequences of commands are explored too; two clients
 * (10.1.2.3, 2001:db8::7) have counted MX queries before the first input.
 * Invariants checked on top of ASan/UBSan: the answer is "ok\n" plus a body,
 * or exactly one line "error 1|2 MESSAGE\n" of printable ASCII; a JSON
 * answer is one line ending in "}\n"; a plain body has no NUL byte.
 */
#include <stdint.h>

#include "commands.h"
#include "conf.h"
#include "control.h"
#include "engine.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dw_engine *engine;
static const struct dw_command *cmds;
static size_t ncmds;

/** Log lines go nowhere (but are formatted, as in the module). */
static void log_nothing(void *arg, int prio, const char *line)
{
	(void)arg, (void)prio, (void)line;
}

/** The engine the handlers act on, built once. */
static void setup(void)
{
	static char yaml[PATH_MAX], dbpath[PATH_MAX];
	static const char text[] = "mode: enforce\n";
	char err[1024];
	struct dw_conf *conf;

	fuzz_path("dnswarden.yaml", yaml, sizeof(yaml));
	fuzz_write(yaml, text, sizeof(text) - 1);
	conf = dw_conf_load(yaml, err, sizeof(err)); /* what `reload` reads again */
	FUZZ_CHECK(conf != NULL, "config: %s", err);
	free(conf->state_file);
	conf->state_file = NULL;
	free(conf->control_socket);
	conf->control_socket = NULL;
	/* the incident history in the scratch directory, so `incidents` and
	 * its filters reach SQLite (the default path may not exist, or may be
	 * a real one) */
	free(conf->incidents_database);
	conf->incidents_database = strdup(fuzz_path("incidents.db", dbpath, sizeof(dbpath)));
	FUZZ_CHECK(conf->incidents_database != NULL, "out of memory");
	engine = dw_engine_new(conf, log_nothing, NULL, err, sizeof(err));
	FUZZ_CHECK(engine != NULL, "engine: %s", err);
	cmds = dw_commands(&ncmds);
	/* clients with counters, so show_client and the lists have something */
	for (unsigned i = 0; i < 400; i++) {
		static const uint8_t mx[] = "\003d17\006victim\003lab";
		struct dw_query q = {.qname = mx, .qname_len = sizeof(mx), .qtype = 15};
		dw_addr_parse(i % 2 ? "10.1.2.3" : "2001:db8::7", &q.client);
		dw_engine_observe(engine, &q);
	}
}

/** Check the shape of one response. */
static void check_response(const char *r, size_t len, int json)
{
	FUZZ_CHECK(len >= 3 && r[len - 1] == '\n', "response of %zu bytes without final newline",
	           len);
	if (strncmp(r, "ok\n", 3) == 0) {
		if (json)
			FUZZ_CHECK(len >= 5 && r[3] == '{' && r[len - 2] == '}' &&
			               memchr(r + 3, '\n', len - 4) == NULL,
			           "JSON answer is not one object on one line: %.200s", r);
		else
			FUZZ_CHECK(memchr(r, '\0', len) == NULL, "NUL byte in a plain answer");
		return;
	}
	FUZZ_CHECK(strncmp(r, "error 1 ", 8) == 0 || strncmp(r, "error 2 ", 8) == 0,
	           "answer is neither ok nor error: %.200s", r);
	for (size_t i = 0; i + 1 < len; i++)
		FUZZ_CHECK((unsigned char)r[i] >= 0x20 && (unsigned char)r[i] < 0x7f,
		           "error line has byte %#x at %zu", (unsigned char)r[i], i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[DW_CONTROL_MAX_LINE];
	const uint8_t *nl;
	size_t len, rlen = 0;
	char *resp;
	int json;

	if (engine == NULL)
		setup();
	nl = memchr(data, '\n', size);
	len = nl ? (size_t)(nl - data) : size;
	if (len >= sizeof(line))
		return 0; /* the server answers "request line too long" without parsing */
	memcpy(line, data, len);
	line[len] = '\0';
	json = strncmp(line, "DWCTL1 --json ", 14) == 0;
	resp = dw_control_request(cmds, ncmds, engine, 0, line, len, 0, &rlen);
	FUZZ_CHECK(resp != NULL, "no response");
	check_response(resp, rlen, json);
	free(resp);
	return 0;
}
