/* node_cfg.c - command-line flags of the ant-quic node (pure parsing). */
#include "node_cfg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum flag_id {
  F_LISTEN,
  F_BOOTSTRAP,
  F_COORDINATOR,
  F_FORCE_COORDINATOR,
  F_MINIMAL,
  F_DEBUG,
  F_HELP,
  F_VERSION,
  F_IDENTITY,
  F_JSON,
  F_LOG_LEVEL,
  F_LATER /* reserved for a later feature */
};

static const struct flag {
  const char *name; /* without the leading "--" */
  char short_name;  /* 0 = none */
  int takes_value;
  enum flag_id id;
  const char *later; /* F_LATER: the feature, for the message */
} flags[] = {
    {"listen", 0, 1, F_LISTEN, NULL},
    {"bootstrap", 0, 1, F_BOOTSTRAP, NULL},
    {"coordinator", 0, 0, F_COORDINATOR, NULL},
    {"force-coordinator", 0, 0, F_FORCE_COORDINATOR, NULL},
    {"minimal", 0, 0, F_MINIMAL, NULL},
    {"debug", 0, 0, F_DEBUG, NULL},
    {"help", 'h', 0, F_HELP, NULL},
    {"version", 'V', 0, F_VERSION, NULL},
    {"identity", 0, 1, F_IDENTITY, NULL},
    {"json", 0, 0, F_JSON, NULL},
    {"log-level", 0, 1, F_LOG_LEVEL, NULL},
    {"dashboard", 0, 0, F_LATER, "the statistics dashboard"},
    {"dashboard-interval", 0, 1, F_LATER, "the statistics dashboard"},
    {"metrics-port", 0, 1, F_LATER, "metrics export"},
    {"connect", 0, 1, F_LATER, "connecting to a PeerId through a coordinator"},
    {"peer", 0, 1, F_LATER, "connecting to a PeerId through a coordinator"},
    {"nickname", 0, 1, F_LATER, "chat"},
    {"chat", 0, 0, F_LATER, "chat"},
    {"relay", 0, 0, F_LATER, "relaying"},
    {"nat-traversal", 0, 0, F_LATER, "NAT traversal (hole punching)"},
};

static void set_err(char *err, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errcap, const char *fmt, ...) {
  va_list ap;
  if (err == NULL || errcap == 0) {
    return;
  }
  va_start(ap, fmt);
  vsnprintf(err, errcap, fmt, ap);
  va_end(ap);
}

void node_cfg_default(node_cfg *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->action = NODE_CFG_RUN;
  cfg->log_level = NODE_LOG_WARN;
}

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

int node_log_level_parse(node_log_level *lvl, const char *s) {
  for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
    if (strcasecmp(s, level_names[i]) == 0) {
      *lvl = (node_log_level)i;
      return 0;
    }
  }
  if (strcasecmp(s, "warning") == 0) {
    *lvl = NODE_LOG_WARN;
    return 0;
  }
  return AQ_ERR_MALFORMED;
}

const char *node_log_level_name(node_log_level lvl) {
  size_t i = (size_t)lvl;
  return i < sizeof(level_names) / sizeof(level_names[0]) ? level_names[i] : "?";
}

/* A decimal port of 1..5 digits, 0..65535, filling all of s. */
static int parse_port(const char *s, uint16_t *port) {
  unsigned long v = 0;
  size_t n = strlen(s);
  if (n == 0 || n > 5) {
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') {
      return -1;
    }
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  if (v > 65535) {
    return -1;
  }
  *port = (uint16_t)v;
  return 0;
}

/*
 * A DNS host name (RFC 1123 §2.1 letters-digits-hyphen labels).  The last
 * label must not be all digits, so "300.1.2.3" is a bad IPv4 address rather
 * than a name to look up.
 */
