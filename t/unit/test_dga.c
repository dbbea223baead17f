/**
 * \file
 * Unit tests for module/engine/dga.c: the DGA character model (dga.h). Exact edge
 * cases of dw_dga_score() (lengths 1 and 63, digits, hyphens, case,
 * non-letters, IDN A-labels, hostile bytes) on exactly-sized heap copies so
 * that ASan sees any read past len, then the separation of the extracts of
 * nDPI's DGA and benign lists (t/data/dga/, directory given as argv[1]) at
 * the shipped threshold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dga.h"
#include "tap.h"

/** Score len bytes through an exactly-sized heap copy. */
static unsigned Sn(const void *s, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	unsigned r;

	if (p == NULL)
		exit(2);
	memcpy(p, s, n);
	r = dw_dga_score(p, n);
	free(p);
	return r;
}

/** Score a C string. */
static unsigned S(const char *s)
{
	return Sn(s, strlen(s));
}

/** Check an exact score and print it on failure. */
static void is_score(const char *label, unsigned want, const char *why)
{
	unsigned got = S(label);

	if (!ok(got == want, "%s: '%s' scores %u", why, label, want))
		printf("#   got %u\n", got);
}

/** Generated and benign counts above the threshold among the first labels
 * of the names in file dir/name; exits 2 on a missing or tiny file. */
static void count_file(const char *dir, const char *name, unsigned *above, unsigned *total)
{
	char path[4096], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (f == NULL) {
		printf("Bail out! cannot read %s\n", path);
		exit(2);
	}
	*above = *total = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, ".\r\n");

		if (n == 0)
			continue;
		(*total)++;
		if (Sn(line, n) > DW_DGA_THRESHOLD)
			(*above)++;
	}
	fclose(f);
	if (*total < 300) {
		printf("Bail out! %s has only %u names\n", path, *total);
		exit(2);
	}
}

/** Exact scores at the edges of the input space. */
static void edges(void)
{
	uint8_t buf[64];
	unsigned i;

	is_int(dw_dga_score(NULL, 5), 0, "NULL label scores 0");
	is_int(dw_dga_score((const uint8_t *)"abc", 0), 0, "len 0 scores 0");
	memset(buf, 'q', sizeof(buf));
	is_int(dw_dga_score(buf, 64), 0, "len 64 (not a label) scores 0");
	is_int(Sn(buf, 63), DW_DGA_SCORE_MAX, "63 x 'q' scores the maximum");
	/* Symbols with a fixed cost: (5 bits - 3.5 bits) + 30 bits over 100 bits. */
	is_score("7", 315, "len 1, one digit");
	is_score("-", 300, "only a hyphen: nothing scored, the neutral 300");
	is_score("xn--", 300, "an A-label prefix alone: nothing scored");
	is_score("xn--80aaaavwmfs0at8bxfzbg", 300, "an all-encoded A-label: nothing scored");
	ok(S("xn--caf-dma") < 400, "A-label 'xn--caf-dma' (cafe) scores only its basic 'caf': %u",
	   S("xn--caf-dma"));
	ok(S("a") <= DW_DGA_THRESHOLD, "len 1 letter 'a' is not generated: %u", S("a"));
	ok(S("q") <= DW_DGA_THRESHOLD, "len 1 letter 'q' is not generated: %u", S("q"));
	is_int(S("WIKIPEDIA"), S("wikipedia"), "upper case is folded");
	is_int(S("StackOverflow"), S("stackoverflow"), "mixed case is folded");
	ok(S("stack-overflow") <= DW_DGA_THRESHOLD, "a hyphen between words: %u",
	   S("stack-overflow"));
	ok(S("mail2") <= DW_DGA_THRESHOLD && S("web01") <= DW_DGA_THRESHOLD,
	   "a word with a trailing number is not generated: mail2 %u web01 %u", S("mail2"),
	   S("web01"));
	ok(S("a1b2c3d4e5f6g7h8") > DW_DGA_THRESHOLD, "letters and digits alternating: %u",
	   S("a1b2c3d4e5f6g7h8"));
	ok(S("x7kq9zv2mw4p") > S("x7kq9z"), "a longer random label scores more: %u > %u",
	   S("x7kq9zv2mw4p"), S("x7kq9z"));
	/* Every byte that is not a letter or '-' costs like a digit. */
	is_int(Sn("\0", 1), S("7"), "a NUL byte costs like a digit");
	is_int(Sn("\xff", 1), S("7"), "byte 0xff costs like a digit");
	is_int(S("_"), S("7"), "'_' costs like a digit");
	memset(buf, 0xff, sizeof(buf));
	is_int(Sn(buf, 63), DW_DGA_SCORE_MAX, "63 hostile bytes score the maximum");
	memset(buf, '-', sizeof(buf));
	is_int(Sn(buf, 63), 300, "63 hyphens: nothing scored");
	/* Every byte value in every position of a short label, and random
	 * 1..63 byte labels: in range, no read past len (ASan). */
	{
		unsigned bad = 0, seed = 12345;

		for (i = 0; i < 256; i++) {
			uint8_t l[3] = {(uint8_t)i, (uint8_t)(255 - i), (uint8_t)(i * 7)};

			bad += Sn(l, 1) > DW_DGA_SCORE_MAX || Sn(l, 3) > DW_DGA_SCORE_MAX;
		}
		for (i = 0; i < 20000; i++) {
			size_t n = 1 + (seed >> 8) % 63, j;

			for (j = 0; j < n; j++) {
				seed = seed * 1103515245u + 12345u;
				buf[j] = (uint8_t)(seed >> 16);
			}
			bad += Sn(buf, n) > DW_DGA_SCORE_MAX;
		}
		is_int(bad, 0, "random and all-byte labels score within 0..DW_DGA_SCORE_MAX");
	}
}

