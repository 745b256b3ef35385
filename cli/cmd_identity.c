/*
 * cmd_identity.c - `ant-quic identity [--identity FILE] [--key-type ml-dsa-65|ed25519]
 * [--no-create]`: load (or create) the node identity and print its PeerId.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "node_identity.h"

int cmd_identity(int argc, char **argv) {
  static aq_identity id; /* ~6 KiB of key material: not on the stack */
  const char *path = NULL;
  char defpath[4096], err[512], hex[AQ_PEER_ID_HEX_LEN + 1];
  aq_identity_type type = AQ_IDENTITY_MLDSA65;
  int create = 1, created = 0;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--identity") == 0 && i + 1 < argc) {
      path = argv[++i];
    } else if (strcmp(argv[i], "--key-type") == 0 && i + 1 < argc) {
      const char *t = argv[++i];
      if (strcmp(t, "ml-dsa-65") == 0) {
        type = AQ_IDENTITY_MLDSA65;
      } else if (strcmp(t, "ed25519") == 0) {
        type = AQ_IDENTITY_ED25519;
      } else {
        fprintf(stderr, "ant-quic identity: unknown key type '%s' (ml-dsa-65 or ed25519)\n", t);
        return 2;
      }
    } else if (strcmp(argv[i], "--no-create") == 0) {
      create = 0;
    } else {
      fprintf(stderr, "ant-quic identity: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  if (path == NULL) {
    if (node_identity_default_path(defpath, sizeof(defpath)) != 0) {
      fprintf(stderr, "ant-quic identity: no HOME or XDG_DATA_HOME; use --identity FILE\n");
      return 2;
    }
    path = defpath;
  }
  if (node_identity_load_or_create(&id, path, type, create, &created, err, sizeof(err)) != 0) {
    fprintf(stderr, "ant-quic: %s\n", err);
    return 2;
  }
  aq_peer_id_to_hex(hex, id.peer_id);
  printf("%s identity %s (%s)\nPeerId: %s\n", created ? "created" : "loaded", path,
         id.type == AQ_IDENTITY_MLDSA65 ? "ml-dsa-65" : "ed25519", hex);
  aq_identity_wipe(&id);
  return 0;
}
