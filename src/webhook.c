/* Webhook signatures: SHA-1 (FIPS 180-4), HMAC-SHA1 (RFC 2104) and a constant-time digest check.
 *
 * Intercom signs each notification with HMAC-SHA1 over the raw body, keyed by the app's client secret, and
 * sends it as `X-Hub-Signature: sha1=<40 hex>`. SHA-1 is implemented here rather than taken from OpenSSL so
 * the core links only libcurl (whose TLS backend varies and need not expose a digest API). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "core.h"

#define IC_SHA1_BLOCK 64
#define IC_SHA1_DIGEST 20

typedef struct {
    uint32_t h[5];
    uint64_t len;                           /* message length so far, in bytes */
    unsigned char buf[IC_SHA1_BLOCK];
    size_t used;                            /* bytes waiting in buf */
} ic_sha1_ctx;

static uint32_t ic_rol32(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void ic_sha1_init(ic_sha1_ctx *c)
{
    c->h[0] = 0x67452301u;
    c->h[1] = 0xEFCDAB89u;
    c->h[2] = 0x98BADCFEu;
    c->h[3] = 0x10325476u;
    c->h[4] = 0xC3D2E1F0u;
    c->len = 0;
    c->used = 0;
}

/* One 512-bit block (FIPS 180-4, 6.1.2). Big-endian loads are written out so alignment never matters. */
static void ic_sha1_block(ic_sha1_ctx *c, const unsigned char *p)
{
    uint32_t w[80], a, b, d, e, f, k, t, cc;
    int i;

    for (i = 0; i < 16; i++)
        w[i] = ((uint32_t)p[4 * i] << 24) | ((uint32_t)p[4 * i + 1] << 16)
             | ((uint32_t)p[4 * i + 2] << 8) | (uint32_t)p[4 * i + 3];
    for (i = 16; i < 80; i++)
        w[i] = ic_rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);

    a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3]; e = c->h[4];
    for (i = 0; i < 80; i++) {
        if (i < 20)      { f = (b & cc) | (~b & d);           k = 0x5A827999u; }
        else if (i < 40) { f = b ^ cc ^ d;                    k = 0x6ED9EBA1u; }
        else if (i < 60) { f = (b & cc) | (b & d) | (cc & d); k = 0x8F1BBCDCu; }
        else             { f = b ^ cc ^ d;                    k = 0xCA62C1D6u; }
        t = ic_rol32(a, 5) + f + e + k + w[i];
        e = d; d = cc; cc = ic_rol32(b, 30); b = a; a = t;
    }
    c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d; c->h[4] += e;
}

static void ic_sha1_update(ic_sha1_ctx *c, const unsigned char *p, size_t n)
{
    c->len += (uint64_t)n;
    if (c->used > 0) {
        size_t take = IC_SHA1_BLOCK - c->used;
        if (take > n) take = n;
        memcpy(c->buf + c->used, p, take);
        c->used += take; p += take; n -= take;
        if (c->used < IC_SHA1_BLOCK) return;
        ic_sha1_block(c, c->buf);
        c->used = 0;
    }
    for (; n >= IC_SHA1_BLOCK; p += IC_SHA1_BLOCK, n -= IC_SHA1_BLOCK)
        ic_sha1_block(c, p);                /* whole blocks straight from the input, no copy */
    if (n > 0) {
        memcpy(c->buf, p, n);
        c->used = n;
    }
}

static void ic_sha1_final(ic_sha1_ctx *c, unsigned char out[IC_SHA1_DIGEST])
{
    uint64_t bits = c->len * 8u;
    int i;

    /* Padding: 0x80, zeros up to 56 mod 64, then the bit length big-endian (FIPS 180-4, 5.1.1). */
    c->buf[c->used++] = 0x80;
    if (c->used > 56) {
        memset(c->buf + c->used, 0, IC_SHA1_BLOCK - c->used);
        ic_sha1_block(c, c->buf);
        c->used = 0;
    }
    memset(c->buf + c->used, 0, 56 - c->used);
    for (i = 0; i < 8; i++)
        c->buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    ic_sha1_block(c, c->buf);

    for (i = 0; i < 5; i++) {
        out[4 * i]     = (unsigned char)(c->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)c->h[i];
    }
}