static int valid_hostname(const char *h, size_t n) {
  size_t label = 0;
  int all_digits = 1;
  if (n == 0 || n > NODE_HOST_MAX) {
    return 0;
  }
  if (h[n - 1] == '.') {
    n--; /* a fully qualified name may end with a dot */
    if (n == 0) {
      return 0;
    }
  }
  for (size_t i = 0; i < n; i++) {
    char c = h[i];
    if (c == '.') {
      if (label == 0 || h[i - 1] == '-') {
        return 0;
      }
      label = 0;
      all_digits = 1;
      continue;
    }
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    int digit = c >= '0' && c <= '9';
    if (!alpha && !digit && c != '-') {
      return 0;
    }
    if (c == '-' && label == 0) {
      return 0;
    }
    if (!digit) {
      all_digits = 0;
    }
    if (++label > 63) {
      return 0;
    }
  }
  return label > 0 && h[n - 1] != '-' && !all_digits;
}

/*
 * Split "host:port" / "[v6]:port" into host text and port text.  Returns 0,
 * or -1 with a reason.
 */
static int split_hostport(const char *s, char *host, size_t hostcap, const char **portstr,
                          int *bracketed, char *err, size_t errcap) {
  size_t hostlen;
  *bracketed = 0;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (close == NULL) {
      set_err(err, errcap, "'%s': missing ']' after the IPv6 address", s);
      return -1;
    }
    if (close[1] != ':') {
      set_err(err, errcap, "'%s': missing ':PORT' after the IPv6 address", s);
      return -1;
    }
    hostlen = (size_t)(close - (s + 1));
    *portstr = close + 2;
    *bracketed = 1;
    s++;
  } else {
    const char *colon = strrchr(s, ':');
    if (colon == NULL) {
      set_err(err, errcap, "'%s': missing ':PORT' (expected HOST:PORT)", s);
      return -1;
    }
    if (strchr(s, ':') != colon) {
      set_err(err, errcap, "'%s': an IPv6 address must be written [ADDRESS]:PORT", s);
      return -1;
    }
    hostlen = (size_t)(colon - s);
    *portstr = colon + 1;
  }
  if (hostlen == 0) {
    set_err(err, errcap, "'%s': empty host", s);
    return -1;
  }
  if (hostlen >= hostcap) {
    set_err(err, errcap, "host name too long (%zu bytes)", hostlen);
    return -1;
  }
  memcpy(host, s, hostlen);
  host[hostlen] = '\0';
  return 0;
}

int node_hostport_parse(node_hostport *hp, const char *s, char *err, size_t errcap) {
  node_hostport out;
  const char *portstr;
  int bracketed;
  char text[NODE_HOST_MAX + 8];
  memset(&out, 0, sizeof(out));
  if (split_hostport(s, out.host, sizeof(out.host), &portstr, &bracketed, err, errcap) != 0) {
    return AQ_ERR_MALFORMED;
  }
  if (parse_port(portstr, &out.port) != 0 || out.port == 0) {
    set_err(err, errcap, "'%s': bad port '%s' (expected 1..65535)", s, portstr);
    return AQ_ERR_MALFORMED;
  }
  /* Re-join so the one literal parser decides what an IP address is. */
  snprintf(text, sizeof(text), bracketed ? "[%s]" : "%s", out.host);
  if (aq_addr_parse(&out.addr, text, 1) == 0) {
    if ((out.addr.family == AQ_AF_INET6) != (bracketed != 0)) {
      set_err(err, errcap, "'%s': an IPv6 address must be written [ADDRESS]:PORT", s);
      return AQ_ERR_MALFORMED;
    }
    out.addr.port = out.port;
    out.literal = 1;
  } else if (bracketed) {
    set_err(err, errcap, "'%s': '%s' is not an IPv6 address", s, out.host);
    return AQ_ERR_MALFORMED;
  } else if (!valid_hostname(out.host, strlen(out.host))) {
    set_err(err, errcap, "'%s': '%s' is neither an IP address nor a host name", s, out.host);
    return AQ_ERR_MALFORMED;
  }
  *hp = out;
  return 0;
}

