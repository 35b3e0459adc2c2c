/* rec_input.c: the input loop of a filter (rec_each) and records kept
 * past it (RecHeld). Reads the files or stdin it is given; writes only
 * messages on stderr. */
#include <string.h>

#include "rec_input.h"
#include "util.h"

int
rec_each(int nfiles, char *const *files, int strict, RecFn *fn, void *ctx)
{
	int status = 0;

	for (int i = 0; i < (nfiles ? nfiles : 1) && !(strict && status); i++) {
		const char *path = nfiles ? files[i] : "-";
		int isstdin = !strcmp(path, "-");
		FILE *f = isstdin ? stdin : fopen(path, "rb");
		RecReader *r;
		Rec rec;
		int st;

		if (!f) {
			warn("%s:", path);
			status = 1;
			continue;
		}
		r = rec_reader_new(f, isstdin ? "stdin" : path);
		while ((st = rec_read(r, &rec)) > 0)
			if (!fn(&rec, ctx)) {
				rec_report(&rec);
				status = 1;
				if (strict)
					break;
			}
		if (st < 0)
			status = 1;
		rec_reader_free(r);
		if (!isstdin)
			fclose(f);
	}
	return status;
}

void
rec_held_init(RecHeld *h)
{
	msgpack_sbuffer_init(&h->sb);
	msgpack_unpacked_init(&h->up);
}

void
rec_hold(RecHeld *h, const Rec *rec)
{
	msgpack_packer pk;
	msgpack_object o = { .type = MSGPACK_OBJECT_MAP, .via.map = *rec->map };

	msgpack_sbuffer_clear(&h->sb);
	msgpack_packer_init(&pk, &h->sb, msgpack_sbuffer_write);
	msgpack_pack_object(&pk, o);
	h->rec = *rec;
}

const Rec *
rec_unhold(RecHeld *h)
{
	msgpack_unpacked_destroy(&h->up);
	msgpack_unpacked_init(&h->up);
	ENSURE(msgpack_unpack_next(&h->up, h->sb.data, h->sb.size, NULL) == MSGPACK_UNPACK_SUCCESS);
	h->rec.map = &h->up.data.via.map;
	return &h->rec;
}
