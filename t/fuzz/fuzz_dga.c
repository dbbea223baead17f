/**
 * \file
 * libFuzzer target: the DGA character model (module/engine/dga.c), which scores
 * labels of names a client chose (NXDOMAIN answers of the `dga` detector).
 *
 * Input: the label's bytes (any bytes, any length; labels of 1..63 bytes
 * are scored). Invariants checked on top of ASan/UBSan, each call on an
 * exactly-sized heap copy so that a read past len is caught:
 * - the score is within 0..DW_DGA_SCORE_MAX, and 0 for len 0 or above 63;
 * - it is a pure function: the same bytes score the same twice;
 * - case does not matter: the label with ASCII letters upper-cased scores
 *   the same.
 */
#include <stdint.h>

#include "dga.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Score an exactly-sized heap copy of data[0..size). */
static unsigned score_copy(const uint8_t *data, size_t size, int upper)
{
	uint8_t *p = malloc(size ? size : 1);
	unsigned s;
	size_t i;

	FUZZ_CHECK(p != NULL, "out of memory");
	for (i = 0; i < size; i++)
		p[i] =
		    (uint8_t)(upper && data[i] >= 'a' && data[i] <= 'z' ? data[i] - 32 : data[i]);
	s = dw_dga_score(size ? p : NULL, size);
	free(p);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned s = score_copy(data, size, 0);

	FUZZ_CHECK(s <= DW_DGA_SCORE_MAX, "score %u above the maximum", s);
	if (size == 0 || size > 63)
		FUZZ_CHECK(s == 0, "len %zu scored %u, not 0", size, s);
	FUZZ_CHECK(score_copy(data, size, 0) == s, "not a pure function");
	FUZZ_CHECK(score_copy(data, size, 1) == s, "upper case scores %u, lower %u",
	           score_copy(data, size, 1), s);
	return 0;
}
