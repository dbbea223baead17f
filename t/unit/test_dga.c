/**
 * \file
 * Unit tests for module/dga.c: the DGA character model (dga.h). Edge cases
 * of dw_dga_score() on exactly-sized heap copies (ASan sees any read past
 * len), and the separation of generated and chosen labels at the shipped
 * threshold.
 */
#include <stdlib.h>
#include <string.h>

#include "dga.h"
#include "tap.h"

/** Score a C string through an exactly-sized heap copy. */
static unsigned S(const char *s)
{
	size_t n = strlen(s);
	uint8_t *p = malloc(n ? n : 1);
	unsigned r;

	if (p == NULL)
		exit(2);
	memcpy(p, s, n);
	r = dw_dga_score(p, n);
	free(p);
	return r;
}

int main(void)
{
	static const char *const chosen[] = {"google", "wikipedia", "amazon", "university",
	                                     "mail", "facebook", "stackoverflow", "weather"};
	static const char *const generated[] = {"kq0qw6o2siwq", "ufmkdjyvfkl", "hwevqwlocbvmrjdor",
	                                        "mqjjotwswxiy", "vsskkodkqk", "lfbsyycrbllx"};
	size_t i;

	is_int(dw_dga_score(NULL, 5), 0, "NULL label scores 0");
	is_int(dw_dga_score((const uint8_t *)"abc", 0), 0, "empty label scores 0");
	is_int(dw_dga_score((const uint8_t *)"abc", 64), 0, "len 64 scores 0");
	for (i = 0; i < sizeof(chosen) / sizeof(chosen[0]); i++)
		ok(S(chosen[i]) <= DW_DGA_THRESHOLD, "chosen '%s' scores %u <= %u", chosen[i],
		   S(chosen[i]), DW_DGA_THRESHOLD);
	for (i = 0; i < sizeof(generated) / sizeof(generated[0]); i++)
		ok(S(generated[i]) > DW_DGA_THRESHOLD, "generated '%s' scores %u > %u", generated[i],
		   S(generated[i]), DW_DGA_THRESHOLD);
	is_int(S("Wikipedia"), S("wikipedia"), "upper case is folded");
	return done_testing();
}
