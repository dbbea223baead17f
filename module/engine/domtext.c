/**
 * \file
 * A domain name as an operator types it (domtext.h).
 */
#include "domtext.h"

/** Check and normalise one typed domain name (domtext.h). */
int dw_domain_text(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, label = 0;
	int labels = 1;

	if (!s || !out)
		return -1;
	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > DW_DOMTEXT_MAX || n >= outlen)
		return -1;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '.') {
			if (label == 0)
				return -1;
			label = 0;
			labels++;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		           ch == '_') {
			label++;
		} else if (ch >= 'A' && ch <= 'Z') {
			ch = (char)(ch - 'A' + 'a');
			label++;
		} else {
			return -1;
		}
		if (label > 63)
			return -1;
		out[i] = ch;
	}
	if (label == 0)
		return -1;
	out[n] = '\0';
	return labels;
}
