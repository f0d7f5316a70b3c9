/*
 * rs.h - `weir rs`: the real-server side of DR and TUN, the seeds' manual
 * steps made one command.
 *
 *   weir rs add VIP [--mode dr|tun] [--dev IFACE]...
 *   weir rs del VIP [--mode dr|tun] [--dev IFACE]...
 *   weir rs show
 *
 * add: binds VIP to lo (/32 or /128) and sets arp_ignore=1 and
 * arp_announce=2 (all and lo), so the real server accepts packets for the
 * VIP without answering ARP for it. With --mode tun it also makes the
 * server take IP-in-IP packets: the kernel's ipip/ip6tnl device when the
 * kernel has it (tunl0/ip6tnl0 up, rp_filter off), else weir's tc-BPF
 * decapsulator (bpf/tc_decap.bpf.c) on each --dev (default: every
 * interface that is up, except lo), its VIP list pinned in
 * /sys/fs/bpf/weir/ so later `add`s extend it. del undoes add for the VIP
 * (the sysctls stay: other VIPs may need them).
 */
#ifndef WEIR_XDP_RS_H
#define WEIR_XDP_RS_H

/* Runs `weir rs ...`; <argv>[0] is "rs". Returns the exit status. */
int rs_main(int argc, char **argv);

#endif
