// SPDX-License-Identifier: GPL-2.0
/*
 * tcpterm_json KEY...: read JSON from stdin, one object per line (as
 * "tcpterm -j" prints it), parse each line strictly with json-c, and
 * print the values of KEY... of each object on one line, separated by
 * spaces.  Exits 1 on a line that is not exactly one JSON object, or on
 * an object without one of the keys; 2 on no input at all.  Static: the
 * test VM has no json-c of its own.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

int main(int argc, char **argv)
{
	char line[65536];
	int lines = 0, i;

	while (fgets(line, sizeof(line), stdin)) {
		struct json_tokener *tok = json_tokener_new();
		struct json_object *obj, *v;
		size_t len = strcspn(line, "\n");

		line[len] = '\0';
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
		obj = json_tokener_parse_ex(tok, line, (int)len + 1);
		if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
		    json_tokener_get_parse_end(tok) < len ||
		    !json_object_is_type(obj, json_type_object)) {
			fprintf(stderr, "tcpterm_json: line %d is not one JSON object: %s\n",
				lines + 1, line);
			return 1;
		}
		json_tokener_free(tok);
		for (i = 1; i < argc; i++) {
			if (!json_object_object_get_ex(obj, argv[i], &v)) {
				fprintf(stderr, "tcpterm_json: line %d has no \"%s\"\n",
					lines + 1, argv[i]);
				return 1;
			}
			printf("%s%s", i > 1 ? " " : "",
			       json_object_is_type(v, json_type_string) ?
			       json_object_get_string(v) :
			       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		}
		printf("\n");
		json_object_put(obj);
		lines++;
	}
	return lines ? 0 : 2;
}
