/*
 * weirctl.c - the admin client. Speaks ipvsadm's syntax: the command line
 * is checked here (so a wrong command fails even without a daemon), then
 * sent to weir's admin socket as one request line; -R sends standard input
 * instead. Prints the answer and exits with its status (ipvsadm's codes).
 *
 * Names are weirctl's work (ctl/names.h): host and service names in the
 * addresses of the command line and of -R's lines are resolved here and
 * sent as numbers; -L and -S without -n ask the daemon for marks
 * (--name-marks) and print names in their place.
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
#include "ctl/exec.h"
#include "ctl/names.h"
#include "register.h"
#include "version.h"

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

static int read_stdin(struct buf *req);

/* --- names in the request --------------------------------------------------- */

#define MAX_NAMED 8

/* A resolver that remembers each address it read: the argument (a
 * pointer into a word of the line) and its numeric form. */
struct named {
	struct ctl_resolver r;
	int n;
	struct {
		const char *arg;
		char numeric[ADDR_STRLEN + 8];
	} e[MAX_NAMED];
};

static int resolve_name(struct ctl_resolver *r, const char *arg, int proto, char *out,
			size_t len)
{
	struct named *nm = (struct named *)r;

	if (names_address(&names_libc, arg, proto, out, len) != 0)
		return -1;
	if (nm->n < MAX_NAMED) {
		nm->e[nm->n].arg = arg;
		snprintf(nm->e[nm->n].numeric, sizeof(nm->e[nm->n].numeric), "%s", out);
		nm->n++;
	}
	return 0;
}

/* Appends word <w> to <req>, its resolved address in place of its name:
 * the part before the argument ("-t" of "-twww.example.test:http") kept. */
static void add_resolved(struct buf *req, const char *w, const struct named *nm)
{
	for (int k = 0; k < nm->n; k++) {
		const char *a = nm->e[k].arg;

		if (a >= w && a <= w + strlen(w)) {
			char word[1024];

			snprintf(word, sizeof(word), "%.*s%s", (int)(a - w), w, nm->e[k].numeric);
			add_word(req, word);
			return;
		}
	}
	add_word(req, w);
}

/* The number of leading "ipvsadm"/"weirctl" words, as the daemon drops them. */
static int prefix_words(char *const *w, int n)
{
	int k = 0;

	while (k < n && (strcmp(w[k], "ipvsadm") == 0 || strcmp(w[k], "weirctl") == 0))
		k++;
	return k;
}

/* One -R line <line>[0..len) onto <req>, names resolved; a line that does
 * not parse goes as it is: the daemon names its mistake with its number. */
static void add_restore_line(struct buf *req, const char *line, size_t len)
{
	char copy[4096], *words[CTL_MAX_WORDS], err[CTL_ERR_MAX];
	struct named nm = { .r.resolve = resolve_name };
	struct buf one = { 0 };
	struct ctl_cmd cmd;
	int n, skip;

	if (len >= sizeof(copy))
		goto out_verbatim;
	memcpy(copy, line, len);
	copy[len] = '\0';
	if (copy[strspn(copy, " \t\r")] == '#' || (n = ctl_split(copy, words, CTL_MAX_WORDS)) <= 0)
		goto out_verbatim;
	skip = prefix_words(words, n);
	if (skip == n || ctl_parse_names(n - skip, words + skip, &cmd, err, &nm.r) != 0 || !nm.n)
		goto out_verbatim;
	for (int i = 0; i < n; i++)
		add_resolved(&one, words[i], &nm);
	buf_append(req, buf_head(&one), one.len);
	buf_append(req, "\n", 1);
	buf_free(&one);
	return;
out_verbatim:
	buf_append(req, line, len);
	buf_append(req, "\n", 1);
}

/* -R: standard input, line by line, names resolved. */
static int read_restore(struct buf *req)
{
	struct buf in = { .max = ADMIN_MAX_REQUEST };
	int rc = read_stdin(&in);
	const char *p = buf_head(&in), *end = p + in.len;

	while (rc == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		add_restore_line(req, p, len);
		p += len + 1;
	}
	buf_free(&in);
	return rc;
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

/* -v: weirctl's line, then the daemon's; without a daemon, weirctl's and
 * why the daemon's is missing. Exit 0 either way: the version is known. */
static int show_version(const char *path)
{
	struct buf req = { 0 }, ans = { 0 };
	int rc;

	printf("weirctl v%s %s\n", WEIR_VERSION, WEIR_SPEAKS);
	fflush(stdout);
	buf_append(&req, "-v\n", 3);
	rc = talk(path, &req, &ans);
	if (rc)
		fprintf(stderr, "weirctl: cannot talk to weir at %s: %s (the daemon's version is "
			"unknown)\n", path, strerror(-rc));
	else if (show_answer(&ans) != 0)
		fprintf(stderr, "weirctl: the daemon did not tell its version\n");
	buf_free(&req);
	buf_free(&ans);
	return 0;
}

/* -L and -S print names unless -n (and but for the JSON and config forms). */
static bool wants_names(const struct ctl_cmd *cmd)
{
	return (cmd->op == OP_LIST || cmd->op == OP_SAVE) && !ctl_has(cmd, O_NUMERIC) &&
	       !ctl_has(cmd, O_JSON) && !ctl_has(cmd, O_CONFIG);
}

int main(int argc, char **argv)
{
	const char *path = getenv("WEIR_SOCKET");
	struct buf req = { .max = ADMIN_MAX_REQUEST }, ans = { 0 };
	struct named nm = { .r.resolve = resolve_name };
	char err[CTL_ERR_MAX];
	struct ctl_cmd cmd;
	bool names;
	int rc, first = 1;

	weir_register();
	if (!path || !*path)
		path = ADMIN_DEFAULT_SOCKET;
	if (argc > 2 && strcmp(argv[1], "--socket") == 0) {
		path = argv[2];
		first = 3;
	}
	rc = ctl_parse_names(argc - first, argv + first, &cmd, err, &nm.r);
	if (rc) {
		fprintf(stderr, "%s\n", err);
		return rc;
	}
	if (cmd.op == OP_VERSION)
		return show_version(path);
	names = first == argc || wants_names(&cmd); /* no arguments: -L */
	if (cmd.op == OP_HELP) {
		ctl_usage(&ans);
		fwrite(buf_head(&ans), 1, ans.len, stdout);
		buf_free(&ans);
		return 0;
	}
	if (cmd.op == OP_RESTORE) {
		if ((rc = read_restore(&req)) != 0) {
			fprintf(stderr, "weirctl: -R: reading standard input: %s\n",
				rc == -ENOBUFS ? "more than 1 MiB" : strerror(-rc));
			buf_free(&req);
			return CTL_EXIT_USAGE;
		}
	} else {
		for (int i = first; i < argc; i++)
			add_resolved(&req, argv[i], &nm);
		if (first == argc)
			add_word(&req, "-L"); /* ipvsadm with no arguments lists */
		if (names)
			add_word(&req, "--name-marks");
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
		if (names && ans.len >= 3 && memcmp(buf_head(&ans), "OK\n", 3) == 0) {
			struct buf filled = { 0 };

			names_fill(&names_libc, buf_head(&ans), ans.len, &filled);
			buf_free(&ans);
			ans = filled;
		}
		rc = show_answer(&ans);
	}
	buf_free(&req);
	buf_free(&ans);
	return rc;
}
