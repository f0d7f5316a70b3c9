/*
 * conns.h - the XDP data path's connection table as lines of weirctl
 * -L -c: its flows (wx_flows) and its persistence templates (wx_persist),
 * read from the maps and never written (the sweep in xdp.c deletes what
 * is over). Control thread.
 */
#ifndef WEIR_XDP_CONNS_H
#define WEIR_XDP_CONNS_H

#include <stdbool.h>

#include "core/conns.h"

/* Appends the flows whose life is not over and the live persistence
 * templates to <out>. Nothing when the data path is not loaded. 0 or
 * -ENOMEM, or a map read's -errno. */
int xdp_conns(struct conn_list *out);

/* What a flow in data-path state <state> (enum wx_state) is in -L -c
 * (enum conn_state), and how long it lives after its last packet with
 * the settings <cfg> (struct wx_config): pure, for the tests. */
struct wx_config;
uint8_t xdp_conn_state(uint8_t state);
uint64_t xdp_flow_life_ms(const struct wx_config *cfg, uint8_t state);

#endif
