/*
 * cmd_node.c - the default action of ant-quic: run the P2P node
 * (`ant-quic [OPTIONS]`, and `ant-quic coordinator [OPTIONS]`).
 */
#include <stdio.h>

#include "antquic.h"
#include "cli.h"
#include "node_app.h"
#include "node_cfg.h"

int cmd_node(int argc, char **argv, int coordinator) {
  node_cfg cfg;
  char err[512];
  node_cfg_default(&cfg);
  if (node_cfg_parse(&cfg, argc, argv, err, sizeof(err)) != 0) {
    fprintf(stderr, "ant-quic: %s\n", err);
    return 2;
  }
  switch (cfg.action) {
  case NODE_CFG_HELP: fputs(node_cfg_usage_text(), stdout); return 0;
  case NODE_CFG_VERSION: printf("ant-quic %s\n", aq_version()); return 0;
  case NODE_CFG_RUN:
  default: break;
  }
  if (coordinator) {
    cfg.force_coordinator = 1;
  }
  return node_app_run(&cfg);
}
