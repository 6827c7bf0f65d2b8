#ifndef CKEYRING_SHIM_H
#define CKEYRING_SHIM_H

// The Linux kernel key retention service (keyrings(7)) through its system calls: `syscall`
// is variadic, which Swift cannot call, and libkeyutils is one more package to install for
// four calls. Each wrapper returns what the system call returns (-1 with errno on failure).
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/keyctl.h>

/// The serial number of the calling process's session keyring, without creating one: the
/// login session's (pam_keyinit), or else the user's session keyring, which every process
/// of the user shares. (Creating one would make a keyring that dies with the process.)
static inline long ckeyring_session(void) {
    return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}

/// Adds (or updates) a "user" key named `description` holding `payload` in keyring
/// `keyring`; returns its serial number.
static inline long ckeyring_add(long keyring, const char *description, const void *payload, size_t length) {
    return syscall(SYS_add_key, "user", description, payload, length, (int32_t)keyring);
}

/// The serial number of the "user" key named `description` in keyring `keyring`.
static inline long ckeyring_search(long keyring, const char *description) {
    return syscall(SYS_keyctl, KEYCTL_SEARCH, (int32_t)keyring, "user", description, 0);
}

/// Reads key `key`'s payload into `buffer`; returns the payload's full length.
static inline long ckeyring_read(long key, void *buffer, size_t length) {
    return syscall(SYS_keyctl, KEYCTL_READ, (int32_t)key, buffer, length);
}

/// Lets the kernel destroy key `key` `seconds` from now (0: never).
static inline long ckeyring_set_timeout(long key, unsigned seconds) {
    return syscall(SYS_keyctl, KEYCTL_SET_TIMEOUT, (int32_t)key, seconds);
}

/// Gives key `key` to its possessor and to processes of its owner's user id (the default
/// lets the owner only view it: a process outside the session could not read it back).
static inline long ckeyring_set_owner_only(long key) {
    return syscall(SYS_keyctl, KEYCTL_SETPERM, (int32_t)key, (uint32_t)0x3f3f0000);
}

/// Revokes key `key` at once: its payload is gone, every later read fails.
static inline long ckeyring_revoke(long key) {
    return syscall(SYS_keyctl, KEYCTL_REVOKE, (int32_t)key);
}

/// Removes key `key` from keyring `keyring`.
static inline long ckeyring_unlink(long key, long keyring) {
    return syscall(SYS_keyctl, KEYCTL_UNLINK, (int32_t)key, (int32_t)keyring);
}

#endif
