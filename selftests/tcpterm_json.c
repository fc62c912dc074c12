// SPDX-License-Identifier: GPL-2.0
/*
 * tcpterm_json KEY...: read JSON from stdin, one object or one array of
 * objects per line (as "tcpterm -j" prints them), parse each line
 * strictly with json-c, and print the values of KEY... of each object on
 * one line, separated by spaces (an empty array prints nothing).  Exits 1
 * on a line that is not exactly one JSON object or array of objects, or
 * on an object without one of the keys; 2 on no input at all.  Static:
 * the test VM has no json-c of its own.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

/* KEY... of one object, on one line; 1 if one of them is missing. */
static int print_keys(struct json_object *obj, int argc, char **argv,
		      int line)
{
	struct json_object *v;
	int i;

	if (!json_object_is_type(obj, json_type_object)) {
		fprintf(stderr, "tcpterm_json: line %d: not an object\n", line);
		return 1;
	}
	for (i = 1; i < argc; i++) {
		if (!json_object_object_get_ex(obj, argv[i], &v)) {
			fprintf(stderr, "tcpterm_json: line %d has no \"%s\"\n",
				line, argv[i]);
			return 1;
		}
		printf("%s%s", i > 1 ? " " : "",
		       json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) :
		       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	}
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	char line[65536];
	int lines = 0;
	size_t i;

	while (fgets(line, sizeof(line), stdin)) {
		struct json_tokener *tok = json_tokener_new();
		struct json_object *obj;
		size_t len = strcspn(line, "\n");

		line[len] = '\0';
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
		obj = json_tokener_parse_ex(tok, line, (int)len + 1);
		if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
		    json_tokener_get_parse_end(tok) < len ||
		    !(json_object_is_type(obj, json_type_object) ||
		      json_object_is_type(obj, json_type_array))) {
			fprintf(stderr, "tcpterm_json: line %d is not one JSON object or array: %s\n",
				lines + 1, line);
			return 1;
		}
		json_tokener_free(tok);
		lines++;
		if (json_object_is_type(obj, json_type_object)) {
			if (print_keys(obj, argc, argv, lines))
				return 1;
		} else {
			for (i = 0; i < json_object_array_length(obj); i++)
				if (print_keys(json_object_array_get_idx(obj, i),
					       argc, argv, lines))
					return 1;
		}
		json_object_put(obj);
	}
	return lines ? 0 : 2;
}
