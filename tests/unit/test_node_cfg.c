/* test_node_cfg.c - command-line flags and address parsing of the node. */
#include <stdio.h>
#include <string.h>

#include "aq_test.h"
#include "node_cfg.h"

#define ARGV(...) ((char *const[]){"ant-quic", __VA_ARGS__})
#define ARGC(...) ((int)(sizeof((char *[]){"ant-quic", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(cfg, err, ...)                                                                       \
  (node_cfg_default(cfg),                                                                          \
   node_cfg_parse(cfg, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), err, sizeof(err)))

static int contains(const char *s, const char *needle) {
  return strstr(s, needle) != NULL;
}

AQ_TEST(node_cfg_defaults) {
  node_cfg cfg;
  char err[256] = "";
  node_cfg_default(&cfg);
  CHECK_INT(node_cfg_parse(&cfg, 1, (char *const[]){"ant-quic"}, err, sizeof(err)), 0);
  CHECK_INT(cfg.action, NODE_CFG_RUN);
  CHECK_INT(cfg.nlisten, 0);
  CHECK_INT(cfg.nbootstrap, 0);
  CHECK_INT(cfg.log_level, NODE_LOG_WARN);
  CHECK(cfg.identity_path == NULL);
  CHECK_INT(cfg.json + cfg.minimal + cfg.coordinator + cfg.force_coordinator, 0);
}

AQ_TEST(node_cfg_all_flags) {
  node_cfg cfg;
  char err[256] = "";
  CHECK_INT(PARSE(&cfg, err, "--listen", "0.0.0.0:9000", "--listen=[::1]:0", "--bootstrap",
                  "127.0.0.1:9000,[2001:db8::7]:443, quic.example.com:9000",
                  "--bootstrap=10.0.0.1:1", "--coordinator", "--force-coordinator", "--minimal",
                  "--json", "--identity", "/tmp/k", "--log-level", "INFO", "--debug"),
            0);
  CHECK_INT(cfg.nlisten, 2);
  CHECK_INT(cfg.listen[0].family, AQ_AF_INET);
  CHECK_INT(cfg.listen[0].port, 9000);
  CHECK_INT(cfg.listen[1].family, AQ_AF_INET6);
  CHECK_INT(cfg.listen[1].ip[15], 1);
  CHECK_INT(cfg.listen[1].port, 0);
  REQUIRE(cfg.nbootstrap == 4);
  CHECK_INT(cfg.bootstrap[0].literal, 1);
  CHECK_INT(cfg.bootstrap[0].addr.family, AQ_AF_INET);
  CHECK_INT(cfg.bootstrap[0].addr.ip[0], 127);
  CHECK_INT(cfg.bootstrap[0].addr.port, 9000);
  CHECK_INT(cfg.bootstrap[1].literal, 1);
  CHECK_INT(cfg.bootstrap[1].addr.family, AQ_AF_INET6);
  CHECK_INT(cfg.bootstrap[1].port, 443);
  CHECK(strcmp(cfg.bootstrap[1].host, "2001:db8::7") == 0);
  CHECK_INT(cfg.bootstrap[2].literal, 0);
  CHECK(strcmp(cfg.bootstrap[2].host, "quic.example.com") == 0);
  CHECK_INT(cfg.bootstrap[2].port, 9000);
  CHECK_INT(cfg.bootstrap[3].port, 1);
  CHECK_INT(cfg.coordinator, 1);
  CHECK_INT(cfg.force_coordinator, 1);
  CHECK_INT(cfg.minimal, 1);
  CHECK_INT(cfg.json, 1);
  CHECK(cfg.identity_path != NULL && strcmp(cfg.identity_path, "/tmp/k") == 0);
  CHECK_INT(cfg.log_level, NODE_LOG_DEBUG); /* --debug raises info to debug */
  /* --debug does not lower an explicit trace. */
  CHECK_INT(PARSE(&cfg, err, "--log-level", "trace", "--debug"), 0);
  CHECK_INT(cfg.log_level, NODE_LOG_TRACE);
}