int node_listen_parse(aq_addr *a, const char *s, char *err, size_t errcap) {
  char host[NODE_HOST_MAX + 1], text[NODE_HOST_MAX + 8];
  const char *portstr;
  int bracketed;
  aq_addr out;
  uint16_t port;
  if (split_hostport(s, host, sizeof(host), &portstr, &bracketed, err, errcap) != 0) {
    return AQ_ERR_MALFORMED;
  }
  if (parse_port(portstr, &port) != 0) {
    set_err(err, errcap, "'%s': bad port '%s' (expected 0..65535)", s, portstr);
    return AQ_ERR_MALFORMED;
  }
  snprintf(text, sizeof(text), bracketed ? "[%s]" : "%s", host);
  if (aq_addr_parse(&out, text, 1) != 0 || (out.family == AQ_AF_INET6) != (bracketed != 0)) {
    set_err(err, errcap, "'%s': not an IP address (expected IPv4:PORT or [IPv6]:PORT)", s);
    return AQ_ERR_MALFORMED;
  }
  out.port = port;
  *a = out;
  return 0;
}

/* Add the comma-separated bootstrap list in v. */
static int add_bootstraps(node_cfg *cfg, const char *v, char *err, size_t errcap) {
  const char *p = v;
  char item[NODE_HOST_MAX + 16];
  if (*v == '\0') {
    set_err(err, errcap, "--bootstrap: empty address list");
    return AQ_ERR_INVALID_ARGUMENT;
  }
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    char why[384];
    /* Blanks around items are tolerated ("a:1, b:2"). */
    while (n > 0 && (*p == ' ' || *p == '\t')) {
      p++;
      n--;
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
      n--;
    }
    if (n == 0) {
      set_err(err, errcap, "--bootstrap: empty entry in '%s'", v);
      return AQ_ERR_INVALID_ARGUMENT;
    }
    if (n >= sizeof(item)) {
      set_err(err, errcap, "--bootstrap: entry too long (%zu bytes)", n);
      return AQ_ERR_INVALID_ARGUMENT;
    }
    memcpy(item, p, n);
    item[n] = '\0';
    if (cfg->nbootstrap >= NODE_CFG_MAX_BOOTSTRAP) {
      set_err(err, errcap, "--bootstrap: at most %d addresses", NODE_CFG_MAX_BOOTSTRAP);
      return AQ_ERR_INVALID_ARGUMENT;
    }
    if (node_hostport_parse(&cfg->bootstrap[cfg->nbootstrap], item, why, sizeof(why)) != 0) {
      set_err(err, errcap, "--bootstrap: %s", why);
      return AQ_ERR_INVALID_ARGUMENT;
    }
    cfg->nbootstrap++;
    if (comma == NULL) {
      return 0;
    }
    p = comma + 1;
  }
}

static const struct flag *find_flag(const char *arg, const char **inline_value) {
  *inline_value = NULL;
  if (arg[0] == '-' && arg[1] != '-' && arg[1] != '\0' && arg[2] == '\0') {
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
      if (flags[i].short_name == arg[1]) {
        return &flags[i];
      }
    }
    return NULL;
  }
  if (arg[0] != '-' || arg[1] != '-') {
    return NULL;
  }
  const char *name = arg + 2;
  const char *eq = strchr(name, '=');
  size_t n = eq ? (size_t)(eq - name) : strlen(name);
  for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
    if (strlen(flags[i].name) == n && strncmp(flags[i].name, name, n) == 0) {
      *inline_value = eq ? eq + 1 : NULL;
      return &flags[i];
    }
  }
  return NULL;
}

