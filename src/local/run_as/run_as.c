/* r2e-run-as FD UID GID GROUPS PROGRAM [ARG...]: the first program of a
 * local sandbox on an image whose User is not root. bubblewrap starts it as
 * root with only CAP_SETUID and CAP_SETGID; it sets the supplementary groups
 * (GROUPS: gids separated by commas, or "-" for none), the group and the
 * user, drops every capability left (uid 0 with another group keeps them
 * otherwise), checks that no way back to root is left, closes FD (the descriptor it
 * was run from, or "-") and execs PROGRAM (looked up on PATH). Once the user is not
 * root the kernel clears every capability, as in a container started with
 * that User. It is linked statically (the image's libc may be anything) and
 * given to the sandbox as a memfd, so that no host path shows inside.
 * Errors go to stderr with exit status 126. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fail(const char* what) {
  fprintf(stderr, "r2e-run-as: %s: %s\n", what, strerror(errno));
  return 126;
}

/* A decimal id below 2^32 - 1, or -1. */
static long long parse_id(const char* text) {
  if (*text == '\0') return -1;
  long long value = 0;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return -1;
    value = value * 10 + (*p - '0');
    if (value >= 4294967295LL) return -1;
  }
  return value;
}

int main(int argc, char** argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: r2e-run-as FD UID GID GROUPS PROGRAM [ARG...]\n");
    return 126;
  }
  const long long fd = strcmp(argv[1], "-") == 0 ? -1 : parse_id(argv[1]);
  const long long uid = parse_id(argv[2]), gid = parse_id(argv[3]);
  if (uid < 0 || gid < 0) {
    fprintf(stderr, "r2e-run-as: bad uid or gid: %s %s\n", argv[2], argv[3]);
    return 126;
  }
  gid_t groups[256];
  size_t count = 0;
  if (strcmp(argv[4], "-") != 0) {
    char* list = argv[4];
    for (char* item = strtok(list, ","); item != NULL; item = strtok(NULL, ",")) {
      const long long group = parse_id(item);
      if (group < 0 || count == sizeof groups / sizeof groups[0]) {
        fprintf(stderr, "r2e-run-as: bad group list\n");
        return 126;
      }
      groups[count++] = (gid_t)group;
    }
  }
  if (setgroups(count, groups) != 0) return fail("setgroups");
  if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0) return fail("setresgid");
  if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) return fail("setresuid");
  /* A non-root uid has lost every capability already; uid 0 with another
   * group (User "0:1000") has not: drop them all, ambient ones too. */
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct none[2];
  memset(none, 0, sizeof none);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return fail("clearing ambient capabilities");
  if (syscall(SYS_capset, &header, none) != 0) return fail("capset");
  struct __user_cap_data_struct left[2];
  if (syscall(SYS_capget, &header, left) != 0) return fail("capget");
  if (left[0].effective | left[0].permitted | left[1].effective | left[1].permitted) {
    fprintf(stderr, "r2e-run-as: capabilities are left after the switch\n");
    return 126;
  }
  if (uid != 0 && (setuid(0) == 0 || setgid(0) == 0)) {
    fprintf(stderr, "r2e-run-as: could still become root after dropping to uid %lld\n", uid);
    return 126;
  }
  if (fd > 2 && fd < 65536) close((int)fd);
  execvp(argv[5], argv + 5);
  return fail(argv[5]);
}
