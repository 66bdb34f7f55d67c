/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the configuration parser (lib/conf).
 *
 * The input is configuration text. Whatever it is, the parser must not
 * crash, leak or read out of bounds. When it loads:
 *   - applying the same lines one by one with conf_apply_line gives the same
 *     struct (byte for byte) as conf_load_string;
 *   - conf_dump writes text that loads again into a struct equal byte for
 *     byte (conf.c promises memcmp equality, and the app's config_rt.c
 *     relies on it to find what changed);
 *   - dumping that struct again gives the same text (the dump is a fixed point).
 * When it does not load, the struct is untouched and the error is a
 * NUL-terminated "label:line: ..." message, never one where the grammar
 * (conf_grammar.h) and a statement function disagree. Every line also goes
 * through `?` and Tab of the one grammar, names completed from the struct.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_grammar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (64 * 1024)

static void
fail(const char *what, const char *text, const char *detail)
{
	fprintf(stderr, "fuzz_conf: %s\n", what);
	if (detail != NULL)
		fprintf(stderr, "detail: %s\n", detail);
	if (text != NULL)
		fprintf(stderr, "---- text ----\n%s\n---- end ----\n", text);
	abort();
}

/* conf_dump into a malloc'd NUL-terminated string. */
static char *
dump(const struct conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		abort();
	if (conf_dump(c, f) != 0)
		fail("conf_dump failed on a memory stream", NULL, NULL);
	if (fclose(f) != 0)
		abort();
	return buf;
}

/* The first byte that differs between a and b, for the report. */
static void
diff_report(const struct conf *a, const struct conf *b)
{
	const uint8_t *pa = (const uint8_t *)a, *pb = (const uint8_t *)b;
	size_t i;

	for (i = 0; i < sizeof(*a); i++) {
		if (pa[i] != pb[i]) {
			fprintf(stderr, "first difference at offset %zu of struct conf (%zu bytes): "
				"%02x vs %02x\n", i, sizeof(*a), pa[i], pb[i]);
			return;
		}
	}
}

static void
check_err(const char *err)
{
	if (memchr(err, '\0', CONF_ERR_LEN) == NULL)
		fail("error message not NUL-terminated", NULL, NULL);
	if (err[0] == '\0')
		fail("failure without an error message", NULL, NULL);
	if (conf_grammar_disagreements() != 0)
		fail("the grammar refuses a line its statement function takes", NULL, err);
}

/* `LINE ?` and Tab after LINE through the grammar, as the CLI would, with c's names. */
static void
grammar_help(const struct conf *c, const char *line)
{
	static char obuf[1 << 14], req[CLI_CONF_LINE_MAX + 3];
	struct cli_strbuf sb;
	struct cli_out out;

	if (strlen(line) >= CLI_CONF_LINE_MAX)
		return;
	cli_out_strbuf(&out, &sb, obuf, sizeof(obuf));
	(void)cli_complete_ctx(conf_grammar(), line, &out, (void *)c);
	snprintf(req, sizeof(req), "%s ?", line);
	cli_out_strbuf(&out, &sb, obuf, sizeof(obuf));
	if (cli_execute(conf_grammar(), req, &out, (void *)c) != 0 && sb.len == 0)
		fail("a refused `?` without a message", line, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf a, b, c, pristine;
	char err[CONF_ERR_LEN];
	char *text, *d1, *d2, *line;
	struct conf_ctx ctx;
	const char *s;
	bool all_ok = true;

	if (size > FUZZ_MAX_INPUT)
		return -1;
	text = malloc(size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';

	conf_init(&a);
	memcpy(&pristine, &a, sizeof(a));
	memset(err, 0, sizeof(err));
	if (conf_load_string(&a, "fuzz", text, err, sizeof(err)) != 0) {
		check_err(err);
		if (memcmp(&a, &pristine, sizeof(a)) != 0)
			fail("a failed load changed the struct", text, err);
		(void)conf_validate(&a, err, sizeof(err));
		free(text);
		return 0;
	}
	if (conf_validate(&a, err, sizeof(err)) != 0)
		check_err(err);

	/* Line by line, as the CLI applies `set` commands, gives the same result. */
	conf_init(&c);
	conf_ctx_init(&ctx, "fuzz");
	line = malloc(size + 1);
	if (line == NULL)
		abort();
	for (s = text;;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s);

		memcpy(line, s, len);
		line[len] = '\0';
		ctx.line++;
		if (ctx.line <= 8)
			grammar_help(&c, line);
		if (conf_apply_line(&c, &ctx, line, err, sizeof(err)) != 0) {
			all_ok = false;
			break;
		}
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	free(line);
	if (!all_ok)
		fail("conf_load_string accepted text that conf_apply_line refuses", text, err);
	if (memcmp(&a, &c, sizeof(a)) != 0) {
		diff_report(&a, &c);
		fail("conf_apply_line line by line differs from conf_load_string", text, NULL);
	}

	/* Dump, reload: the same struct, and the same text once more. */
	d1 = dump(&a);
	conf_init(&b);
	if (conf_load_string(&b, "dump", d1, err, sizeof(err)) != 0) {
		fprintf(stderr, "---- dump ----\n%s---- end ----\n", d1);
		fail("the dump of a loaded configuration does not load", text, err);
	}
	if (memcmp(&a, &b, sizeof(a)) != 0) {
		fprintf(stderr, "---- dump ----\n%s---- end ----\n", d1);
		diff_report(&a, &b);
		fail("dump + reload is not the same configuration", text, NULL);
	}
	d2 = dump(&b);
	if (strcmp(d1, d2) != 0) {
		fprintf(stderr, "---- dump 1 ----\n%s---- dump 2 ----\n%s---- end ----\n", d1, d2);
		fail("dumping the reloaded configuration gives different text", text, NULL);
	}
	free(d1);
	free(d2);
	free(text);
	return 0;
}