AQ_TEST(node_cfg_help_version) {
  node_cfg cfg;
  char err[256] = "";
  CHECK_INT(PARSE(&cfg, err, "-h"), 0);
  CHECK_INT(cfg.action, NODE_CFG_HELP);
  CHECK_INT(PARSE(&cfg, err, "--listen", "1.2.3.4:5", "--help", "--bogus"), 0);
  CHECK_INT(cfg.action, NODE_CFG_HELP);
  CHECK_INT(PARSE(&cfg, err, "-V"), 0);
  CHECK_INT(cfg.action, NODE_CFG_VERSION);
  CHECK_INT(PARSE(&cfg, err, "--version"), 0);
  CHECK_INT(cfg.action, NODE_CFG_VERSION);
  CHECK(contains(node_cfg_usage_text(), "--bootstrap <ADDR1,ADDR2,...>"));
  CHECK(contains(node_cfg_usage_text(), "--force-coordinator"));
}

AQ_TEST(node_cfg_errors) {
  static const struct {
    const char *args[3];
    int rv;
    const char *msg;
  } cases[] = {
      {{"--bogus"}, AQ_ERR_INVALID_ARGUMENT, "unknown option '--bogus'"},
      {{"-x"}, AQ_ERR_INVALID_ARGUMENT, "unknown option '-x'"},
      {{"stray"}, AQ_ERR_INVALID_ARGUMENT, "unexpected argument 'stray'"},
      {{"--listen"}, AQ_ERR_INVALID_ARGUMENT, "--listen needs a value"},
      {{"--bootstrap"}, AQ_ERR_INVALID_ARGUMENT, "--bootstrap needs a value"},
      {{"--json=1"}, AQ_ERR_INVALID_ARGUMENT, "--json takes no value"},
      {{"--listen", "1.2.3.4"}, AQ_ERR_INVALID_ARGUMENT, "missing ':PORT'"},
      {{"--listen", "1.2.3.4:65536"}, AQ_ERR_INVALID_ARGUMENT, "bad port"},
      {{"--listen", "example.com:9"}, AQ_ERR_INVALID_ARGUMENT, "not an IP address"},
      {{"--listen", "::1:9"}, AQ_ERR_INVALID_ARGUMENT, "must be written [ADDRESS]:PORT"},
      {{"--listen", "[::1]"}, AQ_ERR_INVALID_ARGUMENT, "missing ':PORT'"},
      {{"--listen", "[1.2.3.4]:9"}, AQ_ERR_INVALID_ARGUMENT, "not an IP address"},
      {{"--bootstrap", "1.2.3.4:0"}, AQ_ERR_INVALID_ARGUMENT, "bad port"},
      {{"--bootstrap", "1.2.3.4:x"}, AQ_ERR_INVALID_ARGUMENT, "bad port"},
      {{"--bootstrap", "1.2.3.4:"}, AQ_ERR_INVALID_ARGUMENT, "bad port"},
      {{"--bootstrap", "1.2.3.4:123456"}, AQ_ERR_INVALID_ARGUMENT, "bad port"},
      {{"--bootstrap", "300.1.2.3:9000"}, AQ_ERR_INVALID_ARGUMENT, "neither an IP address"},
      {{"--bootstrap", "1.2.3:9000"}, AQ_ERR_INVALID_ARGUMENT, "neither an IP address"},
      {{"--bootstrap", "bad_host:9000"}, AQ_ERR_INVALID_ARGUMENT, "neither an IP address"},
      {{"--bootstrap", "-bad.com:9000"}, AQ_ERR_INVALID_ARGUMENT, "neither an IP address"},
      {{"--bootstrap", "bad-.com:9000"}, AQ_ERR_INVALID_ARGUMENT, "neither an IP address"},
      {{"--bootstrap", "a..b:9000"}, AQ_ERR_INVALID_ARGUMENT, "neither an IP address"},
      {{"--bootstrap", "[::1:9000"}, AQ_ERR_INVALID_ARGUMENT, "missing ']'"},
      {{"--bootstrap", "[zz::1]:9000"}, AQ_ERR_INVALID_ARGUMENT, "not an IPv6 address"},
      {{"--bootstrap", "[10.0.0.1]:9000"}, AQ_ERR_INVALID_ARGUMENT, "not an IPv6 address"},
      {{"--bootstrap", "2001:db8::1:9000"}, AQ_ERR_INVALID_ARGUMENT, "[ADDRESS]:PORT"},
      {{"--bootstrap", "1.2.3.4:9,,5.6.7.8:9"}, AQ_ERR_INVALID_ARGUMENT, "empty entry"},
      {{"--bootstrap", "1.2.3.4:9,"}, AQ_ERR_INVALID_ARGUMENT, "empty entry"},
      {{"--bootstrap", ""}, AQ_ERR_INVALID_ARGUMENT, "empty address list"},
      {{"--bootstrap", ":9000"}, AQ_ERR_INVALID_ARGUMENT, "empty host"},
      {{"--identity", ""}, AQ_ERR_INVALID_ARGUMENT, "empty file name"},
      {{"--log-level", "loud"}, AQ_ERR_INVALID_ARGUMENT, "'loud' is not one of"},
      {{"--dashboard"}, AQ_ERR_UNSUPPORTED, "--dashboard is not yet available"},
      {{"--dashboard-interval", "5"}, AQ_ERR_UNSUPPORTED, "not yet available"},
      {{"--connect", "ab"}, AQ_ERR_UNSUPPORTED, "not yet available"},
      {{"--nickname=bob"}, AQ_ERR_UNSUPPORTED, "chat"},
      {{"--relay"}, AQ_ERR_UNSUPPORTED, "not yet available"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    node_cfg cfg;
    char err[256] = "";
    char *argv[4] = {"ant-quic", NULL, NULL, NULL};
    int argc = 1;
    for (int k = 0; k < 3 && cases[i].args[k]; k++) {
      argv[argc++] = (char *)cases[i].args[k];
    }
    node_cfg_default(&cfg);
    int rv = node_cfg_parse(&cfg, argc, argv, err, sizeof(err));
    if (rv != cases[i].rv || !contains(err, cases[i].msg) || strchr(err, '\n') != NULL) {
      aq_test_fail(__FILE__, __LINE__, "case %zu (%s %s): rv=%d err='%s'", i, cases[i].args[0],
                   cases[i].args[1] ? cases[i].args[1] : "", rv, err);
    }
  }
}

AQ_TEST(node_cfg_limits) {
  node_cfg cfg;
  char err[256] = "";
  CHECK_INT(PARSE(&cfg, err, "--listen", "0.0.0.0:1", "--listen", "0.0.0.0:2", "--listen",
                  "0.0.0.0:3", "--listen", "0.0.0.0:4"),
            0);
  CHECK_INT(cfg.nlisten, 4);
  CHECK_INT(PARSE(&cfg, err, "--listen", "0.0.0.0:1", "--listen", "0.0.0.0:2", "--listen",
                  "0.0.0.0:3", "--listen", "0.0.0.0:4", "--listen", "0.0.0.0:5"),
            AQ_ERR_INVALID_ARGUMENT);
  CHECK(contains(err, "at most 4"));
  /* 16 bootstrap addresses fit, the 17th does not. */
  char list[512] = "";
  for (int i = 1; i <= 16; i++) {
    char one[32];
    snprintf(one, sizeof(one), "%s10.0.0.%d:9000", i > 1 ? "," : "", i);
    strcat(list, one);
  }
  CHECK_INT(PARSE(&cfg, err, "--bootstrap", list), 0);
  CHECK_INT(cfg.nbootstrap, 16);
  CHECK_INT(PARSE(&cfg, err, "--bootstrap", list, "--bootstrap", "10.0.1.1:1"),
            AQ_ERR_INVALID_ARGUMENT);
  CHECK(contains(err, "at most 16"));
}

AQ_TEST(node_cfg_hostport_names) {
  node_hostport hp;
  char err[256];
  char name[300];
  /* A 63-byte label is fine, 64 is not; 253 bytes total is fine, 254 is not. */
  memset(name, 'a', 63);
  strcpy(name + 63, ".com:1");
  CHECK_INT(node_hostport_parse(&hp, name, err, sizeof(err)), 0);
  memset(name, 'a', 64);
  strcpy(name + 64, ".com:1");
  CHECK_INT(node_hostport_parse(&hp, name, err, sizeof(err)), AQ_ERR_MALFORMED);
  size_t n = 0;
  while (n + 64 <= 253) {
    memset(name + n, 'b', 63);
    name[n + 63] = '.';
    n += 64;
  }
  memset(name + n, 'c', 253 - n); /* total exactly 253 */
  strcpy(name + 253, ":7");
  CHECK_INT(node_hostport_parse(&hp, name, err, sizeof(err)), 0);
  CHECK_INT(strlen(hp.host), 253);
  memset(name + n, 'c', 254 - n);
  strcpy(name + 254, ":7");
  CHECK_INT(node_hostport_parse(&hp, name, err, sizeof(err)), AQ_ERR_MALFORMED);
  /* Trailing dot (FQDN), digits inside names, localhost. */
  CHECK_INT(node_hostport_parse(&hp, "example.com.:1", err, sizeof(err)), 0);
  CHECK_INT(node_hostport_parse(&hp, "1password.example:1", err, sizeof(err)), 0);
  CHECK_INT(node_hostport_parse(&hp, "localhost:65535", err, sizeof(err)), 0);
  CHECK_INT(hp.port, 65535);
  CHECK_INT(hp.literal, 0);
  /* *hp untouched on error. */
  memset(&hp, 0x5a, sizeof(hp));
  CHECK_INT(node_hostport_parse(&hp, "x:0", err, sizeof(err)), AQ_ERR_MALFORMED);
  CHECK_INT(((unsigned char *)&hp)[0], 0x5a);
}

AQ_TEST(node_cfg_log_levels) {
  node_log_level l;
  CHECK_INT(node_log_level_parse(&l, "error"), 0);
  CHECK_INT(l, NODE_LOG_ERROR);
  CHECK_INT(node_log_level_parse(&l, "Warning"), 0);
  CHECK_INT(l, NODE_LOG_WARN);
  CHECK_INT(node_log_level_parse(&l, "TRACE"), 0);
  CHECK_INT(l, NODE_LOG_TRACE);
  CHECK_INT(node_log_level_parse(&l, ""), AQ_ERR_MALFORMED);
  CHECK_INT(node_log_level_parse(&l, "debugx"), AQ_ERR_MALFORMED);
  CHECK(strcmp(node_log_level_name(NODE_LOG_INFO), "info") == 0);
}

AQ_TEST(node_cfg_random_addresses) {
  /* Random strings over the characters addresses are made of: parsing never
   * crashes, and whatever parses re-parses to the same value from its
   * canonical text. */
  static const char *const tokens[] = {"1",    "255", "300", "0",       ".",           ":",
                                       "::",   "[",   "]",   "[::1]",   "db8",         "a",
                                       "host", "-",   "x.y", "1.2.3.4", "[2001:db8::", "_"};
  uint64_t seed = 0x63666721;
  int parsed = 0, literal = 0, listened = 0;
  for (int iter = 0; iter < 20000; iter++) {
    unsigned char pick[9];
    char s[96] = "", err[256];
    REQUIRE(aq_test_rand(pick, sizeof(pick), &seed) == 0);
    size_t ntok = 1 + pick[0] % 6;
    for (size_t i = 0; i < ntok; i++) {
      strcat(s, tokens[pick[1 + i] % (sizeof(tokens) / sizeof(tokens[0]))]);
    }
    if (pick[7] & 1) {
      /* Half the time end in ":PORT", the shape of a valid address. */
      static const char *const ports[] = {":1", ":0", ":65535", ":65536", ":9000", ":", ":x"};
      strcat(s, ports[pick[8] % (sizeof(ports) / sizeof(ports[0]))]);
    }
    node_hostport hp;
    if (node_hostport_parse(&hp, s, err, sizeof(err)) == 0) {
      char again[300];
      node_hostport hp2;
      parsed++;
      literal += hp.literal;
      CHECK(hp.port >= 1);
      snprintf(again, sizeof(again),
               hp.literal && hp.addr.family == AQ_AF_INET6 ? "[%s]:%u" : "%s:%u", hp.host,
               (unsigned)hp.port);
      CHECK_INT(node_hostport_parse(&hp2, again, err, sizeof(err)), 0);
      CHECK_INT(hp2.literal, hp.literal);
      CHECK(strcmp(hp2.host, hp.host) == 0);
      CHECK(!hp.literal || aq_addr_eq(&hp.addr, &hp2.addr));
    } else {
      CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
    }
    aq_addr a;
    if (node_listen_parse(&a, s, err, sizeof(err)) == 0) {
      char text[AQ_ADDR_STRLEN];
      aq_addr b;
      listened++;
      aq_addr_format(text, sizeof(text), &a);
      CHECK_INT(node_listen_parse(&b, text, err, sizeof(err)), 0);
      CHECK(aq_addr_eq(&a, &b));
    }
  }
  /* The generator does reach the accepting paths. */
  printf("  parsed %d host:port (%d literal), %d listen addresses\n", parsed, literal, listened);
  CHECK(parsed > 500 && literal > 50 && listened > 50);
}
