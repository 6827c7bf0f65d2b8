// AES-256-GCM of one value with OpenSSL's libcrypto (already in every casesync process:
// libcurl links it), for `RecordSealer`. swift-crypto's AES.GCM sets up a new BoringSSL
// context and draws the nonce from the kernel on every call: 2.9 µs a value, more than the
// encryption itself; a device seals and opens one to three values per record it writes or
// pulls. Here the context lives as long as the sealer and the nonce comes from OpenSSL's
// userspace DRBG. Same format as AES.GCM's combined form: nonce (12) || ciphertext || tag (16).
#include <stdint.h>
#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/// A context holding `key` (32 bytes); NULL if OpenSSL refused. Free with crecordcipher_free.
static inline EVP_CIPHER_CTX *crecordcipher_new(const uint8_t *key) {
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    if (context == NULL) return NULL;
    if (EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), NULL, key, NULL) != 1) {
        EVP_CIPHER_CTX_free(context);
        return NULL;
    }
    return context;
}

static inline void crecordcipher_free(EVP_CIPHER_CTX *context) { EVP_CIPHER_CTX_free(context); }

/// Fills `out` with `length` random bytes from OpenSSL's DRBG (nonces, drawn in batches). 1 on success.
static inline int crecordcipher_random(uint8_t *out, size_t length) {
    return length <= INT32_MAX && RAND_bytes(out, (int)length) == 1;
}

/// Seals `length` bytes of `plaintext` with `aad` into `out`, which has room for
/// 12 + length + 16 bytes and holds the value's fresh random nonce in its first 12:
/// the nonce, the ciphertext, the tag. 1 on success.
static inline int crecordcipher_seal(EVP_CIPHER_CTX *context, const uint8_t *aad, size_t aadLength,
                                     const uint8_t *plaintext, size_t length, uint8_t *out) {
    int written = 0;
    if (length > INT32_MAX || aadLength > INT32_MAX) return 0;
    // A NULL cipher keeps the key (and its schedule); 1: encrypt.
    if (EVP_CipherInit_ex(context, NULL, NULL, NULL, out, 1) != 1) return 0;
    if (aadLength > 0 && EVP_CipherUpdate(context, NULL, &written, aad, (int)aadLength) != 1) return 0;
    if (length > 0 && EVP_CipherUpdate(context, out + 12, &written, plaintext, (int)length) != 1) return 0;
    if (EVP_CipherFinal_ex(context, out + 12 + length, &written) != 1) return 0;
    return EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, out + 12 + length) == 1;
}

/// Opens `length` bytes of nonce || ciphertext || tag with `aad` into `out` (room for
/// length - 28 bytes). 1 when the tag verifies, 0 otherwise (nothing in `out` is to be used).
static inline int crecordcipher_open(EVP_CIPHER_CTX *context, const uint8_t *aad, size_t aadLength,
                                     const uint8_t *sealed, size_t length, uint8_t *out) {
    int written = 0;
    if (length < 28 || length > INT32_MAX || aadLength > INT32_MAX) return 0;
    size_t textLength = length - 28;
    // A NULL cipher keeps the key (and its schedule); 0: decrypt.
    if (EVP_CipherInit_ex(context, NULL, NULL, NULL, sealed, 0) != 1) return 0;
    if (aadLength > 0 && EVP_CipherUpdate(context, NULL, &written, aad, (int)aadLength) != 1) return 0;
    if (textLength > 0 && EVP_CipherUpdate(context, out, &written, sealed + 12, (int)textLength) != 1) return 0;
    if (EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, (void *)(sealed + 12 + textLength)) != 1) return 0;
    return EVP_CipherFinal_ex(context, out + textLength, &written) == 1;
}
