/*
 * pqc_mlkem_tool.c - ML-KEM-768 from the command line, for cross-checks
 * with other implementations (tests/sh/test_pqc_crosscheck_mlkem.sh).
 *
 *   pqc_mlkem_tool keygen SEEDHEX        -> "ek HEX" and "dk HEX" lines (seed = d ‖ z, 64 bytes)
 *   pqc_mlkem_tool encaps EKHEX MHEX     -> "ct HEX" and "ss HEX" lines
 *   pqc_mlkem_tool decaps DKHEX CTHEX    -> "ss HEX" line
 *
 * Exit status 0 on success, 1 on a library error (printed), 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_mlkem768.h"
#include "aq_test.h"

static void print_hex(const char *label, const uint8_t *p, size_t len) {
  printf("%s ", label);
  for (size_t i = 0; i < len; i++) {
    printf("%02x", p[i]);
  }
  printf("\n");
}

static uint8_t *arg_bytes(const char *hex, size_t *len, const char *what) {
  uint8_t *p = aq_test_unhex(hex, len);
  if (p == NULL) {
    fprintf(stderr, "pqc_mlkem_tool: %s is not hex\n", what);
    exit(2);
  }
  return p;
}

static int cmd_keygen(int argc, char **argv) {
  size_t n;
  uint8_t ek[AQ_MLKEM768_EK_LEN], dk[AQ_MLKEM768_DK_LEN];
  if (argc != 1) {
    return 2;
  }
  uint8_t *seed = arg_bytes(argv[0], &n, "seed");
  if (n != AQ_MLKEM768_SEED_LEN) {
    fprintf(stderr, "pqc_mlkem_tool: seed must be 64 bytes\n");
    free(seed);
    return 2;
  }
  aq_mlkem768_keygen(ek, dk, seed);
  print_hex("ek", ek, sizeof(ek));
  print_hex("dk", dk, sizeof(dk));
  free(seed);
  return 0;
}

static int cmd_encaps(int argc, char **argv) {
  size_t eklen, mlen;
  uint8_t ct[AQ_MLKEM768_CT_LEN], ss[AQ_MLKEM768_SS_LEN];
  if (argc != 2) {
    return 2;
  }
  uint8_t *ek = arg_bytes(argv[0], &eklen, "ek");
  uint8_t *m = arg_bytes(argv[1], &mlen, "m");
  int rv = 2;
  if (mlen != AQ_MLKEM768_M_LEN) {
    fprintf(stderr, "pqc_mlkem_tool: m must be 32 bytes\n");
  } else if ((rv = aq_mlkem768_encaps_len(ct, ss, ek, eklen, m)) != 0) {
    fprintf(stderr, "pqc_mlkem_tool: encaps: %s\n", aq_strerror(rv));
    rv = 1;
  } else {
    print_hex("ct", ct, sizeof(ct));
    print_hex("ss", ss, sizeof(ss));
  }
  free(ek);
  free(m);
  return rv;
}

static int cmd_decaps(int argc, char **argv) {
  size_t dklen, ctlen;
  uint8_t ss[AQ_MLKEM768_SS_LEN];
  if (argc != 2) {
    return 2;
  }
  uint8_t *dk = arg_bytes(argv[0], &dklen, "dk");
  uint8_t *ct = arg_bytes(argv[1], &ctlen, "ct");
  int rv = aq_mlkem768_decaps_len(ss, ct, ctlen, dk, dklen);
  if (rv != 0) {
    fprintf(stderr, "pqc_mlkem_tool: decaps: %s\n", aq_strerror(rv));
    rv = 1;
  } else {
    print_hex("ss", ss, sizeof(ss));
  }
  free(dk);
  free(ct);
  return rv;
}

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
} cmds[] = {
    {"keygen", cmd_keygen},
    {"encaps", cmd_encaps},
    {"decaps", cmd_decaps},
};

int main(int argc, char **argv) {
  if (argc >= 2) {
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
      if (strcmp(argv[1], cmds[i].name) == 0) {
        int rv = cmds[i].fn(argc - 2, argv + 2);
        if (rv == 2) {
          fprintf(stderr, "pqc_mlkem_tool: bad arguments for %s\n", argv[1]);
        }
        return rv;
      }
    }
  }
  fprintf(stderr,
          "usage: pqc_mlkem_tool keygen SEEDHEX | encaps EKHEX MHEX | decaps DKHEX CTHEX\n");
  return 2;
}
