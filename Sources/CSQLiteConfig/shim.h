#ifndef CSQLITECONFIG_SHIM_H
#define CSQLITECONFIG_SHIM_H

// SQLite's process-wide settings (`sqlite3_config`), whose variadic C signature Swift does
// not import.
#include <sqlite3.h>

/// Turns off SQLite's memory statistics, which nothing here reads: with them on, every
/// allocation and free SQLite makes (several for each row a statement writes) takes a
/// process-wide mutex. Only takes effect before SQLite is first used in the process;
/// returns SQLITE_OK, or SQLITE_MISUSE when it came too late (nothing changes then).
static inline int csqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