int node_cfg_parse(node_cfg *cfg, int argc, char *const *argv, char *err, size_t errcap) {
  char why[384];
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *value;
    const struct flag *f = find_flag(arg, &value);
    if (f == NULL) {
      if (arg[0] == '-') {
        set_err(err, errcap, "unknown option '%s' (try --help)", arg);
      } else {
        set_err(err, errcap, "unexpected argument '%s' (try --help)", arg);
      }
      return AQ_ERR_INVALID_ARGUMENT;
    }
    if (f->id == F_LATER) {
      set_err(err, errcap, "--%s is not yet available (%s comes in a later release)", f->name,
              f->later);
      return AQ_ERR_UNSUPPORTED;
    }
    if (f->takes_value && value == NULL) {
      if (i + 1 >= argc) {
        set_err(err, errcap, "--%s needs a value (try --help)", f->name);
        return AQ_ERR_INVALID_ARGUMENT;
      }
      value = argv[++i];
    } else if (!f->takes_value && value != NULL) {
      set_err(err, errcap, "--%s takes no value", f->name);
      return AQ_ERR_INVALID_ARGUMENT;
    }
    switch (f->id) {
    case F_LISTEN:
      if (cfg->nlisten >= NODE_CFG_MAX_LISTEN) {
        set_err(err, errcap, "--listen: at most %d addresses", NODE_CFG_MAX_LISTEN);
        return AQ_ERR_INVALID_ARGUMENT;
      }
      if (node_listen_parse(&cfg->listen[cfg->nlisten], value, why, sizeof(why)) != 0) {
        set_err(err, errcap, "--listen: %s", why);
        return AQ_ERR_INVALID_ARGUMENT;
      }
      cfg->nlisten++;
      break;
    case F_BOOTSTRAP: {
      int rv = add_bootstraps(cfg, value, err, errcap);
      if (rv != 0) {
        return rv;
      }
      break;
    }
    case F_COORDINATOR: cfg->coordinator = 1; break;
    case F_FORCE_COORDINATOR: cfg->force_coordinator = 1; break;
    case F_MINIMAL: cfg->minimal = 1; break;
    case F_DEBUG:
      if (cfg->log_level < NODE_LOG_DEBUG) {
        cfg->log_level = NODE_LOG_DEBUG;
      }
      break;
    case F_HELP: cfg->action = NODE_CFG_HELP; return 0;
    case F_VERSION: cfg->action = NODE_CFG_VERSION; return 0;
    case F_IDENTITY:
      if (value[0] == '\0') {
        set_err(err, errcap, "--identity: empty file name");
        return AQ_ERR_INVALID_ARGUMENT;
      }
      cfg->identity_path = value;
      break;
    case F_JSON: cfg->json = 1; break;
    case F_LOG_LEVEL:
      if (node_log_level_parse(&cfg->log_level, value) != 0) {
        set_err(err, errcap, "--log-level: '%s' is not one of error, warn, info, debug, trace",
                value);
        return AQ_ERR_INVALID_ARGUMENT;
      }
      break;
    case F_LATER:
    default:
      set_err(err, errcap, "internal error: unhandled option '%s'", arg);
      return AQ_ERR_INVALID_ARGUMENT;
    }
  }
  return 0;
}

const char *node_cfg_usage_text(void) {
  return "Usage: ant-quic [OPTIONS] [SUBCOMMAND]\n"
         "\n"
         "Runs a P2P QUIC node (post-quantum TLS, raw public keys, QUIC address discovery).\n"
         "\n"
         "Options:\n"
         "    --listen <ADDR>                 Listen address, repeatable (default: [::]:0\n"
         "                                    dual-stack, else 0.0.0.0:0)\n"
         "    --bootstrap <ADDR1,ADDR2,...>   Bootstrap nodes (comma-separated; IPv4:PORT,\n"
         "                                    [IPv6]:PORT or HOST:PORT)\n"
         "    --coordinator                   Enable coordinator services\n"
         "    --force-coordinator             Force coordinator mode (even behind NAT)\n"
         "    --minimal                       Minimal output for testing\n"
         "    --debug                         Enable debug logging\n"
         "    --identity <FILE>               Node key file (default:\n"
         "                                    $XDG_DATA_HOME/ant-quic/identity.key)\n"
         "    --json                          One JSON object per event per line on stdout\n"
         "    --log-level <LEVEL>             error, warn (default), info, debug, trace\n"
         "    -h, --help                      Print help information\n"
         "    -V, --version                   Print version information\n"
         "\n"
         "Not yet available (later releases): --dashboard, --dashboard-interval,\n"
         "    --metrics-port, --connect, --nickname, --chat, --relay, --nat-traversal\n"
         "\n"
         "Subcommands:\n"
         "    coordinator   Run as a coordinator (bootstrap) node; same as --force-coordinator\n"
         "    identity      Load or create the node identity and print its PeerId\n"
         "    selftest      Run the built-in cryptographic known-answer tests\n"
         "    connect       Connect to a specific peer via a coordinator (not yet available)\n"
         "    chat          Run as chat client (not yet available)\n"
         "    help          Print this help\n"
         "\n"
         "Console commands (type while the node runs, or pipe them to stdin):\n"
         "    /status /peers /stats /debug /help /quit\n";
}
