/*
 * node_cfg.h - the node's command-line configuration (pure: no I/O, no
 * name resolution).  Matches the "Complete CLI Reference" of the reference
 * README: --listen, --bootstrap, --coordinator, --force-coordinator,
 * --minimal, --debug, -h/--help, -V/--version, plus --identity, --json and
 * --log-level.  Flags of later features (dashboard, metrics, relay, chat,
 * connect-by-PeerId) are recognised and refused as "not yet available".
 * Both "--flag VALUE" and "--flag=VALUE" are accepted.
 */
#ifndef NODE_CFG_H
#define NODE_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"

#define NODE_CFG_MAX_LISTEN 4 /* one UDP socket each (NODE_LOOP_MAX_SOCKS) */
#define NODE_CFG_MAX_BOOTSTRAP 16
#define NODE_HOST_MAX 253 /* longest DNS name (RFC 1035 §2.3.4, dots included) */

typedef enum node_log_level {
  NODE_LOG_ERROR = 0,
  NODE_LOG_WARN = 1,
  NODE_LOG_INFO = 2,
  NODE_LOG_DEBUG = 3,
  NODE_LOG_TRACE = 4
} node_log_level;

/** "host:port" as given: an IP literal (parsed) or a DNS name (resolved later). */
typedef struct node_hostport {
  char host[NODE_HOST_MAX + 1]; /* IP text without brackets, or the name */
  uint16_t port;                /* 1..65535 */
  int literal;                  /* 1: addr holds the parsed IP literal */
  aq_addr addr;
} node_hostport;

typedef enum node_cfg_action {
  NODE_CFG_RUN = 0,
  NODE_CFG_HELP = 1,
  NODE_CFG_VERSION = 2
} node_cfg_action;

typedef struct node_cfg {
  node_cfg_action action;
  aq_addr listen[NODE_CFG_MAX_LISTEN]; /* nlisten == 0: [::]:0 dual-stack, else 0.0.0.0:0 */
  size_t nlisten;
  node_hostport bootstrap[NODE_CFG_MAX_BOOTSTRAP];
  size_t nbootstrap;
  int coordinator;           /* offer coordinator (bootstrap) services */
  int force_coordinator;     /* act as a bootstrap node: observe at 63/s, all paths */
  int minimal;               /* terse output: no banner, no decoration */
  int json;                  /* one JSON object per event per line on stdout */
  node_log_level log_level;  /* stderr log threshold (default warn; --debug = debug) */
  const char *identity_path; /* NULL = node_identity_default_path() */
} node_cfg;

/** Defaults: action RUN, no listen/bootstrap, log level warn, everything else off. */
void node_cfg_default(node_cfg *cfg);

/**
 * Parse argv[1..argc-1] into cfg (initialised with node_cfg_default first;
 * argv strings are borrowed: identity_path points into argv).  -h/--help and
 * -V/--version set action and stop parsing.  On error returns
 * AQ_ERR_INVALID_ARGUMENT (unknown flag, missing or bad value, too many
 * values) or AQ_ERR_UNSUPPORTED (a flag of a feature not yet available),
 * with a one-line message (no trailing newline) in err.
 */
AQ_MUST_CHECK int node_cfg_parse(node_cfg *cfg, int argc, char *const *argv, char *err,
                                 size_t errcap);

/**
 * Parse a bootstrap address: "a.b.c.d:port", "[v6]:port" or "name:port"
 * (letters, digits, '-' and '.', labels of 1..63 bytes, the last not all
 * digits).  Port 1..65535 is required.  Returns 0 or AQ_ERR_MALFORMED with a
 * reason in err; *hp is written only on success.
 */
AQ_MUST_CHECK int node_hostport_parse(node_hostport *hp, const char *s, char *err, size_t errcap);

/**
 * Parse a listen address: an IP literal with a port (0 = any free port).
 * Returns 0 or AQ_ERR_MALFORMED with a reason in err; *a untouched on error.
 */
AQ_MUST_CHECK int node_listen_parse(aq_addr *a, const char *s, char *err, size_t errcap);

/** "error", "warn", "info", "debug", "trace" (any case) -> level; AQ_ERR_MALFORMED otherwise. */
AQ_MUST_CHECK int node_log_level_parse(node_log_level *lvl, const char *s);
/** Lower-case name of a level. */
const char *node_log_level_name(node_log_level lvl);

/** The --help text (static, ends with a newline). */
const char *node_cfg_usage_text(void);

#endif
