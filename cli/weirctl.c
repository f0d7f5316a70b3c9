/*
 * weirctl.c - the admin client. Speaks ipvsadm's syntax: the command line
 * is checked here (so a wrong command fails even without a daemon), then
 * sent to weir's admin socket as one request line; -R sends standard input
 * instead. Prints the answer and exits with its status (ipvsadm's codes).
 *
 *   weirctl [--socket PATH] COMMAND ...     (socket: $WEIR_SOCKET, else
 *                                             /run/weir/weir.sock)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "ctl/admin.h"
#include "ctl/cmd.h"
#include "register.h"

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Appends <w> to <req>, quoted when it holds blanks or quotes. */
static void add_word(struct buf *req, const char *w)
{
	if (req->len)
		buf_append(req, " ", 1);
	if (*w && !strpbrk(w, " \t\r\"\\")) {
		buf_append(req, w, strlen(w));
		return;
	}
	buf_append(req, "\"", 1);
	for (; *w; w++) {
		if (*w == '"' || *w == '\\')
			buf_append(req, "\\", 1);
		buf_append(req, w, 1);
	}
	buf_append(req, "\"", 1);
}

static int read_stdin(struct buf *req)
{
	for (;;) {
		char *dst = buf_reserve(req, 65536);
		ssize_t n;

		if (!dst)
			return -ENOBUFS;
		n = read(STDIN_FILENO, dst, 65536);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf_commit(req, (size_t)n);
	}
}

static int talk(const char *path, const struct buf *req, struct buf *ans)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		rc = -errno;
		goto out_close;
	}
	/* a daemon that refuses us (too many clients) answers and closes
	 * without reading: its answer is still there to read */
	if ((rc = send_all(fd, buf_head(req), req->len)) != 0 && rc != -EPIPE &&
	    rc != -ECONNRESET)
		goto out_close;
	shutdown(fd, SHUT_WR);
	for (;;) {
		char *dst = buf_reserve(ans, 65536);
		ssize_t n;

		if (!dst) {
			rc = -ENOMEM;
			break;
		}
		n = recv(fd, dst, 65536, 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		rc = 0; /* the daemon answered: what it said wins over a failed send */
		buf_commit(ans, (size_t)n);
	}
out_close:
	close(fd);
	return rc;
}

/* An "ERR <status> <message>" line. */
static bool is_error_answer(struct buf *ans)
{
	char *p = buf_head(ans);

	return ans->len > 4 && strncmp(p, "ERR ", 4) == 0 && memchr(p, '\n', ans->len);
}

/* Prints the answer; returns the exit status it carries. */
static int show_answer(struct buf *ans)
{
	char *p = buf_head(ans), *nl;
	size_t len = ans->len;

	if (len >= 3 && memcmp(p, "OK\n", 3) == 0) {
		fwrite(p + 3, 1, len - 3, stdout);
		return 0;
	}
	if (is_error_answer(ans) && (nl = memchr(p, '\n', len))) {
		int status = atoi(p + 4);
		char *msg = strchr(p + 4, ' ');

		*nl = '\0';
		fprintf(stderr, "%s\n", msg ? msg + 1 : "error");
		return status > 0 && status < 256 ? status : CTL_EXIT_APPLY;
	}
	fprintf(stderr, "weirctl: unexpected answer from weir\n");
	return CTL_EXIT_APPLY;
}

int main(int argc, char **argv)
{
	const char *path = getenv("WEIR_SOCKET");
	struct buf req = { .max = ADMIN_MAX_REQUEST }, ans = { 0 };
	char err[CTL_ERR_MAX];
	struct ctl_cmd cmd;
	int rc, first = 1;

	weir_register();
	if (!path || !*path)
		path = ADMIN_DEFAULT_SOCKET;
	if (argc > 2 && strcmp(argv[1], "--socket") == 0) {
		path = argv[2];
		first = 3;
	}
	rc = ctl_parse(argc - first, argv + first, &cmd, err);
	if (rc) {
		fprintf(stderr, "%s\n", err);
		return rc;
	}
	if (cmd.op == OP_HELP) {
		ctl_usage(&ans);
		fwrite(buf_head(&ans), 1, ans.len, stdout);
		buf_free(&ans);
		return 0;
	}
	if (cmd.op == OP_RESTORE) {
		if ((rc = read_stdin(&req)) != 0) {
			fprintf(stderr, "weirctl: -R: reading standard input: %s\n",
				rc == -ENOBUFS ? "more than 1 MiB" : strerror(-rc));
			buf_free(&req);
			return CTL_EXIT_USAGE;
		}
	} else {
		for (int i = first; i < argc; i++)
			add_word(&req, argv[i]);
		if (first == argc)
			add_word(&req, "-L"); /* ipvsadm with no arguments lists */
		buf_append(&req, "\n", 1);
	}
	rc = talk(path, &req, &ans);
	/* an answer read before the connection was reset is the daemon's word */
	if (rc && is_error_answer(&ans))
		rc = 0;
	if (rc) {
		fprintf(stderr, "weirctl: cannot talk to weir at %s: %s\n"
			"(is weir running? the socket is set with --socket PATH or WEIR_SOCKET)\n",
			path, strerror(-rc));
		rc = CTL_EXIT_USAGE;
	} else {
		rc = show_answer(&ans);
	}
	buf_free(&req);
	buf_free(&ans);
	return rc;
}
