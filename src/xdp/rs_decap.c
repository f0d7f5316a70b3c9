/* rs_decap.c - weir's tc-BPF decapsulator (see rs_decap.h). */
#include <errno.h>
#include <linux/types.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/util.h"
#include "tc_decap.skel.h"
#include "weir_xdp.h"
#include "xdp/rs_decap.h"

#define PIN_DIR "/sys/fs/bpf/weir"
#define PIN_VIPS PIN_DIR "/rs_vips"
#define TC_HANDLE 0x77e1   /* weir's filter on each device */
#define TC_PRIO 1

static void vip_key(const struct weir_addr *vip, struct wx_vip_key *k)
{
	memset(k, 0, sizeof(*k));
	if (addr_family(vip) == AF_INET6) {
		memcpy(k->addr.w, &vip->u.in6.sin6_addr, 16);
		k->family = 6;
	} else {
		k->addr.w[0] = vip->u.in.sin_addr.s_addr;
		k->family = 4;
	}
}

static int pin_dir(void)
{
	struct stat st;

	if (stat("/sys/fs/bpf", &st) != 0 ||
	    (mkdir(PIN_DIR, 0700) != 0 && errno != EEXIST)) {
		/* no bpffs yet: mount it, as systemd would */
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=700") != 0 ||
		    (mkdir(PIN_DIR, 0700) != 0 && errno != EEXIST)) {
			fprintf(stderr, "weir rs: cannot use %s: %s\n", PIN_DIR, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Attaches <prog_fd> at clsact ingress of <dev>, replacing weir's filter. */
static int attach_dev(const char *dev, int prog_fd)
{
	int ifindex = (int)if_nametoindex(dev);
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO,
			    .flags = BPF_TC_F_REPLACE, .prog_fd = prog_fd);
	int rc;

	if (!ifindex) {
		fprintf(stderr, "weir rs: no interface %s\n", dev);
		return -ENODEV;
	}
	hook.ifindex = ifindex;
	rc = bpf_tc_hook_create(&hook);
	if (rc && rc != -EEXIST) {
		fprintf(stderr, "weir rs: %s: cannot add a clsact qdisc: %s\n", dev, strerror(-rc));
		return rc;
	}
	if ((rc = bpf_tc_attach(&hook, &opts)) != 0) {
		fprintf(stderr, "weir rs: %s: cannot attach the decapsulator: %s\n", dev,
			strerror(-rc));
		return rc;
	}
	printf("weir rs: the tc-BPF decapsulator is on %s ingress\n", dev);
	return 0;
}

static void detach_dev(const char *dev)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO);

	hook.ifindex = (int)if_nametoindex(dev);
	if (hook.ifindex && bpf_tc_detach(&hook, &opts) == 0)
		printf("weir rs: the decapsulator left %s\n", dev);
}

/* The VIP map of the decapsulator weir attached to <dev>, or -1. */
static int map_of_dev(const char *dev)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO);
	struct bpf_prog_info info;
	__u32 len = sizeof(info), ids[16];
	int prog, found = -1;

	hook.ifindex = (int)if_nametoindex(dev);
	if (!hook.ifindex || bpf_tc_query(&hook, &opts) != 0)
		return -1;
	if ((prog = bpf_prog_get_fd_by_id(opts.prog_id)) < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = ARRAY_SIZE(ids);
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog, &info, &len) == 0) {
		for (__u32 i = 0; i < info.nr_map_ids && i < ARRAY_SIZE(ids) && found < 0; i++) {
			struct bpf_map_info mi;
			__u32 mlen = sizeof(mi);
			int fd = bpf_map_get_fd_by_id(ids[i]);

			memset(&mi, 0, sizeof(mi));
			if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &mi, &mlen) == 0 &&
			    strcmp(mi.name, "wx_vips") == 0)
				found = fd;
			else if (fd >= 0)
				close(fd);
		}
	}
	close(prog);
	return found;
}

