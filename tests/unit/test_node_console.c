/* test_node_console.c - console line splitting and slash-command parsing. */
#include <string.h>

#include "aq_test.h"
#include "node_console.h"

static node_cmd parse(const char *s) {
  return node_console_parse(s, strlen(s), NULL, NULL);
}

AQ_TEST(node_console_parse_commands) {
  CHECK_INT(parse("/status"), NODE_CMD_STATUS);
  CHECK_INT(parse("/peers"), NODE_CMD_PEERS);
  CHECK_INT(parse("/stats"), NODE_CMD_STATS);
  CHECK_INT(parse("/debug"), NODE_CMD_DEBUG);
  CHECK_INT(parse("/help"), NODE_CMD_HELP);
  CHECK_INT(parse("/quit"), NODE_CMD_QUIT);
  CHECK_INT(parse("/exit"), NODE_CMD_QUIT);
  CHECK_INT(parse("/q"), NODE_CMD_QUIT);
  CHECK_INT(parse("/?"), NODE_CMD_HELP);
  CHECK_INT(parse("  /STATUS \t"), NODE_CMD_STATUS);
  CHECK_INT(parse("/Peers\r"), NODE_CMD_PEERS);
  CHECK_INT(parse(""), NODE_CMD_NONE);
  CHECK_INT(parse(" \t \r"), NODE_CMD_NONE);
  /* Prefixes and longer words are not commands. */
  CHECK_INT(parse("/stat"), NODE_CMD_UNKNOWN);
  CHECK_INT(parse("/statusx"), NODE_CMD_UNKNOWN);
  CHECK_INT(parse("/"), NODE_CMD_UNKNOWN);
  CHECK_INT(parse("status"), NODE_CMD_TEXT);
  CHECK_INT(parse("hello /status"), NODE_CMD_TEXT);
  /* A NUL inside the line does not end it early. */
  CHECK_INT(node_console_parse("/status\0x", 9, NULL, NULL), NODE_CMD_UNKNOWN);
}

AQ_TEST(node_console_parse_args) {
  const char *arg;
  size_t n;
  CHECK_INT(node_console_parse("/debug   on  ", 13, &arg, &n), NODE_CMD_DEBUG);
  CHECK_INT(n, 2);
  CHECK(strncmp(arg, "on", 2) == 0);
  CHECK_INT(node_console_parse("/frob x", 7, &arg, &n), NODE_CMD_UNKNOWN);
  CHECK_INT(n, 5);
  CHECK(strncmp(arg, "/frob", 5) == 0);
  CHECK_INT(node_console_parse("  hi there ", 11, &arg, &n), NODE_CMD_TEXT);
  CHECK_INT(n, 8);
  CHECK(strncmp(arg, "hi there", 8) == 0);
  CHECK_INT(node_console_parse("/quit", 5, &arg, &n), NODE_CMD_QUIT);
  CHECK_INT(n, 0);
}

AQ_TEST(node_console_help_table) {
  size_t n;
  const node_cmd_info *t = node_cmd_table(&n);
  CHECK_INT(n, 6);
  for (size_t i = 0; i < n; i++) {
    /* Every listed name parses back to its own command. */
    CHECK_INT(parse(t[i].name), t[i].cmd);
    CHECK(t[i].help != NULL && t[i].help[0] != '\0');
  }
}

typedef struct lines {
  char text[8][NODE_CONSOLE_LINE_MAX + 1];
  size_t len[8];
  int truncated[8];
  size_t n;
} lines;

static void on_line(const char *line, size_t len, int truncated, void *ud) {
  lines *l = ud;
  if (l->n >= 8) {
    aq_test_fail(__FILE__, __LINE__, "too many lines");
    return;
  }
  memcpy(l->text[l->n], line, len);
  l->text[l->n][len] = '\0';
  l->len[l->n] = len;
  l->truncated[l->n] = truncated;
  l->n++;
}

AQ_TEST(node_console_split_every_chunking) {
  /* The same input fed in every possible two-piece split gives the same lines. */
  static const char in[] = "/status\n\n/peers\r\n  /stats  \n/quit";
  size_t len = sizeof(in) - 1;
  for (size_t cut = 0; cut <= len; cut++) {
    node_console c;
    lines l;
    memset(&l, 0, sizeof(l));
    node_console_init(&c);
    node_console_feed(&c, in, cut, on_line, &l);
    node_console_feed(&c, in + cut, len - cut, on_line, &l);
    CHECK_INT(l.n, 4);
    node_console_flush(&c, on_line, &l); /* EOF: the last line had no newline */
    REQUIRE(l.n == 5);
    CHECK(strcmp(l.text[0], "/status") == 0);
    CHECK_INT(l.len[1], 0);
    CHECK(strcmp(l.text[2], "/peers") == 0); /* CR removed */
    CHECK(strcmp(l.text[3], "  /stats  ") == 0);
    CHECK(strcmp(l.text[4], "/quit") == 0);
    for (size_t i = 0; i < 5; i++) {
      CHECK_INT(l.truncated[i], 0);
    }
    /* A second flush delivers nothing. */
    node_console_flush(&c, on_line, &l);
    CHECK_INT(l.n, 5);
  }
}

AQ_TEST(node_console_split_byte_by_byte) {
  static const char in[] = "/a\n/bb\n";
  node_console c;
  lines l;
  memset(&l, 0, sizeof(l));
  node_console_init(&c);
  for (size_t i = 0; i < sizeof(in) - 1; i++) {
    node_console_feed(&c, in + i, 1, on_line, &l);
  }
  CHECK_INT(l.n, 2);
  CHECK(strcmp(l.text[1], "/bb") == 0);
}

AQ_TEST(node_console_overlong_line) {
  static char big[NODE_CONSOLE_LINE_MAX + 100];
  node_console c;
  lines l;
  memset(&l, 0, sizeof(l));
  memset(big, 'x', sizeof(big));
  node_console_init(&c);
  node_console_feed(&c, big, sizeof(big), on_line, &l);
  node_console_feed(&c, "\n/status\n", 9, on_line, &l);
  REQUIRE(l.n == 2);
  CHECK_INT(l.len[0], NODE_CONSOLE_LINE_MAX);
  CHECK_INT(l.truncated[0], 1);
  /* The line after the overlong one is intact. */
  CHECK(strcmp(l.text[1], "/status") == 0);
  CHECK_INT(l.truncated[1], 0);
  /* Exactly LINE_MAX bytes is not truncated. */
  memset(&l, 0, sizeof(l));
  node_console_feed(&c, big, NODE_CONSOLE_LINE_MAX, on_line, &l);
  node_console_feed(&c, "\n", 1, on_line, &l);
  REQUIRE(l.n == 1);
  CHECK_INT(l.truncated[0], 0);
  /* An overlong last line without newline is flushed as truncated. */
  memset(&l, 0, sizeof(l));
  node_console_feed(&c, big, sizeof(big), on_line, &l);
  node_console_flush(&c, on_line, &l);
  REQUIRE(l.n == 1);
  CHECK_INT(l.truncated[0], 1);
}
