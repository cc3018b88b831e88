/*
 * replay.c: the regression runner. Linked with one harness instead of
 * libFuzzer, it replays every file of the harness's corpus directory
 * (FUZZ_CORPUS, relative to the source tree: tests/fuzz/<harness>) or the
 * files and directories named on the command line, each in a child process
 * with a time limit, and ends with "N passed, N failed". A file fails when
 * its child dies (a crash, an abort from a broken check, a sanitizer
 * report) or takes longer than REPLAY_TIMEOUT_S. What a child that died
 * left in /dev/shm (harnesses name it fuzz-*-<pid>) is removed.
 */
#define _XOPEN_SOURCE 700 /* nftw() */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_TIMEOUT_S 20
#define REPLAY_MAX_BYTES (4u << 20)

static struct { unsigned passed, failed; } g;

/* Child: the file's bytes through the harness once. */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	uint8_t *buf = malloc(REPLAY_MAX_BYTES);
	size_t n = buf ? fread(buf, 1, REPLAY_MAX_BYTES, f) : 0;
	int bad = buf == NULL || ferror(f);
	fclose(f);
	if (!bad)
		LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return bad;
}

static int remove_one(const char *path, const struct stat *st, int type,
                      struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Segments and directories of a dead child: /dev/shm/...fuzz-*-<pid>... */
static void clean_after(pid_t pid)
{
	char pat[2][64];
	glob_t gl;

	snprintf(pat[0], sizeof(pat[0]), "/dev/shm/barbus.fuzz-*-%d.*", (int)pid);
	snprintf(pat[1], sizeof(pat[1]), "/dev/shm/fuzz-*-%d-*", (int)pid);
	for (int i = 0; i < 2; i++) {
		if (glob(pat[i], 0, NULL, &gl) != 0)
			continue;
		for (size_t k = 0; k < gl.gl_pathc; k++)
			nftw(gl.gl_pathv[k], remove_one, 8, FTW_DEPTH | FTW_PHYS);
		globfree(&gl);
	}
}

static void replay(const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		alarm(REPLAY_TIMEOUT_S);
		exit(run_file(path)); /* exit, not _exit: LeakSanitizer runs at exit */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		fprintf(stderr, "%s: cannot run: %s\n", path, strerror(errno));
		g.failed++;
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		g.passed++;
		return;
	}
	g.failed++;
	clean_after(pid);
	if (WIFSIGNALED(status))
		printf("FAIL %s: %s\n", path, strsignal(WTERMSIG(status)));
	else
		printf("FAIL %s: exit %d\n", path, WEXITSTATUS(status));
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* A file, or every regular file of a directory, in name order. */
static void replay_path(const char *path)
{
	struct dirent **ents;
	struct stat st;
	char sub[4096];

	if (stat(path, &st) != 0) {
		printf("FAIL %s: %s\n", path, strerror(errno));
		g.failed++;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		replay(path);
		return;
	}
	int n = scandir(path, &ents, NULL, by_name);
	if (n < 0) {
		printf("FAIL %s: %s\n", path, strerror(errno));
		g.failed++;
		return;
	}
	for (int i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(sub, &st) == 0 &&
		    S_ISREG(st.st_mode))
			replay(sub);
		free(ents[i]);
	}
	free(ents);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0); /* nothing buffered across fork() */
	if (argc < 2)
		replay_path(FUZZ_CORPUS);
	for (int i = 1; i < argc; i++)
		replay_path(argv[i]);
	if (g.passed + g.failed == 0)
		g.failed++; /* an empty corpus proves nothing */
	printf("%u passed, %u failed\n", g.passed, g.failed);
	return g.failed != 0;
}