/** The word segmentation: five or more dictionary words in a label of 20+
 * letters is a dictionary DGA's sign; fewer words, a shorter label or a
 * label broken by hyphens is not. */
static void dictionary(void)
{
	static const char *const dict_dga[] = {"conditionhopeclaimstudyaffect",
	                                       "structureprayriskrewardturn",
	                                       "kingstrugglerunestimatetower"};
	size_t i;

	for (i = 0; i < sizeof(dict_dga) / sizeof(dict_dga[0]); i++)
		ok(S(dict_dga[i]) > DW_DGA_THRESHOLD, "five dictionary words '%s' score %u > %u",
		   dict_dga[i], S(dict_dga[i]), DW_DGA_THRESHOLD);
	ok(S("conditionhopeclaimstudy") <= DW_DGA_THRESHOLD,
	   "four dictionary words are a chosen name's length: %u", S("conditionhopeclaimstudy"));
	ok(S("whispersinthecorridors") <= DW_DGA_THRESHOLD,
	   "a chosen four-word name (\"in\" is no 3-letter word) stays under: %u",
	   S("whispersinthecorridors"));
	ok(S("condition-hope-claim-study-affect") <= DW_DGA_THRESHOLD,
	   "hyphens between the words: no segmentation bonus: %u",
	   S("condition-hope-claim-study-affect"));
	is_int(S("ConditionHopeClaimStudyAffect"), S("conditionhopeclaimstudyaffect"),
	       "the segmentation folds case");
	ok(S("conditionhopeclaimstudyaffect") > S("conditionhopeclaimstudyaffecq") + 200,
	   "one letter off a word loses the bonus: %u vs %u", S("conditionhopeclaimstudyaffect"),
	   S("conditionhopeclaimstudyaffecq"));
}

int main(int argc, char **argv)
{
	static const char *const chosen[] = {"google", "wikipedia", "amazon",        "university",
	                                     "mail",   "facebook",  "stackoverflow", "weather",
	                                     "debian", "nlnetlabs"};
	static const char *const generated[] = {"kq0qw6o2siwq", "ufmkdjyvfkl", "hwevqwlocbvmrjdor",
	                                        "mqjjotwswxiy", "vsskkodkqk",  "lfbsyycrbllx"};
	unsigned tp, nd, fp, nb;
	size_t i;

	if (argc != 2) {
		printf("Bail out! usage: test_dga DATADIR (t/data/dga)\n");
		return 2;
	}
	edges();
	dictionary();
	for (i = 0; i < sizeof(chosen) / sizeof(chosen[0]); i++)
		ok(S(chosen[i]) <= DW_DGA_THRESHOLD, "chosen '%s' scores %u <= %u", chosen[i],
		   S(chosen[i]), DW_DGA_THRESHOLD);
	for (i = 0; i < sizeof(generated) / sizeof(generated[0]); i++)
		ok(S(generated[i]) > DW_DGA_THRESHOLD, "generated '%s' scores %u > %u",
		   generated[i], S(generated[i]), DW_DGA_THRESHOLD);

	/* The extracts: the numbers eval-dga gives on the full lists, with a
	 * little slack for the sample (234/338 and 11/338 when written). */
	count_file(argv[1], "dga.txt", &tp, &nd);
	count_file(argv[1], "benign.txt", &fp, &nb);
	printf("# extracts at threshold %u: %u of %u generated, %u of %u benign above\n",
	       DW_DGA_THRESHOLD, tp, nd, fp, nb);
	ok(tp * 100 >= nd * 65, "recall on the DGA extract >= 0.65 (%u/%u)", tp, nd);
	ok(tp * 100 >= (tp + fp) * 95, "precision on the extracts >= 0.95 (%u/%u)", tp, tp + fp);
	ok(fp * 100 <= nb * 4, "at most 4%% of the benign extract above (%u/%u)", fp, nb);
	return done_testing();
}
