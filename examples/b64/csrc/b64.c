#include "b64.h"

#define STR2(x) #x
#define STR(x) STR2(x)

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const char *b64_version(void) { return STR(B64_VERSION_MAJOR) "." STR(B64_VERSION_MINOR); }

int b64_encode(const uint8_t *in, size_t in_len, char *out, size_t *out_len) {
    size_t need = (in_len + 2) / 3 * 4;
    if (*out_len < need) {
        *out_len = need;
        return B64_BUFFER_TOO_SMALL;
    }
    size_t o = 0;
    for (size_t i = 0; i < in_len; i += 3) {
        uint32_t n = (uint32_t)in[i] << 16;
        if (i + 1 < in_len) n |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < in_len) n |= in[i + 2];
        out[o++] = ALPHABET[(n >> 18) & 63];
        out[o++] = ALPHABET[(n >> 12) & 63];
        out[o++] = i + 1 < in_len ? ALPHABET[(n >> 6) & 63] : '=';
        out[o++] = i + 2 < in_len ? ALPHABET[n & 63] : '=';
    }
    *out_len = o;
    return B64_OK;
}

static int value_of(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int b64_decode(const char *in, size_t in_len, uint8_t *out, size_t *out_len) {
    if (in_len % 4 != 0) return B64_INVALID_INPUT;
    size_t pad = 0;
    if (in_len >= 1 && in[in_len - 1] == '=') pad++;
    if (in_len >= 2 && in[in_len - 2] == '=') pad++;
    size_t need = in_len / 4 * 3 - pad;
    for (size_t i = 0; i < in_len - pad; i++)
        if (value_of(in[i]) < 0) return B64_INVALID_INPUT;
    if (*out_len < need) {
        *out_len = need;
        return B64_BUFFER_TOO_SMALL;
    }
    size_t o = 0;
    for (size_t i = 0; i < in_len; i += 4) {
        uint32_t n = 0;
        for (int k = 0; k < 4; k++) {
            char c = in[i + k];
            n = (n << 6) | (uint32_t)(c == '=' ? 0 : value_of(c));
        }
        if (o < need) out[o++] = (uint8_t)(n >> 16);
        if (o < need) out[o++] = (uint8_t)(n >> 8);
        if (o < need) out[o++] = (uint8_t)n;
    }
    *out_len = o;
    return B64_OK;
}
