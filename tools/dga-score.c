/**
 * \file
 * dga-score — print dw_dga_score() of each label read from standard input,
 * one label a line ("SCORE LABEL"). A development tool for tools/dev/eval-dga
 * and for looking at the model; lines longer than 63 bytes score 0 as in the
 * module. Exits 1 on a read error.
 */
#include <stdio.h>
#include <string.h>

#include "dga.h"

int main(void)
{
	char line[1024];

	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t n = strcspn(line, "\r\n");

		line[n] = '\0';
		printf("%u %s\n", dw_dga_score((const uint8_t *)line, n), line);
	}
	if (ferror(stdin)) {
		perror("dga-score: standard input");
		return 1;
	}
	return 0;
}