/* HMAC-SHA1 (RFC 2104): H((K ^ opad) || H((K ^ ipad) || m)), keys longer than a block hashed first. */
static void ic_hmac_sha1(const unsigned char *key, size_t keylen, const unsigned char *msg, size_t msglen,
                         unsigned char out[IC_SHA1_DIGEST])
{
    unsigned char k[IC_SHA1_BLOCK], pad[IC_SHA1_BLOCK], inner[IC_SHA1_DIGEST];
    ic_sha1_ctx c;
    int i;

    memset(k, 0, sizeof k);
    if (keylen > IC_SHA1_BLOCK) {
        ic_sha1_init(&c);
        ic_sha1_update(&c, key, keylen);
        ic_sha1_final(&c, k);
    } else if (keylen > 0) {
        memcpy(k, key, keylen);
    }

    for (i = 0; i < IC_SHA1_BLOCK; i++) pad[i] = (unsigned char)(k[i] ^ 0x36);
    ic_sha1_init(&c);
    ic_sha1_update(&c, pad, IC_SHA1_BLOCK);
    ic_sha1_update(&c, msg, msglen);
    ic_sha1_final(&c, inner);

    for (i = 0; i < IC_SHA1_BLOCK; i++) pad[i] = (unsigned char)(k[i] ^ 0x5c);
    ic_sha1_init(&c);
    ic_sha1_update(&c, pad, IC_SHA1_BLOCK);
    ic_sha1_update(&c, inner, IC_SHA1_DIGEST);
    ic_sha1_final(&c, out);

    /* The padded key is secret material: do not leave it on the stack. */
    memset(k, 0, sizeof k);
    memset(pad, 0, sizeof pad);
}

/* Equal iff all n bytes match; the time taken depends on n only, so a forger learns nothing about how
 * many leading bytes of a guessed signature were right. `volatile` keeps the compiler from turning the
 * loop into an early-exit comparison (the same precaution as OpenSSL's CRYPTO_memcmp). */
static int ic_digest_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
    volatile unsigned char diff = 0;
    size_t i;
    for (i = 0; i < n; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static int ic_hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* "sha1=" + 40 hex digits (either case) -> 20 bytes; 0 for anything else. Only the attacker-supplied
 * header is examined here, so early exits leak nothing about the secret or the expected digest. */
static int ic_parse_signature(const char *s, size_t n, unsigned char out[IC_SHA1_DIGEST])
{
    static const char prefix[] = "sha1=";
    const size_t plen = sizeof prefix - 1;
    size_t i;

    if (n != plen + 2 * IC_SHA1_DIGEST || memcmp(s, prefix, plen) != 0) return 0;
    s += plen;
    for (i = 0; i < IC_SHA1_DIGEST; i++) {
        int hi = ic_hexval((unsigned char)s[2 * i]), lo = ic_hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0) return 0;
        out[i] = (unsigned char)((hi << 4) | lo);
    }
    return 1;
}

/* Strings only: a number would be coerced by luaL_checklstring, and a number body or secret is a bug. */
static const char *ic_checkstring(lua_State *L, int arg, size_t *len)
{
    if (lua_type(L, arg) != LUA_TSTRING)
        luaL_argerror(L, arg, lua_pushfstring(L, "string expected, got %s", luaL_typename(L, arg)));
    return lua_tolstring(L, arg, len);
}

/* hmac_sha1_hex(key, message) -> 40 lowercase hex digits. */
static int ic_hmac_sha1_hex(lua_State *L)
{
    static const char digits[] = "0123456789abcdef";
    size_t klen, mlen;
    const char *key = ic_checkstring(L, 1, &klen);
    const char *msg = ic_checkstring(L, 2, &mlen);
    unsigned char mac[IC_SHA1_DIGEST];
    char hex[2 * IC_SHA1_DIGEST];
    int i;

    ic_hmac_sha1((const unsigned char *)key, klen, (const unsigned char *)msg, mlen, mac);
    for (i = 0; i < IC_SHA1_DIGEST; i++) {
        hex[2 * i] = digits[mac[i] >> 4];
        hex[2 * i + 1] = digits[mac[i] & 0x0f];
    }
    lua_pushlstring(L, hex, sizeof hex);
    return 1;
}

/* webhook_verify(raw_body, signature_header, secret) -> boolean. Raises only on non-string arguments and
 * on an empty secret: an unset secret is a deployment mistake that must not look like forged traffic. */
static int ic_webhook_verify(lua_State *L)
{
    size_t blen, slen, klen;
    const char *body = ic_checkstring(L, 1, &blen);
    const char *sig = ic_checkstring(L, 2, &slen);
    const char *secret = ic_checkstring(L, 3, &klen);
    unsigned char given[IC_SHA1_DIGEST], expected[IC_SHA1_DIGEST];

    if (klen == 0) return luaL_error(L, "webhook secret is empty");
    if (!ic_parse_signature(sig, slen, given)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    ic_hmac_sha1((const unsigned char *)secret, klen, (const unsigned char *)body, blen, expected);
    lua_pushboolean(L, ic_digest_equal(expected, given, IC_SHA1_DIGEST));
    return 1;
}

static const luaL_Reg ic_webhook_funcs[] = {
    {"hmac_sha1_hex", ic_hmac_sha1_hex},
    {"webhook_verify", ic_webhook_verify},
    {NULL, NULL}
};

void ic_webhook_register(lua_State *L)
{
    ic_setfuncs(L, ic_webhook_funcs);
}
