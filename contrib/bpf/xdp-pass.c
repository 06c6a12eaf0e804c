/*
 * xdp-pass: attach a two-instruction XDP program that passes every frame
 * (r0 = XDP_PASS; exit) to an interface, or detach it (-d).
 *
 * A veth delivers the frames its peer sends with XDP_TX only when it has
 * an XDP program of its own; without one they are dropped silently. The
 * XDP tests and make bench-xdp put this program on the client and peer
 * side of their veth pairs. It is attached through netlink, not a
 * bpf_link, so it stays attached after this process exits; -d removes it.
 *
 *   xdp-pass [-g] IFACE	attach (native mode; -g: generic mode)
 *   xdp-pass -d IFACE		detach
 *
 * Prints nothing on success and exits 0; prints the reason and exits 1
 * otherwise.
 */

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static void
usage(void)
{
	fprintf(stderr, "usage: xdp-pass [-g] IFACE | xdp-pass -d IFACE\n");
}

int
main(int argc, char **argv)
{
	const struct bpf_insn prog[] = {
		/* r0 = XDP_PASS */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		    .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	unsigned int ifindex;
	__u32 flags = XDP_FLAGS_DRV_MODE;
	int c, detach = 0, fd, err;

	while ((c = getopt(argc, argv, "dg")) != -1) {
		switch (c) {
		case 'd':
			detach = 1;
			break;
		case 'g':
			flags = XDP_FLAGS_SKB_MODE;
			break;
		default:
			usage();
			return 1;
		}
	}
	if (optind != argc - 1) {
		usage();
		return 1;
	}
	if ((ifindex = if_nametoindex(argv[optind])) == 0) {
		fprintf(stderr, "xdp-pass: %s: %s\n", argv[optind],
		    strerror(errno));
		return 1;
	}
	if (detach) {
		__u32 id = 0;

		/* whatever mode it was attached in: try both, then look */
		(void)bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
		(void)bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);
		if ((err = bpf_xdp_query_id(ifindex, 0, &id)) != 0 || id != 0) {
			fprintf(stderr, "xdp-pass: detach %s: %s\n",
			    argv[optind], err != 0 ? strerror(-err) :
			    "a program is still attached");
			return 1;
		}
		return 0;
	}
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_pass", "GPL", prog,
	    sizeof(prog) / sizeof(prog[0]), NULL);
	if (fd < 0) {
		fprintf(stderr, "xdp-pass: load: %s\n", strerror(-fd));
		return 1;
	}
	if ((err = bpf_xdp_attach(ifindex, fd, flags, NULL)) != 0) {
		fprintf(stderr, "xdp-pass: attach %s: %s\n", argv[optind],
		    strerror(-err));
		return 1;
	}
	close(fd);
	return 0;
}
