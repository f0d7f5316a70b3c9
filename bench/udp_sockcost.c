/*
 * udp_sockcost.c - what a UDP proxy pays per session for its upstream
 * socket: the measurement behind src/proxy/udp.c's choice of pooled,
 * unconnected upstream sockets over one connected socket per session.
 *
 *   udp-sockcost [-n EXCHANGES]
 *
 * Sends EXCHANGES (default 200,000) 40-byte datagrams to a sink socket on
 * 127.0.0.1 three ways, and prints the CPU time (user + system of this
 * process, which also drains the sink) per datagram:
 *   per-session  socket() + connect() + epoll_ctl(ADD) + send() + close()
 *                for every datagram: a connected socket per session, each
 *                session one exchange (DNS-like)
 *   pooled       one unconnected socket, sendto() per datagram
 *   pooled-mmsg  one unconnected socket, sendmmsg() of 32 datagrams
 * One line per way: "WAY us_per_datagram X.XX". Bounded, loopback only.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void drain(int fd)
{
	char buf[2048];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sink_addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(sink_addr);
	struct mmsghdr m[32];
	struct iovec iov[32];
	char payload[40] = { 0 };
	long n = 200000;
	int sink, ep, shared, rcv = 1 << 20;
	double t0, t1, t2, t3;

	if (argc == 3 && strcmp(argv[1], "-n") == 0)
		n = atol(argv[2]);
	if (n <= 0 || n > 100000000) {
		fprintf(stderr, "usage: udp-sockcost [-n EXCHANGES (1..100000000)]\n");
		return 2;
	}
	sink_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sink = socket(AF_INET, SOCK_DGRAM, 0);
	ep = epoll_create1(0);
	shared = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (sink < 0 || ep < 0 || shared < 0 ||
	    bind(sink, (struct sockaddr *)&sink_addr, sizeof(sink_addr)) != 0 ||
	    getsockname(sink, (struct sockaddr *)&sink_addr, &len) != 0) {
		perror("udp-sockcost: setup");
		return 1;
	}
	setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));

	t0 = cpu_now();
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

		if (fd < 0 || connect(fd, (struct sockaddr *)&sink_addr, sizeof(sink_addr)) != 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0 || send(fd, payload, 40, 0) != 40) {
			perror("udp-sockcost: per-session");
			return 1;
		}
		close(fd);
		drain(sink);
	}
	t1 = cpu_now();
	for (long i = 0; i < n; i++) {
		sendto(shared, payload, 40, 0, (struct sockaddr *)&sink_addr, sizeof(sink_addr));
		drain(sink);
	}
	t2 = cpu_now();
	for (int j = 0; j < 32; j++) {
		iov[j] = (struct iovec){ payload, 40 };
		memset(&m[j], 0, sizeof(m[j]));
		m[j].msg_hdr.msg_iov = &iov[j];
		m[j].msg_hdr.msg_iovlen = 1;
		m[j].msg_hdr.msg_name = &sink_addr;
		m[j].msg_hdr.msg_namelen = sizeof(sink_addr);
	}
	for (long i = 0; i < n / 32; i++) {
		sendmmsg(shared, m, 32, 0);
		drain(sink);
	}
	t3 = cpu_now();
	printf("per-session us_per_datagram %.2f\n", (t1 - t0) / (double)n * 1e6);
	printf("pooled us_per_datagram %.2f\n", (t2 - t1) / (double)n * 1e6);
	printf("pooled-mmsg us_per_datagram %.2f\n", (t3 - t2) / (double)(n / 32 * 32) * 1e6);
	close(sink);
	close(shared);
	close(ep);
	return 0;
}
