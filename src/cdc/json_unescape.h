/*
 * JSON string literals of a queue line, for parsing very long lines without a
 * second copy of their values (cdc/event.c): find a literal's end, and turn
 * its escaped body into the string it denotes in place, exactly as cJSON
 * 1.7 decodes it (the same refusals, \u0000 giving a NUL byte, and an invalid
 * hex digit in \uXXXX read as 0, as cJSON's parse_hex4 does).
 */
#ifndef VOYAGER_CDC_JSON_UNESCAPE_H
#define VOYAGER_CDC_JSON_UNESCAPE_H

#include <stddef.h>

/*
 * s[0..len) starts right after a literal's opening quote: the offset of its
 * closing quote, or (size_t)-1 when the literal does not end within len.
 */
size_t json_literal_end(const char *s, size_t len);

/*
 * Decode the literal body s[0..len) (the text between the quotes) in place:
 * the result is never longer. Returns its length and writes a NUL after it
 * (at s[len] at the latest: the closing quote's place), or (size_t)-1 when
 * cJSON would refuse the literal (an unknown escape, a broken surrogate
 * pair); s is then partly decoded.
 */
size_t json_unescape_in_place(char *s, size_t len);

#endif
