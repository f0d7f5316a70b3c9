/* log.h - leveled logging to stderr, safe from any thread. */
#ifndef WEIR_LOG_H
#define WEIR_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_threshold;

/* Returns the level named <name> ("error", "warn", "info", "debug") or -1. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level l);
/* Names the calling thread in log lines ("main", "w0", ...). */
void log_set_thread(const char *name);

void log_msg(enum log_level l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  do { if (log_threshold >= LOG_INFO) log_msg(LOG_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_threshold >= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

/* A broken invariant: logs with the function name and aborts. */
#define fatalx(...) log_fatal(__func__, __VA_ARGS__)
void log_fatal(const char *func, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
