/*
 * tunloop: the user-space floor for the end-to-end benchmark.
 *
 * Opens an existing (or new) TUN device by name with IFF_TUN | IFF_NO_PI and loops: read() one
 * packet, write() it back into the same fd. Nothing else: no parsing, no queue, no timer, blocking
 * I/O. Whatever tunqos costs beyond this loop is the price of doing traffic control in JavaScript;
 * the kernel forwarding the written packet on is common to both.
 *
 * Build: cc -O2 -o bench/out/tunloop bench/tunloop.c     (bench/e2e.ts does this itself)
 * Usage: tunloop DEVICE         (runs until killed; prints the packet count on SIGTERM/SIGINT)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static volatile sig_atomic_t stop = 0;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
  if (argc != 2 || strlen(argv[1]) >= IFNAMSIZ) {
    fprintf(stderr, "usage: tunloop DEVICE (name shorter than %d)\n", IFNAMSIZ);
    return 2;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) { perror("tunloop: open /dev/net/tun"); return 1; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) { perror("tunloop: TUNSETIFF"); return 1; }

  /* No SA_RESTART: a signal interrupts the blocking read so the loop can report and end. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  static unsigned char buf[65536];
  unsigned long long packets = 0, errors = 0;
  while (!stop) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("tunloop: read");
      return 1;
    }
    if (write(fd, buf, (size_t)n) != n) errors++;
    else packets++;
  }
  fprintf(stderr, "tunloop: %llu packets forwarded, %llu write errors\n", packets, errors);
  close(fd);
  return 0;
}
