/* outname.c: file names for records (see outname.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "outname.h"
#include "util.h"

void
outname(char *out, size_t cap, const char *id, const char *prefix, size_t index)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t n = strlen(id), i;

	ENSURE(cap >= 240);
	if (prefix) {
		snprintf(out, cap, "%.200s-%03zu", prefix, index);
		return;
	}
	if (!n) {
		snprintf(out, cap, "record");
		return;
	}
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)id[i]) * 0x100000001b3ull;
	for (i = 0; i < n && i < 200; i++) {
		char c = id[i];
		out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || (c == '.' && i) ? c : '_';
	}
	out[i] = '\0';
	if (n > 200)
		snprintf(out + i, cap - i, "-%016llx", (unsigned long long)h);
}