/* The VIP list in use: pinned, or (a fresh mount namespace, as under `ip
 * netns exec`, sees no pins) the one of a filter already attached. */
static int existing_map(const char *const *devs, int ndevs)
{
	int fd = bpf_obj_get(PIN_VIPS);

	for (int i = 0; fd < 0 && i < ndevs; i++)
		fd = map_of_dev(devs[i]);
	return fd;
}

static bool map_empty(int fd)
{
	struct wx_vip_key k;

	return bpf_map_get_next_key(fd, NULL, &k) != 0;
}

int rs_decap(bool add, const struct weir_addr *vip, const char *const *devs, int ndevs)
{
	struct tc_decap *skel;
	struct wx_vip_key k;
	int pinned = existing_map(devs, ndevs), rc = 0, fd;
	__u8 one = 1;

	vip_key(vip, &k);
	if (!add) {
		if (pinned < 0)
			return 0;
		bpf_map_delete_elem(pinned, &k);
		if (map_empty(pinned)) {
			for (int i = 0; i < ndevs; i++)
				detach_dev(devs[i]);
			unlink(PIN_VIPS);
		}
		close(pinned);
		return 0;
	}
	if ((rc = pin_dir()) != 0)
		return rc;
	if (!(skel = tc_decap__open())) {
		fprintf(stderr, "weir rs: cannot open the decapsulator: %s\n", strerror(errno));
		return -errno;
	}
	/* the VIP list outlives each command: the pinned map is shared */
	if (pinned >= 0 && (rc = bpf_map__reuse_fd(skel->maps.wx_vips, pinned)) != 0)
		goto out;
	if ((rc = tc_decap__load(skel)) != 0) {
		fprintf(stderr, "weir rs: the kernel refused the decapsulator: %s\n", strerror(-rc));
		goto out;
	}
	fd = bpf_map__fd(skel->maps.wx_vips);
	{
		int have = bpf_obj_get(PIN_VIPS);

		if (have >= 0)
			close(have);
		else if (bpf_obj_pin(fd, PIN_VIPS) != 0)
			fprintf(stderr, "weir rs: cannot pin %s (%s): later commands find the "
				"list through the attached filter\n", PIN_VIPS, strerror(errno));
	}
	if (bpf_map_update_elem(fd, &k, &one, BPF_ANY) != 0) {
		rc = -errno;
		fprintf(stderr, "weir rs: cannot add the VIP: %s\n", strerror(errno));
		goto out;
	}
	for (int i = 0; i < ndevs && rc == 0; i++)
		rc = attach_dev(devs[i], bpf_program__fd(skel->progs.tc_decap));
out:
	tc_decap__destroy(skel); /* the filters keep the program alive */
	if (pinned >= 0)
		close(pinned);
	return rc;
}

int rs_decap_show(void)
{
	struct if_nameindex *ifs = if_nameindex();
	int fd = bpf_obj_get(PIN_VIPS);
	struct wx_vip_key k, *prev = NULL;

	for (struct if_nameindex *i = ifs; fd < 0 && i && i->if_index; i++) {
		fd = map_of_dev(i->if_name);
		if (fd >= 0)
			printf("decapsulator on %s\n", i->if_name);
	}
	if (ifs)
		if_freenameindex(ifs);
	if (fd < 0) {
		printf("no tc-BPF decapsulator VIPs\n");
		return 0;
	}
	while (bpf_map_get_next_key(fd, prev, &k) == 0) {
		struct weir_addr a;
		char s[ADDR_STRLEN];

		memset(&a, 0, sizeof(a));
		if (k.family == 6) {
			a.u.in6.sin6_family = AF_INET6;
			memcpy(&a.u.in6.sin6_addr, k.addr.w, 16);
		} else {
			a.u.in.sin_family = AF_INET;
			a.u.in.sin_addr.s_addr = k.addr.w[0];
		}
		printf("decapsulating for %s\n", addr_str(&a, s));
		prev = &k;
	}
	close(fd);
	return 0;
}
