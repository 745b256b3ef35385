/*
 * node_console.h - the node's console on stdin: a line splitter that works
 * on whatever read() returns (terminal, pipe or file: partial lines, several
 * lines per read, CR LF, a last line without a newline at EOF, overlong
 * lines) and the parser of the slash commands /status /peers /stats /debug
 * /help /quit.  Pure: the app reads the fd and acts on the commands.
 */
#ifndef NODE_CONSOLE_H
#define NODE_CONSOLE_H

#include <stddef.h>

#define NODE_CONSOLE_LINE_MAX 1024 /* longer lines are cut here (and flagged) */

typedef enum node_cmd {
  NODE_CMD_NONE = 0, /* empty or blank line */
  NODE_CMD_STATUS,
  NODE_CMD_PEERS,
  NODE_CMD_STATS,
  NODE_CMD_DEBUG,
  NODE_CMD_HELP,
  NODE_CMD_QUIT,
  NODE_CMD_UNKNOWN, /* "/something" we do not know */
  NODE_CMD_TEXT     /* a line not starting with '/' (chat: a later release) */
} node_cmd;

/** One console command for /help. */
typedef struct node_cmd_info {
  const char *name; /* "/status" */
  node_cmd cmd;
  const char *help;
} node_cmd_info;

/** The command table (*n entries): names, aliases excluded, in /help order. */
const node_cmd_info *node_cmd_table(size_t *n);

/**
 * Parse one line (no newline; len bytes, NULs allowed).  Leading and
 * trailing blanks are ignored, command names are case-insensitive, and
 * /exit, /q and /? are aliases of /quit, /quit and /help.  arg and arglen
 * (may be NULL) receive the rest of the line after the command word and its
 * blanks (for NODE_CMD_UNKNOWN: the command word itself; for
 * NODE_CMD_TEXT: the trimmed line).
 */
node_cmd node_console_parse(const char *line, size_t len, const char **arg, size_t *arglen);

/** Called for each complete line (newline and a trailing CR removed). */
typedef void (*node_console_line_fn)(const char *line, size_t len, int truncated, void *user_data);

/** Line accumulator (embed it; no allocation). */
typedef struct node_console {
  char buf[NODE_CONSOLE_LINE_MAX];
  size_t len;
  int truncated; /* the current line overflowed buf; the rest is dropped */
} node_console;

void node_console_init(node_console *c);

/** Feed bytes as read; fn runs once per completed line, in order. */
void node_console_feed(node_console *c, const char *data, size_t len, node_console_line_fn fn,
                       void *user_data);

/** At EOF: deliver a last line that had no newline (if any) and reset. */
void node_console_flush(node_console *c, node_console_line_fn fn, void *user_data);

#endif
