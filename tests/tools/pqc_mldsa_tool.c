/*
 * pqc_mldsa_tool.c - command-line access to ML-DSA-65 for cross-checks
 * against other implementations (tests/sh/test_pqc_crosscheck_mldsa.sh).
 *
 *   pqc_mldsa_tool keygen SEEDHEX                      -> pk hex
 *   pqc_mldsa_tool sign SEEDHEX MSGHEX [CTXHEX [RNDHEX]] -> signature hex
 *       (key pair from the 32-byte seed; deterministic unless RNDHEX given)
 *   pqc_mldsa_tool verify PKHEX MSGHEX SIGHEX [CTXHEX]  -> "ok" (exit 0) or
 *       "fail" (exit 1)
 * Exit 2 on a usage or argument error.  "" or "-" is an empty byte string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_mldsa65.h"
#include "aq_test.h"

static uint8_t *arg_hex(const char *s, size_t *len) {
  if (strcmp(s, "-") == 0) {
    s = "";
  }
  return aq_test_unhex(s, len);
}

static void put_hex(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    printf("%02x", p[i]);
  }
  printf("\n");
}

static int usage(void) {
  fprintf(stderr, "usage: pqc_mldsa_tool keygen SEEDHEX | sign SEEDHEX MSGHEX [CTXHEX [RNDHEX]] |"
                  " verify PKHEX MSGHEX SIGHEX [CTXHEX]\n");
  return 2;
}

int main(int argc, char **argv) {
  static uint8_t pk[AQ_MLDSA65_PK_LEN], sk[AQ_MLDSA65_SK_LEN], sig[AQ_MLDSA65_SIG_LEN];
  if (argc < 3) {
    return usage();
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "keygen") == 0 || strcmp(cmd, "sign") == 0) {
    size_t sl = 0, ml = 0, cl = 0, rl = 0;
    uint8_t *seed = arg_hex(argv[2], &sl);
    if (seed == NULL || sl != AQ_MLDSA65_SEED_LEN) {
      fprintf(stderr, "seed must be 32 bytes of hex\n");
      return 2;
    }
    aq_mldsa65_keygen(pk, sk, seed);
    free(seed);
    if (strcmp(cmd, "keygen") == 0) {
      put_hex(pk, sizeof(pk));
      return 0;
    }
    if (argc < 4) {
      return usage();
    }
    uint8_t *msg = arg_hex(argv[3], &ml);
    uint8_t *ctx = argc > 4 ? arg_hex(argv[4], &cl) : NULL;
    uint8_t *rnd = argc > 5 ? arg_hex(argv[5], &rl) : NULL;
    if (msg == NULL || (argc > 4 && ctx == NULL) || (argc > 5 && (rnd == NULL || rl != 32))) {
      fprintf(stderr, "bad hex argument\n");
      return 2;
    }
    int rv = aq_mldsa65_sign(sig, sk, msg, ml, ctx, cl,
                             rnd != NULL ? rnd : AQ_MLDSA65_RND_DETERMINISTIC);
    free(msg);
    free(ctx);
    free(rnd);
    if (rv != 0) {
      fprintf(stderr, "sign: %s\n", aq_strerror(rv));
      return 2;
    }
    put_hex(sig, sizeof(sig));
    return 0;
  }
  if (strcmp(cmd, "verify") == 0) {
    if (argc < 5) {
      return usage();
    }
    size_t pl = 0, ml = 0, gl = 0, cl = 0;
    uint8_t *pkb = arg_hex(argv[2], &pl);
    uint8_t *msg = arg_hex(argv[3], &ml);
    uint8_t *sg = arg_hex(argv[4], &gl);
    uint8_t *ctx = argc > 5 ? arg_hex(argv[5], &cl) : NULL;
    if (pkb == NULL || msg == NULL || sg == NULL || (argc > 5 && ctx == NULL)) {
      fprintf(stderr, "bad hex argument\n");
      return 2;
    }
    int rv = AQ_ERR_VERIFY;
    if (pl == AQ_MLDSA65_PK_LEN) {
      rv = aq_mldsa65_verify(pkb, msg, ml, ctx, cl, sg, gl);
    }
    free(pkb);
    free(msg);
    free(sg);
    free(ctx);
    printf("%s\n", rv == 0 ? "ok" : "fail");
    return rv == 0 ? 0 : 1;
  }
  return usage();
}
