/* node_console.c - console line splitting and slash-command parsing. */
#include "node_console.h"

#include <string.h>
#include <strings.h>

static const node_cmd_info cmd_table[] = {
    {"/status", NODE_CMD_STATUS,
     "listen addresses, PeerId, discovered addresses, role, connections"},
    {"/peers", NODE_CMD_PEERS, "connected peers: PeerId, address, RTT, direct/relayed, age"},
    {"/stats", NODE_CMD_STATS, "packets, bytes, losses, handshakes, per-connection counters"},
    {"/debug", NODE_CMD_DEBUG, "toggle debug logging (stderr)"},
    {"/help", NODE_CMD_HELP, "this list"},
    {"/quit", NODE_CMD_QUIT, "close every connection and exit"},
};

static const struct {
  const char *name;
  node_cmd cmd;
} cmd_aliases[] = {
    {"/exit", NODE_CMD_QUIT},
    {"/q", NODE_CMD_QUIT},
    {"/?", NODE_CMD_HELP},
};

const node_cmd_info *node_cmd_table(size_t *n) {
  *n = sizeof(cmd_table) / sizeof(cmd_table[0]);
  return cmd_table;
}

static int is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int word_is(const char *w, size_t n, const char *name) {
  return strlen(name) == n && strncasecmp(w, name, n) == 0;
}

node_cmd node_console_parse(const char *line, size_t len, const char **arg, size_t *arglen) {
  const char *p = line, *end = line + len;
  const char *dummy_arg;
  size_t dummy_len;
  if (arg == NULL) {
    arg = &dummy_arg;
  }
  if (arglen == NULL) {
    arglen = &dummy_len;
  }
  while (p < end && is_blank(*p)) {
    p++;
  }
  while (end > p && is_blank(end[-1])) {
    end--;
  }
  *arg = p;
  *arglen = (size_t)(end - p);
  if (p == end) {
    return NODE_CMD_NONE;
  }
  if (*p != '/') {
    return NODE_CMD_TEXT;
  }
  const char *w = p;
  while (p < end && !is_blank(*p)) {
    p++;
  }
  size_t wlen = (size_t)(p - w);
  while (p < end && is_blank(*p)) {
    p++;
  }
  for (size_t i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++) {
    if (word_is(w, wlen, cmd_table[i].name)) {
      *arg = p;
      *arglen = (size_t)(end - p);
      return cmd_table[i].cmd;
    }
  }
  for (size_t i = 0; i < sizeof(cmd_aliases) / sizeof(cmd_aliases[0]); i++) {
    if (word_is(w, wlen, cmd_aliases[i].name)) {
      *arg = p;
      *arglen = (size_t)(end - p);
      return cmd_aliases[i].cmd;
    }
  }
  *arg = w;
  *arglen = wlen;
  return NODE_CMD_UNKNOWN;
}

void node_console_init(node_console *c) {
  memset(c, 0, sizeof(*c));
}

static void deliver(node_console *c, node_console_line_fn fn, void *user_data) {
  size_t n = c->len;
  if (n > 0 && c->buf[n - 1] == '\r') {
    n--;
  }
  fn(c->buf, n, c->truncated, user_data);
  c->len = 0;
  c->truncated = 0;
}

void node_console_feed(node_console *c, const char *data, size_t len, node_console_line_fn fn,
                       void *user_data) {
  for (size_t i = 0; i < len; i++) {
    char ch = data[i];
    if (ch == '\n') {
      deliver(c, fn, user_data);
    } else if (c->len < sizeof(c->buf)) {
      c->buf[c->len++] = ch;
    } else {
      c->truncated = 1;
    }
  }
}

void node_console_flush(node_console *c, node_console_line_fn fn, void *user_data) {
  if (c->len > 0 || c->truncated) {
    deliver(c, fn, user_data);
  }
}
