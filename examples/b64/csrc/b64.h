/* b64: base64 with a stable C ABI.
 *
 * Conventions: every function returns B64_OK (0) on success or a status
 * code; output goes to a caller-allocated buffer whose capacity the caller
 * passes in *out_len. On B64_BUFFER_TOO_SMALL, *out_len is set to the
 * length required and nothing else is written. */
#ifndef B64_H
#define B64_H

#include <stddef.h>
#include <stdint.h>

#define B64_OK 0
#define B64_BUFFER_TOO_SMALL 1
#define B64_INVALID_INPUT 2

#define B64_VERSION_MAJOR 1
#define B64_VERSION_MINOR 2

/* The library's version, "MAJOR.MINOR". */
const char *b64_version(void);

/* Encodes in[0..in_len) as base64 text (no NUL terminator written). */
int b64_encode(const uint8_t *in, size_t in_len, char *out, size_t *out_len);

/* Decodes base64 text in[0..in_len); padding is required. */
int b64_decode(const char *in, size_t in_len, uint8_t *out, size_t *out_len);

#endif
